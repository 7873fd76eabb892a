"""Experiments: one file per claim the lessons make.

Each experiment is a function ``run(*, quick=False, seed=0, progress=True, ...)`` returning a
dataclass of plain numbers (JSON-serialisable through ``to_dict()``) with a ``plot()`` method that
returns a matplotlib Figure. ``attention-lab run NAME`` runs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# name -> (module, one-line description). Modules are imported only when run.
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "rnn-gradients": (
        "attention_lab.experiments.rnn_gradients",
        "3.1 gradient norms through time: vanishing, exploding, clipping; LSTM and attention",
    ),
    "sequential-vs-parallel": (
        "attention_lab.experiments.sequential",
        "3.1 sequential steps and wall time of an RNN vs one attention layer as T grows",
    ),
    "long-range": (
        "attention_lab.experiments.long_range",
        "3.1 accuracy vs dependency distance: vanilla RNN, LSTM, Transformer",
    ),
    "rnn-attention": (
        "attention_lab.experiments.rnn_attention",
        "3.1 RNN encoder-decoder vs + additive attention vs Transformer: exact match by input length",
    ),
    "attention-scaling": (
        "attention_lab.experiments.scaling",
        "3.2 why divide by sqrt(d_k): variance, entropy, gradients, training",
    ),
    "multi-head": (
        "attention_lab.experiments.multihead_roles",
        "3.2 heads learn different jobs, measured per head",
    ),
    "translation": (
        "attention_lab.experiments.translation",
        "3.3 encoder-decoder learns number words <-> digits",
    ),
    "translator-training": (
        "attention_lab.experiments.training_recipe",
        "3.3 label smoothing and warm-up (deep post-norm vs pre-norm) measured on the translator",
    ),
    "positional-ablation": (
        "attention_lab.experiments.positional_ablation",
        "3.3 without positional encoding, order-dependent tasks fail",
    ),
    "gpt": (
        "attention_lab.experiments.char_gpt",
        "pretrained: a decoder-only GPT learns the shipped fables, character by character",
    ),
    "residual-ablation": (
        "attention_lab.experiments.residual_ablation",
        "3.3 deep stacks with/without residuals and LayerNorm; post- vs pre-norm",
    ),
}


def get_experiment(name: str) -> Callable[..., Any]:
    """Return the ``run`` function of experiment ``name``."""
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS))
        raise ValueError(f"unknown experiment {name!r}; expected one of: {known}")
    module = importlib.import_module(EXPERIMENTS[name][0])
    return module.run
