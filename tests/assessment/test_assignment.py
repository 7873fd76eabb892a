"""The written assignment: the syllabus' two prompts, a consistent rubric, Markdown and CSV."""

from __future__ import annotations

from attention_lab.assessment.assignment import (
    assignment_markdown,
    load_assignment,
    parse_rubric_csv,
    rubric_csv,
    submission_template,
)


def test_two_prompts_from_the_syllabus():
    a = load_assignment()
    assert [p.id for p in a.prompts] == ["component", "compare"]
    assert "purpose" in a.prompts[0].title.lower()
    assert "rnn" in a.prompts[1].title.lower() and "transformer" in a.prompts[1].title.lower()
    assert a.points == sum(p.points for p in a.prompts) == 50


def test_rubric_levels_run_from_full_marks_to_zero():
    for prompt in load_assignment().prompts:
        assert len(prompt.rubric) >= 4
        for criterion in prompt.rubric:
            points = [level.points for level in criterion.levels]
            assert points == sorted(points, reverse=True) and points[-1] == 0
            assert all(level.description for level in criterion.levels)


def test_markdown_and_csv_exports_round_trip():
    a = load_assignment()
    md = assignment_markdown()
    for prompt in a.prompts:
        assert prompt.title in md and prompt.text in md
        for criterion in prompt.rubric:
            assert f"**{criterion.name}** ({criterion.points:g} pts)" in md
    back = parse_rubric_csv(rubric_csv())
    assert list(back) == [p.title for p in a.prompts]
    for prompt in a.prompts:
        assert back[prompt.title] == list(prompt.rubric)
    template = submission_template()
    assert "Name or student id" in template and "| Gradient flow | | |" in template
