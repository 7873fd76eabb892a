"""`attention-lab quiz ...`, `attention-lab assignment` and `attention-lab grade`.

attention-lab quiz [--objective 3.2] [--learner ada] [--out answers.json] [--restart]  (take)
attention-lab quiz grade ANSWERS_DIR --out gradebook.csv
attention-lab quiz export --format gift|qti|json --out FILE
attention-lab quiz html --out quiz.html
attention-lab assignment --out DIR [--force]
attention-lab grade SUBMISSIONS_DIR --out gradebook.csv [--feedback DIR] [--timeout S]
                    [--memory MB] [--jobs N]
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._extras import require
from attention_lab.cli._messages import fail
from attention_lab.cli._paths import output_file, output_folder
from attention_lab.files import check_output_file

quiz_app = typer.Typer(
    help="The Module 3 quiz: take it (practice), grade answer files, export it to an LMS.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(quiz_app, name="quiz")
    app.command("assignment")(assignment)
    app.command("grade")(grade)


# Options shared by `quiz` (the default command) and `quiz take`.
_OBJECTIVE = typer.Option(
    None, "--objective", "-o", help="Only questions for this objective (3.2.4) or topic (3.2)."
)
_LEARNER = typer.Option("anonymous", "--learner", help="Your name or id.")
_OUT = typer.Option(
    None,
    "--out",
    callback=output_file,
    help="Answers file (default: quiz-answers-LEARNER.json). If it holds your answers from an "
    "earlier session, the quiz resumes: answered questions are skipped.",
)
_SEED = typer.Option(None, "--seed", help="Shuffle seed (default: random).")
_LIMIT = typer.Option(None, "--limit", min=1, help="Ask at most this many.")
_RESTART = typer.Option(
    False, "--restart", help="Start over: the answers file is replaced at the first answer."
)


@quiz_app.callback()
def quiz(
    ctx: typer.Context,
    objective: list[str] = _OBJECTIVE,
    learner: str = _LEARNER,
    out: Path | None = _OUT,
    seed: int | None = _SEED,
    limit: int | None = _LIMIT,
    restart: bool = _RESTART,
) -> None:
    """Take the practice quiz in the terminal (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    take(objective=objective, learner=learner, out=out, seed=seed, limit=limit, restart=restart)


@quiz_app.command("take")
def take(
    objective: list[str] = _OBJECTIVE,
    learner: str = _LEARNER,
    out: Path | None = _OUT,
    seed: int | None = _SEED,
    limit: int | None = _LIMIT,
    restart: bool = _RESTART,
) -> None:
    """Take the practice quiz in the terminal; answers are saved after each question.

    Run it again with the same answers file to go on where you stopped.
    """
    from attention_lab.assessment.terminal import run_terminal_quiz

    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in learner) or "anonymous"
    path = out or Path(f"quiz-answers-{safe}.json")
    try:
        check_output_file("--out", path)  # the default name too, before the first question
        run_terminal_quiz(
            learner,
            path,
            objectives=objective or None,
            seed=seed,
            limit=limit,
            restart=restart,
        )
    except ValueError as error:
        fail(str(error))


@quiz_app.command("grade")
def grade_answers(
    answers_dir: Path = typer.Argument(..., help="Folder of answers files (*.json)."),
    out: Path = typer.Option(..., "--out", callback=output_file, help="Gradebook CSV to write."),
) -> None:
    """Grade a folder of quiz answer files: one row per learner, per-question scores, total."""
    from attention_lab.assessment.scoring import grade_answers_dir

    try:
        rows = grade_answers_dir(answers_dir, out)
    except ValueError as error:
        fail(str(error))
    table = Table("learner", "status", "total", "max", "answered")
    header = rows[0]
    for row in rows[1:]:
        record = dict(zip(header, row))
        table.add_row(
            str(record["learner"]),
            str(record["status"]),
            f"{record['total']:g}",
            f"{record['max']:g}",
            str(record["answered"]),
        )
    console = Console()
    console.print(table)
    console.print(f"wrote {out} ({len(rows) - 1} learners)")


@quiz_app.command("export")
def export(
    fmt: str = typer.Option(
        ..., "--format", help="gift (Moodle), qti (Canvas zip) or json (jupyterquiz)."
    ),
    out: Path = typer.Option(..., "--out", callback=output_file, help="File to write."),
    objective: list[str] = typer.Option(
        None, "--objective", "-o", help="Only these objectives/topics."
    ),
) -> None:
    """Export the question bank for an LMS."""
    if fmt == "qti":
        require("assessment", "quiz export --format qti")
    from attention_lab.assessment.bank import load_questions
    from attention_lab.assessment.export import export_questions

    try:
        questions = load_questions(objective or None)
        export_questions(fmt, out, questions)
    except ValueError as error:
        fail(str(error))
    Console().print(f"wrote {out} ({len(questions)} questions, {fmt})")


@quiz_app.command("html")
def html_page(
    out: Path = typer.Option(..., "--out", callback=output_file, help="HTML file to write."),
    objective: list[str] = typer.Option(
        None, "--objective", "-o", help="Only these objectives/topics."
    ),
) -> None:
    """Write the self-contained practice quiz page (works offline, from file://)."""
    from attention_lab.assessment.bank import load_questions
    from attention_lab.assessment.html import quiz_html
    from attention_lab.files import write_atomic

    try:
        page = quiz_html(load_questions(objective or None))
    except ValueError as error:
        fail(str(error))
    write_atomic(out, page)
    Console().print(f"wrote {out}")


def assignment(
    out: Path = typer.Option(
        Path("assignment"), "--out", callback=output_folder, help="Folder to write into."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace files that differ from a fresh copy (your edits)."
    ),
) -> None:
    """Write the written assignment (Markdown), its rubric (CSV) and a submission template.

    Run again, it writes only missing files: one you edited is kept unless --force is given.
    """
    from attention_lab.assessment.assignment import write_assignment

    console = Console(soft_wrap=True)  # paths stay whole, to be copied
    for line in write_assignment(out, force=force).summary():
        console.print(line, highlight=False, markup=False)


def grade(
    submissions_dir: Path = typer.Argument(..., help="Folder of .py / .ipynb submissions."),
    out: Path = typer.Option(
        ..., "--out", callback=output_file, help="Gradebook CSV to write (atomically)."
    ),
    feedback: Path | None = typer.Option(
        None, "--feedback", callback=output_folder, help="Folder for per-student feedback."
    ),
    timeout: float = typer.Option(60.0, "--timeout", help="Wall-clock seconds per submission."),
    memory: int = typer.Option(2048, "--memory", help="Address-space limit per submission, MB."),
    jobs: int = typer.Option(2, "--jobs", min=1, help="Submissions graded in parallel."),
    seed: int = typer.Option(0, "--seed", help="Seed of the test cases."),
    isolation: str = typer.Option(
        "auto", "--isolation", help="auto (namespaces where possible), namespace or basic."
    ),
) -> None:
    """Grade Lab 3.4 code submissions in sandboxes; one gradebook row per submission."""
    from attention_lab.assessment.grader import Limits, grade_batch, time_bound
    from attention_lab.assessment.grader.batch import find_submissions

    console = Console()
    try:
        limits = Limits(
            timeout=timeout,
            memory_mb=memory,
            case_timeout=min(10.0, timeout),
            import_timeout=min(30.0, timeout),
        )
        n = len(find_submissions(submissions_dir))
        console.print(
            f"grading {n} submissions, {jobs} at a time, at most ~{time_bound(n, limits, jobs):.0f} s"
        )
        report = grade_batch(
            submissions_dir,
            out,
            feedback_dir=feedback,
            limits=limits,
            jobs=jobs,
            seed=seed,
            isolation=isolation,
            on_result=lambda r: console.print(
                f"  {r.student_id}: {r.status}, {r.total:g} points ({r.seconds:g} s)",
                highlight=False,
            ),
        )
    except ValueError as error:
        fail(str(error))
    console.print(f"isolation: {report.isolation} ({report.isolation_reason})")
    console.print(f"wrote {out} ({len(report.results)} rows) in {report.seconds:g} s")
    if feedback is not None:
        console.print(f"feedback in {feedback}/")
