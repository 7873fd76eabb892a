"""The quiz engine, the notebook and terminal quizzes, answer files and `quiz grade`."""

from __future__ import annotations

import csv
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from attention_lab.assessment import (
    AnswerSheet,
    NotebookQuiz,
    check_answer,
    get_question,
    grade_answers_dir,
    load_questions,
    run_terminal_quiz,
)
from attention_lab.assessment.scoring import ANSWERS_FORMAT, normalize_text, read_answer_sheet
from attention_lab.cli import app


def test_scoring_rules():
    single = get_question("sdpa-formula")
    assert check_answer(single, "a").correct
    assert check_answer(single, "z").message == "Choose one of the options."
    multi = get_question("rnn-limitations-multi")  # a, b, c correct; d, e wrong
    assert check_answer(multi, ["a", "b", "c"]).score == 1
    assert check_answer(multi, ["a", "b"]).score == pytest.approx(2 / 3, abs=1e-4)
    assert check_answer(multi, ["a", "b", "d"]).score == pytest.approx(1 / 3, abs=1e-4)
    assert check_answer(multi, ["a", "d", "e"]).score == 0  # floored at zero
    assert "You missed 1 correct option." in check_answer(multi, ["a", "b"]).message
    numeric = get_question("weight-by-hand")
    assert check_answer(numeric, "0.671").correct and check_answer(numeric, 0.669).correct
    assert not check_answer(numeric, 0.675).correct
    assert "Enter a number" in check_answer(numeric, "about a half").message
    assert check_answer(numeric, "0.731").message.startswith("That is softmax([1, 0])")
    text = get_question("paper-title")
    assert check_answer(text, "  Attention  IS all you NEED! ").correct
    assert not check_answer(text, "").correct
    assert normalize_text("Ｓelf-Attention.") == "self-attention"


def test_answer_sheet_saved_after_each_answer_and_regraded(tmp_path):
    path = tmp_path / "answers" / "ada.json"
    sheet = AnswerSheet("ada", path=path)
    sheet.record(get_question("head-dim"), 64)
    sheet.record(get_question("scale-why"), "b")
    data = json.loads(path.read_text())
    assert data["format"] == ANSWERS_FORMAT and data["mode"] == "practice"
    assert set(data["answers"]) == {"head-dim", "scale-why"}
    # a sheet that claims full marks for a wrong answer is re-scored from the bank
    data["answers"]["scale-why"]["score"] = 1.0
    path.write_text(json.dumps(data))
    (tmp_path / "answers" / "broken.json").write_text("{not json")
    out = tmp_path / "quiz.csv"
    rows = grade_answers_dir(tmp_path / "answers", out)
    with out.open() as f:
        table = list(csv.DictReader(f))
    assert [r["learner"] for r in table] == ["ada", "broken"]
    ada = table[0]
    assert float(ada["head-dim"]) == 1 and float(ada["scale-why"]) == 0
    assert float(ada["total"]) == 1 and int(ada["answered"]) == 2
    assert float(ada["max"]) == len(load_questions())
    assert table[1]["status"].startswith("invalid")
    assert len(rows) == 3
    with pytest.raises(ValueError, match="answers_dir: expected a directory"):
        grade_answers_dir(tmp_path / "missing", out)
    with pytest.raises(ValueError, match="expected format"):
        (tmp_path / "x.json").write_text("{}")
        read_answer_sheet(tmp_path / "x.json")


def test_notebook_quiz_shuffles_checks_and_saves(tmp_path):
    path = tmp_path / "nb.json"
    quiz = NotebookQuiz("bea", objectives=["3.2"], answers_path=path, seed=1)
    other = NotebookQuiz("bea", objectives=["3.2"], answers_path=None, seed=2)
    assert {q.id for q in quiz.questions} == {q.id for q in load_questions(["3.2"])}
    assert [q.id for q in quiz.questions] != [q.id for q in other.questions]
    assert "Practice quiz" in quiz.widget.children[0].value
    for item in quiz.items:
        item.set_response(item.question.correct_response())
        item.button.click()  # the same path as a learner's click
        assert "Correct." in item.feedback.value
    assert quiz.score == sum(q.points for q in quiz.questions)
    saved = json.loads(path.read_text())
    assert len(saved["answers"]) == len(quiz.questions)
    figure_items = [i for i in quiz.items if i.question.figure]
    assert figure_items and bytes(figure_items[0].widget.children[1].value).startswith(b"\x89PNG")
    wrong = quiz.items[0]
    wrong.set_response(None if wrong.question.type == "single" else "nonsense")
    wrong.button.click()
    assert "Not quite." in wrong.feedback.value
    with pytest.raises(ValueError, match="learner: expected a non-empty name"):
        NotebookQuiz("  ")
    with pytest.raises(ValueError, match="limit: expected a positive integer"):
        NotebookQuiz("x", limit=0)


def test_terminal_quiz_records_answers(tmp_path, monkeypatch):
    questions = load_questions(["3.2.4"])
    order: dict[str, list] = {}

    def fake_ask(console, question, shown):
        order[question.id] = shown
        return question.correct_response()

    monkeypatch.setattr("attention_lab.assessment.terminal._ask", fake_ask)
    console = Console(record=True, width=120)
    sheet = run_terminal_quiz(
        "cy", tmp_path / "t.json", objectives=["3.2.4"], seed=3, console=console
    )
    assert sheet.score == len(questions)
    text = console.export_text()
    assert "Practice quiz" in text and "Panel A" in text  # the heatmap as a table
    assert json.loads((tmp_path / "t.json").read_text())["learner"] == "cy"


def test_cli_quiz_take_grade_export(tmp_path):
    runner = CliRunner()
    out = tmp_path / "answers" / "dee.json"
    # "1" is a valid reply to every question (a choice number or a number): some right, some wrong
    replies = "1\n" * len(load_questions(["3.2.4"]))
    result = runner.invoke(
        app,
        ["quiz", "--objective", "3.2.4", "--learner", "dee", "--out", str(out), "--seed", "0"],
        input=replies,
    )
    assert result.exit_code == 0, result.output
    assert "Score:" in result.output and out.exists()
    result = runner.invoke(
        app, ["quiz", "grade", str(out.parent), "--out", str(tmp_path / "g.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "dee" in (tmp_path / "g.csv").read_text()
    result = runner.invoke(
        app, ["quiz", "export", "--format", "docx", "--out", str(tmp_path / "q")]
    )
    assert result.exit_code == 2 and "format: expected one of" in result.output
    result = runner.invoke(app, ["quiz", "--objective", "7.7"])
    assert result.exit_code == 2 and "objective" in result.output
