"""The explorer's GPT in headless Chromium: causal heatmap, next-character probabilities with the
temperature and top-k controls (driven from the keyboard), and the query/key view."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
import torch
from test_pretrained_explorer_browser import (  # noqa: F401
    browser,
    heatmap,
    page,
    pytestmark,
    wait_idle,
)
from test_pretrained_explorer_gpt import gpt_and_float64, gpt_checkpoint  # noqa: F401
from test_pretrained_explorer_server import assert_shown_weights, call

from attention_lab.explorer import make_server
from attention_lab.nn.gpt import next_token_probabilities

TEXT = "The lion said"


@pytest.fixture(scope="module")
def server(gpt_checkpoint):  # noqa: F811
    server = make_server(port=0, gpt=gpt_checkpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def chart(tab):
    return tab.evaluate(
        """() => { const d = document.getElementById('next-token-chart');
                   return {labels: d.data[0].x, shown: d.data[0].y, model: d.data[1].y}; }"""
    )


def table(tab):
    return tab.evaluate(
        """() => Array.from(document.querySelectorAll('#qk-table tbody tr'))
                 .map((tr) => Array.from(tr.cells).map((td) => td.textContent))"""
    )


def test_the_gpt_in_the_browser(page, server, gpt_checkpoint, tmp_path):  # noqa: F811
    gpt, model64 = gpt_and_float64(gpt_checkpoint)
    with torch.no_grad():
        logits = gpt.model(gpt.tokenizer.encode(TEXT)[None])[0, -1]
        model64(gpt.tokenizer.encode(TEXT)[None])
    weights = gpt.model.attention_weights()[:, 0]  # (L, H, T, T)
    exact = model64.attention_weights()[:, 0]  # (L, H, T, T) float64, the reference
    top20 = lambda p: torch.sort(p, descending=True, stable=True).values[:20]  # noqa: E731

    page.goto(server.url)
    wait_idle(page)
    assert page.get_by_label("Model").is_visible()
    page.select_option("#model", "gpt")
    page.fill("#text", TEXT)
    page.click("#analyze")
    wait_idle(page)
    shown = heatmap(page)
    assert shown["tokens"] == [{" ": "␣"}.get(c, c) for c in TEXT]
    assert_shown_weights(shown["z"], weights[0, 0], exact[0, 0])

    # next-character probabilities: the model as it is, temperature 1 and every character kept
    assert page.is_visible("#next-token-panel")
    page.wait_for_selector('#next-token-chart[data-ready="true"][data-temperature="1.0"]')
    bars = chart(page)
    torch.testing.assert_close(torch.tensor(bars["shown"]), top20(next_token_probabilities(logits)))
    assert "57 of 57 characters can be drawn" in page.inner_text("#next-token-summary")

    # top-k = 1 from the keyboard: greedy, one character with all the probability
    page.get_by_label("Top-k").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Tab")  # leaving the field commits the value ("change")
    page.wait_for_selector('#next-token-chart[data-ready="true"][data-top-k="1"]')
    bars = chart(page)
    assert bars["shown"][0] == 1.0 and sum(bars["shown"][1:]) == 0
    assert bars["labels"][0] == f'"{gpt.tokenizer.vocabulary[int(logits.argmax())]}"'.replace(
        " ", "␣"
    )
    assert "1 of 57 characters can be drawn" in page.inner_text("#next-token-summary")

    # back to all characters, then the temperature slider with the arrow keys: 1.0 -> 0.5
    page.get_by_label("Top-k").fill("0")
    page.get_by_label("Top-k").press("Tab")
    page.wait_for_selector('#next-token-chart[data-ready="true"][data-top-k="0"]')
    page.get_by_label("Temperature").focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_selector('#next-token-chart[data-ready="true"][data-temperature="0.5"]')
    assert page.inner_text("#temperature-value") == "0.5"
    bars = chart(page)
    torch.testing.assert_close(
        torch.tensor(bars["shown"]), top20(next_token_probabilities(logits, 0.5))
    )
    assert bars["shown"][0] > bars["model"][0]  # a lower temperature sharpens the distribution

    # the query/key view of layer 1, head 2, query 4: masked keys after it, softmax = the heatmap row
    page.select_option("#layer", "1")
    page.wait_for_selector('#heatmap[data-layer="1"]')
    wait_idle(page)
    page.select_option("#head", "2")
    page.wait_for_selector('#heatmap[data-layer="1"][data-head="2"]')
    wait_idle(page)
    page.get_by_label("Query token").select_option("4")
    page.wait_for_selector(
        '#qk-panel[data-ready="true"][data-query="4"][data-layer="1"][data-head="2"]'
    )
    rows = table(page)
    assert len(rows) == len(TEXT)
    assert all(row[2] == "masked" and row[3] == "0.0000" for row in rows[5:])
    # the table shows the server's softmax to 4 decimals: within half a unit of the 4th decimal
    # (test_pretrained_explorer_gpt checks those weights against the model's own)
    softmax = torch.tensor([float(row[3]) for row in rows], dtype=torch.float64)
    body = {"model": "gpt", "text": TEXT, "layer": 1, "head": 2, "query": 4}
    sent = json.loads(call(server, "POST", "/api/query-key", body)[1])["weights"]
    torch.testing.assert_close(
        softmax, torch.tensor(sent, dtype=torch.float64), atol=0.5e-4 * (1 + 1e-9), rtol=0
    )
    assert page.inner_text("#qk-caption").startswith(f'query 4 "{TEXT[4]}", layer 1, head 2')
    vectors = page.evaluate("() => document.getElementById('qk-vectors').data[0].z")
    assert len(vectors) == 1 + len(TEXT) and len(vectors[0]) == 64 // 4  # q, then every k; d_k = 16

    shot = tmp_path / "explorer-gpt.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("ATTENTION_LAB_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["ATTENTION_LAB_SCREENSHOTS"]) / "explorer-gpt.png")
    assert page.blocked == [], f"requests tried to leave 127.0.0.1: {page.blocked}"
    assert page.errors == []


def test_minilm_has_the_query_key_view_but_no_next_token(page, server):  # noqa: F811
    page.goto(server.url)
    wait_idle(page)
    page.wait_for_selector('#qk-panel[data-ready="true"]')
    assert page.is_hidden("#next-token-panel")
    rows = table(page)
    assert rows[0][0] == "0: [CLS]" and all(row[2] != "masked" for row in rows)  # no causal mask
    # weights summing to 1, each shown to 4 decimals: the shown ones within half a unit each
    assert abs(sum(float(row[3]) for row in rows) - 1) <= len(rows) * 0.5e-4 * (1 + 1e-9)
    assert page.errors == []
