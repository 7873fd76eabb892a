"""Figures of the architecture, drawn by code: the encoder-decoder of Figure 1 of Vaswani et al.
2017, and the sinusoidal positional encoding of section 3.5 (the matrix, and how similar two
positions are as a function of their offset).

All functions return a ``NotebookFigure`` (a matplotlib Figure with no pyplot state that a
notebook shows as an image; nothing is shown or saved here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from attention_lab.nn.positional import sinusoidal_positional_encoding
from attention_lab.viz.figure import NotebookFigure

# The colours of Figure 1 of the paper, one per kind of box.
_COLOURS = {
    "embed": "#f6c9c4",
    "attn": "#f9d9a8",
    "norm": "#f1f2b8",
    "ffn": "#c5e3f6",
    "linear": "#d7d3f0",
    "softmax": "#c9eac3",
    "stack": "#eeeeee",
}
_BOX_W = 2.6  # width of a box, in data units
_BOX_H = 0.62  # height of a sublayer box
_NORM_H = 0.42  # height of an "Add & Norm" box


@dataclass
class _Box:
    label: str
    kind: str
    height: float
    add: bool = False  # a residual stream is added here


def _sublayer(label: str, kind: str, norm_first: bool) -> list[_Box]:
    """One sublayer with its residual connection: Add & Norm after it (the paper) or Norm before it
    and Add after it (pre-norm)."""
    if norm_first:
        return [
            _Box("LayerNorm", "norm", _NORM_H),
            _Box(label, kind, _BOX_H),
            _Box("Add", "norm", _NORM_H, add=True),
        ]
    return [_Box(label, kind, _BOX_H), _Box("Add & Norm", "norm", _NORM_H, add=True)]


def draw_transformer(
    num_layers: int = 6,
    *,
    norm_first: bool = False,
    d_model: int | None = None,
    num_heads: int | None = None,
    d_ff: int | None = None,
) -> NotebookFigure:
    """Figure 1 of Vaswani et al. 2017, drawn with matplotlib: the encoder stack (left) feeds its
    output to the cross-attention of every decoder layer (right).

    ``norm_first=True`` draws the pre-norm variant instead (LayerNorm before each sublayer, a final
    LayerNorm on top of each stack), the arrangement of The Annotated Transformer's code and of
    most models trained since. ``d_model``, ``num_heads``, ``d_ff`` are written on the figure when
    given.
    """
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers: expected an int >= 1, got {num_layers!r}")
    fig = NotebookFigure(figsize=(8.4, 10.5))
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, 10.6)
    ax.set_aspect("equal")
    ax.axis("off")

    enc_x, dec_x = 2.7, 7.4
    encoder = _sublayer("Multi-Head\nAttention", "attn", norm_first) + _sublayer(
        "Feed\nForward", "ffn", norm_first
    )
    decoder = (
        _sublayer("Masked\nMulti-Head Attention", "attn", norm_first)
        + _sublayer("Multi-Head\nAttention", "attn", norm_first)
        + _sublayer("Feed\nForward", "ffn", norm_first)
    )

    # inputs, embeddings and positional encodings
    for x, text, side in ((enc_x, "Inputs", -1), (dec_x, "Outputs\n(shifted right)", 1)):
        ax.text(x, 0.0, text, ha="center", va="center", fontsize=10)
        _box(ax, x, 1.0, _BOX_H, "Input\nEmbedding" if side < 0 else "Output\nEmbedding", "embed")
        _arrow(ax, (x, 0.3), (x, 1.0 - _BOX_H / 2))
        _arrow(ax, (x, 1.0 + _BOX_H / 2), (x, 1.83))
        ax.add_patch(Circle((x, 2.05), 0.22, facecolor="white", edgecolor="black", lw=1.2))
        ax.text(x, 2.05, "+", ha="center", va="center", fontsize=13)
        _positional_icon(ax, x + side * 1.05, 2.05)
        ax.text(
            x + side * 1.4,
            2.05,
            "Positional\nEncoding",
            ha="right" if side < 0 else "left",
            va="center",
            fontsize=8,
        )
        _arrow(ax, (x + side * 0.79, 2.05), (x + side * 0.22, 2.05))
        _arrow(ax, (x, 2.27), (x, 2.75 + 0.15))

    enc_top, _ = _draw_stack(ax, enc_x, 2.75, encoder, side=-1, num_layers=num_layers)
    dec_top, cross_y = _draw_stack(
        ax, dec_x, 2.75, decoder, side=1, num_layers=num_layers, cross_index=4 if norm_first else 2
    )
    if norm_first:  # pre-norm stacks end with one more LayerNorm, outside the repeated layer
        for x in (enc_x, dec_x):
            top = enc_top if x == enc_x else dec_top
            _arrow(ax, (x, top), (x, top + 0.3))
            _box(ax, x, top + 0.3 + _NORM_H / 2, _NORM_H, "LayerNorm", "norm")
        enc_top += 0.3 + _NORM_H
        dec_top += 0.3 + _NORM_H
    ax.text(enc_x - _BOX_W / 2 - 1.2, 2.9, "Encoder", ha="center", fontsize=9, style="italic")
    ax.text(dec_x + _BOX_W / 2 + 1.2, 2.9, "Decoder", ha="center", fontsize=9, style="italic")

    # the encoder's output becomes the keys and values of every decoder cross-attention
    bend_x, above = 5.05, enc_top + 0.35
    ax.plot([enc_x, enc_x, bend_x, bend_x], [enc_top, above, above, cross_y], color="black", lw=1.2)
    _arrow(ax, (bend_x, cross_y), (dec_x - _BOX_W / 2, cross_y))
    ax.text(bend_x + 0.08, cross_y + 0.08, "K, V", fontsize=8, ha="left", va="bottom")

    # output head
    y = dec_top + 0.55
    _arrow(ax, (dec_x, dec_top), (dec_x, y - _NORM_H / 2))
    _box(ax, dec_x, y, _NORM_H, "Linear", "linear")
    _arrow(ax, (dec_x, y + _NORM_H / 2), (dec_x, y + 0.7 - _NORM_H / 2))
    y += 0.7
    _box(ax, dec_x, y, _NORM_H, "Softmax", "softmax")
    _arrow(ax, (dec_x, y + _NORM_H / 2), (dec_x, y + 0.6))
    ax.text(dec_x, y + 0.65, "Output\nProbabilities", ha="center", va="bottom", fontsize=10)
    top = y + 1.5
    ax.set_ylim(-0.4, top + 0.5)
    fig.set_size_inches(8.4, 8.4 * (top + 0.9) / 11.2)

    title = "The Transformer (Vaswani et al. 2017, Figure 1)"
    if norm_first:
        title = "The Transformer, pre-norm variant (LayerNorm before each sublayer)"
    ax.set_title(title, fontsize=11)
    sizes = [f"N = {num_layers}"]
    for name, value in (("d_model", d_model), ("h", num_heads), ("d_ff", d_ff)):
        if value is not None:
            sizes.append(f"{name} = {value}")
    ax.text(-0.4, top + 0.3, ",  ".join(sizes), fontsize=9, ha="left", va="top", color="#444444")
    fig.tight_layout()
    return fig


def _draw_stack(
    ax, x: float, y0: float, boxes: Sequence[_Box], *, side: int, num_layers: int, cross_index=None
) -> tuple[float, float]:
    """Draw one N x stack from y0 up; residual branches on ``side`` (-1 left, +1 right).

    Returns the y of the stack's output and the y of box ``cross_index`` (the cross-attention).
    """
    gap = 0.3
    height = sum(b.height for b in boxes) + gap * (len(boxes) + 1)
    stack = FancyBboxPatch(
        (x - _BOX_W / 2 - 0.45, y0),
        _BOX_W + 0.9,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.2",
        facecolor=_COLOURS["stack"],
        edgecolor="black",
        lw=1.0,
    )
    ax.add_patch(stack)
    label_x = x + side * (_BOX_W / 2 + 0.75)
    ax.text(label_x, y0 + height / 2, f"{num_layers}×", ha="center", va="center", fontsize=12)

    y = y0 + gap
    branch_from = y - gap / 2  # where the residual stream leaves the main path
    cross_y = 0.0
    for i, box in enumerate(boxes):
        centre = y + box.height / 2
        _box(ax, x, centre, box.height, box.label, box.kind)
        if i == cross_index:
            cross_y = centre
        if box.add:
            # residual: from the input of the sublayer around it into the Add box
            rx = x + side * (_BOX_W / 2 + 0.22)
            ax.plot([x, rx], [branch_from, branch_from], color="black", lw=1.0)
            ax.plot([rx, rx], [branch_from, centre], color="black", lw=1.0)
            _arrow(ax, (rx, centre), (x + side * _BOX_W / 2, centre))
            branch_from = y + box.height + gap / 2
        top = y + box.height
        if i + 1 < len(boxes):
            _arrow(ax, (x, top), (x, top + gap))
        y = top + gap
    return y0 + height, cross_y


def _box(ax, x: float, y: float, height: float, label: str, kind: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_W / 2, y - height / 2),
            _BOX_W,
            height,
            boxstyle="round,pad=0.0,rounding_size=0.08",
            facecolor=_COLOURS[kind],
            edgecolor="black",
            lw=1.0,
        )
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=8.5)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color="black", lw=1.0)
    )


def _positional_icon(ax, x: float, y: float) -> None:
    ax.add_patch(Circle((x, y), 0.26, facecolor="white", edgecolor="black", lw=1.0))
    t = np.linspace(-0.2, 0.2, 50)
    ax.plot(x + t, y + 0.12 * np.sin(t * 2 * np.pi / 0.2), color="black", lw=0.9)


def plot_positional_encoding(T: int = 64, d_model: int = 128) -> NotebookFigure:
    """Heatmap of the ``(T, d_model)`` sinusoidal matrix of section 3.5: each row is one position.

    Low dimensions oscillate fast (wavelength 2π), high ones slowly (up to 10000·2π), so each row
    is a unique pattern and nearby rows look alike.
    """
    pe = sinusoidal_positional_encoding(T, d_model).numpy()  # (T, D)
    fig = NotebookFigure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    image = ax.imshow(pe, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xlabel("dimension (even: sin, odd: cos; frequency falls to the right)")
    ax.set_ylabel("position")
    ax.set_title(f"Sinusoidal positional encoding, T = {T}, d_model = {d_model}")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    return fig


def positional_similarity(T: int = 128, d_model: int = 128) -> np.ndarray:
    """Cosine similarity between the encodings of every pair of positions, ``(T, T)``.

    Every row of the matrix has norm ``sqrt(d_model / 2)`` and ``PE(p) · PE(q) =
    Σ_i cos(ω_i (q - p))``, so the similarity depends on the offset ``q - p`` only.
    """
    pe = sinusoidal_positional_encoding(T, d_model, dtype=torch.float64)  # (T, D)
    pe = pe / pe.norm(dim=-1, keepdim=True)
    return (pe @ pe.T).numpy()  # (T, D) @ (D, T) -> (T, T)


def plot_positional_similarity(
    T: int = 128, d_model: int = 128, anchors: Sequence[int] = (0, 32, 64, 96)
) -> NotebookFigure:
    """Two panels: the ``(T, T)`` cosine similarity between positions (constant along diagonals),
    and the similarity of a few anchor positions ``p`` with ``p + k`` against the offset ``k``:
    the curves of different anchors lie on top of each other, because the similarity is a
    function of the offset alone."""
    for p in anchors:
        if not 0 <= p < T:
            raise ValueError(f"anchors: expected positions in [0, {T}), got {p}")
    sim = positional_similarity(T, d_model)  # (T, T)
    fig = NotebookFigure(figsize=(10, 4.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    image = left.imshow(sim, cmap="viridis", vmin=-0.2, vmax=1.0)
    left.set_xlabel("position q")
    left.set_ylabel("position p")
    left.set_title("cos(PE(p), PE(q))")
    fig.colorbar(image, ax=left, fraction=0.046)
    for p in anchors:
        offsets = np.arange(T) - p
        right.plot(offsets, sim[p], lw=1.2, label=f"p = {p}")
    right.axhline(0, color="grey", lw=0.6)
    right.set_xlabel("offset k = q - p")
    right.set_ylabel("cosine similarity")
    right.set_title("similarity depends on the offset only")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
