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
