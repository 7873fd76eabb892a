"""Predict the verb at the end of a long sentence: vanilla RNN vs LSTM vs a small Transformer.

The task (``attention_lab.tasks.agreement``): a singular or plural subject, ``L`` filler words
(some of them nouns of the other number), then the slot where ``is`` or ``are`` must go. The
answer depends on one token ``L + 1`` positions back, so the sweep over ``L`` measures how far
back each model can carry one bit of information.

A fair comparison: the three models get the same data (same seed), the same width (hidden size =
d_model), the same optimizer (Adam, one learning rate for all), the same batch size, the same
number of steps, the same gradient clipping, and are scored on the same held-out sentences. The
learning rate was chosen by the same grid for all three (see ``LEARNING_RATE``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.nn.blocks import EncoderLayer
from attention_lab.nn.multihead import use_fast_attention
from attention_lab.nn.positional import PositionalEncoding
from attention_lab.tasks.agreement import AgreementBatch, agreement_task

MODELS = ("rnn", "lstm", "transformer")
# Adam's learning rate, picked from {1e-3, 3e-3, 1e-2} by the same sweep for all three models
# (quick settings, L in {5, 25, 50, 100}): 3e-3 was the best or tied for the best for each.
LEARNING_RATE = 3e-3
CLIP_NORM = 1.0  # gradient-norm clipping, the same for all three
TEST_SIZE = 1000


class RecurrentClassifier(nn.Module):
    """Embedding -> a fused ``nn.RNN`` (tanh) or ``nn.LSTM`` -> a linear read-out of h_T.

    ``nn.RNN`` computes exactly what ``attention_lab.TanhRNN`` writes out step by step (a test
    checks it); the fused kernel is used here for speed. The LSTM's forget-gate bias starts at 1
    (Jozefowicz et al. 2015; Keras' ``unit_forget_bias``).
    """

    def __init__(self, cell: str, vocab_size: int, width: int):
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"cell: expected 'rnn' or 'lstm', got {cell!r}")
        self.embed = nn.Embedding(vocab_size, width)
        if cell == "rnn":
            self.rnn = nn.RNN(width, width, batch_first=True, nonlinearity="tanh")
        else:
            self.rnn = nn.LSTM(width, width, batch_first=True)
            with torch.no_grad():  # gate order: input, forget, cell, output
                self.rnn.bias_hh_l0[width : 2 * width] += 1.0
        self.head = nn.Linear(width, 2)

    def forward(self, tokens: Tensor) -> Tensor:
        """``tokens`` ``(B, T)`` -> logits ``(B, 2)`` from the last hidden state."""
        outputs, _ = self.rnn(self.embed(tokens))  # (B, T) -> (B, T, D) -> (B, T, D)
        return self.head(outputs[:, -1])  # (B, D) -> (B, 2)


class TransformerClassifier(nn.Module):
    """Embedding + sinusoidal positions -> ``num_layers`` encoder layers -> read-out at the slot.

    The layers are the library's ``EncoderLayer`` (post-norm, as in the paper). The embedding is
    not scaled by sqrt(d_model): ``nn.Embedding`` starts at N(0, 1), already as large as the
    positional encoding, and scaling would drown the positions this task depends on.
    """

    def __init__(self, vocab_size: int, width: int, num_heads: int = 4, num_layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.positions = PositionalEncoding(width, max_len=2048)
        self.layers = nn.ModuleList(
            EncoderLayer(width, num_heads, d_ff=2 * width) for _ in range(num_layers)
        )
        use_fast_attention(self)  # torch's fused kernel: the same numbers, faster
        self.head = nn.Linear(width, 2)

    def forward(self, tokens: Tensor) -> Tensor:
        """``tokens`` ``(B, T)`` -> logits ``(B, 2)`` from the last position (the verb slot)."""
        x = self.positions(self.embed(tokens))  # (B, T) -> (B, T, D)
        for layer in self.layers:
            x = layer(x)  # (B, T, D): the slot attends to every word, however far back
        return self.head(x[:, -1])  # (B, D) -> (B, 2)


def make_model(name: str, vocab_size: int, width: int) -> nn.Module:
    """One of ``MODELS`` at the given width (hidden size or d_model)."""
    if name == "transformer":
        return TransformerClassifier(vocab_size, width)
    if name in ("rnn", "lstm"):
        return RecurrentClassifier(name, vocab_size, width)
    raise ValueError(f"name: expected one of {MODELS}, got {name!r}")


@torch.no_grad()
def evaluate(model: nn.Module, data: AgreementBatch, batch_size: int = 500) -> float:
    """Accuracy of ``model`` on ``data`` (eval mode, no gradients)."""
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(data.labels), batch_size):
        logits = model(data.tokens[start : start + batch_size])  # (b, 2)
        correct += int((logits.argmax(-1) == data.labels[start : start + batch_size]).sum())
    model.train(was_training)
    return correct / len(data.labels)


def train(
    model: nn.Module, data: AgreementBatch, *, steps: int, batch_size: int, lr: float
) -> list[float]:
    """Adam with gradient-norm clipping, one pass over ``data`` in order; returns the losses."""
    if len(data.labels) < steps * batch_size:
        raise ValueError(
            f"data: expected at least steps * batch_size = {steps * batch_size} examples, "
            f"got {len(data.labels)}"
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step in range(steps):
        batch = slice(step * batch_size, (step + 1) * batch_size)
        loss = F.cross_entropy(model(data.tokens[batch]), data.labels[batch])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()
        losses.append(loss.item())
    return losses


@dataclass
class LongRangeResult(ExperimentResult):
    distances: list[int]  # L: filler words between the subject and the verb
    accuracy: dict[str, list[float]]  # model -> held-out accuracy per distance
    chance: float
    steps: int
    batch_size: int = 32
    width: int = 32
    lr: float = LEARNING_RATE
    test_size: int = TEST_SIZE
    params: dict[str, int] = field(default_factory=dict)
    cpu_seconds: dict[str, list[float]] = field(default_factory=dict)  # training, per distance
    final_loss: dict[str, list[float]] = field(default_factory=dict)  # mean of the last 20 steps
    seed: int = 0

    def plot(self):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        styles = {
            "rnn": ("tab:red", "o"),
            "lstm": ("tab:purple", "s"),
            "transformer": ("black", "^"),
        }
        for name, acc in self.accuracy.items():
            color, marker = styles.get(name, ("tab:blue", "x"))
            label = f"{name} ({self.params.get(name, 0):,} parameters)"
            ax.plot(self.distances, [100 * a for a in acc], marker=marker, color=color, label=label)
        ax.axhline(100 * self.chance, color="grey", ls="--", label="chance")
        ax.set_ylim(0, 105)
        ax.set_xlabel("distance L (filler words between subject and verb)")
        ax.set_ylabel(f"held-out accuracy (%), {self.test_size} sentences")
        ax.set_title(
            f"Subject-verb agreement across L words: same width ({self.width}), "
            f"{self.steps} Adam steps",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        return fig


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    distances: tuple[int, ...] | None = None,
    steps: int | None = None,
    width: int = 32,
    batch_size: int = 32,
    lr: float = LEARNING_RATE,
    models: tuple[str, ...] = MODELS,
) -> LongRangeResult:
    """Train each model at each distance from scratch; score it on held-out sentences."""
    if distances is None:
        distances = (5, 25, 50, 100) if quick else (5, 10, 25, 50, 100)
    steps = (300 if quick else 600) if steps is None else steps
    if not distances:
        raise ValueError("distances: expected at least one distance, got none")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 20:
        raise ValueError(
            f"steps: expected an int >= 20 (the loss is averaged over 20), got {steps!r}"
        )
    for name in models:
        if name not in MODELS:
            raise ValueError(f"models: expected names from {MODELS}, got {name!r}")
    vocab_size = agreement_task(1, 0).vocab_size
    accuracy = {name: [] for name in models}
    seconds = {name: [] for name in models}
    final_loss = {name: [] for name in models}
    params = {}
    jobs = [(distance, name) for distance in distances for name in models]
    for distance, name in progress_bar(
        jobs, total=len(jobs), description="training", enabled=progress
    ):
        train_data = agreement_task(steps * batch_size, distance, seed=seed)
        test_data = agreement_task(TEST_SIZE, distance, seed=seed + 1_000_003)
        torch.manual_seed(seed)
        model = make_model(name, vocab_size, width)
        params[name] = sum(p.numel() for p in model.parameters())
        start = time.process_time()
        losses = train(model, train_data, steps=steps, batch_size=batch_size, lr=lr)
        seconds[name].append(time.process_time() - start)
        final_loss[name].append(sum(losses[-20:]) / len(losses[-20:]))
        accuracy[name].append(evaluate(model, test_data))
    return LongRangeResult(
        distances=list(distances),
        accuracy=accuracy,
        chance=0.5,  # labels are balanced: P(plural subject) = 1/2
        steps=steps,
        batch_size=batch_size,
        width=width,
        lr=lr,
        params=params,
        cpu_seconds=seconds,
        final_loss=final_loss,
        seed=seed,
    )
