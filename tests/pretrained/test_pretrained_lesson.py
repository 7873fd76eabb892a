"""What lesson 05 builds live is checked against the library (the lesson asserts it too)."""

from __future__ import annotations

import ast

import pytest
import torch

from attention_lab import mean_pooling
from attention_lab.course.lessons import LESSONS_DIR

LESSON = LESSONS_DIR / "05_pretrained.py"


def lesson_function(name):
    """Define just the function ``name`` from the lesson's code, solution included."""
    tree = ast.parse(LESSON.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            namespace = {"torch": torch}
            exec(compile(ast.Module([node], []), str(LESSON), "exec"), namespace)
            return namespace[name]
    raise AssertionError(f"lesson 05 defines no function {name}")


def test_the_lessons_mean_pooling_is_the_librarys():
    my_mean_pooling = lesson_function("my_mean_pooling")
    hidden = torch.randn(3, 7, 5)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1, 0, 0, 0, 0, 0, 0]])
    torch.testing.assert_close(my_mean_pooling(hidden, mask), mean_pooling(hidden, mask))


def test_the_lessons_next_token_share():
    next_token_share = lesson_function("next_token_share")
    weights = torch.softmax(torch.randn(2, 3, 6, 6, dtype=torch.float64), dim=-1)
    expected = torch.tensor(
        [
            [sum(weights[l, h, i, i + 1].item() for i in range(5)) / 5 for h in range(3)]
            for l in range(2)
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(next_token_share(weights), expected)


def test_the_lessons_greedy_decoding_is_generate_with_top_k_1():
    from attention_lab import GPT, GPT_PRESETS

    my_greedy = lesson_function("my_greedy")
    torch.manual_seed(0)
    model = GPT(GPT_PRESETS["tiny"]).eval()
    prompt = torch.tensor([[3, 1, 4, 1, 5]])
    assert torch.equal(my_greedy(model, prompt, 12), model.generate(prompt, 12, top_k=1))


def test_the_mean_pooling_exercise_says_what_its_check_checks():
    text = LESSON.read_text()
    exercise = text[text.index("## 4. Exercise") : text.index("def my_mean_pooling")]
    assert "no scaling" in exercise and "al.mean_pooling" in exercise
    assert "then scale to length 1. Write" not in text


def test_the_bert_table_names_the_objective_and_twelve_layers():
    text = LESSON.read_text()
    section = text[text.index("## 1. BERT") : text.index("## 2.")]
    assert "next sentence prediction" in section and "masked language modelling" in section
    assert "BERT-base stacks **12**" in section and "| the same (6 in MiniLM) |" not in section


@pytest.mark.parametrize(
    "marker",
    [
        "<!-- serves: 3.3.1 3.4.4 -->",
        "<!-- hands-on: 3.4.4 -->",
        "<!-- serves: 3.3.1 3.3.5 -->",
        "<!-- serves: 3.3.4 3.4.4 -->",
        "## Key takeaways",
    ],
)
def test_the_lesson_keeps_its_course_markers(marker):
    assert marker in LESSON.read_text()
