"""Lesson execution: outputs stored, unchanged lessons come from the cache, errors name the lesson."""

from __future__ import annotations

import nbformat
import pytest

from attention_lab.course.execute import ExecutionError, cache_key, execute_all


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_execution_is_cached_by_code_and_runs_in_the_workdir(tmp_path, monkeypatch):
    # The library's fingerprint is part of the key; pin it so an edit elsewhere cannot interfere.
    monkeypatch.setattr("attention_lab.course.execute.library_fingerprint", lambda: "pinned")
    nb = notebook(
        "import os, pathlib; pathlib.Path('made.txt').write_text(os.environ['AL_TEST'])",
        "print(6 * 7)",
    )
    kwargs = dict(
        cache_dir=tmp_path / "cache", workdir=tmp_path / "work", extra_env={"AL_TEST": "yes"}
    )
    first = execute_all([("01_a", nb)], **kwargs)
    assert not first[0].cached
    assert first[0].notebook.cells[1].outputs[0].text == "42\n"
    assert (tmp_path / "work" / "made.txt").read_text() == "yes"
    second = execute_all([("01_a", nb)], **kwargs)
    assert second[0].cached and second[0].notebook.cells[1].outputs[0].text == "42\n"
    nb.cells[1].source = "print(6 * 8)"
    third = execute_all([("01_a", nb)], **kwargs)
    assert not third[0].cached and third[0].notebook.cells[1].outputs[0].text == "48\n"


def test_cache_key_ignores_markdown_and_outputs_but_not_library_or_code():
    nb = notebook("x = 1")
    key = cache_key(nb, library="L", timeout=10)
    nb.cells.append(nbformat.v4.new_markdown_cell("# prose"))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="old")]
    assert cache_key(nb, library="L", timeout=10) == key
    assert cache_key(nb, library="M", timeout=10) != key
    nb.cells[0].source = "x = 2"
    assert cache_key(nb, library="L", timeout=10) != key


def test_a_failing_lesson_is_named_with_its_error(tmp_path):
    with pytest.raises(
        ExecutionError,
        match=r"(?s)lesson 03_broken failed while the course was built.*ZeroDivisionError",
    ):
        execute_all(
            [("03_broken", notebook("1 / 0"))],
            cache_dir=tmp_path / "c",
            workdir=tmp_path / "w",
            extra_env={},
        )
    assert not (tmp_path / "c" / "03_broken.ipynb").exists()


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(
        ValueError, match=r"jobs: expected a number of parallel lessons >= 1, got 0"
    ):
        execute_all([], cache_dir=tmp_path, workdir=tmp_path, extra_env={}, jobs=0)


PLAIN = "from matplotlib.figure import Figure\nfig = Figure()\nfig.add_subplot().plot([0, 1])\nfig"


def test_a_figure_shown_as_text_stops_the_build_and_ours_are_shown_as_images(tmp_path):
    kwargs = dict(cache_dir=tmp_path / "c", workdir=tmp_path / "w", extra_env={})
    with pytest.raises(ExecutionError, match=r"lesson 03_plain: cell 0 shows a figure as text"):
        execute_all([("03_plain", notebook(PLAIN))], **kwargs)
    # the library's figures carry their own PNG, with or without pyplot in the kernel
    ours = PLAIN.replace(
        "matplotlib.figure import Figure",
        "attention_lab.viz.figure import NotebookFigure as Figure",
    )
    done = execute_all([("03_ours", notebook(ours))], **kwargs)
    (output,) = done[0].notebook.cells[0].outputs
    assert output.data["image/png"]
