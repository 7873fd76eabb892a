"""Comparing an answer with the float64 reference, and saying where they differ without revealing it.

Messages name shapes and positions (the first row that differs), never a reference value.
"""

from __future__ import annotations

import torch
from torch import Tensor

# A correct float32 answer differs from the float64 reference by rounding alone, in whatever order
# the learner's code and the CPU's kernels add things up. Worst case (attention_lab.numerics, gamma_n
# = n u, u = 6e-8): cases have d_k, D <= 16, T_k <= 7 and N(0, 1) inputs with |q| |k| < 4 d_k, so a
# scaled score is off by at most gamma_16 * 4 d_k / sqrt(d_k) = 1.5e-5, which moves a weight w by at
# most 2 w 1.5e-5 (within RTOL * w) and an output (|v| < 5) by at most 1.5e-4 + gamma_7 * 5 (within
# ATOL). Each misconception the checkers name moves entries by far more (tests/lab34 plants each).
RTOL = 1e-4
ATOL = 2e-4


def close(found: Tensor | None, expected: Tensor, where: Tensor | None = None) -> bool:
    """Whether ``found`` has ``expected``'s shape and values (on the elements ``where`` selects).

    ``where`` is a bool tensor broadcastable to ``expected``: elements outside it are not
    compared. Boolean tensors must match exactly, dtype included. NaN never matches.
    """
    if found is None or tuple(found.shape) != tuple(expected.shape):
        return False
    if expected.dtype == torch.bool or found.dtype == torch.bool:
        return found.dtype == expected.dtype and torch.equal(found, expected)
    found, expected = found.double(), expected.double()
    if where is not None:
        where = torch.broadcast_to(where, expected.shape)
        found, expected = found[where], expected[where]
    return bool(torch.allclose(found, expected, rtol=RTOL, atol=ATOL))


def shape(t: Tensor | tuple[int, ...]) -> str:
    dims = tuple(t.shape) if isinstance(t, Tensor) else tuple(t)
    return "(" + ", ".join(str(d) for d in dims) + ")"


def differing(found: Tensor, expected: Tensor) -> Tensor:
    """Bool tensor of ``expected``'s shape: True where the answer is off (NaN counts as off)."""
    if expected.dtype == torch.bool or found.dtype == torch.bool:
        return found.to(torch.bool) != expected
    return ~torch.isclose(found.double(), expected.double(), rtol=RTOL, atol=ATOL)


def first_difference(name: str, found: Tensor, expected: Tensor, row: str = "row") -> str:
    """Where the first differing row is, e.g. ``output[1, 0, 3, :] (batch index (1, 0), query 3)``.

    ``row`` names what a row is ("query", "row"); a 1-D result is described element by element.
    """
    bad = differing(found, expected)
    if bad.dim() == 0:
        return f"{name} differs"
    rows = bad.any(dim=-1) if bad.dim() >= 2 else bad
    if not rows.any():
        return f"{name} matches"
    index = [int(i) for i in rows.nonzero()[0]]
    if bad.dim() == 1:
        return f"{name}[{index[0]}] is the first element that differs"
    where = f"{row} {index[-1]}"
    if len(index) > 1:
        batch = ", ".join(str(i) for i in index[:-1])
        where = f"batch index ({batch}), {where}"
    position = ", ".join(str(i) for i in index)
    return f"{name}[{position}, :] is the first row that differs ({where})"


def non_finite(found: Tensor) -> bool:
    return found.is_floating_point() and not bool(torch.isfinite(found).all())
