"""Scaled dot-product attention, the one formula the whole Transformer is built on.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (Eq. 1, Vaswani et al. 2017, 3.2.1)

Shape legend: ``...`` any leading batch dimensions (B, or B and H), T_q query length, T_k key length,
d_k query/key width, d_v value width.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention_lab.nn._checks import check_mask, check_same_device_dtype, check_tensor


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, *, dropout_p: float = 0.0
) -> tuple[Tensor, Tensor]:
    """Eq. 1 of Vaswani et al. 2017 (section 3.2.1): ``softmax(q k^T / sqrt(d_k)) v``.

    Args:
        q: queries ``(..., T_q, d_k)``.
        k: keys ``(..., T_k, d_k)``.
        v: values ``(..., T_k, d_v)``.
        mask: optional, broadcastable to ``(..., T_q, T_k)``. A boolean mask says which keys each
            query *may attend to* (``True`` = attend, as in ``torch.nn.functional.
            scaled_dot_product_attention``); a float mask is added to the scores.
        dropout_p: dropout on the attention weights (training only; 0 in evaluation).

    Returns:
        ``(output, weights)``: ``output`` is ``(..., T_q, d_v)``, ``weights`` is ``(..., T_q, T_k)``
        with rows summing to 1. A query with no key to attend to gets zero weights and a zero output
        (no NaN in the forward or backward pass).
    """
    check_tensor("q", q, min_dim=2)
    check_tensor("k", k, min_dim=2)
    check_tensor("v", v, min_dim=2)
    check_same_device_dtype(q=q, k=k, v=v)
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"k: expected last dimension d_k={q.shape[-1]} to match q (..., T_q, d_k), "
            f"got k of shape {tuple(k.shape)} and q of shape {tuple(q.shape)}"
        )
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"v: expected T_k={k.shape[-2]} rows to match k (..., T_k, d_k), "
            f"got v of shape {tuple(v.shape)} and k of shape {tuple(k.shape)}"
        )
    d_k = q.shape[-1]
    out_dtype = q.dtype
    if q.dtype in (torch.float16, torch.bfloat16):
        # half precision keeps ~3 significant digits: compute in float32, as torch's own kernels do
        q, k, v = q.float(), k.float(), v.float()
        if mask is not None and mask.is_floating_point():
            mask = mask.float()

    # 1) similarity of every query with every key, scaled so its variance does not grow with d_k
    scores = (
        q @ k.transpose(-2, -1) / math.sqrt(d_k)
    )  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)

    # 2) mask: blocked keys get a score that exp() turns into exactly 0
    blocked = None
    if mask is not None:
        check_mask(mask, scores.shape, q)
        if mask.dtype == torch.bool:
            blocked = ~mask
            # the dtype's lowest finite value, not -inf: a fully blocked row stays finite (no NaN)
            scores = scores.masked_fill(blocked, torch.finfo(scores.dtype).min)
        else:
            scores = scores + mask
            blocked = torch.isneginf(scores)
            scores = scores.masked_fill(blocked, torch.finfo(scores.dtype).min)

    # 3) softmax over the keys (the last axis)
    weights = torch.softmax(scores, dim=-1)
    if blocked is not None:
        # a row with every key blocked came out uniform: give it zero weight instead
        weights = weights.masked_fill(blocked, 0.0)
    attended = weights
    if dropout_p > 0.0:
        attended = torch.nn.functional.dropout(weights, p=dropout_p)

    # 4) each output is the weighted average of the values
    output = attended @ v  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return output.to(out_dtype), weights.to(out_dtype)
