"""The question schema: what a question file may contain, checked field by field.

A question bank file (``questions/*.yaml``) is a mapping with ``topic`` and ``questions``.
Each question is a mapping with these fields::

    id:           unique slug (letters, digits, '-')                      required
    type:         single | multiple | numeric | text                      required
    objectives:   list of objective ids, e.g. ["3.2.3"]                   required, >= 1
    prompt:       the question (Markdown, plain text maths)                required
    explanation:  why the answer is what it is, shown after answering    required
    points:       positive number                                         default 1
    figure:       name of a figure in `attention_lab.assessment.figures`  optional
    # single / multiple
    choices:      list of {text, correct (default false), feedback}       >= 2; single: exactly
                  one correct; multiple: >= 1 correct and >= 1 incorrect; feedback required
    # numeric
    answer:       number;  tolerance: number >= 0 (|response - answer| <= tolerance)
    check:        optional recomputation with the library (tests verify `answer` with it)
    # text
    accept:       list of accepted answers (compared case- and space-insensitively)
    # numeric and text
    feedback:     {correct: ..., incorrect: ...}                          required
    wrong_answers: list of {value (numeric) | text (text), tolerance?, feedback}: feedback for
                  known mistakes

Errors are `QuestionSchemaError` (a ValueError) naming the file, the question and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from attention_lab.assessment.figures import FIGURES

QUESTION_TYPES = ("single", "multiple", "numeric", "text")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COMMON = {"id", "type", "objectives", "prompt", "explanation", "points", "figure"}
_ALLOWED = {
    "single": _COMMON | {"choices"},
    "multiple": _COMMON | {"choices"},
    "numeric": _COMMON | {"answer", "tolerance", "check", "feedback", "wrong_answers"},
    "text": _COMMON | {"accept", "feedback", "wrong_answers"},
}


class QuestionSchemaError(ValueError):
    """A question file does not follow the schema."""


@dataclass(frozen=True)
class Choice:
    id: str  # "a", "b", ... in file order; shuffling never changes it
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class WrongAnswer:
    value: float | str
    tolerance: float
    feedback: str


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    objectives: tuple[str, ...]
    prompt: str
    explanation: str
    points: float = 1.0
    figure: str | None = None
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float = 0.0
    accept: tuple[str, ...] = ()
    feedback_correct: str = ""
    feedback_incorrect: str = ""
    wrong_answers: tuple[WrongAnswer, ...] = ()
    check: Mapping | None = field(default=None, hash=False, compare=False)
    source: str = ""

    @property
    def correct_choices(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.choices if c.correct)

    def correct_response(self) -> object:
        """A response that earns full marks (for tests, exports and answer keys)."""
        if self.type == "single":
            return self.correct_choices[0]
        if self.type == "multiple":
            return list(self.correct_choices)
        if self.type == "numeric":
            return self.answer
        return self.accept[0]


def _fail(where: str, message: str) -> QuestionSchemaError:
    return QuestionSchemaError(f"{where}: {message}")


def _text(raw: Mapping, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"field {key!r}: expected a non-empty string, got {value!r}")
    return value.strip()


def _number(value: object, where: str, key: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"field {key!r}: expected a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise _fail(where, f"field {key!r}: expected a number >= {minimum}, got {value!r}")
    return float(value)


def validate_question(raw: object, source: str, objective_ids: Iterable[str]) -> Question:
    """Check one raw question mapping against the schema; return the Question."""
    if not isinstance(raw, Mapping):
        raise _fail(source, f"each question must be a mapping, got {type(raw).__name__}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise _fail(source, f"field 'id': expected a lowercase slug like 'scale-why', got {qid!r}")
    where = f"{source}: question {qid!r}"
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        raise _fail(where, f"field 'type': expected one of {QUESTION_TYPES}, got {qtype!r}")
    unknown = sorted(set(raw) - _ALLOWED[qtype])
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown} for a {qtype} question")
    known = set(objective_ids)
    objectives = raw.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise _fail(where, f"field 'objectives': expected a non-empty list, got {objectives!r}")
    for objective in objectives:
        if objective not in known:
            raise _fail(where, f"field 'objectives': unknown objective id {objective!r}")
    points = _number(raw.get("points", 1), where, "points", minimum=0)
    if points == 0:
        raise _fail(where, "field 'points': expected a positive number, got 0")
    figure = raw.get("figure")
    if figure is not None:
        if figure not in FIGURES:
            raise _fail(where, f"field 'figure': expected one of {sorted(FIGURES)}, got {figure!r}")
    common = {
        "id": qid,
        "type": qtype,
        "objectives": tuple(objectives),
        "prompt": _text(raw, "prompt", where),
        "explanation": _text(raw, "explanation", where),
        "points": points,
        "figure": figure,
        "source": source,
    }
    if qtype in ("single", "multiple"):
        return Question(**common, choices=_choices(raw, qtype, where))
    feedback = raw.get("feedback")
    if not isinstance(feedback, Mapping):
        raise _fail(where, f"field 'feedback': expected {{correct, incorrect}}, got {feedback!r}")
    extra = {
        "feedback_correct": _text(feedback, "correct", where + " feedback"),
        "feedback_incorrect": _text(feedback, "incorrect", where + " feedback"),
        "wrong_answers": _wrong_answers(raw.get("wrong_answers", []), qtype, where),
    }
    if qtype == "numeric":
        check = raw.get("check")
        if check is not None and not isinstance(check, Mapping):
            raise _fail(where, f"field 'check': expected a mapping, got {check!r}")
        return Question(
            **common,
            **extra,
            answer=_number(raw.get("answer"), where, "answer"),
            tolerance=_number(raw.get("tolerance", 0), where, "tolerance", minimum=0),
            check=dict(check) if check else None,
        )
    accept = raw.get("accept")
    if not isinstance(accept, list) or not accept or not all(isinstance(a, str) for a in accept):
        raise _fail(where, f"field 'accept': expected a non-empty list of strings, got {accept!r}")
    return Question(**common, **extra, accept=tuple(a.strip() for a in accept))


def _choices(raw: Mapping, qtype: str, where: str) -> tuple[Choice, ...]:
    items = raw.get("choices")
    if not isinstance(items, list) or len(items) < 2:
        raise _fail(where, f"field 'choices': expected a list of at least 2, got {items!r}")
    if len(items) > 26:
        raise _fail(where, f"field 'choices': at most 26 choices, got {len(items)}")
    choices = []
    for index, item in enumerate(items):
        at = f"{where} choice {index + 1}"
        if not isinstance(item, Mapping) or set(item) - {"text", "correct", "feedback"}:
            raise _fail(at, f"expected a mapping with text, correct, feedback; got {item!r}")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            raise _fail(at, f"field 'correct': expected true or false, got {correct!r}")
        choices.append(
            Choice(
                chr(ord("a") + index), _text(item, "text", at), correct, _text(item, "feedback", at)
            )
        )
    n_correct = sum(c.correct for c in choices)
    if qtype == "single" and n_correct != 1:
        raise _fail(
            where, f"a single-choice question needs exactly 1 correct choice, got {n_correct}"
        )
    if qtype == "multiple" and not 1 <= n_correct < len(choices):
        raise _fail(
            where,
            f"a multiple-choice question needs >= 1 correct and >= 1 incorrect choice, "
            f"got {n_correct} correct of {len(choices)}",
        )
    texts = [c.text for c in choices]
    if len(set(texts)) != len(texts):
        raise _fail(where, "field 'choices': two choices have the same text")
    return tuple(choices)


def _wrong_answers(items: object, qtype: str, where: str) -> tuple[WrongAnswer, ...]:
    if not isinstance(items, list):
        raise _fail(where, f"field 'wrong_answers': expected a list, got {items!r}")
    out = []
    key = "value" if qtype == "numeric" else "text"
    for item in items:
        if not isinstance(item, Mapping) or key not in item or "feedback" not in item:
            raise _fail(where, f"field 'wrong_answers': expected {{{key}, feedback}}, got {item!r}")
        if qtype == "numeric":
            value: float | str = _number(item[key], where, "wrong_answers.value")
            tolerance = _number(item.get("tolerance", 0), where, "wrong_answers.tolerance", 0)
        else:
            value, tolerance = _text(item, "text", where), 0.0
        out.append(WrongAnswer(value, tolerance, _text(item, "feedback", where)))
    return tuple(out)
