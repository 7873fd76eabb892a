"""3.1 Before attention replaced recurrence it was added to it: the fixed-size bottleneck, measured.

Three models learn the same number translation (``NumberTranslation``, words -> digits,
"three hundred and forty-two" -> "3 4 2") with the same budget: the same training numbers in the
same order (seeded), the same steps, batch size, optimizer (Adam), learning-rate schedule and
gradient clipping, through the project's one training loop (``attention_lab.training.train``):

- ``rnn``: an LSTM encoder-decoder (Sutskever et al. 2014; Cho et al. 2014); the decoder sees the
  source only through the encoder's last state, one fixed-size vector;
- ``rnn+attention``: the same with additive attention (Bahdanau, Cho and Bengio 2014); the decoder
  looks at every encoder state at every step;
- ``transformer``: the library's encoder-decoder ``Transformer`` (Vaswani et al. 2017).

Each is scored by exact match (greedy decoding) on held-out numbers, grouped by the length of the
source in words: the longer the input, the more the bottleneck has to hold. The figure also shows
the alignment the attention model learned (its additive-attention weights on one held-out
number), the picture Bahdanau et al. drew in their Figure 3.

Shape legend: B batch, S source length, T target length, V vocabulary size.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.nn.seq2seq_rnn import AttentionRNNEncoderDecoder, RNNEncoderDecoder
from attention_lab.nn.transformer import Transformer, TransformerConfig, greedy_decode
from attention_lab.tasks.numbers import NumberTranslation
from attention_lab.training import StepOutput, TrainConfig, train
from attention_lab.viz.figure import DescribedFigure
from attention_lab.viz.heatmap import plot_attention

MODELS = ("rnn", "rnn+attention", "transformer")
LABELS = {
    "rnn": "RNN encoder-decoder",
    "rnn+attention": "RNN + additive attention",
    "transformer": "Transformer",
}


@dataclasses.dataclass
class RNNAttentionResult(ExperimentResult):
    source_lengths: list[int]  # source length in words of each group of held-out numbers
    test_counts: list[int]  # held-out numbers per source length
    exact_match: dict[str, list[float]]  # model -> exact match per source length
    overall: dict[str, float]  # model -> exact match on all held-out numbers
    params: dict[str, int]
    train_seconds: dict[str, float]  # CPU time of each model's training
    steps: int
    batch_size: int
    lr: float
    hidden_size: int
    max_number: int
    seed: int
    alignment: list[list[float]]  # (T_out, S) the attention model's weights on one example
    alignment_source: list[str]
    alignment_output: list[str]

    def plot(self) -> DescribedFigure:
        return plot_rnn_attention(self)


def make_model(name: str, vocab_size: int, hidden_size: int) -> nn.Module:
    """One of MODELS, of width ``hidden_size`` (the Transformer: d_model = hidden_size)."""
    if name == "rnn":
        return RNNEncoderDecoder(vocab_size, hidden_size)
    if name == "rnn+attention":
        return AttentionRNNEncoderDecoder(vocab_size, hidden_size)
    if name == "transformer":
        config = TransformerConfig(
            src_vocab_size=vocab_size, tgt_vocab_size=vocab_size, d_model=hidden_size,
            num_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=2 * hidden_size,
            dropout=0.0, max_len=32, share_embeddings=True,
        )  # fmt: skip
        return Transformer(config)
    raise ValueError(f"name: expected one of {MODELS}, got {name!r}")


def rnn_loss(model: nn.Module, batch: Any) -> StepOutput:
    """Token cross-entropy of a teacher-forced RNN encoder-decoder (sums, as the loop expects)."""
    logits = model(batch.src, batch.tgt_in)  # (B, T, V)
    real = batch.tgt_out != 0
    loss_sum = F.cross_entropy(
        logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=0, reduction="sum"
    )
    correct = ((logits.argmax(-1) == batch.tgt_out) & real).sum()
    return StepOutput(loss_sum, int(real.sum()), int(correct))


@torch.no_grad()
def decode(model: nn.Module, task: NumberTranslation, src: torch.Tensor) -> torch.Tensor:
    """Greedy translations ``(B, <= max_len)`` of a padded source batch, for any of MODELS."""
    tok, max_len = task.tokenizer, task.max_target_len + 2
    model.eval()
    if isinstance(model, Transformer):
        return greedy_decode(model, src, max_len=max_len, bos_id=tok.bos_id, eos_id=tok.eos_id)
    return model.generate(src, max_len, tok.bos_id, tok.eos_id)


def exact_by_length(model: nn.Module, test: NumberTranslation) -> dict[int, list[bool]]:
    """Source length in words -> whether each held-out number of that length came out exactly."""
    tok = test.tokenizer
    items = [test[i] for i in range(len(test))]
    out = decode(model, test, tok.pad([s for s, _ in items]))  # (N, T)
    groups: dict[int, list[bool]] = defaultdict(list)
    for (source, target), row in zip(items, out):
        groups[len(source)].append(tok.tokens(row) == tok.tokens(target))
    return groups


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    steps: int | None = None,
    hidden_size: int = 64,
    max_number: int = 9999,
    models: tuple[str, ...] = MODELS,
) -> RNNAttentionResult:
    """Train each model with the same budget and seed; exact match by source length."""
    for name in models:
        if name not in MODELS:
            raise ValueError(f"models: expected names from {MODELS}, got {name!r}")
    steps = steps if steps is not None else (300 if quick else 1500)
    count = max_number + 1  # keep ~10% (at most 500) for testing, ~5% (at most 50) unused
    task = NumberTranslation(
        max_number, "words-to-digits", test_size=min(500, count // 10),
        valid_size=min(50, count // 20), seed=seed,
    )  # fmt: skip
    test = task.with_split("test")
    config = TrainConfig(steps=steps, batch_size=64, lr=3e-3, warmup=min(100, steps // 5),
                         seed=seed, log_every=max(steps // 10, 1))  # fmt: skip
    results, params, seconds, trained = {}, {}, {}, {}
    for name in progress_bar(models, description="rnn-attention", enabled=progress):
        torch.manual_seed(seed)  # the same seed gives each model its initial weights
        model = make_model(name, len(task.tokenizer), hidden_size)
        loss_fn = None if name == "transformer" else rnn_loss
        started = time.process_time()
        train(model, task, config, collate=task.collate, loss_fn=loss_fn, progress=False)
        seconds[name] = time.process_time() - started
        results[name] = exact_by_length(model, test)
        params[name] = sum(p.numel() for p in model.parameters())
        trained[name] = model
    lengths = sorted(next(iter(results.values())))
    exact = {n: [sum(g[L]) / len(g[L]) for L in lengths] for n, g in results.items()}
    overall = {n: sum(map(sum, g.values())) / len(test) for n, g in results.items()}
    alignment, source, output = [], [], []
    if "rnn+attention" in trained:
        alignment, source, output = _alignment(trained["rnn+attention"], test)
    return RNNAttentionResult(
        source_lengths=lengths, test_counts=[len(results[models[0]][L]) for L in lengths],
        exact_match=exact, overall=overall, params=params, train_seconds=seconds, steps=steps,
        batch_size=config.batch_size, lr=config.lr, hidden_size=hidden_size,
        max_number=max_number, seed=seed, alignment=alignment, alignment_source=source,
        alignment_output=output,
    )  # fmt: skip


def _alignment(model: nn.Module, test: NumberTranslation) -> tuple[list, list[str], list[str]]:
    """The attention model's weights while it translates the longest held-out number."""
    longest = max(range(len(test)), key=lambda i: len(test[i][0]))
    tok = test.tokenizer
    source_ids = test[longest][0]
    out = decode(model, test, torch.tensor([source_ids]))[0]  # (T,)
    output = [*tok.tokens(out), "<eos>"][: model.last_alignment.shape[1]]
    weights = model.last_alignment[0, : len(output)]  # (T_out, S)
    return weights.tolist(), tok.tokens(source_ids), output


def plot_rnn_attention(result: RNNAttentionResult) -> DescribedFigure:
    """Left: exact match by source length, per model. Right: the learned alignment."""
    fig = DescribedFigure(figsize=(12, 4.2))
    ax, ax_align = fig.subplots(1, 2, width_ratios=[1.2, 1])
    for name, marker in zip(result.exact_match, "os^"):
        ax.plot(result.source_lengths, result.exact_match[name], marker=marker,
                label=f"{LABELS[name]} ({result.overall[name]:.0%} overall)")  # fmt: skip
    ax.set_xlabel("source length (words)")
    ax.set_ylabel("held-out exact match")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"same budget: {result.steps} steps x {result.batch_size}, seed {result.seed}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if result.alignment:
        plot_attention(result.alignment, result.alignment_output, result.alignment_source,
                       ax=ax_align, title="alignment learned by additive attention")  # fmt: skip
        ax_align.set_xlabel("source word")
        ax_align.set_ylabel("output digit (query)")
    else:
        ax_align.set_axis_off()
    fig.tight_layout()
    fig.alt_text = rnn_attention_alt(result)
    return fig


def rnn_attention_alt(result: RNNAttentionResult) -> str:
    """The figure in words, from the result."""
    parts = [
        f"Held-out exact match by source length ({result.source_lengths[0]} to "
        f"{result.source_lengths[-1]} words), {result.steps} training steps each:"
    ]
    for name, values in result.exact_match.items():
        parts.append(
            f" {LABELS[name]} {values[0]:.0%} at the shortest, {values[-1]:.0%} at the longest, "
            f"{result.overall[name]:.0%} overall;"
        )
    if result.alignment:
        peaks = [
            result.alignment_source[max(range(len(r)), key=r.__getitem__)] for r in result.alignment
        ]
        pairs = ", ".join(f"{o}->{s}" for o, s in zip(result.alignment_output, peaks))
        parts.append(
            f" the attention model translating '{' '.join(result.alignment_source)}' looks most "
            f"at: {pairs}."
        )
    return "".join(parts)
