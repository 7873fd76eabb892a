"""Reading lessons: discovery order, markers, and the errors a lesson author sees."""

from __future__ import annotations

import re

import pytest

from attention_lab.course.lessons import (
    LESSONS_DIR,
    LessonError,
    check_structure,
    discover,
    load,
    load_all,
    read_notebook,
)

LESSON = """
# %% [markdown]
# # Self-attention
#
# **Duration:** 2 - 2.5 hours
#
# **Learning objectives**
#
# - Understand the core components of the self-attention mechanism.

# %% [markdown]
# ## Queries, keys and values
# <!-- serves: 3.2.1 3.2.2 -->

# %%
x = 1

# %% [markdown]
# ## Try this
# <!-- hands-on: 3.2.1, 3.2.3 -->
# ### A subsection
# <!-- serves: 3.2.3 -->

# %% [markdown]
# ## Key takeaways
# - Q, K and V are linear maps of the input.
"""


def test_markers_are_read_with_their_section(write_lesson):
    lesson = load(write_lesson("02_self_attention.py", LESSON))
    assert lesson.name == "02_self_attention"
    assert lesson.title == "Self-attention"
    assert [(m.kind, m.objectives, m.section) for m in lesson.markers] == [
        ("serves", ("3.2.1", "3.2.2"), "Queries, keys and values"),
        ("hands-on", ("3.2.1", "3.2.3"), "Try this"),
        ("serves", ("3.2.3",), "A subsection"),
    ]
    assert lesson.served("serves") == {"3.2.1", "3.2.2", "3.2.3"}
    assert lesson.served("hands-on") == {"3.2.1", "3.2.3"}


def test_discover_orders_by_number_and_ignores_other_files(write_lesson):
    write_lesson("10_later.py", LESSON)
    write_lesson("02_self_attention.py", LESSON)
    write_lesson("helpers.py", "x = 1\n")
    write_lesson("_draft.py", "x = 1\n")
    (write_lesson.folder / "notes.md").write_text("# notes\n")
    assert [p.name for p in discover(write_lesson.folder)] == [
        "02_self_attention.py",
        "10_later.py",
    ]
    assert [x.number for x in load_all(write_lesson.folder)] == ["02", "10"]


def test_two_lessons_with_one_number_are_refused(write_lesson):
    write_lesson("02_a.py", LESSON)
    write_lesson("02_b.py", LESSON)
    with pytest.raises(
        LessonError, match=r"lessons_dir: two lessons share the number 02: 02_a.py and 02_b.py"
    ):
        discover(write_lesson.folder)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(
        LessonError, match=r"lessons_dir: expected a folder of lessons, got '.*nowhere'"
    ):
        discover(tmp_path / "nowhere")


def test_bad_lesson_name(write_lesson):
    path = write_lesson("Self_Attention.py", LESSON)
    with pytest.raises(
        LessonError, match=r"path: expected a lesson named NN_slug.py .* got 'Self_Attention.py'"
    ):
        load(path)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "<!-- serves: 3.9.9 -->",
            r"names objective '3.9.9', which the syllabus does not have; expected one of 3.1.1",
        ),
        ("<!-- hands-on: three -->", r"names objective 'three'"),
        ("<!-- serves: -->", r"lists no objective id; expected ids such as 3.2.3"),
        (
            "<!-- serve: 3.2.1 -->",
            r"marker '<!-- serve: 3.2.1 -->' is misspelt; expected '<!-- serves: 3.2.3 -->'",
        ),
        ("<!-- hands_on: 3.2.1 -->", r"is misspelt"),
    ],
)
def test_bad_markers_name_the_lesson_cell_and_marker(write_lesson, marker, message):
    path = write_lesson("03_x.py", f"# %% [markdown]\n# # Title\n# {marker}\n")
    with pytest.raises(LessonError, match=r"03_x.py, cell 0: .*" + message):
        load(path)


def test_structure_check_accepts_a_conventional_lesson(write_lesson):
    path = write_lesson("02_self_attention.py", LESSON)
    assert check_structure(load(path), read_notebook(path)) == []


def test_structure_check_names_what_is_missing(write_lesson):
    path = write_lesson("05_bare.py", "# %%\nx = 1\n\n# %% [markdown]\n# Some text\n")
    problems = check_structure(load(path), read_notebook(path))
    assert problems == [
        "05_bare.py: the first cell should be markdown with the title",
        "05_bare.py: the lesson does not end with 'Key takeaways'",
    ]
    path = write_lesson(
        "06_partial.py", "# %% [markdown]\n# # T\n\n# %% [markdown]\n# ## Key takeaways\n"
    )
    problems = check_structure(load(path), read_notebook(path))
    assert problems == [
        "06_partial.py: the opening cell lists no 'Learning objectives'",
        "06_partial.py: the opening cell gives no duration",
    ]


def test_a_marker_above_the_cells_heading_belongs_to_that_heading(write_lesson):
    path = write_lesson(
        "02_x.py",
        """
        # %% [markdown]
        # ## First
        # text

        # %% [markdown]
        # <!-- serves: 3.2.1 -->
        # ## Second
        # <!-- hands-on: 3.2.2 -->

        # %% [markdown]
        # More of the second section.
        # <!-- hands-on: 3.2.3 -->
        """,
    )
    assert [(m.objectives, m.section) for m in load(path).markers] == [
        (("3.2.1",), "Second"),
        (("3.2.2",), "Second"),
        (("3.2.3",), "Second"),
    ]


def test_site_labels_markers_below_the_heading_they_serve():
    from attention_lab.course.site import _with_badges
    from attention_lab.objectives import objectives

    source = "<!-- serves: 3.2.1 -->\n## Queries\nText <!-- hands-on: 3.2.2 -->"
    lines = _with_badges(source, objectives()).splitlines()
    assert lines[0] == "<!-- serves: 3.2.1 -->" and lines[1] == "## Queries"
    assert lines[3].startswith(
        '<p class="al-badges"><span class="al-objectives" title="3.2.1 Understand'
    )
    assert lines[3].endswith(">Objectives 3.2.1</span></p>")
    assert lines[5].startswith('Text <!-- hands-on: 3.2.2 --><span class="al-hands-on"')


# --- code width ------------------------------------------------------------------------------

# The site's code column at a 1280-pixel window holds this many characters; the formatter wraps
# the lessons to it (lessons/ruff.toml), and tests/course/test_site.py checks on every built lesson
# page that no code block is wider than its column.
CODE_COLUMNS = int(
    re.search(r"^line-length = (\d+)$", (LESSONS_DIR / "ruff.toml").read_text(), re.M).group(1)
)


def test_every_code_line_of_the_lessons_fits_the_sites_code_column():
    too_long = [
        f"{path.name}, cell {i}: {len(line)} characters: {line.strip()[:40]}..."
        for path in sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
        for i, cell in enumerate(read_notebook(path).cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMNS
    ]
    assert CODE_COLUMNS == 75
    assert too_long == [], f"wider than the site's {CODE_COLUMNS} columns:\n" + "\n".join(too_long)
