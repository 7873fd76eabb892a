"""3.3 An encoder-decoder Transformer learns to translate number words into digits in a minute.

The experiment trains the number translator (:mod:`attention_lab.translator`: the library's
from-scratch Transformer on :class:`~attention_lab.tasks.numbers.NumberTranslation`), tests it with
greedy decoding on numbers held out from training, and plots the training curve and the
cross-attention of one translation: which source words each output digit looks at
("three hundred and forty-two" -> "3 4 2").
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import time
from pathlib import Path
from typing import Any

from attention_lab.experiments.base import ExperimentResult
from attention_lab.nn.transformer import count_parameters
from attention_lab.tasks.numbers import NumberTranslation
from attention_lab.training import dist_info
from attention_lab.translator import (
    FULL,
    QUICK,
    CrossAttention,
    cross_attention,
    exact_match,
    train_translator,
)


@dataclasses.dataclass
class TranslationResult(ExperimentResult):
    exact_match: float  # share of held-out test numbers translated exactly (greedy decoding)
    seconds: float  # wall time of training and testing
    steps: int  # optimizer steps taken (training stops once validation is perfect)
    tokens_per_second: float  # target tokens per second of training
    params: int  # trainable parameters
    cpu_seconds: float = 0.0  # CPU time of this process over the same span
    peak_memory_mb: float = 0.0  # peak resident memory of the process (ru_maxrss)
    test_numbers: int = 0  # size of the held-out test split
    max_number: int = 0

    def __post_init__(self) -> None:
        self._example: CrossAttention | None = None
        self._history: list[dict[str, float]] = []

    def plot(self):
        return plot_translation(self._example, self._history, self)


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    checkpoint: str | Path | None = None,
) -> TranslationResult:
    """Train, test on unseen numbers, and record the cross-attention of one translation."""
    setup = QUICK if quick else FULL
    started, cpu_started = time.perf_counter(), time.process_time()
    translator, trained = train_translator(
        setup, seed=seed, checkpoint=checkpoint, progress=progress
    )
    test = translator.task.with_split("test")
    score = exact_match(translator, test)
    result = TranslationResult(
        exact_match=score,
        seconds=time.perf_counter() - started,
        steps=trained.steps,
        tokens_per_second=trained.tokens_per_second,
        params=count_parameters(translator.model)["total"],
        cpu_seconds=time.process_time() - cpu_started,
        peak_memory_mb=peak_memory_mb(),
        test_numbers=len(test),
        max_number=setup.max_number,
    )
    if dist_info().is_main:
        result._example = cross_attention(translator, _example_text(test))
        result._history = trained.history
    return result


def peak_memory_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _example_text(test: NumberTranslation) -> str:
    """A held-out number with hundreds, "and" and a hyphen, so the alignment is worth a look."""
    for i in range(len(test)):
        source, _ = test.pair(i)
        if (
            "-" in source
            and "hundred" in source
            and ("thousand" in source or test.max_number < 1000)
        ):
            return source
    return test.pair(0)[0]


def plot_cross_attention(example: CrossAttention, ax=None, *, layer: int = -1):
    """Heatmap of one translation's cross-attention, averaged over the heads of decoder layer
    ``layer`` (rows: output tokens, columns: source words). Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1 + 0.8 * len(example.source), 1 + 0.5 * len(example.output)))
    weights = example.weights[layer].mean(0).numpy()  # (H, T, S) -> (T, S)
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(example.source)), example.source, rotation=40, ha="right")
    ax.set_yticks(range(len(example.output)), example.output)
    ax.set_xlabel("source word (key)")
    ax.set_ylabel("output token (query)")
    number = len(example.weights) + layer + 1 if layer < 0 else layer + 1
    ax.set_title(f"cross-attention, decoder layer {number} (mean of heads)")
    ax.figure.colorbar(image, ax=ax, fraction=0.04)
    return ax


def plot_translation(example: CrossAttention | None, history: list[dict[str, Any]], result=None):
    """Left: training loss and token accuracy. Right: the example's cross-attention."""
    import matplotlib.pyplot as plt

    fig, (ax_curve, ax_attn) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=[1, 1.4])
    steps = [h["step"] for h in history]
    ax_curve.plot(steps, [h["loss"] for h in history], color="tab:blue", label="loss")
    ax_curve.set_xlabel("step")
    ax_curve.set_ylabel("cross-entropy per token", color="tab:blue")
    ax_acc = ax_curve.twinx()
    ax_acc.plot(steps, [h["accuracy"] for h in history], color="tab:orange", label="accuracy")
    ax_acc.set_ylabel("token accuracy (teacher forcing)", color="tab:orange")
    ax_acc.set_ylim(0, 1.02)
    title = "training"
    if result is not None:
        title = f"held-out exact match {result.exact_match:.1%} after {result.steps} steps"
    ax_curve.set_title(title)
    if example is not None:
        plot_cross_attention(example, ax_attn)
    else:
        ax_attn.set_axis_off()
    fig.tight_layout()
    return fig
