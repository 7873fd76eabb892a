"""Scaled dot-product attention, the one formula the whole Transformer is built on.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (Eq. 1, Vaswani et al. 2017, 3.2.1)

Shape legend: ``...`` any leading batch dimensions (B, or B and H), T_q query length, T_k key length,
d_k query/key width, d_v value width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from attention_lab.nn._checks import check_attention_inputs
from attention_lab.nn.masks import mask_scores


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    scale: float | None = None,
    *,
    dropout_p: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """Eq. 1 of Vaswani et al. 2017 (section 3.2.1): ``softmax(q k^T / sqrt(d_k)) v``.

    Args:
        q: queries ``(..., T_q, d_k)``.
        k: keys ``(..., T_k, d_k)``.
        v: values ``(..., T_k, d_v)``.
        mask: optional, broadcastable to ``(..., T_q, T_k)``. A boolean mask says which keys each
            query *may attend to* (``True`` = attend, as in ``torch.nn.functional.
            scaled_dot_product_attention``); a float mask is added to the scores.
        scale: the factor on ``q k^T``; ``None`` is the paper's ``1 / sqrt(d_k)``, ``1.0`` gives
            the raw dot products (as torch's ``scale=`` argument).
        dropout_p: dropout on the attention weights (training only; 0 in evaluation).

    Returns:
        ``(output, weights)``: ``output`` is ``(..., T_q, d_v)``, ``weights`` is ``(..., T_q, T_k)``
        with rows summing to 1. A query with no key to attend to gets zero weights and a zero output
        (no NaN in the forward or backward pass).
    """
    check_attention_inputs(q, k, v, mask, scale, dropout_p)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    # half precision keeps ~3 significant digits: compute in float32, as torch's own kernels do
    work = torch.promote_types(q.dtype, torch.float32)

    # 1) similarity of every query with every key, scaled so its variance does not grow with d_k
    scores = (q.to(work) @ k.to(work).transpose(-2, -1)) * scale  # (..., T_q, T_k)
    # 2) mask: a blocked key gets the lowest finite score, which exp() turns into exactly 0
    if mask is not None:
        scores, blocked = mask_scores(scores, mask)
    weights = torch.softmax(scores, dim=-1)  # 3) softmax over the keys (the last axis)
    if mask is not None:  # a query with every key blocked came out uniform: it attends to nothing
        weights = weights.masked_fill(blocked, 0.0)
    attended = F.dropout(weights, p=dropout_p) if dropout_p > 0 else weights

    # 4) each output is the weighted average of the values
    output = attended @ v.to(work)  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return output.to(q.dtype), weights.to(q.dtype)
