"""The practice quiz in a Jupyter notebook, with ipywidgets (works offline).

    from attention_lab.assessment import NotebookQuiz
    quiz = NotebookQuiz(learner="ada", objectives=["3.2"], answers_path="quiz-answers-ada.json")
    quiz  # shows the questions; "Check" gives feedback at once and saves the answers file

Questions and choices are shuffled (seeded by `seed`, default: a fresh seed). Every check is
recorded in the answers file (same JSON format as the terminal and web quizzes), which the
learner can hand in; `attention-lab quiz grade` re-scores it from the bank. Practice only:
official grades come from the batch grader and the instructor's LMS.
"""

from __future__ import annotations

import html
import random
from collections.abc import Sequence
from pathlib import Path

from attention_lab.assessment.bank import load_questions
from attention_lab.assessment.figures import figure_png
from attention_lab.assessment.schema import Question
from attention_lab.assessment.scoring import AnswerSheet, Feedback, parse_number, shuffled

PRACTICE_NOTE = (
    "<b>Practice quiz.</b> Feedback appears as soon as you check an answer, and every check is "
    "saved to your answers file. Official grades come from your instructor's LMS quiz and the "
    "batch grader."
)


class QuestionWidget:
    """One question: prompt, optional heatmap, an input, a Check button and a feedback area."""

    def __init__(self, question: Question, number: int, sheet: AnswerSheet, rng: random.Random):
        import ipywidgets as w

        self.question = question
        self.sheet = sheet
        q = question
        header = w.HTML(
            f"<p style='color:#667'>Question {number} · objectives {', '.join(q.objectives)}</p>"
            f"<p>{html.escape(' '.join(q.prompt.split()))}</p>"
        )
        parts: list = [header]
        if q.figure:
            parts.append(w.Image(value=figure_png(q.figure), format="png", width=420))
        if q.type in ("single", "multiple"):
            self.order = shuffled(q.choices, rng)
            if q.type == "single":
                self.input = w.RadioButtons(
                    options=[(c.text, c.id) for c in self.order],
                    value=None,
                    layout=w.Layout(width="auto"),
                )
            else:
                self.boxes = [
                    w.Checkbox(
                        value=False, description=c.text, indent=False, layout=w.Layout(width="auto")
                    )
                    for c in self.order
                ]
                self.input = w.VBox(self.boxes)
        elif q.type == "numeric":
            self.input = w.Text(placeholder="a number, e.g. 0.25")
        else:
            self.input = w.Text(placeholder="your answer")
        self.button = w.Button(description="Check", button_style="primary")
        self.feedback = w.HTML("")
        self.button.on_click(lambda _: self.check())
        parts += [self.input, self.button, self.feedback]
        self.widget = w.VBox(
            parts, layout=w.Layout(border="1px solid #ccd", padding="6px", margin="8px 0")
        )

    def response(self) -> object:
        q = self.question
        if q.type == "single":
            return self.input.value
        if q.type == "multiple":
            return [c.id for c, box in zip(self.order, self.boxes) if box.value]
        if q.type == "numeric":
            value = parse_number(self.input.value)
            return value if value is not None else self.input.value
        return self.input.value

    def set_response(self, response: object) -> None:
        """Fill the input programmatically (used by tests and by `NotebookQuiz.restore`)."""
        q = self.question
        if q.type == "single":
            self.input.value = response
        elif q.type == "multiple":
            for choice, box in zip(self.order, self.boxes):
                box.value = choice.id in set(response or [])
        else:
            self.input.value = "" if response is None else str(response)

    def check(self) -> Feedback:
        result = self.sheet.record(self.question, self.response())
        if result.correct:
            colour, verdict = "#e6f4ea", "Correct."
        elif result.score > 0:
            colour, verdict = (
                "#fff4e5",
                f"Partly correct ({result.score:g} of {self.question.points:g}).",
            )
        else:
            colour, verdict = "#fdecea", "Not quite."
        message = html.escape(result.message).replace("\n", "<br>")
        self.feedback.value = (
            f"<div style='background:{colour};padding:6px;border-radius:6px'><b>{verdict}</b> "
            f"{message}<br><i>Why:</i> {html.escape(' '.join(result.explanation.split()))}</div>"
        )
        return result


class NotebookQuiz:
    """A shuffled practice quiz of ipywidgets; display it as the last expression of a cell."""

    def __init__(
        self,
        learner: str = "anonymous",
        *,
        objectives: Sequence[str] | None = None,
        questions: Sequence[Question] | None = None,
        answers_path: str | Path | None = "quiz-answers.json",
        seed: int | None = None,
        limit: int | None = None,
    ):
        import ipywidgets as w

        if not isinstance(learner, str) or not learner.strip():
            raise ValueError(f"learner: expected a non-empty name or id, got {learner!r}")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit: expected a positive integer or None, got {limit!r}")
        pool = list(questions) if questions is not None else load_questions(objectives)
        if not pool:
            raise ValueError(f"objectives: no questions for {objectives!r}")
        self.rng = random.Random(seed)
        self.questions = shuffled(pool, self.rng)[:limit]
        path = Path(answers_path) if answers_path is not None else None
        self.sheet = AnswerSheet(learner=learner, path=path)
        self.items = [
            QuestionWidget(q, n, self.sheet, self.rng) for n, q in enumerate(self.questions, 1)
        ]
        saved = f" Answers are saved to <code>{html.escape(str(path))}</code>." if path else ""
        self.widget = w.VBox(
            [w.HTML(f"<div style='background:#fff8e1;padding:6px'>{PRACTICE_NOTE}{saved}</div>")]
            + [item.widget for item in self.items]
        )

    @property
    def score(self) -> float:
        return self.sheet.score

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self):  # older IPython
        from IPython.display import display

        display(self.widget)
