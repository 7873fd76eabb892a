"""Why divide by sqrt(d_k): measured (objective 3.2.4).

Vaswani et al. 2017, section 3.2.1, footnote 4: if the entries of q and k are independent with
mean 0 and variance 1, then q . k = sum_i q_i k_i has mean 0 and variance d_k. Large dot products
push the softmax into regions where it is nearly one-hot and its gradient is tiny; dividing by
sqrt(d_k) brings the variance back to 1. This experiment measures each link of that argument:

1. the variance of q . k against the theory d_k (and 1 after scaling);
2. the softmax's entropy and largest weight over T keys, with and without the scale;
3. the gradient norm through the softmax (at its input), with and without the scale;
4. one small training run with and without the scale (the matching job of ``PatternTask``,
   one head of width d_k, q and k initialised with unit-variance entries).
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.experiments.multihead_roles import PatternModel, accuracy, train_pattern_model
from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.tasks.patterns import PatternTask

LOSS_TARGET = 0.1  # "learned the job": cross-entropy below this


class ScaleSwitchAttention(nn.Module):
    """One attention head whose 1/sqrt(d_k) can be switched off, built on the library function.

    ``scaled=False`` calls ``scaled_dot_product_attention`` with ``scale=1.0``: the scores are the
    raw q . k instead of the paper's q . k / sqrt(d_k). W_q and W_k start with
    variance 1/d_model, so unit-variance inputs give unit-variance q and k entries (the footnote's
    assumption).
    """

    def __init__(self, d_model: int, scaled: bool):
        super().__init__()
        self.d_k = d_model
        self.scaled = scaled
        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        for W in (self.W_q, self.W_k):
            nn.init.normal_(W.weight, std=1 / math.sqrt(d_model))
        self.attn_weights: Tensor | None = None

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None):
        q = self.W_q(query)  # (B, T, D) @ (D, d_k) -> (B, T, d_k)
        scale = None if self.scaled else 1.0  # None: the paper's 1 / sqrt(d_k)
        out, weights = scaled_dot_product_attention(q, self.W_k(key), self.W_v(value), mask, scale)
        self.attn_weights = weights.detach().unsqueeze(1)  # (B, 1, T, T): one head
        return out


def measure_softmax(d_k: int, n: int, T: int, generator: torch.Generator) -> dict[str, float]:
    """Statistics of ``n`` random queries against ``T`` random keys, entries N(0, 1)."""
    q = torch.randn(n, 1, d_k, generator=generator, dtype=torch.float64)
    k = torch.randn(n, T, d_k, generator=generator, dtype=torch.float64)
    dots = (q @ k.transpose(1, 2)).squeeze(1)  # (n, 1, d_k) @ (n, d_k, T) -> (n, T)
    stats = {"var_qk": float(dots[:, 0].var()), "var_scaled": float(dots[:, 0].var() / d_k)}
    upstream = torch.randn(n, T, generator=generator, dtype=torch.float64)
    for name, scores in (("unscaled", dots), ("scaled", dots / math.sqrt(d_k))):
        scores = scores.clone().requires_grad_(True)
        weights = torch.softmax(scores, dim=-1)  # (n, T)
        # a random upstream gradient g: L = sum(g * weights), dL/dscores = J_softmax^T g
        (weights * upstream).sum().backward()
        weights = weights.detach()
        entropy = -(weights * weights.clamp_min(1e-300).log()).sum(dim=-1)
        stats[f"entropy_{name}"] = float(entropy.mean())
        stats[f"max_weight_{name}"] = float(weights.max(dim=-1).values.mean())
        stats[f"grad_{name}"] = float(scores.grad.norm(dim=-1).median())
    return stats


@dataclasses.dataclass
class ScalingResult(ExperimentResult):
    seed: int
    samples: int  # random (q, k) pairs per d_k
    keys: int  # T keys per softmax
    d_k: list[int]
    var_qk: list[float]  # measured variance of q . k
    var_theory: list[float]  # d_k
    var_relative_error: list[float]  # |measured - theory| / theory
    var_scaled: list[float]  # variance of q . k / sqrt(d_k) (theory: 1)
    entropy_unscaled: list[float]  # nats; uniform over T keys = log T
    entropy_scaled: list[float]
    max_entropy: float  # log T
    max_weight_unscaled: list[float]
    max_weight_scaled: list[float]
    grad_unscaled: list[float]  # median norm of dL/dscores at the softmax input
    grad_scaled: list[float]
    train_d_k: int
    train_steps: int
    train_seconds: float
    train_loss_scaled: list[float]  # every 10 steps
    train_loss_unscaled: list[float]
    train_accuracy_scaled: float  # matching question, held-out batch
    train_accuracy_unscaled: float
    train_steps_to_loss_scaled: int | None  # first logged step with loss < LOSS_TARGET
    train_steps_to_loss_unscaled: int | None

    def plot(self):
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
        ax = axes[0]
        ax.loglog(self.d_k, self.var_qk, "o-", label="measured Var(q·k)")
        ax.loglog(self.d_k, self.var_theory, "k--", label="theory: d_k")
        ax.loglog(self.d_k, self.var_scaled, "s-", label="Var(q·k / √d_k)")
        ax.set(xlabel="d_k", ylabel="variance", title="dot products grow with d_k")
        ax.legend(fontsize=8)
        ax = axes[1]
        ax.semilogx(self.d_k, self.entropy_unscaled, "o-", label="entropy, unscaled")
        ax.semilogx(self.d_k, self.entropy_scaled, "s-", label="entropy, scaled")
        ax.semilogx(self.d_k, self.max_weight_unscaled, "o:", label="largest weight, unscaled")
        ax.semilogx(self.d_k, self.max_weight_scaled, "s:", label="largest weight, scaled")
        ax.axhline(self.max_entropy, color="gray", lw=0.8, label=f"log T (uniform, T={self.keys})")
        ax.set(xlabel="d_k", title="unscaled softmax turns one-hot")
        ax.legend(fontsize=7)
        ax = axes[2]
        ax.loglog(self.d_k, self.grad_unscaled, "o-", label="unscaled")
        ax.loglog(self.d_k, self.grad_scaled, "s-", label="scaled")
        ax.set(xlabel="d_k", ylabel="median ‖∂L/∂scores‖", title="gradient through the softmax")
        ax.legend(fontsize=8)
        ax = axes[3]
        steps = [10 * i for i in range(len(self.train_loss_scaled))]
        ax.plot(steps, self.train_loss_scaled, label=f"scaled ({self.train_accuracy_scaled:.0%})")
        ax.plot(steps, self.train_loss_unscaled,
                label=f"unscaled ({self.train_accuracy_unscaled:.0%})")  # fmt: skip
        ax.set(xlabel="step", ylabel="loss", title=f"training, d_k = {self.train_d_k}")
        ax.legend(fontsize=8, title="held-out accuracy", title_fontsize=8)
        fig.tight_layout()
        return fig


def run(
    *, quick: bool = False, seed: int = 0, progress: bool = True, train_steps: int | None = None
) -> ScalingResult:
    """Measure variance, entropy, gradients and training with and without 1/sqrt(d_k)."""
    generator = torch.Generator().manual_seed(seed)
    d_ks = [4, 16, 64, 256] if quick else [4, 16, 64, 256, 1024]
    samples, keys = (20_000, 16) if quick else (50_000, 16)
    rows = [
        measure_softmax(d, samples, keys, generator)
        for d in progress_bar(d_ks, description="softmax statistics", enabled=progress)
    ]

    task = PatternTask()
    train_d_k, steps = (64, 300) if quick else (128, 800)
    steps = train_steps if train_steps is not None else steps
    curves, accs = {}, {}
    start = time.perf_counter()
    test = task.sample(500, torch.Generator().manual_seed(10_000 + seed))
    for scaled in (True, False):
        torch.manual_seed(seed)  # the same initial weights for both runs
        model = PatternModel(task, d_model=train_d_k,
                             attention=ScaleSwitchAttention(train_d_k, scaled))  # fmt: skip
        curves[scaled] = train_pattern_model(model, task, steps=steps, seed=seed,
                                             questions=("match",), show_progress=progress)  # fmt: skip
        accs[scaled] = accuracy(model, test)["match"]
    col = {key: [r[key] for r in rows] for key in rows[0]}
    return ScalingResult(
        seed=seed,
        samples=samples,
        keys=keys,
        d_k=d_ks,
        var_qk=col["var_qk"],
        var_theory=[float(d) for d in d_ks],
        var_relative_error=[abs(v - d) / d for v, d in zip(col["var_qk"], d_ks)],
        var_scaled=col["var_scaled"],
        entropy_unscaled=col["entropy_unscaled"],
        entropy_scaled=col["entropy_scaled"],
        max_entropy=math.log(keys),
        max_weight_unscaled=col["max_weight_unscaled"],
        max_weight_scaled=col["max_weight_scaled"],
        grad_unscaled=col["grad_unscaled"],
        grad_scaled=col["grad_scaled"],
        train_d_k=train_d_k,
        train_steps=steps,
        train_seconds=time.perf_counter() - start,
        train_loss_scaled=curves[True],
        train_loss_unscaled=curves[False],
        train_accuracy_scaled=accs[True],
        train_accuracy_unscaled=accs[False],
        train_steps_to_loss_scaled=_steps_to(curves[True], LOSS_TARGET),
        train_steps_to_loss_unscaled=_steps_to(curves[False], LOSS_TARGET),
    )


def _steps_to(losses: list[float], target: float) -> int | None:
    """The first logged step (losses are logged every 10 steps) with loss below ``target``."""
    return next((10 * i for i, loss in enumerate(losses) if loss < target), None)
