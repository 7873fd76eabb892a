"""Lecture slides made from the executed lessons: one reveal.js deck per topic of the plan.

One source. A lesson marks the cells that go on a slide with cell metadata naming the plan
segment (``plan.yaml``) they belong to; in a ``py:percent`` lesson::

    # %% [markdown] slide="Scaled dot-product attention"
    # <!-- serves: 3.2.3 -->
    # ## Scaled dot-product attention
    # $$\\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}(Q K^T / \\sqrt{d_k}) V$$

A marked markdown cell becomes a slide: its first heading is the title, its display equations
(``$$...$$``) and top-level list items are the body (a cell with neither shows its first
paragraph). A marked code cell becomes a slide with the figures it drew when the course build
executed it (each a ``DescribedFigure``: the image keeps its alt text), or with its code when it
drew none. Every slide carries the objective ids of the lesson section it comes from (the
section's ``<!-- serves: ... -->`` markers); the coverage check counts them.

A deck follows the instructor's plan: a title slide (objectives, teaching notes), then for each
segment an opening slide (kind, minutes, clock time; a discussion or activity shows what the
class does) followed by the segment's marked slides, in lesson order. Speaker notes (reveal.js
notes plugin: press S) hold the segment's talking points and timings.

reveal.js is the copy that the PyPI package ``sphinx-revealjs`` installs (its ``dist`` files and
notes plugin are copied next to the decks; the Sphinx builder is not used: the decks are made
from notebooks, not from reStructuredText). Equations are typeset by the offline MathJax of
``sphinx-mathjax-offline`` with assistive MathML on. Nothing is fetched from another host.
Sources: reveal.js documentation, https://revealjs.com/ (markup, speaker notes, PDF export).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import shutil
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from markdown_it import MarkdownIt

from attention_lab.course import offline
from attention_lab.course.lessons import Lesson, cell_sections
from attention_lab.course.notebooks import has_solution, keep_solutions
from attention_lab.course.pages import KIND_LABEL, Segment, TopicPlan, plans
from attention_lab.course.serve import make_server
from attention_lab.objectives import Topic, objectives

#: Cell metadata key that puts a cell on a slide; its value names the plan segment.
SLIDE_KEY = "slide"
#: The reveal.js files the decks load, relative to sphinx-revealjs' reveal.js folder.
REVEAL_FILES = (
    "dist/reset.css",
    "dist/reveal.css",
    "dist/reveal.js",
    "dist/theme/fonts/source-sans-pro/source-sans-pro.css",
    "dist/theme/white-contrast.css",
    "plugin/notes/notes.js",
)
THEME = "dist/theme/white-contrast.css"
# The theme @imports its font sheet; the decks link that sheet themselves, so that tools which
# re-read style sheets (axe-core) do not resolve the import against the page's URL.
_IMPORT = re.compile(r"@import\s+url\(\./fonts/[^)]*\);?")
ASSETS = "_assets"
WIDTH, HEIGHT = 1280, 720  # the slide size reveal.js scales to the window (and prints)
_MARKER = re.compile(r"<!--.*?-->", re.DOTALL)
_EQUATION = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<!\$)\$(?!\$)(.+?)(?<!\$)\$(?!\$)")
_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+(?P<text>.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_MD = MarkdownIt("commonmark")

CSS = """\
.reveal { font-size: 30px; }
.reveal h1, .reveal h2 { text-transform: none; }
.reveal h1 { font-size: 1.7em; }
.reveal h2 { font-size: 1.35em; margin-bottom: 0.4em; }
.reveal section[data-kind="segment"] h2 { font-size: 1.6em; margin-top: 1.5em; }
.reveal .slides section { text-align: left; height: 100%; }
.reveal ul { display: block; margin-left: 1em; }
.reveal li { margin: 0.25em 0; line-height: 1.3; }
.reveal ul.al-dense { font-size: 0.8em; }
.reveal p.al-lead { font-size: 0.85em; line-height: 1.35; }
.reveal .al-equation { font-size: 0.95em; margin: 0.5em 0; text-align: center; }
.reveal figure.al-figure { margin: 0; text-align: center; }
.reveal figure.al-figure img { width: 100%; height: 540px; margin: 0;
  object-fit: contain; background: #fff; }
.reveal figure.al-figure.al-two img { height: 265px; }
.reveal pre.al-code { width: 100%; font-size: 0.6em; box-shadow: none; }
.reveal pre.al-code code { max-height: 500px; padding: 0.6em; background: #f6f8fa;
  color: #1f2328; }
.reveal .al-kind { font-size: 0.8em; color: #1f2328; }
.reveal .al-how { font-size: 0.85em; line-height: 1.35; border-left: 6px solid #0b5394;
  padding-left: 0.6em; }
.reveal .al-objectives { position: absolute; bottom: 0; left: 0; font-size: 0.55em;
  color: #1f2328; margin: 0; }
html.print-pdf .reveal .slides .pdf-page section { height: 680px; }
.reveal a { color: #0b4a8b; }
.reveal .controls { color: #0b4a8b; }
.reveal .slide-number { background: #1f2328; color: #fff; font-size: 16px; }
"""


class SlideError(ValueError):
    """A deck cannot be made: a marked cell names no segment of the plan, a figure lacks alt text,
    or the executed notebook does not match its lesson."""


@dataclass(frozen=True)
class DeckPlan:
    """What one deck follows: a topic's plan segments that teach from one lesson."""

    id: str  # "3.2", or the lesson's slug for a lesson that is not the topic's own ("pretrained")
    lesson: str  # "02_self_attention"
    topic: Topic
    segments: tuple[Segment, ...]
    notes: tuple[str, ...]  # the topic's teaching notes (in the topic's own deck)
    timing: tuple[str, ...]  # per segment: its place in the topic's plan and the session clock

    @property
    def file(self) -> str:
        return f"{self.id}.html"


@dataclass(frozen=True)
class SlideSource:
    """A lesson cell marked for a slide, before any output is read."""

    cell: int
    segment: str  # the plan segment's title
    section: str  # the lesson section the cell belongs to
    objectives: tuple[str, ...]  # the section's objective ids


@dataclass(frozen=True)
class Outline:
    """The slides a deck will hold, known from the lesson's source alone."""

    plan: DeckPlan
    lesson: Lesson
    sources: tuple[SlideSource, ...]

    def objectives(self) -> set[str]:
        return {o for s in self.sources for o in s.objectives}


@dataclass(frozen=True)
class Figure:
    """An executed figure: PNG bytes and the alt text it was drawn with."""

    png: bytes
    alt: str


@dataclass(frozen=True)
class Slide:
    """One slide. ``title`` and ``points`` are inline markdown (``$...$`` is typeset)."""

    kind: str  # "title" | "segment" | "content"
    title: str
    objectives: tuple[str, ...] = ()
    subtitle: str = ""
    points: tuple[str, ...] = ()
    lead: str = ""  # a paragraph shown when there are no points
    equations: tuple[str, ...] = ()  # LaTeX of display equations
    figures: tuple[Figure, ...] = ()
    code: str = ""
    notes: tuple[str, ...] = ()
    source: str = ""  # "02_self_attention, cell 5"


@dataclass(frozen=True)
class Deck:
    """A finished deck, ready to write."""

    plan: DeckPlan
    title: str
    slides: tuple[Slide, ...]

    @property
    def id(self) -> str:
        return self.plan.id

    @property
    def file(self) -> str:
        return self.plan.file


# --- the plan and the outline ---------------------------------------------------------------


def deck_plans(topic_plans: Sequence[TopicPlan] | None = None) -> list[DeckPlan]:
    """One deck per topic, plus one per other lesson a topic's segments teach from (the bridge
    to pretrained models: the 3.4 segments that teach from ``05_pretrained``)."""
    out = []
    for plan in plans() if topic_plans is None else topic_plans:
        timing = _timing(plan.segments)
        groups: dict[str, list[int]] = {}
        for number, segment in enumerate(plan.segments):
            groups.setdefault(segment.lesson or plan.lesson, []).append(number)
        for lesson, numbers in groups.items():
            own = lesson == plan.lesson
            ident = plan.topic.id if own else lesson.split("_", 1)[-1]
            segments = tuple(plan.segments[n] for n in numbers)
            times = tuple(timing[n] for n in numbers)
            out.append(
                DeckPlan(ident, lesson, plan.topic, segments, plan.notes if own else (), times)
            )
    return out


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _timing(segments: Sequence[Segment]) -> list[str]:
    """Per segment: "Segment 2 of 6: Lecture, 20 min, 0:15 to 0:35 of the session"."""
    out, start = [], 0
    for number, s in enumerate(segments, 1):
        if s.when == "class":
            where = f"{_clock(start)} to {_clock(start + s.minutes)} of the session"
            start += s.minutes
        else:
            where = f"{s.when}, after the session"
        out.append(
            f"Segment {number} of {len(segments)}: {KIND_LABEL[s.kind]}, {s.minutes} min, {where}"
        )
    return out


def outline(
    decks: Sequence[DeckPlan],
    lessons: Sequence[Lesson],
    notebooks: Mapping[str, nbformat.NotebookNode],
) -> list[Outline]:
    """The marked cells of each deck's lesson (decks whose lesson is missing are left out).

    Raises :class:`SlideError` for a mark that names no segment of its lesson's decks.
    """
    by_name = {x.name: x for x in lessons}
    segments: dict[str, dict[str, DeckPlan]] = {}
    for deck in decks:
        for s in deck.segments:
            segments.setdefault(deck.lesson, {})[s.title] = deck
    found: dict[str, list[SlideSource]] = {}
    for lesson in lessons:
        nb = notebooks[lesson.name]
        sections = cell_sections(nb)
        served: dict[str, list[str]] = {}
        for marker in lesson.markers:
            if marker.kind == "serves":
                served.setdefault(marker.section, []).extend(marker.objectives)
        for index, cell in enumerate(nb.cells):
            if SLIDE_KEY not in cell.metadata:
                continue
            name = cell.metadata[SLIDE_KEY]
            known = segments.get(lesson.name, {})
            if not isinstance(name, str) or name not in known:
                expected = "; ".join(repr(t) for t in known) or "none: the plan has no segment "
                expected += "" if known else f"teaching from {lesson.name}"
                raise SlideError(
                    f"{lesson.path.name}, cell {index}: {SLIDE_KEY}={name!r} names no segment "
                    f"of the plan; expected one of: {expected}"
                )
            ids = tuple(dict.fromkeys(served.get(sections[index], ())))
            deck = known[name].id
            found.setdefault(deck, []).append(SlideSource(index, name, sections[index], ids))
    return [
        Outline(deck, by_name[deck.lesson], tuple(found.get(deck.id, ())))
        for deck in decks
        if deck.lesson in by_name
    ]


def slide_coverage(outlines: Iterable[Outline]) -> dict[str, list[tuple[str, str]]]:
    """Objective id -> the (deck id, slide section) pairs that carry it."""
    out: dict[str, list[tuple[str, str]]] = {}
    for item in outlines:
        for source in item.sources:
            for oid in source.objectives:
                entry = (item.plan.id, source.section)
                if entry not in out.setdefault(oid, []):
                    out[oid].append(entry)
    return out


# --- reading the executed notebook ------------------------------------------------------------


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str | None]] = []  # (src, alt)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.found.append((values.get("src") or "", values.get("alt")))


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def figures(cell: nbformat.NotebookNode, *, where: str) -> list[Figure]:
    """The figures an executed code cell shows, each with its alt text.

    A figure must come as ``<img alt=...>`` (a ``DescribedFigure`` shows itself so); an image
    without alt text raises :class:`SlideError`, since a slide must not show it unexplained.
    """
    out = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parser = _Images()
        parser.feed(_text(data.get("text/html", "")))
        images = [(src, alt) for src, alt in parser.found if src.startswith("data:image/png")]
        if not images and "image/png" in data:
            raise SlideError(
                f"{where}: the figure has no alt text; draw it as a DescribedFigure "
                "(attention_lab.viz.figure), whose alt text the slide shows to screen readers"
            )
        for src, alt in images:
            if not alt or not alt.strip():
                raise SlideError(f"{where}: the figure's <img> has an empty alt text")
            png = base64.b64decode(src.split(",", 1)[1])
            out.append(Figure(png, alt.strip()))
    return out


def executed_cells(
    source: nbformat.NotebookNode, executed: nbformat.NotebookNode, *, name: str
) -> dict[int, nbformat.NotebookNode]:
    """Source cell index -> its executed code cell (code cells pair up in order: the executed
    notebook is cached by its code, so its markdown may be older than the lesson's)."""
    ours = [i for i, c in enumerate(source.cells) if c.cell_type == "code"]
    theirs = [c for c in executed.cells if c.cell_type == "code"]
    if len(ours) != len(theirs):
        raise SlideError(
            f"{name}: the executed notebook has {len(theirs)} code cells, the lesson "
            f"{len(ours)}; expected the notebook the course build executed from this lesson"
        )
    return dict(zip(ours, theirs))


# --- making a deck ------------------------------------------------------------------------------


def _markdown_parts(source: str) -> tuple[str, list[str], list[str], str]:
    """(first heading, list items, display equations, first paragraph) of a markdown cell."""
    text = _MARKER.sub("", source)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if _HEADING.match(line.strip())), 0)
    text = "\n".join(lines[first:])  # text before the cell's heading ends the section above
    equations = [" ".join(e.split()) for e in _EQUATION.findall(text)]
    text = _EQUATION.sub("\n\n", text)
    heading, items, paragraphs, block = "", [], [], []
    in_item = False
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        match = _HEADING.match(stripped)
        item = _ITEM.match(line) if line[:1] not in {" ", "\t"} else None
        if match or item or not stripped:
            if block:
                paragraphs.append(" ".join(block))
                block = []
        if match:
            heading = heading or match["title"]
            in_item = False
        elif item:
            items.append(item["text"].strip())
            in_item = True
        elif not stripped:
            in_item = False
        elif in_item and line[:1] in {" ", "\t"}:
            items[-1] += " " + stripped
        else:
            in_item = False
            block.append(stripped)
    lead = paragraphs[0] if paragraphs else ""
    return heading, items, equations, lead


def make_deck(
    item: Outline,
    source: nbformat.NotebookNode,
    executed: nbformat.NotebookNode,
) -> Deck:
    """The deck of ``item`` from the lesson ``source`` and the notebook the build ``executed``."""
    plan, lesson = item.plan, item.lesson
    cells = executed_cells(source, executed, name=lesson.name)
    timing = dict(zip((s.title for s in plan.segments), plan.timing))
    known = objectives()
    planned = {o for s in plan.segments for o in s.objectives}
    deck_objectives = tuple(o for o in known if o in planned)  # in the syllabus' order
    session = sum(s.minutes for s in plan.segments if s.when == "class")
    title_notes = [
        f"Topic {plan.topic.id}, syllabus duration {plan.topic.duration}; this deck covers "
        f"{session} min of the session.",
        *(f"{timing[s.title]}: {s.title}." for s in plan.segments),
        *plan.notes,
    ]
    slides = [
        Slide(
            "title",
            lesson.title,
            deck_objectives,
            subtitle=f"Topic {plan.topic.id}: {plan.topic.title} · lecture slides",
            points=tuple(f"**{o}** {known[o].text}" for o in deck_objectives if o in known),
            notes=tuple(title_notes),
            source=lesson.name,
        )
    ]
    for segment in plan.segments:
        label = KIND_LABEL[segment.kind] + ("" if segment.when == "class" else f" ({segment.when})")
        slides.append(
            Slide(
                "segment",
                segment.title,
                segment.objectives,
                subtitle=f"{label} · {segment.minutes} min",
                points=tuple(f"**{o}** {known[o].text}" for o in segment.objectives if o in known),
                lead=segment.how if segment.kind != "lecture" else "",
                notes=(timing[segment.title], segment.how),
            )
        )
        for src in (s for s in item.sources if s.segment == segment.title):
            where = f"{lesson.path.name}, cell {src.cell}"
            cell = source.cells[src.cell]
            notes = (timing[segment.title], segment.how)
            if cell.cell_type == "markdown":
                heading, items, equations, lead = _markdown_parts(cell.source)
                slides.append(
                    Slide(
                        "content",
                        heading or src.section or lesson.title,
                        src.objectives,
                        points=tuple(items),
                        lead="" if items or equations else lead,
                        equations=tuple(equations),
                        notes=notes + ((f"In the lesson: {lead}",) if lead and items else ()),
                        source=where,
                    )
                )
                continue
            shown = figures(cells[src.cell], where=where)
            code = "" if shown else cell.source
            if code and has_solution(code):
                code = keep_solutions(code, where=where)
            slides.append(
                Slide(
                    "content",
                    src.section or lesson.title,
                    src.objectives,
                    figures=tuple(shown),
                    code=code,
                    notes=notes + tuple(f"Figure: {f.alt}" for f in shown),
                    source=where,
                )
            )
    return Deck(plan, f"{plan.topic.id} {lesson.title}", tuple(slides))


# --- HTML -------------------------------------------------------------------------------------


def inline_html(text: str) -> str:
    """Inline markdown as HTML, with ``$...$`` math left for MathJax (escaped, never parsed)."""
    spans: list[str] = []

    def keep(match: re.Match) -> str:
        spans.append(html.escape(match.group(0), quote=False))
        return f"\ue000{len(spans) - 1}\ue001"  # private-use characters: markdown keeps them

    rendered = _MD.renderInline(_INLINE_MATH.sub(keep, text))
    return re.sub("\ue000(\\d+)\ue001", lambda m: spans[int(m[1])], rendered)


def _slide_html(slide: Slide, images: Sequence[str]) -> str:
    tag = "h1" if slide.kind == "title" else "h2"
    ids = " ".join(slide.objectives)
    parts = [f'<section data-kind="{slide.kind}" data-objectives="{html.escape(ids)}">']
    parts.append(f"<{tag}>{inline_html(slide.title)}</{tag}>")
    if slide.subtitle:
        parts.append(f'<p class="al-kind">{inline_html(slide.subtitle)}</p>')
    for equation in slide.equations:
        parts.append(f'<div class="al-equation">\\[{html.escape(equation, quote=False)}\\]</div>')
    if slide.points:
        dense = ' class="al-dense"' if len(slide.points) > 4 or slide.kind != "content" else ""
        items = "".join(f"<li>{inline_html(p)}</li>" for p in slide.points)
        parts.append(f"<ul{dense}>{items}</ul>")
    if slide.lead:
        css = "al-how" if slide.kind == "segment" else "al-lead"
        parts.append(f'<p class="{css}">{inline_html(slide.lead)}</p>')
    two = " al-two" if len(images) > 1 else ""
    for src, figure in zip(images, slide.figures):
        alt = html.escape(figure.alt, quote=True)
        parts.append(f'<figure class="al-figure{two}"><img src="{src}" alt="{alt}"></figure>')
    if slide.code:
        code = html.escape(slide.code, quote=False)
        parts.append(f'<pre class="al-code"><code class="language-python">{code}</code></pre>')
    if slide.kind == "content" and slide.objectives:
        parts.append(f'<p class="al-objectives">Objectives {" · ".join(slide.objectives)}</p>')
    notes = "".join(f"<p>{inline_html(n)}</p>" for n in slide.notes)
    if slide.source:
        notes += f"<p>Source: {html.escape(slide.source)}</p>"
    parts.append(f'<aside class="notes">{notes}</aside>')
    parts.append("</section>")
    return "\n".join(parts)


def deck_html(deck: Deck, images: Sequence[Sequence[str]], *, mathjax: str) -> str:
    """The deck's page; ``images[i]`` are the URLs of slide ``i``'s figures."""
    sections = "\n".join(_slide_html(s, i) for s, i in zip(deck.slides, images))
    styles = "".join(
        f'<link rel="stylesheet" href="{ASSETS}/reveal/{f}">\n'
        for f in REVEAL_FILES
        if f.endswith(".css")
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(deck.title)}: lecture slides</title>
{styles}<link rel="stylesheet" href="{ASSETS}/slides.css">
</head>
<body>
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="{ASSETS}/reveal/dist/reveal.js"></script>
<script src="{ASSETS}/reveal/plugin/notes/notes.js"></script>
<script>
window.MathJax = {{
  tex: {{ inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]] }},
  options: {{ enableAssistiveMml: true }},
  startup: {{ typeset: true }}
}};
</script>
<script src="{html.escape(mathjax)}"></script>
<script>
Reveal.initialize({{
  width: {WIDTH}, height: {HEIGHT}, margin: 0.04, center: false, hash: true,
  slideNumber: "c/t", transition: "none", plugins: [RevealNotes]
}});
</script>
</body>
</html>
"""


def index_html(decks: Sequence[Deck], pdfs: Mapping[str, str]) -> str:
    """A page listing the decks (and their PDFs)."""
    rows = []
    for deck in decks:
        pdf = pdfs.get(deck.id)
        extra = f' · <a href="{html.escape(pdf)}">PDF</a>' if pdf else ""
        count = len(deck.slides)
        rows.append(
            f'<li><a href="{deck.file}">{html.escape(deck.title)}</a> ({count} slides){extra}</li>'
        )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Lecture slides</title>
<style>body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; color: #1f2328; }}
a {{ color: #0b4a8b; }}</style></head>
<body><main>
<h1>Lecture slides</h1>
<p>One deck per topic, made from the executed lessons. Arrow keys or Space move through a deck,
S opens the speaker notes (talking points and timings), F shows it full screen.</p>
<ul>
{chr(10).join(rows)}
</ul>
</main></body>
</html>
"""


def revealjs_dir() -> Path:
    """reveal.js as installed by the package ``sphinx-revealjs``."""
    spec = importlib.util.find_spec("sphinx_revealjs")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "reveal.js: the package 'sphinx-revealjs' is not installed; "
            "run `pip install 'attention-lab[course]'`"
        )
    return Path(spec.origin).parent / "_static" / "revealjs"


def install_assets(out: Path, *, mathjax: bool) -> None:
    """Copy reveal.js (and, when ``mathjax``, MathJax) into ``out/_assets``."""
    root = revealjs_dir()
    target = out / ASSETS / "reveal"
    for name in REVEAL_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    fonts = root / "dist" / "theme" / "fonts"
    shutil.copytree(fonts, target / "dist" / "theme" / "fonts", dirs_exist_ok=True)
    theme = target / THEME
    theme.write_text(_IMPORT.sub("", theme.read_text()))
    (out / ASSETS / "slides.css").write_text(CSS)
    if mathjax:
        shutil.copytree(offline.mathjax_dir(), out / ASSETS / "mathjax", dirs_exist_ok=True)


def write_decks(
    decks: Sequence[Deck], out: str | Path, *, mathjax: str | None = None
) -> list[Path]:
    """Write each deck as ``out/<id>.html`` (figures in ``out/<id>/``), the assets and an index.

    ``mathjax``: the URL of ``tex-chtml.js`` relative to ``out`` (the course site passes its own
    copy); None copies MathJax into ``out/_assets/mathjax``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    install_assets(out, mathjax=mathjax is None)
    url = mathjax or f"{ASSETS}/mathjax/tex-chtml.js"
    written = []
    for deck in decks:
        folder = out / deck.id
        if folder.exists():
            shutil.rmtree(folder)
        (out / f"{deck.id}.pdf").unlink(missing_ok=True)  # printed from an older deck
        images: list[list[str]] = []
        count = 0
        for slide in deck.slides:
            urls = []
            for figure in slide.figures:
                count += 1
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"figure-{count}.png").write_bytes(figure.png)
                urls.append(f"{deck.id}/figure-{count}.png")
            images.append(urls)
        path = out / deck.file
        path.write_text(deck_html(deck, images, mathjax=url))
        written.append(path)
    write_index(out, decks)
    return written


def write_index(out: Path, decks: Sequence[Deck]) -> Path:
    """``out/index.html``: the decks, with the PDFs that are next to them."""
    pdfs = {d.id: f"{d.id}.pdf" for d in decks if (out / f"{d.id}.pdf").exists()}
    path = out / "index.html"
    path.write_text(index_html(decks, pdfs))
    return path


# --- PDF --------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """A Chromium to print with: Debian's, or one on PATH; None when there is none."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def cannot_print() -> str:
    """Why PDFs cannot be printed here ("" when they can): no Chromium, or no Playwright."""
    if find_chromium() is None:
        return "no Chromium found (install Debian's 'chromium' package)"
    if importlib.util.find_spec("playwright") is None:
        return "the package 'playwright' is not installed (pip install playwright)"
    return ""


def print_pdfs(
    out: str | Path,
    decks: Sequence[str],
    *,
    chromium: str | None = None,
    browser: Any | None = None,
) -> list[Path]:
    """Print the written decks ``decks`` (their ids) of ``out`` to ``out/<id>.pdf`` with headless
    Chromium: reveal.js' ``?print-pdf`` layout, one page per slide (reveal.js documentation,
    "PDF export"). ``browser``: a Playwright browser already running (else one is started).
    Raises RuntimeError when Playwright or Chromium is missing.
    """
    out = Path(out)
    server = make_server(out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        if browser is not None:
            return _print(browser, base, out, decks)
        chromium = chromium or find_chromium()
        if chromium is None:
            raise RuntimeError(
                "PDF: no Chromium found (expected /usr/bin/chromium or chromium on PATH); "
                "install Debian's 'chromium' package, or leave out --pdf"
            )
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise RuntimeError(
                "PDF: the package 'playwright' is not installed; run `pip install playwright`"
            ) from None
        with sync_playwright() as playwright:
            started = playwright.chromium.launch(
                executable_path=chromium,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            try:
                return _print(started, base, out, decks)
            finally:
                started.close()
    finally:
        server.shutdown()
        server.server_close()


def _print(browser: Any, base: str, out: Path, decks: Sequence[str]) -> list[Path]:
    written = []
    page = browser.new_page()
    try:
        for deck in decks:
            page.goto(f"{base}/{deck}.html?print-pdf", wait_until="networkidle")
            page.wait_for_selector(".pdf-page", state="attached")
            page.evaluate("() => window.MathJax.startup.promise")
            path = out / f"{deck}.pdf"
            page.pdf(path=str(path), print_background=True, prefer_css_page_size=True)
            written.append(path)
    finally:
        page.close()
    return written
