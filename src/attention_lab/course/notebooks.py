"""Student and solution copies of the lessons, as ``.ipynb`` notebooks a learner opens in Jupyter.

In a lesson's code cells the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are the
answer to an exercise. The solution copy keeps them (without the two marker lines); the student
copy replaces them by ``raise NotImplementedError("your code here")`` at the indentation of
``# BEGIN SOLUTION``. Worked example, a code cell::

    def attention_weights(q, k):
        # BEGIN SOLUTION
        scores = q @ k.T / k.shape[-1] ** 0.5
        return scores.softmax(-1)
        # END SOLUTION

becomes, in the student copy::

    def attention_weights(q, k):
        raise NotImplementedError("your code here")
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import nbformat

from attention_lab.course.lessons import LessonError, discover, read_notebook
from attention_lab.files import Written, check_folder, write_files

BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*#\s*END SOLUTION\s*$")
PLACEHOLDER = 'raise NotImplementedError("your code here")'
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def strip_solutions(source: str, *, where: str = "cell") -> str:
    """A code cell's source with every solution block replaced by the placeholder.

    Raises :class:`LessonError` (naming ``where`` and the line) on an unclosed, unopened or
    nested block.
    """
    return _rewrite(source, where=where, keep=False)


def keep_solutions(source: str, *, where: str = "cell") -> str:
    """A code cell's source with the solution marker lines removed and the answers kept."""
    return _rewrite(source, where=where, keep=True)


def has_solution(source: str) -> bool:
    """Whether a cell's source holds a solution block."""
    return any(BEGIN.match(line) for line in source.splitlines())


def _rewrite(source: str, *, where: str, keep: bool) -> str:
    out: list[str] = []
    opened_at: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if opened_at is not None:
                raise LessonError(
                    f"{where}, line {number}: '# BEGIN SOLUTION' inside the solution block "
                    f"opened on line {opened_at}; expected '# END SOLUTION' first"
                )
            opened_at = number
            if not keep:
                out.append(begin["indent"] + PLACEHOLDER)
        elif end:
            if opened_at is None:
                raise LessonError(
                    f"{where}, line {number}: '# END SOLUTION' without a '# BEGIN SOLUTION' "
                    f"above it"
                )
            opened_at = None
        elif opened_at is None or keep:
            out.append(line)
    if opened_at is not None:
        raise LessonError(
            f"{where}, line {opened_at}: '# BEGIN SOLUTION' is never closed; "
            f"expected a '# END SOLUTION' line after it"
        )
    return "\n".join(out)


def student_copy(notebook: nbformat.NotebookNode, *, name: str = "lesson") -> nbformat.NotebookNode:
    """The learner's notebook: solutions replaced by placeholders, outputs cleared."""
    return _copy(notebook, name=name, keep=False)


def solution_copy(
    notebook: nbformat.NotebookNode, *, name: str = "lesson"
) -> nbformat.NotebookNode:
    """The instructor's notebook: solutions kept (marker lines removed), outputs cleared."""
    return _copy(notebook, name=name, keep=True)


def _copy(notebook: nbformat.NotebookNode, *, name: str, keep: bool) -> nbformat.NotebookNode:
    nb = copy.deepcopy(notebook)
    for index, cell in enumerate(nb.cells):
        if "id" in cell:
            # the reader makes random ids; fixed ones make a rerun's copy identical to the last
            cell.id = hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
        if cell.cell_type != "code":
            continue
        cell.source = _rewrite(cell.source, where=f"{name}, cell {index}", keep=keep)
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.setdefault("kernelspec", nbformat.from_dict(KERNELSPEC))
    nb.metadata.pop("jupytext", None)  # the copy is a plain notebook, not a paired file
    nbformat.validate(nb)
    return nb


def write_notebooks(
    lessons_dir: str | Path, out: str | Path, *, solutions: bool = False, force: bool = False
) -> Written:
    """Write ``out/NN_slug.ipynb`` student copies (and ``out/solutions/NN_slug.ipynb``).

    Every lesson is read and checked before anything is written. A notebook already in ``out``
    that differs from the fresh copy (the learner worked in it) is kept unless ``force`` is set;
    ``Written.kept`` lists it. Paths are listed student copies first.
    """
    out = Path(out)
    check_folder("out", out)
    paths = discover(lessons_dir)
    if not paths:
        raise LessonError(f"lessons_dir: no lesson named NN_slug.py in {str(lessons_dir)!r}")
    student: dict[Path, str] = {}
    solution: dict[Path, str] = {}
    for path in paths:
        nb = read_notebook(path)
        student[out / f"{path.stem}.ipynb"] = _text(student_copy(nb, name=path.name))
        if solutions:
            solution[out / "solutions" / f"{path.stem}.ipynb"] = _text(
                solution_copy(nb, name=path.name)
            )
    return write_files({**student, **solution}, force=force)


def _text(nb: nbformat.NotebookNode) -> str:
    """The notebook's file content, exactly as ``nbformat.write`` would save it."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"
