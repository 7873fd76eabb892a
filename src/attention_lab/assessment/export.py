"""Export the question bank for an LMS: `export_questions(fmt, out)`.

- Moodle GIFT (`attention_lab.assessment.gift`)
- Canvas QTI 1.2 zip through text2qti (`attention_lab.assessment.qti`)
- jupyterquiz JSON (`attention_lab.assessment.jupyterquiz`)

Each format has a reader next to its writer, so tests (and instructors) can check that what was
written parses back to the same questions and answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from attention_lab.assessment.bank import load_questions
from attention_lab.assessment.gift import parse_gift, to_gift
from attention_lab.assessment.jupyterquiz import parse_jupyterquiz, to_jupyterquiz
from attention_lab.assessment.qti import parse_qti, to_qti, to_text2qti
from attention_lab.assessment.schema import Question
from attention_lab.files import write_atomic

FORMATS = ("gift", "qti", "json")

__all__ = [
    "FORMATS",
    "export_questions",
    "parse_gift",
    "parse_jupyterquiz",
    "parse_qti",
    "to_gift",
    "to_jupyterquiz",
    "to_qti",
    "to_text2qti",
]


def export_questions(fmt: str, out: Path, questions: Sequence[Question] | None = None) -> Path:
    """Write the bank (or `questions`) to `out` in `fmt` (gift, qti or json), in one step."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected one of {FORMATS}, got {fmt!r}")
    questions = list(questions) if questions is not None else load_questions()
    if fmt == "gift":
        data: str | bytes = to_gift(questions)
    elif fmt == "qti":
        data = to_qti(questions)
    else:
        data = json.dumps(to_jupyterquiz(questions), indent=1, ensure_ascii=False)
    return write_atomic(Path(out), data)
