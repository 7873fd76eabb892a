"""The web practice quiz in headless Chromium: answer, get feedback, download the answers file."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from attention_lab.assessment import check_answer, load_questions, quiz_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="Chromium is not installed (these tests must run in CI)",
    ),
]


def test_web_quiz_feedback_and_answers_file(tmp_path):
    from playwright.sync_api import sync_playwright

    questions = load_questions(ids=["sdpa-formula", "head-dim", "heatmap-causal"])
    page_path = tmp_path / "quiz.html"
    page_path.write_text(quiz_html(questions), encoding="utf-8")
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(accept_downloads=True)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        page.fill(".al-learner", "eve")
        formula = page.locator('[data-qid="sdpa-formula"]')
        formula.get_by_text("softmax(QKᵀ / √d_k) V", exact=True).click()
        formula.locator(".al-check").click()
        assert formula.locator(".al-feedback").inner_text().startswith("Correct.")
        dim = page.locator('[data-qid="head-dim"]')
        dim.locator(".al-answer").fill("512")
        dim.locator(".al-check").click()
        assert "Each head works in a smaller subspace" in dim.locator(".al-feedback").inner_text()
        heat = page.locator('[data-qid="heatmap-causal"]')
        assert heat.locator("img").evaluate("img => img.naturalWidth > 100")
        assert "Practice score: 1 / 3" in page.locator(".al-score").inner_text()
        with page.expect_download() as info:
            page.locator(".al-save").click()
        sheet = json.loads(open(info.value.path(), encoding="utf-8").read())
        browser.close()
    assert all(url.startswith(("file://", "data:", "blob:")) for url in requests), requests
    assert sheet["learner"] == "eve" and sheet["mode"] == "practice"
    by_id = {q.id: q for q in questions}
    for qid, entry in sheet["answers"].items():  # the browser's scores equal the engine's
        assert entry["score"] == check_answer(by_id[qid], entry["response"]).score
    assert sheet["answers"]["head-dim"]["response"] == 512
