"""Without positional encoding, a Transformer cannot solve a task that depends on word order.

Claim (Vaswani et al. 2017, section 3.5): attention has no notion of order, so order must be added
to the embeddings. Self-attention and the position-wise FFN are permutation-equivariant: without
positional encoding, a token's output is a function of the token and of the *multiset* of tokens
around it, never of where anything is.

Measured here: the same encoder (embedding, N encoder layers, a linear classifier per position) is
trained twice on each task of ``attention_lab.tasks.sequences``, with and without the sinusoidal
encoding, and evaluated on held-out sequences. Reversal (order-dependent) is solved with positions
and stays near the best any order-blind model can do without them; counting and sorting-by-rank
(order-free) are solved either way.

Shape legend: B batch, T sequence length, D = d_model, C classes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult, progress
from attention_lab.nn.blocks import EncoderLayer
from attention_lab.nn.positional import PositionalEncoding
from attention_lab.nn.transformer import Encoder
from attention_lab.tasks.sequences import SEQUENCE_TASKS, SequenceTask
from attention_lab.viz.figure import NotebookFigure


class SequenceTagger(nn.Module):
    """Token ids ``(B, T)`` -> one classification per position, logits ``(B, T, C)``."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        *,
        positional: bool,
        d_model: int = 64,
        num_heads: int = 4,
        d_ff: int = 128,
        num_layers: int = 2,
        max_len: int = 64,
    ):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        # entries of size 1/√D, so that after the √D scaling tokens and positions weigh alike
        # (nn.Embedding's N(0, 1) would be √D = 8 times larger than the encoding's [-1, 1])
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        self.positional = PositionalEncoding(d_model, max_len=max_len) if positional else None
        self.encoder = Encoder([EncoderLayer(d_model, num_heads, d_ff) for _ in range(num_layers)])
        self.classify = nn.Linear(d_model, num_classes)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.embed(tokens) * math.sqrt(self.d_model)  # (B, T) -> (B, T, D), section 3.4
        if self.positional is not None:
            x = self.positional(x)  # + PE[:T], section 3.5
        return self.classify(self.encoder(x))  # (B, T, D) -> (B, T, C)


@dataclass
class PositionalAblationResult(ExperimentResult):
    tasks: list[str]  # task names, in the order of every list below
    order_dependent: list[bool]
    accuracy_with_pe: list[float]  # held-out per-token accuracy
    accuracy_without_pe: list[float]
    sequence_accuracy_with_pe: list[float]  # held-out sequences with every token right
    sequence_accuracy_without_pe: list[float]
    order_blind_ceiling: list[float]  # best per-token accuracy possible without order information
    majority_baseline: list[float]  # always answering the most common label
    loss_with_pe: list[list[float]]  # training loss, one value per logged step
    loss_without_pe: list[list[float]]
    logged_steps: list[int]
    steps: int
    length: int
    vocab_size: int
    d_model: int
    num_layers: int
    seed: int
    seconds: float

    def plot(self):
        fig = NotebookFigure(figsize=(11, 4.2))
        bars, curves = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
        x = torch.arange(len(self.tasks)).tolist()
        w = 0.38
        bars.bar([i - w / 2 for i in x], self.accuracy_with_pe, w, label="with PE")
        bars.bar([i + w / 2 for i in x], self.accuracy_without_pe, w, label="without PE")
        for i, ceiling in zip(x, self.order_blind_ceiling):
            bars.hlines(ceiling, i - 0.45, i + 0.45, colors="black", linestyles="--", lw=1)
        bars.plot([], [], "k--", lw=1, label="best possible without order")
        bars.set_xticks(
            x,
            [
                f"{t}\n({'order' if d else 'order-free'})"
                for t, d in zip(self.tasks, self.order_dependent)
            ],
        )
        bars.set_ylim(0, 1.1)
        bars.set_ylabel("held-out accuracy per token")
        bars.set_title("positional encoding ablation")
        for i in x:
            for dx, acc in (
                (-w / 2, self.accuracy_with_pe[i]),
                (w / 2, self.accuracy_without_pe[i]),
            ):
                bars.text(i + dx, acc + 0.01, f"{acc:.0%}", ha="center", va="bottom", fontsize=8)
        bars.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        for i, task in enumerate(self.tasks):
            (line,) = curves.plot(self.logged_steps, self.loss_with_pe[i], label=f"{task}, PE")
            curves.plot(
                self.logged_steps,
                self.loss_without_pe[i],
                "--",
                color=line.get_color(),
                label=f"{task}, no PE",
            )
        curves.set_yscale("log")
        curves.set_xlabel("training step")
        curves.set_ylabel("training loss (cross-entropy)")
        curves.set_title("training loss")
        curves.legend(fontsize=8, ncol=2)
        fig.tight_layout()
        return fig


def train_tagger(
    task: SequenceTask,
    *,
    positional: bool,
    steps: int,
    seed: int,
    batch_size: int = 64,
    lr: float = 2e-3,
    log_every: int = 10,
    model_kwargs: dict | None = None,
    progress_bar: bool = False,
) -> tuple[SequenceTagger, list[float]]:
    """Train a ``SequenceTagger`` on fresh batches of ``task``; returns the model and the loss
    logged every ``log_every`` steps (the mean over those steps)."""
    torch.manual_seed(seed)
    model = SequenceTagger(
        task.vocab_size, task.num_classes, positional=positional, **(model_kwargs or {})
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    data = torch.Generator().manual_seed(seed + 1)
    losses, running = [], 0.0
    label = f"{task.name}, {'with' if positional else 'without'} PE"
    for step in progress(range(steps), description=label, enabled=progress_bar):
        tokens, labels = task.sample(batch_size, data)  # (B, T), (B, T)
        logits = model(tokens)  # (B, T, C)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running += loss.item()
        if (step + 1) % log_every == 0:
            losses.append(running / log_every)
            running = 0.0
    return model.eval(), losses


@torch.no_grad()
def evaluate_tagger(model: SequenceTagger, tokens: Tensor, labels: Tensor) -> tuple[float, float]:
    """Per-token and whole-sequence accuracy of ``model`` on ``tokens`` ``(B, T)``."""
    correct = model(tokens).argmax(-1) == labels  # (B, T)
    return correct.float().mean().item(), correct.all(-1).float().mean().item()


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    tasks: tuple[str, ...] = SEQUENCE_TASKS,
    length: int = 8,
    vocab_size: int = 10,
    steps: int | None = None,
) -> PositionalAblationResult:
    """Train with and without positional encoding on every task; measure held-out accuracy.

    ``steps`` overrides the number of training steps (300 with ``quick``, 1500 without).
    """
    for name in tasks:
        if name not in SEQUENCE_TASKS:
            raise ValueError(f"tasks: expected names from {SEQUENCE_TASKS}, got {name!r}")
    if steps is None:
        steps = 300 if quick else 1500
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 10:
        raise ValueError(f"steps: expected an int >= 10, got {steps!r}")
    log_every = 10
    start = time.perf_counter()
    result: dict[str, list] = {
        k: []
        for k in (
            "order_dependent",
            "accuracy_with_pe",
            "accuracy_without_pe",
            "sequence_accuracy_with_pe",
            "sequence_accuracy_without_pe",
            "order_blind_ceiling",
            "majority_baseline",
            "loss_with_pe",
            "loss_without_pe",
        )
    }
    for name in tasks:
        task = SequenceTask(name, length=length, vocab_size=vocab_size)
        test_tokens, test_labels = task.sample(2000, torch.Generator().manual_seed(10_000 + seed))
        result["order_dependent"].append(task.order_dependent)
        result["order_blind_ceiling"].append(task.order_blind_ceiling(test_tokens))
        result["majority_baseline"].append(task.chance_accuracy(test_tokens))
        for positional, tag in ((True, "with_pe"), (False, "without_pe")):
            model, losses = train_tagger(
                task,
                positional=positional,
                steps=steps,
                seed=seed,
                log_every=log_every,
                progress_bar=progress,
            )
            token_acc, seq_acc = evaluate_tagger(model, test_tokens, test_labels)
            result[f"accuracy_{tag}"].append(token_acc)
            result[f"sequence_accuracy_{tag}"].append(seq_acc)
            result[f"loss_{tag}"].append(losses)
    return PositionalAblationResult(
        tasks=list(tasks),
        logged_steps=list(range(log_every, steps + 1, log_every)),
        steps=steps,
        length=length,
        vocab_size=vocab_size,
        d_model=64,
        num_layers=2,
        seed=seed,
        seconds=time.perf_counter() - start,
        **result,
    )
