"""Exercises on the three steps of attention: the scaled scores, the softmax, the weighted sum.

    scores = Q K^T / sqrt(d_k),   weights = softmax(scores) over the keys,   output = weights V

Shape legend: ``...`` batch dimensions, T_q/T_k query/key lengths, d_k query/key width, d_v value width.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention_lab.exercises import compare, sampling
from attention_lab.exercises.attention import raw_scores, sizes
from attention_lab.exercises.base import Case, Exercise, Result, generic, solution_source, verdict

# -- 1) the scores and the scale ---------------------------------------------------------------

SCORES_CALL = {"kind": "function", "args": ["q", "k"], "outputs": ["scores"]}


def scores_cases(g: torch.Generator) -> list[Case]:
    cases = []
    B, H = sampling.randint(g, 2, 3), sampling.randint(g, 2, 4)
    for batch, square in (((), False), ((B,), True), ((B,), False), ((B, H), False)):
        T_q, T_k, d_k, _ = sizes(g)
        T_k = T_q if square else T_k
        q, k = sampling.randn(g, *batch, T_q, d_k), sampling.randn(g, *batch, T_k, d_k)
        cases.append(Case(SCORES_CALL, {"q": q, "k": k}))
    return cases


def diagnose_scores(case: Case, found: dict[str, Tensor]) -> Result:
    q, k = case.tensor("q"), case.tensor("k")
    d_k = q.shape[-1]
    raw = raw_scores(q, k)
    expected = raw / math.sqrt(d_k)
    got = found["scores"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    if compare.close(got, raw):
        return verdict(
            case, "missing_scale", f"the scores equal q kᵀ, not divided by sqrt(d_k) (d_k = {d_k})."
        )
    if compare.close(got, raw / d_k):
        return verdict(case, "scale_by_dk_not_sqrt", f"the scores equal q kᵀ / d_k (d_k = {d_k}).")
    if compare.close(got, expected.transpose(-2, -1)):
        return verdict(
            case,
            "wrong_transpose",
            f"the scores are k qᵀ: keys on the rows, queries on the columns "
            f"(expected {compare.shape(expected)}, found {compare.shape(got)}).",
        )
    if got.shape == raw.shape and not compare.non_finite(got):
        c = float((got.double() * raw).sum() / (raw * raw).sum())  # least squares: got ≈ c · raw
        if compare.close(got, c * raw):
            return verdict(
                case,
                "wrong_scale",
                f"the scores equal c · q kᵀ with c ≠ 1/sqrt(d_k) (d_k = {d_k}).",
            )
    return generic(case, {"scores": (got, expected)})


SCORES = Exercise(
    id="attention_scores",
    title="The scores and the scale",
    target="attention_scores",
    kind="function",
    objectives=("3.4.1", "3.4.3"),
    points=1,
    prompt=(
        "Define `attention_scores(q, k)` returning `q kᵀ / sqrt(d_k)`, shape `(..., T_q, T_k)`, "
        "for `q` `(..., T_q, d_k)` and `k` `(..., T_k, d_k)` with any batch dimensions."
    ),
    hints=(
        "Every query meets every key: a matrix product of q with the transpose of k, swapping "
        "only the last two axes so batch dimensions stay in place.",
        "`q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])`",
    ),
    solution=solution_source("attention_scores"),
    diagnoses=(
        "not_attempted",
        "wrong_target_kind",
        "call_signature",
        "dropout_in_eval",
        "raises_error",
        "wrong_return_type",
        "modifies_inputs",
        "missing_scale",
        "scale_by_dk_not_sqrt",
        "wrong_scale",
        "wrong_transpose",
        "one_rank_only",
        "assumes_equal_lengths",
        "shape_mismatch",
        "non_finite_output",
        "wrong_values",
    ),
    make_cases=scores_cases,
    diagnose=diagnose_scores,
)

# -- 2) the softmax ------------------------------------------------------------------------------

SOFTMAX_CALL = {"kind": "function", "args": ["scores"], "outputs": ["weights"]}
LARGE = (
    100.0  # exp(100) overflows float32 (max about exp(88.7)) unless the row maximum is subtracted
)


def softmax_cases(g: torch.Generator) -> list[Case]:
    cases = []
    B, H = sampling.randint(g, 2, 3), sampling.randint(g, 2, 4)
    for batch, scale, shift in (
        ((), 1.0, 0.0),
        ((B,), 3.0, 0.0),
        ((B, H), 1.0, 0.0),
        ((B,), 5.0, LARGE),
    ):
        T_q, T_k, _, _ = sizes(g)
        scores = sampling.randn(g, *batch, T_q, T_k, scale=scale) + shift
        cases.append(Case(SOFTMAX_CALL, {"scores": scores}))
    return cases


def diagnose_softmax(case: Case, found: dict[str, Tensor]) -> Result:
    scores = case.tensor("scores")
    expected = torch.softmax(scores, dim=-1)
    got = found["weights"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    for dim in range(-2, -scores.dim() - 1, -1):
        if compare.close(got, torch.softmax(scores, dim=dim)):
            return verdict(
                case,
                "softmax_wrong_dim",
                f"the weights are normalised over dim={dim}, not over the keys (dim=-1).",
            )
    large = float(scores.abs().max()) > 88.0  # exp() of more overflows float32
    if large and got.shape == expected.shape and compare.non_finite(got):
        return verdict(
            case,
            "numerically_unstable",
            "these scores reach about ±100 and the weights came out NaN or inf; "
            f"{compare.first_difference('weights', got, expected, 'row')}.",
        )
    return generic(case, {"weights": (got, expected)}, row="row")


SOFTMAX = Exercise(
    id="softmax",
    title="The softmax over the keys",
    target="attention_weights",
    kind="function",
    objectives=("3.4.3",),
    points=1,
    prompt=(
        "Define `attention_weights(scores)`: the softmax of `scores` `(..., T_q, T_k)` over the "
        "keys, so that each query's weights are positive and sum to 1. Write it with `exp` and "
        "`sum` yourself, and keep it finite for scores as large as 100."
    ),
    hints=(
        "softmax(x)_j = exp(x_j) / sum_i exp(x_i), taken along the last axis (`dim=-1`, "
        "`keepdim=True` so the sum broadcasts back).",
        "exp(100) overflows float32. Subtracting the row maximum first changes nothing "
        "mathematically: `scores - scores.amax(dim=-1, keepdim=True)`.",
    ),
    solution=solution_source("attention_weights"),
    diagnoses=(
        "not_attempted",
        "wrong_target_kind",
        "call_signature",
        "dropout_in_eval",
        "raises_error",
        "wrong_return_type",
        "modifies_inputs",
        "softmax_wrong_dim",
        "numerically_unstable",
        "one_rank_only",
        "assumes_equal_lengths",
        "shape_mismatch",
        "non_finite_output",
        "wrong_values",
    ),
    make_cases=softmax_cases,
    diagnose=diagnose_softmax,
)

# -- 3) the weighted sum of the values ------------------------------------------------------

SUM_CALL = {"kind": "function", "args": ["weights", "v"], "outputs": ["output"]}


def weighted_sum_cases(g: torch.Generator) -> list[Case]:
    cases = []
    B, H = sampling.randint(g, 2, 3), sampling.randint(g, 2, 4)
    for batch, square in (((), False), ((B,), True), ((B, H), False)):
        T_q, T_k, _, d_v = sizes(g)
        T_k = T_q if square else T_k
        weights = torch.softmax(sampling.randn(g, *batch, T_q, T_k, scale=2.0), dim=-1)
        cases.append(Case(SUM_CALL, {"weights": weights, "v": sampling.randn(g, *batch, T_k, d_v)}))
    return cases


def diagnose_weighted_sum(case: Case, found: dict[str, Tensor]) -> Result:
    weights, v = case.tensor("weights"), case.tensor("v")
    expected = weights @ v  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    got = found["output"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    transposes = [
        (expected.transpose(-2, -1), "the output is (weights @ v)ᵀ: v's features on the rows")
    ]
    if weights.shape[-1] == weights.shape[-2]:  # only a square weights matrix lets weightsᵀ @ v run
        transposes.append(
            (weights.transpose(-2, -1) @ v, "the output is weightsᵀ @ v: keys used as queries")
        )
    for predicted, detail in transposes:
        if compare.close(got, predicted):
            return verdict(case, "wrong_transpose", f"{detail}.")
    uniform = v.mean(dim=-2, keepdim=True).expand(expected.shape)
    ignored = (
        (uniform, "every query gets the plain average of the values"),
        (
            v.sum(dim=-2, keepdim=True).expand(expected.shape),
            "every query gets the sum of the values",
        ),
        (v, "the output equals v"),
        (weights, "the output equals the weights"),
    )
    for predicted, detail in ignored:
        if compare.close(got, predicted):
            return verdict(case, "weights_not_applied_to_values", f"{detail}.")
    return generic(case, {"output": (got, expected)})


WEIGHTED_SUM = Exercise(
    id="weighted_sum",
    title="The weighted sum of the values",
    target="weighted_sum",
    kind="function",
    objectives=("3.4.3",),
    points=1,
    prompt=(
        "Define `weighted_sum(weights, v)`: each query's output is the average of the value "
        "vectors weighted by its attention weights, `(..., T_q, T_k)` and `(..., T_k, d_v)` "
        "-> `(..., T_q, d_v)`."
    ),
    hints=(
        "output[i] = sum_j weights[i, j] * v[j]: that is one row of a matrix product.",
        "`weights @ v` (batch dimensions broadcast).",
    ),
    solution=solution_source("weighted_sum"),
    diagnoses=(
        "not_attempted",
        "wrong_target_kind",
        "call_signature",
        "dropout_in_eval",
        "raises_error",
        "wrong_return_type",
        "modifies_inputs",
        "wrong_transpose",
        "weights_not_applied_to_values",
        "one_rank_only",
        "assumes_equal_lengths",
        "shape_mismatch",
        "non_finite_output",
        "wrong_values",
    ),
    make_cases=weighted_sum_cases,
    diagnose=diagnose_weighted_sum,
)
