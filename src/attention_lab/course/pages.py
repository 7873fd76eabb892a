"""The course site's own pages: the landing page and the instructor guide (MyST markdown).

Both are generated from data, so they cannot drift from the course: topics, objectives and
durations from ``objectives.yaml`` (the syllabus), the timed plan from ``plan.yaml``, the lessons
that exist, and the misconceptions that the Lab 3.4 checker diagnoses
(:data:`attention_lab.exercises.DIAGNOSES`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from attention_lab.course.accessibility import STATEMENT as ACCESSIBILITY
from attention_lab.course.answer_keys import answer_keys_markdown
from attention_lab.course.lessons import Lesson
from attention_lab.exercises import DIAGNOSES, GENERIC
from attention_lab.objectives import Topic, duration_minutes, topics

GOAL = (
    "This module introduces the Transformer architecture and its core mechanism, self-attention. "
    "You will see where recurrent networks struggle, why attention lets a model process a "
    "sequence in parallel and connect distant tokens in one step, and how the pieces of "
    '"Attention is All You Need" fit together, down to an implementation in PyTorch.'
)
# Lessons that follow the four topics, by slug, with what they are for.
EXTRA_LESSONS = {
    "pretrained": "From scratch to pretrained: the same blocks inside a real pretrained encoder.",
    "quiz": "The module quiz, with instant feedback and the objectives each question assesses.",
    "assignment": "The written assignment: explain a component, compare RNNs and Transformers.",
}
KIND_LABEL = {"lecture": "Lecture", "discussion": "Discussion", "activity": "Activity"}
# When a segment happens: in the session (counted against the syllabus' duration), or outside it.
WHEN_LABEL = {"class": "", "homework": "homework", "optional": "optional"}


@dataclass(frozen=True)
class Segment:
    """One timed part of a topic's session."""

    kind: str  # lecture | discussion | activity
    minutes: int
    title: str
    how: str
    objectives: tuple[str, ...]
    when: str = "class"  # "class" (in the session), "homework" or "optional" (outside it)
    lesson: str = ""  # the lesson it teaches from when not the topic's own (e.g. "05_pretrained")


@dataclass(frozen=True)
class TopicPlan:
    """The instructor's timed plan for one syllabus topic."""

    topic: Topic
    lesson: str  # the lesson's page name, e.g. "02_self_attention"
    segments: tuple[Segment, ...]
    notes: tuple[str, ...]

    @property
    def minutes(self) -> int:
        """Minutes in the session: what must fit the syllabus' duration."""
        return sum(s.minutes for s in self.segments if s.when == "class")

    @property
    def outside_minutes(self) -> int:
        """Minutes planned outside the session (homework and optional segments)."""
        return sum(s.minutes for s in self.segments if s.when != "class")

    def minutes_by_kind(self) -> dict[str, int]:
        """In-session minutes per kind of segment."""
        out = {kind: 0 for kind in KIND_LABEL}
        for s in self.segments:
            if s.when == "class":
                out[s.kind] += s.minutes
        return out


@cache
def plans() -> tuple[TopicPlan, ...]:
    """The timed plan of every topic, in syllabus order (data in plan.yaml)."""
    raw = yaml.safe_load(resources.files(__package__).joinpath("plan.yaml").read_text())["topics"]
    out = []
    for topic in topics():
        entry = raw[topic.id]
        segments = []
        for s in entry["segments"]:
            if s["kind"] not in KIND_LABEL:
                raise ValueError(
                    f"plan.yaml: segment kind: expected one of {', '.join(KIND_LABEL)}, "
                    f"got {s['kind']!r} in topic {topic.id}"
                )
            when = s.get("when", "class")
            if when not in WHEN_LABEL:
                raise ValueError(
                    f"plan.yaml: segment when: expected one of {', '.join(WHEN_LABEL)}, "
                    f"got {when!r} in topic {topic.id}"
                )
            fields = (s["kind"], int(s["minutes"]), s["title"], s["how"], tuple(s["objectives"]))
            segments.append(Segment(*fields, when, str(s.get("lesson", ""))))
        out.append(TopicPlan(topic, entry["lesson"], tuple(segments), tuple(entry["notes"])))
    return tuple(out)


@dataclass(frozen=True)
class Misconception:
    """A mistake the exercise checker recognises, and what to tell the learner."""

    id: str  # the checker's diagnosis id, as written to the grade book
    summary: str  # what is wrong, in one sentence
    remedy: str  # the explanation the checker gives


# Checker conclusions that are not misconceptions about attention.
_NOT_MISCONCEPTIONS = {"correct", "not_attempted"}


def misconceptions(
    diagnoses: Mapping[str, object] | None = None, generic: Iterable[str] | None = None
) -> list[Misconception]:
    """The Lab 3.4 checker's diagnoses as misconceptions (default: ``exercises.DIAGNOSES``).

    Generic fall-back conclusions (``generic``, default ``exercises.GENERIC``) and the
    verdicts "correct" and "not attempted" are left out.
    """
    diagnoses = DIAGNOSES if diagnoses is None else diagnoses
    skip = _NOT_MISCONCEPTIONS | set(GENERIC if generic is None else generic)
    return [
        _as_misconception(str(key), value) for key, value in diagnoses.items() if key not in skip
    ]


def _as_misconception(key: str, value: object) -> Misconception:
    if not isinstance(value, str):
        get = value.get if isinstance(value, dict) else lambda k: getattr(value, k, None)
        value = str(get("message") or get("explanation") or get("description") or value)
    first, _, rest = value.partition(". ")
    return Misconception(key, first.rstrip(".") + ".", rest.strip())


def _minutes(m: int) -> str:
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def _lesson_link(name: str, lessons: Sequence[Lesson]) -> str:
    for lesson in lessons:
        if lesson.name == name:
            return f"[{lesson.title}]({lesson.name}.ipynb)"
    return f"`attention_lab/lessons/{name}.py` (not written yet)"


def landing_page(lessons: Sequence[Lesson], *, title: str, notebooks: bool) -> str:
    """The home page: what the module is, the four topics with timings, how to run it locally."""
    out = [f"# {title}", "", GOAL, ""]
    out += ["## The four topics", ""]
    out += ["| Topic | Duration | Lesson | Learning objectives |", "| --- | --- | --- | :---: |"]
    for plan in plans():
        t = plan.topic
        link = _lesson_link(plan.lesson, lessons)
        out.append(f"| **{t.id}** {t.title} | {t.duration} | {link} | {len(t.objectives)} |")
    low = sum(duration_minutes(t)[0] for t in topics())
    high = sum(duration_minutes(t)[1] for t in topics())
    out += ["", f"In all {low / 60:g} to {high / 60:g} hours of teaching, plus the assessment.", ""]
    out += ["## Lessons", ""]
    for lesson in lessons:
        extra = next((v for k, v in EXTRA_LESSONS.items() if lesson.slug.endswith(k)), "")
        served = sorted(lesson.served("serves"))
        objectives = f" Objectives {', '.join(served)}." if served else ""
        out.append(f"{lesson.number}. [{lesson.title}]({lesson.name}.ipynb). {extra}{objectives}")
    if not lessons:
        out.append("No lesson has been written yet.")
    out += ["", "Every lesson opens with its learning objectives and duration and ends with key "]
    out[-1] += "takeaways. Exercises give instant, specific feedback when you run them."
    out += [
        "",
        "## How to run it locally",
        "",
        "Everything runs on a laptop CPU, offline once installed.",
        "",
        "```bash",
        "make course                      # set up .venv, build this site",
        ".venv/bin/attention-lab serve    # serve it on http://127.0.0.1:8000",
        ".venv/bin/attention-lab lab      # the notebooks, in JupyterLab",
        "```",
        "",
        "The notebooks are the lessons with the exercise solutions removed: each exercise cell "
        'raises `NotImplementedError("your code here")` until you write your answer.',
        "",
    ]
    if notebooks:
        out += ["Download a notebook:", ""]
        for lesson in lessons:
            href = f"_static/notebooks/{lesson.name}.ipynb"
            out.append(f'- <a href="{href}" download>{html.escape(lesson.name)}.ipynb</a>')
        out.append("")
    out += [
        "## For instructors",
        "",
        "The [instructor guide](instructor_guide.md) has a timed plan per topic, teaching notes, "
        "common misconceptions and how to run, export and grade the quiz. The "
        "[objectives coverage](coverage.md) page shows which lesson section, hands-on item and "
        "quiz question serves each learning objective. The guide also links the lecture slides: "
        "one deck per topic, made from these lessons, with speaker notes (press S) and, where "
        "Chromium is installed, a PDF.",
        "",
        ACCESSIBILITY,
    ]
    return "\n".join(out)


def instructor_guide(
    lessons: Sequence[Lesson],
    assignment: Any | None = None,
    slides: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> str:
    """The instructor guide: timed plans, teaching notes, answer keys and a pre-class checklist,
    misconceptions, quiz and grading. ``assignment`` (``assessment.load_assignment()``) adds the
    written assignment's exemplar answers, scored with its rubric. ``slides``: topic id ->
    (deck title, URL) of its lecture slides."""
    out = ["# Instructor guide", ""]
    out += [
        "A session plan for each topic of the syllabus, timed to its duration, with the lesson "
        "to teach from, teaching notes, the misconceptions the exercise checker diagnoses, and "
        "how to run, export and grade the quiz.",
        "",
        "## Plan at a glance",
        "",
        "| Topic | Syllabus | Planned | Lecture | Discussion | Activities |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for plan in plans():
        k = plan.minutes_by_kind()
        out.append(
            f"| {plan.topic.id} {plan.topic.title} | {plan.topic.duration} | "
            f"{_minutes(plan.minutes)} | {_minutes(k['lecture'])} | "
            f"{_minutes(k['discussion'])} | {_minutes(k['activity'])} |"
        )
    out.append("")
    for plan in plans():
        t = plan.topic
        out += [f"## Topic {t.id}: {t.title}", ""]
        outside = (
            f" in the session, plus {_minutes(plan.outside_minutes)} of homework or optional "
            "work (marked below)"
            if plan.outside_minutes
            else ""
        )
        out += [
            f"Syllabus duration: {t.duration}; this plan: {_minutes(plan.minutes)}{outside}. "
            f"Teach from {_lesson_link(plan.lesson, lessons)}.",
            "",
        ]
        decks = (slides or {}).get(t.id, ())
        if decks:
            links = ", ".join(
                f'<a href="{html.escape(href)}">{html.escape(title)}</a>' for title, href in decks
            )
            out += [
                f"Lecture slides: {links} (arrow keys or Space move, S opens the speaker notes "
                "with the talking points and timings below).",
                "",
            ]
        out += [
            "| Minutes | Kind | Segment | How | Objectives |",
            "| ---: | --- | --- | --- | --- |",
        ]
        for s in plan.segments:
            kind = KIND_LABEL[s.kind] + (f" ({WHEN_LABEL[s.when]})" if s.when != "class" else "")
            out.append(
                f"| {s.minutes} | {kind} | {s.title} | {s.how} | {', '.join(s.objectives)} |"
            )
        out += ["", "Learning objectives:", ""]
        out += [f"- **{o.id}** {o.text}" for o in t.objectives]
        out += ["", "Teaching notes:", ""]
        out += [f"- {note}" for note in plan.notes]
        out.append("")
    out += [answer_keys_markdown(lessons, plans(), assignment), ""]
    out += ["## Common misconceptions", ""]
    found = misconceptions()
    if found:
        out += [
            "Each row is a mistake that the Lab 3.4 checker recognises in a learner's code and "
            "names in its feedback. Expect to see them; address them with the whole class.",
            "",
            "| Misconception | Checker id | What to explain |",
            "| --- | --- | --- |",
        ]
        for m in found:
            cells = [m.summary, f"`{m.id}`", m.remedy or "—"]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    else:
        out.append("The exercise checker's diagnoses are not available in this installation.")
    quiz = next((x for x in lessons if x.slug == "quiz"), None)
    page = f"[quiz page]({quiz.name}.ipynb)" if quiz else "quiz page"
    out += ["", *(line.replace("QUIZ_PAGE", page) for line in _ASSESSMENT_SECTIONS)]
    return "\n".join(out)


_ASSESSMENT_SECTIONS = [
    "## Running the quiz",
    "",
    "Learners take the quiz on the QUIZ_PAGE of this site (feedback appears after each "
    "answer) or in a terminal:",
    "",
    "```bash",
    "attention-lab quiz",
    "```",
    "",
    "Every question declares the learning objectives it assesses; the "
    "[coverage page](coverage.md) lists them.",
    "",
    "## Exporting the quiz to your learning platform",
    "",
    "```bash",
    "attention-lab quiz export --format gift --out quiz.gift   # Moodle",
    "attention-lab quiz export --format qti --out quiz.zip     # Canvas, Blackboard (QTI)",
    "attention-lab quiz export --format json --out quiz.json   # jupyterquiz JSON",
    "attention-lab quiz export --format gift --out q.gift -o 3.2   # only topic 3.2",
    "```",
    "",
    "## Grading submissions",
    "",
    "Collect the learners' Lab 3.4 notebooks (or .py files) in one folder and grade them in one "
    "command. Each submission runs in a sandbox with a time and a memory limit (`--timeout`, "
    "`--memory`); the grade book has one row per submission, and `--feedback DIR` writes each "
    "learner's feedback, naming the misconceptions above.",
    "",
    "```bash",
    "attention-lab grade SUBMISSIONS_DIR --out gradebook.csv",
    "attention-lab grade SUBMISSIONS_DIR --out gradebook.csv --feedback feedback/",
    "```",
    "",
    "On Gradescope: `attention-lab gradescope --out autograder.zip` writes an autograder for a "
    "Programming Assignment. Each learner submits one .py or .ipynb file and sees one test per "
    "exercise with its score and the same diagnoses.",
    "",
    "## Building and serving this site",
    "",
    "```bash",
    "attention-lab build                 # executes changed lessons only, then renders the site",
    "attention-lab build --allow-gaps    # while the course is incomplete: report, do not fail",
    "attention-lab serve                 # http://127.0.0.1:8000",
    "attention-lab notebooks --out DIR --solutions   # student and solution notebooks",
    "attention-lab lab --dir DIR         # the notebooks in JupyterLab, on 127.0.0.1",
    "attention-lab slides --out DIR --pdf   # the lecture slides alone, and their PDFs",
    "attention-lab coverage              # the objectives coverage table in the terminal",
    "```",
    "",
    "The build fails, naming the objective, when a learning objective lacks a lesson section, a "
    "hands-on item, a quiz question or a lecture slide. Everything the site needs (MathJax, plotly.js, fonts) is "
    "served from the build folder: it works without internet.",
    "",
]
