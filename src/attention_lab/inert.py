"""Showing text that a submission controls (exception messages, printed output) inertly.

A learner's code can raise an error whose message holds ANSI escape sequences, carriage returns or
bidirectional overrides; written raw into a terminal, a CSV file or a Markdown page they clear the
screen, fake colours or reorder what the reader sees. :func:`inert` writes every such character as
a visible escape (``\\x1b``, ``\\u202e``) instead. This module imports nothing from the package.
"""

from __future__ import annotations

import unicodedata


def inert(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control and format characters (Unicode categories Cc, Cf, Zl, Zp) escaped.

    ``keep_newlines`` keeps ``\\n`` as a line break (for multi-line output such as a traceback);
    tabs are kept. Everything else stays as it was.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    out = []
    for char in text:
        if char == "\t" or (char == "\n" and keep_newlines):
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
