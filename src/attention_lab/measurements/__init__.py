"""Recorded measurements shipped with the package, each with its provenance (README.md here).

``recorded_gpu_rnn_vs_attention()`` returns the H100 measurement of a fused LSTM, a Python-loop
RNN and one Transformer encoder layer as T grows, so lesson 3.1 can show, beside its own CPU
measurement, what the same comparison looks like on parallel hardware.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

__all__ = ["GPUMeasurement", "recorded_gpu_rnn_vs_attention"]

_RNN_VS_ATTENTION = "h100_rnn_vs_attention_2026-11-27.json"
PROVENANCE = (
    "recorded 2026-11-27 on one NVIDIA H100 80GB HBM3, torch 2.11.0+cu130, torch's own modules, "
    "fp32, batch 16, width 256, forward + backward, CUDA-event medians of 10 calls after 3 warm-up"
)


@dataclasses.dataclass(frozen=True)
class GPUMeasurement:
    """One recorded run: times in milliseconds per sequence length (None: not measured)."""

    device: str
    provenance: str
    lengths: list[int]
    lstm_ms: list[float]  # fused nn.LSTM (cuDNN)
    encoder_ms: list[float]  # one nn.TransformerEncoderLayer
    loop_rnn_ms: list[float | None]  # nn.RNNCell in a Python loop, one call per step


def recorded_gpu_rnn_vs_attention() -> GPUMeasurement:
    """The recorded H100 measurement (see this package's README.md for the method)."""
    data = json.loads(resources.files(__package__).joinpath(_RNN_VS_ATTENTION).read_text())
    rows = data["rows"]
    return GPUMeasurement(
        device=data["device"],
        provenance=PROVENANCE,
        lengths=[row["T"] for row in rows],
        lstm_ms=[row["lstm_ms"] for row in rows],
        encoder_ms=[row["encoder_ms"] for row in rows],
        loop_rnn_ms=[row["loop_rnn_ms"] for row in rows],
    )
