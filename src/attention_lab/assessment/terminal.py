"""The practice quiz in a terminal, with rich: `attention-lab quiz [--objective 3.2] ...`.

Heatmap questions show the figure's weights as a shaded table (a terminal cannot show the PNG).
Each answer is scored at once and saved to the answers file before the next question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table

from attention_lab.assessment.bank import load_questions
from attention_lab.assessment.figures import get_figure
from attention_lab.assessment.schema import Question
from attention_lab.assessment.scoring import AnswerSheet, shuffled

_SHADES = ["grey23", "grey35", "grey50", "grey66", "grey82", "white"]


def heatmap_table(name: str) -> list[Table]:
    """The figure's weights as rich tables, one per panel, brighter for larger weights."""
    figure = get_figure(name)
    tables = []
    for panel, weights in figure.panels.items():
        table = Table(title=f"{figure.title}" + (f", panel {panel}" if panel else ""))
        table.add_column("query \\ key", style="bold")
        for key in figure.keys:
            table.add_column(key, justify="right")
        for row, query in zip(weights.tolist(), figure.queries):
            cells = []
            for value in row:
                shade = _SHADES[min(int(value * len(_SHADES)), len(_SHADES) - 1)]
                cells.append(f"[{shade}]{value:.2f}[/]")
            table.add_row(query, *cells)
        tables.append(table)
    return tables


def _ask(console: Console, question: Question, order: list) -> object:
    if question.type == "single":
        numbers = [str(i) for i in range(1, len(order) + 1)]
        answer = Prompt.ask("Your answer (number)", choices=numbers, console=console)
        return order[int(answer) - 1].id
    if question.type == "multiple":
        while True:
            raw = Prompt.ask("Your answers (numbers separated by commas)", console=console)
            picked = [p.strip() for p in raw.replace(" ", ",").split(",") if p.strip()]
            if picked and all(p.isdigit() and 1 <= int(p) <= len(order) for p in picked):
                return sorted({order[int(p) - 1].id for p in picked})
            console.print(f"[red]Enter numbers between 1 and {len(order)}, e.g. 1,3[/red]")
    if question.type == "numeric":
        return Prompt.ask("Your answer (a number)", console=console)
    return Prompt.ask("Your answer", console=console)


def run_terminal_quiz(
    learner: str,
    answers_path: Path,
    *,
    objectives: Sequence[str] | None = None,
    seed: int | None = None,
    limit: int | None = None,
    restart: bool = False,
    console: Console | None = None,
) -> AnswerSheet:
    """Ask the questions one by one; return the answer sheet (also saved to `answers_path`).

    If `answers_path` already holds this learner's answers, the quiz resumes: their answers are
    kept and the questions they answered are not asked again (`limit` counts the new ones).
    `restart` starts a fresh sheet instead, which replaces the file at the first answer. A file
    that is not an answers file, or holds another learner's answers, is refused (ValueError)
    before any question is asked.
    """
    console = console or Console()
    rng = random.Random(seed)
    answers_path = Path(answers_path)
    questions = shuffled(load_questions(objectives), rng)
    sheet = _open_sheet(learner, answers_path, restart=restart)
    earlier = len(sheet.answers)
    questions = [q for q in questions if q.id not in sheet.answers][:limit]
    intro = (
        f"Practice quiz: {len(questions)} questions. Each answer is checked at once and saved "
        f"to {answers_path}."
    )
    if earlier:
        intro += (
            f"\nResuming: {earlier} answers from an earlier session are kept in that file and "
            "those questions are skipped (start over with --restart)."
        )
    intro += "\nOfficial grades come from your instructor's LMS quiz and the batch grader."
    if questions:
        console.print(Panel(intro, title="Module 3 quiz"))
    for number, question in enumerate(questions, 1):
        console.rule(
            f"Question {number} of {len(questions)} · objectives {', '.join(question.objectives)}"
        )
        console.print(" ".join(question.prompt.split()))
        if question.figure:
            for table in heatmap_table(question.figure):
                console.print(table)
        order = shuffled(question.choices, rng) if question.choices else []
        for index, choice in enumerate(order, 1):
            console.print(f"  {index}. {choice.text}", highlight=False)
        feedback = sheet.record(question, _ask(console, question, order))
        if feedback.correct:
            style, verdict = "green", "Correct."
        elif feedback.score > 0:
            style, verdict = "yellow", f"Partly correct ({feedback.score:g} / {question.points:g})."
        else:
            style, verdict = "red", "Not quite."
        console.print(f"[{style}]{verdict}[/{style}] {feedback.message}", highlight=False)
        console.print(f"[dim]Why: {' '.join(feedback.explanation.split())}[/dim]", highlight=False)
    total = sum(float(a["points"]) for a in sheet.answers.values())
    score = f"Score: {sheet.score:g} / {total:g}"
    if earlier and questions:
        score += f" ({earlier} of the {len(sheet.answers)} answers from the earlier session)"
    if questions:
        done = f"{score}. Answers saved to {answers_path}."
    else:
        done = (
            f"Every question of this quiz is answered already in {answers_path}. {score}.\n"
            "Start over with --restart, or save to another file with --out NEW.json."
        )
    console.print(Panel(done, title="Done"))
    return sheet


def _open_sheet(learner: str, path: Path, *, restart: bool) -> AnswerSheet:
    """A fresh sheet, or the learner's sheet saved in `path` by an earlier session."""
    if restart or not path.exists():
        return AnswerSheet(learner=learner, path=path)
    ways_out = "save to another file with --out NEW.json, or start over with --restart"
    try:
        sheet = AnswerSheet.load(path)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"--out: '{path}' exists and is not a quiz answers file ({error}); {ways_out}"
        ) from None
    if sheet.learner != learner:
        raise ValueError(
            f"--out: '{path}' holds the answers of {sheet.learner!r} "
            f"({len(sheet.answers)} answers), not of {learner!r}; {ways_out}"
        )
    return sheet
