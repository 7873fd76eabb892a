"""Masks say which keys each query may attend to. ``True`` means "may attend", as in
``torch.nn.functional.scaled_dot_product_attention``.

Shape legend: B batch, T sequence length.
"""

from __future__ import annotations

import torch
from torch import Tensor

from attention_lab.nn._checks import check_positive_int, check_token_ids


def causal_mask(T: int, device: torch.device | str | None = None) -> Tensor:
    """Lower-triangular ``(T, T)`` bool mask: position i may attend to positions 0..i only.

    The decoder's "masked multi-head attention" (Vaswani et al. 2017, section 3.2.3): it stops
    position i from seeing the tokens it is being trained to predict.
    """
    check_positive_int("T", T)
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def padding_mask(tokens: Tensor, pad_id: int) -> Tensor:
    """``(B, 1, 1, T)`` bool mask, ``True`` for real tokens and ``False`` for padding.

    It broadcasts over heads and queries: no query attends to a padding key.
    """
    check_token_ids("tokens", tokens)
    return (tokens != pad_id)[:, None, None, :]  # (B, T) -> (B, 1, 1, T)


def mask_scores(scores: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Apply a mask to attention scores: ``(masked scores, blocked)``, both ``(..., T_q, T_k)``.

    A bool mask blocks its False entries; a float mask is added, and blocks where the sum is -inf.
    A blocked score becomes the dtype's lowest finite value, not -inf: exp() still turns it into
    exactly 0, and a query with every key blocked stays finite (no NaN) instead of 0 / 0.
    """
    if mask.dtype == torch.bool:
        blocked = ~mask
    else:
        scores = scores + mask.to(scores.dtype)
        blocked = torch.isneginf(scores)
    return scores.masked_fill(blocked, torch.finfo(scores.dtype).min), blocked
