"""A matplotlib figure that a notebook shows as an image, with no pyplot involved."""

from __future__ import annotations

import base64
import html
import io

from matplotlib.figure import Figure

from attention_lab.viz.describe import accessible_figure_html


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
    """A ``NotebookFigure`` that carries ``alt_text``: what it shows, in words, computed from the
    same data it draws. A notebook shows it as an ``<img>`` with that alt text (the course site
    keeps it), and ``print(fig.alt_text)`` reads it out."""

    alt_text: str = ""

    def png_bytes(self) -> bytes:
        return self._repr_png_()

    def data_uri(self) -> str:
        """The figure as a ``data:image/png;base64,...`` URI (for self-contained HTML pages)."""
        return "data:image/png;base64," + base64.b64encode(self.png_bytes()).decode("ascii")

    def img_html(self) -> str:
        """``<img>`` with the PNG inline and the alt text; it needs nothing else to display."""
        alt = html.escape(self.alt_text, quote=True)
        return f'<img src="{self.data_uri()}" alt="{alt}" style="max-width:100%">'

    def _repr_html_(self) -> str:
        """The PNG with its alt text, and the plotted numbers in a collapsed table below."""
        return accessible_figure_html(self, self.alt_text)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": self.alt_text}

    def savefig(self, fname, *args, **kwargs):  # type: ignore[override]
        """As ``Figure.savefig``; a PNG also stores ``alt_text`` in its ``Description`` field."""
        if self.alt_text and str(fname).lower().endswith(".png") and "metadata" not in kwargs:
            kwargs["metadata"] = {"Description": self.alt_text}
        return super().savefig(fname, *args, **kwargs)
