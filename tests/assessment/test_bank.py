"""The question bank: schema, coverage of every objective, answers checked against the library."""

from __future__ import annotations

import math

import pytest
import torch

from attention_lab import scaled_dot_product_attention, sinusoidal_positional_encoding
from attention_lab.assessment import check_answer, coverage, load_questions
from attention_lab.assessment.bank import parse_bank_file
from attention_lab.assessment.figures import FIGURES, figure_png, get_figure
from attention_lab.assessment.schema import QuestionSchemaError
from attention_lab.objectives import objectives

QUESTIONS = load_questions()
IDS = list(objectives())


def test_bank_size_types_and_coverage():
    assert len(QUESTIONS) >= 40
    assert {q.type for q in QUESTIONS} == {"single", "multiple", "numeric", "text"}
    table = coverage()
    assert set(table) == set(IDS)
    thin = {o: qs for o, qs in table.items() if len(qs) < 2}
    assert thin == {}, f"objectives with fewer than 2 questions: {thin}"
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert sum(1 for q in QUESTIONS if q.figure) >= 3


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_question_has_feedback_and_a_full_marks_answer(question):
    assert question.explanation
    result = check_answer(question, question.correct_response())
    assert result.correct and result.score == question.points
    if question.choices:
        assert all(c.feedback for c in question.choices)
        wrong = [c.id for c in question.choices if not c.correct]
        if question.type == "single":
            assert check_answer(question, wrong[0]).score == 0
        else:
            assert check_answer(question, wrong).score == 0
    else:
        assert question.feedback_correct and question.feedback_incorrect
        for mistake in question.wrong_answers:
            verdict = check_answer(question, mistake.value)
            assert not verdict.correct and verdict.message == mistake.feedback


def _recompute(check: dict) -> float:
    """The value a `check:` block describes, computed with the library."""
    if check["kind"] == "sdpa_weight":
        q = torch.tensor(check["q"], dtype=torch.float64)
        k = torch.tensor(check["k"], dtype=torch.float64)
        _, weights = scaled_dot_product_attention(q, k, k)
        return float(weights[check["row"], check["col"]])
    if check["kind"] == "positional":
        pe = sinusoidal_positional_encoding(check["pos"] + 1, check["d_model"])
        return float(pe[check["pos"], check["dim"]])
    if check["kind"] == "weighted_sum":
        weights = torch.tensor(check["weights"], dtype=torch.float64)
        values = torch.tensor(check["values"], dtype=torch.float64)
        return float((weights @ values)[check["row"], check["col"]])
    raise AssertionError(f"unknown check kind {check['kind']}")


@pytest.mark.parametrize("question", [q for q in QUESTIONS if q.check], ids=lambda q: q.id)
def test_numeric_answers_agree_with_the_library(question):
    assert abs(_recompute(question.check) - question.answer) <= question.tolerance + 1e-6


def test_numeric_answers_that_are_plain_arithmetic():
    by_id = {q.id: q for q in QUESTIONS}
    assert abs(by_id["vanishing-product"].answer - 0.9**50) <= by_id["vanishing-product"].tolerance
    assert by_id["mha-params"].answer == sum(
        p.numel() for p in torch.nn.MultiheadAttention(512, 8, bias=True).parameters()
    )
    assert by_id["wq-params"].answer == sum(
        p.numel() for p in torch.nn.Linear(512, 512).parameters()
    )
    assert by_id["scale-divisor"].answer == math.sqrt(64)


def test_figures_match_their_questions():
    prev = get_figure("previous_token_head")
    weights = prev.panels[""]
    sat = prev.queries.index("sat")
    assert prev.keys[int(weights[sat].argmax())] == "cat"
    causal = get_figure("causal_self_attention").panels[""]
    assert torch.all(torch.triu(causal, diagonal=1) == 0) and torch.all(causal.diagonal() > 0)
    padding = get_figure("padding_keys")
    zero_cols = [padding.keys[j] for j in range(5) if torch.all(padding.panels[""][:, j] == 0)]
    assert zero_cols == ["<pad>", "<pad>"]
    panels = get_figure("scaled_vs_unscaled").panels

    def entropy(w):
        return float(-(w * w.clamp_min(1e-12).log()).sum(-1).mean())

    assert entropy(panels["A"]) < entropy(panels["B"])  # A, the answer, is the unscaled one
    for name in FIGURES:
        assert figure_png(name).startswith(b"\x89PNG")


def test_filter_by_objective_and_topic():
    only = load_questions(["3.2.4"])
    assert only and all("3.2.4" in q.objectives for q in only)
    topic = load_questions(["3.3"])
    assert topic and all(any(o.startswith("3.3.") for o in q.objectives) for q in topic)
    with pytest.raises(ValueError, match=r"objective: expected an objective id .* got '9\.9'"):
        load_questions(["9.9"])
    with pytest.raises(ValueError, match="ids: no question with id 'nope'"):
        load_questions(ids=["nope"])


GOOD = """
questions:
  - id: ok-question
    type: single
    objectives: ["3.2.3"]
    prompt: "p"
    explanation: "e"
    choices:
      - {text: "a", correct: true, feedback: "fa"}
      - {text: "b", feedback: "fb"}
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("type: single", "type: essay"), r"field 'type': expected one of .* got 'essay'"),
        (('["3.2.3"]', '["3.9.9"]'), r"unknown objective id '3\.9\.9'"),
        (("correct: true, ", ""), r"exactly 1 correct choice, got 0"),
        (('feedback: "fb"', 'feedback: ""'), r"field 'feedback': expected a non-empty string"),
        (("id: ok-question", "id: Bad Id"), r"field 'id': expected a lowercase slug"),
        (('prompt: "p"', 'prompt: "p"\n    colour: red'), r"unknown field\(s\) \['colour'\]"),
        (
            ('explanation: "e"', 'explanation: "e"\n    figure: nope'),
            r"field 'figure': expected one of",
        ),
    ],
)
def test_schema_errors_name_file_question_and_field(edit, message):
    text = GOOD.replace(*edit)
    with pytest.raises(QuestionSchemaError, match=message) as info:
        parse_bank_file(text, "bank.yaml", IDS)
    assert str(info.value).startswith("bank.yaml")


def test_schema_numeric_and_text_rules():
    numeric = """
questions:
  - id: n
    type: numeric
    objectives: ["3.2.3"]
    prompt: p
    explanation: e
    answer: "ten"
    feedback: {correct: c, incorrect: i}
"""
    with pytest.raises(QuestionSchemaError, match=r"field 'answer': expected a number, got 'ten'"):
        parse_bank_file(numeric, "n.yaml", IDS)
    text = numeric.replace("type: numeric", "type: text").replace('answer: "ten"', "accept: []")
    with pytest.raises(QuestionSchemaError, match=r"field 'accept': expected a non-empty list"):
        parse_bank_file(text, "t.yaml", IDS)
    missing = numeric.replace('answer: "ten"', "answer: 1").replace(
        "    feedback: {correct: c, incorrect: i}\n", ""
    )
    with pytest.raises(
        QuestionSchemaError, match=r"field 'feedback': expected \{correct, incorrect\}"
    ):
        parse_bank_file(missing, "m.yaml", IDS)
    with pytest.raises(QuestionSchemaError, match="not valid YAML"):
        parse_bank_file("questions: [", "y.yaml", IDS)
