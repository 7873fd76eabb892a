"""Masks at work: the decoder's causal mask stops the future leaking, and padding is ignored.

Claims (Vaswani et al. 2017, section 3.2.3): "We need to prevent leftward information flow in the
decoder to preserve the auto-regressive property. We implement this inside of scaled dot-product
attention by masking out (setting to -inf) all values in the input of the softmax which correspond
to illegal connections." And padding, which only makes sequences of a batch the same length, must
not change anything a real token computes.

Measured here, with a seeded encoder-decoder ``Transformer`` (untrained: masks work by
construction, not by learning):

1. Change one target token at position ``k``. With the causal mask the decoder outputs at
   positions ``< k`` stay *bit-for-bit* identical; without it, every position changes.
2. Fill the source padding with other tokens. With the padding mask, no output changes; without
   it, they all do.
3. Pad a source sentence with extra padding. With the padding mask the outputs equal those of the
   unpadded sentence (up to float rounding); without it they do not.

Shape legend: B batch, S source length, T target length, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from attention_lab.experiments.base import ExperimentResult
from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.nn.transformer import PRESETS, Transformer, with_vocab
from attention_lab.viz.figure import NotebookFigure


@dataclass
class MaskingResult(ExperimentResult):
    changed_position: int  # k: the target position whose token was changed
    change_by_position_with_mask: list[float]  # max |Δ logits| at each target position
    change_by_position_without_mask: list[float]
    max_change_before_with_mask: float  # over positions < k: exactly 0.0
    max_change_before_without_mask: float  # > 0: the future leaked
    padding_fill_change_with_mask: float  # max |Δ| at real positions, padding content changed
    padding_fill_change_without_mask: float
    padded_vs_unpadded_with_mask: float  # max |Δ| between a padded and an unpadded source
    padded_vs_unpadded_without_mask: float
    seed: int

    def plot(self):
        fig = NotebookFigure(figsize=(11, 3.8))
        causal, pad = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
        T = len(self.change_by_position_with_mask)
        floor = 1e-12  # an exact zero drawn at the bottom of a log axis
        x = list(range(T))
        causal.bar(
            [i - 0.2 for i in x],
            [max(v, floor) for v in self.change_by_position_with_mask],
            0.4,
            label="causal mask",
        )
        causal.bar(
            [i + 0.2 for i in x],
            [max(v, floor) for v in self.change_by_position_without_mask],
            0.4,
            label="no mask",
        )
        causal.axvline(self.changed_position - 0.5, color="red", lw=1, ls="--")
        causal.text(
            self.changed_position - 0.45,
            1,
            f"token {self.changed_position} changed",
            color="red",
            fontsize=8,
            va="bottom",
        )
        causal.set_yscale("log")
        causal.set_ylim(floor / 2, 100)
        causal.set_xlabel("target position")
        causal.set_ylabel("max |change in logits| (0 drawn at 1e-12)")
        causal.set_title("change a future token: do earlier outputs move?")
        causal.legend(fontsize=8, loc="upper left")
        labels = ["fill padding\nwith tokens", "add extra\npadding"]
        with_mask = [self.padding_fill_change_with_mask, self.padded_vs_unpadded_with_mask]
        without = [self.padding_fill_change_without_mask, self.padded_vs_unpadded_without_mask]
        pad.bar([-0.2, 0.8], [max(v, floor) for v in with_mask], 0.4, label="padding mask")
        pad.bar([0.2, 1.2], [max(v, floor) for v in without], 0.4, label="no mask")
        pad.set_xticks([0, 1], labels)
        pad.set_yscale("log")
        pad.set_ylim(floor / 2, 100)
        pad.set_ylabel("max |change| at real positions")
        pad.set_title("padding is ignored only with its mask")
        pad.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        return fig


@torch.no_grad()
def masking_demo(*, seed: int = 0, changed_position: int = 4) -> MaskingResult:
    """Measure what the causal and padding masks protect (see the module docstring)."""
    config = with_vocab(PRESETS["tiny"], 20, 20)
    torch.manual_seed(seed)
    model = Transformer(config).eval()
    pad = config.pad_id
    data = torch.Generator().manual_seed(seed + 1)
    src = torch.randint(1, 20, (1, 6), generator=data)  # (B, S), no padding
    tgt = torch.randint(1, 20, (1, 8), generator=data)  # (B, T)
    T = tgt.shape[1]
    if not 0 < changed_position < T:
        raise ValueError(f"changed_position: expected 0 < position < {T}, got {changed_position}")

    # 1) causal mask: change one future token
    other = tgt.clone()
    other[0, changed_position] = tgt[0, changed_position] % 19 + 1  # a different real token
    src_mask = padding_mask(src, pad)
    causal = causal_mask(T)
    change_with = _per_position(
        model(src, tgt, src_mask, causal) - model(src, other, src_mask, causal)
    )
    change_without = _per_position(model(src, tgt, src_mask) - model(src, other, src_mask))

    # 2) and 3) padding: a 4-token source padded to 7
    short = src[:, :4]  # (B, 4)
    padded = torch.cat([short, torch.full((1, 3), pad)], dim=1)  # (B, 7)
    filled = padded.clone()
    filled[:, 4:] = torch.randint(1, 20, (1, 3), generator=data)  # junk where padding was
    pmask = padding_mask(padded, pad)  # (B, 1, 1, 7): the same for ``filled``
    fill_with = _max(model(padded, tgt, pmask, causal) - model(filled, tgt, pmask, causal))
    fill_without = _max(model(padded, tgt, None, causal) - model(filled, tgt, None, causal))
    reference = model(short, tgt, padding_mask(short, pad), causal)
    pad_with = _max(model(padded, tgt, pmask, causal) - reference)
    pad_without = _max(model(padded, tgt, None, causal) - reference)

    k = changed_position
    return MaskingResult(
        changed_position=k,
        change_by_position_with_mask=change_with,
        change_by_position_without_mask=change_without,
        max_change_before_with_mask=max(change_with[:k]),
        max_change_before_without_mask=max(change_without[:k]),
        padding_fill_change_with_mask=fill_with,
        padding_fill_change_without_mask=fill_without,
        padded_vs_unpadded_with_mask=pad_with,
        padded_vs_unpadded_without_mask=pad_without,
        seed=seed,
    )


def _per_position(diff: Tensor) -> list[float]:
    return diff.abs().amax(dim=(0, 2)).tolist()  # (B, T, V) -> (T,)


def _max(diff: Tensor) -> float:
    return diff.abs().max().item()
