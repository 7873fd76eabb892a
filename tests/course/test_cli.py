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
    assert "jupyter lab" in result.output


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
