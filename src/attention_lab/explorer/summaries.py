"""One-number summaries of an attention head, to find the heads worth a closer look.

Clark et al. 2019 ("What Does BERT Look At?") found that many BERT heads put most of their weight
on [SEP] or [CLS] (a "no-op" default), on the previous or the next token, or on the token itself,
and that the entropy of a head's rows tells broad heads from sharp ones. These are those measures.

Shape legend: L layers, H heads, T_q queries, T_k keys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class HeadSummary:
    """Averages over the query tokens of one head's attention weights."""

    entropy: float  # bits; 0 = every query looks at one key, log2(T_k) = uniform
    start: float  # share of weight on the start token ([CLS])
    end: float  # share of weight on end tokens ([SEP])
    previous: float | None  # share on the token just before the query (self-attention only)
    itself: float | None  # share on the query token itself (self-attention only)

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


def head_summaries(
    weights: Tensor,
    key_tokens: list[str],
    *,
    start_token: str,
    end_token: str,
    self_attention: bool,
) -> list[list[HeadSummary]]:
    """Summaries of every head: ``weights`` ``(L, H, T_q, T_k)`` -> ``L`` lists of ``H`` summaries.

    ``previous`` and ``itself`` need the queries and keys to be the same tokens, so they are
    ``None`` for cross-attention (``self_attention=False``).
    """
    if not isinstance(weights, Tensor) or weights.dim() != 4:
        got = tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise ValueError(f"weights: expected a (L, H, T_q, T_k) tensor, got {got}")
    L, H, T_q, T_k = weights.shape
    if len(key_tokens) != T_k:
        raise ValueError(f"key_tokens: expected {T_k} tokens (T_k), got {len(key_tokens)}")
    if self_attention and T_q != T_k:
        raise ValueError(f"weights: self-attention needs T_q == T_k, got {T_q} and {T_k}")
    w = weights.double()
    # -sum p log2 p per query row, with 0 log 0 = 0
    entropy = -(w * torch.log2(w.clamp_min(1e-30))).sum(-1).mean(-1)  # (L, H, T_q, T_k) -> (L, H)
    is_start = torch.tensor([t == start_token for t in key_tokens], dtype=torch.bool)
    is_end = torch.tensor([t == end_token for t in key_tokens], dtype=torch.bool)
    start = w[..., is_start].sum(-1).mean(-1)  # (L, H)
    end = w[..., is_end].sum(-1).mean(-1)  # (L, H)
    previous = itself = None
    if self_attention:
        itself = w.diagonal(dim1=-2, dim2=-1).mean(-1)  # w[.., i, i] averaged: (L, H)
        if T_q > 1:
            previous = w.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)  # w[.., i, i-1]: (L, H)
    return [
        [
            HeadSummary(
                entropy=float(entropy[layer, head]),
                start=float(start[layer, head]),
                end=float(end[layer, head]),
                previous=None if previous is None else float(previous[layer, head]),
                itself=None if itself is None else float(itself[layer, head]),
            )
            for head in range(H)
        ]
        for layer in range(L)
    ]


def downsample(matrix: Tensor, size: int) -> Tensor:
    """Block-average a ``(T_q, T_k)`` matrix to at most ``(size, size)``, for thumbnails."""
    T_q, T_k = matrix.shape
    out_q, out_k = min(T_q, size), min(T_k, size)
    if (out_q, out_k) == (T_q, T_k):
        return matrix
    pooled = torch.nn.functional.adaptive_avg_pool2d(matrix[None, None], (out_q, out_k))
    return pooled[0, 0]  # (1, 1, out_q, out_k) -> (out_q, out_k)
