"""The attention explorer end to end in headless Chromium, with every request off 127.0.0.1 blocked."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from test_pretrained_explorer_server import assert_shown_weights, minilm_attention64

from attention_lab import sentence_attention
from attention_lab.course.accessibility import serious_violations, tab_until
from attention_lab.explorer import make_server

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI requires it; install 'chromium')",
    ),
]

SENTENCE = "The animal didn't cross the street because it was too tired."


@pytest.fixture(scope="module")
def server():
    server = make_server(port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1100})  # CSP stays enforced
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.blocked = []  # requests that tried to leave 127.0.0.1
    page.errors = []
    local = f"http://127.0.0.1:{server.server_address[1]}/"

    def route(route):
        if route.request.url.startswith(local):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def wait_idle(page):
    page.wait_for_selector('body[data-busy="false"]', state="attached")


def heatmap(page):
    return page.evaluate(
        """() => { const d = document.getElementById('heatmap');
                   return {z: d.data[0].z, tokens: d.layout.yaxis.ticktext,
                           layer: d.dataset.layer, head: d.dataset.head}; }"""
    )


def test_type_a_sentence_switch_heads_and_see_the_heatmap_change(page, server, minilm, tmp_path):
    from attention_lab import sentence_attention

    page.goto(server.url)
    wait_idle(page)  # the page analyses its example sentence on load
    page.wait_for_selector("#heatmap .main-svg")  # plotly drew it
    assert page.evaluate("() => typeof Plotly") == "object"

    page.fill("#text", SENTENCE)
    page.click("#analyze")
    wait_idle(page)
    expected = sentence_attention(*minilm, SENTENCE)
    exact = minilm_attention64(minilm, SENTENCE)  # float64, the reference (docs/numerics.md)
    first = heatmap(page)
    assert first["tokens"] == expected.tokens and (first["layer"], first["head"]) == ("0", "0")
    assert_shown_weights(first["z"], expected.weights[0, 0], exact.weights[0, 0])

    page.select_option("#head", "5")
    page.wait_for_selector('#heatmap[data-head="5"]')
    wait_idle(page)
    second = heatmap(page)
    assert second["z"] != first["z"]
    assert_shown_weights(second["z"], expected.weights[0, 5], exact.weights[0, 5])
    summary = page.inner_text("#head-summary")
    assert "Layer 0, head 5" in summary and "entropy" in summary

    page.select_option("#layer", "4")
    page.wait_for_selector('#heatmap[data-layer="4"][data-head="5"]')
    wait_idle(page)
    assert_shown_weights(heatmap(page)["z"], expected.weights[4, 5], exact.weights[4, 5])

    # the grid shows all 6 x 12 heads; clicking a tile opens it
    assert page.locator("#grid canvas").count() == 72
    page.click('#grid canvas[data-layer="2"][data-head="9"]')
    page.wait_for_selector('#heatmap[data-layer="2"][data-head="9"]')
    wait_idle(page)
    assert page.locator("#grid canvas.selected").count() == 1
    assert page.locator("#summaries tbody tr").count() == 72

    # hovering a cell names the query, the key and the weight
    page.locator("#heatmap").scroll_into_view_if_needed()
    box = page.locator("#heatmap .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
    page.wait_for_selector("#heatmap .hovertext", timeout=10_000)
    hover = page.text_content("#heatmap .hovertext")
    assert "query" in hover and "key" in hover and "weight" in hover, hover
    assert any(f": {token}" in hover for token in expected.tokens), hover

    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000
    if os.environ.get("ATTENTION_LAB_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["ATTENTION_LAB_SCREENSHOTS"]) / "explorer.png")
    assert page.blocked == [], f"requests tried to leave 127.0.0.1: {page.blocked}"
    assert page.errors == []


def test_errors_show_on_the_page_and_the_app_keeps_working(page, server):
    page.goto(server.url)
    wait_idle(page)
    page.fill("#text", "   ")
    page.click("#analyze")
    page.wait_for_selector("#error:not([hidden])")
    assert "text: expected a sentence" in page.inner_text("#error")

    page.fill("#text", "word " * 600)
    page.click("#analyze")
    wait_idle(page)
    page.wait_for_selector("#notice:not([hidden])")
    assert "602 tokens" in page.inner_text("#notice")
    assert page.is_hidden("#error")

    page.fill("#text", "It works again.")
    page.click("#analyze")
    wait_idle(page)
    assert heatmap(page)["tokens"] == ["[CLS]", "it", "works", "again", ".", "[SEP]"]
    assert page.is_hidden("#notice")
    assert page.blocked == []


# --- accessibility ---------------------------------------------------------------------------


def test_explorer_has_no_serious_axe_violations_after_analysing(page, server):
    page.goto(server.url)
    wait_idle(page)
    page.wait_for_selector("#heatmap .main-svg")
    page.wait_for_selector('#qk-panel[data-ready="true"]', state="attached")
    assert serious_violations(page) == []
    assert page.locator("#heatmap-numbers table tbody tr").count() == len(heatmap(page)["tokens"])


def test_explorer_by_keyboard_alone(page, server, minilm):
    page.goto(server.url)
    wait_idle(page)
    page.wait_for_selector("#heatmap .main-svg")
    expected = sentence_attention(*minilm, page.input_value("#text"))
    tab_until(page, "#layer")
    page.keyboard.press("ArrowDown")  # layer 1
    page.wait_for_selector('#heatmap[data-layer="1"][data-head="0"]')
    wait_idle(page)
    tab_until(page, "#head")
    page.keyboard.press("ArrowDown")  # head 1
    page.wait_for_selector('#heatmap[data-layer="1"][data-head="1"]')
    wait_idle(page)
    tab_until(page, "#heatmap")
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):  # query 2, key 1
        page.keyboard.press(key)
    said = page.inner_text("#heatmap-live")
    weight = float(expected.weights[1, 1, 2, 1])
    tokens = expected.tokens
    assert said == f"query (attending) 2: {tokens[2]}, key (attended to) 1: {tokens[1]}, " + (
        f"value {weight:.3f}"
    ), said
    assert page.get_attribute("#heatmap-live", "aria-live") == "polite"
    # the grid of heads: one tab stop, arrow keys move, Enter opens the head
    tab_until(page, "#grid canvas")
    assert page.evaluate("() => document.activeElement.dataset.layer") == "1"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_selector('#heatmap[data-layer="2"][data-head="2"]')
    wait_idle(page)
    assert page.evaluate("() => document.activeElement.dataset.head") == "2"
