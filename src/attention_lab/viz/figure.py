"""A matplotlib figure that a notebook shows as an image, with no pyplot involved."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """``matplotlib.figure.Figure`` that Jupyter shows as a PNG when it ends a cell.

    A plain ``Figure`` made without pyplot shows up in a notebook as the text
    ``<Figure size 640x480 with 1 Axes>`` unless pyplot has already drawn something in that
    kernel. This one carries its own ``_repr_png_``, so it is shown either way; scripts save it
    with ``savefig`` as usual, and no pyplot state keeps it alive.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
