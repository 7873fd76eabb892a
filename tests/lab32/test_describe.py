"""Figures in words and numbers: alt text and tables computed from the data a figure draws."""

import re

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from matplotlib.figure import Figure

from attention_lab.viz import interactive_attention, plot_attention
from attention_lab.viz.describe import (
    accessible_figure_html,
    describe_figure,
    describe_matrix,
    figure_tables,
    matrix_table_html,
    use_in_notebook,
)
from attention_lab.viz.figure import DescribedFigure
from attention_lab.viz.heatmap import describe_interactive


def _cells(table: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    return [re.findall(r"<td>(.*?)</td>", row) for row in rows]


def test_describe_matrix_names_each_rows_largest_value_and_the_strongest_cells():
    W = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.05, 0.15, 0.8]])
    text = describe_matrix(W, ["a", "b", "c"], ["x", "y", "z"])
    assert "3 rows (query) by 3 columns (key), values from 0.05 to 0.8" in text
    assert "a → y (0.7); b → x (0.5); c → z (0.8)" in text
    assert "Strongest cells: c → z (0.8); a → y (0.7); b → x (0.5)." in text


def test_describe_matrix_bad_input():
    with pytest.raises(ValueError, match=r"values: expected a 2-D table .* got shape \(3,\)"):
        describe_matrix(np.ones(3))
    with pytest.raises(ValueError, match="rows: expected 2 names"):
        describe_matrix(np.ones((2, 2)), ["a"], ["x", "y"])
    with pytest.raises(TypeError, match="values: expected a 2-D table of numbers, got str"):
        describe_matrix("not numbers")


def test_matrix_table_has_headers_and_every_value():
    W = torch.softmax(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)), -1)
    table = matrix_table_html(W, list("abc"), list("wxyz"), caption="c", corner="q \\ k")
    assert table.count('scope="col"') == 5 and table.count('scope="row"') == 3
    assert np.allclose(np.array(_cells(table)[1:], dtype=float), W.numpy(), atol=5e-4)


def test_a_line_plot_is_described_from_its_data():
    fig = Figure()
    ax = fig.subplots()
    x = np.arange(1, 6)
    ax.plot(x, 10.0 / x, label="loss")
    ax.plot(x, 0.2 * x, label="accuracy")
    ax.set(title="training", xlabel="step", ylabel="value")
    text = describe_figure(fig)
    assert text.startswith("Figure. “training”. x axis: step; y axis: value.")
    assert "loss: 5 points for x from 1 to 5; y starts at 10 and ends at 2, falls overall" in text
    assert "accuracy: 5 points" in text and "ends at 1, rises overall" in text
    (table,) = figure_tables(fig)  # one table: the lines share their x
    assert '<th scope="col">step</th>' in table and _cells(table)[1] == ["1", "10", "0.2"]


def test_a_long_line_is_tabulated_every_kth_point_with_its_last():
    fig = Figure()
    fig.subplots().plot(np.arange(1000), np.arange(1000) ** 2)
    (table,) = figure_tables(fig)
    rows = _cells(table)[1:]
    assert 50 <= len(rows) <= 61 and rows[-1] == ["999", "9.98e+05"]
    assert "every 17th point" in table


def test_a_heatmap_and_bars_are_described_with_their_labels():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    W = np.array([[0.9, 0.1], [0.4, 0.6]])
    plot_attention(W, ["the", "cat"], ax=left, title="head 0")
    right.bar(["a", "b", "c"], [3, 1, 2], label="counts")
    text = describe_figure(fig)
    assert "Panel “head 0”" in text and "the → the (0.9); cat → cat (0.6)" in text
    assert "counts: 3 bars: a 3, b 1, c 2" in text
    image, bars = figure_tables(fig)
    assert np.allclose(np.array(_cells(image)[1:], dtype=float), W)
    assert _cells(bars)[1:] == [["a", "3"], ["b", "1"], ["c", "2"]]


def test_figure_html_has_the_description_as_alt_text_and_folded_numbers():
    fig = Figure()
    fig.subplots().plot([0, 1, 2], [2, 4, 8], label="growth")
    page = accessible_figure_html(fig)
    alt = re.search(r'alt="([^"]*)"', page).group(1)
    assert "growth: 3 points" in alt and "ends at 8" in alt
    assert '<details class="al-figure-numbers"><summary>' in page
    with pytest.raises(TypeError, match="fig: expected a matplotlib Figure, got list"):
        describe_figure([1, 2])


def test_a_described_figure_keeps_its_own_alt_text_and_adds_its_numbers():
    fig = DescribedFigure()
    fig.subplots().plot([0, 1], [1, 0])
    fig.alt_text = "A line from 1 down to 0."
    page = fig._repr_html_()
    assert 'alt="A line from 1 down to 0."' in page and "<details" in page


def test_ipython_shows_every_figure_with_alt_text_after_use_in_notebook():
    shell = InteractiveShell.instance()
    fig = Figure()
    fig.subplots().plot([0, 1, 2], [3, 2, 1], label="fall")
    assert "text/html" not in shell.display_formatter.format(fig)[0]
    use_in_notebook(shell)
    data, _ = shell.display_formatter.format(fig)
    assert "fall: 3 points" in data["text/html"]


def test_an_interactive_heatmap_is_described_from_the_head_shown_first():
    W = torch.zeros(2, 3, 3)
    W[0] = torch.eye(3)
    W[1, :, 0] = 1.0
    text = describe_interactive(interactive_attention(W, ["a", "b", "c"]))
    assert text.startswith("2 heatmaps, one shown at a time (the menu picks one). Shown first,")
    assert "a → a (1); b → b (1); c → c (1)" in text


def test_ipython_keeps_a_described_figures_own_alt_text():
    shell = InteractiveShell.instance()
    use_in_notebook(shell)
    fig = DescribedFigure()
    fig.subplots().plot([0, 1], [1, 0])
    fig.alt_text = "A line from 1 down to 0."
    data, _ = shell.display_formatter.format(fig)
    assert 'alt="A line from 1 down to 0."' in data["text/html"]


def test_a_diagram_is_described_by_its_labels_in_plain_words():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 0])  # an arrow of the drawing, not data
    ax.text(0, 0, r"$W_{hh}$")
    ax.text(1, 0, r"$\times\,\sigma^{5}$")
    ax.set_axis_off()
    text = describe_figure(fig)
    assert text == "Figure. The plot. labels drawn: W_hh; times sigma^5."
