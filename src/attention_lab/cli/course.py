"""`attention-lab build | serve | notebooks | coverage`: the course site and the learners' notebooks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._extras import require
from attention_lab.cli._paths import output_folder
from attention_lab.course.lessons import LESSONS_DIR

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("serve")(serve)
    app.command("notebooks")(notebooks)
    app.command("coverage")(coverage)


def build(
    out: Path = typer.Option(
        Path("_build/course"), "--out", callback=output_folder, help="Folder of the built site."
    ),
    lessons: Path = typer.Option(
        LESSONS_DIR, "--lessons", help="Folder of NN_slug.py lessons (default: the course's own)."
    ),
    allow_gaps: bool = typer.Option(
        False, "--allow-gaps", help="Report objectives without coverage instead of failing."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Lessons executed side by side (0: auto)."),
    rerun: bool = typer.Option(
        False, "--rerun", help="Execute every lesson again (clear the cache)."
    ),
    cache_dir: Path | None = typer.Option(
        None,
        "--cache-dir",
        callback=output_folder,
        help="Executed-lesson cache (default: a hidden folder next to --out).",
    ),
) -> None:
    """Execute the lessons (unchanged ones come from the cache) and build the course site."""
    require("course", "build")
    from attention_lab.assessment.assignment import load_assignment
    from attention_lab.assessment.bank import load_questions
    from attention_lab.course.coverage import CoverageError, quiz_questions
    from attention_lab.course.execute import ExecutionError
    from attention_lab.course.lessons import LessonError
    from attention_lab.course.site import BuildError, cpu_jobs
    from attention_lab.course.site import build as build_site

    try:
        report = build_site(
            lessons,
            out,
            questions=quiz_questions(load_questions()),
            assignment=load_assignment(),
            allow_gaps=allow_gaps,
            cache_dir=cache_dir,
            jobs=jobs or cpu_jobs(),
            rerun=rerun,
            pdf=None,  # the slides' PDFs, when a Chromium is found
            log=lambda message: console.print(f"  {message}"),
        )
    except CoverageError as error:
        err.print(f"[red]course incomplete:[/red] {error}")
        err.print("Add the missing sections, hands-on items, quiz questions or slide marks")
        err.print('(a lesson cell\'s metadata slide="<plan segment>"), or build with')
        err.print("--allow-gaps to render the site anyway.")
        raise typer.Exit(1) from None
    except (LessonError, ExecutionError, BuildError, ValueError) as error:
        err.print(f"[red]build failed:[/red] {error}")
        raise typer.Exit(1) from None
    for problem in report.structure:
        err.print(f"[yellow]lesson convention:[/yellow] {problem}")
    for oid, kinds in report.gaps.items():
        err.print(f"[yellow]objective {oid}[/yellow] has no {' / '.join(kinds)}")
    for warning in report.warnings:
        err.print(f"[yellow]renderer:[/yellow] {warning}")
    for note in report.notes:
        err.print(f"[yellow]{note}[/yellow]")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    console.print(
        f"[green]built[/green] {len(report.lessons)} lessons "
        f"({len(report.executed)} executed, {len(report.cached)} from cache): {steps}"
    )
    console.print(
        f"slides {len(report.slides)} decks, {len(report.pdfs)} PDFs in {report.out / 'slides'}"
    )
    console.print(f"open  {report.index}")
    console.print(f"or    attention-lab serve --dir {report.out}   (http://127.0.0.1:8000)")


def serve(
    port: int = typer.Option(8000, "--port", help="Port on 127.0.0.1."),
    directory: Path = typer.Option(Path("_build/course"), "--dir", help="The built site."),
) -> None:
    """Serve the built course site on http://127.0.0.1:PORT (Ctrl-C stops it)."""
    require("course", "serve")
    from attention_lab.course.serve import make_server

    try:
        server = make_server(directory, port=port)
    except (ValueError, OSError) as error:
        err.print(f"[red]cannot serve:[/red] {error}")
        raise typer.Exit(1) from None
    host, bound = server.server_address[:2]
    console.print(f"serving {directory} on http://{host}:{bound}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def notebooks(
    out: Path = typer.Option(
        ..., "--out", callback=output_folder, help="Folder for the .ipynb notebooks."
    ),
    solutions: bool = typer.Option(
        False, "--solutions", help="Also write solution copies into OUT/solutions/."
    ),
    lessons: Path = typer.Option(
        LESSONS_DIR, "--lessons", help="Folder of NN_slug.py lessons (default: the course's own)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace notebooks that differ from a fresh copy (your work)."
    ),
) -> None:
    """Write the learners' notebooks (exercise solutions removed), and optionally the solutions.

    Run again, it writes only new notebooks: one you worked in is kept unless --force is given.
    """
    require("course", "notebooks")
    from attention_lab.course.lessons import LessonError
    from attention_lab.course.notebooks import write_notebooks

    try:
        done = write_notebooks(lessons, out, solutions=solutions, force=force)
    except LessonError as error:
        err.print(f"[red]notebooks failed:[/red] {error}")
        raise typer.Exit(1) from None
    for line in done.summary():
        console.print(line, highlight=False, markup=False)
    console.print(f"open them with:  attention-lab lab --dir {out}")


def coverage(
    lessons: Path = typer.Option(
        LESSONS_DIR, "--lessons", help="Folder of NN_slug.py lessons (default: the course's own)."
    ),
) -> None:
    """Show how many lesson sections, hands-on items, quiz questions and slides serve each objective.

    Exits with status 1 when an objective lacks one of them.
    """
    require("course", "coverage")
    from attention_lab.assessment.bank import load_questions
    from attention_lab.course import coverage as cov
    from attention_lab.course import slides as decks
    from attention_lab.course.lessons import LessonError, load_all, read_notebook
    from attention_lab.objectives import objectives

    try:
        found = load_all(lessons)
        notebooks = {x.name: read_notebook(x.path) for x in found}
        on_slides = decks.slide_coverage(decks.outline(decks.deck_plans(), found, notebooks))
    except (LessonError, decks.SlideError) as error:
        err.print(f"[red]coverage failed:[/red] {error}")
        raise typer.Exit(1) from None
    result = cov.compute(found, cov.quiz_questions(load_questions()), slides=on_slides)
    table = Table(
        "objective", "lesson sections", "hands-on items", "quiz questions", "slides", "covered"
    )
    gaps = result.gaps()
    for oid, objective in objectives().items():
        table.add_row(
            f"{oid} {objective.text[:60]}{'…' if len(objective.text) > 60 else ''}",
            _per_lesson(result.lessons[oid]),
            _per_lesson(result.hands_on[oid]),
            str(len(result.quiz[oid])) if result.quiz[oid] else "—",
            ", ".join(sorted({deck for deck, _ in result.slides[oid]})) or "—",
            "[green]yes[/green]"
            if oid not in gaps
            else "[red]no " + "/".join(gaps[oid]) + "[/red]",
        )
    console.print(table)
    if gaps:
        err.print(f"[red]{len(gaps)} objective(s) not fully covered:[/red] {', '.join(gaps)}")
        raise typer.Exit(1)
    console.print(f"[green]all {len(objectives())} objectives covered[/green]")


def _per_lesson(entries: list[tuple[str, str]]) -> str:
    """ "02 ×3, 04 ×1": how many sections of each lesson serve an objective."""
    counts: dict[str, int] = {}
    for lesson, _ in entries:
        counts[lesson[:2]] = counts.get(lesson[:2], 0) + 1
    return ", ".join(f"{n} ×{c}" for n, c in counts.items()) or "—"
