"""The instructor guide's answer keys: one per prompt of the current lessons and plan, exemplars
scored with the rubric, and nothing of them on a learner's page."""

from __future__ import annotations

import re

import pytest

from attention_lab.assessment.assignment import load_assignment
from attention_lab.course.answer_keys import (
    answer_keys_markdown,
    exemplar_score,
    load,
    missing_keys,
    try_this_items,
)
from attention_lab.course.lessons import LESSONS_DIR, load_all, read_notebook
from attention_lab.course.notebooks import student_copy
from attention_lab.course.pages import instructor_guide, plans


@pytest.fixture(scope="module")
def lessons():
    return load_all(LESSONS_DIR)


def test_every_prompt_has_a_key_and_every_key_a_prompt(lessons):
    assert missing_keys(lessons, plans(), load_assignment()) == []
    assert len(try_this_items(lessons)) == len(load()["try_this"]) >= 7


def test_a_new_prompt_without_a_key_is_reported(lessons, tmp_path):
    extra = tmp_path / "08_extra.py"
    extra.write_text("# %% [markdown]\n# # Extra\n#\n# **Try this.** Halve d_model.\n")
    problems = missing_keys([*lessons, *load_all(tmp_path)], plans(), load_assignment())
    assert problems == ["Try this in 08_extra has no key: '# Extra **Try this.** Halve d_model.'"]


def test_exemplars_two_per_prompt_scored_with_the_rubric():
    assignment = load_assignment()
    for prompt in assignment.prompts:
        exemplars = [e for e in load()["exemplars"] if e["prompt"] == prompt.id]
        assert len(exemplars) == 2
        scores = [exemplar_score(assignment, prompt.id, e["levels"])[0] for e in exemplars]
        assert len(set(scores)) == 2 and max(scores) == prompt.points  # two different levels
        low, high = (int(n) for n in re.findall(r"\d+", prompt.words))
        for exemplar in exemplars:
            words = len(exemplar["text"].split())
            within = low <= words <= high
            # "Excellent" clarity promises the word range; the others say they miss it
            assert within == (exemplar["levels"]["Clarity"] == "Excellent"), (prompt.id, words)


def test_exemplar_score_refuses_levels_the_rubric_lacks():
    with pytest.raises(ValueError, match="expected a level of Excellent, Proficient"):
        exemplar_score(
            load_assignment(),
            "component",
            {
                c: "Perfect"
                for c in ("Technical accuracy", "Purpose and consequence", "Evidence", "Clarity")
            },
        )
    with pytest.raises(ValueError, match="expected one per criterion"):
        exemplar_score(load_assignment(), "component", {"Clarity": "Excellent"})
    with pytest.raises(ValueError, match="prompt: expected one of component, compare"):
        exemplar_score(load_assignment(), "essay", {})


def test_keys_in_the_instructor_guide_only(lessons):
    guide = instructor_guide(lessons, load_assignment())
    keys = answer_keys_markdown(lessons, plans(), load_assignment())
    assert keys in guide
    assert "(20 / 20)" in guide and "(7 / 20)" in guide  # component: strong, developing
    assert "(30 / 30)" in guide and "(10 / 30)" in guide  # compare
    assert "## Before class: a checklist" in guide
    learner_pages = "".join(
        cell.source
        for lesson in lessons
        for cell in student_copy(read_notebook(lesson.path), name=lesson.path.name).cells
    )
    learner_pages = " ".join(learner_pages.split())
    for key in load()["try_this"] + load()["discussions"]:
        opening = " ".join(key["answer"].split())[:60]
        assert opening not in learner_pages and opening in " ".join(guide.split())
