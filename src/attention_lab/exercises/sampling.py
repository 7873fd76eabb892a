"""Seeded random sizes and tensors for the exercise cases (one ``torch.Generator`` per call)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def randint(g: torch.Generator, low: int, high: int, *, avoid: Sequence[int] = ()) -> int:
    """An int in [low, high] that is not in ``avoid`` (distinct sizes keep mistakes visible)."""
    allowed = [n for n in range(low, high + 1) if n not in avoid]
    return allowed[int(torch.randint(len(allowed), (1,), generator=g))]


def choice(g: torch.Generator, options: Sequence[int], *, avoid: Sequence[int] = ()) -> int:
    allowed = [n for n in options if n not in avoid]
    return allowed[int(torch.randint(len(allowed), (1,), generator=g))]


def randn(g: torch.Generator, *shape: int, scale: float = 1.0) -> Tensor:
    return torch.randn(*shape, generator=g) * scale


def random_mask(g: torch.Generator, *shape: int) -> Tensor:
    """A bool mask whose every row (last axis) has at least one True and one False."""
    T_k = shape[-1]
    mask = torch.rand(*shape, generator=g) < 0.5
    rows = mask.reshape(-1, T_k)
    for row in rows:
        keep, block = torch.randperm(T_k, generator=g)[:2].tolist()
        row[keep], row[block] = True, False
    return rows.reshape(shape)


def lengths(g: torch.Generator, B: int, T: int) -> list[int]:
    """Sequence lengths for a padded batch: one full, the others shorter (at least 1)."""
    return [T] + [randint(g, 1, T - 1) for _ in range(B - 1)]


def linear_state(g: torch.Generator, name: str, d_in: int, d_out: int) -> dict[str, Tensor]:
    """``name.weight`` ``(d_out, d_in)`` and ``name.bias`` for an ``nn.Linear(d_in, d_out)``, drawn
    like its own initialisation: uniform in ±1/sqrt(d_in)."""
    bound = d_in**-0.5
    return {
        f"{name}.weight": (torch.rand(d_out, d_in, generator=g) * 2 - 1) * bound,
        f"{name}.bias": (torch.rand(d_out, generator=g) * 2 - 1) * bound,
    }
