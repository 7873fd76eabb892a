"""Heatmaps: static matplotlib, interactive plotly (offline), and a headless Chromium check."""

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from attention_lab.viz import figure_html, interactive_attention, plot_attention, show

CHROMIUM = "/usr/bin/chromium"


def _weights(*shape, seed=0):
    return torch.softmax(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), -1)


def test_plot_attention_draws_the_matrix():
    w = _weights(3, 4)
    ax = plot_attention(w, ["a", "b", "c"], ["w", "x", "y", "z"], title="t")
    assert np.allclose(ax.images[0].get_array(), w.numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "x", "y", "z"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "t" and len(ax.texts) == 12


def test_plot_attention_bad_input():
    with pytest.raises(ValueError, match=r"weights: expected shape \(T_q, T_k\), got \(2, 3, 3\)"):
        plot_attention(np.zeros((2, 3, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="query_tokens: expected 3 tokens.*got 2"):
        plot_attention(np.zeros((3, 3)), ["a", "b"])
    with pytest.raises(TypeError, match="query_tokens: expected a list of 3 strings, got str"):
        plot_attention(np.zeros((3, 3)), "abc")
    with pytest.raises(ValueError, match="weights: expected finite numbers"):
        plot_attention(np.full((2, 2), np.nan), ["a", "b"])


def test_interactive_one_trace_per_layer_and_head_with_hover():
    w = _weights(2, 3, 4, 4)
    tokens = ["the", "cat", "the", "mat"]  # a repeated token keeps its own row
    fig = interactive_attention(w, tokens, layer_names=["L0", "L1"])
    assert len(fig.data) == 6 and [t.visible for t in fig.data] == [True] + [False] * 5
    assert np.allclose(np.array(fig.data[4].z), w[1, 1].numpy())
    assert fig.data[0].customdata[2][1].tolist() == ["the", "cat"]
    assert "query: %{customdata[0]}" in fig.data[0].hovertemplate
    assert (
        "key: %{customdata[1]}" in fig.data[0].hovertemplate and "%{z" in fig.data[0].hovertemplate
    )
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons][4] == "L1, head 1"
    assert buttons[4].args[0]["visible"] == [False] * 4 + [True, False]
    assert list(fig.layout.yaxis.ticktext) == tokens


def test_interactive_shapes_and_errors():
    assert len(interactive_attention(_weights(3, 3), list("abc")).data) == 1
    assert (
        len(interactive_attention(_weights(2, 3, 3), list("abc")).layout.updatemenus[0].buttons)
        == 2
    )
    with pytest.raises(ValueError, match=r"weights: expected shape .*got \(3,\)"):
        interactive_attention(np.ones(3), list("abc"))
    with pytest.raises(ValueError, match="head_names: expected 2 names"):
        interactive_attention(_weights(2, 3, 3), list("abc"), head_names=["x"])


def test_figure_html_offline_and_env_override(monkeypatch):
    fig = interactive_attention(_weights(2, 3, 3), list("abc"))
    monkeypatch.delenv("ATTENTION_LAB_PLOTLYJS", raising=False)
    page = figure_html(fig)
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inline, no CDN
    monkeypatch.setenv("ATTENTION_LAB_PLOTLYJS", "_static/plotly.min.js")
    snippet = figure_html(fig, full_html=False)
    assert 'src="_static/plotly.min.js"' in snippet and len(snippet) < 100_000
    assert "_static/plotly.min.js" in show(fig).data
    monkeypatch.setenv("ATTENTION_LAB_PLOTLYJS", "cdn")
    with pytest.raises(ValueError, match="ATTENTION_LAB_PLOTLYJS: expected the path"):
        figure_html(fig)


@pytest.mark.browser
def test_interactive_heatmap_in_headless_chromium(tmp_path, monkeypatch):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI; install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    monkeypatch.delenv("ATTENTION_LAB_PLOTLYJS", raising=False)
    w = _weights(3, 5, 5, seed=1)
    page_file = tmp_path / "heatmap.html"
    page_file.write_text(figure_html(interactive_attention(w, list("abcde"), title="test")))
    outside = []

    def route(r):
        url = r.request.url
        if url.startswith("file://") or url.startswith("http://127.0.0.1"):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)  # a 4.8 MB inline plotly.js on a busy 2-core box
            page.route("**/*", route)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_selector(".js-plotly-plot .heatmaplayer")
            page.locator(".updatemenu-item-text", has_text="head 2").click()
            page.wait_for_function(
                "() => document.querySelector('.js-plotly-plot')._fullData[2].visible === true"
            )
            visible = page.evaluate(
                "() => document.querySelector('.js-plotly-plot')._fullData.map(t => t.visible)"
            )
            title = page.evaluate("() => document.querySelector('.gtitle').textContent")
            # the same from the keyboard: the head menu, then the arrow keys on the heatmap
            page.focus(".al-heatmap-menu select")
            page.keyboard.press("ArrowUp")  # head 1
            page.keyboard.press("Tab")
            page.keyboard.press("End")
            said = page.inner_text(".al-heatmap-live")
            shot = tmp_path / "heatmap.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert visible == [False, False, True]
    assert title == "test: head 2"
    assert said == f"head 1, query 0: a, key 4: e, value {float(w[1, 0, 4]):.3f}", said
    assert outside == [] and errors == []
    assert shot.stat().st_size > 5_000
    if os.environ.get("ATTENTION_LAB_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["ATTENTION_LAB_KEEP_SCREENSHOT"])
