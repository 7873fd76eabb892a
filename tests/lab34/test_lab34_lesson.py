"""lessons/04_from_scratch.py: the solution copy executes with every check passing; the student
copy holds no solution code and every exercise in it reads as not attempted."""

from __future__ import annotations

import math
import re

import jupytext
import pytest
import torch
from nbclient import NotebookClient
from torch import nn

from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.course.notebooks import BEGIN, END, solution_copy, student_copy
from attention_lab.exercises import EXERCISES, evaluate
from attention_lab.objectives import objectives

LESSON = LESSONS_DIR / "04_from_scratch.py"


@pytest.fixture(scope="module")
def lesson():
    return jupytext.read(LESSON)


@pytest.fixture(scope="module")
def executed(lesson):
    notebook = solution_copy(lesson, name="04_from_scratch")
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(LESSON.parent)}},
    ).execute()
    return notebook


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_solution_copy_executes_with_every_check_passing(executed):
    notebook = executed
    checked = []
    for cell in notebook.cells:
        match = re.fullmatch(r"lab34\.(q\d+)\.check\(\)", cell.source.strip())
        if cell.cell_type == "code" and match:
            checked.append(match[1])
            assert "✓" in _text(cell) and "Correct" in _text(cell), (match[1], _text(cell))
    assert sorted(checked, key=lambda q: int(q[1:])) == [f"q{n}" for n in range(1, 11)]
    summary = _text(next(c for c in notebook.cells if c.source.strip() == "lab34.summary()"))
    assert summary.count("✓ correct") == 10, summary


def test_lesson_measures_the_speedup_of_matrix_over_loops(executed):
    notebook = executed
    text = "".join(_text(c) for c in notebook.cells)
    speedups = [float(s.replace(",", "")) for s in re.findall(r"speed-up x([\d,]+)", text)]
    assert len(speedups) == 4 and speedups[-1] > 10, speedups
    assert (
        sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
        >= 3
    )


def test_student_copy_holds_no_solution_code(lesson):
    solution_lines = set()
    for cell in lesson.cells:
        inside = False
        for line in cell.source.splitlines():
            if BEGIN.match(line):
                inside = True
            elif END.match(line):
                inside = False
            elif inside and line.strip():
                solution_lines.add(line.strip())
    assert len(solution_lines) > 30
    student = student_copy(lesson, name="04_from_scratch")
    student_text = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    leaked = solution_lines & {line.strip() for line in student_text.splitlines()}
    assert not leaked, leaked
    assert "SOLUTION" not in student_text
    assert (
        student_text.count('raise NotImplementedError("your code here")') == 12
    )  # one per solution block


def test_every_exercise_in_the_student_copy_is_not_attempted(lesson):
    student = student_copy(lesson, name="04_from_scratch")
    namespace = {"math": math, "torch": torch, "nn": nn}
    for cell in student.cells:
        if cell.cell_type == "code" and "NotImplementedError" in cell.source:
            exec(cell.source, namespace)
    for exercise in EXERCISES.values():
        assert exercise.target in namespace, exercise.target
        assert (
            evaluate(exercise.id, namespace[exercise.target], seed=0).diagnosis == "not_attempted"
        )


def test_lesson_structure(lesson):
    first, last = lesson.cells[0].source, lesson.cells[-1].source
    assert first.startswith("# 3.4 Implementing Transformers from Scratch")
    assert "1 - 1.5 hours" in first and "Learning objectives" in first
    for objective_id in ("3.4.1", "3.4.2", "3.4.3", "3.4.4"):
        assert " ".join(objectives()[objective_id].text.split()) in " ".join(
            first.replace("#", "").split()
        )
    assert last.startswith("## Key takeaways")
    markdown = "\n".join(c.source for c in lesson.cells if c.cell_type == "markdown")
    served = set(" ".join(re.findall(r"<!-- serves: ([\d. ]+) -->", markdown)).split())
    hands_on = set(" ".join(re.findall(r"<!-- hands-on: ([\d. ]+) -->", markdown)).split())
    assert served == hands_on == {"3.4.1", "3.4.2", "3.4.3", "3.4.4"}
    assert "attention_lab.exercises" in lesson.cells[1].source
