"""Exercises, their test cases and their verdicts, and ``evaluate`` which ties them together.

An :class:`Exercise` makes fresh random :class:`Case` s from a seed; ``runner.call_target`` runs
the learner's code on one case; :meth:`Exercise.judge` compares what came back with a float64
reference and names the misconception that explains the difference (a :class:`Result`). The batch
grader runs the same three steps with the middle one in a sandboxed process.
"""

from __future__ import annotations

import inspect
import re
import secrets
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from attention_lab.exercises import compare, solutions
from attention_lab.exercises.runner import INPUT_COPY_PREFIX, call_target
from attention_lab.inert import inert
from attention_lab.misconceptions import GENERIC, MISCONCEPTIONS


@dataclass(frozen=True)
class Result:
    """A verdict: ``diagnosis`` is an id of ``DIAGNOSES``; ``message`` says what was expected and
    what was found (shapes, the first differing row), never a reference value."""

    passed: bool
    diagnosis: str
    message: str
    also: tuple[str, ...] = ()  # the other diagnoses found on other cases, most serious first
    parts: tuple[PartScore, ...] = ()  # per part of an exercise with several parts

    @property
    def explanation(self) -> str:
        """The learner-facing explanation of the diagnosis."""
        return MISCONCEPTIONS[self.diagnosis]


@dataclass(frozen=True)
class Part:
    """A separately credited part of an exercise: its cases carry ``Case.part == id``."""

    id: str
    title: str
    points: float


@dataclass(frozen=True)
class PartScore:
    """How one part went: ``passed`` of ``total`` cases, ``score`` of ``points``."""

    id: str
    title: str
    points: float
    passed: int
    total: int

    @property
    def score(self) -> float:
        return round(self.points * self.passed / self.total, 2) if self.total else 0.0


@dataclass(frozen=True)
class Case:
    """One call of the learner's code: ``call`` says how (JSON-serialisable, see ``runner``),
    ``inputs`` holds the tensors it names."""

    call: dict
    inputs: dict[str, Tensor]
    part: str = ""  # the Part it belongs to ("" = the exercise's first part)

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
    parts: tuple[Part, ...] = ()  # separately credited parts; () = one part, the whole exercise

    def __post_init__(self) -> None:
        if self.parts and abs(sum(p.points for p in self.parts) - self.points) > 1e-9:
            raise ValueError(
                f"parts: expected points adding up to the exercise's {self.points}, got "
                f"{' + '.join(f'{p.points:g}' for p in self.parts)}"
            )

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

    def part_scores(self, cases: Sequence[Case], passed: Sequence[bool]) -> tuple[PartScore, ...]:
        """Each part's score, from which of ``cases`` passed (the grader's gradebook uses it)."""
        if len(cases) != len(passed):
            raise ValueError(
                f"passed: expected {len(cases)} flags, one per case, got {len(passed)}"
            )
        parts = self.parts or (Part("", self.title, float(self.points)),)
        first = parts[0].id
        scores = []
        for part in parts:
            flags = [ok for case, ok in zip(cases, passed) if (case.part or first) == part.id]
            scores.append(PartScore(part.id, part.title, part.points, sum(flags), len(flags)))
        return tuple(scores)

    def combine(self, results: Sequence[Result], cases: Sequence[Case] | None = None) -> Result:
        """One verdict for all cases, never contradicting any of them.

        It leads with the most serious finding (an interface mismatch, then a pattern across the
        cases such as "works for 3-D inputs only", then a named misconception, then a crash, then
        a generic difference, and last a separately credited edge-case part), lists the other
        findings and says how many cases passed. ``cases`` (parallel to ``results``) enables the
        patterns and the per-part scores.
        """
        if not results:
            raise ValueError("results: expected at least one Result, got none")
        if cases is not None and len(cases) != len(results):
            raise ValueError(f"cases: expected {len(results)} cases, got {len(cases)}")
        n, passed = len(results), sum(r.passed for r in results)
        parts = self.part_scores(cases, [r.passed for r in results]) if cases else ()
        part_text = _parts_text(parts) if len(parts) > 1 else ""
        if passed == n:
            return Result(
                True, "correct", f"All {n} cases match the reference.{part_text}", (), parts
            )
        stop = next((r for r in results if r.diagnosis in _STOPS), None)
        if stop is not None:  # the same on every case
            return Result(False, stop.diagnosis, stop.message, (), parts)
        findings = [(r, c) for r, c in zip(results, cases or [None] * n) if not r.passed]
        pattern = find_pattern(results, cases) if cases else None
        if pattern is not None:
            findings = [(pattern, None)] + [
                (r, c) for r, c in findings if r.diagnosis not in GENERIC
            ]
        findings.sort(key=lambda rc: (self._severity(*rc), -len(rc[0].also)))  # compound first
        lead = findings[0][0]
        others: list[Result] = []
        for r, _ in findings[1:]:
            if r.diagnosis != lead.diagnosis and r.diagnosis not in [o.diagnosis for o in others]:
                others.append(r)
        message = lead.message
        if others:
            message += " Also: " + " ".join(f"[{o.diagnosis}] {o.message}" for o in others)
        message += f" ({passed} of {n} cases passed.){part_text}"
        also = [*lead.also]
        for d in [d for o in others for d in (o.diagnosis, *o.also)]:
            if d != lead.diagnosis and d not in also:
                also.append(d)
        return Result(False, lead.diagnosis, message, tuple(also), parts)

    def _severity(self, result: Result, case: Case | None) -> int:
        if self.parts and case is not None and case.part not in ("", self.parts[0].id):
            return 5  # an edge case credited on its own comes after everything else
        if result.diagnosis in INTERFACE:
            return 0
        if case is None:  # a pattern across the cases
            return 1
        if result.diagnosis not in GENERIC:
            return 2
        return 3 if result.diagnosis == "raises_error" else 4


# diagnoses that say the code does not fit the exercise's call, whatever its maths
INTERFACE = (
    "constructor_signature",
    "call_signature",
    "returns_output_only",
    "wrong_return_type",
    "wrong_parameters",
    "shared_projection",
    "mask_additive",
    "mask_shape",
    "modifies_inputs",
    "dropout_in_eval",
)
_STOPS = ("not_attempted", "wrong_target_kind")


def _parts_text(parts: Sequence[PartScore]) -> str:
    """Each part's cases and credit, e.g. " Part 'masking': all 4 cases passed (full credit)."."""
    text = ""
    for p in parts:
        credit = "full" if p.passed == p.total else ("no" if p.passed == 0 else "partial")
        if p.total == 1:
            cases = "its case passed" if p.passed else "its case failed"
        else:
            count = f"all {p.total}" if p.passed == p.total else f"{p.passed} of {p.total}"
            cases = f"{count} cases passed"
        text += f" Part '{p.title}': {cases} ({credit} credit)."
    return text


def _first_tensor(case: Case, position: int) -> Tensor | None:
    args = case.call.get("args", [])
    if position < len(args) and isinstance(args[position], str):
        return case.inputs.get(args[position])
    return None


def find_pattern(results: Sequence[Result], cases: Sequence[Case]) -> Result | None:
    """A failure that only some kinds of case show: one input rank, or T_q != T_k, or one mask
    shape. Only crashes and generic differences count: a named misconception explains itself."""
    failed = [not r.passed for r in results]
    if not any(failed) or all(failed):
        return None
    if any(r.diagnosis not in GENERIC for r in results if not r.passed):
        return None

    def splits(key: Callable[[Case], object]) -> tuple[set, set] | None:
        good = {key(c) for c, bad in zip(cases, failed) if not bad}
        bad = {key(c) for c, bad in zip(cases, failed) if bad}
        return (good, bad) if good and bad and not good & bad and None not in good | bad else None

    def rank(case: Case) -> int | None:
        t = _first_tensor(case, 0)
        return None if t is None else t.dim()

    def lengths(case: Case) -> str | None:
        q, k = _first_tensor(case, 0), _first_tensor(case, 1)
        if q is None or k is None or q.dim() < 2 or k.dim() < 2:
            return None
        return "T_q == T_k" if q.shape[-2] == k.shape[-2] else "T_q != T_k"

    def mask_shape(case: Case) -> str | None:
        if not any(isinstance(c.inputs.get("mask"), Tensor) for c in cases):
            return None  # an exercise without masks
        mask = case.inputs.get("mask")
        return "no mask" if mask is None else compare.shape(mask)

    example = next(r for r in results if not r.passed)
    detail = example.message.split(": ", 1)[-1]
    found = splits(rank)
    if found is not None:
        good, bad = (", ".join(f"{d}-D" for d in sorted(s)) for s in found)
        text = f"the code works on {good} inputs and fails on {bad} inputs (for example: {detail})"
        return Result(False, "one_rank_only", text[0].upper() + text[1:])
    found = splits(lengths)
    if found is not None:
        text = f"the code works when T_q == T_k and fails when T_q != T_k (for example: {detail})"
        return Result(False, "assumes_equal_lengths", text[0].upper() + text[1:])
    found = splits(mask_shape)
    if found is not None:
        good, bad = (" and ".join(sorted(s)).replace("no mask and ", "") for s in found)
        if "no mask" in found[0]:
            good = "no mask" + ("" if good == "no mask" else f" and with masks of shape {good}")
        else:
            good = f"masks of shape {good}"
        text = f"the code works with {good} and fails with masks of shape {bad} (for example: {detail})"
        return Result(False, "mask_shape", text[0].upper() + text[1:])
    return None


def _same(after: Tensor, before: Tensor) -> bool:
    return (
        after.shape == before.shape and after.dtype == before.dtype and torch.equal(after, before)
    )


def _judge_error(case: Case, error: str, target: str) -> Result:
    kind, _, text = error.partition(":")
    # the submission wrote this text: one line (no escaped line breaks), made inert
    kind, text = inert(kind.strip()), inert(" ".join(text.split()))
    if kind == "NotImplementedError":
        return Result(False, "not_attempted", "Not attempted yet (it raises NotImplementedError).")
    if kind == "WrongTargetError":  # the same on every case, so the case is not named
        return Result(False, "wrong_target_kind", f"{target}: {_shorten(text, 300)}.")
    if kind == "SignatureMismatchError":
        diagnosis = (
            "constructor_signature" if text.startswith("the constructor") else "call_signature"
        )
        return verdict(case, diagnosis, f"{_shorten(text, 400)}.")
    if kind == "NondeterministicError":
        return verdict(case, "dropout_in_eval", f"{_shorten(text, 300)}.")
    if kind == "BadReturnValueError":
        outputs = case.call.get("outputs", [])
        if outputs[:2] == ["output", "weights"] and "got a tensor" in text:
            return verdict(
                case, "returns_output_only", f"{text}: return {', '.join(outputs)} in that order."
            )
        if len(outputs) > 1 and "got a tensor" in text:  # e.g. torch.stack([q, k, v])
            return verdict(
                case,
                "wrong_return_type",
                f"{text}: return the {len(outputs)} tensors as a tuple, "
                f"{', '.join(outputs)}, in that order.",
            )
        return verdict(case, "wrong_return_type", f"{text}.")
    if kind == "ParameterMismatchError":
        detail = _shorten(" ".join(text.split()), 600)
        diagnosis = _parameter_diagnosis(case, text)
        if diagnosis == "shared_projection":
            D, H = case.call["init"]["d_model"], case.call["init"]["num_heads"]
            detail = (
                f"a projection maps d_model = {D} to one head's d_k = {D // H} and so is shared by "
                f"all {H} heads; expected ({D}, {D}) weights, one d_k slice per head. "
                f"{detail[:1].upper()}{detail[1:]}"
            )
        return verdict(case, diagnosis, detail if detail.endswith(".") else f"{detail}.")
    mask = case.inputs.get("mask")
    reshaped = re.match(r"shape '\[[-0-9, ]*\]' is invalid for input of size (\d+)", text)
    if mask is not None and reshaped is not None and int(reshaped.group(1)) == mask.numel():
        return verdict(
            case,
            "mask_shape",
            f"it raised {kind}: {_shorten(text, 200)}. The mask of shape {compare.shape(mask)} "
            f"has {mask.numel()} elements: it was probably reshaped (view/reshape) to one fixed "
            "layout. Use the mask as it comes: masked_fill broadcasts it against the scores.",
        )
    hint = ""
    if "shape" in text or "size" in text or "must match" in text:
        hint = " Two tensors did not fit together: check every transpose and reshape"
        hint += (
            f", and that the mask of shape {compare.shape(mask)} is used as it comes."
            if (mask is not None)
            else "."
        )
    return verdict(case, "raises_error", f"it raised {kind}: {_shorten(text, 300)}.{hint}")


def _parameter_diagnosis(case: Case, text: str) -> str:
    """``shared_projection`` when W_q, W_k or W_v maps d_model to one head's d_k, else
    ``wrong_parameters``."""
    init = case.call.get("init", {})
    D, H = init.get("d_model"), init.get("num_heads")
    if not isinstance(D, int) or not isinstance(H, int) or H < 2:
        return "wrong_parameters"
    found = text.rpartition("has ")[2]
    if re.search(rf"W_[qkv]\.weight \({D // H}, {D}\)", found):
        return "shared_projection"
    return "wrong_parameters"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 4]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " ..."


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
    results, cases = [], exercise.cases(seed)
    for case in cases:
        result = run_case(exercise, case, candidate)
        results.append(result)
        if result.diagnosis in _STOPS:  # no other case differs
            break
    return exercise.combine(results, cases[: len(results)])


def solution_source(name: str, target: str | None = None) -> str:
    """The source of a model answer in ``solutions.py``, renamed to ``target`` when given."""
    source = inspect.getsource(getattr(solutions, name))
    if target is not None:
        source = source.replace(f"def {name}(", f"def {target}(", 1)
    return source
