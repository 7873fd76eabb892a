"""Checks on the files a command will write, made before any work starts.

A wrong output path should cost the learner a second, not the minute of training before it. Each
``*_file`` function is a typer callback: ``typer.Option(None, "--json", callback=output_file)``.
A bad value ends the command at once with exit code 2 and a message that names the option, what
was expected and what came.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def check_output_file(path: Path, *, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` if a file can be written there; else ``typer.BadParameter`` saying why."""
    text = str(path)
    if text in ("", ".") or path.name in ("", ".", ".."):
        raise typer.BadParameter(f"expected a file name, got {text!r}")
    if path.is_dir():
        raise typer.BadParameter(f"expected a file path, got the directory '{text}'")
    parent = path.parent
    if not parent.is_dir():
        raise typer.BadParameter(f"the folder '{parent}' does not exist (create it first)")
    if not os.access(parent, os.W_OK):
        raise typer.BadParameter(f"cannot write in the folder '{parent}'")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise typer.BadParameter(f"expected a file ending in {', '.join(suffixes)}, got '{text}'")
    return path


def output_file(value: Path | None) -> Path | None:
    """Callback: any file the command writes (JSON, CSV, HTML, a checkpoint...)."""
    return None if value is None else check_output_file(value)


def figure_file(value: Path | None) -> Path | None:
    """Callback: an image, whose format comes from its suffix."""
    return None if value is None else check_output_file(value, suffixes=FIGURE_SUFFIXES)


def output_folder(value: Path | None) -> Path | None:
    """Callback: a folder the command fills, made with its parents if absent; refused only when
    a file stands where a folder is needed."""
    from attention_lab.course.files import check_folder

    if value is None:
        return None
    try:
        check_folder("folder", value)
    except ValueError as error:
        raise typer.BadParameter(str(error).removeprefix("folder: ")) from None
    return value
