"""lab34.qN.check() / hint() / solution(): learntools-style feedback in a notebook."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from attention_lab import scaled_dot_product_attention as library_sdpa
from attention_lab.exercises import DIAGNOSES, EXERCISES, lab34, solutions
from attention_lab.exercises.docs import markdown
from attention_lab.exercises.notebook import PRACTICE


@pytest.fixture
def main(monkeypatch):
    """The notebook's namespace (``__main__``), cleaned of the exercise targets."""
    module = sys.modules["__main__"]
    for exercise in EXERCISES.values():
        monkeypatch.delattr(module, exercise.target, raising=False)
    return lambda name, value: monkeypatch.setattr(module, name, value, raising=False)


def test_helpers_in_syllabus_order():
    helpers = [getattr(lab34, f"q{n}") for n in range(1, 11)]
    assert [h.exercise.id for h in helpers] == list(EXERCISES)


def test_check_finds_the_learners_definition_by_name(main):
    main("attention_scores", lambda q, k: solutions.attention_scores(q, k))
    feedback = lab34.q2.check()
    assert feedback.passed and feedback.diagnosis == "correct"
    assert "✓" in str(feedback) and PRACTICE in str(feedback)
    assert "Correct" in feedback._repr_html_()


def test_check_reports_the_misconception(main):
    main("attention_scores", lambda q, k: q @ k.transpose(-2, -1))
    feedback = lab34.q2.check()
    assert (feedback.passed, feedback.diagnosis) == (False, "missing_scale")
    text = str(feedback)
    assert "missing_scale" in text and "sqrt(d_k)" in text and "lab34.q2.hint()" in text
    assert "sqrt(d_k)" in feedback._repr_html_()


def test_not_attempted_when_missing_or_placeholder(main):
    assert lab34.q3.check().diagnosis == "not_attempted"

    def attention_weights(scores):
        raise NotImplementedError("your code here")

    main("attention_weights", attention_weights)
    feedback = lab34.q3.check()
    assert feedback.diagnosis == "not_attempted" and "Not attempted" in str(feedback)


def _projection_as_function(x):
    return x, x, x


@pytest.mark.parametrize(
    ("helper", "target", "value", "expected"),
    [
        ("q1", "QKVProjection", 5, "expected a class (an nn.Module subclass), got int 5"),
        (
            "q1",
            "QKVProjection",
            _projection_as_function,
            "expected a class (an nn.Module subclass), got the function _projection_as_function",
        ),
        ("q2", "attention_scores", torch.nn.Linear, "expected a function, got the class Linear"),
        ("q10", "MultiHeadAttention", "todo", "expected a class (an nn.Module subclass), got str"),
    ],
)
def test_a_target_of_the_wrong_kind_gets_an_explanation_that_fits(
    main, helper, target, value, expected
):
    main(target, value)
    feedback = getattr(lab34, helper).check()
    assert (feedback.passed, feedback.diagnosis) == (False, "wrong_target_kind")
    text, page = str(feedback), feedback._repr_html_()
    assert f"{target}: {expected}" in text
    assert "Why: The name the exercise asks you to define holds the wrong kind of object" in text
    assert "wrong kind of object" in page
    for misleading in ("batch dimensions", "T_q != T_k", "transpose", "raised an error"):
        assert misleading not in text and misleading not in page


def test_the_librarys_own_function_does_not_count(main):
    main("scaled_dot_product_attention", library_sdpa)
    feedback = lab34.q5.check()
    assert feedback.diagnosis == "not_attempted"
    assert "imported from attention_lab.nn.attention, not written by you" in feedback.result.message


def test_check_takes_an_explicit_candidate():
    assert lab34.q7.check(lambda T: torch.ones(T, T, dtype=torch.bool).tril()).passed


def test_hints_and_solution():
    first, second = lab34.q1.hint(), lab34.q1.hint(2)
    assert "Hint 1 of 2" in first._repr_markdown_() and ".hint(2)" in str(first)
    assert "Hint 2 of 2" in str(second)
    solution = lab34.q5.solution()._repr_markdown_()
    assert "def scaled_dot_product_attention(" in solution and "_unmasked" not in solution
    assert "class MultiHeadAttention(nn.Module)" in str(lab34.q10.solution())
    assert "QKVProjection" in str(lab34.q1.prompt())


def test_hint_rejects_bad_numbers():
    with pytest.raises(ValueError, match="n: expected an int between 1 and 2, got 3"):
        lab34.q1.hint(3)
    with pytest.raises(TypeError, match="n: expected an int between 1 and 2, got str"):
        lab34.q1.hint("2")


def test_summary_lists_every_exercise(main):
    main("causal_mask", lambda T: solutions.causal_mask(T))
    table = str(lab34.summary())
    assert table.count("\n| q") == 10
    assert "| q7 | The causal mask | `causal_mask` | 1 | ✓ correct |" in table
    assert "✗ not_attempted" in table


def test_docs_page_is_up_to_date():
    """docs/exercises.md lists every exercise id and every diagnosis with its meaning."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "exercises.md").read_text()
    assert page == markdown(), (
        "regenerate: python -m attention_lab.exercises.docs > docs/exercises.md"
    )
    assert all(f"`{exercise_id}`" in page for exercise_id in EXERCISES)
    assert all(f"| `{key}` | {text} |" in page for key, text in DIAGNOSES.items())


def test_error_text_from_the_learners_code_is_shown_inertly():
    def causal_mask(T):
        raise RuntimeError("\x1b[2J\x1b[32mlooks fine\x1b[0m\u202e")

    feedback = lab34.q7.check(causal_mask)
    for text in (str(feedback), feedback._repr_html_(), feedback.result.message):
        assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[32mlooks fine" in str(feedback) and "\\u202e" in str(feedback)
