"""The Gradescope autograder: the zip `attention-lab gradescope` writes, run as Gradescope runs it.

Each test lays out a root folder the way Gradescope documents it (``source/`` holding the unzipped
autograder, ``run_autograder`` copied beside it, ``submission/``, ``results/``), runs
``run_autograder`` with AUTOGRADER_ROOT pointing there, and checks ``results/results.json``
against Gradescope's documented format (a JSON Schema written from its specification).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest
import torch
from typer.testing import CliRunner

from attention_lab.assessment.grader.sandbox import _others_may_run_python
from attention_lab.assessment.gradescope import (
    RESULTS_SCHEMA,
    AutograderConfig,
    find_submission,
    results_json,
)
from attention_lab.cli import app
from attention_lab.exercises import DIAGNOSES, EXERCISES
from attention_lab.exercises import solutions as solutions_module

FULL = float(sum(ex.points for ex in EXERCISES.values()))
SCHEMA = json.loads(RESULTS_SCHEMA.read_text())


def solution_source() -> str:
    """The model answers as a learner's file would hold them."""
    text = Path(solutions_module.__file__).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("from __future__"))


def notebook(*cells: str) -> str:
    code = [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
        for c in cells
    ]
    return json.dumps({"cells": code, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def make_zip(folder: Path, *extra: str) -> Path:
    out = folder / "autograder.zip"
    result = CliRunner().invoke(app, ["gradescope", "--out", str(out), "--timeout", "60", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> dict[str, Path]:
    """The default zip, and one fixed to the basic sandbox: what a Docker container that
    refuses namespaces (Gradescope's) gets."""
    folder = tmp_path_factory.mktemp("zips")
    (folder / "basic").mkdir()
    return {"auto": make_zip(folder), "basic": make_zip(folder / "basic", "--isolation", "basic")}


def lay_out(tmp_path: Path, zip_path: Path, files: dict[str, str]) -> Path:
    """/autograder as Gradescope builds it: the zip unpacked into source/ (modes kept), the
    run_autograder script copied to the root, the submission's files in submission/."""
    root = tmp_path / "autograder"
    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = source / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            os.chmod(target, (info.external_attr >> 16) & 0o777)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> tuple[dict, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AUTOGRADER_ROOT": str(root),
        "AUTOGRADER_PYTHON": python,
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results, done.stdout


def by_target(results: dict) -> dict[str, dict]:
    tests = {}
    for test in results["tests"]:
        match = re.search(r"\(`(\w+)`\)$", test["name"])
        assert match, test["name"]
        tests.setdefault(match.group(1), []).append(test)
    return tests


def test_zip_holds_gradescopes_layout(zips):
    with zipfile.ZipFile(zips["auto"]) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        requirements = archive.read("requirements.txt").decode().split()
        config = json.loads(archive.read("gradescope.json"))
    for script in ("setup.sh", "run_autograder"):  # at the root, executable
        assert (infos[script].external_attr >> 16) & stat.S_IXUSR, script
    assert "attention_lab/exercises/runner.py" in infos
    assert "attention_lab/assessment/grader/child.py" in infos
    assert not [name for name in infos if "__pycache__" in name or name.endswith(".pyc")]
    assert f'"torch=={torch.__version__.split("+")[0]}"' in setup and "whl/cpu" in setup
    assert not [r for r in requirements if re.match(r"torch\b", r)]
    assert {"numpy", "safetensors"} <= {re.match(r"[\w.-]+", r).group(0) for r in requirements}
    assert config == {"seed": 0, "timeout": 60.0, "memory_mb": 2048, "isolation": "auto"}
    check = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_correct_notebook_gets_full_marks(zips, tmp_path):
    root = lay_out(tmp_path, zips["auto"], {"lab34.ipynb": notebook(solution_source())})
    results, stdout = run_autograder(root)
    assert f"from {root / 'source' / 'attention_lab'}" in stdout  # the zip's copy graded it
    assert len(results["tests"]) == len(EXERCISES)
    assert [t["max_score"] for t in results["tests"]] == [ex.points for ex in EXERCISES.values()]
    assert results["score"] == FULL == sum(t["score"] for t in results["tests"])
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert all("`correct`" in t["output"] for t in results["tests"])
    assert results["extra_data"]["status"] == "ok"


def test_wrong_answers_get_their_diagnoses_and_no_reference_values(zips, tmp_path):
    wrong = solution_source() + (
        "\n\ndef attention_weights(scores):  # over the queries\n"
        "    return scores.exp() / scores.exp().sum(dim=-2, keepdim=True)\n"
        "\n\ndef causal_mask(T):  # the future allowed, the past blocked\n"
        "    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)\n"
        "\n\nprint('my own debugging line')\n"
    )
    root = lay_out(tmp_path, zips["auto"], {"deep/folder/attempt.py": wrong})
    results, _ = run_autograder(root)
    tests = by_target(results)
    for target, diagnosis in (
        ("attention_weights", "softmax_wrong_dim"),
        ("causal_mask", "mask_inverted"),
    ):
        (test,) = tests[target]
        assert test["score"] == 0 and test["status"] == "failed"
        assert f"`{diagnosis}`" in test["output"] and DIAGNOSES[diagnosis] in test["output"]
    others = [
        t
        for name, group in tests.items()
        for t in group
        if name not in ("attention_weights", "causal_mask")
    ]
    assert all(t["status"] == "passed" for t in others)
    assert results["score"] == FULL - 2
    assert "my own debugging line" in results["output"]
    # Messages name shapes and positions; a reference value would be a float with decimals.
    texts = [results["output"]] + [t["output"] for t in results["tests"]]
    assert not [m for text in texts for m in re.findall(r"-?\d+\.\d{3,}", text)]


HOSTILE = r'''
"""Reads the reference, forges the results and leaves a process behind to forge them later."""
import os, json, time
ROOT = {root!r}
for path in (ROOT + "/public.txt", ROOT + "/source/attention_lab/exercises/solutions.py",
             ROOT + "/submission"):
    try:
        print("READ", path, open(path).read()[:80] if os.path.isfile(path) else os.listdir(path))
    except OSError as error:
        print("DENIED", path, type(error).__name__)
FAKE = json.dumps({{"score": 999, "tests": []}})
try:
    open(ROOT + "/results/results.json", "w").write(FAKE)
    print("FORGED now")
except OSError as error:
    print("DENIED results", type(error).__name__)
if os.fork() == 0:
    os.setsid()
    time.sleep(4)
    try:
        open(ROOT + "/results/results.json", "w").write(FAKE)
    except OSError:
        pass
    os._exit(0)
'''


@pytest.fixture
def open_folder():
    """A folder anyone may enter (pytest's own temporary folders are root's alone), so that only
    the autograder's own permissions stand between the submission and its files."""
    folder = Path(tempfile.mkdtemp(prefix="gradescope-test-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def python_for_everyone(folder: Path) -> str | None:
    """A Python that users other than root may run, with this environment's packages, as the
    system Python of Gradescope's image is: this one, or the system's Python of the same version
    in a virtual environment given this one's site-packages (None if there is none)."""
    packages = site.getsitepackages()
    if _others_may_run_python(packages):
        return sys.executable
    system = Path("/usr/bin/python3")
    if not system.is_file():
        return None
    version = subprocess.run(
        [system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        return None
    venv = folder / "system-python"
    subprocess.run([system, "-m", "venv", "--without-pip", venv], check=True)
    (purelib,) = venv.glob("lib/python3*/site-packages")
    (purelib / "packages.pth").write_text("\n".join(packages) + "\n")
    return str(venv / "bin" / "python")


@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs the autograder as root")
@pytest.mark.parametrize("level", ["basic", "auto"])
def test_hostile_submission_reads_and_forges_nothing(zips, open_folder, level):
    """At the basic level (Gradescope's Docker) the submission reaches the autograder's folder
    but not what only root may read; in the namespace jail (here, "auto") it sees none of it."""
    python = python_for_everyone(open_folder) if level == "basic" else sys.executable
    if python is None:
        pytest.skip("no Python here that users other than root may run (needed at the basic level)")
    root = open_folder / "autograder"
    files = {"hostile.py": HOSTILE.format(root=str(root)) + "\n" + solution_source()}
    root = lay_out(open_folder, zips[level], files)
    (root / "public.txt").write_text("anyone may read this")
    os.chmod(root / "public.txt", 0o644)
    results, stdout = run_autograder(root, python)
    time.sleep(5)  # past the moment the process it left behind would have struck
    assert json.loads((root / "results" / "results.json").read_text()) == results
    printed = results["output"]
    assert "FORGED" not in printed
    if level == "basic":
        assert "isolation: basic" in stdout and results["extra_data"]["isolation"] == "basic"
        assert f"READ {root}/public.txt anyone may read this" in printed  # it reached the root
        assert printed.count("READ") == 1 and printed.count("DENIED") == 3, printed
    else:
        assert results["extra_data"]["isolation"] == "namespace"
        assert "READ" not in printed and printed.count("DENIED") == 4, printed
    assert results["score"] == FULL  # its answers are right: only the attack failed


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"notes.txt": "my answers are in my head"}, "found none among the files you submitted"),
        (
            {"a.py": "x = 1", "b.ipynb": notebook("y = 2")},
            "expected exactly one .py or .ipynb file, found 2",
        ),
    ],
)
def test_no_single_submission_file_scores_zero_and_says_why(zips, tmp_path, files, expected):
    root = lay_out(tmp_path, zips["auto"], files)
    results, _ = run_autograder(root)
    assert results["score"] == 0 and expected in results["output"]
    assert len(results["tests"]) == len(EXERCISES)
    assert all(t["score"] == 0 and expected in t["output"] for t in results["tests"])


def test_bad_settings_and_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="isolation: expected 'auto', 'namespace' or 'basic'"):
        AutograderConfig(isolation="docker")
    with pytest.raises(TypeError, match="seed: expected an int"):
        AutograderConfig(seed=1.5)
    with pytest.raises(ValueError, match="memory_mb must be at least 512"):
        AutograderConfig(memory_mb=100)
    with pytest.raises(ValueError, match="expected the folder"):
        find_submission(tmp_path / "missing")
    result = CliRunner().invoke(app, ["gradescope", "--out", str(tmp_path / "a.tar")])
    assert result.exit_code == 2 and "expected a file name ending in .zip" in result.output


def test_ungraded_results_follow_the_schema():
    results = results_json(None, "nothing to grade")
    jsonschema.validate(results, SCHEMA)
    broken = dict(results, tests=[{"name": "q1", "score": 1, "visibility": "sometimes"}])
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail
        jsonschema.validate(broken, SCHEMA)
