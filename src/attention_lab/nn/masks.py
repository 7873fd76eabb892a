"""Masks say which keys each query may attend to. ``True`` means "may attend", as in
``torch.nn.functional.scaled_dot_product_attention``.

Shape legend: B batch, T sequence length.
"""

from __future__ import annotations

import torch
from torch import Tensor

from attention_lab.nn._checks import check_positive_int


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
    if not isinstance(tokens, Tensor):
        raise TypeError(
            f"tokens: expected a torch.Tensor of token ids, got {type(tokens).__name__}"
        )
    if tokens.dim() != 2:
        raise ValueError(f"tokens: expected shape (B, T), got {tuple(tokens.shape)}")
    if tokens.is_floating_point() or tokens.dtype == torch.bool:
        raise TypeError(f"tokens: expected an integer tensor of token ids, got {tokens.dtype}")
    return (tokens != pad_id)[:, None, None, :]  # (B, T) -> (B, 1, 1, T)
