"""Diagrams drawn by code for Topic 3.1: an RNN unrolled in time, and how gradients flow back.

Both return a matplotlib Figure made through pyplot (so a notebook shows it, like any other
figure), so a lesson can redraw them with other settings (more steps, another spectral norm).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["draw_gradient_flow", "draw_rnn_unrolled"]

_CELL = "#dbe9f6"
_INPUT = "#f2f2f2"
_ATTN = "#fde9c8"


def _box(ax, x: float, y: float, text: str, color: str, w: float = 0.8, h: float = 0.55) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color,
            edgecolor="black",
            lw=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end, color="black", lw=1.5, alpha=1.0, style="-|>", rad=0.0) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=14,
            color=color,
            lw=lw,
            alpha=alpha,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0,
            shrinkB=0,
        )
    )


def _check_steps(steps: object, low: int = 2, high: int = 12) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps: expected an int, got {type(steps).__name__} {steps!r}")
    if not low <= steps <= high:
        raise ValueError(
            f"steps: expected an int in [{low}, {high}] (to fit a figure), got {steps}"
        )


def draw_rnn_unrolled(steps: int = 5) -> Figure:
    """The recurrence ``h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)`` folded (left) and unrolled.

    Unrolled, the same weights appear at every step, and step t cannot start before step t - 1
    has finished: T steps in sequence for T inputs (Elman 1990; Goodfellow et al. 2016, Fig. 10.2).
    """
    _check_steps(steps)
    fig = plt.figure(figsize=(2.0 + 1.5 * steps, 3.6))
    ax = fig.add_subplot()
    # folded: one cell with a loop
    _box(ax, 0, 1, "RNN", _CELL)
    _box(ax, 0, 0, "$x_t$", _INPUT, w=0.6)
    ax.text(0, 2.0, "$h_t$", ha="center", va="center", fontsize=11)
    _arrow(ax, (0, 0.28), (0, 0.72))
    _arrow(ax, (0, 1.28), (0, 1.82))
    _arrow(ax, (0.4, 1.12), (0.4, 0.88), rad=-2.2, color="tab:red")  # h_t feeds the next step
    ax.text(0.72, 1.0, "$W_{hh}$", color="tab:red", fontsize=9, ha="left", va="center")
    ax.text(1.2, 1, "=", fontsize=22, ha="center", va="center")
    # unrolled
    x0 = 2.8
    for t in range(steps):
        x = x0 + 1.5 * t
        label = f"$x_{{{t + 1}}}$" if t < steps - 1 else "$x_T$"
        state = f"$h_{{{t + 1}}}$" if t < steps - 1 else "$h_T$"
        _box(ax, x, 1, "RNN", _CELL)
        _box(ax, x, 0, label, _INPUT, w=0.6)
        ax.text(x, 2.0, state, ha="center", va="center", fontsize=11)
        _arrow(ax, (x, 0.28), (x, 0.72))
        _arrow(ax, (x, 1.28), (x, 1.82))
        ax.text(x, -0.55, f"step {t + 1}", ha="center", fontsize=8, color="grey")
        if t > 0:
            _arrow(ax, (x - 1.1, 1), (x - 0.4, 1), color="tab:red", lw=2)
            ax.text(x - 0.75, 1.1, "$W_{hh}$", ha="center", fontsize=8, color="tab:red")
    ax.text(x0 - 0.75, 1.1, "$h_0$", ha="center", fontsize=9)
    _arrow(ax, (x0 - 0.75 - 0.25, 1), (x0 - 0.4, 1), color="tab:red", lw=2)
    ax.set_title(
        f"An RNN unrolled in time: {steps} inputs, {steps} steps one after another "
        "(the same weights at every step)",
        fontsize=10,
    )
    ax.set_xlim(-0.8, x0 + 1.5 * (steps - 1) + 0.7)
    ax.set_ylim(-0.8, 2.4)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def draw_gradient_flow(steps: int = 6, spectral_norm: float = 0.9) -> Figure:
    """Backpropagation from a loss at the last step: through a chain (RNN) or in one hop (attention).

    Top: the gradient reaches h_{T-d} after d Jacobians diag(1 - h^2) W_hh, each shrinking it by at
    most sigma_max(W_hh) (Pascanu et al. 2013); arrow widths are drawn as ``spectral_norm ** d``.
    Bottom: in a self-attention layer the output at T is a weighted sum of every position, so the
    gradient reaches each input through one step, whatever the distance.
    """
    _check_steps(steps)
    if isinstance(spectral_norm, bool) or not isinstance(spectral_norm, (int, float)):
        raise TypeError(f"spectral_norm: expected a float, got {type(spectral_norm).__name__}")
    if not 0 < spectral_norm <= 3:
        raise ValueError(f"spectral_norm: expected a float in (0, 3], got {spectral_norm}")
    fig = plt.figure(figsize=(1.6 * steps + 2.5, 6.2))
    ax = fig.add_subplot()
    xs = [1.6 * t for t in range(steps)]
    names = [f"{t + 1}" for t in range(steps - 1)] + ["T"]
    # top row: the RNN chain, gradient arrows going back, thinning with the distance
    y_rnn = 3.2
    for t, x in enumerate(xs):
        _box(ax, x, y_rnn, f"$h_{{{names[t]}}}$", _CELL, w=0.7)
        d = steps - 1 - t
        ax.text(x, y_rnn - 0.55, f"d={d}", ha="center", fontsize=8, color="grey")
        if t > 0:
            _arrow(ax, (x - 1.25, y_rnn + 0.1), (x - 0.35, y_rnn + 0.1), lw=1.2)
            factor = spectral_norm ** (steps - t)  # the gradient arriving at h_{t-1}
            width = max(0.3, min(8.0, 3.0 * factor))
            _arrow(
                ax,
                (x - 0.35, y_rnn - 0.12),
                (x - 1.25, y_rnn - 0.12),
                color="tab:red",
                lw=width,
                alpha=0.35 + 0.65 * min(1.0, factor),
            )
            ax.text(
                x - 0.8,
                y_rnn + 0.42,
                rf"$\times\,\sigma^{{{steps - t}}}$",
                ha="center",
                fontsize=8,
                color="tab:red",
            )
    _box(ax, xs[-1] + 1.5, y_rnn, "loss", "#f8d0d0", w=0.8)
    _arrow(ax, (xs[-1] + 0.35, y_rnn), (xs[-1] + 1.1, y_rnn))
    ax.text(
        xs[0] - 0.6,
        y_rnn + 0.9,
        rf"RNN: $\|\partial L/\partial h_{{T-d}}\| \lesssim \sigma_{{max}}(W_{{hh}})^d$"
        rf"$\,\|\partial L/\partial h_T\|$ with $\sigma_{{max}}$ = {spectral_norm}: "
        f"{spectral_norm ** (steps - 1):.2g} after {steps - 1} steps",
        fontsize=10,
        ha="left",
    )
    # bottom row: one attention layer, one hop from the output at T to every input
    y_in, y_out = 0.0, 1.5
    for t, x in enumerate(xs):
        _box(ax, x, y_in, f"$x_{{{names[t]}}}$", _INPUT, w=0.6)
        _arrow(
            ax,
            (xs[-1] - 0.05 * (steps - 1 - t), y_out - 0.3),
            (x, y_in + 0.28),
            color="tab:red",
            lw=2.2,
            alpha=0.9,
        )
    _box(ax, xs[-1], y_out, "$y_T$", _ATTN, w=0.6)
    _box(ax, xs[-1] + 1.5, y_out, "loss", "#f8d0d0", w=0.8)
    _arrow(ax, (xs[-1] + 0.3, y_out), (xs[-1] + 1.1, y_out))
    ax.text(
        xs[0] - 0.6,
        y_out + 0.55,
        "Self-attention: $y_T = \\sum_j a_{Tj}\\, v_j$, one step from every $x_j$ to the loss: "
        "no product over the distance",
        fontsize=10,
        ha="left",
    )
    ax.set_title("Gradient flow (red, backward) from a loss at the last position", fontsize=11)
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 2.1)
    ax.set_ylim(-0.6, y_rnn + 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig
