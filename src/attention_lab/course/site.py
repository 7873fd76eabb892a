"""Build the course site: check coverage, execute lessons (cached), render with Jupyter Book 1.x.

``build(lessons_dir, out)`` does, in order:

1. read every lesson ``NN_slug.py`` and its objective markers; compute the objectives coverage
   and, unless ``allow_gaps``, fail naming each objective that lacks a lesson section, a hands-on
   item or a quiz question;
2. execute the lessons with a cache keyed by their code (:mod:`attention_lab.course.execute`);
3. write the book's source (landing page, lessons, instructor guide, coverage page, ``_toc.yml``,
   ``_config.yml``) into the cache folder, touching only files whose content changed, so Sphinx
   re-renders only what changed;
4. render it with Sphinx through Jupyter Book, straight into ``out``;
5. copy MathJax and plotly.js into ``out/_static``, write the lecture slides into ``out/slides``
   from the executed notebooks (:mod:`attention_lab.course.slides`; PDFs when asked and Chromium
   is there) and check that no page loads anything from outside the site.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat
import yaml

from attention_lab.course import coverage as cov
from attention_lab.course import offline, pages
from attention_lab.course import slides as deck
from attention_lab.course.execute import Executed, execute_all
from attention_lab.course.lessons import (
    HEADING,
    LESSONS_DIR,
    Lesson,
    LessonError,
    check_structure,
    discover,
    load,
    read_notebook,
)
from attention_lab.course.notebooks import has_solution, keep_solutions, student_copy
from attention_lab.files import check_folder
from attention_lab.objectives import objectives

TITLE = "The Transformer Revolution: Attention is All You Need"
DEFAULT_OUT = Path("_build/course")
# Where lessons run and the book source lives; the executed-notebook cache sits under it.
IGNORED_ASSETS = {"__pycache__", ".ipynb_checkpoints", ".jupyter_cache"}
MARKER_LINE = re.compile(r"<!--\s*(serves|hands-on)\s*:\s*([^>]*?)\s*-->", re.IGNORECASE)
CSS = """\
.al-objectives, .al-hands-on {
  display: inline-block; font-size: 0.8em; padding: 0.1em 0.6em; margin: 0 0 0.6em 0;
  border-radius: 1em; border: 1px solid var(--pst-color-border, #ccc);
}
.al-objectives { background: var(--pst-color-surface, #eef4fb); }
.al-hands-on { background: #fff4e0; color: #5a3b00; }
/* Code cells wrap long lines inside the content column (a 1280-pixel window leaves room for
   about 78 characters of code): nothing is cut off behind a horizontal scroll bar. */
div.cell_input pre { white-space: pre-wrap; overflow-wrap: anywhere; }
/* Matrices shown as labelled tables (attention_lab.viz.tables.matrix_table). */
table.labelled-matrix { margin: 0.2em 0 0.8em 0; font-variant-numeric: tabular-nums; }
table.labelled-matrix th, table.labelled-matrix td { padding: 0.1em 0.6em; }
/* Accessibility (WCAG 2.1 AA): figures carry their numbers in a collapsed table, interactive
   heatmaps are read cell by cell from the keyboard, the focus is always visible. */
figure.al-figure, figure.al-plot { margin: 0.6em 0 1em 0; }
.al-plot-caption, .al-heatmap-live { font-size: 0.9em; margin: 0.3em 0; }
.al-heatmap-live { min-height: 1.5em; font-variant-numeric: tabular-nums; }
details.al-figure-numbers { margin: 0.3em 0 0.8em 0; }
details.al-figure-numbers summary { cursor: pointer; }
table.al-numbers { margin: 0.4em 0; font-variant-numeric: tabular-nums; font-size: 0.85em; }
table.al-numbers th, table.al-numbers td { padding: 0.05em 0.5em; text-align: right; }
/* Dark theme: the theme gives HTML outputs a light grey background (#ced6dd) on which coloured
   feedback and muted captions fall below 4.5:1; white behind dark text keeps every output at AA.
   (.text_html twice: more specific than the theme's rule.) */
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html.text_html {
  background-color: #fff; color: #14181e;
}
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html caption,
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html figcaption,
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html h1,
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html h2,
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html h3 {
  color: #14181e;
}
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html code {
  color: #14181e; background-color: #eef1f4;
}
.js-plotly-plot:focus-visible, details.al-figure-numbers summary:focus-visible,
.al-scroll:focus-visible, .al-quiz :focus-visible {
  outline: 3px solid var(--pst-color-primary, #1a56c4); outline-offset: 2px;
}
"""


class BuildError(RuntimeError):
    """The course could not be built (a lesson failed, the renderer failed, a page is online)."""


@dataclass
class BuildReport:
    """What a build did: where the site is, how long each step took, what is not yet right."""

    out: Path
    cache_dir: Path
    lessons: list[str] = field(default_factory=list)
    executed: dict[str, float] = field(default_factory=dict)  # lesson -> seconds (run now)
    cached: dict[str, float] = field(default_factory=dict)  # lesson -> seconds (earlier run)
    gaps: dict[str, list[str]] = field(default_factory=dict)
    structure: list[str] = field(default_factory=list)  # lesson convention problems
    warnings: list[str] = field(default_factory=list)  # from the renderer
    seconds: dict[str, float] = field(default_factory=dict)  # step -> seconds
    slides: list[Path] = field(default_factory=list)  # the decks written
    pdfs: list[Path] = field(default_factory=list)  # their PDFs, when printed
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def default_cache_dir(out: Path) -> Path:
    """The cache folder of a site built into ``out``: a hidden sibling, never served."""
    return out.parent / f".{out.name}-cache"


def prepare(lessons_dir: Path) -> tuple[list[Lesson], dict[str, nbformat.NotebookNode]]:
    """Read every lesson and check its solution blocks; raise :class:`LessonError` if broken."""
    lessons, notebooks = [], {}
    for path in discover(lessons_dir):
        nb = read_notebook(path)
        lesson = load(path, nb)
        student_copy(nb, name=path.name)  # raises on unbalanced solution markers
        lessons.append(lesson)
        notebooks[lesson.name] = nb
    return lessons, notebooks


def build(
    lessons_dir: str | Path = LESSONS_DIR,
    out: str | Path = DEFAULT_OUT,
    *,
    questions: Iterable[cov.QuizQuestion] | None = None,
    assignment: Any | None = None,
    allow_gaps: bool = False,
    cache_dir: str | Path | None = None,
    jobs: int = 1,
    rerun: bool = False,
    timeout: int = 600,
    pdf: bool | None = False,
    log: Callable[[str], None] = lambda message: None,
) -> BuildReport:
    """Build the course site from ``lessons_dir`` into ``out``; see the module docstring.

    ``pdf``: print each slide deck to PDF (True), only when a Chromium is found (None), or not.

    ``questions``: the quiz's questions for the coverage check (``coverage.quiz_questions(bank)``);
    None counts as no quiz, which the check refuses unless ``allow_gaps``. ``assignment``: the
    written assignment (``assessment.load_assignment()``) whose exemplar answers the instructor
    guide shows.
    """
    out = Path(out).resolve()
    cache = Path(cache_dir).resolve() if cache_dir else default_cache_dir(out)
    if out == cache or cache in out.parents or out in cache.parents:
        raise ValueError(f"cache_dir: expected a folder apart from out={out}, got {cache}")
    # before any lesson runs: a file in the way would otherwise stop the build at its end
    check_folder("out", out)
    check_folder("cache_dir", cache)
    report = BuildReport(out=out, cache_dir=cache)
    clock = time.perf_counter()

    # 1) lessons, markers and coverage
    lessons, notebooks = prepare(Path(lessons_dir))
    report.lessons = [x.name for x in lessons]
    for lesson in lessons:
        report.structure += check_structure(lesson, notebooks[lesson.name])
    outlines = deck.outline(deck.deck_plans(), lessons, notebooks)
    coverage = cov.compute(lessons, questions, slides=deck.slide_coverage(outlines))
    report.gaps = coverage.gaps()
    if not allow_gaps:
        cov.check(coverage)
        if report.structure:
            raise LessonError(
                "lessons break the course conventions:\n  " + "\n  ".join(report.structure)
            )
    report.seconds["check"] = time.perf_counter() - clock

    # 2) execute (cached)
    clock = time.perf_counter()
    src = cache / "book"
    results = execute_lessons(
        lessons, notebooks, cache, jobs=jobs, rerun=rerun, timeout=timeout, log=log
    )
    for item in results:
        (report.cached if item.cached else report.executed)[item.name] = round(item.seconds, 2)
    report.seconds["execute"] = time.perf_counter() - clock

    # 3) the book's source
    clock = time.perf_counter()
    links: dict[str, list[tuple[str, str]]] = {}
    for item in outlines:
        entry = (item.lesson.title, f"slides/{item.plan.file}")
        links.setdefault(item.plan.topic.id, []).append(entry)
    _stage(src, Path(lessons_dir), lessons, notebooks, results, coverage, assignment, links)
    report.seconds["stage"] = time.perf_counter() - clock

    # 4) render
    clock = time.perf_counter()
    report.warnings = _render(src, out, cache / "doctrees")
    report.seconds["render"] = time.perf_counter() - clock

    # 5) our own static files (Sphinx copies them only when some page was rewritten, so a warm
    # build would keep a stale stylesheet) and the offline assets
    clock = time.perf_counter()
    _sync_static(src / "_static", out / "_static")
    offline.install_assets(out / "_static")
    _sidebar_landmark(out)
    report.seconds["assets"] = time.perf_counter() - clock

    # 6) the lecture slides, from the notebooks executed above; then the offline check
    clock = time.perf_counter()
    executed = {x.name: x.notebook for x in results}
    report.slides, report.pdfs, report.notes = write_slides(
        outlines,
        notebooks,
        executed,
        out / "slides",
        mathjax="../_static/mathjax/tex-chtml.js",
        pdf=pdf,
    )
    report.seconds["slides"] = time.perf_counter() - clock
    clock = time.perf_counter()
    problems = offline.external_resources(out)
    if problems:
        raise BuildError(
            "pages would load resources from outside the site:\n  " + "\n  ".join(problems)
        )
    report.seconds["check offline"] = time.perf_counter() - clock
    return report


def execute_lessons(
    lessons: list[Lesson],
    notebooks: dict[str, nbformat.NotebookNode],
    cache: Path,
    *,
    jobs: int = 1,
    rerun: bool = False,
    timeout: int = 600,
    log: Callable[[str], None] = lambda message: None,
) -> list[Executed]:
    """Execute the lessons as the site shows them, with the cache under ``cache/executed``."""
    executed_dir = cache / "executed"
    if rerun and executed_dir.exists():
        shutil.rmtree(executed_dir)

    def done(item: Executed) -> None:
        how = "cached" if item.cached else "executed"
        log(f"{how:>8}  {item.name}  ({item.seconds:.1f} s)")

    return execute_all(
        [(x.name, _site_notebook(notebooks[x.name], x.name)) for x in lessons],
        cache_dir=executed_dir,
        workdir=cache / "book",
        extra_env={
            "ATTENTION_LAB_PLOTLYJS": offline.PLOTLY_URL,
            "ATTENTION_LAB_ARTIFACTS": str(cache / "artifacts"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        },
        timeout=timeout,
        jobs=jobs,
        on_done=done,
    )


def write_slides(
    outlines: list[deck.Outline],
    notebooks: dict[str, nbformat.NotebookNode],
    executed: dict[str, nbformat.NotebookNode],
    out: Path,
    *,
    mathjax: str | None,
    pdf: bool | None,
) -> tuple[list[Path], list[Path], list[str]]:
    """Write the decks of ``outlines`` into ``out``; print PDFs if ``pdf`` (None: if Chromium is
    found). Returns (decks, PDFs, notes on what was left out)."""
    decks = [deck.make_deck(x, notebooks[x.lesson.name], executed[x.lesson.name]) for x in outlines]
    written = deck.write_decks(decks, out, mathjax=mathjax)
    notes: list[str] = []
    if pdf is None:
        reason = deck.cannot_print()
        if reason:
            notes.append(f"slides: no PDFs printed: {reason}")
        pdf = not reason
    pdfs = deck.print_pdfs(out, [d.id for d in decks]) if pdf else []
    if pdfs:
        deck.write_index(out, decks)  # now with the PDFs
    return written, pdfs, notes


def build_slides(
    lessons_dir: str | Path = LESSONS_DIR,
    out: str | Path = Path("_build/slides"),
    *,
    cache_dir: str | Path | None = None,
    pdf: bool = False,
    jobs: int = 1,
    timeout: int = 600,
    log: Callable[[str], None] = lambda message: None,
) -> BuildReport:
    """Only the lecture slides, into ``out``: the lessons come from the course build's cache
    (``cache_dir``, default that of a site in ``_build/course``); a lesson not in it runs once and
    is cached for the next build."""
    out = Path(out).resolve()
    cache = Path(cache_dir).resolve() if cache_dir else default_cache_dir(DEFAULT_OUT.resolve())
    check_folder("out", out)
    check_folder("cache_dir", cache)
    report = BuildReport(out=out, cache_dir=cache)
    lessons, notebooks = prepare(Path(lessons_dir))
    report.lessons = [x.name for x in lessons]
    outlines = deck.outline(deck.deck_plans(), lessons, notebooks)
    needed = {x.lesson.name for x in outlines}
    clock = time.perf_counter()
    results = execute_lessons(
        [x for x in lessons if x.name in needed],
        notebooks,
        cache,
        jobs=jobs,
        timeout=timeout,
        log=log,
    )
    for item in results:
        (report.cached if item.cached else report.executed)[item.name] = round(item.seconds, 2)
    report.seconds["execute"] = time.perf_counter() - clock
    clock = time.perf_counter()
    executed = {x.name: x.notebook for x in results}
    report.slides, report.pdfs, report.notes = write_slides(
        outlines, notebooks, executed, out, mathjax=None, pdf=pdf
    )
    report.seconds["slides"] = time.perf_counter() - clock
    return report


def _site_notebook(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The notebook as the site shows it: solution markers gone, solution cells folded,
    objective markers turned into small labels."""
    nb = nbformat.from_dict(nb)  # a copy: from_dict rebuilds every container
    known = objectives()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_solution(cell.source):
            cell.source = keep_solutions(cell.source, where=f"{name}, cell {index}")
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
        elif cell.cell_type == "markdown":
            cell.source = _with_badges(cell.source, known)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _badge(match: re.Match, known: dict) -> str:
    """A small visible label for a marker, its tooltip the objectives' syllabus wording."""
    kind, ids = match[1].lower(), re.split(r"[\s,]+", match[2].strip())
    tip = html.escape(" · ".join(f"{i} {known[i].text}" for i in ids if i in known), quote=True)
    label = "Objectives" if kind == "serves" else "Hands-on"
    css = "al-objectives" if kind == "serves" else "al-hands-on"
    return f'<span class="{css}" title="{tip}">{label} {" · ".join(ids)}</span>'


def _with_badges(source: str, known: dict) -> str:
    """Markdown with a label after each marker; markers above the cell's first heading get
    their labels just below that heading, where the section starts."""
    lines = source.splitlines()
    has_heading = any(HEADING.match(line) for line in lines)
    out: list[str] = []
    waiting: list[str] = []
    seen_heading = False
    for line in lines:
        badges = [_badge(m, known) for m in MARKER_LINE.finditer(line)]
        if HEADING.match(line):
            out.append(line)
            if waiting:
                out += ["", f'<p class="al-badges">{" ".join(waiting)}</p>', ""]
                waiting = []
            seen_heading = True
        elif badges and has_heading and not seen_heading:
            out.append(line)
            waiting += badges
        else:
            out.append(line + "".join(badges))
    return "\n".join(out)


def _write_if_changed(path: Path, data: str | bytes) -> None:
    """Write only when the content differs, so unchanged pages keep their mtime (warm rebuild)."""
    raw = data.encode() if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def _sync_static(staged: Path, served: Path) -> None:
    """Copy every file staged under ``staged`` to the same place under ``served`` if it differs."""
    for path in staged.rglob("*"):
        if path.is_file():
            _write_if_changed(served / path.relative_to(staged), path.read_bytes())


def section_anchors(lessons: list[Lesson]) -> dict[tuple[str, str], str]:
    """(lesson, section title) -> the HTML id Sphinx gives that section."""
    from docutils.nodes import make_id

    return {
        (x.name, m.section): make_id(m.section) for x in lessons for m in x.markers if m.section
    }


def _stage(
    src: Path,
    lessons_dir: Path,
    lessons: list[Lesson],
    notebooks: dict[str, nbformat.NotebookNode],
    results: list[Executed],
    coverage: cov.Coverage,
    assignment: Any | None = None,
    slides: dict[str, list[tuple[str, str]]] | None = None,
) -> None:
    src.mkdir(parents=True, exist_ok=True)
    wanted = {"index.md", "instructor_guide.md", "coverage.md", "_toc.yml", "_config.yml"}
    _write_if_changed(src / "index.md", pages.landing_page(lessons, title=TITLE, notebooks=True))
    _write_if_changed(
        src / "instructor_guide.md", pages.instructor_guide(lessons, assignment, slides)
    )
    page = cov.render_markdown(coverage, lessons, section_anchors(lessons))
    _write_if_changed(src / "coverage.md", page)
    for item in results:
        wanted.add(f"{item.name}.ipynb")
        _write_if_changed(src / f"{item.name}.ipynb", nbformat.writes(item.notebook) + "\n")
    # Student notebooks to download from the landing page.
    for lesson in lessons:
        nb = student_copy(notebooks[lesson.name], name=lesson.path.name)
        _write_if_changed(
            src / "_static" / "notebooks" / f"{lesson.name}.ipynb", nbformat.writes(nb) + "\n"
        )
    _write_if_changed(src / "_static" / "attention-lab.css", CSS)
    favicon = resources.files(__package__).joinpath("favicon.svg").read_bytes()
    _write_if_changed(src / "_static" / "favicon.svg", favicon)
    _copy_lesson_assets(lessons_dir, src)
    for stale in src.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    _write_if_changed(src / "_toc.yml", yaml.safe_dump(_toc(lessons), sort_keys=False))
    _write_if_changed(src / "_config.yml", yaml.safe_dump(_config(), sort_keys=False))


def _copy_lesson_assets(lessons_dir: Path, src: Path) -> None:
    """Images and data files next to the lessons, so relative links in lessons resolve."""
    for path in lessons_dir.rglob("*"):
        relative = path.relative_to(lessons_dir)
        if (
            not path.is_file()
            or path.suffix in {".py", ".pyc", ".ipynb"}
            or IGNORED_ASSETS.intersection(relative.parts)
        ):
            continue
        _write_if_changed(src / relative, path.read_bytes())


def _toc(lessons: list[Lesson]) -> dict:
    topics = [x for x in lessons if x.slug not in {"quiz", "assignment"}]
    assessment = [x for x in lessons if x.slug in {"quiz", "assignment"}]
    parts = [{"caption": "Lessons", "chapters": [{"file": x.name} for x in topics]}]
    if assessment:
        parts.append({"caption": "Assessment", "chapters": [{"file": x.name} for x in assessment]})
    parts.append(
        {
            "caption": "For instructors",
            "chapters": [{"file": "instructor_guide"}, {"file": "coverage"}],
        }
    )
    parts = [p for p in parts if p["chapters"]]
    return {"format": "jb-book", "root": "index", "parts": parts}


def _config() -> dict:
    """Jupyter Book settings: nothing executes (lessons ran already), nothing loads from a CDN."""
    return {
        "title": TITLE,
        "author": "attention-lab",
        "copyright": "attention-lab",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "launch_buttons": {
            "thebe": False,
            "binderhub_url": "",
            "colab_url": "",
            "jupyterhub_url": "",
        },
        "repository": {"url": ""},
        "html": {
            "favicon": "_static/favicon.svg",  # else browsers ask for /favicon.ico (a 404)
            "use_repository_button": False,
            "use_issues_button": False,
            "use_edit_page_button": False,
            "use_multitoc_numbering": False,
            "home_page_in_navbar": True,
        },
        "sphinx": {
            "config": {
                "mathjax_path": offline.MATHJAX_URL,
                # every equation also carries MathML for screen readers (MathJax 3)
                "mathjax3_config": {"options": {"enableAssistiveMml": True}},
                "html_static_path": ["_static"],
                "html_css_files": ["attention-lab.css"],
                "nb_ipywidgets_js": {},  # its defaults are CDN URLs
                "html_theme_options": {
                    "use_download_button": False,
                    "use_fullscreen_button": True,
                    "launch_buttons": {},
                    "repository_url": "",
                    "use_repository_button": False,
                    "search_bar_text": "Search the course...",
                },
                "html_show_sourcelink": False,
                "html_context": {"default_mode": "light"},  # an empty mode logs a console error
                "suppress_warnings": ["myst.domains", "mystnb.unknown_mime_type"],
            }
        },
    }


# Jupyter Book loads these whatever the settings; a static offline site needs none of them
# (sphinx_thebe declares a CDN URL in every page, and its script twice on a rebuild).
_UNUSED_EXTENSIONS = {"sphinx_thebe", "sphinx_comments"}


@contextlib.contextmanager
def _quiet_python_warnings():
    """Hide Python deprecation warnings raised inside Sphinx extensions while they render."""
    import warnings

    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        yield


def _render(src: Path, out: Path, doctrees: Path) -> list[str]:
    """Run Sphinx with Jupyter Book's configuration on ``src``; return its warnings.

    The same steps as ``jupyter_book.sphinx.build_sphinx`` for HTML, minus the extensions above.
    """
    from jupyter_book.config import get_final_config
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    config, _ = get_final_config(
        user_yaml=src / "_config.yml",
        cli_config={"latex_individualpages": False},
        sourcedir=src,
        use_external_toc=True,
    )
    config["extensions"] = [e for e in config["extensions"] if e not in _UNUSED_EXTENSIONS]
    config.pop("comments_config", None)  # belongs to sphinx_comments
    warnings = io.StringIO()
    try:
        with (
            patch_docutils(None),
            docutils_namespace(),
            contextlib.redirect_stdout(io.StringIO()),
            _quiet_python_warnings(),
        ):
            app = Sphinx(
                srcdir=str(src),
                confdir=None,
                outdir=str(out),
                doctreedir=str(doctrees),
                buildername="html",
                confoverrides=config,
                status=None,
                warning=warnings,
                freshenv=False,
            )
            app.build(False, [])
            status = app.statuscode
    except Exception as error:  # Sphinx raises many kinds; all mean the site was not rendered
        raise BuildError(
            f"rendering the site failed: {error}\n{warnings.getvalue()[-4000:]}"
        ) from error
    text = re.sub(r"\x1b\[[0-9;]*m", "", warnings.getvalue())  # colour codes
    if status != 0:
        raise BuildError(f"rendering the site failed (status {status}):\n{text[-4000:]}")
    return [line for line in text.splitlines() if "WARNING" in line or "ERROR" in line]


SIDEBAR = '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">'


def _sidebar_landmark(out: Path) -> None:
    """Make the theme's left sidebar a landmark: its course title sits outside its <nav>, and
    every piece of a page belongs in a landmark for screen-reader navigation (WCAG 1.3.1)."""
    landmark = SIDEBAR[:-1] + ' role="complementary" aria-label="Course contents">'
    for page in out.glob("*.html"):
        text = page.read_text()
        if SIDEBAR in text:
            page.write_text(text.replace(SIDEBAR, landmark, 1))


def cpu_jobs() -> int:
    """How many lessons to execute side by side by default: two on a machine with two cores."""
    return max(1, min(2, os.cpu_count() or 1))
