"""The batch grader against hostile submissions: each gets the score its real behaviour earns.

One batch grades every file of tests/assessment/hostile (templates: `# @solution` becomes the
Lab 3.4 model answers) plus a few ordinary and tricky submissions, in parallel, with short
timeouts; the tests then read its gradebook, feedback and results.
"""

from __future__ import annotations

import csv
import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from attention_lab.assessment.grader import Limits, grade_batch, time_bound
from attention_lab.assessment.grader.sandbox import detect_isolation
from attention_lab.exercises import EXERCISES
from attention_lab.exercises import solutions as solutions_module

HOSTILE = Path(__file__).with_name("hostile")
FULL = float(sum(ex.points for ex in EXERCISES.values()))
LIMITS = Limits(timeout=40, case_timeout=2, import_timeout=5, memory_mb=1536, processes=32)
JOBS = 4


def solution_source() -> str:
    """The model answers as a learner's file would hold them (no __future__ line: it is inlined)."""
    text = Path(solutions_module.__file__).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("from __future__"))


def notebook(cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "# Lab 3.4"},
                *(
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "source": c,
                        "outputs": [],
                        "execution_count": None,
                    }
                    for c in cells
                ),
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


class Listener:
    """A TCP server on 127.0.0.1 that records anything a submission manages to send."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(5)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.received = b""
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(1)
                try:
                    self.received += connection.recv(4096)
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.socket.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    subs, feedback = root / "submissions", root / "feedback"
    subs.mkdir()
    gradebook = root / "gradebook.csv"
    listener = Listener()
    solution = solution_source()
    for template in sorted(HOSTILE.glob("*.py.in")):
        data = template.read_bytes()
        data = data.replace(b"# @solution", solution.encode("utf-8"))
        data = data.replace(b"@port", str(listener.port).encode())
        data = data.replace(b"@gradebook", str(gradebook).encode())
        data = data.replace(b"@feedback", str(feedback).encode())
        (subs / template.name[: -len(".in")]).write_bytes(data)
    # the model answers, under a name that is a spreadsheet formula
    (subs / "=1+2.py").write_text(solution, encoding="utf-8")
    (subs / "link.py").symlink_to(Path(solutions_module.__file__))  # points at the reference
    (subs / "notes.txt").write_text("not a submission")
    (subs / "slow_case.py").write_text(
        solution + "\n\nimport time\n\ndef attention_scores(q, k):\n    time.sleep(3600)\n"
    )
    (subs / "notebook_ok.ipynb").write_text(
        notebook(["%matplotlib inline\n!pip list", solution, "print('done')"])
    )
    (subs / "notebook_raises.ipynb").write_text(notebook([solution, "raise ValueError('cell 3')"]))
    (subs / "broken.ipynb").write_text("{this is not json")
    gradebook.write_text("left over from an earlier run\n")
    start = time.monotonic()
    report = grade_batch(subs, gradebook, feedback_dir=feedback, limits=LIMITS, jobs=JOBS)
    wall = time.monotonic() - start
    listener.close()
    with gradebook.open(newline="") as f:
        # a file name that starts a spreadsheet formula is written with a leading quote
        rows = {row["file"].removeprefix("'"): row for row in csv.DictReader(f)}
    results = {r.file_name: r for r in report.results}
    return {
        "report": report,
        "rows": rows,
        "results": results,
        "gradebook": gradebook,
        "feedback": feedback,
        "listener": listener,
        "wall": wall,
        "n": len(list(subs.iterdir())) - 1,  # notes.txt is not a submission
    }


def total(batch, name: str) -> float:
    return float(batch["rows"][name]["total"])


def test_isolation_level_here_is_namespace(batch):
    # We run as root here and in CI, where the namespace jail works; say so if it ever does not.
    assert detect_isolation()[0] == "namespace", detect_isolation()
    assert batch["report"].isolation == "namespace"
    assert {row["isolation"] for row in batch["rows"].values()} == {"namespace"}


def test_one_row_per_submission_and_batch_within_bound(batch):
    rows = batch["rows"]
    assert len(rows) == batch["n"] == len(batch["results"])
    assert "notes.txt" not in rows
    assert batch["wall"] < time_bound(batch["n"], LIMITS, JOBS)
    text = batch["gradebook"].read_text()
    assert "left over" not in text and "hacked" not in text
    assert not list(batch["gradebook"].parent.glob(".gradebook.csv.*"))  # no temp file left


@pytest.mark.parametrize(
    "name",
    [
        "huge_output.py",
        "latin1_cookie.py",
        "network.py",
        "write_gradebook.py",
        "notebook_ok.ipynb",
        "=1+2.py",
    ],
)
def test_correct_code_gets_full_marks_whatever_else_it_does(batch, name):
    assert total(batch, name) == FULL, batch["results"][name]


@pytest.mark.parametrize(
    "name",
    [
        "infinite_loop.py",
        "sleep_forever.py",
        "fork_bomb.py",
        "memory_hog.py",
        "sys_exit.py",
        "os_exit.py",
        "monkeypatch.py",
        "always_equal.py",
        "fake_score.py",
        "find_reference.py",
        "bad_bytes.py",
        "notebook_raises.ipynb",
        "broken.ipynb",
        "link.py",
    ],
)
def test_hostile_or_broken_code_gets_nothing(batch, name):
    assert total(batch, name) == 0.0, batch["results"][name]


def test_statuses_say_what_happened(batch):
    results = batch["results"]
    assert results["=1+2.py"].status == "ok"
    looping = results["infinite_loop.py"]  # loops at the top level: stopped while loading
    assert looping.status == "timeout" and "TimeoutError: loading the file" in looping.detail
    sleeper = results["sleep_forever.py"]  # no CPU used: the wall-clock limits stop it
    assert "TimeoutError" in sleeper.detail or sleeper.status == "timeout"
    assert "memory" in results["memory_hog.py"].detail.lower()
    assert "SystemExit" in results["sys_exit.py"].detail
    assert results["os_exit.py"].status == "crashed"
    assert "SyntaxError" in results["bad_bytes.py"].detail
    assert "ValueError: cell 3" in results["notebook_raises.ipynb"].detail
    assert results["broken.ipynb"].status == "rejected"
    assert results["link.py"].status == "rejected" and "link" in results["link.py"].detail


def test_one_failing_function_costs_only_its_exercise(batch):
    for name, exercise, diagnosis in [
        ("base_exception.py", "attention_scores", "raises_error"),
        ("modify_inputs.py", "weighted_sum", "modifies_inputs"),
        ("slow_case.py", "attention_scores", "raises_error"),
    ]:
        row = batch["rows"][name]
        points = float(EXERCISES[exercise].points)
        assert float(row[exercise]) == 0.0, name
        assert total(batch, name) == FULL - points, name
        outcome = next(e for e in batch["results"][name].exercises if e.exercise_id == exercise)
        assert {c.diagnosis for c in outcome.cases} == {diagnosis}, name


def test_huge_output_is_drained_and_capped(batch):
    result = batch["results"]["huge_output.py"]
    assert result.output_bytes >= 2**30
    assert len(result.output.encode()) <= LIMITS.output_cap
    text = (batch["feedback"] / "huge_output.md").read_text()
    assert "more bytes of output were discarded" in text


def test_network_gets_nothing_out(batch):
    assert batch["listener"].received == b""
    assert batch["listener"].connections == 0
    assert "no network" in batch["results"]["network.py"].output


def test_reference_is_not_found(batch):
    output = batch["results"]["find_reference.py"].output
    assert "USING THE REFERENCE" not in output
    assert "modules found: []" in output
    assert "src/attention_lab" not in output  # the project tree is not in the sandbox


def test_gradebook_and_feedback_written_by_the_grader_only(batch):
    output = batch["results"]["write_gradebook.py"].output
    assert "could not write" in output and "wrote " not in output
    feedback = (batch["feedback"] / "write_gradebook.md").read_text()
    assert "hacked" not in feedback and "Lab 3.4 feedback" in feedback


def test_csv_formula_in_student_id_is_neutralised(batch):
    raw = batch["gradebook"].read_text()
    assert "\n'=1+2," in raw
    assert (batch["feedback"] / "1_2.md").exists() or (batch["feedback"] / "_1_2.md").exists()


def test_feedback_names_diagnoses_and_never_prints_reference_values(batch):
    text = (batch["feedback"] / "modify_inputs.md").read_text()
    assert "modifies_inputs" in text and "Isolation: namespace" in text
    for path in batch["feedback"].glob("*.md"):
        body = path.read_text()
        # what the judges write: shapes and positions; a reference value would be a long decimal
        judged = "\n".join(line for line in body.splitlines() if line.startswith("- case"))
        assert not re.search(r"\d\.\d{4,}", judged), path.name


def test_no_process_survives_the_batch(batch):
    import os

    leftovers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    uid = next(line for line in f if line.startswith("Uid:")).split()[1]
            except (OSError, StopIteration):
                continue
            if int(uid) >= 200_000:  # the children's private user ids
                leftovers.append(entry)
    assert leftovers == []
