"""`attention-lab notebooks | coverage | build | serve`: what a user types and what they are told."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.course.serve import make_server

runner = CliRunner()
LESSONS = Path(__file__).parent / "fixtures" / "lessons"


def test_notebooks_writes_student_and_solution_copies(tmp_path):
    result = runner.invoke(
        app, ["notebooks", "--out", str(tmp_path), "--solutions", "--lessons", str(LESSONS)]
    )
    assert result.exit_code == 0, result.output
    student = (tmp_path / "91_fixture_attention.ipynb").read_text()
    solution = (tmp_path / "solutions" / "91_fixture_attention.ipynb").read_text()
    assert "your code here" in student and "q @ k.T" not in student
    assert "q @ k.T" in solution and "BEGIN SOLUTION" not in solution
    assert f"attention-lab lab --dir {tmp_path}" in result.output


def test_notebooks_reports_a_broken_lesson(tmp_path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01_bad.py").write_text("# %%\n# BEGIN SOLUTION\nx = 1\n")
    result = runner.invoke(
        app, ["notebooks", "--out", str(tmp_path / "o"), "--lessons", str(tmp_path / "lessons")]
    )
    assert result.exit_code == 1
    assert "01_bad.py, cell 0, line 1: '# BEGIN SOLUTION' is never closed" in result.output


def test_coverage_command_names_uncovered_objectives_and_fails():
    result = runner.invoke(app, ["coverage", "--lessons", str(LESSONS)])
    assert result.exit_code == 1
    assert "objective(s) not fully covered" in result.output and "3.1.1" in result.output


def test_strict_build_fails_naming_objectives_before_executing(tmp_path):
    out = tmp_path / "site"
    result = runner.invoke(app, ["build", "--lessons", str(LESSONS), "--out", str(out)])
    assert result.exit_code == 1
    assert (
        "course incomplete" in result.output and "3.1.1 has no lesson / hands-on" in result.output
    )
    assert "--allow-gaps" in result.output
    assert not (tmp_path / ".site-cache" / "executed").exists()  # nothing ran


def test_build_reports_a_missing_lessons_folder(tmp_path):
    result = runner.invoke(
        app, ["build", "--lessons", str(tmp_path / "none"), "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    assert "lessons_dir: expected a folder of lessons" in result.output


def test_build_refuses_a_cache_inside_the_site(tmp_path):
    result = runner.invoke(
        app,
        [
            "build",
            "--lessons",
            str(LESSONS),
            "--out",
            str(tmp_path / "s"),
            "--cache-dir",
            str(tmp_path / "s" / "c"),
            "--allow-gaps",
        ],
    )
    assert result.exit_code == 1
    assert "cache_dir: expected a folder apart from out=" in result.output


def test_notebooks_rerun_keeps_a_notebook_the_learner_edited(tmp_path):
    out = tmp_path / "nb"
    args = ["notebooks", "--out", str(out), "--lessons", str(LESSONS)]
    assert runner.invoke(app, args).exit_code == 0
    edited, other = out / "91_fixture_attention.ipynb", out / "92_fixture_heatmap.ipynb"
    work = edited.read_text().replace("your code here", "my answer")
    edited.write_text(work)
    untouched = other.stat().st_mtime_ns
    result = runner.invoke(app, [*args, "--solutions"])
    assert result.exit_code == 0, result.output
    assert edited.read_text() == work  # the learner's work is still there
    assert other.stat().st_mtime_ns == untouched  # identical copies are not rewritten
    assert (out / "solutions" / "91_fixture_attention.ipynb").exists()  # new files are written
    assert "kept 1 file(s) that differ from a fresh copy" in result.output
    assert f"  {edited}" in result.output and "run again with --force" in result.output
    assert "2 file(s) already up to date" in result.output
    result = runner.invoke(app, [*args, "--force"])
    assert result.exit_code == 0 and f"wrote {edited}" in result.output
    assert "my answer" not in edited.read_text()


@pytest.mark.parametrize("command", ["notebooks", "build"])
def test_a_file_as_out_is_refused_before_any_lesson_runs(tmp_path, command):
    keep = tmp_path / "keep.txt"
    keep.write_text("keep")
    args = [command, "--out", str(keep), "--lessons", str(LESSONS)]
    result = runner.invoke(app, args + (["--allow-gaps"] if command == "build" else []))
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--out': expected a folder, got the file" in result.output
    assert keep.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]  # no cache, nothing ran


def test_build_refuses_a_file_in_the_way_before_executing(tmp_path):
    from attention_lab.course.site import build

    (tmp_path / "keep.txt").write_text("keep")
    with pytest.raises(ValueError, match="out: expected a folder, got the file .*keep.txt"):
        build(LESSONS, tmp_path / "keep.txt" / "site", allow_gaps=True)
    with pytest.raises(ValueError, match="cache_dir: expected a folder, got the file"):
        build(LESSONS, tmp_path / "site", cache_dir=tmp_path / "keep.txt", allow_gaps=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("command", ["notebooks", "coverage", "build"])
def test_a_lesson_that_is_not_utf8_is_named(tmp_path, command):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "01_bad.py").write_bytes(b'# %%\nx = "\xff\xfe"\n')
    args = [command, "--lessons", str(lessons)]
    if command != "coverage":
        args += ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "failed: 01_bad.py: cannot be read as a py:percent lesson ('utf-8' codec" in text
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_serve_refuses_a_folder_without_a_site(tmp_path):
    result = runner.invoke(app, ["serve", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "directory: expected a built course site (with index.html)" in result.output


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"host": "0.0.0.0"},
            r"host: expected a loopback address such as 127.0.0.1, got '0.0.0.0'",
        ),
        ({"port": 70000}, r"port: expected 0..65535, got 70000"),
    ],
)
def test_make_server_bad_arguments(tmp_path, kwargs, message):
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    with pytest.raises(ValueError, match=message):
        make_server(tmp_path, **kwargs)


def test_make_server_serves_the_folder_on_loopback(tmp_path):
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "a.js").write_text("1")
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert response.read() == b"<h1>hi</h1>"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/a.js") as response:
            assert response.headers["Content-Type"].startswith("text/javascript")
    finally:
        server.shutdown()
        server.server_close()
