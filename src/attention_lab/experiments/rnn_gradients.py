"""How the gradient of a loss at the last step reaches earlier steps: RNN, LSTM, self-attention.

Backpropagation through time multiplies one Jacobian per step, dh_{t+1}/dh_t =
diag(1 - h_{t+1}^2) W_hh, so ||dL/dh_{T-d}|| shrinks or grows roughly like r^d. Pascanu, Mikolov and
Bengio (2013, section 3.1) bound the rate by gamma * sigma_max(W_hh), gamma = 1 for tanh: a largest
singular value below 1 suffices for the gradient to vanish, and a value above 1 is needed (but not
enough) for it to explode. We set W_hh = rho * Q with Q a random orthogonal matrix, so every
singular value is rho and the linearised rate is exactly rho; tanh' <= 1 can only make it smaller.

Compared with the same measurement for an LSTM (the gradient along dL/dh_t) and for one
self-attention layer, where the last output reaches every input through one step (dL/dx_t).

Then one training run shows an exploding gradient (a vanilla RNN started in the exploding regime,
trained with plain SGD) and what gradient-norm clipping (Pascanu et al. 2013, section 3.2:
g <- g * threshold / ||g|| when ||g|| > threshold) does to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult
from attention_lab.experiments.base import progress as progress_bar
from attention_lab.experiments.long_range import RecurrentClassifier, evaluate
from attention_lab.nn.multihead import MultiHeadAttention
from attention_lab.nn.rnn import StepwiseLSTM, TanhRNN
from attention_lab.tasks.agreement import agreement_task

SPECTRAL_NORMS = (0.5, 0.9, 1.0, 1.1, 1.5)


@dataclass
class RNNGradientsResult(ExperimentResult):
    spectral_norms: list[float]
    distances: list[int]  # d: steps between h_{T-d} (or x_{T-d}) and the loss at step T
    grad_norms: dict[str, list[float]]  # str(rho) -> ||dL/dh_{T-d}|| per distance (geometric mean)
    lstm: list[float]  # ||dL/dh_{T-d}|| for the LSTM with forget-gate bias `lstm_forget_bias`
    attention: list[float]  # ||dL/dx_{T-d}|| through one self-attention layer
    decay_rate: dict[str, float]  # fitted per-step factor r in ||grad|| ~ r^d (< 1 vanishes)
    theory_rate: dict[str, float]  # gamma * sigma_max(W_hh) = rho: Pascanu et al.'s bound
    lstm_forget_bias: float
    lstm_by_forget_bias: dict[str, list[float]]  # str(forget bias) -> norms per distance
    hidden_size: int
    batch_size: int
    input_std: float
    clipping: dict[str, object] = field(default_factory=dict)  # the training run, see _clipping_run
    seed: int = 0

    def plot(self):
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
        self._plot_gradients(axes[0, 0])
        self._plot_rates(axes[0, 1])
        self._plot_training(axes[1, 0], axes[1, 1])
        fig.suptitle(f"Gradients through time (hidden size {self.hidden_size}, seed {self.seed})")
        fig.tight_layout()
        return fig

    def _plot_gradients(self, ax) -> None:
        colors = _colors(len(self.spectral_norms))
        for color, rho in zip(colors, self.spectral_norms):
            norms = _relative(self.grad_norms[str(rho)])
            ax.semilogy(self.distances, norms, color=color, label=rf"RNN, $\sigma_{{max}}$ = {rho}")
        for bias, norms in self.lstm_by_forget_bias.items():
            lw = 2.0 if float(bias) == self.lstm_forget_bias else 1.0
            ax.semilogy(
                self.distances,
                _relative(norms),
                "--",
                color="tab:purple",
                lw=lw,
                alpha=0.4 + 0.2 * float(bias),
                label=f"LSTM, forget bias {bias}",
            )
        ax.semilogy(
            self.distances,
            _relative(self.attention),
            color="black",
            lw=2.5,
            label="self-attention (path length 1)",
        )
        ax.axhline(1e-3, color="grey", ls=":", lw=1)
        ax.set_ylim(1e-12, 1e4)
        ax.set_xlabel("distance d from the loss (steps)")
        ax.set_ylabel(r"$\|\partial L/\partial h_{T-d}\|\;/\;\|\partial L/\partial h_{T-1}\|$")
        ax.set_title("Backpropagation through time (log scale)")
        ax.legend(fontsize=7, loc="lower left", ncol=2)

    def _plot_rates(self, ax) -> None:
        keys = [str(rho) for rho in self.spectral_norms]
        x = list(range(len(keys)))
        ax.bar(
            [i - 0.2 for i in x],
            [self.theory_rate[k] for k in keys],
            width=0.4,
            color="lightgrey",
            label=r"theory: $\gamma\,\sigma_{max}$, $\gamma$ = 1 (a bound)",
        )
        measured = [self.decay_rate[k] for k in (*keys, "lstm", "attention")]
        ax.bar(
            [i + 0.2 for i in x] + [len(x), len(x) + 1],
            measured,
            width=0.4,
            color="tab:blue",
            label="measured (fit of log-norm vs d)",
        )
        for i, value in zip([i + 0.2 for i in x] + [len(x), len(x) + 1], measured):
            ax.text(i, value + 0.02, f"{value:.2f}", ha="center", fontsize=7)
        ax.axhline(1.0, color="black", lw=1)
        labels = [rf"$\sigma$={k}" for k in keys] + ["LSTM", "attention"]
        ax.set_xticks([*x, len(x), len(x) + 1], labels, fontsize=8)
        ax.set_ylabel("gradient factor per step (< 1: vanishes)")
        ax.set_title("Per-step factor: measured vs Pascanu et al. (2013)")
        ax.legend(fontsize=8, loc="upper left")

    def _plot_training(self, ax_loss, ax_grad) -> None:
        c = self.clipping
        steps = list(range(1, len(c["loss_unclipped"]) + 1))
        ax_loss.plot(steps, c["loss_unclipped"], color="tab:red", label="no clipping")
        ax_loss.plot(steps, c["loss_clipped"], color="tab:green", label=f"clip at {c['max_norm']}")
        ax_loss.axhline(math.log(2), color="grey", ls=":", lw=1, label="chance (ln 2)")
        ax_loss.set_xlabel("training step")
        ax_loss.set_ylabel("cross-entropy loss")
        ax_loss.set_title(
            f"Vanilla RNN, SGD lr={c['lr']}, start sigma_max={c['initial_spectral_norm']}\n"
            f"test accuracy {c['accuracy_unclipped']:.0%} (no clip) vs "
            f"{c['accuracy_clipped']:.0%} (clip); failed runs over {c['runs']} seeds: "
            f"{c['failed_unclipped']} vs {c['failed_clipped']}",
            fontsize=9,
        )
        ax_loss.legend(fontsize=8)
        ax_grad.semilogy(steps, c["grad_norm_unclipped"], color="tab:red", label="no clipping")
        ax_grad.semilogy(
            steps,
            c["grad_norm_clipped"],
            color="tab:green",
            label="with clipping (norm before clipping)",
        )
        ax_grad.axhline(c["max_norm"], color="black", ls="--", lw=1, label="clipping threshold")
        ax_grad.set_xlabel("training step")
        ax_grad.set_ylabel("gradient norm ||g||")
        ax_grad.set_title("Gradient norm during training")
        ax_grad.legend(fontsize=8)


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    spectral_norms: tuple[float, ...] = SPECTRAL_NORMS,
    max_distance: int | None = None,
    hidden_size: int | None = None,
    input_std: float = 0.1,
    lstm_forget_bias: float = 1.0,
    clip_lr: float = 0.5,
    clip_runs: int | None = None,
) -> RNNGradientsResult:
    """Measure ||dL/dh_{T-d}|| for d = 1..max_distance; then one run with and without clipping.

    ``input_std`` is the scale of the random inputs: small inputs keep tanh in its linear
    regime, where the theory's rate rho is attained; larger ones saturate tanh and make every
    gradient vanish faster. ``clip_lr`` is the SGD learning rate of the clipping run, repeated
    over ``clip_runs`` seeds (5 quick, 10 otherwise) to count how often each variant fails.
    """
    max_distance = (100 if quick else 200) if max_distance is None else max_distance
    hidden_size = (64 if quick else 128) if hidden_size is None else hidden_size
    clip_runs = (5 if quick else 10) if clip_runs is None else clip_runs
    batch_size = 32 if quick else 64
    for name, value, low in (("max_distance", max_distance, 2), ("clip_runs", clip_runs, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")

    spectral_norms = tuple(float(rho) for rho in spectral_norms)  # keys "1.0", never "1"
    forget_biases = sorted({0.0, float(lstm_forget_bias), 3.0})
    jobs = [("rnn", rho) for rho in spectral_norms]
    jobs += [("lstm", b) for b in forget_biases] + [("attention", None)]
    measured: dict[tuple[str, float | None], list[float]] = {}
    bar = progress_bar(jobs, total=len(jobs), description="gradients", enabled=progress)
    for kind, value in bar:
        measured[kind, value] = measure_gradients(
            kind,
            value,
            max_distance=max_distance,
            hidden_size=hidden_size,
            batch_size=batch_size,
            input_std=input_std,
            seed=seed,
        )

    distances = list(range(1, max_distance + 1))
    grad_norms = {str(rho): measured["rnn", rho] for rho in spectral_norms}
    lstm = measured["lstm", float(lstm_forget_bias)]
    attention = measured["attention", None]
    decay_rate = {key: per_step_rate(distances, norms) for key, norms in grad_norms.items()}
    decay_rate["lstm"] = per_step_rate(distances, lstm)
    decay_rate["attention"] = per_step_rate(distances, attention)
    clipping = _clipping_run(seed, lr=clip_lr, steps=200, runs=clip_runs, progress=progress)
    return RNNGradientsResult(
        spectral_norms=list(spectral_norms),
        distances=distances,
        grad_norms=grad_norms,
        lstm=lstm,
        attention=attention,
        decay_rate=decay_rate,
        theory_rate={str(rho): float(rho) for rho in spectral_norms},  # gamma = 1 for tanh
        lstm_forget_bias=float(lstm_forget_bias),
        lstm_by_forget_bias={str(b): measured["lstm", b] for b in forget_biases},
        hidden_size=hidden_size,
        batch_size=batch_size,
        input_std=input_std,
        clipping=clipping,
        seed=seed,
    )


def per_step_rate(distances: list[int], norms: list[float]) -> float:
    """Fit ``norm ~ c * r^d`` by least squares on log(norm); return the per-step factor r."""
    pairs = [(d, math.log(n)) for d, n in zip(distances, norms) if n > 0 and math.isfinite(n)]
    if len(pairs) < 2:
        return float("nan")
    mean_d = sum(d for d, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    cov = sum((d - mean_d) * (y - mean_y) for d, y in pairs)
    var = sum((d - mean_d) ** 2 for d, _ in pairs)
    return math.exp(cov / var)


def orthogonal_recurrence(hidden_size: int, spectral_norm: float, generator: torch.Generator):
    """``rho * Q`` with ``Q`` a random orthogonal matrix: every singular value equals rho."""
    Q, R = torch.linalg.qr(torch.randn(hidden_size, hidden_size, generator=generator))
    Q = Q * torch.sign(torch.diagonal(R))  # (D, D): makes Q uniformly distributed (Mezzadri 2007)
    return spectral_norm * Q


def measure_gradients(
    kind: str,
    setting: float | None = None,
    *,
    max_distance: int = 100,
    hidden_size: int = 64,
    batch_size: int = 32,
    input_std: float = 0.1,
    seed: int = 0,
) -> list[float]:
    """Gradient norm at distances d = 1..max_distance from a loss on the last output.

    ``kind`` "rnn": ||dL/dh_{T-d}|| for a TanhRNN with W_hh = ``setting`` * (random orthogonal);
    "lstm": ||dL/dh_{T-d}|| for a StepwiseLSTM with forget-gate bias ``setting``;
    "attention": ||dL/dx_{T-d}|| through one MultiHeadAttention layer (``setting`` unused).
    The loss is a fixed random read-out of the last output; each value is the geometric mean
    over ``batch_size`` random input sequences (N(0, input_std^2), float64).
    """
    if kind not in ("rnn", "lstm", "attention"):
        raise ValueError(f"kind: expected 'rnn', 'lstm' or 'attention', got {kind!r}")
    if kind != "attention" and not isinstance(setting, (int, float)):
        what = "spectral norm of W_hh" if kind == "rnn" else "forget-gate bias"
        raise TypeError(
            f"setting: expected a float (the {what}) for kind={kind!r}, got {setting!r}"
        )
    inputs = _random_inputs(seed, batch_size, max_distance + 1, hidden_size, input_std)
    return _measure(kind, setting, inputs, seed)


def _measure(kind: str, value: float | None, inputs: Tensor, seed: int) -> list[float]:
    """Geometric mean over the batch of the gradient norm at each distance 1..T-1."""
    D = inputs.shape[-1]
    g = torch.Generator().manual_seed(seed + 1)
    torch.manual_seed(seed)
    readout = torch.randn(D, generator=g, dtype=inputs.dtype) / math.sqrt(D)
    if kind == "attention":
        layer = MultiHeadAttention(D, num_heads=4).to(inputs.dtype)
        x = inputs.clone().requires_grad_(True)
        y = layer(x, x, x)  # (B, T, D): every output sees every input in one step
        (grad,) = torch.autograd.grad((y[:, -1] @ readout).sum(), x)  # dL/dx, (B, T, D)
        per_step = grad.norm(dim=-1)  # (B, T)
    else:
        if kind == "rnn":
            model = TanhRNN(D, D).to(inputs.dtype)
            with torch.no_grad():
                model.W_hh.copy_(orthogonal_recurrence(D, value, g))
        else:
            model = StepwiseLSTM(D, D, forget_bias=value).to(inputs.dtype)
        states = model.unroll(inputs)  # T x (B, D), each a node of the graph
        grads = torch.autograd.grad((states[-1] @ readout).sum(), states)  # dL/dh_t for every t
        per_step = torch.stack([gr.norm(dim=-1) for gr in grads], dim=1)  # (B, T)
    geometric_mean = per_step.clamp_min(1e-300).log().mean(dim=0).exp()  # (T,)
    by_distance = geometric_mean.flip(0)[1:]  # index 0 is now distance 1
    return [float(v) for v in by_distance]


def _random_inputs(seed: int, batch: int, steps: int, size: int, std: float) -> Tensor:
    # float64: 0.5^200 underflows float32 long before the plot's bottom
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, steps, size, generator=g, dtype=torch.float64) * std


def _clipping_run(
    seed: int, *, lr: float, steps: int, runs: int, progress: bool = False
) -> dict[str, object]:
    """A vanilla RNN started with sigma_max(W_hh) = 1.5 learns 10-word agreement with plain SGD.

    The same run with and without gradient-norm clipping; the curves are those of ``seed``, the
    success counts cover ``runs`` seeds starting at ``seed``.
    """
    curves: dict[str, list[float]] = {}
    failed = {"unclipped": 0, "clipped": 0}
    accuracy = {}
    max_norm, distance, width = 1.0, 10, 32
    test = agreement_task(500, distance, seed=10_000 + seed)
    seeds = progress_bar(
        range(seed, seed + runs), total=runs, description="clipping runs", enabled=progress
    )
    for run_seed in seeds:
        for name, clip in (("unclipped", math.inf), ("clipped", max_norm)):
            model = _exploding_rnn(run_seed, width, initial_norm=1.5)
            losses, grad_norms = _train_sgd(model, run_seed, distance, lr, steps, clip)
            acc = evaluate(model, test)
            failed[name] += acc < 0.9
            if run_seed == seed:
                curves[f"loss_{name}"], curves[f"grad_norm_{name}"] = losses, grad_norms
                accuracy[f"accuracy_{name}"] = acc
    return {
        "max_norm": max_norm,
        "lr": lr,
        "steps": steps,
        "distance": distance,
        "hidden_size": width,
        "initial_spectral_norm": 1.5,
        **curves,
        **accuracy,
        "runs": runs,
        "failed_unclipped": failed["unclipped"],
        "failed_clipped": failed["clipped"],
    }


def _exploding_rnn(seed: int, width: int, initial_norm: float) -> nn.Module:
    torch.manual_seed(seed)
    model = RecurrentClassifier("rnn", vocab_size=agreement_task(1, 0).vocab_size, width=width)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(orthogonal_recurrence(width, initial_norm, g))
        model.embed.weight.mul_(0.1)  # small inputs: tanh stays linear, where gradients can grow
    return model


def _train_sgd(model: nn.Module, seed: int, distance: int, lr: float, steps: int, clip: float):
    batch = 32
    data = agreement_task(steps * batch, distance, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, grad_norms = [], []
    for step in range(steps):
        tokens = data.tokens[step * batch : (step + 1) * batch]
        labels = data.labels[step * batch : (step + 1) * batch]
        loss = F.cross_entropy(model(tokens), labels)
        optimizer.zero_grad()
        loss.backward()
        # the norm before clipping; with clip = inf nothing is rescaled
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        losses.append(loss.item())
        grad_norms.append(float(norm))
    return losses, grad_norms


def _relative(norms: list[float]) -> list[float]:
    return [n / norms[0] for n in norms]


def _colors(n: int):
    import matplotlib.pyplot as plt

    return plt.cm.viridis([i / max(1, n - 1) * 0.9 for i in range(n)])
