"""Self-attention step by step: the diagram, its alt text, the worksheet's copies, the stepper."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from attention_lab.handcalc import generate_handcalc, worksheet_html
from attention_lab.viz.attention_steps import (
    attention_stepper_html,
    attention_steps_alt,
    draw_attention_steps,
    step_tables,
)
from attention_lab.viz.tables import matrix_table


@pytest.fixture(scope="module")
def p():
    return generate_handcalc(7)


def test_tables_carry_the_problems_numbers_with_tokens_on_the_rows(p):
    tables = step_tables(p)
    assert list(tables) == ["X", "Q", "K", "V", "scores", "scaled_scores", "weights", "output"]
    for name, table in tables.items():
        np.testing.assert_array_equal(table.values, getattr(p, name))
        assert table.rows == tuple(p.tokens)
    assert tables["weights"].columns == tuple(p.tokens)


def test_alt_text_is_computed_from_the_weights(p):
    alt = attention_steps_alt(p)
    for i, token in enumerate(p.tokens):
        j = int(np.argmax(p.weights[i]))
        assert (
            f"Query '{token}' puts its largest weight, {p.weights[i, j]:.2f}, on '{p.tokens[j]}'"
            in alt
        )
    assert f"from {p.scores.min():g} to {p.scores.max():g}" in alt
    blank = attention_steps_alt(p, blank=True)
    assert "Only X is filled in" in blank and "largest weight" not in blank


def test_figure_draws_every_value_or_none(p):
    filled = draw_attention_steps(p, query=1)
    texts = {t.get_text() for t in filled.axes[0].texts}
    assert {f"{x:.2f}" for x in p.weights.ravel()} <= texts
    assert filled.alt_text == attention_steps_alt(p, query=1)
    blank = draw_attention_steps(p, blank=True)
    blank_texts = {t.get_text() for t in blank.axes[0].texts}
    assert not {f"{x:.2f}" for x in p.weights.ravel()} & blank_texts
    assert blank.png_bytes().startswith(b"\x89PNG")


def test_worksheet_has_the_empty_diagram_and_the_key_the_filled_one(p):
    problem, key = worksheet_html(p).split('<section class="answer-key">')
    alts = lambda part: [html.unescape(a) for a in re.findall(r'alt="([^"]*)"', part)]  # noqa: E731
    assert alts(problem) == [attention_steps_alt(p, blank=True)]
    assert alts(key) == [attention_steps_alt(p)]
    assert "<script" not in problem + key


def test_stepper_is_self_contained_and_walks_each_query(p):
    page = attention_stepper_html(p)
    assert "src=" not in page and "http" not in page  # nothing fetched
    data = json.loads(re.search(r"data = (\{.*?\}), step", page).group(1))
    assert data["stages"] == 6 and len(data["texts"]) == len(p.tokens)
    for i, token in enumerate(p.tokens):
        last = data["texts"][i][-1]
        assert (
            last.startswith(f"'{token}''s output")
            and ", ".join(f"{x:.2f}" for x in p.output[i]) in last
        )
    assert page.count('data-row="0"') == 8  # one row per table, eight tables


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="problem: expected a hand-calculation problem"):
        draw_attention_steps(object())
    with pytest.raises(ValueError, match=r"query: expected a token index in \[0, 2\], got 3"):
        draw_attention_steps(generate_handcalc(7), query=3)
    with pytest.raises(ValueError, match="rows: expected 2 labels to match the table, got 3"):
        matrix_table(np.eye(2), ["a", "b", "c"])


def test_labelled_table_prints_tokens_on_rows():
    table = matrix_table([[1, 2], [3, 4.5]], ["the", "cat"], ["d1", "d2"], caption="Q")
    lines = str(table).splitlines()
    assert (
        lines[0] == "Q"
        and lines[2].startswith("the")
        and lines[3].split() == ["cat", "3.00", "4.50"]
    )
    assert "<th>cat</th><td>3.00</td>" in table._repr_html_()


def test_labelled_table_shows_as_text_in_a_terminal():
    """IPython's display() and the interactive prompt show repr() where no HTML is rendered."""
    table = matrix_table([[0.5, float("nan")]], ["ours"], ["k1", "k2"], caption="weights")
    assert repr(table) == str(table) == "weights\n        k1   k2\nours  0.50  nan"
