"""JupyterLab for learners: the course's notebooks, opened on this machine only.

``attention-lab lab --dir nb`` writes the student notebooks into ``nb`` (only those missing: a
notebook the learner worked in is kept), then starts JupyterLab on 127.0.0.1 in that folder with
the Python that runs this package, so the notebooks' ``python3`` kernel imports attention_lab.
JupyterLab keeps its own access token (printed in the link it shows).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.course.notebooks import write_notebooks
from attention_lab.files import Written

DEFAULT_FOLDER = Path("notebooks")
HOST = "127.0.0.1"  # never an address other machines can reach


def prepare(folder: str | Path = DEFAULT_FOLDER, lessons_dir: str | Path = LESSONS_DIR) -> Written:
    """Write the student notebooks that ``folder`` lacks; keep every notebook already there."""
    return write_notebooks(lessons_dir, folder, solutions=False, force=False)


def lab_command(
    folder: str | Path,
    *,
    port: int = 8888,
    open_browser: bool = True,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The command that starts JupyterLab on ``HOST:port`` in ``folder``.

    ``extra`` are further JupyterLab options (e.g. ``--IdentityProvider.token=...``). Raises
    RuntimeError when JupyterLab is not installed, saying how to install it.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port: expected a port number from 0 to 65535, got {port!r}")
    if importlib.util.find_spec("jupyterlab") is None:
        raise RuntimeError(
            "JupyterLab is not installed in this Python "
            f"({sys.executable}); install it with: pip install 'attention-lab[lab]'"
        )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={Path(folder).resolve()}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    return command + list(extra)
