"""Figures for heatmap questions, computed with the library when a question is rendered.

Each figure is a named, deterministic function returning `HeatmapFigure`: the attention weights
the library computes for a small crafted example, with token labels. The questions ask learners to
read them (objective 3.2.6); tests check that each question's answer matches the weights.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch

from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.masks import causal_mask, padding_mask

TOKENS = ["the", "cat", "sat", "on", "the", "mat"]


@dataclass(frozen=True)
class HeatmapFigure:
    """One or more attention heatmaps: `panels` maps a panel title to weights (T_q, T_k)."""

    title: str
    panels: dict[str, torch.Tensor]
    queries: list[str]
    keys: list[str]
    alt: str  # a text description for screen readers and text-only exports


def causal_self_attention() -> HeatmapFigure:
    """Seeded random queries and keys under a causal mask: a lower-triangular pattern."""
    g = torch.Generator().manual_seed(3)
    q = torch.randn(6, 8, generator=g)  # (T, d_k)
    k = torch.randn(6, 8, generator=g)
    _, weights = scaled_dot_product_attention(q, k, k, mask=causal_mask(6))  # (T, T)
    return HeatmapFigure(
        "Attention weights of one head",
        {"": weights},
        TOKENS,
        TOKENS,
        "A 6 by 6 heatmap whose cells above the diagonal are all zero.",
    )


def previous_token_head() -> HeatmapFigure:
    """A previous-token head: query i matches the key of position i - 1 (causal mask)."""
    eye = torch.eye(6)
    q = 8.0 * torch.roll(eye, shifts=-1, dims=1)  # q_i = 8 e_{i-1}: looks for the previous position
    q[0] = 8.0 * eye[0]  # the first token has no predecessor: it looks at itself
    k = eye  # k_j = e_j: "I am position j"
    _, weights = scaled_dot_product_attention(q, k, k, mask=causal_mask(6))  # (T, T)
    return HeatmapFigure(
        "A head of a small model",
        {"": weights},
        TOKENS,
        TOKENS,
        "A 6 by 6 heatmap; each row is brightest one column left of the diagonal.",
    )


def padding_keys() -> HeatmapFigure:
    """A batch element padded to length 5: the padded keys get no weight."""
    tokens = ["I", "like", "attention", "<pad>", "<pad>"]
    ids = torch.tensor([[5, 6, 7, 0, 0]])
    g = torch.Generator().manual_seed(5)
    q = torch.randn(1, 5, 8, generator=g)  # (B, T, d_k)
    k = torch.randn(1, 5, 8, generator=g)
    mask = padding_mask(ids, pad_id=0)  # (B, 1, 1, T) -> broadcast over queries
    _, weights = scaled_dot_product_attention(q, k, k, mask=mask[:, 0])  # (B, T, T)
    return HeatmapFigure(
        "Attention weights of one head, with a padding mask",
        {"": weights[0]},
        tokens,
        tokens,
        "A 5 by 5 heatmap whose last two columns are zero.",
    )


def scaled_vs_unscaled() -> HeatmapFigure:
    """The same queries and keys with d_k = 64, without (A) and with (B) the 1/√d_k scaling."""
    d_k = 64
    g = torch.Generator().manual_seed(11)
    q = torch.randn(6, d_k, generator=g)
    k = torch.randn(6, d_k, generator=g)
    _, scaled = scaled_dot_product_attention(q, k, k)
    # Multiplying q by √d_k cancels the library's division: softmax(q kᵀ), the unscaled weights.
    _, unscaled = scaled_dot_product_attention(q * math.sqrt(d_k), k, k)
    return HeatmapFigure(
        "Same queries and keys, d_k = 64",
        {"A": unscaled, "B": scaled},
        TOKENS,
        TOKENS,
        "Two 6 by 6 heatmaps: A has nearly one-hot rows, B has spread-out rows.",
    )


FIGURES: dict[str, Callable[[], HeatmapFigure]] = {
    "causal_self_attention": causal_self_attention,
    "previous_token_head": previous_token_head,
    "padding_keys": padding_keys,
    "scaled_vs_unscaled": scaled_vs_unscaled,
}


def get_figure(name: str) -> HeatmapFigure:
    if name not in FIGURES:
        raise ValueError(f"figure: expected one of {sorted(FIGURES)}, got {name!r}")
    return FIGURES[name]()


@cache
def figure_png(name: str) -> bytes:
    """The figure rendered as a PNG (matplotlib, Agg backend), cached per process."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no inline display

    figure = get_figure(name)
    n = len(figure.panels)
    fig = Figure(figsize=(3.6 * n, 3.3))
    axes = fig.subplots(1, n, squeeze=False)
    for index, (ax, (panel, weights)) in enumerate(zip(axes[0], figure.panels.items())):
        image = ax.imshow(weights.detach().numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(figure.keys)), figure.keys, rotation=45, ha="right")
        ax.set_yticks(range(len(figure.queries)), figure.queries)
        ax.set_xlabel("keys")
        if index == 0:
            ax.set_ylabel("queries")
        if panel:
            ax.set_title(f"Panel {panel}")
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="weight")
    fig.suptitle(figure.title, fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def figure_data_uri(name: str) -> str:
    return "data:image/png;base64," + base64.b64encode(figure_png(name)).decode("ascii")
