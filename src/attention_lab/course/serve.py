"""Serve a built course site on 127.0.0.1 (the standard library's HTTP server, quiet)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar


class _QuietHandler(SimpleHTTPRequestHandler):
    # .js and .woff files must carry the right type for module scripts and fonts.
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ipynb": "application/x-ipynb+json",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(directory: str | Path, *, port: int = 8000, host: str = "127.0.0.1"):
    """An HTTP server for the site in ``directory`` on ``host:port`` (port 0: any free port).

    Only loopback hosts are accepted: the course site is for this machine.
    """
    root = Path(directory)
    if not (root / "index.html").is_file():
        raise ValueError(
            f"directory: expected a built course site (with index.html), got {str(root)!r}; "
            f"run `attention-lab build` first"
        )
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"host: expected a loopback address such as 127.0.0.1, got {host!r}")
    if not 0 <= port <= 65535:
        raise ValueError(f"port: expected 0..65535, got {port}")
    handler = functools.partial(_QuietHandler, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)
