"""The grader's parts that need no child process, its bad-input errors, and the basic level."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attention_lab.assessment.grader import Limits, grade_batch, notebook_to_source
from attention_lab.assessment.grader.batch import find_submissions
from attention_lab.assessment.grader.report import safe_file_stem
from attention_lab.assessment.grader.sandbox import read_child_file
from attention_lab.cli import app
from attention_lab.exercises import EXERCISES, solutions
from attention_lab.files import _csv_cell, write_csv_atomic


def test_notebook_to_source_keeps_code_and_comments_out_magics():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "# title"},
            {"cell_type": "code", "source": ["%timeit f()\n", "x = 1\n", "  !ls"]},
            {"cell_type": "code", "source": "def f():\n    return 2"},
        ]
    }
    source = notebook_to_source(json.dumps(nb).encode())
    namespace: dict = {}
    exec(compile(source, "nb", "exec"), namespace)
    assert namespace["x"] == 1 and namespace["f"]() == 2
    assert "# (notebook magic) %timeit f()" in source and "title" not in source
    with pytest.raises(ValueError, match="not a valid .ipynb notebook"):
        notebook_to_source(b"{oops")
    with pytest.raises(ValueError, match="no list of 'cells'"):
        notebook_to_source(b'{"cells": 3}')


def test_csv_cells_and_file_stems_are_safe():
    assert _csv_cell("=SUM(A1)") == "'=SUM(A1)" and _csv_cell("@x") == "'@x"
    assert _csv_cell("ada") == "ada" and _csv_cell(-1.5) == -1.5
    taken: set[str] = set()
    assert safe_file_stem("../../etc/passwd", taken) == "_.._etc_passwd"
    assert safe_file_stem("ada", taken) == "ada" and safe_file_stem("ada", taken) == "ada-2"
    assert "/" not in safe_file_stem("a/b\nc", taken)


def test_write_csv_atomic_replaces_in_one_step(tmp_path):
    target = tmp_path / "book.csv"
    target.write_text("old")
    write_csv_atomic(target, [["a", "b"], ["=1", 2]])
    assert list(csv.reader(target.open())) == [["a", "b"], ["'=1", "2"]]
    assert [p.name for p in tmp_path.iterdir()] == ["book.csv"]


def test_read_child_file_refuses_links_and_big_files(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ok.json").write_text("{}")
    (tmp_path / "out" / "big.json").write_text("x" * 100)
    secret = tmp_path / "secret.txt"
    secret.write_text("reference")
    os.symlink(secret, tmp_path / "out" / "link.json")
    assert read_child_file(tmp_path, "ok.json", 10) == b"{}"
    assert read_child_file(tmp_path, "missing.json", 10) is None
    with pytest.raises(ValueError, match="more than 10"):
        read_child_file(tmp_path, "big.json", 10)
    with pytest.raises(ValueError, match="cannot be opened safely"):
        read_child_file(tmp_path, "link.json", 100)
    other = tmp_path / "box2"
    other.mkdir()
    os.symlink(tmp_path / "out", other / "out")  # the whole out/ folder replaced by a link
    assert read_child_file(other, "ok.json", 10) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number, got 0"),
        ({"memory_mb": 100}, "memory_mb must be at least 512"),
        ({"case_timeout": -1}, "case_timeout must be a positive number, got -1"),
    ],
)
def test_limits_reject_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Limits(**kwargs)


def test_grade_batch_bad_input(tmp_path):
    with pytest.raises(ValueError, match="submissions_dir: expected a directory"):
        find_submissions(tmp_path / "nope")
    with pytest.raises(ValueError, match="jobs must be a positive integer, got 0"):
        grade_batch(tmp_path, tmp_path / "g.csv", jobs=0)
    with pytest.raises(ValueError, match="isolation must be 'auto', 'namespace' or 'basic'"):
        grade_batch(tmp_path, tmp_path / "g.csv", isolation="docker")
    with pytest.raises(ValueError, match="out: expected a file path, got the directory"):
        grade_batch(tmp_path, tmp_path)
    with pytest.raises(ValueError, match="out: the folder .* does not exist"):
        grade_batch(tmp_path, tmp_path / "missing" / "g.csv")
    result = CliRunner().invoke(app, ["grade", str(tmp_path / "nope"), "--out", "g.csv"])
    assert result.exit_code == 2 and "submissions_dir: expected a directory" in result.output


def test_basic_isolation_still_grades_by_the_parent(tmp_path):
    """Where namespaces are refused, the grade still comes from the parent's comparison."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "good.py").write_text(Path(solutions.__file__).read_text())
    out = tmp_path / "g.csv"
    report = grade_batch(
        subs, out, limits=Limits(timeout=60, case_timeout=5, import_timeout=20), isolation="basic"
    )
    (row,) = csv.DictReader(out.open())
    assert report.isolation == "basic" and row["isolation"] == "basic"
    assert float(row["total"]) == sum(e.points for e in EXERCISES.values())


def test_cli_assignment_writes_three_files(tmp_path):
    result = CliRunner().invoke(app, ["assignment", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["assignment.md", "rubric.csv", "submission_template.md"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "nodir/g.csv"], "Invalid value for '--out': the folder 'nodir' does not exist"),
        (["--out", "adir"], "Invalid value for '--out': expected a file path, got the directory"),
        (["--out", ""], "Invalid value for '--out': expected a file name"),
        (["--out", "g.csv", "--feedback", "keep.txt"], "'--feedback': expected a folder, got the"),
        (["--out", "g.csv", "--jobs", "0"], "Invalid value for '--jobs'"),
        (["--out", "g.csv", "--jobs", "-1"], "Invalid value for '--jobs'"),
    ],
)
def test_cli_grade_checks_options_before_grading(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "keep.txt").write_text("keep")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "ada.py").write_text("x = 1\n")
    result = CliRunner().invoke(app, ["grade", "subs", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "grading" not in result.output  # nothing started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "keep.txt", "subs"]
    assert (tmp_path / "keep.txt").read_text() == "keep"


def test_grade_refuses_a_folder_without_submissions(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "notes.txt").write_text("not a submission")
    out = tmp_path / "g.csv"
    result = CliRunner().invoke(app, ["grade", str(tmp_path / "subs"), "--out", str(out)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "submissions_dir: no submissions (*.py or *.ipynb files) in" in text
    assert "subs" in text and "grading" not in text and not out.exists()
    with pytest.raises(ValueError, match="submissions_dir: no submissions"):
        grade_batch(tmp_path / "subs", out)
    with pytest.raises(ValueError, match="feedback_dir: expected a folder, got the file"):
        grade_batch(tmp_path / "subs", out, feedback_dir=tmp_path / "subs" / "notes.txt")
    assert not out.exists()


def test_write_csv_atomic_gives_the_usual_permissions_and_keeps_a_replaced_files(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "book.csv"
        write_csv_atomic(target, [["a"]])
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o664)
        write_csv_atomic(target, [["b"]])
        assert stat.S_IMODE(target.stat().st_mode) == 0o664 and target.read_bytes() == b"b\r\n"
    finally:
        os.umask(old)


def test_cli_assignment_rerun_keeps_edited_files(tmp_path):
    out = tmp_path / "a"
    assert CliRunner().invoke(app, ["assignment", "--out", str(out)]).exit_code == 0
    edited = out / "assignment.md"
    edited.write_text(edited.read_text() + "\nDue Friday.\n")
    rubric = (out / "rubric.csv").read_bytes()
    result = CliRunner().invoke(app, ["assignment", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert edited.read_text().endswith("Due Friday.\n")
    assert (out / "rubric.csv").read_bytes() == rubric
    assert "kept 1 file(s) that differ from a fresh copy" in result.output
    assert str(edited) in result.output and "--force" in result.output
    assert "wrote" not in result.output
    result = CliRunner().invoke(app, ["assignment", "--out", str(out), "--force"])
    assert result.exit_code == 0 and f"wrote {edited}" in result.output
    assert "Due Friday." not in edited.read_text()


def test_cli_assignment_refuses_a_file_as_out(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("keep")
    result = CliRunner().invoke(app, ["assignment", "--out", str(keep)])
    assert result.exit_code == 2 and "expected a folder, got the file" in result.output
    assert keep.read_text() == "keep"


TEXTBOOK_MASKING = """

def scaled_dot_product_attention(q, k, v, mask=None):  # the textbook version: -inf, no zeroing
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
"""

ANSI_ERROR = """
import torch

print("\\x1b[2J\\x1b[31mprinted\\x1b[0m")


def causal_mask(T):
    raise RuntimeError("\\x1b[2J\\x1b[32mall good\\x1b[0m\\u202e")
"""


def test_gradebook_records_both_masking_parts_and_shows_submission_text_inertly(tmp_path):
    subs, feedback = tmp_path / "subs", tmp_path / "feedback"
    subs.mkdir()
    (subs / "textbook.py").write_text(Path(solutions.__file__).read_text() + TEXTBOOK_MASKING)
    (subs / "ansi.py").write_text(ANSI_ERROR)
    (subs / "ansi_import.py").write_text('raise ValueError("\\x1b[2Jgone\\r")\n')
    out = tmp_path / "g.csv"
    grade_batch(
        subs,
        out,
        feedback_dir=feedback,
        limits=Limits(timeout=60, case_timeout=5, import_timeout=20),
        isolation="basic",
    )
    rows = {row["student_id"]: row for row in csv.DictReader(out.open())}
    textbook = rows["textbook"]
    assert float(textbook["masked_attention:masking"]) == 1.5
    assert float(textbook["masked_attention:fully_masked_query"]) == 0.0
    assert float(textbook["masked_attention"]) == 1.5
    assert "Verdict: nan_on_fully_masked_row" in (feedback / "textbook.md").read_text()
    raw = out.read_text() + "".join(p.read_text() for p in feedback.iterdir())
    assert "\x1b" not in raw and "\u202e" not in raw and "\r" not in raw.replace("\r\n", "\n")
    assert "\\x1b[2Jgone" in rows["ansi_import"]["detail"]
    ansi = (feedback / "ansi.md").read_text()
    assert "\\x1b[32mall good\\x1b[0m\\u202e" in ansi and "\\x1b[31mprinted" in ansi
