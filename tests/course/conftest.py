"""Shared helpers of the course tests: writing small lessons into a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_lesson(tmp_path: Path):
    """Write a py:percent lesson ``name`` with ``body`` into ``tmp_path/lessons``."""
    folder = tmp_path / "lessons"
    folder.mkdir(exist_ok=True)

    def write(name: str, body: str) -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(body).lstrip())
        return path

    write.folder = folder
    return write
