"""Lab 3.4 graded on Gradescope: the batch grader, packed as a Gradescope autograder.

`write_autograder(out)` writes the zip a Gradescope "Programming Assignment" takes, in the layout
Gradescope documents (https://gradescope-autograders.readthedocs.io/en/latest/specs/), every file
at the root of the archive:

- ``setup.sh``: run once, as root, when Gradescope builds the image: installs the CPU build of
  torch (the version this package runs with) and this package's dependencies with pip;
- ``run_autograder``: run once per submission, working directory ``/autograder``;
- ``attention_lab/``: this package (it holds the reference answers, which stay on the grading
  side), ``requirements.txt`` and ``gradescope.json`` (the seed and limits chosen for the zip).

Gradescope unpacks the zip into ``/autograder/source``, puts the learner's files in
``/autograder/submission`` and, when run_autograder ends, reads
``/autograder/results/results.json``. `run(root)` is what run_autograder calls, with ``root``
from the ``AUTOGRADER_ROOT`` environment variable (default ``/autograder``). It grades the one
``.py`` or ``.ipynb`` file of the submission with `grade_batch`: the submission runs in a
sandboxed child that receives input tensors only; this process judges the tensors it returns
against the float64 reference. results.json holds one test per exercise with its score, its
maximum and the batch grader's diagnosis feedback, which names shapes and positions, never a
reference value.

Before grading, ``source`` and ``submission`` are made readable by their owner only. Gradescope
runs the autograder as root, with the system's Python, and the grader runs the submission under
a user id of its own, so the submission can neither read the reference nor write the results,
also where the container refuses the namespace jail (Docker does by default) and the sandbox is
at its ``basic`` level.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
import shutil
import sys
import tempfile
import traceback
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

import attention_lab
from attention_lab.assessment.grader import Limits, SubmissionResult, grade_batch
from attention_lab.assessment.grader.batch import SUBMISSION_SUFFIXES
from attention_lab.assessment.grader.report import exercise_feedback, printed_output
from attention_lab.exercises import DIAGNOSES, EXERCISES
from attention_lab.files import write_atomic

ROOT_VARIABLE = "AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")
CONFIG_NAME = "gradescope.json"
#: The JSON Schema of results.json, written from Gradescope's documentation (see the module).
RESULTS_SCHEMA = Path(__file__).with_name("gradescope_results.schema.json")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
cd "$(dirname "$0")"
export PIP_BREAK_SYSTEM_PACKAGES=1  # Gradescope's images are ours alone; no venv is needed
# torch first, the CPU build: a bare "torch" requirement would pull a multi-GB CUDA build.
python3 -m pip install --no-cache-dir "torch=={torch}" --index-url {index}
python3 -m pip install --no-cache-dir -r requirements.txt
# The grader must import here, so that a broken image fails now, not at the first submission.
PYTHONPATH="$PWD" python3 -c "import attention_lab.assessment.gradescope"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in /autograder; it leaves the scores in
# results/results.json. AUTOGRADER_ROOT moves the whole layout elsewhere (to try it out).
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
export AUTOGRADER_ROOT="$root"
export PYTHONPATH="$root/source"
exec "${AUTOGRADER_PYTHON:-python3}" -m attention_lab.assessment.gradescope
"""


@dataclass(frozen=True)
class AutograderConfig:
    """What a zip is fixed to when it is written (``gradescope.json``)."""

    seed: int = 0  # seed of the test cases: every submission gets the same cases, regrades agree
    timeout: float = 60.0  # wall-clock seconds for one submission (loading it and every call)
    memory_mb: int = 2048  # address-space limit of the submission's process
    isolation: str = "auto"  # "auto" (the namespace jail where allowed), "namespace" or "basic"

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed: expected an int, got {type(self.seed).__name__} {self.seed!r}")
        if self.isolation not in ("auto", "namespace", "basic"):
            raise ValueError(
                f"isolation: expected 'auto', 'namespace' or 'basic', got {self.isolation!r}"
            )
        self.limits()  # the limits' own checks: positive numbers, enough memory for torch

    def limits(self) -> Limits:
        return Limits(
            timeout=self.timeout,
            memory_mb=self.memory_mb,
            case_timeout=min(10.0, self.timeout),
            import_timeout=min(30.0, self.timeout),
        )


# ---------------------------------------------------------------------------------------------
# Writing the zip


def requirements() -> list[str]:
    """This package's own dependencies (no extras, no torch), as pip requirement lines."""
    try:
        declared = importlib.metadata.requires("attention-lab") or []
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            "attention-lab is not installed as a package here (expected pip install, got only "
            "its source on the path), so its dependencies are unknown; install it first"
        ) from None
    kept = []
    for line in declared:
        name = re.match(r"[A-Za-z0-9._-]+", line)
        if "extra ==" in line or name is None or name.group(0).lower() == "torch":
            continue
        kept.append(line)
    return kept


def _package_files() -> dict[str, bytes]:
    """Every file of the installed attention_lab package (no caches), by its path in the zip."""
    package = Path(attention_lab.__file__).resolve().parent
    files = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        files[f"attention_lab/{relative.as_posix()}"] = path.read_bytes()
    return files


def autograder_files(config: AutograderConfig | None = None) -> dict[str, bytes]:
    """The zip's contents, by name: setup.sh, run_autograder, the package and its settings."""
    config = config or AutograderConfig()
    torch_version = torch.__version__.split("+")[0]
    files = {
        "setup.sh": SETUP_SH.format(torch=torch_version, index=TORCH_INDEX).encode(),
        "run_autograder": RUN_AUTOGRADER.encode(),
        "requirements.txt": ("\n".join(requirements()) + "\n").encode(),
        CONFIG_NAME: (json.dumps(asdict(config), indent=2) + "\n").encode(),
    }
    files.update(_package_files())
    return files


def write_autograder(out: str | Path, config: AutograderConfig | None = None) -> list[str]:
    """Write the autograder zip to ``out`` (atomically); returns the names it holds.

    The archive is reproducible (fixed dates, sorted names); the two scripts are executable.
    """
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ValueError(f"out: expected a file name ending in .zip, got {str(out)!r}")
    files = autograder_files(config)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if name in ("setup.sh", "run_autograder") else 0o644
            info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    write_atomic(out, buffer.getvalue())
    return sorted(files)


# ---------------------------------------------------------------------------------------------
# Grading one submission on Gradescope


def find_submission(folder: Path) -> Path:
    """The one .py or .ipynb file in ``folder`` (searched through its sub-folders, hidden ones
    and caches skipped); ValueError naming what was found otherwise."""
    if not folder.is_dir():
        raise ValueError(f"submission: expected the folder '{folder}', found none")
    found = []
    for directory, dirs, names in os.walk(folder):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        found += [
            Path(directory, name)
            for name in sorted(names)
            if not name.startswith(".") and Path(name).suffix.lower() in SUBMISSION_SUFFIXES
        ]
    if len(found) == 1:
        return found[0]
    kinds = " or ".join(f"a {suffix} file" for suffix in SUBMISSION_SUFFIXES)
    if not found:
        names = sorted(p.name for p in folder.rglob("*"))[:10]
        raise ValueError(
            f"expected {kinds} (your Lab 3.4 code), found none among the files you submitted "
            f"({', '.join(names) or 'no files'})"
        )
    listed = ", ".join(str(p.relative_to(folder)) for p in found[:10])
    raise ValueError(f"expected exactly one .py or .ipynb file, found {len(found)}: {listed}")


def results_json(result: SubmissionResult | None, problem: str = "", seconds: float = 0.0) -> dict:
    """results.json in Gradescope's format: a test per exercise, scored, with its feedback.

    ``result`` None means nothing could be graded (``problem`` says why): every test scores 0.
    """
    maximum = sum(float(ex.points) for ex in EXERCISES.values())
    outcomes = {e.exercise_id: e for e in result.exercises} if result is not None else {}
    tests = []
    for number, exercise in enumerate(EXERCISES.values(), start=1):
        outcome = outcomes.get(exercise.id)
        score = outcome.score if outcome is not None else 0.0
        if outcome is not None and outcome.cases:
            text = "\n".join(exercise_feedback(outcome, DIAGNOSES))
        else:
            text = f"Not graded: {problem or (result.detail if result else '')}".strip()
        tests.append(
            {
                "name": f"q{number} {exercise.title} (`{exercise.target}`)",
                "number": str(number),
                "score": score,
                "max_score": float(exercise.points),
                "status": "passed" if score >= float(exercise.points) else "failed",
                "output": text,
                "output_format": "md",
                "tags": list(exercise.objectives),
                "visibility": "visible",
            }
        )
    total = round(sum(t["score"] for t in tests), 2)
    lines = [f"**Lab 3.4: {total:g} / {maximum:g}**", ""]
    if result is None:
        lines.append(f"Your submission could not be graded: {problem}")
    else:
        status = result.status + (f" ({result.detail})" if result.detail else "")
        lines += [
            f"Status: {status}.",
            "",
            "Your code ran in a sandbox (isolation: "
            f"{result.isolation}); its outputs were compared with a reference outside it. What "
            "it printed had no effect on the score.",
        ]
        if result.output.strip():
            lines += ["", "**What your program printed (and any traceback)**", ""]
            lines += printed_output(result)
    return {
        "score": total,
        "execution_time": round(seconds, 2),
        "output": "\n".join(lines),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "status": result.status if result is not None else "not_graded",
            "isolation": result.isolation if result is not None else "",
        },
        "tests": tests,
    }


def _owner_only(folder: Path) -> None:
    """Let only the owner (root on Gradescope) read ``folder``: the submission runs as another."""
    if folder.is_dir():
        os.chmod(folder, 0o700)


def run(root: str | Path, config: AutograderConfig | None = None) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; returns the results.

    ``config`` defaults to ``root/source/gradescope.json``. Anything wrong with the submission
    (none, several, unreadable, not Python) becomes a results.json that says so, scored 0.
    """
    root = Path(root)
    if config is None:
        config = AutograderConfig(**json.loads((root / "source" / CONFIG_NAME).read_text()))
    for folder in (root / "source", root / "submission"):
        _owner_only(folder)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        chosen = find_submission(root / "submission")
    except ValueError as error:
        results = results_json(None, str(error))
    else:
        with tempfile.TemporaryDirectory(prefix="attention-lab-gradescope-") as tmp:
            folder = Path(tmp, "submission")
            folder.mkdir()
            # a link stays a link, which the grader refuses: it is never followed out of the folder
            shutil.copy2(
                chosen, folder / f"submission{chosen.suffix.lower()}", follow_symlinks=False
            )
            report = grade_batch(
                folder,
                Path(tmp, "gradebook.csv"),
                limits=config.limits(),
                jobs=1,
                seed=config.seed,
                isolation=config.isolation,
            )
        result = report.results[0]
        results = results_json(result, seconds=report.seconds)
        name = chosen.relative_to(root / "submission")
        print(f"graded {name}: {result.status}, {result.total:g} points")
        print(f"isolation: {report.isolation} ({report.isolation_reason})")
    write_atomic(results_dir / "results.json", json.dumps(results, indent=2) + "\n")
    return results


def main() -> int:
    """What run_autograder runs: grade the submission under $AUTOGRADER_ROOT (or /autograder)."""
    root = Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
    print(f"attention_lab {attention_lab.__version__} from {Path(attention_lab.__file__).parent}")
    try:
        run(root)
    except Exception:  # the grader's own fault: say so in results.json rather than leave none
        traceback.print_exc(file=sys.stdout)
        problem = "the autograder itself failed; please tell your instructor."
        (root / "results").mkdir(parents=True, exist_ok=True)
        write_atomic(root / "results" / "results.json", json.dumps(results_json(None, problem)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
