"""The Lab 3.4 exercises in notebook form: ``lab34.q1`` ... ``lab34.q10``.

    from attention_lab.exercises import lab34
    lab34.q1.check()     # finds your QKVProjection in the notebook
    lab34.q1.hint()      # lab34.q1.hint(2): the next hint
    lab34.q1.solution()

``lab34.summary()`` checks every exercise at once. Practice only: official grades come from the
batch grader.
"""

from __future__ import annotations

from attention_lab.exercises import EXERCISES
from attention_lab.exercises.notebook import NotebookExercise, Text

_ALL = tuple(
    NotebookExercise(exercise, f"lab34.q{number}")
    for number, exercise in enumerate(EXERCISES.values(), start=1)
)
(q1, q2, q3, q4, q5, q6, q7, q8, q9, q10) = _ALL


def summary() -> Text:
    """A table of every exercise: its target, points and the verdict on the notebook's code."""
    rows = ["| | exercise | define | points | verdict |", "|---|---|---|---|---|"]
    for number, item in enumerate(_ALL, start=1):
        feedback = item.check()
        mark = "✓" if feedback.passed else "✗"
        e = item.exercise
        rows.append(
            f"| q{number} | {e.title} | `{e.target}` | {e.points} | {mark} {feedback.diagnosis} |"
        )
    return Text("\n".join(rows))


__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "summary"]
