"""Sequential steps and wall time: an RNN over T positions vs one self-attention layer.

An RNN must compute h_1, h_2, ..., h_T one after another (h_t needs h_{t-1}): T sequential steps
however many processors there are. One self-attention layer computes all T outputs from the same
inputs at once: one step of depth, made of matrix products that parallel hardware runs in one go
(Vaswani et al. 2017, section 4 and Table 1: O(1) sequential operations for self-attention vs O(n)
for a recurrent layer, at O(n^2 d) vs O(n d^2) total work).

What wall time shows depends on the machine. On a CPU with one thread there is no parallelism to
win, and attention's larger total work (it grows like T^2) can make it slower than a fused LSTM;
on a GPU the T sequential steps of the RNN dominate. ``benchmarks/rnn_vs_attention_gpu.py`` runs
the same measurement on a GPU.

Timing follows the project's rule for noisy machines: the models are interleaved (A B C A B C ...)
within one run, and the median over repeats is reported with its min and max.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.nn.multihead import MultiHeadAttention, use_fast_attention

MODEL_NAMES = ("rnn", "lstm", "attention")


@dataclass
class SequentialResult(ExperimentResult):
    lengths: list[int]
    rnn_seconds: list[float]  # fused nn.RNN (tanh), forward + backward, median over repeats
    attention_seconds: list[float]  # one MultiHeadAttention self-attention layer, fwd + bwd
    rnn_sequential_steps: list[int]  # T: h_t cannot start before h_{t-1}
    attention_sequential_steps: list[int]  # 1: every position at once
    lstm_seconds: list[float] = field(default_factory=list)  # fused nn.LSTM, fwd + bwd
    seconds_min: dict[str, list[float]] = field(default_factory=dict)
    seconds_max: dict[str, list[float]] = field(default_factory=dict)
    cpu_seconds: dict[str, list[float]] = field(default_factory=dict)  # median thread CPU time
    growth_exponent: dict[str, float] = field(default_factory=dict)  # time ~ T^k, upper half of T
    multiply_adds: dict[str, list[int]] = field(default_factory=dict)  # forward work per model
    batch_size: int = 8
    d_model: int = 64
    num_heads: int = 4
    repeats: int = 3
    threads: int = 1
    device: str = "cpu"
    seed: int = 0

    def plot(self):
        import matplotlib.pyplot as plt

        fig, (ax_steps, ax_time) = plt.subplots(1, 2, figsize=(12, 4.5))
        ax_steps.loglog(
            self.lengths,
            self.rnn_sequential_steps,
            "o-",
            color="tab:red",
            label="RNN / LSTM: T steps",
        )
        ax_steps.loglog(
            self.lengths,
            self.attention_sequential_steps,
            "^-",
            color="black",
            label="self-attention: 1 step",
        )
        ax_steps.set_xlabel("sequence length T")
        ax_steps.set_ylabel("sequential steps (critical path)")
        ax_steps.set_title("Steps that must run one after another")
        ax_steps.legend()

        series = {
            "rnn": self.rnn_seconds,
            "lstm": self.lstm_seconds,
            "attention": self.attention_seconds,
        }
        styles = {
            "rnn": ("tab:red", "o", "RNN (fused)"),
            "lstm": ("tab:purple", "s", "LSTM (fused)"),
            "attention": ("black", "^", "self-attention layer"),
        }
        for name, seconds in series.items():
            if not seconds:
                continue
            color, marker, label = styles[name]
            k = self.growth_exponent.get(name, float("nan"))
            ax_time.loglog(
                self.lengths,
                [1e3 * s for s in seconds],
                marker=marker,
                color=color,
                label=f"{label}: ~T^{k:.2f}",
            )
            if name in self.seconds_min:
                ax_time.fill_between(
                    self.lengths,
                    [1e3 * s for s in self.seconds_min[name]],
                    [1e3 * s for s in self.seconds_max[name]],
                    color=color,
                    alpha=0.15,
                )
            if self.cpu_seconds.get(name):
                ax_time.loglog(
                    self.lengths, [1e3 * s for s in self.cpu_seconds[name]], ":", color=color
                )
        if self.cpu_seconds:
            ax_time.plot([], [], ":", color="grey", label="dotted: CPU time of the thread")
        ax_time.set_xlabel("sequence length T")
        ax_time.set_ylabel("forward + backward (ms), median")
        ax_time.set_title(
            f"Wall time on {self.device} ({self.threads} torch thread(s)), B={self.batch_size}, "
            f"D={self.d_model}",
            fontsize=10,
        )
        ax_time.legend(fontsize=8)
        for ax in (ax_steps, ax_time):  # after plotting: loglog resets the tick locators
            ax.set_xticks(self.lengths, [str(T) for T in self.lengths])
            ax.minorticks_off()
        fig.tight_layout()
        return fig


def build_models(d_model: int, num_heads: int, device: str | torch.device, dtype: torch.dtype):
    """The three layers compared, as ``name -> callable(x) -> output (B, T, D)``."""
    rnn = nn.RNN(d_model, d_model, batch_first=True, nonlinearity="tanh").to(device, dtype)
    lstm = nn.LSTM(d_model, d_model, batch_first=True).to(device, dtype)
    attention = MultiHeadAttention(d_model, num_heads).to(device, dtype)
    use_fast_attention(attention)  # torch's fused kernel: the fair, fast path
    return {
        "rnn": lambda x: rnn(x)[0],
        "lstm": lambda x: lstm(x)[0],
        "attention": lambda x: attention(x, x, x),
    }


def time_forward_backward(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread) for one forward and backward pass of ``fn``.

    Synchronised on CUDA. With one torch thread the CPU time is what the pass costs whatever else
    runs on the machine; the wall time also counts the time spent waiting for a core.
    """
    x = x.detach().requires_grad_(True)
    _synchronize(x.device)
    start, start_cpu = time.perf_counter(), time.thread_time()
    fn(x).square().mean().backward()
    _synchronize(x.device)
    return time.perf_counter() - start, time.thread_time() - start_cpu


def measure(
    lengths: list[int],
    *,
    batch_size: int,
    d_model: int,
    num_heads: int,
    repeats: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> dict[str, dict[str, list[float]]]:
    """Seconds per model and length, interleaving the models A B C C B A (wall: median, min, max;
    ``cpu``, on a CPU only: median CPU time of the calling thread)."""
    torch.manual_seed(seed)
    models = build_models(d_model, num_heads, device, dtype)
    g = torch.Generator().manual_seed(seed)
    stats: dict[str, dict[str, list[float]]] = {"median": {}, "min": {}, "max": {}, "cpu": {}}
    for key in stats:
        stats[key] = {name: [] for name in models}
    for T in progress_bar(lengths, total=len(lengths), description="timing", enabled=progress):
        x = torch.randn(batch_size, T, d_model, generator=g).to(device, dtype)  # (B, T, D)
        for fn in models.values():  # warm-up: first calls allocate and pick kernels
            time_forward_backward(fn, x)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
        for r in range(repeats):
            order = list(models) if r % 2 == 0 else list(reversed(models))
            for name in order:
                samples[name].append(time_forward_backward(models[name], x))
        for name, values in samples.items():
            wall = [w for w, _ in values]
            stats["median"][name].append(statistics.median(wall))
            stats["min"][name].append(min(wall))
            stats["max"][name].append(max(wall))
            stats["cpu"][name].append(statistics.median([c for _, c in values]))
    if torch.device(device).type != "cpu":
        del stats["cpu"]  # the host thread's CPU time says nothing about a GPU's work
    return stats


def growth_exponent(lengths: list[int], seconds: list[float]) -> float:
    """Slope k of log(seconds) against log(T) over the upper half of the lengths (time ~ T^k)."""
    pairs = [(math.log(t), math.log(s)) for t, s in zip(lengths, seconds) if s > 0]
    pairs = pairs[len(pairs) // 2 :] if len(pairs) >= 4 else pairs
    if len(pairs) < 2:
        return float("nan")
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    return cov / sum((x - mean_x) ** 2 for x, _ in pairs)


def multiply_adds(T: int, batch_size: int, d_model: int) -> dict[str, int]:
    """Forward multiply-adds of each layer (the matrix products; nonlinearities left out)."""
    B, D = batch_size, d_model
    return {
        "rnn": B * T * 2 * D * D,  # x_t W_ih and h_{t-1} W_hh at each of T steps
        "lstm": B * T * 8 * D * D,  # the same for 4 gates
        "attention": B * (4 * T * D * D + 2 * T * T * D),  # Q, K, V, O projections; QK^T and AV
    }


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    lengths: tuple[int, ...] | None = None,
    batch_size: int = 8,
    d_model: int = 64,
    num_heads: int = 4,
    repeats: int | None = None,
) -> SequentialResult:
    """Time forward + backward of each layer for T = 16 ... 1024 on this CPU."""
    lengths = list((16, 32, 64, 128, 256, 512, 1024) if lengths is None else lengths)
    repeats = (5 if quick else 9) if repeats is None else repeats
    if not lengths or min(lengths) < 1:
        raise ValueError(f"lengths: expected sequence lengths >= 1, got {lengths}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected an int >= 1, got {repeats!r}")
    stats = measure(
        lengths,
        batch_size=batch_size,
        d_model=d_model,
        num_heads=num_heads,
        repeats=repeats,
        seed=seed,
        progress=progress,
    )
    return summarize(
        lengths,
        stats,
        batch_size=batch_size,
        d_model=d_model,
        num_heads=num_heads,
        repeats=repeats,
        device="cpu",
        seed=seed,
    )


def summarize(
    lengths: list[int],
    stats: dict[str, dict[str, list[float]]],
    *,
    batch_size: int,
    d_model: int,
    num_heads: int,
    repeats: int,
    device: str,
    seed: int,
) -> SequentialResult:
    """The result of ``measure``'s numbers: step counts, growth exponents and work added."""
    median = stats["median"]
    work = [multiply_adds(T, batch_size, d_model) for T in lengths]
    return SequentialResult(
        lengths=list(lengths),
        rnn_seconds=median["rnn"],
        attention_seconds=median["attention"],
        rnn_sequential_steps=list(lengths),
        attention_sequential_steps=[1] * len(lengths),
        lstm_seconds=median["lstm"],
        seconds_min=stats["min"],
        seconds_max=stats["max"],
        cpu_seconds=stats.get("cpu", {}),
        growth_exponent={name: growth_exponent(lengths, s) for name, s in median.items()},
        multiply_adds={name: [w[name] for w in work] for name in MODEL_NAMES},
        batch_size=batch_size,
        d_model=d_model,
        num_heads=num_heads,
        repeats=repeats,
        threads=torch.get_num_threads(),
        device=device,
        seed=seed,
    )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
