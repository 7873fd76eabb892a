"""The question bank: every ``questions/*.yaml`` file of this package, validated on load."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

import yaml

from attention_lab.assessment.schema import Question, QuestionSchemaError, validate_question
from attention_lab.objectives import objectives as course_objectives


def parse_bank_file(text: str, source: str, objective_ids: Iterable[str]) -> list[Question]:
    """Validate one YAML question file's text; raise QuestionSchemaError naming what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise QuestionSchemaError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise QuestionSchemaError(f"{source}: expected a mapping with a 'questions' list")
    ids = list(objective_ids)
    return [validate_question(item, source, ids) for item in raw["questions"]]


@cache
def _load() -> tuple[tuple[Question, ...], str]:
    folder = resources.files("attention_lab.assessment").joinpath("questions")
    ids = list(course_objectives())
    questions: list[Question] = []
    digest = hashlib.sha256()
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        text = entry.read_text(encoding="utf-8")
        digest.update(text.encode("utf-8"))
        questions += parse_bank_file(text, entry.name, ids)
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise QuestionSchemaError(f"{question.source}: duplicate question id {question.id!r}")
        seen.add(question.id)
    return tuple(questions), digest.hexdigest()[:12]


def bank_version() -> str:
    """A short hash of the bank files; recorded in answer files."""
    return _load()[1]


def load_questions(
    objectives: Sequence[str] | None = None, ids: Sequence[str] | None = None
) -> list[Question]:
    """The bank's questions in file order, optionally only those serving `objectives`
    (ids like "3.2.4", or a topic "3.2") or with the given question `ids`."""
    questions = list(_load()[0])
    if objectives:
        known = course_objectives()
        topics = {o.topic for o in known.values()}
        for wanted in objectives:
            if wanted not in known and wanted not in topics:
                raise ValueError(
                    f"objective: expected an objective id like 3.2.4 or a topic like 3.2, "
                    f"got {wanted!r}"
                )
        questions = [
            q
            for q in questions
            if any(o in objectives or o.rsplit(".", 1)[0] in objectives for o in q.objectives)
        ]
    if ids:
        by_id = {q.id: q for q in questions}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ValueError(f"ids: no question with id {missing[0]!r} in the bank")
        questions = [by_id[i] for i in ids]
    return questions


def get_question(question_id: str) -> Question:
    for question in _load()[0]:
        if question.id == question_id:
            return question
    raise ValueError(f"question_id: no question with id {question_id!r} in the bank")


def coverage() -> dict[str, list[str]]:
    """Objective id -> ids of the questions assessing it (every objective listed)."""
    table: dict[str, list[str]] = {o: [] for o in course_objectives()}
    for question in _load()[0]:
        for objective in question.objectives:
            table[objective].append(question.id)
    return table
