"""Exercises on the whole of scaled dot-product attention: unmasked, masked, and with loops.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (Eq. 1, Vaswani et al. 2017, 3.2.1)

The reference is the library's ``scaled_dot_product_attention`` in float64. Each misconception is
the same computation with one thing changed (the scale, the softmax axis, the mask), so an answer
that matches one of them is diagnosed by name.

Shape legend: ``...`` batch dimensions, T_q/T_k query/key lengths, d_k query/key width, d_v value width.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import torch
from torch import Tensor

from attention_lab.exercises import compare, sampling
from attention_lab.exercises.base import (
    Case,
    Exercise,
    Part,
    Result,
    generic,
    solution_source,
    verdict,
)
from attention_lab.exercises.probes import (
    Misconception,
    compound_misconceptions,
    first_row_note,
    probe_weights,
    raw_scores,
    softmax_over,
    variant_weights,
)
from attention_lab.nn.attention import scaled_dot_product_attention as library_attention


def reference(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, *, scale: float | None = None
) -> tuple[Tensor, Tensor]:
    """``(output, weights)`` by the library; ``scale`` replaces 1/sqrt(d_k) when given."""
    return library_attention(q, k, v, mask, scale)


def fit_scale(found: Tensor, raw: Tensor) -> float | None:
    """The c for which ``found`` looks like ``softmax(c * raw)`` (least squares on log-weights)."""
    if found.shape != raw.shape or compare.non_finite(found) or not bool((found > 0).all()):
        return None
    x = raw - raw.mean(dim=-1, keepdim=True)
    y = found.double().log()
    y = y - y.mean(dim=-1, keepdim=True)
    denominator = float((x * x).sum())
    return float((x * y).sum()) / denominator if denominator > 0 else None


def weight_misconceptions(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, found_weights: Tensor
) -> Iterator[Misconception]:
    """Weights that a common mistake produces, most specific first (computed lazily)."""
    d_k = q.shape[-1]
    raw = raw_scores(q, k)
    allowed = None if mask is None else torch.broadcast_to(mask, raw.shape)
    yield (
        "missing_scale",
        reference(q, k, v, mask, scale=1.0)[1],
        None,
        (f"the weights equal softmax(q kᵀ) without dividing by sqrt(d_k) (d_k = {d_k})."),
    )
    yield (
        "scale_by_dk_not_sqrt",
        reference(q, k, v, mask, scale=1.0 / d_k)[1],
        None,
        (f"the weights equal softmax(q kᵀ / d_k); expected q kᵀ / sqrt(d_k) (d_k = {d_k})."),
    )
    for dim in range(-2, -raw.dim() - 1, -1):
        yield (
            "softmax_wrong_dim",
            softmax_over(raw / math.sqrt(d_k), dim, allowed),
            None,
            (f"the weights are normalised over dim={dim}, not over the keys (dim=-1)."),
        )
    for scores, how in ((raw / math.sqrt(d_k), "scaled scores"), (raw, "unscaled scores")):
        yield (
            "returns_scores_not_weights",
            scores,
            allowed,
            (f"the returned weights equal the {how} q kᵀ, before the softmax."),
        )
    if mask is None:
        transposed = torch.softmax(raw.transpose(-2, -1) / math.sqrt(d_k), dim=-1)
        detail = "the weights have keys on the rows and queries on the columns ({} -> {})."
        shapes = (compare.shape(raw), compare.shape(transposed))
        yield "wrong_transpose", transposed, None, detail.format(*shapes)
        c = fit_scale(found_weights, raw)
        if c is not None and not math.isclose(c, 1 / math.sqrt(d_k), rel_tol=1e-3):
            yield (
                "wrong_scale",
                reference(q, k, v, scale=c)[1],
                None,
                (f"the weights equal softmax(c · q kᵀ) with c ≠ 1/sqrt(d_k) (d_k = {d_k})."),
            )
        return
    inverted_rows = torch.broadcast_to(~mask, raw.shape).any(dim=-1, keepdim=True)
    yield (
        "mask_inverted",
        reference(q, k, v, ~mask)[1],
        inverted_rows,
        (
            "the weights are zero where the mask is True and non-zero where it is False: the "
            "code reads True as 'blocked', but the exercise passes True = 'may attend'."
        ),
    )
    yield "mask_ignored", reference(q, k, v)[1], None, "the weights equal unmasked attention."
    yield (
        "blocked_keys_get_weight",
        variant_weights(q, k, mask, mask_mode="fill_zero"),
        None,
        "the blocked keys get weight: their scores were filled with 0 (or a number near 0) "
        "instead of a very negative number.",
    )
    yield (
        "mask_additive",
        variant_weights(q, k, mask, mask_mode="additive"),
        None,
        "the weights equal softmax(scores + mask): the boolean mask was added to the scores.",
    )
    yield from reshaped_masks(q, k, v, mask)
    after = torch.softmax(raw / math.sqrt(d_k), dim=-1).masked_fill(~allowed, 0.0)
    yield (
        "mask_after_softmax",
        after,
        None,
        (
            "blocked positions are zero but the rows no longer sum to 1: the mask came after the softmax."
        ),
    )


def reshaped_masks(q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Iterator[Misconception]:
    """The mask with some of its size-1 axes dropped (``mask.view(B, 1, -1)`` on a (B, 1, 1, T_k)
    mask): it still broadcasts, but its axes land on other axes of the scores."""
    raw_shape = raw_scores(q, k).shape  # (..., T_q, T_k)
    ones = [i for i, n in enumerate(mask.shape) if n == 1]
    for count in range(1, len(ones) + 1):
        for dropped in itertools.combinations(ones, count):
            shape = [n for i, n in enumerate(mask.shape) if i not in dropped]
            moved = mask.reshape(shape)
            try:
                if torch.broadcast_shapes(raw_shape, moved.shape) != raw_shape:
                    continue
            except RuntimeError:
                continue
            if torch.equal(
                torch.broadcast_to(moved, raw_shape), torch.broadcast_to(mask, raw_shape)
            ):
                continue
            detail = (
                f"the weights follow the mask reshaped from {compare.shape(mask)} to "
                f"{compare.shape(moved)}: it still broadcasts against the scores "
                f"{compare.shape(raw_shape)}, but its axes land on the wrong ones (a batch "
                "index of the mask is applied to another batch or head). Use the mask as it comes."
            )
            rows = torch.broadcast_to(moved, raw_shape).any(dim=-1, keepdim=True)
            yield "mask_shape", reference(q, k, v, moved)[1], rows, detail


def fully_masked_rows(
    case: Case, found: dict[str, Tensor], expected: dict[str, Tensor]
) -> Result | None:
    """NaN, or non-zero weights, in the rows of queries that may attend to no key."""
    mask = case.inputs["mask"]
    empty = ~torch.broadcast_to(mask, expected["weights"].shape).any(dim=-1, keepdim=True)
    if not empty.any():
        return None
    if any(found[n].shape != expected[n].shape for n in expected):
        return None
    if not all(compare.close(found[n], expected[n], ~empty) for n in expected):
        return None  # other rows are wrong too: not (only) a fully masked row problem
    row = int(empty.squeeze(-1).nonzero()[0][-1])
    if any(compare.non_finite(found[n]) for n in expected):
        return verdict(
            case,
            "nan_on_fully_masked_row",
            f"query {row} may attend to no key (its mask row is all False) and gets NaN; every "
            "other query of this case is right.",
        )
    return verdict(
        case,
        "fully_masked_row_not_zero",
        f"query {row} may attend to no key (its mask row is all False) and gets non-zero weights "
        "or output; expected zeros there. Every other query of this case is right.",
    )


def diagnose(case: Case, found: dict[str, Tensor]) -> Result:
    """Judge ``(output, weights)`` of one attention call (masked when the case has a mask)."""
    q, k, v = case.tensor("q"), case.tensor("k"), case.tensor("v")
    mask = case.inputs.get("mask")
    output, weights = reference(q, k, v, mask)
    got_output, got_weights = found["output"], found["weights"]
    if compare.close(got_output, output) and compare.close(got_weights, weights):
        return verdict(case, "correct")
    if compare.close(got_output, weights) and compare.close(got_weights, output):
        return verdict(
            case, "outputs_swapped", "the first result is the weights, the second the output."
        )
    if mask is not None:
        result = fully_masked_rows(case, found, {"output": output, "weights": weights})
        if result is not None:
            return result
    if got_weights.shape == weights.shape:
        output_note = _output_note(got_output, got_weights, case.tensor("v"), output)
        misconceptions = itertools.chain(
            weight_misconceptions(q, k, v, mask, got_weights), compound_misconceptions(q, k, mask)
        )
        for diagnosis, predicted, where, detail in misconceptions:
            if compare.close(got_weights, predicted, where):
                named = _named(case, diagnosis, detail, output_note, got_weights)
                return _with_nan_rows(case, named, got_weights, mask)
    if compare.close(got_weights, weights):
        if got_output.shape == output.shape:
            where = compare.first_difference("output", got_output, output, "query")
        else:
            where = f"expected output of shape {compare.shape(output)}, found {compare.shape(got_output)}"
        detail = f"the weights are right, but the output is not weights @ v; {where}."
        return verdict(case, "weights_not_applied_to_values", detail)
    if got_weights.shape == weights.shape and got_output.shape == output.shape:
        probed = probe_weights(case, got_weights, weights, mask)
        if probed is not None:
            return probed
        if not compare.close(got_weights, weights):
            rules = "every row sums to 1 over the keys" + (
                " and blocked keys get 0" if mask is not None else ""
            )
            detail = f"the weights have the right shape and {rules}, but other values."
            return verdict(case, "wrong_values", detail + first_row_note(got_weights, weights))
    return generic(case, {"output": (got_output, output), "weights": (got_weights, weights)})


def _output_note(got_output: Tensor, got_weights: Tensor, v: Tensor, output: Tensor) -> str:
    """A second symptom when the output is wrong and is not the returned weights times v."""
    if got_output.shape == output.shape and compare.close(got_output, output):
        return ""  # the output is right: only the returned weights are wrong
    expected = got_weights.double() @ v  # (..., T_q, T_k) @ (..., T_k, d_v)
    if got_output.shape == expected.shape and compare.close(got_output, expected):
        return ""
    if compare.non_finite(got_weights):
        return ""
    return " Also, the output is not (your weights) @ v."


def _named(case: Case, diagnosis: str, detail: str, output_note: str, got: Tensor) -> Result:
    """The verdict for a matched misconception (``a+b`` names two at once)."""
    first, _, second = diagnosis.partition("+")
    also = tuple(d for d in (second,) if d)
    if output_note:
        also += ("weights_not_applied_to_values",)
    if compare.non_finite(got) and first == "mask_inverted":
        detail += " Rows whose keys the inverted mask all blocks are NaN (-inf in every score)."
    message = verdict(case, first, detail + output_note).message
    return Result(False, first, message, also)


def _with_nan_rows(case: Case, named: Result, got: Tensor, mask: Tensor | None) -> Result:
    """``named`` explains the queries that have a key; if the queries with none get NaN, that is a
    second mistake (-inf in every score of a row), named first for this case."""
    if mask is None:
        return named
    empty = ~torch.broadcast_to(mask, got.shape).any(dim=-1)  # (..., T_q)
    if not empty.any() or not bool(got.isnan().any(dim=-1)[empty].all()):
        return named
    row = int(empty.nonzero()[0][-1])
    other = named.message.partition(": ")[2]
    detail = (
        f"query {row} may attend to no key (its mask row is all False) and gets NaN; the other "
        f"queries show another mistake: {other}"
    )
    message = verdict(case, "nan_on_fully_masked_row", detail).message
    return Result(False, "nan_on_fully_masked_row", message, (named.diagnosis, *named.also))


def _two_keys(mask: Tensor) -> Tensor:
    """The first query may attend to keys 0 and 1, so a wrong scale changes its weights (with
    one key per query every scale gives the weight 1)."""
    mask[..., 0, :2] = True
    return mask


# -- cases ------------------------------------------------------------------------------------

CALL = {"kind": "function", "args": ["q", "k", "v"], "outputs": ["output", "weights"]}
MASKED_CALL = {**CALL, "args": ["q", "k", "v", "mask"]}


def qkv(g: torch.Generator, batch: tuple[int, ...], T_q: int, T_k: int, d_k: int, d_v: int) -> dict:
    return {
        "q": sampling.randn(g, *batch, T_q, d_k),
        "k": sampling.randn(g, *batch, T_k, d_k),
        "v": sampling.randn(g, *batch, T_k, d_v),
    }


def sizes(g: torch.Generator) -> tuple[int, int, int, int]:
    """T_q != T_k, d_k in {4, 8, 16} and d_v different from all of them."""
    T_q = sampling.randint(g, 2, 7)
    T_k = sampling.randint(g, 2, 8, avoid=[T_q])
    d_k = sampling.choice(g, [4, 8, 16])
    d_v = sampling.randint(g, 3, 7, avoid=[T_q, T_k, d_k])
    return T_q, T_k, d_k, d_v


def unmasked_cases(g: torch.Generator) -> list[Case]:
    cases = []
    B, H = sampling.randint(g, 2, 3), sampling.randint(g, 2, 4)
    T_q, T_k, d_k, d_v = sizes(g)
    cases.append(Case(CALL, qkv(g, (), T_q, T_k, d_k, d_v)))  # one sequence, cross-attention
    T_q, T_k, d_k, d_v = sizes(g)
    cases.append(Case(CALL, qkv(g, (B,), T_q, T_q, d_k, d_v)))  # a batch, self-attention
    T_q, T_k, d_k, d_v = sizes(g)
    cases.append(Case(CALL, qkv(g, (B,), T_q, T_k, d_k, d_v)))  # a batch, cross-attention
    T_q, T_k, d_k, d_v = sizes(g)
    cases.append(Case(CALL, qkv(g, (B, H), T_q, T_k, d_k, d_v)))  # batch and heads
    return cases


MASKING = Part("masking", "masking", 1.5)
FULLY_MASKED = Part("fully_masked_query", "the fully masked query", 0.5)


def masked_cases(g: torch.Generator) -> list[Case]:
    cases = []
    B, H = sampling.randint(g, 2, 3), sampling.randint(g, 2, 4)
    T_q, T_k, d_k, d_v = sizes(g)
    inputs = qkv(g, (), T_q, T_k, d_k, d_v)  # one sequence, a random (T_q, T_k) mask
    mask = _two_keys(sampling.random_mask(g, T_q, T_k))
    cases.append(Case(MASKED_CALL, {**inputs, "mask": mask}))
    T, _, d_k, d_v = sizes(g)
    inputs = qkv(g, (B,), T, T, d_k, d_v)  # a batch with a causal (T, T) mask
    cases.append(Case(MASKED_CALL, {**inputs, "mask": torch.ones(T, T, dtype=torch.bool).tril()}))
    T_q, T_k, d_k, d_v = sizes(g)
    inputs = qkv(
        g, (B, H), T_q, T_k, d_k, d_v
    )  # batch and heads with a (B, 1, 1, T_k) padding mask
    keys = torch.arange(T_k)
    padding = torch.stack([keys < n for n in sampling.lengths(g, B, T_k)])[:, None, None, :]
    cases.append(Case(MASKED_CALL, {**inputs, "mask": padding}))
    T_q, T_k, d_k, d_v = sizes(g)
    inputs = qkv(g, (B,), T_q, T_k, d_k, d_v)  # a (B, T_q, T_k) mask, every query with a key
    mask = _two_keys(sampling.random_mask(g, B, T_q, T_k))
    cases.append(Case(MASKED_CALL, {**inputs, "mask": mask}))
    # the separately credited part: a (B, T_q, T_k) mask with one query that may attend to no key
    T_q, T_k, d_k, d_v = sizes(g)
    inputs = qkv(g, (B,), T_q, T_k, d_k, d_v)
    mask = sampling.random_mask(g, B, T_q, T_k)
    mask[sampling.randint(g, 0, B - 1), sampling.randint(g, 0, T_q - 1)] = False
    cases.append(Case(MASKED_CALL, {**inputs, "mask": mask}, part=FULLY_MASKED.id))
    return cases


def loop_cases(g: torch.Generator) -> list[Case]:
    cases = []
    for square in (False, True, False):
        T_q, T_k, d_k, d_v = sizes(g)
        cases.append(Case(CALL, qkv(g, (), T_q, T_q if square else T_k, d_k, d_v)))
    return cases


_SHARED_DIAGNOSES = (
    "not_attempted",
    "wrong_target_kind",
    "call_signature",
    "dropout_in_eval",
    "raises_error",
    "wrong_return_type",
    "modifies_inputs",
    "outputs_swapped",
    "missing_scale",
    "scale_by_dk_not_sqrt",
    "wrong_scale",
    "softmax_wrong_dim",
    "returns_scores_not_weights",
    "wrong_transpose",
    "weights_not_applied_to_values",
    "weights_do_not_sum_to_one",
    "returns_output_only",
    "one_rank_only",
    "assumes_equal_lengths",
    "shape_mismatch",
    "non_finite_output",
    "wrong_values",
)

SCALED_DOT_PRODUCT_ATTENTION = Exercise(
    id="scaled_dot_product_attention",
    title="The whole of scaled dot-product attention",
    target="scaled_dot_product_attention",
    kind="function",
    objectives=("3.4.1", "3.4.3"),
    points=2,
    prompt=(
        "Define `scaled_dot_product_attention(q, k, v, mask=None)` returning `(output, weights)`: "
        "`weights = softmax(q kᵀ / sqrt(d_k))` over the keys, `output = weights @ v`. Inputs are "
        "`(..., T_q, d_k)`, `(..., T_k, d_k)`, `(..., T_k, d_v)` with any batch dimensions; this "
        "exercise calls it without a mask (the masking exercise adds one)."
    ),
    hints=(
        "Chain your three pieces: scores, then softmax over the last axis, then the weighted sum. "
        "Use `k.transpose(-2, -1)`, not `k.T`, so batch dimensions stay in place.",
        "`d_k = q.shape[-1]`; `scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)`; "
        "`weights = scores.softmax(dim=-1)`; `return weights @ v, weights`.",
    ),
    solution=solution_source(
        "scaled_dot_product_attention_unmasked", "scaled_dot_product_attention"
    ),
    diagnoses=_SHARED_DIAGNOSES,
    make_cases=unmasked_cases,
    diagnose=diagnose,
)

MASKED_ATTENTION = Exercise(
    id="masked_attention",
    title="Attention with a mask",
    target="scaled_dot_product_attention",
    kind="function",
    objectives=("3.4.1", "3.4.4"),
    points=2,
    prompt=(
        "Extend `scaled_dot_product_attention(q, k, v, mask=None)` with a boolean `mask` "
        "broadcastable to `(..., T_q, T_k)`, True = may attend. Two parts, credited apart: "
        "**masking** (1.5 points): blocked keys get weight 0 and each row still sums to 1; "
        "**the fully masked query** (0.5 points): a query whose keys are all blocked gets zero "
        "weights and a zero output, never NaN."
    ),
    hints=(
        "Mask the scores before the softmax: `scores.masked_fill(~mask, value)` with a very "
        "negative value, so exp() of it is 0.",
        "With -inf, a row with every key blocked is softmax(-inf, ..., -inf) = NaN. Use "
        "`torch.finfo(scores.dtype).min` instead, then `weights.masked_fill(~mask, 0.0)` after "
        "the softmax so such a row is all zeros.",
    ),
    solution=solution_source("scaled_dot_product_attention"),
    diagnoses=(
        *_SHARED_DIAGNOSES,
        "mask_after_softmax",
        "mask_inverted",
        "mask_ignored",
        "blocked_keys_get_weight",
        "mask_additive",
        "mask_shape",
        "nan_on_fully_masked_row",
        "fully_masked_row_not_zero",
    ),
    make_cases=masked_cases,
    diagnose=diagnose,
    parts=(MASKING, FULLY_MASKED),
)

LOOPS = Exercise(
    id="attention_with_loops",
    title="Loops against matrix multiplication",
    target="attention_with_loops",
    kind="function",
    objectives=("3.4.1", "3.4.4"),
    points=1,
    prompt=(
        "Define `attention_with_loops(q, k, v)` for one sequence, `(T_q, d_k)`, `(T_k, d_k)`, "
        "`(T_k, d_v)`, returning `(output, weights)` like `scaled_dot_product_attention`, but "
        "computing every score, weight and output row with Python `for` loops (no `@`). Then "
        "time it against your matrix version."
    ),
    hints=(
        "Loop over the queries i; for each, loop over the keys j to get the T_k scores "
        "q[i] · k[j] / sqrt(d_k); softmax them; the output row is sum_j weight[i, j] * v[j].",
        "Subtract the largest score of the row before `math.exp` to avoid overflow, and fill "
        "preallocated `torch.zeros(T_q, T_k)` and `torch.zeros(T_q, d_v)` tensors.",
    ),
    solution=solution_source("attention_with_loops"),
    diagnoses=_SHARED_DIAGNOSES,
    make_cases=loop_cases,
    diagnose=diagnose,
)
