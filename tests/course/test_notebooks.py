"""Student and solution copies: solution blocks removed with the right indentation."""

from __future__ import annotations

import nbformat
import pytest

from attention_lab.course.lessons import LessonError, read_notebook
from attention_lab.course.notebooks import (
    PLACEHOLDER,
    keep_solutions,
    solution_copy,
    strip_solutions,
    student_copy,
    write_notebooks,
)

CELL = """\
def weights(q, k):
    scale = k.shape[-1] ** 0.5
    # BEGIN SOLUTION
    scores = q @ k.T / scale
    return scores.softmax(-1)
    # END SOLUTION

# BEGIN SOLUTION
answer = 42
# END SOLUTION
print("done")"""


def test_student_copy_replaces_each_block_at_its_indentation():
    assert strip_solutions(CELL) == (
        "def weights(q, k):\n"
        "    scale = k.shape[-1] ** 0.5\n"
        f"    {PLACEHOLDER}\n"
        "\n"
        f"{PLACEHOLDER}\n"
        'print("done")'
    )


def test_solution_copy_keeps_answers_without_markers():
    kept = keep_solutions(CELL)
    assert "BEGIN SOLUTION" not in kept and "END SOLUTION" not in kept
    assert "    return scores.softmax(-1)" in kept and "answer = 42" in kept


def test_placeholder_cell_raises_not_implemented_and_solution_runs():
    namespace: dict = {}
    exec(keep_solutions(CELL), namespace)
    assert namespace["answer"] == 42
    with pytest.raises(NotImplementedError, match="your code here"):
        exec(strip_solutions("# BEGIN SOLUTION\nx = 1\n# END SOLUTION"), {})


def test_cells_without_solutions_are_unchanged():
    assert strip_solutions("x = 1\n# a comment") == "x = 1\n# a comment"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "# BEGIN SOLUTION\nx = 1",
            r"lesson.py, cell 3, line 1: '# BEGIN SOLUTION' is never closed",
        ),
        (
            "x = 1\n# END SOLUTION",
            r"line 2: '# END SOLUTION' without a '# BEGIN SOLUTION' above it",
        ),
        (
            "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION",
            r"line 2: '# BEGIN SOLUTION' inside the solution block opened on line 1",
        ),
    ],
)
def test_unbalanced_markers_are_reported_with_place(source, message):
    with pytest.raises(LessonError, match=message):
        strip_solutions(source, where="lesson.py, cell 3")


def test_copies_are_valid_unexecuted_notebooks(write_lesson):
    path = write_lesson(
        "04_from_scratch.py",
        f"# %% [markdown]\n# # T\n\n# %%\n{CELL}\n",
    )
    nb = read_notebook(path)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="old")]
    student, solution = student_copy(nb), solution_copy(nb)
    for copy in (student, solution):
        nbformat.validate(copy)
        assert copy.metadata.kernelspec.name == "python3"
        assert all(c.get("outputs") in (None, []) for c in copy.cells)
    assert PLACEHOLDER in student.cells[1].source and "answer = 42" not in student.cells[1].source
    assert "answer = 42" in solution.cells[1].source
    assert nb.cells[1].outputs  # the lesson's own notebook is not modified


def test_write_notebooks_writes_student_and_solution_copies(write_lesson, tmp_path):
    write_lesson("01_a.py", f"# %% [markdown]\n# # A\n\n# %%\n{CELL}\n")
    write_lesson("02_b.py", "# %% [markdown]\n# # B\n")
    out = tmp_path / "out"
    done = write_notebooks(write_lesson.folder, out, solutions=True)
    assert [p.relative_to(out).as_posix() for p in done.written] == [
        "01_a.ipynb",
        "02_b.ipynb",
        "solutions/01_a.ipynb",
        "solutions/02_b.ipynb",
    ]
    student = nbformat.read(out / "01_a.ipynb", as_version=4)
    assert "answer = 42" not in student.cells[1].source
    assert PLACEHOLDER in student.cells[1].source
    assert "answer = 42" in (out / "solutions" / "01_a.ipynb").read_text()
    assert write_notebooks(write_lesson.folder, tmp_path / "only", solutions=False).written == [
        tmp_path / "only" / "01_a.ipynb",
        tmp_path / "only" / "02_b.ipynb",
    ]


def test_write_notebooks_again_changes_nothing_and_keeps_edits(write_lesson, tmp_path):
    write_lesson("01_a.py", f"# %% [markdown]\n# # A\n\n# %%\n{CELL}\n")
    write_lesson("02_b.py", "# %% [markdown]\n# # B\n")
    out = tmp_path / "out"
    write_notebooks(write_lesson.folder, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    again = write_notebooks(write_lesson.folder, out)  # a fresh read: cell ids must not change
    assert again.written == [] and again.kept == [] and len(again.unchanged) == 2
    edited = out / "01_a.ipynb"
    edited.write_bytes(first["01_a.ipynb"].replace(b"your code here", b"mine"))
    done = write_notebooks(write_lesson.folder, out)
    assert done.kept == [edited] and b"mine" in edited.read_bytes()
    done = write_notebooks(write_lesson.folder, out, force=True)
    assert done.written == [edited] and edited.read_bytes() == first["01_a.ipynb"]


def test_write_notebooks_refuses_a_file_as_out(write_lesson, tmp_path):
    write_lesson("01_a.py", "# %% [markdown]\n# # A\n")
    (tmp_path / "keep.txt").write_text("keep")
    with pytest.raises(ValueError, match="out: expected a folder, got the file"):
        write_notebooks(write_lesson.folder, tmp_path / "keep.txt")
    assert (tmp_path / "keep.txt").read_text() == "keep"


def test_a_lesson_that_is_not_utf8_is_a_lesson_error(write_lesson):
    path = write_lesson("01_a.py", "")
    path.write_bytes(b"# %%\nx = '\xff'\n")
    with pytest.raises(LessonError, match=r"01_a.py: cannot be read as a py:percent lesson \("):
        read_notebook(path)


def test_write_notebooks_refuses_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(LessonError, match=r"lessons_dir: no lesson named NN_slug.py in '.*empty'"):
        write_notebooks(tmp_path / "empty", tmp_path / "out")
