"""Answer keys for the instructor guide: discussion prompts, "Try this" items, exemplar answers.

The keys live in ``answer_keys.yaml`` and appear only in the instructor guide, never on a
learner's page. Each key names the prompt it answers, and `missing_keys` finds the prompts
without one, so a prompt added to a lesson or to the plan cannot go without its key unnoticed:

- every discussion segment of ``plan.yaml`` (by topic and segment title);
- every "Try this" item of the lessons: a markdown cell whose text has "Try this", matched by a
  phrase of its text (``match``);
- two exemplar answers per written-assignment prompt, each given a level per rubric criterion;
  the score is computed from the rubric (``assignment.yaml``), not written by hand.

Worked example: the key ``{lesson: 01_why_transformers, match: "change the spectral norm"}``
answers the cell of lesson 01 that reads "### Try this: change the spectral norm ...".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from attention_lab.course.lessons import Lesson, read_notebook

TRY_THIS = re.compile(r"\bTry this\b")


@dataclass(frozen=True)
class TryThis:
    """A "Try this" item of a lesson: the markdown cell that asks it."""

    lesson: str  # the lesson's name, e.g. "01_why_transformers"
    text: str


@cache
def load() -> dict:
    """The keys as written in ``answer_keys.yaml``."""
    text = resources.files(__package__).joinpath("answer_keys.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def try_this_items(lessons: Sequence[Lesson]) -> list[TryThis]:
    """Every "Try this" item in ``lessons``, in course order."""
    items = []
    for lesson in lessons:
        if not lesson.path.is_file():  # a lesson known by its name only has no text to read
            continue
        for cell in read_notebook(lesson.path).cells:
            if cell.cell_type == "markdown" and TRY_THIS.search(cell.source):
                items.append(TryThis(lesson.name, cell.source))
    return items


def key_for(item: TryThis) -> dict | None:
    """The key whose ``match`` phrase occurs in the item's text (None if there is none)."""
    for key in load()["try_this"]:
        if key["lesson"] == item.lesson and key["match"] in " ".join(item.text.split()):
            return key
    return None


def discussion_prompts(plans: Sequence[Any]) -> list[tuple[str, str, str]]:
    """``(topic id, segment title, prompt)`` of every discussion segment of ``plans`` (``pages.TopicPlan``)."""
    return [
        (plan.topic.id, s.title, s.how)
        for plan in plans
        for s in plan.segments
        if s.kind == "discussion"
    ]


def exemplar_score(assignment: Any, prompt_id: str, levels: dict[str, str]) -> tuple[float, float]:
    """``(points, maximum)`` of an exemplar given a level name per rubric criterion.

    ``assignment``: the written assignment and its rubric (``assessment.load_assignment()``),
    handed in by the caller above both packages.

    Raises ValueError naming the prompt, criterion or level that the rubric does not have.
    """
    prompts = {p.id: p for p in assignment.prompts}
    if prompt_id not in prompts:
        raise ValueError(f"prompt: expected one of {', '.join(prompts)}, got {prompt_id!r}")
    prompt = prompts[prompt_id]
    wanted = {c.name for c in prompt.rubric}
    if set(levels) != wanted:
        raise ValueError(
            f"levels of {prompt_id!r}: expected one per criterion ({', '.join(sorted(wanted))}), "
            f"got {', '.join(sorted(levels)) or 'none'}"
        )
    points = 0.0
    for criterion in prompt.rubric:
        by_name = {level.name: level.points for level in criterion.levels}
        name = levels[criterion.name]
        if name not in by_name:
            raise ValueError(
                f"{prompt_id!r}, {criterion.name}: expected a level of {', '.join(by_name)}, "
                f"got {name!r}"
            )
        points += by_name[name]
    return points, prompt.points


def missing_keys(lessons: Sequence[Lesson], plans: Sequence[Any], assignment: Any) -> list[str]:
    """The prompts without a key, and the keys that answer no prompt (empty when complete)."""
    keys = load()
    problems = []
    discussions = {(k["topic"], k["segment"]) for k in keys["discussions"]}
    prompts = {(topic, title) for topic, title, _ in discussion_prompts(plans)}
    problems += [
        f"discussion {t} {title!r} has no key" for t, title in sorted(prompts - discussions)
    ]
    problems += [
        f"discussion key {t} {title!r} answers no prompt"
        for t, title in sorted(discussions - prompts)
    ]
    items = try_this_items(lessons)
    for item in items:
        if key_for(item) is None:
            first = " ".join(item.text.split())[:80]
            problems.append(f"Try this in {item.lesson} has no key: {first!r}")
    for key in keys["try_this"]:
        if not any(key_for(item) is key for item in items):
            problems.append(f"Try this key {key['lesson']} {key['match']!r} answers no item")
    for prompt in assignment.prompts:
        count = sum(e["prompt"] == prompt.id for e in keys["exemplars"])
        if count < 2:
            problems.append(f"assignment prompt {prompt.id!r} has {count} exemplar(s), expected 2")
    return problems


def answer_keys_markdown(
    lessons: Sequence[Lesson], plans: Sequence[Any], assignment: Any | None = None
) -> str:
    """The guide's answer keys and pre-class checklist (MyST markdown); the exemplar answers of
    the written assignment when ``assignment`` (``assessment.load_assignment()``) is given."""
    keys = load()
    out = ["## Answer keys", ""]
    out += [
        "Expected answers and talking points, for you only: learners' pages do not show them. "
        "Numbers quoted were measured with the seeds the lessons use, on a 2-core CPU with "
        "torch 2.13.0; small differences on other machines are expected.",
        "",
        "### Discussion prompts",
        "",
    ]
    by_segment = {(k["topic"], k["segment"]): k for k in keys["discussions"]}
    for topic, title, prompt in discussion_prompts(plans):
        key = by_segment.get((topic, title))
        out += [f"**{topic} {title}.** *{prompt}*", ""]
        out += [key["answer"].strip() if key else "(no key yet)", ""]
    out += ["### Try this", ""]
    names = {lesson.name: lesson.title for lesson in lessons}
    for item in try_this_items(lessons):
        key = key_for(item)
        if key is None:
            continue
        out += [f"**{names[item.lesson]}: {key['title']}**", "", key["answer"].strip(), ""]
    if assignment is not None:
        out += _exemplars_markdown(keys["exemplars"], assignment)
    out += ["## Before class: a checklist", ""]
    for group in keys["checklist"]:
        out += [f"**{group['heading']}**", ""]
        # a box drawn as text: Markdown's "- [ ]" renders a form checkbox without a label
        out += [f"- ☐ {item}" for item in group["items"]]
        out.append("")
    return "\n".join(out)


def _exemplars_markdown(exemplars: Sequence[dict], assignment: Any) -> list[str]:
    """Two exemplar answers per assignment prompt, each scored with the rubric."""
    out = ["### Written assignment: exemplar answers", ""]
    out += [
        "Two answers per prompt at different levels, each scored with the rubric, to calibrate "
        "grading. Read the exemplar, then the levels it earns and why.",
        "",
    ]
    titles = {p.id: p.title for p in assignment.prompts}
    for exemplar in exemplars:
        points, maximum = exemplar_score(assignment, exemplar["prompt"], exemplar["levels"])
        out += [
            f"#### {titles[exemplar['prompt']]}: {exemplar['label']} ({points:g} / {maximum:g})",
            "",
            *(f"> {line}" if line else ">" for line in exemplar["text"].strip().splitlines()),
            "",
            "| Criterion | Level | Why |",
            "| --- | --- | --- |",
        ]
        for criterion, level in exemplar["levels"].items():
            why = exemplar["why"][criterion].replace("|", "\\|")
            out.append(f"| {criterion} | {level} | {why} |")
        out.append("")
    return out
