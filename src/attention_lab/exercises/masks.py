"""Exercises: the causal mask and the padding mask (bool, True = may attend).

The references are the library's ``causal_mask`` and ``padding_mask``.

Shape legend: B batch, T sequence length.
"""

from __future__ import annotations

import torch
from torch import Tensor

from attention_lab.exercises import compare, sampling
from attention_lab.exercises.base import Case, Exercise, Result, generic, solution_source, verdict
from attention_lab.nn.masks import causal_mask as library_causal_mask
from attention_lab.nn.masks import padding_mask as library_padding_mask

_MASK_DIAGNOSES = (
    "not_attempted",
    "wrong_target_kind",
    "call_signature",
    "dropout_in_eval",
    "raises_error",
    "wrong_return_type",
    "mask_not_boolean",
    "mask_inverted",
)


def not_boolean(case: Case, got: Tensor, expected: Tensor) -> Result | None:
    """A float/int mask: say which convention it follows, if it has the right pattern."""
    if got.dtype == torch.bool:
        return None
    if (
        got.is_floating_point()
        and got.shape == expected.shape
        and bool(((got == 0) | (got == float("-inf"))).all())
        and torch.equal(got == 0, expected)
        and not bool((got == 0).all())
    ):
        return verdict(
            case,
            "mask_not_boolean",
            f"the mask is an additive float mask ({got.dtype}: 0 = may attend, -inf = blocked, "
            "to be added to the scores); the exercise wants a torch.bool mask with True = may "
            "attend (note that .bool() of this mask would turn -inf into True).",
        )
    if got.shape == expected.shape and (
        torch.equal(got != 0, expected) or torch.equal(got == 0, expected)
    ):
        return verdict(
            case,
            "mask_not_boolean",
            f"the mask has the right pattern but dtype {got.dtype}, expected torch.bool.",
        )
    return verdict(
        case, "mask_not_boolean", f"the mask has dtype {got.dtype}, expected torch.bool."
    )


# -- causal mask ---------------------------------------------------------------------------------


def causal_cases(g: torch.Generator) -> list[Case]:
    sizes = [sampling.randint(g, 3, 5), sampling.randint(g, 6, 9), 1]  # T = 1 last: ambiguous
    return [
        Case({"kind": "function", "args": [{"const": T, "name": "T"}], "outputs": ["mask"]}, {})
        for T in sizes
    ]


def diagnose_causal(case: Case, found: dict[str, Tensor]) -> Result:
    T = case.call["args"][0]["const"]
    expected = library_causal_mask(T)
    got = found["mask"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    result = not_boolean(case, got, expected)
    if result is not None:
        return result
    if T == 1 and got.shape == expected.shape:  # no future keys: only the diagonal can be wrong
        return verdict(
            case,
            "causal_diagonal_wrong",
            "the mask is [[False]], so query 0 may not attend to key 0, itself.",
        )
    if compare.close(got, ~expected):
        return verdict(
            case, "mask_inverted", "the mask is True above the diagonal, where future keys are."
        )
    if got.shape == expected.shape:
        off = got != expected
        if off.any() and bool(off.diagonal().all()) and int(off.sum()) == T:
            return verdict(
                case,
                "causal_diagonal_wrong",
                "the mask differs from the expected one exactly on the diagonal.",
            )
        flipped = torch.eye(T, dtype=torch.bool)
        if compare.close(got, ~expected ^ flipped):
            return verdict(
                case,
                "mask_inverted",
                "the mask blocks the past and allows the future (True above the diagonal); "
                "its diagonal is right.",
            )
    return generic(case, {"mask": (got, expected)}, row="row")


CAUSAL_MASK = Exercise(
    id="causal_mask",
    title="The causal mask",
    target="causal_mask",
    kind="function",
    objectives=("3.4.4",),
    points=1,
    prompt=(
        "Define `causal_mask(T)` returning a `(T, T)` tensor of dtype `torch.bool` where "
        "`mask[i, j]` is True when query i may attend to key j, that is when j <= i (no "
        "looking ahead)."
    ),
    hints=(
        "Row i is True in columns 0..i: a lower-triangular matrix, diagonal included.",
        "`torch.ones(T, T, dtype=torch.bool).tril()`",
    ),
    solution=solution_source("causal_mask"),
    diagnoses=(*_MASK_DIAGNOSES, "causal_diagonal_wrong", "shape_mismatch", "wrong_values"),
    make_cases=causal_cases,
    diagnose=diagnose_causal,
)

# -- padding mask -------------------------------------------------------------------------------


def padding_cases(g: torch.Generator) -> list[Case]:
    cases = []
    for pad_id in (0, sampling.randint(g, 1, 9), sampling.randint(g, 100, 999)):
        B, T = sampling.randint(g, 2, 4), sampling.randint(g, 4, 8)
        tokens = torch.randint(10, 100, (B, T), generator=g)  # real tokens never equal pad_id
        for row, n in zip(tokens, sampling.lengths(g, B, T)):
            row[n:] = pad_id
        call = {
            "kind": "function",
            "args": ["tokens", {"const": pad_id, "name": "pad_id"}],
            "outputs": ["mask"],
        }
        cases.append(Case(call, {"tokens": tokens}))
    return cases


def diagnose_padding(case: Case, found: dict[str, Tensor]) -> Result:
    tokens = case.inputs["tokens"]
    pad_id = case.call["args"][1]["const"]
    expected = library_padding_mask(tokens, pad_id)
    got = found["mask"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    result = not_boolean(case, got, expected)
    if result is not None:
        return result
    if compare.close(got, ~expected):
        return verdict(
            case, "mask_inverted", "the mask is True at the padding and False at the real tokens."
        )
    if got.shape != expected.shape and got.numel() == expected.numel():
        same = torch.equal(got.reshape(expected.shape), expected)
        inverted = torch.equal(got.reshape(expected.shape), ~expected)
        if same or inverted:
            detail = (
                f"expected shape {compare.shape(expected)} (B, 1, 1, T), so the mask broadcasts over "
                f"heads and query positions; found {compare.shape(got)}"
            )
            if inverted:
                return verdict(case, "mask_inverted", f"{detail}, and True marks the padding.")
            return verdict(case, "shape_mismatch", f"{detail} (the pattern is right).")
    return generic(case, {"mask": (got, expected)}, row="row")


PADDING_MASK = Exercise(
    id="padding_mask",
    title="The padding mask",
    target="padding_mask",
    kind="function",
    objectives=("3.4.4",),
    points=1,
    prompt=(
        "Define `padding_mask(tokens, pad_id)` for token ids `tokens` `(B, T)`: a `torch.bool` "
        "mask of shape `(B, 1, 1, T)`, True at real tokens and False at padding, so that no "
        "query attends to a padding key (the two size-1 axes broadcast over heads and queries)."
    ),
    hints=(
        "Compare the tokens with pad_id: that gives a (B, T) bool tensor. Which positions "
        "should be True?",
        "`(tokens != pad_id)[:, None, None, :]` inserts the head and query axes.",
    ),
    solution=solution_source("padding_mask"),
    diagnoses=(*_MASK_DIAGNOSES, "modifies_inputs", "shape_mismatch", "wrong_values"),
    make_cases=padding_cases,
    diagnose=diagnose_padding,
)
