"""The course from an installed wheel, run in an empty folder, as a new user would run it.

A wheel of this checkout is installed (without its dependencies) into a fresh virtual
environment whose only other path is this environment's site-packages, read for the
dependencies: the editable install of this checkout is not active there, so every command
below runs the wheel's own files, lessons included, from a folder holding nothing else.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(command: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        # the installed wheel alone: no PYTHONPATH pointing back into a checkout
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The fresh environment's bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            tmp / "dist",
            ROOT,
        ],
        tmp,
    )
    (wheel,) = (tmp / "dist").glob("attention_lab-*.whl")
    fresh = tmp / "fresh"
    run([sys.executable, "-m", "venv", "--without-pip", fresh], tmp)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            fresh / "bin" / "python",
            "install",
            "--no-deps",
            wheel,
        ],
        tmp,
    )
    purelib = run(
        [
            fresh / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        tmp,
    )
    # The dependencies: this environment's site-packages, added as a plain path (its .pth files,
    # the editable install's among them, are not read from there).
    Path(purelib.stdout.strip(), "dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    return fresh / "bin"


def test_the_wheel_holds_the_lessons_and_runs_its_own_files(installed, tmp_path):
    where = run(
        [installed / "python", "-c", "import attention_lab.course as c; print(c.LESSONS_DIR)"],
        tmp_path,
    )
    lessons = Path(where.stdout.strip())
    assert str(lessons).startswith(str(installed.parent)), lessons  # not this checkout
    assert sorted(p.name for p in lessons.glob("*.py")) == sorted(
        p.name for p in (ROOT / "src" / "attention_lab" / "lessons").glob("*.py")
    )


def test_notebooks_and_lab_from_an_empty_folder(installed, tmp_path):
    run([installed / "attention-lab", "notebooks", "--out", "nb"], tmp_path)
    notebook = json.loads((tmp_path / "nb" / "04_from_scratch.ipynb").read_text())
    assert any("lab34.q2.check()" in "".join(c["source"]) for c in notebook["cells"])
    # `lab` writes the notebooks, then hands over to JupyterLab (here only asked for its help)
    done = run(
        [installed / "attention-lab", "lab", "--dir", "mine", "--no-browser", "--", "--help"],
        tmp_path,
    )
    assert (tmp_path / "mine" / "04_from_scratch.ipynb").is_file()
    assert "JupyterLab" in done.stdout


def test_build_from_an_empty_folder(installed, tmp_path):
    done = run([installed / "attention-lab", "build", "--out", "site"], tmp_path, timeout=1500)
    assert "built 7 lessons" in done.stdout, done.stdout
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "04_from_scratch.html").is_file()
