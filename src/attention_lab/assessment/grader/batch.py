"""Grade a folder of Lab 3.4 submissions: one isolated child each, judged here, one gradebook.

The contract, learned from what PrairieLearn, Gradescope and otter got wrong:

- a submission is a ``.py`` or ``.ipynb`` file; the student id is its file stem;
- each runs in its own child (see `sandbox`), which receives only input tensors and writes
  only output tensors (safetensors: data, never code);
- this process, which alone holds the reference, calls each exercise's ``judge`` on those
  tensors, so nothing a submission prints, writes or patches can change its score;
- exactly one gradebook row per submission, also for crashes, timeouts, syntax errors,
  notebooks that raise and files that are not submissions at all; the gradebook is written
  atomically (a temporary file renamed over the target) after every child has ended;
- feedback names the Lab 3.4 diagnoses and the judge's messages, which describe shapes and
  positions, never reference values.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attention_lab.assessment.grader.report import feedback_markdown, gradebook_rows, safe_file_stem
from attention_lab.assessment.grader.results import (
    CaseOutcome,
    ExerciseOutcome,
    PartOutcome,
    SubmissionResult,
)
from attention_lab.assessment.grader.sandbox import (
    ChildRun,
    Limits,
    detect_isolation,
    read_child_file,
    remove_sandbox,
    run_child,
)
from attention_lab.exercises import DIAGNOSES, EXERCISES, Result, runner
from attention_lab.files import check_folder, check_output_file, write_atomic, write_csv_atomic

SUBMISSION_SUFFIXES = (".py", ".ipynb")
MAX_SUBMISSION_BYTES = 2 * 2**20
MAX_OUTPUT_FILE_BYTES = 16 * 2**20


# ---------------------------------------------------------------------------------------------
# Reading submissions (parent side; nothing here executes a submission)


def notebook_to_source(raw: bytes) -> str:
    """The code cells of an .ipynb, in order, as one Python file.

    IPython magics and shell escapes (``%timeit``, ``!pip``) are turned into comments, since
    the grader runs plain Python. Raises ValueError when the file is not a notebook.
    """
    try:
        notebook = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a valid .ipynb notebook (JSON): {error}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a valid .ipynb notebook: no list of 'cells'")
    parts = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        lines = []
        for line in str(source).splitlines():
            stripped = line.lstrip()
            lines.append(f"# (notebook magic) {line}" if stripped[:1] in ("%", "!") else line)
        parts.append(f"# --- cell {number} ---\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def find_submissions(directory: Path) -> list[Path]:
    """Every entry of `directory` whose name ends in .py or .ipynb (links included: they get a
    row saying they were rejected), sorted by name.

    A folder without any is refused (ValueError): it is far more often the wrong folder than a
    class with no submissions, and an empty gradebook would hide the mistake.
    """
    if not directory.is_dir():
        raise ValueError(f"submissions_dir: expected a directory, got {str(directory)!r}")
    found = sorted(
        (p for p in directory.iterdir() if p.suffix.lower() in SUBMISSION_SUFFIXES),
        key=lambda p: p.name,
    )
    if not found:
        patterns = " or ".join(f"*{suffix}" for suffix in SUBMISSION_SUFFIXES)
        raise ValueError(
            f"submissions_dir: no submissions ({patterns} files) in '{directory}'; "
            "is it the right folder?"
        )
    return found


def _read_submission(path: Path) -> bytes:
    """The file's bytes, refusing links, devices, FIFOs and oversized files (ValueError)."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise ValueError("the submission is a symbolic link, not a file; submit the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("the submission is not a regular file")
    if info.st_size > MAX_SUBMISSION_BYTES:
        raise ValueError(f"the file is {info.st_size} bytes; the limit is {MAX_SUBMISSION_BYTES}")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_SUBMISSION_BYTES + 1)


# ---------------------------------------------------------------------------------------------
# Grading one submission


def _save_inputs(inputs: Mapping[str, Any]) -> bytes:
    from safetensors.torch import save

    return save({name: t.detach().cpu().contiguous().clone() for name, t in inputs.items()})


def _load_outputs(data: bytes) -> dict:
    from safetensors.torch import load

    outputs = load(data)
    return {str(k): v for k, v in outputs.items()}


def _judge(exercise: Any, case: Any, outputs: dict | None, error: str | None) -> CaseOutcome:
    result = exercise.judge(case, outputs, error)
    return CaseOutcome(bool(result.passed), str(result.diagnosis), str(result.message))


def _verdict(exercise: Any, cases: list, outcomes: list[CaseOutcome]) -> str:
    """The exercise's one verdict over its cases, as the notebook check words it."""
    if not outcomes:
        return ""
    results = [Result(o.passed, o.diagnosis, o.message) for o in outcomes]
    try:
        combined = exercise.combine(results, cases)
    except Exception as problem:  # a fault in the checker must not lose the row
        return f"the checker could not combine the cases: {type(problem).__name__}"
    return f"{combined.diagnosis}: {combined.message}"


def grade_submission(
    path: Path,
    exercises: Mapping[str, Any],
    runner_source: bytes,
    *,
    work_root: Path,
    limits: Limits,
    isolation: str,
    seed: int = 0,
) -> SubmissionResult:
    """Run and judge one submission; never raises for anything the submission does."""
    result = SubmissionResult(path.stem, path.name, "ok", isolation)
    try:
        raw = _read_submission(path)
        source = notebook_to_source(raw) if path.suffix.lower() == ".ipynb" else raw
    except (OSError, ValueError) as error:
        result.status, result.detail = "rejected", str(error)
        result.exercises = [
            ExerciseOutcome(ex.id, ex.title, float(ex.points), 0.0, []) for ex in exercises.values()
        ]
        return result
    if isinstance(source, str):
        source = source.encode("utf-8")

    # The cases are drawn here; the child gets their inputs, never their expected outputs.
    plan_cases, files, layout = [], {"runner.py": runner_source, "submission.py": source}, []
    for exercise in exercises.values():
        cases = exercise.cases(seed)
        layout.append((exercise, cases))
        for case in cases:
            k = len(plan_cases)
            files[f"in{k}.safetensors"] = _save_inputs(case.inputs)
            plan_cases.append(
                {"target": exercise.target, "call": case.call, "inputs": f"in{k}.safetensors"}
            )
    run = run_child(work_root, files, {"cases": plan_cases}, limits, isolation)
    try:
        _collect(result, run, layout, limits.timeout)
    finally:
        remove_sandbox(run)
    return result


def _stopped_reason(run: ChildRun) -> str:
    if run.timed_out:
        return "TimeoutError: the program ran past its time limit and was stopped"
    return f"ProcessExit: the program ended ({run.ended}) before this call"


def _collect(result: SubmissionResult, run: ChildRun, layout: list, timeout: float) -> None:
    result.seconds = round(run.seconds, 2)
    result.output = run.output.decode("utf-8", "replace")
    result.output_bytes = run.output_bytes
    box = run.sandbox
    import_status: dict = {}
    try:
        data = read_child_file(box, "import.json", 64 * 1024)
        import_status = json.loads(data) if data else {}
    except (ValueError, UnicodeDecodeError):
        import_status = {}
    if not isinstance(import_status, dict):
        import_status = {}
    imported = import_status.get("ok") is True
    if run.timed_out:
        result.status = "timeout"
        result.detail = f"stopped at the time limit ({timeout:g} s)"
    elif not import_status:
        result.status = "crashed"
        result.detail = f"the program ended ({run.ended}) before the submission finished loading"
    elif not imported:
        result.status = "timeout" if import_status.get("timed_out") is True else "import_error"
        result.detail = str(import_status.get("error", ""))[:2000]
        traceback = str(import_status.get("traceback") or "")
        if traceback:
            result.output = traceback + "\n" + result.output
    elif run.returncode != 0:
        result.status = "crashed"
        result.detail = f"the program ended with {run.ended}"
    k = 0
    for exercise, cases in layout:
        outcomes = []
        for case in cases:
            outcomes.append(_judge_case(exercise, case, box, k, run, import_status, imported))
            k += 1
        parts = [
            PartOutcome(p.id, p.title, float(p.points), p.score, p.passed, p.total)
            for p in exercise.part_scores(cases, [o.passed for o in outcomes])
        ]
        score = round(sum(p.score for p in parts), 2)
        outcome = ExerciseOutcome(
            exercise.id, exercise.title, float(exercise.points), score, outcomes
        )
        outcome.parts = parts if len(parts) > 1 else []
        outcome.verdict = _verdict(exercise, cases, outcomes)
        result.exercises.append(outcome)
    if any(o.diagnosis == "grader_error" for e in result.exercises for o in e.cases):
        result.status = "grader_error"


def _judge_case(
    exercise: Any, case: Any, box: Path, k: int, run: ChildRun, import_status: dict, imported: bool
) -> CaseOutcome:
    outputs, error = None, None
    if not imported:
        error = str(import_status.get("error") or _stopped_reason(run))
    else:
        try:
            data = read_child_file(box, f"{k}.safetensors", MAX_OUTPUT_FILE_BYTES)
            if data is not None:
                outputs = _load_outputs(data)
            else:
                raw = read_child_file(box, f"{k}.json", 64 * 1024)
                status = json.loads(raw) if raw else {}
                if isinstance(status, dict) and status.get("missing") is True:
                    return CaseOutcome(
                        False, "not_attempted", f"`{exercise.target}` is not defined in the file."
                    )
                message = status.get("error") if isinstance(status, dict) else None
                error = str(message) if message else _stopped_reason(run)
        except Exception as problem:  # unreadable or malformed files the child left
            outputs, error = None, f"BadOutput: the outputs could not be read ({problem})"
    try:
        return _judge(exercise, case, outputs, error)
    except Exception as problem:  # a fault in a judge must not lose the row
        return CaseOutcome(False, "grader_error", f"the checker failed: {type(problem).__name__}")


# ---------------------------------------------------------------------------------------------
# The batch


@dataclass
class BatchReport:
    results: list[SubmissionResult]
    isolation: str
    isolation_reason: str
    seconds: float


def grade_batch(
    submissions_dir: Path,
    out: Path,
    *,
    feedback_dir: Path | None = None,
    limits: Limits | None = None,
    jobs: int = 2,
    seed: int = 0,
    exercises: Mapping[str, Any] | None = None,
    diagnoses: Mapping[str, str] | None = None,
    runner_path: Path | None = None,
    isolation: str = "auto",
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> BatchReport:
    """Grade every .py/.ipynb in `submissions_dir`; write the gradebook CSV to `out`.

    `exercises`, `diagnoses` and `runner_path` default to Lab 3.4's (`attention_lab.exercises`).
    `isolation` is "auto" (namespace jail where the OS allows it, else basic), "namespace" or
    "basic". The batch takes at most about ceil(N / jobs) * (timeout + 10) seconds.

    The gradebook and the feedback files (`feedback_dir/STUDENT.md`) get the permissions of any
    file the instructor writes, 0666 & ~umask, so colleagues and an LMS upload can read them; a
    replaced file keeps its mode. Feedback holds one student's results: to keep it private, make
    `feedback_dir` a folder only you can enter, or grade under `umask 077`.
    """
    submissions_dir, out = Path(submissions_dir), Path(out)
    limits = limits or Limits()
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if isolation not in ("auto", "namespace", "basic"):
        raise ValueError(f"isolation must be 'auto', 'namespace' or 'basic', got {isolation!r}")
    check_output_file("out", out)
    if feedback_dir is not None:
        check_folder("feedback_dir", Path(feedback_dir))
    exercises = exercises if exercises is not None else EXERCISES
    diagnoses = diagnoses if diagnoses is not None else DIAGNOSES
    runner_path = runner_path or Path(runner.__file__)
    paths = find_submissions(submissions_dir)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="attention-lab-grade-") as tmp:
        work_root = Path(tmp)
        os.chmod(work_root, 0o711)
        if isolation == "auto":
            level, reason = detect_isolation()
        elif isolation == "namespace":
            level, reason = "namespace", "requested"
        else:
            level, reason = "basic", "requested"
        runner_source = Path(runner_path).read_bytes()

        def one(path: Path) -> SubmissionResult:
            try:
                result = grade_submission(
                    path,
                    exercises,
                    runner_source,
                    work_root=work_root,
                    limits=limits,
                    isolation=level,
                    seed=seed,
                )
            except Exception as error:  # the grader's own fault: the row still appears
                result = SubmissionResult(path.stem, path.name, "grader_error", level)
                result.detail = f"{type(error).__name__}: {error}"
                result.exercises = [
                    ExerciseOutcome(ex.id, ex.title, float(ex.points), 0.0, [])
                    for ex in exercises.values()
                ]
            if on_result is not None:
                on_result(result)
            return result

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, paths))
    write_csv_atomic(out, gradebook_rows(results, exercises))
    if feedback_dir is not None:
        feedback_dir = Path(feedback_dir)
        feedback_dir.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        for result in results:
            stem = safe_file_stem(result.student_id, taken)
            write_atomic(feedback_dir / f"{stem}.md", feedback_markdown(result, diagnoses))
    return BatchReport(results, level, reason, round(time.monotonic() - start, 2))


def time_bound(n_submissions: int, limits: Limits, jobs: int) -> float:
    """Upper bound on a batch's wall time: waves of `jobs` children, each at most timeout + 10."""
    return math.ceil(n_submissions / jobs) * (limits.timeout + 10.0) + 30.0
