"""Objectives coverage: which lesson section, hands-on item and quiz question serves each objective.

The course is complete when every learning objective of the syllabus has at least one lesson
section (``<!-- serves: ... -->``), one hands-on item (``<!-- hands-on: ... -->``) and one quiz
question (questions declare ``.objectives`` in the question bank), and, when the lecture slides
are counted (``compute(..., slides=...)``, as the course build does), one slide (slides carry the
objectives of the lesson sections they come from). :func:`check` raises :class:`CoverageError`
naming each objective that lacks one of them.

The course does not read the question bank itself: the caller above both (the command line)
passes the questions in, ``compute(lessons, quiz_questions(load_questions()))``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from attention_lab.course.lessons import Lesson
from attention_lab.objectives import Objective, objectives, topics

KINDS = ("lesson", "hands-on", "quiz", "slides")


class CoverageError(ValueError):
    """Some objective lacks a lesson section, a hands-on item or a quiz question."""

    def __init__(self, gaps: dict[str, list[str]]):
        self.gaps = gaps
        lines = [f"  {oid} has no {' / '.join(kinds)}" for oid, kinds in gaps.items()]
        super().__init__(
            f"{len(gaps)} learning objective(s) not fully covered:\n" + "\n".join(lines)
        )


@dataclass(frozen=True)
class QuizQuestion:
    """What coverage needs of a quiz question: its id and the objectives it assesses."""

    id: str
    objectives: tuple[str, ...]


@dataclass
class Coverage:
    """For each objective id: the lessons/sections, hands-on items and quiz questions serving it."""

    lessons: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (lesson, section)
    hands_on: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    quiz: dict[str, list[str]] = field(default_factory=dict)  # question ids
    quiz_available: bool = True  # False when no question bank could be read
    unknown_quiz_ids: dict[str, list[str]] = field(default_factory=dict)  # question -> bad ids
    slides: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (deck, section)
    slides_counted: bool = False  # True when the slides were passed to compute()

    def gaps(self) -> dict[str, list[str]]:
        """Objective id -> the kinds ("lesson", "hands-on", "quiz", and "slides" when counted) it
        lacks; covered ones omitted."""
        missing: dict[str, list[str]] = {}
        tables = (self.lessons, self.hands_on, self.quiz, self.slides)
        for oid in objectives():
            kinds = [
                kind
                for kind, table in zip(KINDS, tables)
                if not table.get(oid) and (kind != "slides" or self.slides_counted)
            ]
            if kinds:
                missing[oid] = kinds
        return missing

    def complete(self) -> bool:
        return not self.gaps()


def compute(
    lessons: Sequence[Lesson],
    questions: Iterable[QuizQuestion] | None,
    *,
    slides: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> Coverage:
    """Coverage of the syllabus by ``lessons`` and the quiz ``questions`` (None: no quiz yet).

    ``slides``: objective id -> (deck, section) of the slides that carry it
    (``slides.slide_coverage``); None leaves the slides out of the check.
    """
    known = objectives()
    cov = Coverage(
        lessons={oid: [] for oid in known},
        hands_on={oid: [] for oid in known},
        quiz={oid: [] for oid in known},
        quiz_available=questions is not None,
        slides={oid: list((slides or {}).get(oid, ())) for oid in known},
        slides_counted=slides is not None,
    )
    for lesson in lessons:
        for marker in lesson.markers:
            table = cov.lessons if marker.kind == "serves" else cov.hands_on
            for oid in marker.objectives:
                entry = (lesson.name, marker.section)
                if entry not in table[oid]:
                    table[oid].append(entry)
    for question in questions or ():
        for oid in question.objectives:
            if oid in cov.quiz:
                cov.quiz[oid].append(question.id)
            else:
                cov.unknown_quiz_ids.setdefault(question.id, []).append(oid)
    return cov


def check(coverage: Coverage) -> None:
    """Raise :class:`CoverageError` naming every objective that is not fully covered."""
    gaps = coverage.gaps()
    if gaps:
        raise CoverageError(gaps)


def quiz_questions(bank: Iterable[object]) -> list[QuizQuestion]:
    """What coverage needs of each question of ``bank`` (objects with ``.id`` and
    ``.objectives``, e.g. ``attention_lab.assessment.load_questions()``)."""
    questions = []
    for index, question in enumerate(bank):
        ident, ids = getattr(question, "id", None), getattr(question, "objectives", None)
        if not isinstance(ident, str) or isinstance(ids, str) or ids is None:
            raise TypeError(
                f"bank[{index}]: expected a question with .id (a str) and .objectives (a list of "
                f"objective ids), got {type(question).__name__}"
            )
        questions.append(QuizQuestion(ident, tuple(str(i) for i in ids)))
    return questions


# This page's tables are wide: use the whole width and a smaller type.
_PAGE_STYLE = (
    "<style>.bd-sidebar-secondary{display:none}.bd-article-container{max-width:100%!important}"
    ".bd-article table{font-size:.85em}</style>"
)


def _objective_cell(objective: Objective) -> str:
    return f"**{objective.id}** {objective.text}"


def render_markdown(
    coverage: Coverage, lessons: Sequence[Lesson], anchors: dict[tuple[str, str], str]
) -> str:
    """The coverage page (MyST markdown): a summary per objective and an objective x lesson grid.

    ``anchors`` maps (lesson name, section title) to the section's anchor on its page.
    """
    gaps = coverage.gaps()
    total = len(objectives())
    out = ["# Objectives coverage", "", _PAGE_STYLE, ""]
    if gaps:
        out += [
            "```{warning}",
            f"{len(gaps)} of {total} learning objectives are not fully covered: "
            + ", ".join(f"{oid} (no {' / '.join(k)})" for oid, k in gaps.items())
            + ".",
            "```",
            "",
        ]
    else:
        out += [
            "```{note}",
            f"All {total} learning objectives have a lesson section, a hands-on item"
            + (
                ", a quiz question and a lecture slide."
                if coverage.slides_counted
                else " and a quiz question."
            ),
            "```",
            "",
        ]
    if not coverage.quiz_available:
        out += ["The quiz's question bank could not be read, so quiz coverage is empty.", ""]
    out += [
        "Lesson sections declare `<!-- serves: ID -->`, hands-on items `<!-- hands-on: ID -->`, "
        "quiz questions list their `objectives` in the question bank; a slide carries the "
        "objectives of the lesson section it comes from. "
        "The course build fails while any cell of the *covered* column reads ✗.",
        "",
    ]
    for topic in topics():
        out += [f"## {topic.id} {topic.title} ({topic.duration})", ""]
        slide_head = " Slides |" if coverage.slides_counted else ""
        out += [
            f"| Objective | Lesson sections | Hands-on | Quiz questions |{slide_head} Covered |"
        ]
        out += ["| --- | --- | --- | --- |" + (" --- |" if slide_head else "") + " :---: |"]
        for objective in topic.objectives:
            oid = objective.id
            sections = _links(coverage.lessons[oid], anchors)
            hands = _links(coverage.hands_on[oid], anchors)
            quiz = ", ".join(f"`{q}`" for q in coverage.quiz[oid]) or "—"
            mark = "✓" if oid not in gaps else "✗ no " + " / ".join(gaps[oid])
            deck = f" {_slide_links(coverage.slides[oid])} |" if slide_head else ""
            out.append(
                f"| {_objective_cell(objective)} | {sections} | {hands} | {quiz} |{deck} {mark} |"
            )
        out.append("")
    if lessons:
        out += ["## Objective × lesson", ""]
        out += ["S: a section serves it; H: a hands-on item practises it.", ""]
        heads = " | ".join(f'<a href="{x.name}.html">{x.number}</a>' for x in lessons)
        out.append(f"| Objective | {heads} |")
        out.append("| --- | " + " | ".join(":---:" for _ in lessons) + " |")
        for oid in objectives():
            cells = []
            for lesson in lessons:
                mark = ("S" if oid in lesson.served("serves") else "") + (
                    "H" if oid in lesson.served("hands-on") else ""
                )
                cells.append(mark or "·")
            out.append(f"| {oid} | " + " | ".join(cells) + " |")
        out.append("")
        out += ["Lessons: " + "; ".join(f"{x.number} {x.title}" for x in lessons) + ".", ""]
    if coverage.unknown_quiz_ids:
        out += ["## Quiz questions naming unknown objectives", ""]
        for qid, bad in coverage.unknown_quiz_ids.items():
            out.append(f"- `{qid}`: {', '.join(bad)}")
        out.append("")
    return "\n".join(out)


def _links(entries: list[tuple[str, str]], anchors: dict[tuple[str, str], str]) -> str:
    if not entries:
        return "—"
    parts = []
    for lesson, section in entries:
        label = html.escape(f"{lesson[:2]}: {section}" if section else lesson).replace(
            "|", "&#124;"
        )
        anchor = anchors.get((lesson, section), "")
        href = f"{lesson}.html" + (f"#{anchor}" if anchor else "")
        parts.append(f'<a href="{href}">{label}</a>')
    return "<br>".join(parts)


def _slide_links(entries: list[tuple[str, str]]) -> str:
    """Links to the decks carrying an objective (the site serves them from ``slides/``)."""
    if not entries:
        return "—"
    parts = []
    for deck, section in entries:
        label = html.escape(f"{deck}: {section}" if section else deck).replace("|", "&#124;")
        parts.append(f'<a href="slides/{html.escape(deck)}.html">{label}</a>')
    return "<br>".join(parts)
