"""3.3 How the paper trains, measured on the number translator: label smoothing and warm-up.

The translator (words -> digits, ``NumberTranslation``) is trained with teacher forcing (the
target shifted right, every position at once under the causal mask) by the project's training
loop, in five variants that differ in one thing each, with the same data order, steps, batch and
peak learning rate (seeded):

- ``baseline``: post-norm 2 + 2 layers, linear warm-up then cosine decay, no label smoothing;
- ``label smoothing``: the same with label smoothing 0.1 (Vaswani et al. 2017, section 5.4: the
  target distribution puts 0.9 on the right token and spreads 0.1 over the vocabulary; "this
  hurts perplexity, as the model learns to be more unsure, but improves accuracy and BLEU");
- ``deep post-norm, warm-up`` / ``deep post-norm, no warm-up``: 6 + 6 post-norm layers, with and
  without the warm-up (section 5.3; Xiong et al. 2020: post-norm puts a LayerNorm on every
  residual path, and without warm-up its early updates are too large);
- ``deep pre-norm, no warm-up``: 6 + 6 pre-norm layers without warm-up, the control.

Measured on held-out numbers: exact match (greedy decoding), the cross-entropy of the reference
tokens (teacher forcing, no smoothing: the log of the perplexity), and the mean probability the
model gives its top token (its confidence). The figure also plots the warm-up formula, Eq. 3:
``lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)``.

Shape legend: B batch, T target length, V vocabulary size.
"""

from __future__ import annotations

import dataclasses
import time

import torch
import torch.nn.functional as F

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.experiments.rnn_attention import exact_by_length
from attention_lab.nn.transformer import Transformer, TransformerConfig
from attention_lab.tasks.numbers import NumberTranslation
from attention_lab.training import TrainConfig, lr_lambda, train
from attention_lab.viz.figure import DescribedFigure

# name -> (layers per stack, pre-norm?, label smoothing, warm-up?)
VARIANTS: dict[str, tuple[int, bool, float, bool]] = {
    "baseline": (2, False, 0.0, True),
    "label smoothing": (2, False, 0.1, True),
    "deep post-norm, warm-up": (6, False, 0.0, True),
    "deep post-norm, no warm-up": (6, False, 0.0, False),
    "deep pre-norm, no warm-up": (6, True, 0.0, False),
}


@dataclasses.dataclass
class TrainingRecipeResult(ExperimentResult):
    variants: list[str]
    exact_match: dict[str, float]  # held-out exact match, greedy decoding
    test_nll: dict[str, float]  # held-out cross-entropy per reference token (no smoothing)
    confidence: dict[str, float]  # held-out mean probability of the top token
    final_train_loss: dict[str, float]  # training loss at the end (with smoothing, if any)
    loss_curves: dict[str, list[float]]  # training loss every log_every steps
    curve_steps: list[int]
    cpu_seconds: dict[str, float]
    steps: int
    batch_size: int
    lr: float
    warmup: int
    d_model: int
    seed: int

    def plot(self) -> DescribedFigure:
        return plot_training_recipe(self)


def paper_schedule(step: int, d_model: int = 512, warmup: int = 4000) -> float:
    """Eq. 3 of the paper: ``d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)`` (step >= 1)."""
    config = TrainConfig(schedule="noam", warmup=warmup, lr=1.0)
    return lr_lambda(config, d_model)(step - 1)  # lr_lambda counts steps from 0


@torch.no_grad()
def test_metrics(model: Transformer, test: NumberTranslation) -> tuple[float, float]:
    """(cross-entropy per reference token, mean top-token probability) under teacher forcing."""
    model.eval()
    batch = test.batch(range(len(test)))
    logits = model(batch.src, batch.tgt_in, *model.make_masks(batch.src, batch.tgt_in))
    real = batch.tgt_out != 0  # (B, T)
    nll = F.cross_entropy(logits[real], batch.tgt_out[real])  # mean over real tokens
    confidence = torch.softmax(logits[real].double(), dim=-1).max(dim=-1).values.mean()
    return float(nll), float(confidence)


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    steps: int | None = None,
    d_model: int = 32,
    lr: float = 3e-3,
    variants: tuple[str, ...] = tuple(VARIANTS),
) -> TrainingRecipeResult:
    """Train every variant with the same data, steps and peak learning rate; test each."""
    for name in variants:
        if name not in VARIANTS:
            raise ValueError(f"variants: expected names from {tuple(VARIANTS)}, got {name!r}")
    steps = steps if steps is not None else (300 if quick else 1500)
    warmup = max(1, steps // 5)
    task = NumberTranslation(9999, "words-to-digits", test_size=500, valid_size=50, seed=seed)
    test = task.with_split("test")
    out: dict[str, dict[str, float]] = {k: {} for k in ("exact", "nll", "conf", "loss", "cpu")}
    curves: dict[str, list[float]] = {}
    curve_steps: list[int] = []
    for name in progress_bar(variants, description="translator-training", enabled=progress):
        layers, pre_norm, smoothing, warm = VARIANTS[name]
        torch.manual_seed(seed)
        model = Transformer(TransformerConfig(
            src_vocab_size=len(task.tokenizer), tgt_vocab_size=len(task.tokenizer),
            d_model=d_model, num_heads=4, num_encoder_layers=layers, num_decoder_layers=layers,
            d_ff=4 * d_model, dropout=0.0, norm_first=pre_norm, max_len=32, share_embeddings=True,
        ))  # fmt: skip
        config = TrainConfig(
            steps=steps, batch_size=64, lr=lr, schedule="cosine", warmup=warmup if warm else 0,
            label_smoothing=smoothing, seed=seed, log_every=max(1, steps // 20),
        )  # fmt: skip
        started = time.process_time()
        trained = train(model, task, config, collate=task.collate, progress=False)
        out["cpu"][name] = time.process_time() - started
        groups = exact_by_length(model, test)
        out["exact"][name] = sum(map(sum, groups.values())) / len(test)
        out["nll"][name], out["conf"][name] = test_metrics(model, test)
        curves[name] = [h["loss"] for h in trained.history]
        curve_steps = [h["step"] for h in trained.history]
        out["loss"][name] = curves[name][-1]
    return TrainingRecipeResult(
        variants=list(variants), exact_match=out["exact"], test_nll=out["nll"],
        confidence=out["conf"], final_train_loss=out["loss"], loss_curves=curves,
        curve_steps=curve_steps, cpu_seconds=out["cpu"], steps=steps, batch_size=64, lr=lr,
        warmup=warmup, d_model=d_model, seed=seed,
    )  # fmt: skip


def training_recipe_alt(result: TrainingRecipeResult) -> str:
    """The figure in words, from the result."""
    parts = [
        f"Left: the paper's learning-rate schedule (Eq. 3) for d_model = 512 and 4000 warm-up "
        f"steps, peaking at {paper_schedule(4000):.2e} at step 4000. Middle: training loss over "
        f"{result.steps} steps for each variant. Right, held-out results:"
    ]
    for name in result.variants:
        parts.append(
            f" {name}: exact match {result.exact_match[name]:.0%}, cross-entropy "
            f"{result.test_nll[name]:.3f}, confidence {result.confidence[name]:.3f};"
        )
    return "".join(parts)


def plot_training_recipe(result: TrainingRecipeResult) -> DescribedFigure:
    """The Eq. 3 schedule, the loss curves, and the held-out numbers per variant."""
    fig = DescribedFigure(figsize=(14, 4.2))
    ax_lr, ax_loss, ax_bar = fig.subplots(1, 3, width_ratios=[1, 1.2, 1.1])
    steps = list(range(1, 20_001, 50))
    for warmup in (4000, 1000):
        ax_lr.plot(steps, [paper_schedule(s, 512, warmup) for s in steps],
                   label=f"warmup_steps = {warmup}")  # fmt: skip
    ax_lr.set_xlabel("training step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_title("Eq. 3: d_model^-0.5 min(step^-0.5, step warmup^-1.5)", fontsize=9)
    ax_lr.legend(fontsize=8)
    for name in result.variants:
        ax_loss.plot(result.curve_steps, result.loss_curves[name], label=name)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title(f"d_model {result.d_model}, peak lr {result.lr}, seed {result.seed}")
    ax_loss.legend(fontsize=7)
    y = range(len(result.variants))
    ax_bar.barh(y, [result.exact_match[n] for n in result.variants], color="tab:green")
    ax_bar.set_yticks(y, result.variants, fontsize=8)
    ax_bar.invert_yaxis()
    ax_bar.set_xlim(0, 1.3)
    ax_bar.set_xlabel("held-out exact match")
    for i, name in enumerate(result.variants):
        ax_bar.text(result.exact_match[name] + 0.02, i,
                    f"{result.exact_match[name]:.0%}  conf {result.confidence[name]:.2f}",
                    va="center", fontsize=8)  # fmt: skip
    fig.tight_layout()
    fig.alt_text = training_recipe_alt(result)
    return fig
