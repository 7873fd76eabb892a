"""The quiz engine: score a response, keep an answer sheet, grade a folder of answer sheets.

Responses: single -> a choice id ("b"); multiple -> a list of choice ids; numeric -> a number;
text -> a string. Choice ids are the file order ("a", "b", ...), so shuffling the display never
changes what is recorded. Answer sheets are JSON files (format ``ANSWERS_FORMAT``) that the
notebook, terminal and web quizzes all write; `grade_answers_dir` re-scores every response from
the bank and ignores whatever scores a sheet claims.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from attention_lab.assessment.bank import bank_version, load_questions
from attention_lab.assessment.schema import Question
from attention_lab.files import check_output_file, write_atomic, write_csv_atomic

ANSWERS_FORMAT = "attention-lab-quiz-answers/1"


@dataclass(frozen=True)
class Feedback:
    correct: bool
    score: float  # points earned, between 0 and question.points
    message: str  # feedback on this response
    explanation: str  # the question's explanation


def normalize_text(text: str) -> str:
    """Lower case, Unicode-normalised, spaces collapsed, surrounding punctuation dropped."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .,;:!?\"'`")


def parse_number(response: object) -> float | None:
    if isinstance(response, bool):
        return None
    if isinstance(response, (int, float)):
        value = float(response)
    else:
        try:
            value = float(str(response).strip().replace(",", ""))
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def check_answer(question: Question, response: object) -> Feedback:
    """Score `response` to `question` and say why (never raises for a malformed response)."""
    if question.type == "single":
        return _single(question, response)
    if question.type == "multiple":
        return _multiple(question, response)
    if question.type == "numeric":
        return _numeric(question, response)
    return _text(question, response)


def _single(question: Question, response: object) -> Feedback:
    by_id = {c.id: c for c in question.choices}
    if not isinstance(response, str) or response not in by_id:
        return Feedback(False, 0.0, "Choose one of the options.", question.explanation)
    choice = by_id[response]
    return Feedback(
        choice.correct,
        question.points if choice.correct else 0.0,
        choice.feedback,
        question.explanation,
    )


def _multiple(question: Question, response: object) -> Feedback:
    by_id = {c.id: c for c in question.choices}
    if isinstance(response, str):
        response = [response]
    if not isinstance(response, (list, tuple)) or not all(r in by_id for r in response):
        return Feedback(False, 0.0, "Select the options that apply.", question.explanation)
    chosen = set(response)
    right = set(question.correct_choices)
    # Partial credit as Moodle computes it: +1/|right| per correct pick, -1/|right| per wrong one.
    fraction = max(0.0, (len(chosen & right) - len(chosen - right)) / len(right))
    lines = [f"{by_id[c].text}: {by_id[c].feedback}" for c in sorted(chosen)]
    missed = len(right - chosen)
    if missed:
        lines.append(f"You missed {missed} correct option{'s' if missed > 1 else ''}.")
    if not chosen:
        lines.append("You selected nothing.")
    return Feedback(
        chosen == right,
        round(question.points * fraction, 4),
        "\n".join(lines),
        question.explanation,
    )


def _numeric(question: Question, response: object) -> Feedback:
    value = parse_number(response)
    if value is None:
        return Feedback(False, 0.0, f"Enter a number (got {response!r}).", question.explanation)
    assert question.answer is not None
    # A small relative slack absorbs float round-off in the comparison itself.
    if abs(value - question.answer) <= question.tolerance + 1e-9 * max(1.0, abs(question.answer)):
        return Feedback(True, question.points, question.feedback_correct, question.explanation)
    for wrong in question.wrong_answers:
        if abs(value - float(wrong.value)) <= wrong.tolerance + 1e-9:
            return Feedback(False, 0.0, wrong.feedback, question.explanation)
    return Feedback(False, 0.0, question.feedback_incorrect, question.explanation)


def _text(question: Question, response: object) -> Feedback:
    given = normalize_text(str(response)) if response is not None else ""
    if given and given in {normalize_text(a) for a in question.accept}:
        return Feedback(True, question.points, question.feedback_correct, question.explanation)
    for wrong in question.wrong_answers:
        if given == normalize_text(str(wrong.value)):
            return Feedback(False, 0.0, wrong.feedback, question.explanation)
    return Feedback(False, 0.0, question.feedback_incorrect, question.explanation)


def shuffled(items: Sequence, rng: random.Random) -> list:
    out = list(items)
    rng.shuffle(out)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class AnswerSheet:
    """What one learner answered; saved as JSON after every answer, atomically."""

    learner: str
    path: Path | None = None
    mode: str = "practice"  # practice (notebook, web, terminal): official grades come from graders
    started: str = field(default_factory=_now)
    answers: dict[str, dict] = field(default_factory=dict)

    def record(self, question: Question, response: object) -> Feedback:
        feedback = check_answer(question, response)
        if isinstance(response, tuple):
            response = list(response)
        self.answers[question.id] = {
            "response": response,
            "score": feedback.score,
            "points": question.points,
            "time": _now(),
        }
        if self.path is not None:
            self.save(self.path)
        return feedback

    def to_dict(self) -> dict:
        return {
            "format": ANSWERS_FORMAT,
            "learner": self.learner,
            "mode": self.mode,
            "bank_version": bank_version(),
            "started": self.started,
            "saved": _now(),
            "answers": self.answers,
        }

    def save(self, path: Path) -> None:
        """Write the sheet to `path` in one step, readable like any file the learner writes."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: Path) -> AnswerSheet:
        """The sheet saved in `path`, to answer more questions into it; ValueError if malformed."""
        path = Path(path)
        data = _read_answers_file(path)
        answers: dict[str, dict] = {}
        for qid, entry in data["answers"].items():
            if not (
                isinstance(entry, dict)
                and all(_is_number(entry.get(key)) for key in ("score", "points"))
            ):
                # continuing would drop or miscount it: better to leave the file alone
                raise ValueError(f"{path.name}: answer {qid!r} lacks a numeric score and points")
            answers[str(qid)] = entry
        return cls(
            learner=str(data.get("learner") or path.stem),
            path=path,
            mode=str(data.get("mode") or "practice"),
            started=str(data.get("started") or _now()),
            answers=answers,
        )

    @property
    def score(self) -> float:
        return round(sum(a["score"] for a in self.answers.values()), 4)


def read_answer_sheet(path: Path) -> tuple[str, dict[str, object]]:
    """(learner, {question_id: response}) from an answers file; ValueError if malformed."""
    data = _read_answers_file(Path(path))
    learner = str(data.get("learner") or Path(path).stem)
    return learner, {
        str(qid): entry.get("response")
        for qid, entry in data["answers"].items()
        if isinstance(entry, dict)
    }


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_answers_file(path: Path) -> dict:
    """The JSON of an answers file, with its format and 'answers' mapping checked."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name}: not a JSON answers file ({error})") from None
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT:
        raise ValueError(f"{path.name}: expected format {ANSWERS_FORMAT!r}")
    if not isinstance(data.get("answers"), dict):
        raise ValueError(f"{path.name}: 'answers' must be a mapping")
    return data


def grade_answers_dir(
    answers_dir: Path, out: Path, questions: Sequence[Question] | None = None
) -> list[list[object]]:
    """Grade every *.json answers file in `answers_dir`; write a CSV gradebook to `out`.

    One row per file: learner, file, status, one score column per question, total, max,
    answered. Scores are recomputed from the bank; unreadable files get a row with status
    'invalid'. A folder without answers files is refused (ValueError) before anything is
    written. Returns the rows (header first).
    """
    answers_dir = Path(answers_dir)
    if not answers_dir.is_dir():
        raise ValueError(f"answers_dir: expected a directory, got {str(answers_dir)!r}")
    paths = sorted(answers_dir.glob("*.json"))
    if not paths:
        # an empty gradebook would hide the likely mistake: the wrong folder
        raise ValueError(
            f"answers_dir: no answers files (*.json) in '{answers_dir}'; is it the right folder?"
        )
    check_output_file("out", out)
    questions = list(questions) if questions is not None else load_questions()
    maximum = round(sum(q.points for q in questions), 4)
    rows: list[list[object]] = [
        ["learner", "file", "status", *(q.id for q in questions), "total", "max", "answered"]
    ]
    for path in paths:
        try:
            learner, responses = read_answer_sheet(path)
        except (OSError, ValueError) as error:
            rows.append(
                [path.stem, path.name, f"invalid: {error}"] + [0] * len(questions) + [0, maximum, 0]
            )
            continue
        scores = [
            check_answer(q, responses[q.id]).score if q.id in responses else 0.0 for q in questions
        ]
        answered = sum(q.id in responses for q in questions)
        rows.append([learner, path.name, "ok", *scores, round(sum(scores), 4), maximum, answered])
    write_csv_atomic(Path(out), rows)
    return rows
