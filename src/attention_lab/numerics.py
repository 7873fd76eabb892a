"""How far apart two correct floating-point results can be: the bounds every check here uses.

Rounding model (Higham 2002, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., section
2.2): each operation returns the exact result times ``(1 + delta)`` with ``|delta| <= u``, the
unit roundoff (``u = 2**-24 ~ 6.0e-8`` for float32, ``2**-53 ~ 1.1e-16`` for float64). A sum or
dot product of ``n`` terms, added in *any* order, is then within ``gamma_n * sum(|terms|)`` of the
exact value, ``gamma_n = n u / (1 - n u)`` (Higham eq. 3.4-3.5). The order is what changes between
CPUs, vector widths (SSE, AVX2, AVX-512, NEON), BLAS blockings, FMA or not and thread counts, so a
tolerance taken from this bound cannot be flipped by the kernels a machine picks, where a tolerance
tuned until it passed on one machine can.

A deep network chains many sums; to first order their errors add, so ``n`` below is the number of
terms accumulated along the longest path from input to output (a layer of width ``D`` adds ``D``).
"""

from __future__ import annotations

import torch
from torch import Tensor


def unit_roundoff(dtype: torch.dtype) -> float:
    """``u``: half the distance from 1 to the next number, 2**-24 for float32, 2**-53 for float64."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating-point torch.dtype, got {dtype!r}")
    return torch.finfo(dtype).eps / 2


def gamma(n: int, dtype: torch.dtype) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``: the relative error bound of a sum of ``n`` terms."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive number of terms, got {n!r}")
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"n: {n} terms in {dtype} leave no bound (n u = {nu:.2g} >= 1)")
    return nu / (1 - nu)


def rounding_bound(n: int, dtype: torch.dtype, magnitude: float) -> float:
    """Largest absolute error of ``n`` accumulated terms whose absolute values sum to at most
    ``magnitude``, computed in ``dtype`` in any order: ``gamma_n * magnitude``."""
    if not magnitude >= 0:
        raise ValueError(f"magnitude: expected a sum of absolute values >= 0, got {magnitude!r}")
    return gamma(n, dtype) * magnitude


def float32_allowance(reference: Tensor, exact: Tensor, factor: float = 4.0) -> float:
    """Largest distance from ``exact`` (float64) that a float32 run of the same computation may have.

    ``reference`` is a trusted float32 run (torch's or transformers' module). A float32 run of ours
    may be ``factor`` times as far from ``exact`` as ``reference`` is (same operations, so the same
    error distribution; 4 covers the spread of the maximum over many entries), plus 4 units of
    rounding of the largest entry for a reference that happens to be exact. The allowance moves
    with the kernels a CPU picks, since both float32 runs use the same ones.
    """
    if not isinstance(reference, Tensor) or not isinstance(exact, Tensor):
        raise TypeError(
            f"reference, exact: expected tensors, got {type(reference).__name__} and "
            f"{type(exact).__name__}"
        )
    if reference.shape != exact.shape or exact.dtype != torch.float64:
        raise ValueError(
            f"exact: expected float64 of the reference's shape {tuple(reference.shape)}, got "
            f"{exact.dtype} of shape {tuple(exact.shape)}"
        )
    if exact.numel() == 0:
        return 0.0
    their_error = (reference.double() - exact).abs().max().item()
    return factor * their_error + 4 * unit_roundoff(torch.float32) * exact.abs().max().item()


def assert_float32_as_accurate(found: Tensor, reference: Tensor, exact: Tensor, what: str) -> None:
    """Raise AssertionError unless float32 ``found`` is within ``float32_allowance(reference,
    exact)`` of the float64 ``exact`` (for tests: ours against a trusted float32 ``reference``)."""
    their_error = (reference.double() - exact).abs().max().item() if exact.numel() else 0.0
    torch.testing.assert_close(
        found.double(),
        exact,
        atol=float32_allowance(reference, exact),
        rtol=0,
        msg=lambda m: (
            f"{what}, float32 against float64 (the reference's own float32 error "
            f"{their_error:.3g}): {m}"
        ),
    )
