"""Objectives coverage: computed from markers and quiz questions; strict about every gap."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from attention_lab.assessment.bank import load_questions
from attention_lab.course import coverage as cov
from attention_lab.course.lessons import LESSONS_DIR, Lesson, Marker, load_all
from attention_lab.objectives import objectives


def lesson(name: str, *markers: tuple[str, tuple[str, ...], str]) -> Lesson:
    number, slug = name.split("_", 1)
    return Lesson(
        path=Path(f"{name}.py"),
        number=number,
        slug=slug,
        title=slug,
        markers=tuple(
            Marker(kind, ids, section, i) for i, (kind, ids, section) in enumerate(markers)
        ),
    )


ALL = tuple(objectives())


def full_course() -> tuple[list[Lesson], list[cov.QuizQuestion]]:
    lessons = [lesson("01_all", ("serves", ALL, "Everything"), ("hands-on", ALL, "Do it"))]
    return lessons, [cov.QuizQuestion("q1", ALL)]


def test_a_complete_course_has_no_gaps():
    lessons, questions = full_course()
    coverage = cov.compute(lessons, questions)
    assert coverage.complete() and coverage.gaps() == {}
    cov.check(coverage)  # does not raise


def test_each_missing_kind_is_named_per_objective():
    lessons = [
        lesson("01_a", ("serves", ALL, "S")),
        lesson("02_b", ("hands-on", tuple(o for o in ALL if o != "3.3.2"), "H")),
    ]
    questions = [cov.QuizQuestion("q1", tuple(o for o in ALL if o not in {"3.3.2", "3.4.4"}))]
    coverage = cov.compute(lessons, questions)
    assert coverage.gaps() == {"3.3.2": ["hands-on", "quiz"], "3.4.4": ["quiz"]}
    with pytest.raises(cov.CoverageError) as raised:
        cov.check(coverage)
    message = str(raised.value)
    assert "2 learning objective(s) not fully covered" in message
    assert "3.3.2 has no hands-on / quiz" in message and "3.4.4 has no quiz" in message
    assert raised.value.gaps == {"3.3.2": ["hands-on", "quiz"], "3.4.4": ["quiz"]}


def test_no_question_bank_means_every_quiz_cell_is_a_gap():
    lessons, _ = full_course()
    coverage = cov.compute(lessons, None)
    assert not coverage.quiz_available
    assert coverage.gaps() == {oid: ["quiz"] for oid in ALL}


def test_quiz_questions_with_unknown_objectives_are_listed():
    lessons, questions = full_course()
    coverage = cov.compute(lessons, [*questions, cov.QuizQuestion("q9", ("9.9.9",))])
    assert coverage.unknown_quiz_ids == {"q9": ["9.9.9"]}
    page = cov.render_markdown(coverage, lessons, {})
    assert "Quiz questions naming unknown objectives" in page and "`q9`: 9.9.9" in page


def test_sections_are_listed_once_per_lesson_and_section():
    twice = lesson("01_a", ("serves", ("3.1.1",), "S"), ("serves", ("3.1.1",), "S"))
    coverage = cov.compute([twice], [])
    assert coverage.lessons["3.1.1"] == [("01_a", "S")]


def test_page_links_sections_and_marks_gaps():
    lessons = [lesson("02_self_attention", ("serves", ("3.2.3",), "Scaled dot-product"))]
    coverage = cov.compute(lessons, [cov.QuizQuestion("scale-1", ("3.2.3",))])
    page = cov.render_markdown(
        coverage, lessons, {("02_self_attention", "Scaled dot-product"): "scaled"}
    )
    assert '<a href="02_self_attention.html#scaled">02: Scaled dot-product</a>' in page
    assert "`scale-1`" in page
    assert f"{len(ALL)} of {len(ALL)} learning objectives are not fully covered" in page
    row = next(line for line in page.splitlines() if line.startswith("| **3.2.3**"))
    assert row.endswith("✗ no hands-on |")
    grid = next(line for line in page.splitlines() if line.startswith("| 3.2.3 |"))
    assert grid == "| 3.2.3 | S |"
    complete = cov.render_markdown(cov.compute(*full_course()), full_course()[0], {})
    assert f"All {len(ALL)} learning objectives have a lesson section" in complete


def test_quiz_questions_take_the_id_and_objectives_of_each_question():
    bank = [types.SimpleNamespace(id="a", objectives=["3.1.1", "3.2.2"])]
    assert cov.quiz_questions(bank) == [cov.QuizQuestion("a", ("3.1.1", "3.2.2"))]


@pytest.mark.parametrize(
    "question",
    [
        {"id": "a", "objectives": ["3.1.1"]},  # a dict, not a question
        types.SimpleNamespace(id="a", objectives="3.1.1"),  # a str, not a list of ids
        types.SimpleNamespace(name="a", objectives=["3.1.1"]),  # no .id
    ],
)
def test_quiz_questions_refuse_what_is_not_a_question(question):
    with pytest.raises(TypeError, match=r"bank\[0\]: expected a question with .id"):
        cov.quiz_questions([question])


def test_the_course_covers_every_objective():
    """The course itself (lessons/ and the question bank): the check `attention-lab build` makes."""
    lessons = load_all(LESSONS_DIR)
    cov.check(cov.compute(lessons, cov.quiz_questions(load_questions())))
