"""Our modules against torch's, in float64 and in float32, with the tolerances of docs/numerics.md.

float64 decides whether the two compute the same thing: the rounding bound there is far below any
real bug and far above what a different summation order changes. float32, the dtype learners run,
must then be as accurate as torch's own float32 run, both measured against torch in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from attention_lab.numerics import assert_float32_as_accurate, rounding_bound

# Sum of |terms| of any sum in these tests: inputs are N(0, 1) draws (below 6 in size), weights
# come from torch's initialisers (below 1), LayerNorm outputs are below sqrt(D) <= 6, a sum has at
# most 512 terms, and softmax and LayerNorm pass an error on with a factor below 2 at these sizes:
# 512 * 6 * 6 * 2 < 1e5. With n = the terms along the longest path (each test states it), float64
# results agree within gamma_n * 1e5, e.g. 1.1e-8 for n = 1000.
MAGNITUDE = 1e5


def assert_matches_torch(
    run: Callable[[torch.dtype], tuple[Tensor, Tensor]],
    *,
    terms: int,
    where: Tensor | None = None,
    what: str = "output",
) -> None:
    """``run(dtype)`` returns ``(ours, theirs)``: one computation by our code and by torch's, with
    the same weights and inputs cast to ``dtype``. ``where`` selects the entries that mean something
    (bool, broadcastable to the output); ``terms`` is the longest chain of accumulated terms."""
    ours64, theirs64 = run(torch.float64)
    ours32, theirs32 = run(torch.float32)
    assert ours64.dtype == theirs64.dtype == torch.float64, (ours64.dtype, theirs64.dtype)
    assert ours32.dtype == theirs32.dtype == torch.float32, (ours32.dtype, theirs32.dtype)
    if where is not None:
        where = torch.broadcast_to(where, theirs64.shape)
        ours64, theirs64, ours32, theirs32 = (
            t[where] for t in (ours64, theirs64, ours32, theirs32)
        )
    torch.testing.assert_close(
        ours64,
        theirs64,
        atol=rounding_bound(terms, torch.float64, MAGNITUDE),
        rtol=0,
        msg=lambda m: f"{what}, float64: {m}",
    )
    assert_float32_as_accurate(ours32, theirs32, theirs64, what)
