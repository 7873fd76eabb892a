"""The decoder at work: training with teacher forcing vs generation one token at a time.

Training (teacher forcing, Vaswani et al. 2017, sections 3.1 and 3.2.3): the decoder gets the
target shifted right (``<bos> y_1 .. y_n``) and predicts every next token at once, in one forward
pass; the causal mask stops position i from seeing positions after i. Generation: the decoder
has no target; it starts from ``<bos>``, and at every step the final Linear + softmax gives a
probability for every word of the vocabulary, the most likely is appended (greedy decoding) and
the decoder runs again. :func:`decoder_steps` records both from a trained model, with the top
``k`` candidates and their probabilities at every position; :func:`draw_decoder` draws them.

Shape legend: S source length, T target length, V vocabulary size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from matplotlib import colormaps
from matplotlib.patches import Rectangle
from torch import Tensor

from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.nn.transformer import Transformer, greedy_decode
from attention_lab.viz.figure import DescribedFigure

__all__ = ["DecoderSteps", "decoder_alt", "decoder_steps", "draw_decoder"]

Candidates = list[list[tuple[str, float]]]  # per position: the top k (token, probability)


@dataclasses.dataclass(frozen=True)
class DecoderSteps:
    """What the decoder predicted, position by position, in both modes."""

    source: list[str]
    decoder_input: list[str]  # teacher forcing: <bos> + target (the target shifted right)
    target: list[str]  # what each position must predict: target + <eos>
    forced: Candidates  # teacher forcing: top k at every position, from one forward pass
    generated: list[str]  # greedy generation: the tokens chosen, <eos> included
    steps: Candidates  # generation: top k at each step, from the tokens generated so far


def _top(logits: Tensor, vocab: Sequence[str], k: int) -> list[tuple[str, float]]:
    probs = torch.softmax(logits.double(), dim=-1)  # (V,): the final Linear + softmax
    values, ids = probs.topk(k)
    return [(vocab[i], float(p)) for i, p in zip(ids.tolist(), values.tolist())]


@torch.no_grad()
def decoder_steps(
    model: Transformer,
    src_ids: Sequence[int],
    tgt_ids: Sequence[int],
    vocab: Sequence[str],
    *,
    bos_id: int,
    eos_id: int,
    k: int = 3,
) -> DecoderSteps:
    """Run a trained encoder-decoder on one pair both ways: teacher-forced and generated.

    ``src_ids``/``tgt_ids``: the ids of the source and of the reference target (no specials);
    ``vocab[i]`` names id i. Greedy generation runs until ``<eos>`` or ``len(tgt_ids) + 3`` tokens
    and is checked against :func:`attention_lab.greedy_decode`.
    """
    if not isinstance(model, Transformer):
        raise TypeError(f"model: expected an attention_lab Transformer, got {type(model).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(vocab):
        raise ValueError(f"k: expected an int in [1, {len(vocab)}], got {k!r}")
    if not len(src_ids) or not len(tgt_ids):
        raise ValueError("src_ids, tgt_ids: expected non-empty id lists, got an empty one")
    model.eval()
    src = torch.tensor([list(src_ids)])  # (1, S)
    tgt_in = torch.tensor([[bos_id, *tgt_ids]])  # (1, T): shifted right
    # teacher forcing: every position at once, under the causal mask
    logits = model(src, tgt_in, *model.make_masks(src, tgt_in))  # (1, T, V)
    forced = [_top(row, vocab, k) for row in logits[0]]
    # generation: one token at a time, each step reads the tokens generated so far
    src_mask = padding_mask(src, model.config.pad_id)
    memory = model.encode(src, src_mask)  # (1, S, D)
    out, steps = [bos_id], []
    for _ in range(len(tgt_ids) + 3):
        ids = torch.tensor([out])  # (1, t)
        step_logits = model.decode(ids, memory, causal_mask(len(out)), src_mask)  # (1, t, V)
        steps.append(_top(step_logits[0, -1], vocab, k))
        out.append(int(step_logits[0, -1].argmax()))
        if out[-1] == eos_id:
            break
    reference = greedy_decode(model, src, max_len=len(out), bos_id=bos_id, eos_id=eos_id)[0]
    if reference.tolist() != out[: len(reference)]:  # pragma: no cover (a broken decoder)
        raise RuntimeError(f"step-by-step generation {out} differs from greedy_decode {reference}")
    names = lambda ids: [vocab[i] for i in ids]  # noqa: E731
    return DecoderSteps(
        names(src_ids), names(tgt_in[0].tolist()), names([*tgt_ids, eos_id]), forced,
        names(out[1:]), steps,
    )  # fmt: skip


def decoder_alt(steps: DecoderSteps) -> str:
    """The figure in words, from the recorded probabilities."""
    forced_right = sum(c[0][0] == t for c, t in zip(steps.forced, steps.target))
    lowest = min(range(len(steps.steps)), key=lambda i: steps.steps[i][0][1])
    token, p = steps.steps[lowest][0]
    return (
        f"Translating '{' '.join(steps.source)}'. Training (teacher forcing): the decoder reads "
        f"'{' '.join(steps.decoder_input)}' (the target shifted right) and predicts all "
        f"{len(steps.target)} next tokens in one pass; its top candidate is right at "
        f"{forced_right} of {len(steps.target)} positions. Generation: {len(steps.steps)} steps, "
        f"one token at a time, giving '{' '.join(steps.generated)}'; the least certain step is "
        f"step {lowest + 1}, where '{token}' gets probability {p:.3f}."
    )


def _cell(ax, x: float, y: float, text: str, p: float | None = None, bold: bool = False,
          w: float = 1.0, h: float = 0.5) -> None:  # fmt: skip
    colour = "white" if p is None else colormaps["cividis"](0.25 + 0.75 * p)
    ink = "white" if p is not None and p < 0.45 else "black"
    ax.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor="#777", lw=0.8))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8, color=ink,
            weight="bold" if bold else "normal")  # fmt: skip


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.0e}"


def draw_decoder(steps: DecoderSteps) -> DescribedFigure:
    """Left: teacher forcing, every position at once. Right: generation, one row per step. Each
    cell is a candidate from the final Linear + softmax with its probability (darker = more)."""
    if not isinstance(steps, DecoderSteps):
        raise TypeError(f"steps: expected DecoderSteps (from decoder_steps), got {steps!r:.60}")
    k = len(steps.forced[0])
    T, n = len(steps.target), len(steps.steps)
    fig = DescribedFigure(figsize=(13, 1.2 + 0.42 * max(k + 3, n + 1.5)))
    ax_forced, ax_gen = fig.subplots(1, 2, width_ratios=[T + 2, k + 3])
    # teacher forcing: a column per position
    rows = ["decoder input", *[f"candidate {r + 1}" for r in range(k)], "target"]
    for r, name in enumerate(rows):
        ax_forced.text(-0.1, -(r + 0.5) * 0.5 - 0.0, name, ha="right", va="center", fontsize=8)
    for t in range(T):
        _cell(ax_forced, t, -0.5, steps.decoder_input[t])
        for r, (token, p) in enumerate(steps.forced[t]):
            _cell(
                ax_forced, t, -0.5 * (r + 2), f"{token} {_p(p)}", p, bold=token == steps.target[t]
            )
        _cell(ax_forced, t, -0.5 * (k + 2), steps.target[t])
    ax_forced.set_xlim(-2.2, T + 0.1)
    ax_forced.set_ylim(-0.5 * (k + 2) - 0.2, 0.9)
    ax_forced.axis("off")
    ax_forced.set_title(
        "training: teacher forcing, every position in one pass\n(the target shifted right; "
        "position i sees inputs 1..i only)", fontsize=9,
    )  # fmt: skip
    # generation: a row per step
    so_far = ["<bos>"]
    header = ["reads", *[f"candidate {r + 1}" for r in range(k)]]
    for c, name in enumerate(header):
        _cell(ax_gen, c * 1.6, 0, name, w=1.6)
    for s, candidates in enumerate(steps.steps):
        y = -0.5 * (s + 1)
        read = " ".join(so_far) if len(so_far) <= 4 else "... " + " ".join(so_far[-3:])
        _cell(ax_gen, 0, y, read, w=1.6)
        for r, (token, p) in enumerate(candidates):
            _cell(ax_gen, (r + 1) * 1.6, y, f"{token} {_p(p)}", p, bold=r == 0, w=1.6)
        ax_gen.text(-0.1, y + 0.25, f"step {s + 1}", ha="right", va="center", fontsize=8)
        so_far.append(candidates[0][0])
    ax_gen.set_xlim(-1.0, (k + 1) * 1.6 + 0.1)
    ax_gen.set_ylim(-0.5 * (n + 1) - 0.1, 0.9)
    ax_gen.axis("off")
    ax_gen.set_title(
        f"generation: one token per step, the most likely appended\n-> "
        f"'{' '.join(steps.generated)}'", fontsize=9,
    )  # fmt: skip
    fig.suptitle(f"The decoder at work on '{' '.join(steps.source)}'", fontsize=11)
    fig.tight_layout()
    fig.alt_text = decoder_alt(steps)
    return fig
