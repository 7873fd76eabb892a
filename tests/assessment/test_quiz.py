"""The quiz engine, the notebook and terminal quizzes, answer files and `quiz grade`."""

from __future__ import annotations

import csv
import json
import os
import stat

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
    out.parent.mkdir()
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


def _replies(n: int) -> str:
    # "1" is a valid reply to every question (a choice number or a number)
    return "1\n" * n


def test_quiz_take_again_resumes_and_keeps_earlier_answers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    n = len(load_questions(["3.2.4"]))
    first = runner.invoke(
        app, ["quiz", "take", "-o", "3.2.4", "--limit", "2", "--seed", "0"], input=_replies(2)
    )
    assert first.exit_code == 0, first.output
    path = tmp_path / "quiz-answers-anonymous.json"
    earlier = json.loads(path.read_text())["answers"]
    assert len(earlier) == 2
    second = runner.invoke(app, ["quiz", "take", "-o", "3.2.4", "--seed", "5"], input=_replies(n))
    assert second.exit_code == 0, second.output
    assert "Resuming: 2 answers from an earlier session" in second.output
    assert f"Question 1 of {n - 2}" in second.output and f"Question {n - 1} of" not in second.output
    answers = json.loads(path.read_text())["answers"]
    assert len(answers) == n
    assert {qid: answers[qid] for qid in earlier} == earlier  # not one earlier answer changed
    third = runner.invoke(app, ["quiz", "take", "-o", "3.2.4"], input="")
    assert third.exit_code == 0, third.output
    assert "Every question of this quiz is answered already" in third.output
    assert "--restart" in third.output and "Question 1" not in third.output
    restart = runner.invoke(
        app, ["quiz", "take", "-o", "3.2.4", "--limit", "1", "--restart"], input=_replies(1)
    )
    assert restart.exit_code == 0, restart.output
    assert len(json.loads(path.read_text())["answers"]) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("notes", "exists and is not a quiz answers file"),
        (None, "holds the answers of 'ada' (1 answers), not of 'bob'"),
    ],
)
def test_quiz_take_refuses_a_file_it_would_lose(tmp_path, content, message):
    path = tmp_path / "answers.json"
    if content is None:
        AnswerSheet("ada", path=path).record(get_question("head-dim"), 64)
    else:
        path.write_text(content)
    before = path.read_bytes()
    result = CliRunner().invoke(
        app, ["quiz", "take", "--learner", "bob", "--out", str(path)], input=_replies(3)
    )
    assert result.exit_code == 2 and message in " ".join(result.output.split())
    assert "--out NEW.json, or start over with --restart" in " ".join(result.output.split())
    assert "Question 1" not in result.output
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("out", ["adir", "nodir/a.json"])
def test_quiz_take_checks_out_before_the_first_question(tmp_path, out):
    (tmp_path / "adir").mkdir()
    result = CliRunner().invoke(
        app, ["quiz", "take", "-o", "3.2.4", "--out", str(tmp_path / out)], input=_replies(9)
    )
    assert result.exit_code == 2 and "--out" in result.output
    assert "Question 1" not in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]  # no temporary file left
    assert list((tmp_path / "adir").iterdir()) == []


def test_answer_sheet_save_leaves_no_temporary_file_when_the_rename_fails(tmp_path):
    (tmp_path / "adir").mkdir()
    sheet = AnswerSheet("ada", path=tmp_path / "adir")
    with pytest.raises(IsADirectoryError):
        sheet.record(get_question("head-dim"), 64)
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quiz", "export", "--format", "gift", "--out", "nodir/q.gift"], "'nodir' does not exist"),
        (["quiz", "export", "--format", "qti", "--out", "adir"], "got the directory 'adir'"),
        (["quiz", "html", "--out", "nodir/q.html"], "'nodir' does not exist"),
        (["quiz", "html", "--out", "adir"], "got the directory 'adir'"),
        (["quiz", "grade", "answers", "--out", "nodir/g.csv"], "'nodir' does not exist"),
        (["quiz", "grade", "answers", "--out", "adir"], "got the directory 'adir'"),
        (["quiz", "grade", "answers", "--out", ""], "expected a file name"),
    ],
)
def test_quiz_commands_check_out_first(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "answers").mkdir()
    AnswerSheet("ada", path=tmp_path / "answers" / "ada.json").record(get_question("head-dim"), 64)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and message in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "answers"]


def test_quiz_grade_refuses_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not answers")
    result = CliRunner().invoke(
        app, ["quiz", "grade", str(tmp_path / "empty"), "--out", str(tmp_path / "g.csv")]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "answers_dir: no answers files (*.json) in" in text and "empty" in text
    assert not (tmp_path / "g.csv").exists()


def test_quiz_outputs_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        answers = tmp_path / "answers"
        answers.mkdir()
        AnswerSheet("ada", path=answers / "ada.json").record(get_question("head-dim"), 64)
        grade_answers_dir(answers, tmp_path / "g.csv")
        runner = CliRunner()
        runner.invoke(app, ["quiz", "export", "--format", "qti", "--out", str(tmp_path / "q.zip")])
        runner.invoke(app, ["quiz", "html", "--out", str(tmp_path / "q.html")])
        for path in (
            answers / "ada.json",
            tmp_path / "g.csv",
            tmp_path / "q.zip",
            tmp_path / "q.html",
        ):
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
        (tmp_path / "g.csv").chmod(0o640)  # a replaced file keeps its mode
        grade_answers_dir(answers, tmp_path / "g.csv")
        assert stat.S_IMODE((tmp_path / "g.csv").stat().st_mode) == 0o640
    finally:
        os.umask(old)
