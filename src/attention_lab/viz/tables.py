"""Matrices as labelled tables: token names on the rows, feature or token names on the columns.

Lessons show matrices this way instead of numpy's printing, which loses the labels and wraps
wide rows (STYLE.md, "Figures and pages"). ``matrix_table`` returns an object that a notebook shows
as an HTML table and ``print`` shows as aligned text.

Matplotlib drawings of the same tables (for diagrams) are :func:`draw_matrix`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.patches import Rectangle

__all__ = ["LabelledTable", "draw_matrix", "matrix_table", "number_text"]


def number_text(x: float, decimals: int = 2, whole: bool = False) -> str:
    """``3`` for whole numbers (when the whole table is), else ``x`` with ``decimals`` decimals."""
    return str(round(float(x))) if whole else f"{x:.{decimals}f}"


def to_float64(name: str, value: Any, what: str = "a tensor or array of numbers") -> np.ndarray:
    """``value`` (tensor, array or nested list) as a float64 array; TypeError naming ``name``."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().double().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__}") from None


def as_matrix(name: str, M: Any) -> np.ndarray:
    """``M`` (tensor, array or nested list) as a 2-D float64 array; TypeError/ValueError else."""
    array = to_float64(name, M, "a 2-D table of numbers")
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D table (rows, columns), got shape {array.shape}")
    return array


def check_labels(name: str, labels: Sequence[str] | None, n: int, stem: str) -> list[str]:
    """``labels`` as ``n`` strings (default ``stem1 .. stemn``); TypeError/ValueError else."""
    if labels is None:
        return [f"{stem}{j + 1}" for j in range(n)]
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{name}: expected a list of {n} labels, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{name}: expected {n} labels to match the table, got {len(labels)}")
    return [str(label) for label in labels]


@dataclass(frozen=True, repr=False)
class LabelledTable:
    """A matrix with names on its rows and columns: HTML in a notebook or on the site, aligned
    text in ``print``, ``display`` in a terminal and the interactive prompt."""

    values: np.ndarray  # (rows, columns)
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    decimals: int = 2
    caption: str = ""
    corner: str = ""

    @property
    def whole(self) -> bool:
        return bool(np.all(self.values == np.round(self.values)))

    def cells(self) -> list[list[str]]:
        return [[number_text(x, self.decimals, self.whole) for x in row] for row in self.values]

    def __str__(self) -> str:
        cells = self.cells()
        width = max([len(c) for row in cells for c in row] + [len(c) for c in self.columns])
        label = max([len(r) for r in self.rows] + [len(self.corner)])
        lines = [self.caption] if self.caption else []
        lines.append(
            self.corner.ljust(label) + "  " + " ".join(c.rjust(width) for c in self.columns)
        )
        for name, row in zip(self.rows, cells):
            lines.append(name.ljust(label) + "  " + " ".join(c.rjust(width) for c in row))
        return "\n".join(lines)

    def __repr__(self) -> str:  # what a terminal shows for display(table) or a bare `table`
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        # an empty corner is a plain cell: a header must name something (WCAG 1.3.1)
        corner = f"<th>{esc(self.corner)}</th>" if self.corner else "<td></td>"
        head = f"<tr>{corner}" + "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "".join(
            f"<tr><th>{esc(r)}</th>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
            for r, row in zip(self.rows, self.cells())
        )
        caption = f"<caption>{esc(self.caption)}</caption>" if self.caption else ""
        return (
            f'<table class="labelled-matrix" style="text-align:right">{caption}'
            f"<thead>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def matrix_table(
    M: Any,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    decimals: int = 2,
    caption: str = "",
    corner: str = "",
) -> LabelledTable:
    """``M`` ``(R, C)`` as a table with ``rows`` (e.g. the tokens) and ``columns`` as labels.

    Labels default to ``r1..`` and ``c1..``. Whole-number tables print without decimals.
    """
    values = as_matrix("M", M)
    row_names = check_labels("rows", rows, values.shape[0], "r")
    col_names = check_labels("columns", columns, values.shape[1], "c")
    return LabelledTable(values, tuple(row_names), tuple(col_names), decimals, caption, corner)


def draw_matrix(
    ax: Any,
    left: float,
    top: float,
    table: LabelledTable,
    *,
    blank: bool = False,
    highlight_row: int | None = None,
    outline: str | None = None,
    cell: tuple[float, float] = (0.62, 0.42),
    fontsize: float = 8.5,
    cmap: str | None = None,
) -> tuple[float, float, float, float]:
    """Draw ``table`` on ``ax`` with its top-left cell corner at ``(left, top)`` (y grows up).

    ``blank`` leaves the cells empty (a worksheet); ``highlight_row`` shades one row (one query's
    path); ``outline`` draws a coloured frame (a matrix the highlighted row uses in full);
    ``cmap`` (e.g. "viridis") colours each cell by its value, from the table's minimum to maximum.
    Returns the bounding box ``(x0, x1, y_bottom, y_top)`` of the cells, for arrows.
    """
    w, h = cell
    n_rows, n_cols = table.values.shape
    cells = table.cells()
    low, high = float(table.values.min()), float(table.values.max())
    colours = colormaps[cmap] if cmap else None
    for i in range(n_rows):
        y = top - (i + 1) * h
        ax.text(left - 0.08, y + h / 2, table.rows[i], ha="right", va="center", fontsize=fontsize)
        for j in range(n_cols):
            shade, ink = ("#fde9c8" if i == highlight_row else "white"), "black"
            if colours is not None:
                level = (table.values[i, j] - low) / max(high - low, 1e-12)
                shade, ink = colours(level), ("white" if level < 0.55 else "black")
            ax.add_patch(Rectangle((left + j * w, y), w, h, facecolor=shade, edgecolor="#555"))
            if not blank:
                ax.text(
                    left + (j + 0.5) * w, y + h / 2, cells[i][j], ha="center", va="center",
                    fontsize=fontsize, color=ink,
                )  # fmt: skip
    for j, name in enumerate(table.columns):
        ax.text(left + (j + 0.5) * w, top + 0.08, name, ha="center", va="bottom", fontsize=7.5,
                color="#555")  # fmt: skip
    if table.caption:
        ax.text(left + n_cols * w / 2, top + 0.38, table.caption, ha="center", va="bottom",
                fontsize=fontsize + 1, weight="bold")  # fmt: skip
    if outline:
        ax.add_patch(
            Rectangle((left, top - n_rows * h), n_cols * w, n_rows * h, fill=False,
                      edgecolor=outline, lw=2.2)
        )  # fmt: skip
    return left, left + n_cols * w, top - n_rows * h, top
