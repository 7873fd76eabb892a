"""Exercises, their test cases and their verdicts, and ``evaluate`` which ties them together.

An :class:`Exercise` makes fresh random :class:`Case` s from a seed; ``runner.call_target`` runs
the learner's code on one case; :meth:`Exercise.judge` compares what came back with a float64
reference and names the misconception that explains the difference (a :class:`Result`). The batch
grader runs the same three steps with the middle one in a sandboxed process.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from attention_lab.exercises import compare, solutions
from attention_lab.exercises.diagnoses import DIAGNOSES, GENERIC
from attention_lab.exercises.runner import INPUT_COPY_PREFIX, call_target


@dataclass(frozen=True)
class Result:
    """A verdict: ``diagnosis`` is an id of ``DIAGNOSES``; ``message`` says what was expected and
    what was found (shapes, the first differing row), never a reference value."""

    passed: bool
    diagnosis: str
    message: str

    @property
    def explanation(self) -> str:
        """The learner-facing explanation of the diagnosis."""
        return DIAGNOSES[self.diagnosis]


@dataclass(frozen=True)
class Case:
    """One call of the learner's code: ``call`` says how (JSON-serialisable, see ``runner``),
    ``inputs`` holds the tensors it names."""

    call: dict
    inputs: dict[str, Tensor]

    @property
    def label(self) -> str:
        """A short description of the call for messages, e.g. ``q (2, 5, 8), k (2, 7, 8)``."""
        parts = []
        for spec in self.call.get("args", []):
            if isinstance(spec, dict):
                value = repr(spec["const"])
                parts.append(f"{spec['name']}={value}" if "name" in spec else value)
            else:
                parts.append(f"{spec} {compare.shape(self.inputs[spec])}")
        text = ", ".join(parts)
        if self.call.get("kind") == "class":
            init = ", ".join(f"{key}={value}" for key, value in self.call.get("init", {}).items())
            text = f"init({init}), then forward({text})"
        return text

    def tensor(self, name: str) -> Tensor:
        """An input in float64, for the reference."""
        return self.inputs[name].double()


Diagnose = Callable[[Case, dict[str, Tensor]], Result]


def verdict(case: Case, diagnosis: str, detail: str = "") -> Result:
    """A Result for one case, its message prefixed with the case."""
    message = f"On {case.label}: {detail}" if detail else f"On {case.label}."
    return Result(passed=diagnosis == "correct", diagnosis=diagnosis, message=message)


def generic(case: Case, pairs: dict[str, tuple[Tensor, Tensor]], row: str = "query") -> Result:
    """The fallback verdict when no misconception explains the answer.

    ``pairs`` maps each output name to ``(found, expected)``.
    """
    for name, (found, expected) in pairs.items():
        if tuple(found.shape) != tuple(expected.shape):
            return verdict(
                case,
                "shape_mismatch",
                f"expected {name} of shape {compare.shape(expected)}, found {compare.shape(found)}.",
            )
    for name, (found, expected) in pairs.items():
        if compare.non_finite(found) and not compare.non_finite(expected):
            return verdict(
                case,
                "non_finite_output",
                f"{name} contains NaN or inf; {compare.first_difference(name, found, expected, row)}.",
            )
    for name, (found, expected) in pairs.items():
        if not compare.close(found, expected):
            return verdict(
                case,
                "wrong_values",
                f"{name} has the expected shape {compare.shape(expected)} but not the expected "
                f"values; {compare.first_difference(name, found, expected, row)}.",
            )
    return verdict(case, "correct")


@dataclass(frozen=True, eq=False)
class Exercise:
    """One exercise: what the learner defines (``target``), how it is called and judged."""

    id: str
    title: str
    target: str  # the name the learner defines
    kind: str  # "function" | "class"
    objectives: tuple[str, ...]  # learning objective ids, e.g. ("3.4.3",)
    points: int
    prompt: str  # what the exercise asks, in Markdown
    hints: tuple[str, ...]  # hint(1), hint(2), ...
    solution: str  # a model answer, Python source
    diagnoses: tuple[str, ...]  # the misconceptions this exercise can name
    make_cases: Callable[[torch.Generator], list[Case]]
    diagnose: Diagnose  # outputs of one case (no error, inputs untouched) -> Result

    def cases(self, seed: int) -> list[Case]:
        """Fresh random cases: several shapes and batch dimensions, T_q != T_k where it applies."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__} {seed!r}")
        return self.make_cases(torch.Generator().manual_seed(seed))

    def judge(self, case: Case, outputs: dict[str, Tensor] | None, error: str | None) -> Result:
        """The verdict on one case, from the outputs alone (``error``: "ExcType: message")."""
        if error is not None:
            return _judge_error(case, error, self.target)
        if outputs is None:
            raise ValueError("outputs: expected the output tensors when error is None, got None")
        changed = [
            name
            for name, tensor in case.inputs.items()
            if INPUT_COPY_PREFIX + name in outputs
            and not _same(outputs[INPUT_COPY_PREFIX + name], tensor)
        ]
        if changed:
            return verdict(
                case, "modifies_inputs", f"after the call, {', '.join(changed)} had changed."
            )
        return self.diagnose(case, outputs)

    def combine(self, results: Sequence[Result]) -> Result:
        """One verdict for all cases: the most specific failure, or correct if all passed."""
        if not results:
            raise ValueError("results: expected at least one Result, got none")
        failures = [r for r in results if not r.passed]
        if not failures:
            return Result(True, "correct", f"All {len(results)} cases match the reference.")
        for wanted in (
            lambda r: r.diagnosis == "not_attempted",
            lambda r: r.diagnosis not in GENERIC,
            lambda r: True,
        ):
            chosen = next((r for r in failures if wanted(r)), None)
            if chosen is not None:
                passed = len(results) - len(failures)
                note = f" ({passed} of {len(results)} cases passed.)" if passed else ""
                return Result(False, chosen.diagnosis, chosen.message + note)
        raise AssertionError("unreachable")


def _same(after: Tensor, before: Tensor) -> bool:
    return (
        after.shape == before.shape and after.dtype == before.dtype and torch.equal(after, before)
    )


def _judge_error(case: Case, error: str, target: str) -> Result:
    kind, _, text = error.partition(":")
    text = text.strip()
    if kind == "NotImplementedError":
        return Result(False, "not_attempted", "Not attempted yet (it raises NotImplementedError).")
    if kind == "WrongTargetError":  # the same on every case, so the case is not named
        return Result(False, "wrong_target_kind", f"{target}: {_shorten(text, 300)}.")
    if kind == "BadReturnValueError":
        return verdict(case, "wrong_return_type", f"{text}.")
    if kind == "ParameterMismatchError":
        return verdict(case, "wrong_parameters", _shorten(" ".join(text.split()), 600))
    hint = ""
    if "shape" in text or "size" in text or "must match" in text:
        hint = " Two tensors did not fit together: check every transpose and reshape."
    return verdict(case, "raises_error", f"it raised {kind}: {_shorten(text, 300)}.{hint}")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_case(exercise: Exercise, case: Case, candidate: object) -> Result:
    """Run ``candidate`` on one case in this process and judge it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outputs = call_target(candidate, case.call, case.inputs)
    except Exception as error:  # the learner's code may raise anything: that is a verdict
        return exercise.judge(case, None, f"{type(error).__name__}: {error}")
    return exercise.judge(case, outputs, None)


def evaluate_exercise(exercise: Exercise, candidate: object, seed: int | None = None) -> Result:
    if candidate is None:
        return Result(False, "not_attempted", f"Not attempted yet: define {exercise.target}.")
    if seed is None:
        seed = secrets.randbelow(2**31)  # fresh inputs every time: no answer can be memorised
    results = []
    for case in exercise.cases(seed):
        result = run_case(exercise, case, candidate)
        results.append(result)
        if result.diagnosis in ("not_attempted", "wrong_target_kind"):  # no other case differs
            break
    return exercise.combine(results)


def solution_source(name: str, target: str | None = None) -> str:
    """The source of a model answer in ``solutions.py``, renamed to ``target`` when given."""
    import inspect

    source = inspect.getsource(getattr(solutions, name))
    if target is not None:
        source = source.replace(f"def {name}(", f"def {target}(", 1)
    return source
