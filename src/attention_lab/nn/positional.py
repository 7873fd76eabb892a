"""Sinusoidal positional encoding (Vaswani et al. 2017, section 3.5).

    PE(pos, 2i)   = sin(pos / 10000^(2i / d_model))
    PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))

Attention alone is blind to order (permute the tokens and the outputs permute with them); adding
these vectors to the embeddings tells each position where it is. For any fixed offset k,
PE(pos + k) is a linear function (a rotation per frequency) of PE(pos).

Shape legend: B batch, T sequence length, D = d_model.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from attention_lab.nn._checks import (
    check_dropout_and_length,
    check_positional_args,
    check_positional_input,
)


def sinusoidal_positional_encoding(
    T: int, d_model: int, *, dtype: torch.dtype = torch.float32, device=None
) -> Tensor:
    """The ``(T, d_model)`` matrix of section 3.5: row ``pos`` is the encoding of position ``pos``."""
    check_positional_args(T, d_model)
    position = torch.arange(T, dtype=torch.float64, device=device)[:, None]  # (T, 1)
    # 1 / 10000^(2i / d_model) for i = 0 .. d_model/2 - 1
    inv_freq = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float64, device=device)
        * (-math.log(10000.0) / d_model)
    )  # (D/2,)
    angles = position * inv_freq  # (T, 1) * (D/2,) -> (T, D/2)
    pe = torch.empty(T, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.to(dtype)


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal encoding to a batch of embeddings, then applies dropout (section 5.4)."""

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 5000):
        super().__init__()
        check_dropout_and_length(dropout, max_len)
        self.d_model = d_model
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        # a buffer: moves with .to(device), is not trained, not saved in checkpoints
        self.register_buffer(
            "pe", sinusoidal_positional_encoding(max_len, d_model), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        """``x`` ``(B, T, D)`` -> ``x + PE[:T]`` ``(B, T, D)``."""
        check_positional_input(x, self.d_model, self.max_len)
        T = x.shape[1]
        return self.dropout(x + self.pe[:T].to(x.dtype))  # (B, T, D) + (T, D) -> (B, T, D)
