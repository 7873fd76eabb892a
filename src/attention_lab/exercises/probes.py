"""What is structurally wrong with attention weights that no single known mistake reproduces.

Two probes for the attention exercises: :func:`compound_misconceptions` replays two known mistakes
made together (a scale, the softmax axis, the use of the mask), so that each is named;
:func:`probe_weights` looks at the behaviour itself: rows of NaN, rows that do not sum to 1 over
the keys (and the axis they do sum to 1 over), blocked keys that get weight. Messages name queries
and keys by position, never a reference value.

Shape legend: ``...`` batch dimensions, T_q/T_k query/key lengths, d_k query/key width.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from attention_lab.exercises import compare
from attention_lab.exercises.base import Case, Result, verdict

Misconception = tuple[
    str, Tensor, Tensor | None, str
]  # diagnosis, predicted weights, where, detail


def raw_scores(q: Tensor, k: Tensor) -> Tensor:
    return q @ k.transpose(-2, -1)  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)


def softmax_over(scores: Tensor, dim: int, mask: Tensor | None = None) -> Tensor:
    """Softmax along ``dim`` (masked positions blocked before, zeroed after)."""
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=dim)
    return weights if mask is None else weights.masked_fill(~mask, 0.0)


SCALES = {"d_k": "q kᵀ / sqrt(d_k)", "none": "q kᵀ (no scale)", "d_k_not_sqrt": "q kᵀ / d_k"}
MASK_MODES = {
    "given": "the mask applied",
    "ignored": "the mask ignored",
    "inverted": "the mask inverted",
    "after": "the mask applied after the softmax",
    "fill_zero": "blocked scores filled with 0",
    "additive": "the mask added to the scores",
}
SYMPTOMS = {  # the diagnosis each changed step names
    "scale": {"none": "missing_scale", "d_k_not_sqrt": "scale_by_dk_not_sqrt"},
    "dim": "softmax_wrong_dim",
    "mask_mode": {
        "ignored": "mask_ignored",
        "inverted": "mask_inverted",
        "after": "mask_after_softmax",
        "fill_zero": "blocked_keys_get_weight",
        "additive": "mask_additive",
    },
}


def variant_weights(
    q: Tensor,
    k: Tensor,
    mask: Tensor | None,
    *,
    scale: str = "d_k",  # "d_k" (right) | "none" | "d_k_not_sqrt"
    dim: int = -1,  # the softmax axis (-1, the keys, is right)
    mask_mode: str = "given",  # one of MASK_MODES ("given" is right), or "textbook"
) -> Tensor:
    """The weights of attention in float64 with the steps done as asked."""
    raw = raw_scores(q, k)  # (..., T_q, T_k)
    d_k = q.shape[-1]
    scores = raw * {"d_k": d_k**-0.5, "none": 1.0, "d_k_not_sqrt": 1.0 / d_k}[scale]
    if mask is None or mask_mode == "ignored":
        return torch.softmax(scores, dim=dim)
    allowed = torch.broadcast_to(mask, raw.shape)
    if mask_mode == "inverted":
        return softmax_over(scores, dim, ~allowed)
    if mask_mode == "after":
        return torch.softmax(scores, dim=dim).masked_fill(~allowed, 0.0)
    if mask_mode == "fill_zero":
        return torch.softmax(scores.masked_fill(~allowed, 0.0), dim=dim)
    if mask_mode == "additive":
        return torch.softmax(scores + allowed.to(scores.dtype), dim=dim)
    if mask_mode == "textbook":  # blocked, not zeroed after: right except for fully masked rows
        return torch.softmax(scores.masked_fill(~allowed, torch.finfo(scores.dtype).min), dim=dim)
    return softmax_over(scores, dim, allowed)


def compound_misconceptions(q: Tensor, k: Tensor, mask: Tensor | None) -> Iterator[Misconception]:
    """Two mistakes at once (a scale, the softmax axis, the use of the mask): each is named.

    With a mask, a scale or axis mistake alone is first replayed with the mask applied the
    textbook way (blocked scores very negative, no zeroing after the softmax), which is
    indistinguishable from the right way except on fully masked rows.
    """
    scales = [("scale", s) for s in ("none", "d_k_not_sqrt")]
    dims = [("dim", d) for d in range(-2, -q.dim() - 1, -1)]
    modes = [("mask_mode", m) for m in MASK_MODES if m != "given"] if mask is not None else []
    where = None if mask is None else _attending_rows(mask, q, k)
    if mask is not None:
        for step, value in scales + dims:
            change = {step: value, "mask_mode": "textbook"}
            detail = f"{_describe_change(step, value)}."
            yield _symptom(step, value), variant_weights(q, k, mask, **change), where, detail
    groups = [scales, dims, modes]
    for i, first in enumerate(groups):
        for second in groups[i + 1 :]:
            for a in first:
                for b in second:
                    change = dict([a, b])
                    symptoms = [_symptom(*a), _symptom(*b)]
                    text = "; ".join(_describe_change(*c) for c in (a, b))
                    detail = f"two mistakes together: {text}."
                    rows = where  # the rows that have a key to attend to
                    if change.get("mask_mode") == "inverted":
                        rows = where & _attending_rows(~mask, q, k)
                    compound = f"{symptoms[0]}+{symptoms[1]}"
                    yield compound, variant_weights(q, k, mask, **change), rows, detail


def _attending_rows(mask: Tensor, q: Tensor, k: Tensor) -> Tensor:
    """(..., T_q, 1) bool: the queries that may attend to at least one key."""
    shape = torch.broadcast_shapes(raw_scores(q, k).shape, mask.shape)  # (..., T_q, T_k)
    return torch.broadcast_to(mask, shape).any(dim=-1, keepdim=True)


def _symptom(step: str, value: object) -> str:
    named = SYMPTOMS[step]
    return named if isinstance(named, str) else named[value]


def _describe_change(step: str, value: object) -> str:
    if step == "scale":
        return f"the scores are {SCALES[value]} instead of q kᵀ / sqrt(d_k)"
    if step == "dim":
        return f"the softmax runs over dim={value}, not over the keys (dim=-1)"
    return f"{MASK_MODES[value]} (blocked keys must get weight 0 and each row must sum to 1)"


def probe_weights(case: Case, got: Tensor, expected: Tensor, mask: Tensor | None) -> Result | None:
    """Say what is structurally wrong with the weights when no known mistake reproduces them:
    NaN rows, rows that do not sum to 1 (and the axis they do sum to 1 over), blocked keys that
    get weight. Each symptom found is listed; the first names the diagnosis."""
    symptoms: list[tuple[str, str]] = []
    got = got.double()
    rows = torch.ones((*got.shape[:-1], 1), dtype=torch.bool)
    if mask is not None:
        rows = torch.broadcast_to(mask, got.shape).any(dim=-1, keepdim=True)
    nan_rows = got.isnan().any(dim=-1, keepdim=True) & rows
    if nan_rows.any():
        where = _position(nan_rows.squeeze(-1))
        symptoms.append(("non_finite_output", f"the weights of {where} are NaN"))
    finite = got.nan_to_num(0.0)
    tolerance = 1e-4 * got.shape[-1]  # float32 rounding over a row of T_k weights
    sums = finite.sum(dim=-1, keepdim=True)
    off = ((sums - 1).abs() > tolerance) & rows & ~nan_rows
    if off.any():
        where = _position(off.squeeze(-1))
        axes = [
            d
            for d in range(-2, -got.dim() - 1, -1)
            if bool(((finite.sum(dim=d) - 1).abs() <= tolerance).all())
        ]
        if axes:
            symptoms.append(
                (
                    "softmax_wrong_dim",
                    f"the weights of {where} do not sum to 1 over the keys; they sum to 1 over "
                    f"dim={axes[0]} instead",
                )
            )
        else:
            found_sum = float(sums[tuple(off.squeeze(-1).nonzero()[0])])
            side = "more" if found_sum > 1 else "less"
            symptoms.append(
                (
                    "weights_do_not_sum_to_one",
                    f"the weights of {where} sum to {side} than 1 over the keys, and no axis of "
                    "the weights sums to 1",
                )
            )
    if mask is not None:
        blocked = ~torch.broadcast_to(mask, got.shape) & rows
        leaking = (finite.abs() > 1e-6) & blocked
        if leaking.any():
            index = [int(i) for i in leaking.nonzero()[0]]
            symptoms.append(
                (
                    "blocked_keys_get_weight",
                    f"{_position_of(index[:-1])} gives weight to key {index[-1]}, which the mask "
                    "blocks",
                )
            )
    if not symptoms:
        return None
    text = "; ".join(detail for _, detail in symptoms)
    row = first_row_note(got, expected)
    message = verdict(case, symptoms[0][0], f"{text}.{row}").message
    return Result(False, symptoms[0][0], message, tuple(d for d, _ in symptoms[1:]))


def _position(rows: Tensor) -> str:
    """``query 3`` or ``query 3 (batch index (1, 0))`` for the first True of (..., T_q)."""
    index = [int(i) for i in rows.nonzero()[0]]
    more = int(rows.sum()) - 1
    return _position_of(index) + (f" (and {more} more queries)" if more > 0 else "")


def _position_of(index: list[int]) -> str:
    text = f"query {index[-1]}"
    if len(index) > 1:
        text += f" (batch index ({', '.join(str(i) for i in index[:-1])}))"
    return text


def first_row_note(got: Tensor, expected: Tensor) -> str:
    """Where the first differing query puts its largest weight, against where it should."""
    bad = compare.differing(got, expected).any(dim=-1)
    if not bad.any():
        return ""
    index = tuple(int(i) for i in bad.nonzero()[0])
    found_top = int(got[index].nan_to_num(-1.0).argmax())
    wanted_top = int(expected[index].argmax())
    where = _position_of(list(index))
    if found_top == wanted_top:
        return f" The first query that differs is {where}; its largest weight is on the right key."
    return (
        f" The first query that differs is {where}: its largest weight is on key {found_top}, "
        f"expected on key {wanted_top}."
    )
