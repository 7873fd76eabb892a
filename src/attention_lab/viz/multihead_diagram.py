"""Multi-head attention drawn from a real ``MultiHeadAttention`` on a real sentence.

    MultiHead(X) = Concat(head_1, ..., head_H) W_o,   head_h = Attention(X W_q^h, X W_k^h, X W_v^h)

(Vaswani et al. 2017, section 3.2.2.) :func:`multihead_parts` runs the module's own weights step
by step (project, split into H heads of d_k = D / H columns, attend per head, concatenate, W_o)
and checks that the result is what the module itself returns; :func:`draw_multihead` draws every
part as a labelled table with its shape, and its alt text says, from the same numbers, where each
head's weight goes.

Shape legend: T tokens, D = d_model, H heads, d_k = D // H.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch
from torch import Tensor

from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.multihead import MultiHeadAttention
from attention_lab.viz.figure import DescribedFigure
from attention_lab.viz.tables import check_labels, draw_matrix, matrix_table

__all__ = ["MultiHeadParts", "draw_multihead", "multihead_alt", "multihead_parts"]


@dataclasses.dataclass(frozen=True)
class MultiHeadParts:
    """Every intermediate of one multi-head self-attention call on one sentence (float64 numpy)."""

    tokens: tuple[str, ...]
    x: np.ndarray  # (T, D) the input rows
    weights: np.ndarray  # (H, T, T) each head's softmax weights
    heads: np.ndarray  # (H, T, d_k) each head's output
    concat: np.ndarray  # (T, D) the heads side by side
    output: np.ndarray  # (T, D) concat W_o

    @property
    def num_heads(self) -> int:
        return self.weights.shape[0]


@torch.no_grad()
def multihead_parts(mha: MultiHeadAttention, x: Tensor, tokens: Sequence[str]) -> MultiHeadParts:
    """Run ``mha`` on one sentence ``x`` ``(T, D)`` part by part; ``tokens`` name its rows."""
    if not isinstance(mha, MultiHeadAttention):
        raise TypeError(f"mha: expected a MultiHeadAttention, got {type(mha).__name__}")
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != mha.d_model:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x: expected a tensor of shape (T, d_model={mha.d_model}), got {got}")
    names = check_labels("tokens", tokens, x.shape[0], "t")
    T, H, d_k = x.shape[0], mha.num_heads, mha.d_k
    x = x.to(mha.W_q.weight.dtype)[None]  # (1, T, D)
    # 1) project, 2) split D into H heads of d_k columns each
    q, k, v = (W(x).view(1, T, H, d_k).transpose(1, 2) for W in (mha.W_q, mha.W_k, mha.W_v))
    # 3) each head attends on its own: (1, H, T, d_k), (1, H, T, T)
    heads, weights = scaled_dot_product_attention(q, k, v)
    # 4) concatenate: head h fills columns h*d_k .. (h+1)*d_k - 1; 5) mix with W_o
    concat = heads.transpose(1, 2).reshape(1, T, H * d_k)  # (1, H, T, d_k) -> (1, T, D)
    output = mha.W_o(concat)  # (1, T, D) @ (D, D) -> (1, T, D)
    torch.testing.assert_close(output, mha.eval()(x, x, x))  # the module computes the same
    as_np = lambda t: t[0].double().cpu().numpy()  # noqa: E731
    return MultiHeadParts(
        tuple(names), as_np(x), as_np(weights), as_np(heads), as_np(concat), as_np(output)
    )


def multihead_alt(parts: MultiHeadParts) -> str:
    """The figure in words: the shapes, and where each head's weight goes on average."""
    T, D = parts.x.shape
    H, d_k = parts.num_heads, parts.heads.shape[-1]
    text = [
        f"Multi-head self-attention on '{' '.join(parts.tokens)}': X ({T} x {D}) is projected and "
        f"split into {H} heads of d_k = {d_k}; each head computes its own {T} x {T} weights and a "
        f"{T} x {d_k} output; the {H} outputs side by side make a {T} x {D} concatenation, which "
        f"W_o ({D} x {D}) mixes into the {T} x {D} output."
    ]
    for h in range(H):
        w = parts.weights[h]
        diagonal = float(np.trace(w)) / T
        top = np.argmax(w, axis=1)
        pairs = ", ".join(f"{parts.tokens[i]}->{parts.tokens[j]}" for i, j in enumerate(top))
        text.append(
            f" Head {h + 1}: mean weight on the token itself {diagonal:.2f}, largest weight of "
            f"each row {w.max(axis=1).mean():.2f} on average; each query's top key: {pairs}."
        )
    return "".join(text)


def _arrow(ax, start, end, text: str = "") -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333", lw=1.2)
    )
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.1, text, ha="center",
                va="bottom", fontsize=8)  # fmt: skip


def draw_multihead(parts: MultiHeadParts) -> DescribedFigure:
    """The split, each head's attention, the concatenation and W_o, as labelled tables.

    Left: X. Middle, one row per head: its weights (coloured, viridis) and its output. Right: the
    concatenation and the output after W_o. Every caption gives the shape.
    """
    if not isinstance(parts, MultiHeadParts):
        raise TypeError(f"parts: expected MultiHeadParts (from multihead_parts), got {parts!r:.60}")
    T, D = parts.x.shape
    H, d_k = parts.num_heads, parts.heads.shape[-1]
    tokens = list(parts.tokens)
    dims = [f"{j + 1}" for j in range(D)]
    cw, ch, gap = 0.62, 0.38, 2.3
    small = {"cell": (cw, ch), "fontsize": 7}
    block = T * ch + 1.3  # one head's row of tables
    bottom = T * ch + 1.2  # the concatenation and W_o, below the heads
    height = H * block + bottom + 0.6
    width = 0.7 + D * cw + gap + T * cw + gap + d_k * cw + 0.3
    fig = DescribedFigure(figsize=(0.62 * width, 0.62 * height + 0.3))
    ax = fig.add_subplot()
    heads_top = height - 0.8
    mid_y = heads_top - (H * block - 1.3) / 2 + T * ch / 2
    x_box = draw_matrix(
        ax, 0.7, mid_y, matrix_table(parts.x, tokens, dims, caption=f"X ({T} x {D})"), **small
    )
    x_w = x_box[1] + gap
    heads_left = x_w + T * cw + gap
    concat_top = bottom - 0.5
    mid = lambda b: (b[2] + b[3]) / 2  # noqa: E731
    for h in range(H):
        top = heads_top - h * block
        cols = [f"h{h + 1}.{j + 1}" for j in range(d_k)]
        caption = f"head {h + 1}: softmax(Q{h + 1} K{h + 1}ᵀ/√{d_k}) ({T} x {T})"
        w_box = draw_matrix(
            ax, x_w, top, matrix_table(parts.weights[h], tokens, tokens, caption=caption),
            cmap="viridis", **small,
        )  # fmt: skip
        h_box = draw_matrix(
            ax, heads_left, top,
            matrix_table(parts.heads[h], tokens, cols, caption=f"head {h + 1} ({T} x {d_k})"),
            **small,
        )  # fmt: skip
        _arrow(ax, (x_box[1] + 0.05, mid(x_box)), (w_box[0] - 0.5, mid(w_box)))
        ax.text(w_box[0] - 0.55, mid(w_box) + (0.15 if h == 0 else -0.15),
                f"W_q, W_k, W_v\ncolumns {h * d_k + 1}-{(h + 1) * d_k}", ha="right",
                va="bottom" if h == 0 else "top", fontsize=7.5)  # fmt: skip
        _arrow(ax, (w_box[1] + 0.05, mid(w_box)), (h_box[0] - 0.5, mid(h_box)), f"× V{h + 1}")
        _arrow(ax, ((h_box[0] + h_box[1]) / 2, h_box[2] - 0.05),
               (0.7 + (h + 0.5) * d_k * cw, concat_top + 0.55))  # fmt: skip
    concat_cols = [f"h{j // d_k + 1}.{j % d_k + 1}" for j in range(D)]
    c_box = draw_matrix(
        ax, 0.7, concat_top,
        matrix_table(parts.concat, tokens, concat_cols, caption=f"Concat ({T} x {D})"), **small,
    )  # fmt: skip
    out_left = c_box[1] + gap
    draw_matrix(
        ax, out_left, concat_top,
        matrix_table(parts.output, tokens, dims, caption=f"Concat · W_o ({T} x {D})"), **small,
    )  # fmt: skip
    _arrow(ax, (c_box[1] + 0.05, mid(c_box)), (out_left - 0.5, mid(c_box)), f"× W_o ({D} x {D})")
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.set_title(f"Multi-head attention: {H} heads of d_k = {D // H} on one sentence", fontsize=10)
    fig.alt_text = multihead_alt(parts)
    return fig
