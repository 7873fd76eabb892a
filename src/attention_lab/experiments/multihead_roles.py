"""Heads learn different jobs, and we can measure which (objective 3.2.5).

A one-layer causal Transformer is trained on ``PatternTask``: at each position it must name the
previous token *and* the colour its letter had last time. The answers sit in two different places,
so the model needs one head looking one step back and another looking for the same letter. After
training we score every head on every pattern (mean attention weight on the position the pattern
predicts), and remove one head at a time to see which question breaks: a measurement of
"different heads capture different relations" (Vaswani et al. 2017, section 3.2.2; Voita et al.
2019, "Analyzing Multi-Head Self-Attention"). A one-head model of the same width is the control.

Shape legend: B batch, T tokens, D = d_model, H heads, d_k = D // H.
"""

from __future__ import annotations

import dataclasses
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.experiments.base import ExperimentResult, progress
from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.blocks import FeedForward
from attention_lab.nn.masks import causal_mask
from attention_lab.nn.multihead import MultiHeadAttention, without_heads
from attention_lab.tasks.patterns import IGNORE, PatternBatch, PatternTask
from attention_lab.viz.heatmap import plot_attention

PATTERNS = ("previous token", "matching letter", "first token")
ROLE_THRESHOLD = 0.4  # a head "has" a role when at least this much weight lands on its pattern


class PatternModel(nn.Module):
    """Embedding + positions, one pre-norm attention block with an MLP, two read-outs.

    A token's embedding is the sum of its letter's and its colour's embeddings, so "same letter"
    is a direction the keys and queries can pick out.
    """

    def __init__(self, task: PatternTask, d_model: int = 32, num_heads: int = 4,
                 attention: nn.Module | None = None):  # fmt: skip
        super().__init__()
        self.n_colours = task.n_colours
        self.embed_letter = nn.Embedding(task.n_letters, d_model)
        self.embed_colour = nn.Embedding(task.n_colours, d_model)
        self.position = nn.Embedding(task.length, d_model)  # learned positions
        self.norm_attn = nn.LayerNorm(d_model)
        self.attn = attention if attention is not None else MultiHeadAttention(d_model, num_heads)
        self.norm_mlp = nn.LayerNorm(d_model)
        self.mlp = FeedForward(d_model, 4 * d_model)
        self.read_previous = nn.Linear(d_model, task.vocab_size)
        self.read_match = nn.Linear(d_model, task.n_colours + 1)

    def forward(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """``tokens`` ``(B, T)`` -> logits for (previous, match)."""
        T = tokens.shape[1]
        letter, colour = tokens // self.n_colours, tokens % self.n_colours
        x = self.embed_letter(letter) + self.embed_colour(colour)  # (B, T) -> (B, T, D)
        x = x + self.position(torch.arange(T))  # (B, T, D)
        h = self.norm_attn(x)
        x = x + self.attn(h, h, h, past_mask(T))
        x = x + self.mlp(self.norm_mlp(x))
        return self.read_previous(x), self.read_match(x)  # (B, T, vocab), (B, T, n_colours + 1)

    def attention_weights(self) -> Tensor:
        """The weights of the last forward pass, ``(B, H, T, T)``."""
        return self.attn.attn_weights


def past_mask(T: int) -> Tensor:
    """``(T, T)`` bool: query t may attend to keys 0..t-1 only (the token itself travels on the
    residual path). Position 0 has no key; the library gives it zero weights and output."""
    return causal_mask(T) & ~torch.eye(T, dtype=torch.bool)


def multihead_by_hand(
    mha: MultiHeadAttention, x: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Multi-head self-attention written out: project, split, attend per head, concatenate, W_o.

        MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W_o        (section 3.2.2)

    Gives the same numbers as ``mha(x, x, x, mask)``: the lesson shows the two side by side.
    """
    B, T, _ = x.shape
    H, d_k = mha.num_heads, mha.d_k
    # 1) project, 2) split D into H heads of width d_k
    q = mha.W_q(x).view(B, T, H, d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)
    k = mha.W_k(x).view(B, T, H, d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)
    v = mha.W_v(x).view(B, T, H, d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)
    # 3) each head attends on its own
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, d_k), (B, H, T, T)
    # 4) concatenate: head h fills columns h*d_k .. (h+1)*d_k - 1
    concat = torch.cat([heads[:, h] for h in range(H)], dim=-1)  # H x (B, T, d_k) -> (B, T, D)
    # 5) W_o mixes what the heads found
    return mha.W_o(concat), weights  # (B, T, D) @ (D, D) -> (B, T, D)


def train_pattern_model(
    model: PatternModel,
    task: PatternTask,
    *,
    steps: int,
    seed: int = 0,
    lr: float = 3e-3,
    batch_size: int = 64,
    questions: tuple[str, ...] = ("previous", "match"),
    show_progress: bool = False,
) -> list[float]:
    """Train with AdamW on fresh batches; returns the loss every 10 steps."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    losses = []
    model.train()
    for step in progress(range(steps), total=steps, description="training",
                         enabled=show_progress):  # fmt: skip
        loss = _loss(model, task.sample(batch_size, generator), questions)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 10 == 0:
            losses.append(float(loss.detach()))
    model.eval()
    return losses


def _loss(model: PatternModel, batch: PatternBatch, questions: tuple[str, ...]) -> Tensor:
    previous, match = model(batch.tokens)
    loss = torch.zeros(())
    if "previous" in questions:
        loss = loss + F.cross_entropy(previous.flatten(0, 1), batch.previous.flatten(),
                                      ignore_index=IGNORE)  # fmt: skip
    if "match" in questions:
        loss = loss + F.cross_entropy(match.flatten(0, 1), batch.match.flatten())
    return loss


@torch.no_grad()
def accuracy(model: PatternModel, batch: PatternBatch) -> dict:
    """Accuracy on each question (positions with a question only)."""
    previous, match = model(batch.tokens)
    asked = batch.previous != IGNORE
    return {
        "previous": float((previous.argmax(-1) == batch.previous)[asked].float().mean()),
        "match": float((match.argmax(-1) == batch.match).float().mean()),
    }


def pattern_scores(weights: Tensor, batch: PatternBatch) -> Tensor:
    """``(H, len(PATTERNS))``: mean weight each head puts where each pattern points.

    ``weights`` ``(B, H, T, T)``. previous token: key t-1 for queries t >= 2; matching letter: the
    earlier same-letter key for queries that have one; first token: key 0 for queries t >= 2.
    (Query 1 has only key 0, so it is left out of the positional patterns.)
    """
    B, H, T, _ = weights.shape
    t = torch.arange(2, T)
    previous = weights[:, :, t, t - 1].mean(dim=(0, 2))  # (H,)
    first = weights[:, :, t, 0].mean(dim=(0, 2))  # (H,)
    has = batch.match_pos >= 0  # (B, T)
    index = batch.match_pos.clamp(min=0)[:, None, :, None].expand(B, H, T, 1)
    on_match = weights.gather(3, index).squeeze(3)  # (B, H, T): weight on the matching key
    matching = (on_match * has[:, None]).sum(dim=(0, 2)) / has.sum().clamp(min=1)
    return torch.stack([previous, matching, first], dim=1)


def assign_roles(scores: Tensor) -> list[str]:
    """Each head's role: the pattern it scores highest on, if at least ``ROLE_THRESHOLD``."""
    roles = []
    for row in scores:
        best = int(row.argmax())
        roles.append(PATTERNS[best] if float(row[best]) >= ROLE_THRESHOLD else "mixed")
    return roles


@dataclasses.dataclass
class MultiHeadResult(ExperimentResult):
    seed: int
    num_heads: int
    d_model: int
    steps: int
    seconds: float
    patterns: list[str]
    scores: list[list[float]]  # (H, patterns): mean weight on each pattern's position
    roles: list[str]  # per head
    distinct_roles: int  # different roles among the heads (not counting "mixed")
    accuracy: dict[str, float]  # full model, per question
    ablation: list[dict[str, float]]  # per head: accuracy per question with that head removed
    single_head_accuracy: dict[str, float]  # control: one head, same width, same training
    losses: list[float]
    example_tokens: list[str]
    example_weights: list[list[list[float]]]  # (H, T, T) for one sequence

    def plot(self):
        import matplotlib.pyplot as plt

        H = self.num_heads
        fig, axes = plt.subplots(1, 2 + H, figsize=(4.2 * (2 + H), 4.2))
        ax = axes[0]
        ax.imshow(self.scores, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(self.patterns)), self.patterns, rotation=30, ha="right")
        ax.set_yticks(range(H), [f"head {h}\n({r})" for h, r in enumerate(self.roles)])
        for h in range(H):
            for p, v in enumerate(self.scores[h]):
                ax.text(p, h, f"{v:.2f}", ha="center", va="center",
                        color="black" if v > 0.6 else "white")  # fmt: skip
        ax.set_title("mean weight on each pattern")
        ax = axes[1]
        names = list(self.accuracy)
        width = 0.8 / (H + 2)
        bars = [("all heads", self.accuracy), ("1-head model", self.single_head_accuracy)]
        bars += [(f"without head {h}", a) for h, a in enumerate(self.ablation)]
        for i, (label, acc) in enumerate(bars):
            ax.bar([j + i * width for j in range(len(names))], [acc[n] for n in names],
                   width, label=label)  # fmt: skip
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=6, loc="lower left", framealpha=0.9)
        ax.set_title("remove one head: which question breaks?")
        for h in range(H):
            plot_attention(self.example_weights[h], self.example_tokens, ax=axes[2 + h],
                           title=f"head {h}: {self.roles[h]}")  # fmt: skip
        fig.tight_layout()
        return fig


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    num_heads: int = 4,
    d_model: int = 32,
    steps: int | None = None,
    checkpoint=None,
) -> MultiHeadResult:
    """Train the multi-head model and a one-head control; score and ablate every head."""
    torch.manual_seed(seed)
    task = PatternTask()
    steps = steps if steps is not None else (400 if quick else 1500)
    start = time.perf_counter()
    model = PatternModel(task, d_model=d_model, num_heads=num_heads)
    losses = train_pattern_model(model, task, steps=steps, seed=seed, show_progress=progress)
    seconds = time.perf_counter() - start

    torch.manual_seed(seed)
    single = PatternModel(task, d_model=d_model, num_heads=1)
    train_pattern_model(single, task, steps=steps, seed=seed, show_progress=progress)

    test = task.sample(1000, torch.Generator().manual_seed(10_000 + seed))
    acc = accuracy(model, test)
    scores = pattern_scores(model.attention_weights(), test)
    roles = assign_roles(scores)
    ablation = []
    for h in range(num_heads):
        with without_heads(model.attn, [h]):  # head h's columns of the concatenation set to 0
            ablation.append(accuracy(model, test))
    with torch.no_grad():
        model(test.tokens[:1])
    if checkpoint is not None:
        torch.save({"state_dict": model.state_dict(), "task": dataclasses.asdict(task),
                    "d_model": d_model, "num_heads": num_heads}, checkpoint)  # fmt: skip
    return MultiHeadResult(
        seed=seed,
        num_heads=num_heads,
        d_model=d_model,
        steps=steps,
        seconds=seconds,
        patterns=list(PATTERNS),
        scores=scores.tolist(),
        roles=roles,
        distinct_roles=len({r for r in roles if r != "mixed"}),
        accuracy=acc,
        ablation=ablation,
        single_head_accuracy=accuracy(single, test),
        losses=losses,
        example_tokens=[task.token_name(t) for t in test.tokens[0]],
        example_weights=model.attention_weights()[0].tolist(),
    )
