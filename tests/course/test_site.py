"""The built course site, end to end: every lesson executes, pages work offline in Chromium.

One session build (the real lessons plus the small fixture lessons in fixtures/lessons) is served
on 127.0.0.1 and opened in headless Chromium (Debian's package) driven by Playwright. All site
tests live in this one file so that `pytest -n 2 --dist loadfile` builds the site once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from attention_lab.assessment.bank import load_questions
from attention_lab.assessment.html import quiz_html
from attention_lab.course import offline, site
from attention_lab.course.accessibility import STATEMENT, serious_violations, tab_until
from attention_lab.course.coverage import quiz_questions
from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.course.notebooks import PLACEHOLDER
from attention_lab.course.serve import make_server
from attention_lab.course.site import build, cpu_jobs
from attention_lab.course.slides import print_pdfs
from attention_lab.handcalc import generate_handcalc, worksheet_html

REPO = Path(__file__).resolve().parents[2]
FIXTURE_LESSONS = Path(__file__).parent / "fixtures" / "lessons"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/course-shots")
# Set to 1 to build only the fixture lessons while developing the site itself.
FIXTURES_ONLY = os.environ.get("ATTENTION_LAB_COURSE_FIXTURES_ONLY") == "1"
QUESTIONS = quiz_questions(load_questions())  # what `attention-lab build` passes


def _real_lessons() -> list[Path]:
    return [] if FIXTURES_ONLY else sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The real lessons (with their assets) and the fixture lessons, built once."""
    root = tmp_path_factory.mktemp("course")
    lessons = root / "lessons"
    if LESSONS_DIR.is_dir() and not FIXTURES_ONLY:
        ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb")
        shutil.copytree(LESSONS_DIR, lessons, ignore=ignore)
    lessons.mkdir(exist_ok=True)
    for path in FIXTURE_LESSONS.glob("*.py"):
        shutil.copy(path, lessons / path.name)
    # The cache key includes the library's fingerprint: pin it so that the warm-rebuild test
    # measures the cache, not whether someone edited the library in between.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("attention_lab.course.execute.library_fingerprint", lambda: "pinned")
        report = build(
            lessons, root / "site", questions=QUESTIONS, allow_gaps=True, jobs=cpu_jobs()
        )
    return report


@pytest.fixture(scope="session")
def base_url(course):
    server = make_server(course.out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")  # not session: a live Playwright session blocks any other one
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: install Debian's 'chromium' package")
        pytest.skip("/usr/bin/chromium is not installed (and CI is unset)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


class Visit:
    """A page opened with every request recorded and every non-local request blocked."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        self.response = self.page.goto(url, wait_until="networkidle")

    def _route(self, route):
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *exc) -> None:
        self.page.close()


def _pages(course) -> list[str]:
    return sorted(p.name for p in course.out.glob("*.html"))


def _lesson_pages(course) -> list[str]:
    return [f"{name}.html" for name in course.lessons]


# --- the build -------------------------------------------------------------------------------


def test_every_lesson_executed_and_has_a_page(course):
    real = [p.stem for p in _real_lessons()]
    fixtures = sorted(p.stem for p in FIXTURE_LESSONS.glob("*.py"))
    assert course.lessons == sorted(real + fixtures)
    assert set(course.executed) | set(course.cached) == set(course.lessons)
    for name in course.lessons:
        assert (course.out / f"{name}.html").is_file(), name
    for page in ("index.html", "instructor_guide.html", "coverage.html"):
        assert (course.out / page).is_file(), page


def test_no_page_references_anything_outside_the_site(course):
    assert offline.external_resources(course.out) == []
    assert (course.out / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (course.out / "_static" / "plotly.min.js").is_file()
    heatmap = (course.out / "92_fixture_heatmap.html").read_text()
    assert '<script charset="utf-8" src="_static/plotly.min.js">' in heatmap
    assert "Plotly.newPlot" in heatmap and len(heatmap) < 500_000  # plotly.js is not inlined


def test_coverage_page_links_resolve_to_sections(course):
    page = (course.out / "coverage.html").read_text()
    assert "3.2.3" in page and "Learning objectives" not in page[:200]
    links = re.findall(r'href="(\d\d_[a-z0-9_]+\.html)#([^"]+)"', page)
    assert links, "the coverage page links no lesson section"
    for target, anchor in links:
        assert f'id="{anchor}"' in (course.out / target).read_text(), (target, anchor)


def test_lesson_pages_label_objectives_and_fold_solutions(course):
    page = (course.out / "91_fixture_attention.html").read_text()
    assert 'class="al-hands-on"' in page and "Hands-on 3.2.3" in page
    assert "Objectives 3.2.3 · 3.2.4" in page
    assert "BEGIN SOLUTION" not in page
    folded = re.search(r'<details class="[^"]*hide above-input">.*?</details>', page, re.S)
    assert folded and "q @ k.T" in re.sub(r"<[^>]+>", "", folded.group(0))


def test_landing_page_offers_student_notebooks(course):
    index = (course.out / "index.html").read_text()
    for name in course.lessons:
        assert f'href="_static/notebooks/{name}.ipynb"' in index
    student = json.loads(
        (course.out / "_static" / "notebooks" / "91_fixture_attention.ipynb").read_text()
    )
    code = "".join("".join(c["source"]) for c in student["cells"] if c["cell_type"] == "code")
    assert PLACEHOLDER in code and "q @ k.T" not in code


def test_warm_rebuild_executes_nothing(course, monkeypatch):
    monkeypatch.setattr("attention_lab.course.execute.library_fingerprint", lambda: "pinned")
    again = build(course.out.parent / "lessons", course.out, questions=QUESTIONS, allow_gaps=True)
    assert again.executed == {}
    assert set(again.cached) == set(course.lessons)


# --- in the browser --------------------------------------------------------------------------


@pytest.mark.browser
def test_every_page_loads_offline_without_console_errors(course, base_url, browser):
    for name in _pages(course):
        with Visit(browser, f"{base_url}/{name}") as visit:
            assert visit.response is not None and visit.response.ok, name
            assert visit.outside == [], (name, visit.outside)
            assert visit.errors == [], (name, visit.errors)
            assert visit.failed == [], (name, visit.failed)


@pytest.mark.browser
def test_equations_are_rendered_by_mathjax(course, base_url, browser):
    with_math = [n for n in _lesson_pages(course) if 'class="math' in (course.out / n).read_text()]
    assert "91_fixture_attention.html" in with_math
    for name in with_math:
        with Visit(browser, f"{base_url}/{name}") as visit:
            visit.page.wait_for_selector("mjx-container mjx-math", state="attached", timeout=20_000)
            assert visit.page.locator("mjx-container").count() >= 1
            assert visit.page.locator("mjx-merror").count() == 0, name  # no TeX errors


@pytest.mark.browser
def test_interactive_heatmaps_respond_to_a_click(course, base_url, browser):
    with_plots = [
        n for n in _lesson_pages(course) if "Plotly.newPlot" in (course.out / n).read_text()
    ]
    assert "92_fixture_heatmap.html" in with_plots
    for name in with_plots:
        with Visit(browser, f"{base_url}/{name}") as visit:
            plot = visit.page.locator(".js-plotly-plot").first
            plot.scroll_into_view_if_needed()
            visit.page.evaluate(
                """el => { window.__clicked = null;
                   el.on('plotly_click', d => { window.__clicked = d.points.map(p => p.z); }); }""",
                plot.element_handle(),
            )
            area = plot.locator(".nsewdrag").first
            box = area.bounding_box()
            visit.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            visit.page.wait_for_function("window.__clicked !== null", timeout=10_000)
            clicked = visit.page.evaluate("window.__clicked")
            assert clicked and all(isinstance(z, (int, float)) for z in clicked), (name, clicked)
            assert visit.errors == [], (name, visit.errors)


@pytest.mark.browser
def test_quiz_gives_feedback(course, base_url, browser):
    quiz_pages = [
        n for n in _lesson_pages(course) if 'class="al-quiz"' in (course.out / n).read_text()
    ]
    assert "93_fixture_quiz.html" in quiz_pages
    for name in quiz_pages:
        with Visit(browser, f"{base_url}/{name}") as visit:
            card = visit.page.locator(".al-quiz .al-card").first
            card.scroll_into_view_if_needed()
            choices = card.locator("input[type=radio], input[type=checkbox]")
            if choices.count():
                choices.first.check()
            else:
                card.locator("input.al-answer").fill("1")
            feedback = card.locator(".al-feedback")
            assert feedback.is_hidden()
            card.locator("button.al-check").click()
            feedback.wait_for(state="visible", timeout=5_000)
            assert re.match(r"(Correct|Partly correct|Not quite)\. ", feedback.inner_text())
            assert "Why:" in feedback.inner_text()
            score = visit.page.locator(".al-quiz .al-score").first.inner_text()
            assert "(1 of" in score, score
            assert visit.errors == [], (name, visit.errors)


@pytest.mark.browser
def test_screenshots_of_the_landing_page_and_a_lesson(course, base_url, browser, tmp_path):
    real = [f"{p.stem}.html" for p in _real_lessons()]
    lesson = next((n for n in real if "self_attention" in n), real[0] if real else None)
    lesson = lesson or "91_fixture_attention.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, shot in (("index.html", "landing.png"), (lesson, "lesson.png")):
        with Visit(browser, f"{base_url}/{name}") as visit:
            if visit.page.locator(".math").count():
                visit.page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
            path = tmp_path / shot
            visit.page.screenshot(path=str(path), full_page=True)
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
            shutil.copy(path, SHOTS / shot)


# --- slides ----------------------------------------------------------------------------------
# The decks the build wrote into <site>/slides/ from the executed lessons (a fixture-only build
# has none: the plan's segments teach from the real lessons).

DECKS = ("3.1", "3.2", "3.3", "3.4", "pretrained")
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def decks(course):
    if FIXTURES_ONLY:
        pytest.skip("a fixture-only build has no slide decks")
    return course.out / "slides"


def test_the_build_writes_a_deck_per_topic_linked_from_the_instructor_guide(course, decks):
    assert sorted(p.name for p in course.slides) == sorted(f"{d}.html" for d in DECKS)
    guide = (course.out / "instructor_guide.html").read_text()
    for deck in DECKS:
        assert (decks / f"{deck}.html").is_file(), deck
        assert f'href="slides/{deck}.html"' in guide, deck
    coverage = (course.out / "coverage.html").read_text()
    assert "Slides" in coverage and 'href="slides/3.2.html"' in coverage


def _slide_check(page) -> dict:
    """What the current slide shows: images not loaded, TeX errors, overflow, notes."""
    return page.evaluate(
        """() => {
        const s = Reveal.getCurrentSlide();
        const imgs = [...s.querySelectorAll('img')];
        return {
          broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
          noalt: imgs.filter(i => !(i.getAttribute('alt') || '').trim()).length,
          merror: s.querySelectorAll('mjx-merror').length,
          overflow: Math.max(...[...s.children].filter(c => c.tagName !== 'ASIDE' && !c.classList.contains('al-objectives')).map(c => c.offsetTop + c.offsetHeight)) - (s.querySelector('.al-objectives') || {offsetTop: Reveal.getConfig().height}).offsetTop,
          notes: (Reveal.getSlideNotes(s) || '').trim().length,
          text: s.innerText.trim().length,
        };
    }"""
    )


@pytest.mark.browser
def test_every_slide_of_every_deck_renders_offline(decks, base_url, browser):
    for deck in DECKS:
        with Visit(browser, f"{base_url}/slides/{deck}.html") as visit:
            page = visit.page
            page.evaluate("() => window.MathJax.startup.promise")
            assert page.evaluate("document.documentElement.lang") == "en"
            assert page.title().endswith("lecture slides"), page.title()
            total = page.evaluate("Reveal.getTotalSlides()")
            assert total >= 5, (deck, total)
            # every formula carries assistive MathML for screen readers
            formulas = page.locator("mjx-container").count()
            assert formulas > 0 and page.locator("mjx-assistive-mml").count() == formulas, deck
            for index in range(total):
                page.evaluate(f"Reveal.slide({index})")
                seen = _slide_check(page)
                where = (deck, index, seen)
                assert seen["broken"] == [] and seen["noalt"] == 0, where
                assert seen["merror"] == 0 and seen["text"] > 0, where
                assert seen["overflow"] <= 0, where  # nothing runs off the slide
                assert seen["notes"] > 0, where  # speaker notes on every slide
            assert visit.outside == [], (deck, visit.outside)
            assert visit.errors == [], (deck, visit.errors)
            assert visit.failed == [], (deck, visit.failed)


@pytest.mark.browser
def test_the_keyboard_moves_through_a_deck(decks, base_url, browser):
    with Visit(browser, f"{base_url}/slides/3.2.html") as visit:
        page = visit.page

        def at() -> int:
            return page.evaluate("Reveal.getIndices().h")

        page.locator(".reveal").click()  # the focus is on the deck
        assert at() == 0
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert at() == 2
        page.keyboard.press("ArrowLeft")
        assert at() == 1
        page.keyboard.press("Space")
        assert at() == 2
        assert visit.errors == []


@pytest.mark.browser
def test_the_decks_have_no_serious_accessibility_violations(decks, base_url, browser):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for deck in DECKS:
        with Visit(browser, f"{base_url}/slides/{deck}.html") as visit:
            visit.page.evaluate("() => window.MathJax.startup.promise")
            total = visit.page.evaluate("Reveal.getTotalSlides()")
            # the title slide, a figure slide and the last slide (reveal.js hides the others)
            figure = visit.page.evaluate(
                "[...document.querySelectorAll('.slides > section')]"
                ".findIndex(s => s.querySelector('img'))"
            )
            for index in sorted({0, max(figure, 0), total - 1}):
                visit.page.evaluate(f"Reveal.slide({index})")
                found = axe.run(visit.page).response["violations"]
                bad = [
                    (v["id"], v["impact"], len(v["nodes"])) for v in found if v["impact"] in SERIOUS
                ]
                assert bad == [], (deck, index, bad)


@pytest.mark.browser
def test_screenshots_of_slides(decks, base_url, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    picks = {"3.1": (0, 4), "3.2": (4, 5), "3.3": (13,), "3.4": (5,), "pretrained": (1,)}
    for deck, indices in picks.items():
        with Visit(browser, f"{base_url}/slides/{deck}.html") as visit:
            visit.page.set_viewport_size({"width": 1280, "height": 720})
            visit.page.evaluate("() => window.MathJax.startup.promise")
            for index in indices:
                visit.page.evaluate(f"Reveal.slide({index})")
                path = SHOTS / f"slides-{deck}-{index}.png"
                visit.page.screenshot(path=str(path))
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_one_deck_prints_to_pdf_one_page_per_slide(decks, browser):
    # The smallest deck: printing every deck is what `attention-lab slides --pdf` does.
    [pdf] = print_pdfs(decks, ["pretrained"], browser=browser)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    slides = (decks / "pretrained.html").read_text().count("<section")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == slides


# --- code width ------------------------------------------------------------------------------

# Each code block as it would be without wrapping: its width, its column's, and its longest line.
CODE_WIDTHS = """() => Array.from(document.querySelectorAll('div.cell_input pre')).map((pre) => {
    const wrap = pre.style.whiteSpace;
    pre.style.whiteSpace = 'pre';
    const result = {scroll: pre.scrollWidth, client: pre.clientWidth,
                    line: pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '')};
    pre.style.whiteSpace = wrap;
    return result; })"""


@pytest.mark.browser
def test_no_lesson_code_block_is_wider_than_its_column_at_1280_pixels(course, base_url, browser):
    """At a 1280-pixel window every code line fits the content column unwrapped (the CSS wraps
    what would not, but a wrapped line is harder to read); the lessons' formatter width,
    lessons/ruff.toml, is what fits."""
    real = [f"{p.stem}.html" for p in _real_lessons()] or ["91_fixture_attention.html"]
    too_wide = []
    for name in real:
        with Visit(browser, f"{base_url}/{name}") as visit:
            assert visit.page.viewport_size["width"] == 1280
            blocks = visit.page.evaluate(CODE_WIDTHS)
            assert blocks, f"{name}: no code blocks found"
            too_wide += [
                f"{name}: {b['line'].strip()[:50]!r}" for b in blocks if b["scroll"] > b["client"]
            ]
    assert too_wide == [], "code wider than its column:\n" + "\n".join(too_wide)


# --- the stylesheet on a warm build ----------------------------------------------------------


def test_a_changed_stylesheet_reaches_the_site_on_a_warm_build(course, monkeypatch):
    """Sphinx copies static files only when it rewrites a page; a warm build may rewrite none
    ("no targets are out of date"). Rendering is replaced by exactly that case here."""
    monkeypatch.setattr("attention_lab.course.execute.library_fingerprint", lambda: "pinned")
    monkeypatch.setattr(site, "_render", lambda src, out, doctrees: [])  # no page rewritten
    served = course.out / "_static" / "attention-lab.css"
    original = site.CSS
    assert served.read_text() == original
    changed = original + "/* a rule added after the first build */\n"
    lessons = course.out.parent / "lessons"
    try:
        monkeypatch.setattr(site, "CSS", changed)
        again = build(lessons, course.out, questions=QUESTIONS, allow_gaps=True)
        assert again.executed == {}  # a warm build: nothing executed
        assert served.read_text() == changed
    finally:  # the later tests see the site as it was
        monkeypatch.setattr(site, "CSS", original)
        build(lessons, course.out, questions=QUESTIONS, allow_gaps=True)
    assert served.read_text() == original


# --- accessibility ---------------------------------------------------------------------------
# WCAG 2.1 AA: axe-core (bundled in axe-playwright-python) finds no serious or critical
# violation on any page; every image says what it shows; a heatmap and the quiz work from the
# keyboard alone, with what happens announced through live regions.

FILE_NAME = re.compile(r"^\S*\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)


def _wait_for_math(visit: Visit) -> None:
    if visit.page.locator(".math").count():
        visit.page.wait_for_selector("mjx-container", state="attached", timeout=20_000)


@pytest.mark.browser
def test_no_page_has_serious_or_critical_axe_violations(course, base_url, browser):
    found = {}
    for name in _pages(course):
        with Visit(browser, f"{base_url}/{name}") as visit:
            _wait_for_math(visit)
            violations = serious_violations(visit.page)
            # the dark theme too: text contrast of at least 4.5:1 in both
            # (no transitions: axe must see the dark colours, not a fade between the two)
            visit.page.add_style_tag(content="* { transition: none !important; }")
            visit.page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
            violations += serious_violations(visit.page, rules=["color-contrast"])
            if violations:
                found[name] = violations
    assert found == {}


@pytest.mark.browser
def test_all_content_is_inside_landmarks(course, base_url, browser):
    for name in ("index.html", "91_fixture_attention.html"):
        with Visit(browser, f"{base_url}/{name}") as visit:
            found = serious_violations(visit.page, rules=["region"], impacts=("moderate",))
            assert found == [], (name, found)


def test_every_image_says_what_it_shows(course):
    images = 0
    for name in _pages(course):
        for tag in re.findall(r"<img\b[^>]*>", (course.out / name).read_text()):
            images += 1
            alt = re.search(r'\balt="([^"]*)"', tag)
            assert alt, (name, tag[:200])
            text = alt.group(1).strip()
            assert text and not FILE_NAME.match(text), (name, text[:120])
            assert len(text.split()) >= 4, (name, text)  # a sentence, not a label
    assert images >= 1  # the fixture lesson draws a matplotlib figure


def test_figures_carry_their_numbers_in_a_collapsed_table(course):
    page = (course.out / "92_fixture_heatmap.html").read_text()
    folded = re.findall(r'<details class="al-figure-numbers">.*?</details>', page, re.S)
    static = [d for d in folded if "peak weight per query" in d]  # the matplotlib figure's
    assert len(static) == 1 and static[0].count("<tr>") == 1 + 4  # header + 4 queries
    assert "head 0" in static[0] and "head 1" in static[0]
    assert len(folded) == 2  # and the interactive heatmap's, filled in the browser


@pytest.mark.browser
def test_every_equation_carries_mathml_for_screen_readers(course, base_url, browser):
    with_math = [n for n in _pages(course) if 'class="math' in (course.out / n).read_text()]
    assert "91_fixture_attention.html" in with_math
    for name in with_math:
        with Visit(browser, f"{base_url}/{name}") as visit:
            visit.page.wait_for_selector("mjx-container mjx-assistive-mml math", state="attached")
            visit.page.wait_for_function(  # MathJax typesets in chunks: wait for the last one
                "() => document.querySelectorAll('.math').length <="
                " document.querySelectorAll('mjx-container mjx-assistive-mml math').length",
                timeout=60_000,
            )
            containers = visit.page.locator("mjx-container").count()
            assert visit.page.locator("mjx-container mjx-assistive-mml math").count() == containers


@pytest.mark.browser
def test_heatmap_by_keyboard_alone(course, base_url, browser):
    with Visit(browser, f"{base_url}/92_fixture_heatmap.html") as visit:
        page = visit.page
        page.wait_for_selector(".al-plot .js-plotly-plot[data-al-keys='on']", state="attached")
        tab_until(page, ".al-heatmap-menu select")  # the head menu, reachable without a mouse
        page.keyboard.press("ArrowDown")  # head 1
        tab_until(page, ".al-plot .js-plotly-plot")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        said = page.locator(".al-heatmap-live").first.inner_text()
        z = page.evaluate(
            "() => { const gd = document.querySelector('.al-plot .js-plotly-plot');"
            " return gd.data.find(t => t.visible !== false).z[1][1]; }"
        )
        assert said == f"head 1, query 1: cat, key 1: cat, value {z:.3f}", said
        caption = page.locator(".al-figure-numbers caption").first.text_content()
        assert caption.startswith("head 1:"), caption  # the table follows the head shown
        assert visit.errors == [], visit.errors


@pytest.mark.browser
def test_quiz_by_keyboard_alone(course, base_url, browser):
    with Visit(browser, f"{base_url}/93_fixture_quiz.html") as visit:
        page = visit.page
        tab_until(page, ".al-quiz .al-card input")
        kind = page.evaluate("() => document.activeElement.type")
        if kind in ("radio", "checkbox"):
            page.keyboard.press("Space")
        else:
            page.keyboard.type("1")
        card = page.evaluate("() => document.activeElement.closest('.al-card').dataset.qid")
        tab_until(page, f'.al-card[data-qid="{card}"] button.al-check')
        page.keyboard.press("Enter")
        said = page.locator(f'.al-card[data-qid="{card}"] .al-said')
        assert said.get_attribute("aria-live") == "polite"
        assert re.match(r"Question \d+: (Correct|Partly correct|Not quite)\. ", said.inner_text())
        legend = page.locator(f'.al-card[data-qid="{card}"] > legend').inner_text()
        assert legend.startswith("Question ")  # the choices are grouped with their question


@pytest.mark.browser
def test_standalone_quiz_and_worksheet_have_no_serious_axe_violations(browser):
    page = browser.new_page()
    try:
        page.set_content(quiz_html())
        assert serious_violations(page) == []
        assert page.locator("fieldset.al-card > legend").count() == len(load_questions())
        with_figure = [q for q in load_questions() if q.figure]
        alts = page.locator(".al-card img").evaluate_all("imgs => imgs.map(i => i.alt)")
        assert len(alts) == len(with_figure) and all(
            "Heatmap of attention weights" in a for a in alts
        )
        page.set_content(worksheet_html(generate_handcalc(7)))
        assert serious_violations(page) == []
    finally:
        page.close()


def test_the_accessibility_statement_is_on_the_site_and_in_the_readme(course):
    index = (course.out / "index.html").read_text()
    assert 'id="accessibility"' in index and "Known limits." in index
    assert STATEMENT in (REPO / "README.md").read_text()
