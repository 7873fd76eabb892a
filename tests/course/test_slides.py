"""Lecture slides: decks made from marked lesson cells and their executed outputs (small fixtures).

The browser checks of the decks the course build writes are in test_site.py ("# --- slides").
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.course import coverage as cov
from attention_lab.course import offline, pages
from attention_lab.course import slides as sl
from attention_lab.course.lessons import LESSONS_DIR, load, load_all, read_notebook
from attention_lab.course.pages import Segment, TopicPlan
from attention_lab.objectives import objectives, topics
from attention_lab.viz.figure import DescribedFigure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIXTURE_LESSONS = Path(__file__).parent / "fixtures" / "lessons"

LESSON = """\
# %% [markdown]
# # Demo lesson
#
# **Duration:** 20 minutes. **Learning objectives:** scores.

# %%
import math

# %% [markdown] slide="Scores"
# <!-- serves: 3.2.3 -->
# ## Scores and the scale
#
# $$s_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{d_k}}$$
#
# - every query against every key: $Q K^\\top$
# - divide by *the* square root of $d_k$

# %% slide="Scores"
fig = make_figure()

# %% [markdown]
# <!-- serves: 3.2.5 -->
# ## Heads
#
# Several heads look at different places.

# %% slide="Heads"
# BEGIN SOLUTION
heads = 2
# END SOLUTION

# %% [markdown] slide="Heads"
# Several heads in one paragraph, and no list.

# %% [markdown]
# ## Key takeaways
#
# - scores, then heads
"""


def _plan() -> TopicPlan:
    topic = next(t for t in topics() if t.id == "3.2")
    return TopicPlan(
        topic,
        "02_demo",
        (
            Segment("lecture", 20, "Scores", "Write the scores on the board.", ("3.2.3",)),
            Segment("activity", 10, "Heads", "Pairs draw two heads.", ("3.2.5",)),
            Segment(
                "lecture", 5, "Elsewhere", "From another lesson.", ("3.2.5",), "homework", "05_x"
            ),
        ),
        ("Say the formula aloud.",),
    )


def _figure() -> DescribedFigure:
    fig = DescribedFigure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.alt_text = "A line rising from 0 at the left to 1 at the right."
    return fig


def _executed(nb: nbformat.NotebookNode, outputs: dict[int, list]) -> nbformat.NotebookNode:
    """A copy of ``nb`` as the build would execute it: the given outputs on code cells."""
    done = nbformat.from_dict(nb)
    for index, items in outputs.items():
        assert done.cells[index].cell_type == "code"
        done.cells[index].outputs = items
    return done


@pytest.fixture
def lesson(tmp_path):
    path = tmp_path / "02_demo.py"
    path.write_text(LESSON)
    nb = read_notebook(path)
    return load(path, nb), nb


@pytest.fixture
def described():
    fig = _figure()
    return fig, nbformat.v4.new_output("display_data", data=fig._repr_mimebundle_())


def _outline(lesson, nb):
    decks = sl.deck_plans([_plan()])
    return sl.outline(decks, [lesson], {lesson.name: nb})


def test_a_topic_whose_segments_teach_from_two_lessons_gives_two_decks():
    decks = sl.deck_plans([_plan()])
    assert [(d.id, d.lesson, [s.title for s in d.segments]) for d in decks] == [
        ("3.2", "02_demo", ["Scores", "Heads"]),
        ("x", "05_x", ["Elsewhere"]),
    ]
    assert decks[0].notes == ("Say the formula aloud.",) and decks[1].notes == ()
    # the clock runs over the whole topic; homework is outside the session
    assert decks[0].timing[1] == "Segment 2 of 3: Activity, 10 min, 0:20 to 0:30 of the session"
    assert decks[1].timing[0].endswith("homework, after the session")


def test_the_course_plan_gives_the_four_topics_and_the_bridge_to_pretrained_models():
    decks = sl.deck_plans()
    assert [d.id for d in decks] == ["3.1", "3.2", "3.3", "3.4", "pretrained"]
    assert decks[-1].lesson == "05_pretrained" and decks[-1].topic.id == "3.4"


def test_the_outline_carries_the_objectives_of_the_section_each_slide_comes_from(lesson):
    les, nb = lesson
    [deck] = _outline(les, nb)  # the deck of 05_x is left out: that lesson is not here
    assert [(s.cell, s.segment, s.section, s.objectives) for s in deck.sources] == [
        (2, "Scores", "Scores and the scale", ("3.2.3",)),
        (3, "Scores", "Scores and the scale", ("3.2.3",)),
        (5, "Heads", "Heads", ("3.2.5",)),
        (6, "Heads", "Heads", ("3.2.5",)),
    ]
    assert sl.slide_coverage([deck]) == {
        "3.2.3": [("3.2", "Scores and the scale")],
        "3.2.5": [("3.2", "Heads")],
    }


def test_a_mark_naming_no_segment_is_refused_with_the_segments_it_could_name(tmp_path):
    path = tmp_path / "02_demo.py"
    path.write_text(LESSON.replace('slide="Heads"', 'slide="Hedas"', 1))
    nb = read_notebook(path)
    with pytest.raises(sl.SlideError, match=r"cell 5: slide='Hedas'.*'Scores'; 'Heads'"):
        _outline(load(path, nb), nb)


def test_a_deck_follows_the_plan_with_equations_points_figures_and_notes(lesson, described):
    les, nb = lesson
    fig, output = described
    [item] = _outline(les, nb)
    deck = sl.make_deck(item, nb, _executed(nb, {3: [output]}))
    kinds = [(s.kind, s.title) for s in deck.slides]
    assert kinds == [
        ("title", "Demo lesson"),
        ("segment", "Scores"),
        ("content", "Scores and the scale"),
        ("content", "Scores and the scale"),
        ("segment", "Heads"),
        ("content", "Heads"),
        ("content", "Heads"),
    ]
    eq, figure_slide = deck.slides[2], deck.slides[3]
    assert eq.equations == ("s_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{d_k}}",)
    assert eq.points == (
        "every query against every key: $Q K^\\top$",
        "divide by *the* square root of $d_k$",
    )
    assert eq.objectives == ("3.2.3",)
    [shown] = figure_slide.figures
    assert shown.alt == fig.alt_text and shown.png.startswith(PNG_MAGIC)
    # speaker notes: the segment's timing and talking points; the title slide the teaching notes
    assert figure_slide.notes[:2] == (
        "Segment 1 of 3: Lecture, 20 min, 0:00 to 0:20 of the session",
        "Write the scores on the board.",
    )
    assert "Say the formula aloud." in deck.slides[0].notes
    assert deck.slides[0].objectives == ("3.2.3", "3.2.5")  # in the syllabus' order
    # an activity's opening slide tells the class what to do; a lecture's does not
    assert deck.slides[4].lead == "Pairs draw two heads." and deck.slides[1].lead == ""
    # a code cell without a figure shows its code, as the site shows it (no solution markers)
    assert deck.slides[5].code.strip() == "heads = 2" and not deck.slides[5].figures
    assert deck.slides[6].lead == "Several heads in one paragraph, and no list."


def test_a_figure_without_alt_text_is_refused(lesson):
    les, nb = lesson
    png = base64.b64encode(_figure().png_bytes()).decode()
    bare = nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Fig>"})
    with pytest.raises(sl.SlideError, match=r"02_demo.py, cell 3: the figure has no alt text"):
        sl.make_deck(_outline(les, nb)[0], nb, _executed(nb, {3: [bare]}))


def test_an_executed_notebook_of_another_lesson_is_refused(lesson):
    les, nb = lesson
    other = nbformat.from_dict(nb)
    other.cells.append(nbformat.v4.new_code_cell("extra = 1"))
    with pytest.raises(sl.SlideError, match="has 4 code cells, the lesson 3"):
        sl.make_deck(_outline(les, nb)[0], nb, other)


def test_inline_markdown_leaves_math_to_mathjax():
    out = sl.inline_html("**a** $x_i * y_j < 1$ and *b*")
    assert out == "<strong>a</strong> $x_i * y_j &lt; 1$ and <em>b</em>"


def test_written_decks_are_offline_accessible_pages_with_notes(lesson, described, tmp_path):
    les, nb = lesson
    fig, output = described
    deck = sl.make_deck(_outline(les, nb)[0], nb, _executed(nb, {3: [output]}))
    out = tmp_path / "slides"
    [page] = sl.write_decks([deck], out)
    text = page.read_text()
    assert page == out / "3.2.html"
    assert '<html lang="en">' in text
    assert "<title>3.2 Demo lesson: lecture slides</title>" in text
    assert text.count("<section") == len(deck.slides)
    assert text.count('<aside class="notes">') == len(deck.slides)
    alt = re.search(r'<img src="3.2/figure-1.png" alt="([^"]*)"', text)
    assert alt is not None and alt[1] == fig.alt_text
    assert (out / "3.2" / "figure-1.png").read_bytes().startswith(PNG_MAGIC)
    assert "\\[s_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{d_k}}\\]" in text
    for name in sl.REVEAL_FILES:
        assert (out / sl.ASSETS / "reveal" / name).is_file(), name
    assert (out / sl.ASSETS / "mathjax" / "tex-chtml.js").is_file()
    assert offline.external_resources(out) == []
    assert 'href="3.2.html"' in (out / "index.html").read_text()


def test_coverage_counts_slides_only_when_given():
    lessons = [load(LESSONS_DIR / "02_self_attention.py")]
    without = cov.compute(lessons, None)
    assert all("slides" not in kinds for kinds in without.gaps().values())
    with_slides = cov.compute(lessons, None, slides={"3.2.3": [("3.2", "Scaled")]})
    gaps = with_slides.gaps()
    assert "3.2.3" in gaps and "slides" not in gaps["3.2.3"]
    assert "slides" in gaps["3.2.4"]
    page = cov.render_markdown(with_slides, lessons, {})
    assert '<a href="slides/3.2.html">3.2: Scaled</a>' in page


def test_every_objective_is_on_a_slide_of_the_course():
    lessons = load_all(LESSONS_DIR)
    notebooks = {x.name: read_notebook(x.path) for x in lessons}
    outlines = sl.outline(sl.deck_plans(), lessons, notebooks)
    assert [x.plan.id for x in outlines] == ["3.1", "3.2", "3.3", "3.4", "pretrained"]
    on_slides = sl.slide_coverage(outlines)
    assert sorted(on_slides) == sorted(objectives())
    assert all(x.sources for x in outlines)


def test_the_instructor_guide_links_each_topic_to_its_decks():
    guide = pages.instructor_guide([], None, {"3.4": [("Lab", "slides/3.4.html")]})
    topic = guide.split("## Topic 3.4", 1)[1].split("## Topic", 1)[0]
    assert '<a href="slides/3.4.html">Lab</a>' in topic
    assert "slides/" not in guide.split("## Topic 3.4", 1)[0]


def test_no_chromium_means_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html>")
    monkeypatch.setattr(sl, "find_chromium", lambda: None)
    with pytest.raises(RuntimeError, match="no Chromium found"):
        sl.print_pdfs(Path(tmp_path), ["3.1"])
    assert sl.cannot_print().startswith("no Chromium found")


def test_the_command_writes_only_decks_whose_lessons_exist_and_runs_no_other_lesson(tmp_path):
    # The fixture lessons teach no plan segment: no deck, no lesson executed, an index.
    result = CliRunner().invoke(
        app,
        [
            "slides",
            "--out",
            str(tmp_path / "out"),
            "--lessons",
            str(FIXTURE_LESSONS),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "executed" not in result.output and not (tmp_path / "cache" / "executed").exists()
    assert "<h1>Lecture slides</h1>" in (tmp_path / "out" / "index.html").read_text()


def test_the_command_refuses_a_file_as_its_output_folder(tmp_path):
    (tmp_path / "taken").write_text("x")
    result = CliRunner().invoke(app, ["slides", "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2 and "--out" in result.output
