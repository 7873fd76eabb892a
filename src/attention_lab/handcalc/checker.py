"""Check a learner's hand calculation step by step and name the first step that went wrong.

The checker knows what each classic mistake produces (it replays the calculation with the mistake
in it), so it can say *why* a step is wrong, not only that it is. Tolerances fit hand rounding:
whole numbers must be exact, softmax weights may be off by the rounding to ``decimals`` places,
and the output may carry that rounding through the weighted sum.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from typing import Any

import numpy as np

from attention_lab.handcalc.problem import (
    STEPS,
    HandCalcProblem,
    generate_handcalc,
    replay,
    softmax_rows,
    tolerances,
)
from attention_lab.misconceptions import explanations

# Mistakes the checker recognises by replaying them: id (of ``attention_lab.misconceptions``) ->
# what the learner did, as the feedback message words it ("It looks like you ...").
MISTAKES: dict[str, str] = {
    "missing_scale": "forgot to divide the scores by sqrt(d_k) = {sqrt_d_k:g}",
    "scale_by_dk_not_sqrt": "divided the scores by d_k = {d_k} instead of sqrt(d_k) = {sqrt_d_k:g}",
    "wrong_transpose": "used K instead of K^T: the scores must be Q K^T (row = query, column = key)",
    "softmax_missing": "used the scaled scores as weights without taking the softmax",
    "softmax_wrong_dim": (
        "took the softmax down each column instead of along each row (each query's row of "
        "weights must add up to 1)"
    ),
    "weights_applied_to_keys": "multiplied the weights by K instead of V",
}

# Every diagnosis the checker can give: id -> explanation, from the course's one catalogue.
DIAGNOSES: dict[str, str] = explanations(
    {
        "correct",
        "not_attempted",
        *MISTAKES,
        "wrong_weight_matrix",
        "transposed_result",
        "shape_mismatch",
        "rows_do_not_sum_to_one",
        "rounding",
        "follows_from_earlier_error",
        "arithmetic",
    }
)
NOT_ATTEMPTED = "No step given yet: pass Q=..., K=..., scores=..., weights=..., output=..."


@dataclasses.dataclass(frozen=True)
class StepCheck:
    """The verdict on one step: status is ``correct``, ``wrong``, ``carried`` or ``missing``."""

    step: str
    status: str
    diagnosis: str
    message: str


@dataclasses.dataclass(frozen=True)
class HandCalcFeedback:
    """What ``check_handcalc`` found: ``ok``, the first wrong step, its diagnosis and message."""

    seed: int
    ok: bool
    first_wrong: str | None
    diagnosis: str
    message: str
    steps: tuple[StepCheck, ...]

    def __str__(self) -> str:
        marks = {"correct": "ok ", "wrong": "XX ", "carried": "~  ", "missing": ".  "}
        lines = [self.message, ""]
        lines += [f"{marks[s.status]}{s.step:<14}{s.message}" for s in self.steps]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colours = {
            "correct": "#1a7f37",
            "wrong": "#cf222e",
            "carried": "#9a6700",
            "missing": "#777",
        }
        rows = "".join(
            f"<tr><td style='color:{colours[s.status]};font-weight:bold'>{s.status}</td>"
            f"<td><code>{s.step}</code></td><td>{html.escape(s.message)}</td></tr>"
            for s in self.steps
        )
        return f"<div><p><b>{html.escape(self.message)}</b></p><table>{rows}</table></div>"


def check_handcalc(
    seed: int | HandCalcProblem,
    *,
    Q: Any = None,
    K: Any = None,
    V: Any = None,
    scores: Any = None,
    scaled_scores: Any = None,
    weights: Any = None,
    output: Any = None,
    tokens: int = 3,
    d_model: int = 4,
    d_k: int | None = None,
    decimals: int = 2,
) -> HandCalcFeedback:
    """Check whichever steps a learner filled in for the problem of ``seed``.

    Give the seed (with the same ``tokens``/``d_model``/``d_k``/``decimals`` used to generate
    the problem) or the ``HandCalcProblem`` itself. Each step is a table of numbers (list of rows,
    numpy array or tensor). Steps left out are skipped; the feedback names the first wrong step and
    the likely reason (``feedback.diagnosis`` is one of ``DIAGNOSES``).

    Raises:
        TypeError: a step is not a table of numbers (ragged rows, text).
        ValueError: a step has an empty cell (NaN or None) or an infinite one; the message names
            the cell as the worksheet labels it.
    """
    if isinstance(seed, HandCalcProblem):
        problem = seed
    else:
        problem = generate_handcalc(
            seed, tokens=tokens, d_model=d_model, d_k=d_k, decimals=decimals
        )
    given = {
        name: _as_table(problem, name, value)
        for name, value in zip(STEPS, (Q, K, V, scores, scaled_scores, weights, output))
        if value is not None
    }
    checks = _check_steps(problem, given)
    wrong = [c for c in checks if c.status == "wrong"]
    if not given:
        diagnosis, message, first = "not_attempted", NOT_ATTEMPTED, None
    elif wrong:
        first = wrong[0].step
        diagnosis, message = wrong[0].diagnosis, f"First wrong step: {first}. {wrong[0].message}"
    else:
        first, diagnosis = None, "correct"
        message = f"All {len(given)} step(s) you gave are correct."
    return HandCalcFeedback(
        seed=problem.seed,
        ok=bool(given) and not wrong,
        first_wrong=first,
        diagnosis=diagnosis,
        message=message,
        steps=tuple(checks),
    )


def _as_table(problem: HandCalcProblem, name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: expected a table of numbers (a list of equal-length rows, a numpy array or a "
            f"tensor), got {type(value).__name__}: {value!r:.80}"
        ) from None
    blank = ~np.isfinite(array)  # None becomes NaN in a float array
    if blank.any():
        cells = np.argwhere(blank)
        where = _cell(problem, name, *cells[0])
        others = f" (and {len(cells) - 1} more cells)" if len(cells) > 1 else ""
        cell = array[tuple(cells[0])]
        what = "is empty (NaN/None)" if np.isnan(cell) else f"is {cell} (not a finite number)"
        raise ValueError(f"{name}: {where} {what}{others}; fill in every cell with a number")
    return array


def _check_steps(problem: HandCalcProblem, given: dict[str, np.ndarray]) -> list[StepCheck]:
    right = replay(problem)
    tol = tolerances(problem)
    checks: list[StepCheck] = []
    wrong_so_far = False
    for step in STEPS:
        if step not in given:
            checks.append(StepCheck(step, "missing", "", "not given"))
            continue
        check = _check_one(problem, step, given, right, tol, wrong_so_far)
        wrong_so_far = wrong_so_far or check.status != "correct"
        checks.append(check)
    return checks


def _check_one(
    problem: HandCalcProblem,
    step: str,
    given: dict[str, np.ndarray],
    right: dict[str, np.ndarray],
    tol: dict[str, float],
    after_error: bool,
) -> StepCheck:
    answer, expected, t = given[step], right[step], tol[step]
    fmt = {"sqrt_d_k": problem.sqrt_d_k, "d_k": problem.d_k}

    def wrong(diagnosis: str, detail: str) -> StepCheck:
        return StepCheck(step, "wrong", diagnosis, detail)

    if answer.shape != expected.shape:
        return _wrong_shape(problem, step, answer, expected, t, wrong)
    if _close(answer, expected, t) or (step == "output" and _close(answer, problem.output, t)):
        return StepCheck(step, "correct", "correct", "correct")
    own = _from_own_previous(problem, step, given)
    if after_error and own is not None and _close(answer, own, t):
        return StepCheck(
            step, "carried", "follows_from_earlier_error", DIAGNOSES["follows_from_earlier_error"]
        )
    for mistake, what in MISTAKES.items():
        candidate = replay(problem, mistake)[step]
        if not _close(candidate, expected, 1e-9) and _close(answer, candidate, t):
            return wrong(mistake, f"It looks like you {what.format(**fmt)}.")
    if (
        step == "scores"
        and answer.shape == problem.K.shape[::-1]
        and _close(answer, problem.Q @ problem.K, t)
    ):  # T == d_k, so Q K has the shape of Q K^T
        return wrong("wrong_transpose", f"It looks like you {MISTAKES['wrong_transpose']}.")
    if step in ("Q", "K", "V"):
        for other, W in (("W_q", problem.W_q), ("W_k", problem.W_k), ("W_v", problem.W_v)):
            if _close(answer, problem.X @ W, t):
                need = {"Q": "W_q", "K": "W_k", "V": "W_v"}[step]
                return wrong("wrong_weight_matrix", f"You computed X {other}; {step} = X {need}.")
    if _close(answer, expected, 3 * t):
        return wrong("rounding", f"Close, but some entries are off by more than rounding to "
                     f"{problem.decimals} decimals allows; {_off_cell(problem, step, answer - expected, t)}")  # fmt: skip
    if step == "weights" and not np.allclose(answer.sum(axis=1), 1.0, atol=answer.shape[1] * t):
        sums = ", ".join(f"{s:.2f}" for s in answer.sum(axis=1))
        return wrong("rows_do_not_sum_to_one", f"Each row of weights must add up to 1; your rows "
                     f"add up to {sums}. Divide each exp() by its row's total.")  # fmt: skip
    return wrong(
        "arithmetic", f"An arithmetic slip: {_off_cell(problem, step, answer - expected, t)}"
    )


def _wrong_shape(
    problem: HandCalcProblem,
    step: str,
    answer: np.ndarray,
    expected: np.ndarray,
    t: float,
    wrong: Callable[[str, str], StepCheck],
) -> StepCheck:
    if answer.ndim == 2 and answer.shape == expected.shape[::-1] and _close(answer.T, expected, t):
        return wrong("transposed_result", f"Your {step} is the right table transposed: write one "
                     f"row per token, shape {_shape(expected)}.")  # fmt: skip
    if step == "scores" and answer.shape == (problem.d_k, problem.d_k):
        if _close(answer, problem.Q.T @ problem.K, t):  # (d_k, T) @ (T, d_k) -> (d_k, d_k)
            return wrong("wrong_transpose", "You computed Q^T K, a d_k x d_k table; the scores "
                         "are Q K^T: each query row dotted with each key row.")  # fmt: skip
    what = "one row per token" if step != "scores" else "one row per query, one column per key"
    return wrong("shape_mismatch", f"{step} should have shape {_shape(expected)} ({what}); "
                 f"yours has shape {_shape(answer)}.")  # fmt: skip


def _from_own_previous(
    problem: HandCalcProblem, step: str, given: dict[str, np.ndarray]
) -> np.ndarray | None:
    """This step recomputed from the learner's own earlier numbers (right numbers where missing)."""
    right = replay(problem)

    def use(name: str) -> np.ndarray:
        value = given.get(name)
        return value if value is not None and value.shape == right[name].shape else right[name]

    if step == "scores":
        return use("Q") @ use("K").T
    if step == "scaled_scores":
        return use("scores") / problem.sqrt_d_k
    if step == "weights":
        return softmax_rows(use("scaled_scores"))
    if step == "output":
        return use("weights") @ use("V")
    return None


def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol))


def _shape(a: np.ndarray) -> str:
    return " x ".join(str(n) for n in a.shape) if a.ndim else "a single number"


def _off_cell(problem: HandCalcProblem, step: str, error: np.ndarray, t: float) -> str:
    """The first cell whose ``error`` (answer - worked solution) is more than ``t``."""
    off = np.argwhere(np.abs(error) > t)[0]
    return f"{_cell(problem, step, *off)} is off; recheck it."


def _cell(problem: HandCalcProblem, step: str, *index: int) -> str:
    """A cell named as the worksheet labels it: rows are tokens; columns are keys for the
    T x T steps and d1..d_k for Q, K, V and the output."""
    if len(index) == 0:
        return "the value"
    if len(index) != 2:
        return "the entry at index [" + ", ".join(str(int(i)) for i in index) + "]"
    row, col = int(index[0]), int(index[1])
    tokens = problem.tokens
    text = f"row {row + 1}" + (f" (token '{tokens[row]}')" if row < len(tokens) else "")
    by_key = step in ("scores", "scaled_scores", "weights")
    if by_key and col < len(tokens):
        return f"{text}, column {col + 1} (key '{tokens[col]}')"
    if not by_key and col < problem.d_k:
        return f"{text}, column {col + 1} (d{col + 1})"
    return f"{text}, column {col + 1}"
