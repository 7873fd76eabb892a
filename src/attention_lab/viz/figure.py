"""A matplotlib figure that a notebook shows as an image, with no pyplot involved."""

from __future__ import annotations

import base64
import html
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


class DescribedFigure(NotebookFigure):
    """A ``NotebookFigure`` that carries a text description (``alt_text``) of what it shows.

    A notebook shows it as an HTML ``<img>`` with that ``alt`` text, so a screen reader (and a
    text-only export) says what the figure shows; ``savefig`` to PNG stores it in the file's
    ``Description`` field. Set ``fig.alt_text`` after drawing, computed from the same data.
    """

    alt_text = ""

    def _repr_html_(self) -> str:
        data = base64.b64encode(self._repr_png_()).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt_text)}"/>'

    def savefig(self, fname, *args, **kwargs):  # type: ignore[override]
        if self.alt_text and str(fname).lower().endswith(".png") and "metadata" not in kwargs:
            kwargs["metadata"] = {"Description": self.alt_text}
        return super().savefig(fname, *args, **kwargs)
