"""Checks on the files a command will write, made before any work starts.

A wrong output path should cost the learner a second, not the minute of training before it. Each
``*_file`` function is a typer callback: ``typer.Option(None, "--json", callback=output_file)``.
A bad value ends the command at once with exit code 2 and a message that names the option, what
was expected and what came. The checks themselves are the library's (:mod:`attention_lab.files`),
so a command and a function refuse the same paths with the same words.
"""

from __future__ import annotations

from pathlib import Path

import typer

from attention_lab.files import check_folder, check_output_file

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _bad_parameter(error: ValueError) -> typer.BadParameter:
    """typer names the option itself: drop the library's ``name: `` prefix."""
    return typer.BadParameter(str(error).split(": ", 1)[-1])


def output_path(path: Path, *, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` if a file can be written there; else ``typer.BadParameter`` saying why."""
    try:
        return check_output_file("path", path, suffixes=suffixes)
    except ValueError as error:
        raise _bad_parameter(error) from None


def output_file(value: Path | None) -> Path | None:
    """Callback: any file the command writes (JSON, CSV, HTML, a checkpoint...)."""
    return None if value is None else output_path(value)


def figure_file(value: Path | None) -> Path | None:
    """Callback: an image, whose format comes from its suffix."""
    return None if value is None else output_path(value, suffixes=FIGURE_SUFFIXES)


def output_folder(value: Path | None) -> Path | None:
    """Callback: a folder the command fills, made with its parents if absent; refused only when
    a file stands where a folder is needed."""
    if value is None:
        return None
    try:
        check_folder("folder", value)
    except ValueError as error:
        raise _bad_parameter(error) from None
    return value
