"""Figures in words and in numbers: alt text and data tables computed from what a figure draws.

A screen reader cannot read a picture. WCAG 2.1 success criterion 1.1.1 (non-text content) asks
for a text alternative that serves the same purpose; for a chart that means what is plotted,
the trend and the values that matter, and the numbers themselves for whoever wants them
(W3C WAI, "Complex images" tutorial: a short description plus a data table).

- ``describe_matrix`` says, for a heatmap, where each row puts its largest value and which
  cells are strongest; ``matrix_table_html`` is the same matrix as an HTML table with row and
  column headers.
- ``describe_figure`` and ``figure_tables`` read any matplotlib figure's artists (lines, images,
  bars, scatter points, text of a diagram) and say the same from the drawn data, so a figure made
  with plain ``plt.plot`` in a lesson gets a real description instead of its file name.
- ``accessible_figure_html`` is the figure as ``<figure>``: the PNG with that alt text, and the
  numbers in a ``<details>`` element, collapsed by default.
- ``use_in_notebook`` makes IPython show every matplotlib figure that way (the course build turns
  it on in the kernels that execute the lessons).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure, FigureBase

from attention_lab.viz.tables import as_matrix

__all__ = [
    "accessible_figure_html",
    "check_names",
    "describe_figure",
    "describe_matrix",
    "figure_tables",
    "matrix_table_html",
    "numbers_details",
    "use_in_notebook",
]

MAX_TABLE_ROWS = 60  # a line with more points is shown every k-th point in its table
MAX_MATRIX = 64  # an image larger than this (rows or columns) is summarised, not tabulated


def _g(x: float) -> str:
    """A number as a reader wants to hear it: three significant digits."""
    x = float(x)
    if not np.isfinite(x):
        return "not a number" if np.isnan(x) else ("infinity" if x > 0 else "minus infinity")
    return f"{x:.3g}"


def check_names(arg: str, names: Sequence[str] | None, n: int, stem: str) -> list[str]:
    """``n`` names (default ``"stem 0"``, ``"stem 1"``, ...); ValueError naming ``arg`` else."""
    if names is None:
        return [f"{stem} {i}" for i in range(n)]
    if isinstance(names, str) or len(names) != n:
        got = repr(names) if isinstance(names, str) else f"{len(names)} names"
        raise ValueError(f"{arg}: expected {n} names (one per {stem}), got {got}")
    return [str(x) for x in names]


def describe_matrix(
    values: Any,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    what: str = "attention weights",
    row_role: str = "query",
    column_role: str = "key",
    max_rows: int = 12,
) -> str:
    """A heatmap in words: its size, for each row (up to ``max_rows``) the column with the
    largest value, and the strongest cells, all read from ``values`` ``(R, C)``.

    >>> describe_matrix([[0.9, 0.1], [0.3, 0.7]], ["a", "b"], ["a", "b"])  # doctest: +ELLIPSIS
    'Heatmap of attention weights: 2 rows (query) by 2 columns (key), values from 0.1 to 0.9. ...'
    """
    M = as_matrix("values", values)
    R, C = M.shape
    row_names = check_names("rows", rows, R, row_role)
    col_names = check_names("columns", columns, C, column_role)
    finite = M[np.isfinite(M)]
    if finite.size == 0:
        return (
            f"Heatmap of {what}: {R} rows ({row_role}) by {C} columns ({column_role}), no values."
        )
    parts = [
        f"Heatmap of {what}: {R} rows ({row_role}) by {C} columns ({column_role}), values from "
        f"{_g(finite.min())} to {_g(finite.max())}."
    ]
    if R <= max_rows:
        peaks = []
        for i in range(R):
            row = np.where(np.isfinite(M[i]), M[i], -np.inf)
            j = int(np.argmax(row))
            peaks.append(f"{row_names[i]} → {col_names[j]} ({_g(M[i, j])})")
        parts.append(
            f"Largest value in each row ({row_role} → {column_role}): " + "; ".join(peaks) + "."
        )
    flat = np.where(np.isfinite(M), M, -np.inf).ravel()
    top = np.argsort(-flat, kind="stable")[: min(3, flat.size)]
    cells = [f"{row_names[k // C]} → {col_names[k % C]} ({_g(flat[k])})" for k in top]
    parts.append("Strongest cells: " + "; ".join(cells) + ".")
    return " ".join(parts)


def matrix_table_html(
    values: Any,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    caption: str = "",
    corner: str = "",
    decimals: int = 3,
) -> str:
    """``values`` ``(R, C)`` as an HTML table: column headers (``scope="col"``), row headers
    (``scope="row"``), a caption, so a screen reader names the row and column of every cell."""
    M = as_matrix("values", values)
    row_names = check_names("rows", rows, M.shape[0], "row")
    col_names = check_names("columns", columns, M.shape[1], "column")
    esc = html.escape
    first = f'<th scope="col">{esc(corner)}</th>' if corner else "<td></td>"
    head = f"<tr>{first}" + "".join(f'<th scope="col">{esc(c)}</th>' for c in col_names)
    body = "".join(
        f'<tr><th scope="row">{esc(r)}</th>'
        + "".join(f"<td>{x:.{decimals}f}</td>" for x in row)
        + "</tr>"
        for r, row in zip(row_names, M)
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<table class="al-numbers">{cap}<thead>{head}</tr></thead><tbody>{body}</tbody></table>'


def _columns_table_html(columns: dict[str, Sequence[Any]], caption: str) -> str:
    """Columns of equal length (e.g. x and each line's y) as an HTML table."""
    esc = html.escape
    names = list(columns)
    n = len(columns[names[0]])
    head = "".join(f'<th scope="col">{esc(name)}</th>' for name in names)

    def cell(value: Any) -> str:
        return esc(value) if isinstance(value, str) else _g(value)

    body = "".join(
        "<tr>" + "".join(f"<td>{cell(columns[name][i])}</td>" for name in names) + "</tr>"
        for i in range(n)
    )
    return (
        f'<table class="al-numbers"><caption>{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def numbers_details(tables: Sequence[str], summary: str = "The numbers in this figure") -> str:
    """HTML tables inside ``<details>`` (collapsed by default); empty when there are none."""
    if not tables:
        return ""
    return (
        f'<details class="al-figure-numbers"><summary>{html.escape(summary)}</summary>'
        + "".join(tables)
        + "</details>"
    )


# --- reading a matplotlib figure -----------------------------------------------------------------


def _data_axes(fig: Figure) -> list[Axes]:
    """The axes that carry data, without colour bars (their scale is said with the image)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _axes_name(ax: Axes, index: int, count: int) -> str:
    title = ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right")
    if title:
        return f"Panel “{title}”" if count > 1 else f"“{title}”"
    return f"Panel {index + 1}" if count > 1 else "The plot"


def _tick_texts(labels: list, n: int) -> list[str] | None:
    texts = [t.get_text() for t in labels]
    return texts if len(texts) == n and all(texts) else None


def _trend(y: np.ndarray) -> str:
    finite = y[np.isfinite(y)]
    if finite.size < 2:
        return ""
    span = float(finite.max() - finite.min())
    change = float(finite[-1] - finite[0])
    if span == 0 or abs(change) < 0.1 * span:
        return "ends near where it starts"
    return "rises overall" if change > 0 else "falls overall"


def _lines(ax: Axes) -> list[tuple[str, np.ndarray, np.ndarray]]:
    found = []
    for k, line in enumerate(ax.get_lines()):
        try:
            x = np.asarray(line.get_xdata(), dtype=np.float64).ravel()
            y = np.asarray(line.get_ydata(), dtype=np.float64).ravel()
        except (TypeError, ValueError):  # categorical data: not numbers
            continue
        if x.size < 2 or x.size != y.size:
            continue  # a single point or a reference mark: said by the tick labels
        label = line.get_label()
        found.append((label if not label.startswith("_") else f"line {k + 1}", x, y))
    return found


def _describe_line(label: str, x: np.ndarray, y: np.ndarray, log_y: bool) -> str:
    finite = np.isfinite(y)
    if not finite.any():
        return f"{label}: no finite values"
    xs, ys = x[finite], y[finite]
    low, high = int(np.argmin(ys)), int(np.argmax(ys))
    scale = " (log scale)" if log_y else ""
    return (
        f"{label}: {xs.size} points for x from {_g(xs[0])} to {_g(xs[-1])}; y{scale} starts at "
        f"{_g(ys[0])} and ends at {_g(ys[-1])}, {_trend(ys)}; lowest {_g(ys[low])} at x = "
        f"{_g(xs[low])}, highest {_g(ys[high])} at x = {_g(xs[high])}"
    )


def _images(ax: Axes) -> list[np.ndarray]:
    found = []
    for image in ax.get_images():
        array = np.ma.filled(np.ma.asarray(image.get_array(), dtype=np.float64), np.nan)
        if array.ndim == 2:
            found.append(array)
    return found


def _bars(ax: Axes) -> list[tuple[str, list[str], np.ndarray]]:
    found = []
    for k, container in enumerate(c for c in ax.containers if isinstance(c, BarContainer)):
        vertical = container.orientation != "horizontal"
        heights = np.array([p.get_height() if vertical else p.get_width() for p in container])
        centres = [
            p.get_x() + p.get_width() / 2 if vertical else p.get_y() + p.get_height() / 2
            for p in container
        ]
        ticks = ax.get_xticks() if vertical else ax.get_yticks()
        labels = ax.get_xticklabels() if vertical else ax.get_yticklabels()
        by_tick = {round(float(t), 6): lab.get_text() for t, lab in zip(ticks, labels)}
        names = [by_tick.get(round(float(c), 6)) or _g(c) for c in centres]
        label = container.get_label()
        found.append((label if label and not label.startswith("_") else f"bars {k + 1}", names,
                      heights))  # fmt: skip
    return found


def _plain_text(text: str) -> str:
    """Matplotlib's mathtext as plain words: ``$W_{hh}$`` -> ``W_hh``, ``\\times`` -> ``times``."""
    text = re.sub(r"\\[,;:! ]", " ", text.replace("$", ""))
    return re.sub(r"\s+", " ", re.sub(r"[{}\\]", "", text)).strip()


def _describe_axes(ax: Axes, name: str) -> str:
    sentences = []
    xlabel, ylabel = ax.get_xlabel(), ax.get_ylabel()
    if xlabel or ylabel:
        sentences.append(f"x axis: {xlabel or 'unlabelled'}; y axis: {ylabel or 'unlabelled'}")
    # a diagram (axes hidden) draws its boxes and arrows with lines: say its labels only
    for label, x, y in _lines(ax) if ax.axison else []:
        sentences.append(_describe_line(label, x, y, ax.get_yscale() == "log"))
    for array in _images(ax):
        rows = _tick_texts(ax.get_yticklabels(), array.shape[0])
        cols = _tick_texts(ax.get_xticklabels(), array.shape[1])
        sentences.append(
            describe_matrix(
                array, rows, cols, what="values", row_role=ylabel or "row",
                column_role=xlabel or "column",
            )
        )  # fmt: skip
    for label, names, heights in _bars(ax):
        pairs = ", ".join(f"{n} {_g(h)}" for n, h in list(zip(names, heights))[:12])
        more = f" and {len(heights) - 12} more" if len(heights) > 12 else ""
        sentences.append(f"{label}: {len(heights)} bars: {pairs}{more}")
    for collection in ax.collections:
        offsets = np.asarray(collection.get_offsets(), dtype=np.float64)
        if offsets.ndim == 2 and offsets.shape[0] > 1 and offsets.shape[1] == 2:
            sentences.append(
                f"{offsets.shape[0]} points with x from {_g(offsets[:, 0].min())} to "
                f"{_g(offsets[:, 0].max())} and y from {_g(offsets[:, 1].min())} to "
                f"{_g(offsets[:, 1].max())}"
            )
    words = [_plain_text(t.get_text()) for t in ax.texts if _plain_text(t.get_text())]
    if words and not ax.get_images():
        shown = "; ".join(words[:20]) + (f"; and {len(words) - 20} more" if len(words) > 20 else "")
        sentences.append(f"labels drawn: {shown}")
    if not sentences:
        return ""
    return f"{name}. " + ". ".join(s.rstrip(".") for s in sentences) + "."


def describe_figure(fig: Figure) -> str:
    """What a matplotlib figure shows, in words, read from its artists: for each panel its title,
    axis labels, every line (start, end, trend, extremes), heatmap (largest value per row,
    strongest cells), bar values and scatter extent."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    axes = _data_axes(fig)
    panels = [_describe_axes(ax, _axes_name(ax, i, len(axes))) for i, ax in enumerate(axes)]
    panels = [p for p in panels if p]
    head = f"Figure “{title}”" if title else "Figure"
    if not panels:
        return f"{head} with no data to describe."
    count = f" with {len(panels)} panels" if len(panels) > 1 else ""
    return f"{head}{count}. " + " ".join(panels)


def figure_tables(fig: Figure) -> list[str]:
    """The numbers a matplotlib figure draws, as HTML tables (one per panel and kind)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    tables = []
    axes = _data_axes(fig)
    for index, ax in enumerate(axes):
        name = _axes_name(ax, index, len(axes))
        lines = _lines(ax)
        if lines:
            x0 = lines[0][1]
            shared = all(x.shape == x0.shape and np.array_equal(x, x0) for _, x, _ in lines)
            groups = [lines] if shared else [[line] for line in lines]
            for group in groups:
                x = group[0][1]
                every = max(1, int(np.ceil(x.size / MAX_TABLE_ROWS)))
                picked = np.unique(np.r_[np.arange(0, x.size, every), x.size - 1])
                columns = {ax.get_xlabel() or "x": x[picked]}
                for label, _, y in group:
                    columns[label] = y[picked]
                note = f", every {every}th point" if every > 1 else ""
                tables.append(_columns_table_html(columns, f"{name}: plotted values{note}"))
        for array in _images(ax):
            if max(array.shape) > MAX_MATRIX:
                continue
            rows = _tick_texts(ax.get_yticklabels(), array.shape[0])
            cols = _tick_texts(ax.get_xticklabels(), array.shape[1])
            tables.append(matrix_table_html(array, rows, cols, caption=f"{name}: cell values"))
        for label, names, heights in _bars(ax):
            tables.append(
                _columns_table_html({"bar": names, "value": list(heights)}, f"{name}: {label}")
            )
    return tables


def accessible_figure_html(fig: Figure, alt: str | None = None) -> str:
    """``<figure>``: the PNG (inline) with ``alt`` (default: ``describe_figure(fig)``), and the
    plotted numbers in a collapsed ``<details>`` below it."""
    text = alt if alt else describe_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure class="al-figure"><img src="{uri}" alt="{html.escape(text, quote=True)}" '
        f'style="max-width:100%">{numbers_details(figure_tables(fig))}</figure>'
    )


def use_in_notebook(shell: Any = None) -> None:
    """Make IPython show every matplotlib figure as ``accessible_figure_html`` (alt text and
    numbers), also those that ``plt.show()`` and the inline backend display. No-op outside
    IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None:
        return
    # Registered for FigureBase, not Figure: matplotlib's inline backend removes every formatter
    # of Figure itself when it is set up (select_figure_formats), which happens lazily at the first
    # figure; a formatter of the base class is found through Figure's MRO and stays.
    shell.display_formatter.formatters["text/html"].for_type(FigureBase, _figure_html_or_none)


def _figure_html_or_none(fig: FigureBase) -> str | None:
    """A figure's own ``alt_text`` (``DescribedFigure``) wins over the generic description."""
    if not isinstance(fig, Figure):
        return None
    return accessible_figure_html(fig, getattr(fig, "alt_text", None))
