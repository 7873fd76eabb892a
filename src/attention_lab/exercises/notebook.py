"""Instant feedback in a notebook: ``check()``, ``hint()`` and ``solution()`` for one exercise.

``check()`` finds the learner's function or class by its name in the notebook's namespace
(``__main__``, which is where IPython keeps what a notebook defines), runs the exercise's cases and
returns a :class:`Feedback` that Jupyter displays. These checks are practice; official grades come
from the batch grader.
"""

from __future__ import annotations

import html
import sys

from attention_lab.exercises.base import Exercise, Result, evaluate_exercise
from attention_lab.inert import inert
from attention_lab.misconceptions import MISCONCEPTIONS

PRACTICE = "Practice check: official grades come from the batch grader (attention-lab grade)."
_MISSING = object()


def notebook_namespace() -> dict:
    """The namespace of the running notebook (IPython's user namespace) or script."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


class Feedback:
    """What ``check()`` shows: the verdict, its explanation and where it was found."""

    def __init__(self, exercise: Exercise, result: Result, helper: str):
        self.exercise = exercise
        self.result = result
        self.helper = helper  # how the notebook names the exercise, e.g. "lab34.q5"

    @property
    def passed(self) -> bool:
        return self.result.passed

    @property
    def diagnosis(self) -> str:
        return self.result.diagnosis

    def _parts(self) -> tuple[str, str, str]:
        r = self.result
        message = inert(r.message)  # it may quote an error message the learner's code wrote
        if r.passed:
            return "Correct", message, ""
        if r.diagnosis == "not_attempted":
            return "Not attempted yet", message, ""
        return f"Not yet: {r.diagnosis}", message, MISCONCEPTIONS[r.diagnosis]

    def __str__(self) -> str:
        title, message, explanation = self._parts()
        mark = "✓" if self.passed else "✗"
        lines = [f"{mark} {self.exercise.title} — {title}", message]
        if explanation:
            lines.append(f"Why: {explanation}")
        if not self.passed:
            lines.append(f"Stuck? {self.helper}.hint()")
        lines.append(PRACTICE)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        title, message, explanation = self._parts()
        colour = (
            "#1a7f37"
            if self.passed
            else ("#9a6700" if self.diagnosis == "not_attempted" else "#cf222e")
        )
        mark = "✓" if self.passed else "✗"
        body = [
            f'<div style="border-left:4px solid {colour};padding:0.4em 0.8em;margin:0.3em 0">',
            f'<b style="color:{colour}">{mark} {html.escape(self.exercise.title)}: '
            f"{html.escape(title)}</b>",
            f"<div>{html.escape(message)}</div>",
        ]
        if explanation:
            body.append(f"<div><i>Why:</i> {html.escape(explanation)}</div>")
        if not self.passed:
            body.append(f"<div>Stuck? <code>{self.helper}.hint()</code></div>")
        body.append(
            f'<div style="color:#6e7781;font-size:0.85em">{html.escape(PRACTICE)}</div></div>'
        )
        return "\n".join(body)


class Text:
    """Markdown that Jupyter renders (a hint, a solution), plain text elsewhere."""

    def __init__(self, markdown: str):
        self.markdown = markdown

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __str__(self) -> str:
        return self.markdown

    __repr__ = __str__


class NotebookExercise:
    """``check()``, ``hint(n)`` and ``solution()`` for one exercise, learntools-style."""

    def __init__(self, exercise: Exercise, helper: str):
        self.exercise = exercise
        self.helper = helper  # how the notebook names it, e.g. "lab34.q5"

    def __repr__(self) -> str:
        return f"<exercise {self.exercise.id}: {self.exercise.title}>"

    def prompt(self) -> Text:
        """What the exercise asks."""
        return Text(
            f"**{self.exercise.title}** ({self.exercise.points} points). {self.exercise.prompt}"
        )

    def check(self, candidate: object = _MISSING, *, seed: int | None = None) -> Feedback:
        """Check the notebook's definition of the target (or ``candidate``) on fresh inputs."""
        target = self.exercise.target
        if candidate is _MISSING:
            candidate = notebook_namespace().get(target)
            if candidate is None:
                result = Result(
                    False,
                    "not_attempted",
                    f"Not attempted yet: no {target} is defined in this notebook.",
                )
                return Feedback(self.exercise, result, self.helper)
        if getattr(candidate, "__module__", "").startswith("attention_lab"):
            result = Result(
                False,
                "not_attempted",
                f"{target} here is imported from {candidate.__module__}, not written by you: "
                "define your own to check it.",
            )
            return Feedback(self.exercise, result, self.helper)
        return Feedback(
            self.exercise, evaluate_exercise(self.exercise, candidate, seed), self.helper
        )

    def hint(self, n: int = 1) -> Text:
        """The n-th hint (1 = the gentlest)."""
        hints = self.exercise.hints
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(
                f"n: expected an int between 1 and {len(hints)}, got {type(n).__name__}"
            )
        if not 1 <= n <= len(hints):
            raise ValueError(f"n: expected an int between 1 and {len(hints)}, got {n}")
        more = f" (more: `.hint({n + 1})`)" if n < len(hints) else ""
        return Text(f"**Hint {n} of {len(hints)}**{more}: {hints[n - 1]}")

    def solution(self) -> Text:
        """A model answer."""
        return Text(
            f"**Solution** ({self.exercise.title}):\n\n```python\n{self.exercise.solution}```"
        )
