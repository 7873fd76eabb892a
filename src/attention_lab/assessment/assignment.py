"""The written assignment: the syllabus' two prompts, their rubric, a submission template.

Data in ``assignment.yaml``; exported as Markdown (`assignment_markdown`, `submission_template`)
and as CSV (`rubric_csv`, the column layout of Canvas' rubric import: one row per criterion
followed by (rating name, description, points) triples), read back by `parse_rubric_csv`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from attention_lab.files import Written, check_folder, write_files
from attention_lab.objectives import objectives as course_objectives


@dataclass(frozen=True)
class Level:
    name: str
    points: float
    description: str


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    levels: tuple[Level, ...]

    @property
    def points(self) -> float:
        return max(level.points for level in self.levels)


@dataclass(frozen=True)
class Prompt:
    id: str
    title: str
    text: str
    words: str
    objectives: tuple[str, ...]
    rubric: tuple[Criterion, ...]

    @property
    def points(self) -> float:
        return sum(c.points for c in self.rubric)


@dataclass(frozen=True)
class Assignment:
    title: str
    instructions: str
    prompts: tuple[Prompt, ...]

    @property
    def points(self) -> float:
        return sum(p.points for p in self.prompts)


def _parse(raw: dict) -> Assignment:
    known = set(course_objectives())
    prompts = []
    for p in raw["prompts"]:
        for objective in p["objectives"]:
            if objective not in known:
                raise ValueError(f"assignment prompt {p['id']!r}: unknown objective {objective!r}")
        criteria = []
        for c in p["rubric"]:
            levels = tuple(
                Level(str(lv["name"]), float(lv["points"]), str(lv["description"]))
                for lv in c["levels"]
            )
            points = [lv.points for lv in levels]
            if points != sorted(points, reverse=True) or points[-1] != 0:
                raise ValueError(
                    f"rubric criterion {c['criterion']!r}: levels must go from most to fewest "
                    f"points and end at 0, got {points}"
                )
            criteria.append(Criterion(str(c["criterion"]), str(c["description"]), levels))
        prompts.append(
            Prompt(
                p["id"],
                p["title"],
                " ".join(p["text"].split()),
                str(p["words"]),
                tuple(p["objectives"]),
                tuple(criteria),
            )
        )
    return Assignment(raw["title"], " ".join(raw["instructions"].split()), tuple(prompts))


@cache
def load_assignment() -> Assignment:
    text = resources.files(__package__).joinpath("assignment.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


def assignment_markdown(assignment: Assignment | None = None) -> str:
    """The assignment sheet: prompts, word ranges, objectives and the full rubric tables."""
    a = assignment or load_assignment()
    texts = course_objectives()
    lines = [f"# {a.title}", "", a.instructions, "", f"Total: **{a.points:g} points**.", ""]
    for number, p in enumerate(a.prompts, 1):
        lines += [f"## Prompt {number}: {p.title} ({p.points:g} points, {p.words} words)", ""]
        lines += [p.text, "", "Learning objectives assessed:", ""]
        lines += [f"- {o}: {texts[o].text}" for o in p.objectives]
        lines += ["", f"### Rubric for prompt {number}", ""]
        width = max(len(c.levels) for c in p.rubric)
        lines.append("| Criterion | " + " | ".join(f"Level {i + 1}" for i in range(width)) + " |")
        lines.append("|---" * (width + 1) + "|")
        for c in p.rubric:
            cells = [f"{lv.name} ({lv.points:g} pts): {lv.description}" for lv in c.levels]
            cells += [""] * (width - len(cells))
            cell0 = f"**{c.name}** ({c.points:g} pts): {c.description}"
            lines.append("| " + " | ".join([cell0, *cells]).replace("\n", " ") + " |")
        lines.append("")
    return "\n".join(lines)


def submission_template(assignment: Assignment | None = None) -> str:
    """A Markdown file the learner fills in and submits."""
    a = assignment or load_assignment()
    lines = [
        f"# {a.title}: submission",
        "",
        "Name or student id: ",
        "",
        "Word counts: prompt 1 = , prompt 2 = ",
        "",
    ]
    for number, p in enumerate(a.prompts, 1):
        lines += [f"## Prompt {number}: {p.title} ({p.words} words)", ""]
        if p.id == "component":
            lines += [
                "Component chosen: ",
                "",
                "### What it computes",
                "",
                "### The problem it solves",
            ]
            lines += ["", "### Evidence (equation or worked example; own observation)", ""]
        else:
            lines += ["### Side-by-side comparison", "", "| | RNN | Transformer |", "|---|---|---|"]
            lines += ["| Processing and parallelism | | |", "| Long-range dependencies | | |"]
            lines += ["| Gradient flow | | |", "| Cost as T grows | | |", ""]
            lines += ["### Discussion", "", "### When an RNN is still a reasonable choice", ""]
            lines += ["### Evidence", ""]
    lines += ["## References", "", "- ", ""]
    return "\n".join(lines)


def rubric_csv(assignment: Assignment | None = None) -> str:
    """The rubric as CSV in the layout of Canvas' rubric import (one rubric per prompt)."""
    a = assignment or load_assignment()
    width = max(len(c.levels) for p in a.prompts for c in p.rubric)
    header = ["Rubric Name", "Criteria Name", "Criteria Description", "Criteria Enable Range"]
    for _ in range(width):
        header += ["Rating Name", "Rating Description", "Rating Points"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for p in a.prompts:
        for c in p.rubric:
            row = [p.title, c.name, c.description, "false"]
            for lv in c.levels:
                row += [lv.name, lv.description, f"{lv.points:g}"]
            writer.writerow(row + [""] * (len(header) - len(row)))
    return buffer.getvalue()


def parse_rubric_csv(text: str) -> dict[str, list[Criterion]]:
    """Read `rubric_csv` output back: rubric name -> criteria with their levels."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:3] != ["Rubric Name", "Criteria Name", "Criteria Description"]:
        raise ValueError("rubric CSV: expected the Canvas rubric header")
    rubrics: dict[str, list[Criterion]] = {}
    for row in rows[1:]:
        levels = []
        for i in range(4, len(row) - 2, 3):
            if row[i]:
                levels.append(Level(row[i], float(row[i + 2]), row[i + 1]))
        rubrics.setdefault(row[0], []).append(Criterion(row[1], row[2], tuple(levels)))
    return rubrics


def write_assignment(out_dir: Path, *, force: bool = False) -> Written:
    """Write assignment.md, rubric.csv and submission_template.md into `out_dir`.

    A file there that differs from the fresh copy (an instructor's edits) is kept unless `force`
    is set; `Written.kept` lists it.
    """
    out_dir = Path(out_dir)
    check_folder("out", out_dir)
    return write_files(
        {
            out_dir / "assignment.md": assignment_markdown(),
            out_dir / "rubric.csv": rubric_csv(),
            out_dir / "submission_template.md": submission_template(),
        },
        force=force,
    )
