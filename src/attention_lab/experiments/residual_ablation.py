"""Residual connections and LayerNorm are what make a deep stack trainable.

Claim (Vaswani et al. 2017, section 3.1: "We employ a residual connection [He et al. 2016] around
each of the two sub-layers, followed by layer normalization [Ba et al. 2016]"): without the
residual path, the gradient reaching the first layers of a deep stack shrinks layer after layer
and training stalls; without LayerNorm, activations are not kept at a fixed scale.

Measured here on a stack of 12 encoder layers trained on sequence reversal, five ways:

- ``post-norm``  ``LayerNorm(x + Sublayer(x))``: the paper.
- ``pre-norm``   ``x + Sublayer(LayerNorm(x))``, final LayerNorm on top (Xiong et al. 2020).
- ``no residual``  ``LayerNorm(Sublayer(x))``.
- ``no LayerNorm``  ``x + Sublayer(x)``.
- ``neither``  ``Sublayer(x)``.

For each: the gradient norm reaching every layer at initialisation (the first layer is the one
that vanishes), the first layer's gradient norm during training, and the training loss curve.

Post-norm vs pre-norm: the paper's text and Figure 1 put LayerNorm after the residual sum. The
Annotated Transformer (Rush 2018; Huang et al. 2022) writes ``x + dropout(sublayer(norm(x)))``,
i.e. pre-norm with a final LayerNorm, and says so only in a passing comment ("for code simplicity
the norm is first as opposed to last"), so readers who compare its code with the paper's Figure 1
find the normalisation in a different place and wonder which is right: both train, but pre-norm
keeps an unnormalised identity path from the output to the input, which is why its gradients do
not shrink toward the first layers and why deep pre-norm stacks need less warm-up.

Shape legend: B batch, T sequence length, D = d_model, C classes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult, progress
from attention_lab.nn.blocks import FeedForward
from attention_lab.nn.multihead import MultiHeadAttention
from attention_lab.nn.positional import PositionalEncoding
from attention_lab.tasks.sequences import SequenceTask
from attention_lab.viz.figure import NotebookFigure

# name -> (residual connection?, where LayerNorm goes: "post", "pre" or None)
VARIANTS: dict[str, tuple[bool, str | None]] = {
    "post-norm": (True, "post"),
    "pre-norm": (True, "pre"),
    "no residual": (False, "post"),
    "no LayerNorm": (True, None),
    "neither": (False, None),
}


class AblationLayer(nn.Module):
    """An encoder layer whose residual connections and LayerNorms can be removed.

    With ``residual=True`` and ``norm="post"`` or ``"pre"`` it computes exactly what
    ``attention_lab.EncoderLayer`` computes with the same weights (a test checks it).
    """

    def __init__(
        self, d_model: int, num_heads: int, d_ff: int, *, residual: bool, norm: str | None
    ):
        super().__init__()
        if norm not in ("post", "pre", None):
            raise ValueError(f"norm: expected 'post', 'pre' or None, got {norm!r}")
        self.residual = residual
        self.norm = norm
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = FeedForward(d_model, d_ff)
        self.norm1 = nn.LayerNorm(d_model) if norm else nn.Identity()
        self.norm2 = nn.LayerNorm(d_model) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self._sublayer(x, self.norm1, lambda h: self.self_attn(h, h, h))
        return self._sublayer(x, self.norm2, self.feed_forward)

    def _sublayer(self, x: Tensor, norm: nn.Module, sublayer) -> Tensor:
        if self.norm == "pre":
            out = sublayer(norm(x))  # (B, T, D)
            return x + out if self.residual else out
        out = sublayer(x)  # (B, T, D)
        return norm(x + out if self.residual else out)  # identity "norm" when norm is None


class DeepTagger(nn.Module):
    """Embedding + PE, ``num_layers`` ablation layers, a classifier per position."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        *,
        residual: bool,
        norm: str | None,
        num_layers: int = 12,
        d_model: int = 32,
        num_heads: int = 2,
        d_ff: int = 64,
    ):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)  # unit scale after × √D
        self.positional = PositionalEncoding(d_model)
        self.layers = nn.ModuleList(
            AblationLayer(d_model, num_heads, d_ff, residual=residual, norm=norm)
            for _ in range(num_layers)
        )
        # pre-norm leaves the last residual sum unnormalised: add the final LayerNorm it needs
        self.final_norm = nn.LayerNorm(d_model) if norm == "pre" else nn.Identity()
        self.classify = nn.Linear(d_model, num_classes)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.positional(self.embed(tokens) * math.sqrt(self.d_model))  # (B, T) -> (B, T, D)
        for layer in self.layers:
            x = layer(x)
        return self.classify(self.final_norm(x))  # (B, T, D) -> (B, T, C)


def layer_gradient_norms(model: DeepTagger) -> list[float]:
    """L2 norm of the gradient of each layer's parameters (after ``backward``), first to last."""
    norms = []
    for layer in model.layers:
        squares = [p.grad.pow(2).sum() for p in layer.parameters() if p.grad is not None]
        norms.append(torch.stack(squares).sum().sqrt().item() if squares else 0.0)
    return norms


@dataclass
class ResidualAblationResult(ExperimentResult):
    variants: list[str]  # names, in the order of every list below
    grad_norm_by_layer_at_init: list[list[float]]  # [variant][layer], layer 0 = first
    first_layer_grad_norm_at_init: list[float]
    last_layer_grad_norm_at_init: list[float]
    first_layer_grad_norm: list[list[float]]  # during training, one value per logged step
    loss: list[list[float]]  # training loss, one value per logged step
    final_loss: list[float]  # mean of the last 10% of the logged losses
    accuracy: list[float]  # held-out per-token accuracy after training
    logged_steps: list[int]
    num_layers: int
    d_model: int
    steps: int
    lr: float
    seed: int
    seconds: float

    def plot(self):
        fig = NotebookFigure(figsize=(14, 4.2))
        by_layer, first, losses = fig.subplots(1, 3)
        layers = list(range(1, self.num_layers + 1))
        for i, name in enumerate(self.variants):
            by_layer.plot(layers, self.grad_norm_by_layer_at_init[i], "o-", ms=3, label=name)
            first.plot(self.logged_steps, self.first_layer_grad_norm[i], label=name)
            losses.plot(
                self.logged_steps, self.loss[i], label=f"{name} (acc {self.accuracy[i]:.0%})"
            )
        by_layer.set_yscale("log")
        by_layer.set_xlabel("layer (1 = first, nearest the input)")
        by_layer.set_ylabel("gradient norm of the layer's weights")
        by_layer.set_title(f"at initialisation, {self.num_layers} layers")
        first.set_yscale("log")
        first.set_xlabel("training step")
        first.set_ylabel("gradient norm, first layer")
        first.set_title("gradient reaching the first layer")
        losses.set_yscale("log")
        losses.set_xlabel("training step")
        losses.set_ylabel("training loss")
        losses.set_title("training loss (reversal)")
        for ax in (by_layer, first, losses):
            ax.legend(fontsize=7)
        fig.tight_layout()
        return fig


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    num_layers: int = 12,
    variants: tuple[str, ...] = tuple(VARIANTS),
    steps: int | None = None,
) -> ResidualAblationResult:
    """Train every variant of a ``num_layers`` stack on reversal with the same data and settings.

    ``steps`` overrides the number of training steps (150 with ``quick``, 600 without).
    """
    for name in variants:
        if name not in VARIANTS:
            raise ValueError(f"variants: expected names from {tuple(VARIANTS)}, got {name!r}")
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers: expected an int >= 1, got {num_layers!r}")
    if steps is None:
        steps = 150 if quick else 600
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 10:
        raise ValueError(f"steps: expected an int >= 10, got {steps!r}")
    lr, log_every, d_model = 1e-3, 10, 32
    task = SequenceTask("reversal", length=8, vocab_size=10)
    test_tokens, test_labels = task.sample(1000, torch.Generator().manual_seed(10_000 + seed))
    init_tokens, init_labels = task.sample(256, torch.Generator().manual_seed(20_000 + seed))
    start = time.perf_counter()
    out: dict[str, list] = {
        k: []
        for k in (
            "grad_norm_by_layer_at_init",
            "first_layer_grad_norm_at_init",
            "last_layer_grad_norm_at_init",
            "first_layer_grad_norm",
            "loss",
            "final_loss",
            "accuracy",
        )
    }
    for name in variants:
        residual, norm = VARIANTS[name]
        torch.manual_seed(seed)  # the same initial weights for every variant's shared parts
        model = DeepTagger(
            task.vocab_size,
            task.num_classes,
            residual=residual,
            norm=norm,
            num_layers=num_layers,
            d_model=d_model,
        )
        _loss(model, init_tokens, init_labels).backward()
        at_init = layer_gradient_norms(model)
        out["grad_norm_by_layer_at_init"].append(at_init)
        out["first_layer_grad_norm_at_init"].append(at_init[0])
        out["last_layer_grad_norm_at_init"].append(at_init[-1])
        losses, first = _train(model, task, steps, lr, log_every, seed, progress, name)
        out["loss"].append(losses)
        out["first_layer_grad_norm"].append(first)
        out["final_loss"].append(
            sum(losses[-max(1, len(losses) // 10) :]) / max(1, len(losses) // 10)
        )
        with torch.no_grad():
            model.eval()
            predicted = model(test_tokens).argmax(-1)  # (B, T)
        out["accuracy"].append((predicted == test_labels).float().mean().item())
    return ResidualAblationResult(
        variants=list(variants),
        logged_steps=list(range(log_every, steps + 1, log_every)),
        num_layers=num_layers,
        d_model=d_model,
        steps=steps,
        lr=lr,
        seed=seed,
        seconds=time.perf_counter() - start,
        **out,
    )


def _loss(model: nn.Module, tokens: Tensor, labels: Tensor) -> Tensor:
    logits = model(tokens)  # (B, T, C)
    return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten())


def _train(model, task, steps, lr, log_every, seed, show, name):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    data = torch.Generator().manual_seed(seed + 1)  # the same batches for every variant
    losses, first, running, running_grad = [], [], 0.0, 0.0
    for step in progress(range(steps), description=name, enabled=show):
        tokens, labels = task.sample(64, data)
        loss = _loss(model, tokens, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        running_grad += layer_gradient_norms(model)[0]
        optimizer.step()
        schedule.step()
        running += loss.item()
        if (step + 1) % log_every == 0:
            losses.append(running / log_every)
            first.append(running_grad / log_every)
            running, running_grad = 0.0, 0.0
    return losses, first
