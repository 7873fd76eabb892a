"""RNN vs Transformer processing: drawn with the numbers of the 3.1 experiments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from attention_lab.measurements import recorded_gpu_rnn_vs_attention
from attention_lab.viz.processing import (
    draw_rnn_vs_transformer,
    plot_cpu_and_gpu,
    rnn_vs_transformer_alt,
)

SEQUENTIAL = SimpleNamespace(
    lengths=[16, 32, 64], rnn_sequential_steps=[16, 32, 64], attention_sequential_steps=[1, 1, 1]
)
GRADIENTS = SimpleNamespace(
    distances=[1, 2, 50], grad_norms={"0.9": [1.0, 0.8, 3e-4]}, attention=[0.5, 0.5, 0.45]
)


def test_alt_text_carries_the_measured_numbers():
    alt = rnn_vs_transformer_alt(5, SEQUENTIAL, GRADIENTS)
    assert "reads 5 tokens in 5 steps" in alt and "through 4 recurrent steps" in alt
    assert "all 25 pairs" in alt
    assert "needs 16, 32, 64 sequential steps, the attention layer 1, 1, 1" in alt
    assert "over a distance of 50 positions" in alt.lower()
    assert "multiplied by 3.0e-04, the attention layer's by 0.90" in alt


def test_figure_plots_the_step_counts_and_says_it():
    fig = draw_rnn_vs_transformer(SEQUENTIAL, GRADIENTS, steps=5)
    lines = fig.axes[1].get_lines()
    assert [list(line.get_ydata()) for line in lines[:2]] == [[16, 32, 64], [1, 1, 1]]
    assert fig.alt_text == rnn_vs_transformer_alt(5, SEQUENTIAL, GRADIENTS)


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="sequential: expected the result of the sequential"):
        draw_rnn_vs_transformer(object(), GRADIENTS)
    with pytest.raises(ValueError, match=r"spectral_norm: expected one of \['0.9'\]"):
        draw_rnn_vs_transformer(SEQUENTIAL, GRADIENTS, spectral_norm="0.5")
    with pytest.raises(ValueError, match=r"steps: expected an int in \[3, 10\]"):
        draw_rnn_vs_transformer(SEQUENTIAL, GRADIENTS, steps=20)


def test_recorded_gpu_measurement_ships_with_its_provenance():
    gpu = recorded_gpu_rnn_vs_attention()
    assert gpu.device == "NVIDIA H100 80GB HBM3" and gpu.lengths == [64, 256, 1024, 4096]
    assert "2026-11-27" in gpu.provenance and "torch 2.11.0+cu130" in gpu.provenance
    assert gpu.loop_rnn_ms[-1] is None and all(v > 0 for v in gpu.encoder_ms)
    timing = SimpleNamespace(
        lengths=[16, 32], rnn_seconds=[1e-3, 2e-3], lstm_seconds=[2e-3, 3e-3],
        attention_seconds=[3e-3, 9e-3],
    )  # fmt: skip
    fig = plot_cpu_and_gpu(timing, gpu)
    ratio = gpu.lstm_ms[1] / gpu.encoder_ms[1]
    assert f"T=256: {ratio:.1f}x" in fig.alt_text and "T=32: RNN 2.00 ms" in fig.alt_text
    assert gpu.provenance in fig.alt_text
