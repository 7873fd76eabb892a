"""The landing page and the instructor guide: generated from the syllabus and the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from attention_lab.course import pages
from attention_lab.course.lessons import Lesson
from attention_lab.exercises import DIAGNOSES, GENERIC
from attention_lab.objectives import Topic, duration_minutes, topics


def test_every_topic_plan_fits_the_syllabus_duration():
    for plan in pages.plans():
        low, high = duration_minutes(plan.topic)
        assert low <= plan.minutes <= high, (plan.topic.id, plan.minutes, (low, high))
        kinds = plan.minutes_by_kind()
        assert kinds["lecture"] > 0 and kinds["activity"] > 0 and kinds["discussion"] > 0


def test_every_objective_has_a_planned_segment():
    for plan in pages.plans():
        planned = {o for s in plan.segments for o in s.objectives}
        assert planned == {o.id for o in plan.topic.objectives}, plan.topic.id
        assert plan.notes


@pytest.mark.parametrize(
    ("duration", "minutes"),
    [("1 - 1.5 hours", (60, 90)), ("2 - 2.5 hours", (120, 150)), ("2 hours", (120, 120))],
)
def test_duration_minutes(duration, minutes):
    assert duration_minutes(Topic("x", "x", duration, ())) == minutes


def test_duration_minutes_rejects_other_text():
    with pytest.raises(
        ValueError, match=r"topic.duration: expected '<a> - <b> hours' .*got 'a while'"
    ):
        duration_minutes(Topic("x", "x", "a while", ()))


def test_syllabus_durations_all_parse():
    assert [duration_minutes(t) for t in topics()] == [(60, 90), (120, 150), (120, 150), (60, 90)]


LESSONS = [
    Lesson(Path("02_self_attention.py"), "02", "self_attention", "Self-attention", ()),
    Lesson(Path("06_quiz.py"), "06", "quiz", "Quiz", ()),
]


def test_landing_page_lists_topics_timings_lessons_and_how_to_run():
    page = pages.landing_page(LESSONS, title="T", notebooks=True)
    for topic in topics():
        assert f"**{topic.id}** {topic.title} | {topic.duration}" in page
    assert "[Self-attention](02_self_attention.ipynb)" in page
    assert "`attention_lab/lessons/01_why_transformers.py` (not written yet)" in page
    assert "attention-lab serve" in page and "make course" in page
    assert '<a href="_static/notebooks/06_quiz.ipynb" download>' in page
    assert "In all 6 to 8 hours of teaching" in page


def test_instructor_guide_has_plans_notes_quiz_and_grading():
    guide = pages.instructor_guide(LESSONS)
    for topic in topics():
        assert f"## Topic {topic.id}: {topic.title}" in guide
        assert f"Syllabus duration: {topic.duration}" in guide
    for command in (
        "attention-lab quiz\n",
        "attention-lab quiz export --format gift",
        "attention-lab quiz export --format qti",
        "attention-lab quiz export --format json",
        "attention-lab grade SUBMISSIONS_DIR --out gradebook.csv",
    ):
        assert command in guide
    assert "[quiz page](06_quiz.ipynb)" in guide
    assert "Teach from [Self-attention](02_self_attention.ipynb)" in guide


def test_misconceptions_come_from_the_checker_diagnoses(monkeypatch):
    diagnoses = {
        "correct": "Correct.",
        "not_attempted": "Not attempted.",
        "wrong_values": "Generic.",
        "softmax_wrong_dim": "The softmax runs over the wrong axis. Normalise over the keys.",
    }
    found = [
        pages.Misconception(
            "softmax_wrong_dim", "The softmax runs over the wrong axis.", "Normalise over the keys."
        )
    ]
    assert pages.misconceptions(diagnoses, generic=("wrong_values",)) == found
    monkeypatch.setattr(pages, "DIAGNOSES", diagnoses)
    monkeypatch.setattr(pages, "GENERIC", ("wrong_values",))
    guide = pages.instructor_guide([])
    assert (
        "| The softmax runs over the wrong axis. | `softmax_wrong_dim` | Normalise over the keys. |"
        in guide
    )


def test_guide_says_so_when_no_diagnoses_exist(monkeypatch):
    monkeypatch.setattr(pages, "DIAGNOSES", {})
    assert pages.misconceptions() == []
    assert "diagnoses are not available" in pages.instructor_guide([])


def test_real_checker_diagnoses_become_the_guide_misconceptions():
    skip = {"correct", "not_attempted", *GENERIC}
    expected = [k for k in DIAGNOSES if k not in skip]
    assert expected and [m.id for m in pages.misconceptions()] == expected


def test_topic_34_plans_lesson_05_with_the_rest_outside_the_session():
    plan = next(p for p in pages.plans() if p.topic.id == "3.4")
    low, high = duration_minutes(plan.topic)
    pretrained = [s for s in plan.segments if "05_pretrained" in s.how]
    assert pretrained and {s.when for s in pretrained} == {"class", "homework"}
    assert low <= plan.minutes <= high
    assert plan.outside_minutes == sum(s.minutes for s in plan.segments if s.when != "class") > 0
    guide = pages.instructor_guide(LESSONS)
    assert f"plus {plan.outside_minutes} min of homework or optional work" in guide
    assert "| Activity (homework) | A pretrained encoder's embeddings and heads |" in guide
