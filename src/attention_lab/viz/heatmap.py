"""Attention weights as heatmaps: row = query token, column = key token, colour = weight.

Reading one: row i shows where query token i looks; a bright cell (i, j) means token i's output
takes the largest share of its weighted average from v_j (Vaswani et al. 2017, section 3.2; Clark
et al. 2019, "What Does BERT Look At?", for reading heads this way). A weight is not a
contribution: value norms, W_o and the residual path matter too (Jain and Wallace 2019).

Shape legend: L layers, H heads, T_q query tokens, T_k key tokens.

- ``plot_attention`` draws one ``(T_q, T_k)`` matrix with matplotlib (for print and figures).
- ``interactive_attention`` draws ``(T_q, T_k)``, ``(H, T_q, T_k)`` or ``(L, H, T_q, T_k)`` with
  plotly: a head selector (and layer selector), hover showing query token, key token and weight.
- ``figure_html`` and ``show`` embed plotly.js so the figure works offline; set the environment
  variable ``ATTENTION_LAB_PLOTLYJS`` to the path or URL of a local ``plotly.min.js`` to reference
  one shared copy instead of embedding it in every figure.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from attention_lab.viz.describe import check_names, describe_matrix
from attention_lab.viz.tables import to_float64

PLOTLYJS_ENV = "ATTENTION_LAB_PLOTLYJS"


def _as_array(weights: Any, dims: tuple[int, ...]) -> np.ndarray:
    array = to_float64("weights", weights)
    if array.ndim not in dims:
        shapes = " or ".join(
            {2: "(T_q, T_k)", 3: "(H, T_q, T_k)", 4: "(L, H, T_q, T_k)"}[d] for d in dims
        )
        raise ValueError(f"weights: expected shape {shapes}, got {tuple(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError("weights: expected finite numbers, got NaN or inf")
    return array


def _check_tokens(name: str, tokens: Sequence[str] | None, n: int, axis: str) -> list[str]:
    if tokens is None:
        return [str(i) for i in range(n)]
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"{name}: expected a list of {n} strings, got {type(tokens).__name__}")
    if len(tokens) != n:
        raise ValueError(
            f"{name}: expected {n} tokens to match the {axis} of weights, got {len(tokens)}"
        )
    return [str(t) for t in tokens]


def plot_attention(
    weights: Any,
    query_tokens: Sequence[str] | None,
    key_tokens: Sequence[str] | None = None,
    ax: Any = None,
    title: str | None = None,
):
    """Draw a ``(T_q, T_k)`` attention matrix as a heatmap; returns the matplotlib Axes.

    ``key_tokens`` defaults to ``query_tokens`` (self-attention). Cells carry their weight as text
    when the matrix is small enough to read (at most 8 x 8).
    """
    import matplotlib.pyplot as plt

    W = _as_array(weights, (2,))
    T_q, T_k = W.shape
    rows = _check_tokens("query_tokens", query_tokens, T_q, "rows (T_q)")
    cols = _check_tokens("key_tokens", key_tokens if key_tokens is not None else query_tokens,
                         T_k, "columns (T_k)")  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * T_k + 2.2, 0.45 * T_q + 1.4))
    image = ax.imshow(W, cmap="viridis", vmin=0.0, vmax=max(float(W.max()), 1e-9), aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight")
    ax.set_xticks(range(T_k), cols, rotation=60, ha="right")
    ax.set_yticks(range(T_q), rows)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    if title:
        ax.set_title(title)
    if T_q <= 8 and T_k <= 8:
        threshold = 0.6 * float(W.max())
        for i in range(T_q):
            for j in range(T_k):
                colour = "black" if W[i, j] > threshold else "white"
                ax.text(j, i, f"{W[i, j]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    return ax


def interactive_attention(
    weights: Any,
    tokens: Sequence[str] | None,
    key_tokens: Sequence[str] | None = None,
    layer_names: Sequence[str] | None = None,
    head_names: Sequence[str] | None = None,
    title: str | None = None,
):
    """An interactive plotly heatmap of ``(T_q, T_k)``, ``(H, T_q, T_k)`` or ``(L, H, T_q, T_k)``.

    One heatmap per (layer, head), one shown at a time: buttons pick the head when there is one
    layer, a dropdown picks "layer, head" when there are several. Hovering a cell shows the query
    token, the key token and the weight. Positions are numeric axes labelled with the tokens, so
    repeated tokens keep their own rows and columns.
    """
    import plotly.graph_objects as go

    W = _as_array(weights, (2, 3, 4))
    W = W.reshape((1,) * (4 - W.ndim) + W.shape)  # -> (L, H, T_q, T_k)
    L, H, T_q, T_k = W.shape
    rows = _check_tokens("tokens", tokens, T_q, "rows (T_q)")
    cols = _check_tokens("key_tokens", key_tokens if key_tokens is not None else tokens, T_k,
                         "columns (T_k)")  # fmt: skip
    layers = check_names("layer_names", layer_names, L, "layer")
    heads = check_names("head_names", head_names, H, "head")
    # customdata[i][j] = (query token, key token) for the hover text
    hover = np.empty((T_q, T_k, 2), dtype=object)
    hover[..., 0] = np.array(rows, dtype=object)[:, None]
    hover[..., 1] = np.array(cols, dtype=object)[None, :]
    fig = go.Figure()
    labels = []
    for layer in range(L):
        for head in range(H):
            label = heads[head] if L == 1 else f"{layers[layer]}, {heads[head]}"
            labels.append(label)
            fig.add_trace(
                go.Heatmap(
                    z=W[layer, head].tolist(),  # plain JSON numbers, not base64 (read by JS)
                    x=list(range(T_k)),
                    y=list(range(T_q)),
                    customdata=hover,
                    zmin=0.0,
                    zmax=max(float(W.max()), 1e-9),
                    colorscale="Viridis",
                    colorbar={"title": {"text": "weight"}},
                    hovertemplate="query: %{customdata[0]}<br>key: %{customdata[1]}"
                    "<br>weight: %{z:.3f}<extra></extra>",
                    name=label,
                    visible=not labels[:-1],
                )
            )
    n = len(labels)
    buttons = [
        {"label": label, "method": "update",
         "args": [{"visible": [k == i for k in range(n)]}, {"title.text": _title(title, label)}]}
        for i, label in enumerate(labels)
    ]  # fmt: skip
    menus = []
    if n > 1:
        menus.append({
            "type": "buttons" if L == 1 else "dropdown",
            "direction": "right" if L == 1 else "down",
            "buttons": buttons, "active": 0, "showactive": True,
            "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
        })  # fmt: skip
    fig.update_layout(
        title={"text": _title(title, labels[0] if n > 1 else None), "y": 0.98},
        updatemenus=menus,
        xaxis={"title": {"text": "key"}, "tickmode": "array", "tickvals": list(range(T_k)),
               "ticktext": cols, "side": "bottom"},
        yaxis={"title": {"text": "query"}, "tickmode": "array", "tickvals": list(range(T_q)),
               "ticktext": rows, "autorange": "reversed"},
        margin={"t": 110},
        width=max(420, 34 * T_k + 260),
        height=max(380, 30 * T_q + 220),
    )  # fmt: skip
    return fig


def _title(title: str | None, selected: str | None) -> str:
    base = title or "attention weights"
    return f"{base}: {selected}" if selected else base


def describe_interactive(fig: Any) -> str:
    """An interactive heatmap in words, read from its traces: how many heatmaps it holds, and the
    one shown first (largest weight per query, strongest cells; see ``describe_matrix``)."""
    traces = [t for t in fig.data if t.type == "heatmap"]
    if not traces:
        raise ValueError("fig: expected a plotly figure with at least one heatmap trace, got none")
    shown = next((t for t in traces if t.visible is not False), traces[0])
    z = np.asarray(shown.z, dtype=np.float64)
    rows = list(fig.layout.yaxis.ticktext or []) or None
    cols = list(fig.layout.xaxis.ticktext or []) or None
    rows = rows if rows and len(rows) == z.shape[0] else None
    cols = cols if cols and len(cols) == z.shape[1] else None
    text = describe_matrix(z, rows, cols)
    if len(traces) > 1:
        text = (
            f"{len(traces)} heatmaps, one shown at a time (the menu picks one). "
            f"Shown first, {shown.name}: {text}"
        )
    return text


def _keys_script() -> str:
    return resources.files("attention_lab.viz").joinpath("heatmap_keys.js").read_text()


def figure_html(fig: Any, full_html: bool = True) -> str:
    """The figure as HTML that works offline: plotly.js embedded, or the local copy named by
    ``ATTENTION_LAB_PLOTLYJS`` (a path or URL ending in ``.js``) referenced in a script tag.

    Around the plot: a caption saying what it shows (``describe_interactive``), keyboard access
    (arrow keys read each cell aloud through a live region, a ``<select>`` for the head) and
    the shown heatmap's numbers in a collapsed table (``heatmap_keys.js``)."""
    source = os.environ.get(PLOTLYJS_ENV)
    include: bool | str = True
    if source:
        if not source.endswith(".js"):
            raise ValueError(
                f"{PLOTLYJS_ENV}: expected the path or URL of a local plotly .js file, got {source!r}"
            )
        include = source
    div_id = "al-heatmap-" + uuid.uuid4().hex[:10]
    plot = fig.to_html(
        full_html=False,
        include_plotlyjs=include,
        include_mathjax=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    description = html.escape(describe_interactive(fig))
    fragment = (
        f'<figure class="al-plot" role="group" aria-labelledby="{div_id}-caption">'
        f'<figcaption id="{div_id}-caption" class="al-plot-caption">{description}</figcaption>'
        f"{plot}"
        f'<p class="al-heatmap-live" id="{div_id}-live" aria-live="polite">Keyboard: Tab to '
        "the heatmap, then the arrow keys move from cell to cell and read its weight.</p>"
        f'<details class="al-figure-numbers"><summary>The numbers of the heatmap shown</summary>'
        f'<div id="{div_id}-numbers"></div></details></figure>'
        f"<script>{_keys_script()}\nalHeatmapKeys(document.getElementById({div_id!r}), "
        f"{{live: document.getElementById('{div_id}-live'), "
        f"table: document.getElementById('{div_id}-numbers'), "
        f"label: 'attention heatmap'}});</script>"
    )
    if not full_html:
        return fragment
    title = html.escape(fig.layout.title.text or "attention weights")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><main>{fragment}</main></body></html>\n"
    )


def show(fig: Any):
    """Display a plotly figure in a notebook (offline): returns an ``IPython.display.HTML``."""
    from IPython.display import HTML

    return HTML(figure_html(fig, full_html=False))
