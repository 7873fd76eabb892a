"""`attention-lab lab` in real JupyterLab, driven in headless Chromium.

The command writes the learner notebooks and starts JupyterLab on 127.0.0.1; the browser opens
the Lab 3.4 notebook, runs its imports, writes a wrong answer into the exercise q2 cell, runs it
and the `lab34.q2.check()` cell below and reads the feedback rendered there, then does the same
with a correct answer.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = "04_from_scratch.ipynb"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="Chromium is not installed (these tests must run in CI)",
    ),
]

WRONG = "def attention_scores(q, k):\n    return q @ k.transpose(-2, -1)\n"
RIGHT = "def attention_scores(q, k):\n    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """`attention-lab lab --dir nb` on a free port with a known token; stopped afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page (JupyterLab may otherwise leave far-away cells out of it)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        str(Path(sys.executable).with_name("attention-lab")),
        "lab",
        "--dir",
        str(tmp_path / "nb"),
        "--port",
        str(port),
        "--no-browser",
        "--",
        f"--IdentityProvider.token={token}",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # Jupyter refuses root without it
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(tmp_path / "lab.log", "wb")
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text())
            time.sleep(0.5)
    try:
        yield url, token, tmp_path / "nb"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def kernel_is_idle(url: str, token: str) -> bool:
    """Whether the server holds an idle kernel for the notebook (JupyterLab's REST API)."""
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=5) as response:
        sessions = json.load(response)
    return any(
        s["path"].endswith(NOTEBOOK) and (s.get("kernel") or {}).get("execution_state") == "idle"
        for s in sessions
    )


def answer_dialog(page, seen: list[str]) -> None:
    """Answer a dialog JupyterLab shows over the notebook, as a learner would.

    A cell run before the page has connected to its kernel makes JupyterLab ask which kernel to
    use ("Select Kernel"); a learner accepts the proposed one (this notebook's python3). Any
    other dialog is a failure, reported with its text.
    """
    dialog = page.locator(".jp-Dialog")
    if not dialog.count() or not dialog.first.is_visible():
        return
    text = dialog.first.inner_text()
    seen.append(text)
    if "Select Kernel" not in text:
        pytest.fail(f"JupyterLab showed a dialog: {text!r}")
    dialog.first.locator(".jp-mod-accept").click()
    dialog.first.wait_for(state="detached", timeout=30_000)


def run_cell(page, cell) -> None:
    """Put the cursor in the cell's editor and run it (Shift+Enter)."""
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def run_until_executed(page, cell, seen: list[str], tries: int = 3, wait_s: float = 90) -> None:
    """Run the cell and wait until the kernel has executed it (its prompt shows a count, "[1]:").

    A cell run while the page is still connecting to the kernel is not executed (JupyterLab
    asks for a kernel instead): the dialog is answered and the cell run again, at most ``tries``
    times.
    """
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(tries):
        answer_dialog(page, seen)
        run_cell(page, cell)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if re.search(r"\[\d+\]", prompt.inner_text()):
                return
            if page.locator(".jp-Dialog").count():
                break  # answered at the top of the next try
            page.wait_for_timeout(500)
    pytest.fail(
        f"the cell was not executed after {tries} runs; prompt {prompt.inner_text()!r}; "
        f"dialogs seen: {seen}"
    )


def answer_and_check(page, code: str, expected: str, seen: list[str]) -> str:
    exercise = page.locator(".jp-CodeCell").filter(has_text="def attention_scores(q, k)").first
    check = page.locator(".jp-CodeCell").filter(has_text="lab34.q2.check()").first
    answer_dialog(page, seen)
    exercise.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")  # runs the exercise cell, moves to the check cell
    run_cell(page, check)
    output = check.locator(".jp-OutputArea-output")
    output.filter(has_text=expected).wait_for(timeout=180_000)  # the kernel may still be importing
    return output.inner_text()


def test_lab_opens_the_notebooks_and_renders_check_feedback(jupyterlab):
    from playwright.sync_api import sync_playwright

    url, token, folder = jupyterlab
    assert (folder / NOTEBOOK).is_file()  # written by `attention-lab lab`
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda request: requests.append(request.url))
        try:
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
            imports = page.locator(".jp-CodeCell").filter(
                has_text="from attention_lab.exercises import lab34"
            )
            imports.first.wait_for(timeout=60_000)
            deadline = time.monotonic() + 120
            while not kernel_is_idle(url, token):  # the server has started the notebook's kernel
                assert time.monotonic() < deadline, "no idle kernel for the notebook after 120 s"
                time.sleep(0.5)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=60_000
            )
            dialogs: list[str] = []
            # the kernel has imported attention_lab
            run_until_executed(page, imports.first, dialogs)
            wrong = answer_and_check(page, WRONG, "missing_scale", dialogs)
            right = answer_and_check(page, RIGHT, "Correct", dialogs)
        finally:  # what the page showed, to look at
            page.screenshot(path=str(folder.parent / "lab.png"))
            browser.close()
    # the HTML view (the plain-text one would read "... — Not yet")
    assert "✗ The scores and the scale: Not yet: missing_scale" in wrong
    assert "Why:" in wrong and "Stuck? lab34.q2.hint()" in wrong
    assert "✓ The scores and the scale: Correct" in right and "Stuck?" not in right
    assert all(r.startswith(url) for r in requests if r.startswith("http")), requests
