"""The masks side by side for a real padded batch: padding, causal, and both combined.

Masks are boolean, ``True`` = "may attend" (as ``torch.nn.functional.scaled_dot_product_attention``).
The padding mask hides the keys that are padding (:func:`attention_lab.padding_mask`); the causal
mask hides the keys after the query (:func:`attention_lab.causal_mask`, Vaswani et al. 2017,
section 3.2.3); the decoder's self-attention uses both at once, the ``&`` of the two, as
``Transformer.make_masks`` builds it. Every panel is computed by those functions.

Shape legend: B batch, T padded length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from torch import Tensor

from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.viz.figure import DescribedFigure

__all__ = ["BatchMasks", "batch_masks", "draw_masks", "masks_alt"]


@dataclasses.dataclass(frozen=True)
class BatchMasks:
    """The three masks of one sentence of a padded batch, each ``(T, T)`` (query row, key column)."""

    batch: list[list[str]]  # (B, T) the batch's tokens, padding included
    row: int  # which sentence the masks are drawn for
    pad_token: str
    padding: np.ndarray  # (T, T) bool
    causal: np.ndarray  # (T, T) bool
    combined: np.ndarray  # (T, T) bool

    @property
    def tokens(self) -> list[str]:
        return self.batch[self.row]

    @property
    def real(self) -> int:
        return sum(t != self.pad_token for t in self.tokens)


def batch_masks(
    ids: Tensor, tokens: Sequence[Sequence[str]], pad_id: int, row: int | None = None
) -> BatchMasks:
    """The masks of sentence ``row`` of the padded batch ``ids`` ``(B, T)`` (default: the one with
    the most padding); ``tokens`` are the batch's tokens as text, padding included."""
    if not isinstance(ids, Tensor) or ids.dim() != 2 or ids.is_floating_point():
        got = tuple(ids.shape) if isinstance(ids, Tensor) else type(ids).__name__
        raise ValueError(f"ids: expected integer token ids of shape (B, T), got {got}")
    B, T = ids.shape
    if len(tokens) != B or any(len(t) != T for t in tokens):
        raise ValueError(
            f"tokens: expected {B} lists of {T} tokens (the padded batch as text), got lengths "
            f"{[len(t) for t in tokens]}"
        )
    if row is None:
        row = int((ids == pad_id).sum(dim=1).argmax())
    if not 0 <= row < B:
        raise ValueError(f"row: expected a sentence index in [0, {B - 1}], got {row}")
    padding = padding_mask(ids, pad_id)[row, 0].expand(T, T)  # (1, T) keys -> (T, T)
    causal = causal_mask(T)  # (T, T)
    pad_tokens = {tokens[b][t] for b, t in (ids == pad_id).nonzero().tolist()}
    pad_token = pad_tokens.pop() if pad_tokens else "<pad>"
    as_np = lambda m: m.cpu().numpy().astype(bool)  # noqa: E731
    return BatchMasks(
        [list(map(str, t)) for t in tokens], row, pad_token, as_np(padding), as_np(causal),
        as_np(padding & causal),
    )  # fmt: skip


def masks_alt(masks: BatchMasks) -> str:
    """The figure in words, from the masks: how many keys each query may see under each."""
    T, real = len(masks.tokens), masks.real
    seen = lambda m: ", ".join(str(int(n)) for n in m.sum(axis=1))  # noqa: E731
    return (
        f"A padded batch of {len(masks.batch)} sentences, {T} positions each; sentence "
        f"{masks.row + 1} has {real} real tokens and {T - real} padding. Padding mask: every "
        f"query may see the {real} real keys and no padding key (keys seen per query: "
        f"{seen(masks.padding)}). Causal mask: query i sees keys 1..i (per query: "
        f"{seen(masks.causal)}). Both combined, as the decoder's self-attention uses them: "
        f"{seen(masks.combined)} keys per query."
    )


def draw_masks(masks: BatchMasks) -> DescribedFigure:
    """Left: the padded batch (padding in grey). Right: the padding, causal and combined masks of
    one sentence; bright = may attend, dark = blocked (cividis)."""
    if not isinstance(masks, BatchMasks):
        raise TypeError(f"masks: expected BatchMasks (from batch_masks), got {masks!r:.60}")
    T = len(masks.tokens)
    fig = DescribedFigure(figsize=(4 + 3 * (0.32 * T + 1.2), 0.32 * T + 2.2))
    axes = fig.subplots(1, 4, width_ratios=[1.3, 1, 1, 1])
    ax = axes[0]
    is_pad = np.array([[t == masks.pad_token for t in row] for row in masks.batch])
    ax.imshow(is_pad, cmap=ListedColormap(["#ffffff", "#bbbbbb"]), vmin=0, vmax=1, aspect="auto")
    for b, row in enumerate(masks.batch):
        for t, token in enumerate(row):
            ax.text(t, b, token, ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(masks.batch)), [f"sentence {b + 1}" for b in range(len(masks.batch))])
    ax.set_xticks(range(T), [str(t + 1) for t in range(T)], fontsize=7)
    ax.set_title("the padded batch (grey: padding)", fontsize=9)
    colours = ListedColormap(["#00204d", "#ffea46"])  # the ends of cividis: blocked, allowed
    for ax, (name, mask) in zip(
        axes[1:],
        (
            ("padding", masks.padding),
            ("causal", masks.causal),
            ("padding & causal", masks.combined),
        ),
    ):
        ax.imshow(mask, cmap=colours, vmin=0, vmax=1)
        ax.set_xticks(range(T), masks.tokens, rotation=90, fontsize=7)
        ax.set_yticks(range(T), masks.tokens, fontsize=7)
        ax.set_xlabel("key (may it be seen?)", fontsize=8)
        ax.set_title(f"{name}: sentence {masks.row + 1}", fontsize=9)
    axes[1].set_ylabel("query", fontsize=8)
    fig.suptitle("True (bright) = may attend; each row is what one query may see", fontsize=10)
    fig.tight_layout()
    fig.alt_text = masks_alt(masks)
    return fig
