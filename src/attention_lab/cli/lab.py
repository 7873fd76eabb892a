"""`attention-lab lab [--dir DIR]`: the learner notebooks in JupyterLab, on 127.0.0.1.

attention-lab lab [--dir notebooks] [--port 8888] [--no-browser] [-- JUPYTERLAB OPTIONS...]
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from rich.console import Console

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import output_folder
from attention_lab.course.lab import DEFAULT_FOLDER, lab_command, prepare
from attention_lab.course.lessons import LessonError


def register(app: typer.Typer) -> None:
    app.command("lab", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
        lab
    )


def lab(
    ctx: typer.Context,
    directory: Path = typer.Option(
        DEFAULT_FOLDER, "--dir", callback=output_folder, help="Folder of your notebooks."
    ),
    port: int = typer.Option(8888, "--port", min=0, max=65535, help="Port on 127.0.0.1."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open a browser tab."),
) -> None:
    """Write the course notebooks into DIR if missing, then open JupyterLab there (Ctrl-C stops).

    Notebooks you already worked in are kept as they are. Options after `--` go to JupyterLab.
    """
    console = Console(soft_wrap=True)
    try:
        done = prepare(directory)
        command = lab_command(directory, port=port, open_browser=browser, extra=tuple(ctx.args))
    except (LessonError, RuntimeError, ValueError) as error:
        fail(error)
    for line in done.summary():
        console.print(line, highlight=False, markup=False)
    console.print(f"starting JupyterLab in {directory} on http://127.0.0.1:{port} (Ctrl-C stops)")
    try:
        code = subprocess.call(command)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
