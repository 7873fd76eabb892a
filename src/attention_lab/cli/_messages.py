"""How every command reports a user error: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text


def fail(error: Exception | str, code: int = 2) -> NoReturn:
    """Print ``error:`` and the message, then end the command with ``code``.

    The message is shown as it is: brackets in a file name are not taken for markup, and the
    terminal colour codes torch puts in some of its messages are decoded rather than printed raw.
    """
    message = Text.assemble(("error:", "red"), " ", Text.from_ansi(str(error)))
    Console(stderr=True).print(message, highlight=False, soft_wrap=True)
    raise typer.Exit(code)
