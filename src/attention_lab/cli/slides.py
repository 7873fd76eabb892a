"""`attention-lab slides --out DIR [--pdf]`: the lecture slides, one reveal.js deck per topic."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from attention_lab.cli._extras import require
from attention_lab.cli._paths import output_folder
from attention_lab.course.lessons import LESSONS_DIR

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("slides")(slides)


def slides(
    out: Path = typer.Option(
        ..., "--out", callback=output_folder, help="Folder for the decks (DIR/index.html)."
    ),
    pdf: bool = typer.Option(
        False, "--pdf", help="Also print each deck to DIR/<topic>.pdf with headless Chromium."
    ),
    lessons: Path = typer.Option(
        LESSONS_DIR, "--lessons", help="Folder of NN_slug.py lessons (default: the course's own)."
    ),
    cache_dir: Path | None = typer.Option(
        None,
        "--cache-dir",
        callback=output_folder,
        help="Executed-lesson cache of the course build (default: that of _build/course).",
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Lessons executed side by side (0: auto)."),
) -> None:
    """Write the lecture slides: one deck per topic (3.1 to 3.4) and one for the bridge to
    pretrained models, made from the lessons the course build executed (a lesson runs only when
    the build's cache lacks it). Arrow keys or Space move, S opens the speaker notes."""
    require("course", "slides")
    from attention_lab.course.execute import ExecutionError
    from attention_lab.course.lessons import LessonError
    from attention_lab.course.site import build_slides, cpu_jobs

    try:
        report = build_slides(
            lessons,
            out,
            cache_dir=cache_dir,
            pdf=pdf,
            jobs=jobs or cpu_jobs(),
            log=lambda message: console.print(f"  {message}"),
        )
    except (LessonError, ExecutionError, RuntimeError, ValueError) as error:
        err.print(f"[red]slides failed:[/red] {error}")
        raise typer.Exit(1) from None
    for note in report.notes:
        err.print(f"[yellow]{note}[/yellow]")
    for path in report.slides:
        console.print(f"wrote {path}")
    for path in report.pdfs:
        console.print(f"wrote {path}")
    console.print(f"open  {report.out / 'index.html'}")
