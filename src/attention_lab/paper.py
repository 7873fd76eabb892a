"""The paper's two models, as reported (Vaswani et al. 2017, Tables 2 and 3), beside our count of
their parameters.

Our counts build the ``"paper-base"`` and ``"paper-big"`` presets of ``TransformerConfig`` on
PyTorch's ``meta`` device (shapes only: no memory, no initialisation cost) and count them with
``count_parameters``: one 37000 x d_model matrix shared by both embeddings and the output layer
(section 3.4), a bias in every linear layer, a gain and a bias in every LayerNorm, nothing learned in
the sinusoidal encodings. Table 3 rounds to millions and does not say how it counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from attention_lab.nn.transformer import PRESETS, Transformer, count_parameters


@dataclass(frozen=True)
class PaperModel:
    """One row of Table 3 (and the model's Table 2 results)."""

    preset: str  # our TransformerConfig preset
    name: str  # "base" or "big"
    N: int  # layers per stack
    d_model: int
    d_ff: int
    h: int  # heads
    d_k: int
    d_v: int
    P_drop: float  # dropout
    eps_ls: float  # label smoothing
    train_steps: str
    params_millions: int  # "params × 10^6" of Table 3
    bleu_en_de: float  # newstest2014, Table 2
    bleu_en_fr: float
    training: str  # hardware and time, section 5.2


PAPER_MODELS: tuple[PaperModel, ...] = (
    PaperModel(
        "paper-base",
        "base",
        6,
        512,
        2048,
        8,
        64,
        64,
        0.1,
        0.1,
        "100K",
        65,
        27.3,
        38.1,
        "12 hours on 8 P100 GPUs (0.4 s/step)",
    ),
    PaperModel(
        "paper-big",
        "big",
        6,
        1024,
        4096,
        16,
        64,
        64,
        0.3,
        0.1,
        "300K",
        213,
        28.4,
        41.8,
        "3.5 days on 8 P100 GPUs (1.0 s/step)",
    ),
)


def count_preset_parameters(preset: str) -> dict[str, int]:
    """``count_parameters`` of ``Transformer(PRESETS[preset])``, built without allocating memory."""
    if preset not in PRESETS:
        raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {preset!r}")
    with torch.device("meta"):
        model = Transformer(PRESETS[preset])
    return count_parameters(model)


@dataclass(frozen=True)
class PaperRow:
    model: PaperModel
    ours: dict[str, int]  # our parameter count by component, with "total"

    @property
    def difference_percent(self) -> float:
        paper = self.model.params_millions * 1e6
        return 100 * (self.ours["total"] - paper) / paper


def paper_table() -> list[PaperRow]:
    """Table 3's base and big rows with our parameter counts beside them."""
    return [PaperRow(m, count_preset_parameters(m.preset)) for m in PAPER_MODELS]


def paper_table_markdown(rows: list[PaperRow] | None = None) -> str:
    """The table as Markdown (for a lesson or a report)."""
    rows = paper_table() if rows is None else rows
    lines = [
        "| model | N | d_model | d_ff | h | d_k | P_drop | ε_ls | steps | BLEU EN-DE | BLEU EN-FR "
        "| params (paper) | params (ours) | difference |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        m = r.model
        lines.append(
            f"| {m.name} | {m.N} | {m.d_model} | {m.d_ff} | {m.h} | {m.d_k} | {m.P_drop} | "
            f"{m.eps_ls} | {m.train_steps} | {m.bleu_en_de} | {m.bleu_en_fr} | "
            f"{m.params_millions}M | {r.ours['total'] / 1e6:.1f}M | {r.difference_percent:+.1f}% |"
        )
    return "\n".join(lines)
