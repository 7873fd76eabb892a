"""LMS exports round-trip: parse what was written, find the same questions and answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from attention_lab.assessment import export_questions, load_questions
from attention_lab.assessment.export import (
    parse_gift,
    parse_jupyterquiz,
    parse_qti,
    to_gift,
    to_jupyterquiz,
    to_qti,
)
from attention_lab.assessment.html import quiz_html
from attention_lab.assessment.schema import Choice, Question

QUESTIONS = load_questions()


def _text(question: Question) -> str:
    return " ".join(question.prompt.split())


def test_gift_round_trip():
    parsed = parse_gift(to_gift(QUESTIONS))
    assert [p["id"] for p in parsed] == [q.id for q in QUESTIONS]
    for q, p in zip(QUESTIONS, parsed):
        assert p["format"] == "html"
        assert re.sub(r"<[^>]+>", "", p["text"]).replace("&#x27;", "'") != ""
        assert p["meta"]["objectives"] == list(q.objectives)
        assert p["general_feedback"] == " ".join(q.explanation.split())
        if q.type == "single":
            assert [a["text"] for a in p["answers"]] == [c.text for c in q.choices]
            assert [a["mark"] == "=" for a in p["answers"]] == [c.correct for c in q.choices]
            assert [a["feedback"] for a in p["answers"]] == [c.feedback for c in q.choices]
        elif q.type == "multiple":
            n = len(q.correct_choices)
            for a, c in zip(p["answers"], q.choices):
                assert a["text"] == c.text
                assert a["weight"] == pytest.approx((1 if c.correct else -1) / n, abs=1e-6)
        elif q.type == "numeric":
            assert p["kind"] == "numeric"
            first = p["answers"][0]
            assert (first["value"], first["tolerance"], first["weight"]) == (
                q.answer,
                q.tolerance,
                1.0,
            )
            assert [a["value"] for a in p["answers"][1:-1]] == [w.value for w in q.wrong_answers]
            assert p["answers"][-1]["feedback"] == q.feedback_incorrect
        else:
            right = [a["text"] for a in p["answers"] if a["weight"] == 1.0]
            assert right == list(q.accept)
            assert p["answers"][-1]["text"] == "*"


def test_gift_escapes_special_characters():
    tricky = Question(
        id="tricky",
        type="single",
        objectives=("3.2.3",),
        prompt="Is {a} = b ~ c # d : e \\ f?",
        explanation="Because = and ~ are special.",
        choices=(
            Choice("a", "x = {1}", True, "yes: #1"),
            Choice("b", "y ~ 2", False, "no"),
        ),
    )
    (parsed,) = parse_gift(to_gift([tricky]))
    assert "Is {a} = b ~ c # d : e \\ f?" in parsed["text"]
    assert [a["text"] for a in parsed["answers"]] == ["x = {1}", "y ~ 2"]
    assert parsed["answers"][0]["feedback"] == "yes: #1"


def test_qti_round_trip_through_text2qti():
    items = parse_qti(to_qti(QUESTIONS))
    assert [i["title"] for i in items] == [q.id for q in QUESTIONS]
    kinds = {
        "single": "multiple_choice_question",
        "multiple": "multiple_answers_question",
        "numeric": "numerical_question",
        "text": "short_answer_question",
    }
    for q, item in zip(QUESTIONS, items):
        assert item["type"] == kinds[q.type]
        assert item["text"] == _text(q)
        assert item["points"] == q.points
        if q.choices:
            assert [c["text"] for c in item["choices"]] == [c.text for c in q.choices]
            assert [c["correct"] for c in item["choices"]] == [c.correct for c in q.choices]
        elif q.type == "numeric":
            assert item["min"] == pytest.approx(q.answer - q.tolerance, abs=1e-12)
            assert item["max"] == pytest.approx(q.answer + q.tolerance, abs=1e-12)
        else:
            assert item["accept"] == list(q.accept)
    figures = {f"images/{q.figure}.png" for q in QUESTIONS if q.figure}
    assert figures <= set(items[0]["images"])


def test_jupyterquiz_round_trip():
    data = parse_jupyterquiz(json.dumps(to_jupyterquiz(QUESTIONS)))
    assert [d["id"] for d in data] == [q.id for q in QUESTIONS]
    for q, d in zip(QUESTIONS, data):
        if q.choices:
            assert d["type"] == ("multiple_choice" if q.type == "single" else "many_choice")
            assert [(a["answer"], a["correct"]) for a in d["answers"]] == [
                (c.text, c.correct) for c in q.choices
            ]
        elif q.type == "numeric":
            right = d["answers"][0]
            if right["type"] == "value":
                assert right["value"] == q.answer and q.tolerance == 0
            else:
                low, high = right["range"]
                assert low == pytest.approx(q.answer - q.tolerance)
                assert high == pytest.approx(q.answer + q.tolerance)
            assert d["answers"][-1] == {"type": "default", "feedback": q.feedback_incorrect}
        else:
            assert [a["answer"] for a in d["answers"] if a["correct"]] == list(q.accept)
        if q.figure:
            assert "data:image/png;base64," in d["question"]
    with pytest.raises(ValueError, match="type 'essay' unknown"):
        parse_jupyterquiz(json.dumps([{"question": "q", "type": "essay", "answers": [{}]}]))


@pytest.mark.parametrize("fmt", ["gift", "qti", "json"])
def test_export_writes_files(tmp_path, fmt):
    path = export_questions(fmt, tmp_path / f"quiz.{fmt}", QUESTIONS[:3])
    assert path.stat().st_size > 0
    with pytest.raises(
        ValueError, match=r"format: expected one of \('gift', 'qti', 'json'\), got 'xml'"
    ):
        export_questions("xml", tmp_path / "q.xml")


def test_quiz_html_is_self_contained_and_marked_practice():
    page = quiz_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "Practice quiz" in page and "batch grader" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    # the question data cannot close its <script> element
    data = page.split('type="application/json"', 1)[1].split("</script>", 1)[0]
    assert "</" not in data
    fragment = quiz_html(QUESTIONS[:2], full_document=False)
    assert "<html" not in fragment and "al-quiz" in fragment
    with pytest.raises(ValueError, match="questions: expected at least one question"):
        quiz_html([])


NODE_CHECK = r"""
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const script = html.split("<script>")[1].split("</script>")[0];
const start = script.indexOf("function norm"), end = script.indexOf("const total");
eval(script.slice(start, end));
const cases = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = cases.map(([q, r]) => check(q, r).score);
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_scoring_matches_python_scoring(tmp_path):
    """The JavaScript `check` of the web quiz gives the same scores as check_answer."""
    from attention_lab.assessment import check_answer
    from attention_lab.assessment.html import _question_data

    cases, expected = [], []
    for q in QUESTIONS:
        responses = [q.correct_response()]
        if q.choices:
            responses.append(next(c.id for c in q.choices if not c.correct))
            responses.append([c.id for c in q.choices[:2]])
        elif q.type == "numeric":
            responses += [str(q.answer + q.tolerance * 0.5), "abc", q.answer + 10 * q.tolerance + 1]
        else:
            responses += [f"  {q.accept[0].upper()}. ", "wrong"]
        for response in responses:
            if q.type == "single" and isinstance(response, list):
                continue
            cases.append([_question_data(q), response])
            expected.append(check_answer(q, response).score)
    page = tmp_path / "quiz.html"
    page.write_text(quiz_html(QUESTIONS[:1]))
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "check.js").write_text(NODE_CHECK)
    run = subprocess.run(
        ["node", str(tmp_path / "check.js"), str(page), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(run.stdout) == pytest.approx(expected, abs=1e-4)
