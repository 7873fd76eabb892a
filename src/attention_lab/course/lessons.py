"""Lessons: discovery, reading and the objective markers they carry.

A lesson is a jupytext ``py:percent`` file ``<NN>_<slug>.py``; the two-digit ``NN`` orders the
course. The course's own lessons ship inside the package (``LESSONS_DIR``,
``attention_lab/lessons/``), so an installed wheel writes the notebooks and builds the site from
any folder. Markdown cells declare what they teach with HTML comments, invisible on the page::

    <!-- serves: 3.2.3 3.2.4 -->     this section teaches objectives 3.2.3 and 3.2.4
    <!-- hands-on: 3.2.3 -->         this item (exercise, "try this", activity) practises 3.2.3

Worked example: a markdown cell ``"## Scaled dot-product attention\\n<!-- serves: 3.2.3 -->"``
gives one :class:`Marker` ``(kind="serves", objectives=("3.2.3",),
section="Scaled dot-product attention", cell=4)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from attention_lab.objectives import objectives

#: The course's lessons, inside the installed package.
LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
LESSON_NAME = re.compile(r"^(?P<number>\d{2})_(?P<slug>[a-z0-9][a-z0-9_]*)\.py$")
# `<!-- serves: 3.2.3 3.2.4 -->` or `<!-- hands-on: 3.2.3 -->`; ids separated by spaces or commas.
MARKER = re.compile(r"<!--\s*(?P<kind>serves|hands-on)\s*:(?P<ids>[^>]*?)-->", re.IGNORECASE)
# Anything that looks like a marker but is misspelt (`<!-- serve: 3.2.1 -->`, `hands_on`).
LOOSE_MARKER = re.compile(r"<!--\s*(?P<kind>serve\w*|hands[-_ ]?on\w*)\s*:?[^>]*-->", re.IGNORECASE)
OBJECTIVE_ID = re.compile(r"^\d+\.\d+\.\d+$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


class LessonError(ValueError):
    """A lesson file breaks a course convention (its name, a marker, a solution block)."""


@dataclass(frozen=True)
class Marker:
    """One ``serves`` or ``hands-on`` declaration inside a lesson's markdown cell."""

    kind: str  # "serves" or "hands-on"
    objectives: tuple[str, ...]
    section: str  # the nearest heading at or above the marker ("" if none)
    cell: int  # index of the markdown cell in the notebook


@dataclass(frozen=True)
class Lesson:
    """A lesson file and what it declares."""

    path: Path
    number: str  # "02"
    slug: str  # "self_attention"
    title: str  # the first heading of the opening markdown cell
    markers: tuple[Marker, ...]

    @property
    def name(self) -> str:
        """The page name on the site and of the notebooks: ``02_self_attention``."""
        return f"{self.number}_{self.slug}"

    def served(self, kind: str) -> set[str]:
        """Objective ids this lesson declares with markers of ``kind``."""
        return {o for m in self.markers if m.kind == kind for o in m.objectives}


def discover(lessons_dir: str | Path) -> list[Path]:
    """The lesson files of ``lessons_dir`` ordered by their number ``NN``.

    Files that do not look like lessons (``README.md``, ``helpers.py``, ``_draft.py``) are ignored;
    two lessons with the same number raise :class:`LessonError`.
    """
    folder = Path(lessons_dir)
    if not folder.is_dir():
        raise LessonError(f"lessons_dir: expected a folder of lessons, got {str(folder)!r}")
    found = sorted(p for p in folder.glob("*.py") if LESSON_NAME.match(p.name))
    numbers: dict[str, Path] = {}
    for path in found:
        number = path.name[:2]
        if number in numbers:
            raise LessonError(
                f"lessons_dir: two lessons share the number {number}: "
                f"{numbers[number].name} and {path.name}; give each lesson its own NN"
            )
        numbers[number] = path
    return found


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a ``py:percent`` lesson into a notebook (no outputs).

    Raises :class:`LessonError` naming the file when it cannot be read (not UTF-8, unreadable).
    """
    import jupytext

    path = Path(path)
    try:
        return jupytext.read(path, fmt="py:percent")
    except Exception as error:  # jupytext's errors are of many types
        raise LessonError(f"{path.name}: cannot be read as a py:percent lesson ({error})") from None


def load(path: str | Path, notebook: nbformat.NotebookNode | None = None) -> Lesson:
    """Read one lesson and its markers; raise :class:`LessonError` on a convention it breaks."""
    path = Path(path)
    match = LESSON_NAME.match(path.name)
    if match is None:
        raise LessonError(
            f"path: expected a lesson named NN_slug.py (two digits, lower-case slug), "
            f"got {path.name!r}"
        )
    nb = read_notebook(path) if notebook is None else notebook
    return Lesson(
        path=path,
        number=match["number"],
        slug=match["slug"],
        title=_title(nb, path),
        markers=tuple(_markers(nb, path)),
    )


def load_all(lessons_dir: str | Path) -> list[Lesson]:
    """Every lesson of ``lessons_dir``, in course order."""
    return [load(p) for p in discover(lessons_dir)]


def _title(nb: nbformat.NotebookNode, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = HEADING.search(cell.source)
            if heading:
                return _plain_title(heading["title"])
    return path.stem.split("_", 1)[1].replace("_", " ").capitalize()


def _plain_title(title: str) -> str:
    """A heading as its rendered text reads: emphasis and code marks gone, math kept as LaTeX
    (so ``Why divide by $\\sqrt{d_k}$?`` reads ``Why divide by \\sqrt{d_k}?``)."""
    title = title.replace("$", "").replace("`", "")
    title = re.sub(r"\*\*|__|\*", "", title)
    title = re.sub(r"(?<![\w\\])_(\S(?:.*?\S)?)_(?!\w)", r"\1", title)  # _emphasis_
    return title.strip()


def _markers(nb: nbformat.NotebookNode, path: Path) -> list[Marker]:
    known = objectives()
    markers: list[Marker] = []
    section = ""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        # A marker belongs to the nearest heading above it in its cell; a marker above the
        # cell's first heading belongs to that heading (the cell starts that section); a cell
        # without headings continues the section of the cells before it.
        headings = [(i, _plain_title(h["title"])) for i, h in _headings(lines)]
        for number, line in enumerate(lines):
            strict = list(MARKER.finditer(line))
            if not strict and LOOSE_MARKER.search(line):
                raise LessonError(
                    f"{path.name}, cell {index}: marker {line.strip()!r} is misspelt; "
                    f"expected '<!-- serves: 3.2.3 -->' or '<!-- hands-on: 3.2.3 -->'"
                )
            above = [title for i, title in headings if i < number]
            here = above[-1] if above else (headings[0][1] if headings else section)
            for found in strict:
                ids = _marker_ids(found, path, index, known)
                markers.append(Marker(found["kind"].lower(), ids, here, index))
        if headings:
            section = headings[-1][1]
    return markers


def cell_sections(nb: nbformat.NotebookNode) -> list[str]:
    """For each cell of ``nb``, the title of the section it belongs to ("" before any heading).

    A markdown cell with headings belongs to its first heading (the section it starts); any other
    cell continues the section of the cells before it, as a marker's section does."""
    sections: list[str] = []
    section = ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            sections.append(section)
            continue
        headings = [_plain_title(h["title"]) for _, h in _headings(cell.source.splitlines())]
        sections.append(headings[0] if headings else section)
        if headings:
            section = headings[-1]
    return sections


def _headings(lines: list[str]) -> list[tuple[int, re.Match]]:
    """(line number, match) of the markdown headings among ``lines`` (not inside code fences)."""
    found, fenced = [], False
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append((number, match))
    return found


def _marker_ids(found: re.Match, path: Path, index: int, known: dict) -> tuple[str, ...]:
    ids = tuple(i for i in re.split(r"[\s,]+", found["ids"].strip()) if i)
    if not ids:
        raise LessonError(
            f"{path.name}, cell {index}: marker {found.group(0)!r} lists no "
            f"objective id; expected ids such as 3.2.3"
        )
    for objective in ids:
        if not OBJECTIVE_ID.match(objective) or objective not in known:
            raise LessonError(
                f"{path.name}, cell {index}: marker {found.group(0)!r} names "
                f"objective {objective!r}, which the syllabus does not have; "
                f"expected one of {', '.join(known)}"
            )
    return ids


def check_structure(lesson: Lesson, notebook: nbformat.NotebookNode) -> list[str]:
    """What a lesson lacks of the course conventions, as sentences (empty when it has them all).

    Every lesson opens with a markdown cell holding a title, its duration and "Learning
    objectives", and ends with "Key takeaways".
    """
    problems: list[str] = []
    cells = notebook.cells
    first = next((c for c in cells if c.source.strip()), None)
    if first is None or first.cell_type != "markdown":
        problems.append(f"{lesson.path.name}: the first cell should be markdown with the title")
    else:
        text = first.source.lower()
        if not HEADING.search(first.source):
            problems.append(f"{lesson.path.name}: the opening cell has no title heading")
        if "learning objectives" not in text:
            problems.append(f"{lesson.path.name}: the opening cell lists no 'Learning objectives'")
        if not re.search(r"duration|\bminutes?\b|\bhours?\b", text):
            problems.append(f"{lesson.path.name}: the opening cell gives no duration")
    markdown = [c.source.lower() for c in cells if c.cell_type == "markdown"]
    if not any("key takeaways" in text for text in markdown[-3:]):
        problems.append(f"{lesson.path.name}: the lesson does not end with 'Key takeaways'")
    return problems
