"""RNN vs Transformer processing, side by side, with the numbers the 3.1 experiments measured.

Top: an RNN reads T tokens as a chain of T steps; information from the first token reaches the
last state through T - 1 recurrent steps. Bottom: one self-attention layer connects every pair
of positions at once: one step, and a path of length 1 between any two tokens (Vaswani et al.
2017, Table 1). The right panel plots what the experiments measured: sequential steps per layer
as T grows (``sequential-vs-parallel``) and the gradient that survives the distance
(``rnn-gradients``).

The results are read by attribute, so any object with the fields of the experiments' results
works: ``lengths``, ``rnn_sequential_steps``, ``attention_sequential_steps`` (sequential) and
``distances``, ``grad_norms``, ``attention`` (gradients).
"""

from __future__ import annotations

from typing import Any

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from attention_lab.viz.figure import DescribedFigure

__all__ = ["draw_rnn_vs_transformer", "rnn_vs_transformer_alt"]

_NEEDED = {
    "sequential": ("lengths", "rnn_sequential_steps", "attention_sequential_steps"),
    "gradients": ("distances", "grad_norms", "attention"),
}


def _check(name: str, value: Any) -> None:
    missing = [f for f in _NEEDED[name] if not hasattr(value, f)]
    if missing:
        raise TypeError(
            f"{name}: expected the result of the {name} experiment with {', '.join(_NEEDED[name])}; "
            f"got {type(value).__name__} without {', '.join(missing)}"
        )


def _gradient_ratio(gradients: Any, key: str) -> tuple[int, float]:
    """(distance, ||grad at the largest distance|| / ||grad at distance 1||) of one curve."""
    norms = gradients.attention if key == "attention" else gradients.grad_norms[key]
    return int(gradients.distances[-1]), norms[-1] / norms[0]


def _box(ax, x: float, y: float, text: str, colour: str, w: float = 0.7, h: float = 0.45) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                facecolor=colour, edgecolor="black", lw=1))  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end, colour: str = "black", lw: float = 1.3, alpha: float = 1.0) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, color=colour,
                                 lw=lw, alpha=alpha, shrinkA=0, shrinkB=0))  # fmt: skip


def rnn_vs_transformer_alt(
    steps: int, sequential: Any, gradients: Any, spectral_norm: str = "0.9"
) -> str:
    """The figure in words, with the measured numbers."""
    _check("sequential", sequential)
    _check("gradients", gradients)
    distance, rnn_ratio = _gradient_ratio(gradients, spectral_norm)
    _, attention_ratio = _gradient_ratio(gradients, "attention")
    lengths = ", ".join(str(T) for T in sequential.lengths)
    return (
        f"Top: an RNN reads {steps} tokens in {steps} steps, one after another; the first token "
        f"reaches the last state through {steps - 1} recurrent steps. Bottom: one self-attention "
        f"layer connects all {steps * steps} pairs of positions in one step; every path has "
        f"length 1. Measured: for T = {lengths} the RNN needs "
        f"{', '.join(str(s) for s in sequential.rnn_sequential_steps)} sequential steps, the "
        f"attention layer {', '.join(str(s) for s in sequential.attention_sequential_steps)}. "
        f"Over a distance of {distance} positions the RNN's gradient (sigma_max = {spectral_norm}) "
        f"is multiplied by {rnn_ratio:.1e}, the attention layer's by {attention_ratio:.2f}."
    )


def draw_rnn_vs_transformer(
    sequential: Any, gradients: Any, *, steps: int = 6, spectral_norm: str = "0.9"
) -> DescribedFigure:
    """The chain of an RNN vs the all-pairs step of attention for ``steps`` tokens (left), and
    the measured step counts and gradient ratios of the experiments (right).

    ``sequential``: the result of ``sequential.run``; ``gradients``: of ``rnn_gradients.run``
    (``spectral_norm`` picks its RNN curve, a key of ``grad_norms``).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 3 <= steps <= 10:
        raise ValueError(f"steps: expected an int in [3, 10] (to fit the figure), got {steps!r}")
    _check("sequential", sequential)
    _check("gradients", gradients)
    if spectral_norm not in gradients.grad_norms:
        raise ValueError(
            f"spectral_norm: expected one of {sorted(gradients.grad_norms)} (measured), "
            f"got {spectral_norm!r}"
        )
    fig = DescribedFigure(figsize=(13, 5.2))
    ax, ax_steps = fig.subplots(1, 2, width_ratios=[2.2, 1])
    xs = [1.3 * t for t in range(steps)]
    names = [f"{t + 1}" for t in range(steps - 1)] + ["T"]
    # top: the RNN chain
    y_x, y_h = 3.3, 4.4
    for t, x in enumerate(xs):
        _box(ax, x, y_x, f"$x_{{{names[t]}}}$", "#f2f2f2", w=0.55)
        _box(ax, x, y_h, f"$h_{{{names[t]}}}$", "#dbe9f6")
        _arrow(ax, (x, y_x + 0.23), (x, y_h - 0.23))
        ax.text(x, y_h + 0.35, f"step {t + 1}", ha="center", fontsize=7, color="grey")
        if t:
            _arrow(ax, (x - 1.3 + 0.35, y_h), (x - 0.35, y_h), colour="tab:red", lw=2)
    ax.text(xs[0] - 0.5, y_h + 0.85,
            f"RNN: {steps} tokens = {steps} sequential steps; token 1 reaches $h_T$ after "
            f"{steps - 1} steps", fontsize=10, ha="left")  # fmt: skip
    # bottom: one attention layer, every pair at once
    y_in, y_out = 0.2, 1.8
    for t, x in enumerate(xs):
        _box(ax, x, y_in, f"$x_{{{names[t]}}}$", "#f2f2f2", w=0.55)
        _box(ax, x, y_out, f"$y_{{{names[t]}}}$", "#fde9c8")
        for s, x_key in enumerate(xs):
            first_to_last = s == 0 and t == steps - 1
            _arrow(ax, (x_key, y_in + 0.23), (x, y_out - 0.23),
                   colour="tab:red" if first_to_last else "#777",
                   lw=2.2 if first_to_last else 0.6, alpha=1.0 if first_to_last else 0.5)  # fmt: skip
    ax.text(xs[0] - 0.5, y_out + 0.55,
            f"Self-attention: all {steps * steps} pairs in 1 step; token 1 reaches $y_T$ in 1 step",
            fontsize=10, ha="left")  # fmt: skip
    ax.set_xlim(xs[0] - 0.6, xs[-1] + 0.6)
    ax.set_ylim(-0.3, 5.6)
    ax.axis("off")
    # right: what the experiments measured
    ax_steps.plot(sequential.lengths, sequential.rnn_sequential_steps, "o-", color="tab:blue",
                  label="RNN: sequential steps")  # fmt: skip
    ax_steps.plot(sequential.lengths, sequential.attention_sequential_steps, "s-",
                  color="tab:orange", label="attention: sequential steps")  # fmt: skip
    ax_steps.set_xscale("log", base=2)
    ax_steps.set_yscale("log", base=2)
    ax_steps.set_xlabel("sequence length T")
    ax_steps.set_ylabel("sequential steps per layer")
    distance, rnn_ratio = _gradient_ratio(gradients, spectral_norm)
    _, attention_ratio = _gradient_ratio(gradients, "attention")
    ax_steps.set_title(
        f"measured; gradient kept over {distance} positions:\n"
        f"RNN (σ_max {spectral_norm}) ×{rnn_ratio:.1e}, attention ×{attention_ratio:.2f}",
        fontsize=9,
    )
    ax_steps.legend(fontsize=8, loc="center right")
    ax_steps.grid(alpha=0.3)
    fig.suptitle("RNN vs Transformer: how a sequence is processed", fontsize=11)
    fig.tight_layout()
    fig.alt_text = rnn_vs_transformer_alt(steps, sequential, gradients, spectral_norm)
    return fig


def cpu_and_gpu_alt(timing: Any, gpu: Any) -> str:
    """The CPU-vs-GPU figure in words, from the two measurements."""
    cpu = ", ".join(
        f"T={T}: RNN {1e3 * r:.2f} ms, LSTM {1e3 * l:.2f} ms, attention {1e3 * a:.2f} ms"
        for T, r, l, a in zip(
            timing.lengths, timing.rnn_seconds, timing.lstm_seconds, timing.attention_seconds
        )
    )
    ratios = ", ".join(
        f"T={T}: {lstm / enc:.1f}x"
        for T, lstm, enc in zip(gpu.lengths, gpu.lstm_ms, gpu.encoder_ms)
    )
    return (
        f"Left, measured on this machine's CPU with one thread: {cpu}. Right, recorded on "
        f"{gpu.device} ({gpu.provenance}): the fused LSTM takes longer than one Transformer "
        f"encoder layer by {ratios}; the Python-loop RNN is slower still."
    )


def plot_cpu_and_gpu(timing: Any, gpu: Any) -> DescribedFigure:
    """Left: the CPU timing of ``sequential.run`` (this machine). Right: the recorded GPU
    measurement (``attention_lab.measurements.recorded_gpu_rnn_vs_attention()``), labelled with
    its provenance."""
    for name in ("lengths", "rnn_seconds", "lstm_seconds", "attention_seconds"):
        if not hasattr(timing, name):
            raise TypeError(f"timing: expected the result of sequential.run, without {name}")
    if not hasattr(gpu, "encoder_ms"):
        raise TypeError(f"gpu: expected a GPUMeasurement, got {type(gpu).__name__}")
    fig = DescribedFigure(figsize=(12, 4.2))
    ax_cpu, ax_gpu = fig.subplots(1, 2)
    for values, label, marker in (
        (timing.rnn_seconds, "nn.RNN (fused)", "o"),
        (timing.lstm_seconds, "nn.LSTM (fused)", "s"),
        (timing.attention_seconds, "one attention layer", "^"),
    ):
        ax_cpu.plot(timing.lengths, [1e3 * v for v in values], marker=marker, label=label)
    ax_cpu.set_title("this machine: CPU, one thread (measured as the page ran)", fontsize=9)
    gpu_loop = [(T, v) for T, v in zip(gpu.lengths, gpu.loop_rnn_ms) if v is not None]
    ax_gpu.plot(gpu.lengths, gpu.lstm_ms, "s-", label="nn.LSTM (cuDNN, fused)")
    ax_gpu.plot(gpu.lengths, gpu.encoder_ms, "^-", label="one nn.TransformerEncoderLayer")
    ax_gpu.plot(*zip(*gpu_loop), "o--", label="nn.RNNCell, Python loop")
    ax_gpu.set_title(f"recorded: {gpu.device}, torch 2.11.0+cu130, 2026-11-27", fontsize=9)
    for ax in (ax_cpu, ax_gpu):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("forward + backward (ms)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.alt_text = cpu_and_gpu_alt(timing, gpu)
    return fig
