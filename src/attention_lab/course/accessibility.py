"""Accessibility (WCAG 2.1 level AA): the statement the site and the README show, and the
axe-core check the tests run on every page.

``serious_violations(page)`` runs axe-core (Deque's open-source rules engine, bundled in the
``axe-playwright-python`` package of the ``[dev]`` extra, never loaded from a CDN) on a Playwright
page and returns the violations of impact serious or critical, one line each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SERIOUS = ("serious", "critical")

STATEMENT = """\
## Accessibility

The course aims at WCAG 2.1 level AA for the site, the practice quiz, the attention explorer and
the hand-calculation worksheets.

- **What is tested, and how.** On every build the test suite opens every page of the site, the
  practice quiz, a worksheet and the explorer (after a sentence is analysed) in Chromium and runs
  axe-core on each: no violation of impact serious or critical is allowed. The tests also check
  that every image has a text alternative that describes it (never empty, never a file name), that
  every equation carries MathML for screen readers, and walk through a heatmap, the explorer and
  the quiz with the keyboard alone, checking what is announced.
- **Figures.** Every figure's alt text is computed from the data it draws (for a heatmap, where
  each query puts its largest weight and the strongest cells; for a curve, the trend, the
  extremes and the end values). Heatmaps and plots also give their numbers as a table, collapsed
  under "The numbers in this figure". Colour maps are viridis or cividis.
- **Interactive heatmaps and the explorer.** Tab to a heatmap and move with the arrow keys: the
  row, the column and the weight of each cell are read out (a live region). The head menu, the
  explorer's layer and head selectors, its grid of heads (arrow keys, Enter) and its summary table
  (sort and open buttons) all work from the keyboard, with a visible focus.
- **Quiz.** Each question groups its choices (fieldset and legend); every field has a label; the
  feedback is announced when an answer is checked, and it says in words whether the answer was
  right (not by colour alone).

**Known limits.** Automated checks find only part of the problems: the pages have not yet been
tried by screen-reader users. The interactive heatmaps' zoom and pan tools (plotly's) need a
mouse; the same numbers are in the table and on the arrow keys. Diagrams (the architecture, the
attention steps) are described in words, but their layout is not navigable element by element.
The lecture slides get the same checks: axe-core on the title slide, a figure slide and the
last slide of each deck, alt text on every image, MathML on every formula, and the arrow keys
and Space to move between slides; reveal.js's speaker window (key S) has not been tried with
assistive technology. Please report any barrier to the course team.
"""


def serious_violations(
    page: Any, rules: Sequence[str] | None = None, impacts: Sequence[str] = SERIOUS
) -> list[str]:
    """The axe-core violations of impact serious or critical on ``page`` (Playwright, sync API):
    one line each with the rule, its impact, its help text and the first elements it names.
    ``rules`` (axe rule ids, e.g. ``["color-contrast"]``) runs only those; default: all.
    ``impacts`` widens the net, e.g. ``("moderate", "serious", "critical")``."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        raise RuntimeError(
            "serious_violations: the package 'axe-playwright-python' is not installed; "
            "run `pip install 'attention-lab[dev]'`"
        ) from None
    options = {"resultTypes": ["violations"]}
    if rules is not None:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    violations = Axe().run(page, options=options).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in violations
        if v["impact"] in impacts
    ]


def tab_until(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab on ``page`` until the focus is on an element matching ``selector``: how a
    keyboard-only user gets there. AssertionError if ``limit`` presses never reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")
