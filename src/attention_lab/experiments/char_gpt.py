"""A decoder-only model (GPT) learns the shipped fables, one character at a time.

The claim: a stack of our own encoder blocks under a causal mask, trained only to predict the next
character (Radford et al. 2018, Eq. 1), learns the text's spelling and words in under a minute on a
CPU. Measured: the held-out loss (nats per character on fables it never saw) against the unigram
baseline (character frequencies, no context), the wall time, text it generates, and the attention
of one head, which is zero above the diagonal: no character reads the future.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attention_lab.checkpoints import CheckpointError, load_checkpoint
from attention_lab.experiments.base import ExperimentResult
from attention_lab.nn.gpt import GPT, GPT_PRESETS, GPTConfig, next_token_loss
from attention_lab.tasks.characters import CharCorpus, CharTokenizer, collate_windows
from attention_lab.training import StepOutput, TrainConfig, TrainResult, train
from attention_lab.viz.figure import DescribedFigure
from attention_lab.viz.heatmap import plot_attention

KIND = "char-gpt"
PROMPTS = ("THE LION", 'The fox said, "')  # samples start here
HEATMAP_TEXT = "The fox ran to the river."  # the text whose attention the figure shows


@dataclasses.dataclass(frozen=True)
class Setup:
    """A model shape, a training recipe and a time budget."""

    model: GPTConfig
    train: TrainConfig
    max_seconds: float | None = None  # stop at the first evaluation past this much training time
    min_steps: int = 0  # ... but never before this many steps


QUICK = Setup(
    dataclasses.replace(
        GPT_PRESETS["char"], context_length=64, d_model=64, num_layers=2, d_ff=256, dropout=0.1
    ),
    TrainConfig(
        steps=600, batch_size=32, lr=3e-3, warmup=40, betas=(0.9, 0.99), eps=1e-8, eval_every=25
    ),
    max_seconds=40.0,  # "--quick" stays under a minute in all on a 2-core machine
    min_steps=150,  # enough to beat the unigram baseline clearly, even on a busy machine
)
FULL = Setup(
    dataclasses.replace(GPT_PRESETS["char"], dropout=0.1),
    TrainConfig(
        steps=2000, batch_size=48, lr=2e-3, warmup=100, betas=(0.9, 0.99), eps=1e-8, eval_every=100
    ),
)


@dataclasses.dataclass
class CharGPT:
    """A trained character-level GPT with its tokenizer."""

    model: GPT
    tokenizer: CharTokenizer
    steps: int

    def complete(
        self,
        prompt: str,
        max_new_tokens: int | None = None,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
    ) -> str:
        """``prompt`` and its continuation (to the end of the context unless ``max_new_tokens``)."""
        tokens = self.tokenizer.encode(prompt)[None]  # (1, T)
        if max_new_tokens is None:
            max_new_tokens = self.model.config.context_length - tokens.shape[1]
        generator = torch.Generator().manual_seed(seed)
        out = self.model.generate(
            tokens, max_new_tokens, temperature, top_k, generator=generator
        )  # (1, T + n)
        return self.tokenizer.decode(out[0])


def gpt_step(model: nn.Module, batch: Any) -> StepOutput:
    """The training loss of one batch of windows, as ``train`` wants it (sums, not means)."""
    logits = model(batch.tokens[:, :-1])  # (B, T, V)
    targets = batch.tokens[:, 1:]  # (B, T)
    loss_sum = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum")
    correct = int((logits.argmax(-1) == targets).sum())
    return StepOutput(loss_sum, targets.numel(), correct)


@torch.no_grad()
def held_out_loss(model: GPT, corpus: CharCorpus) -> float:
    """Mean cross-entropy (nats per character) on the held-out text, every character once."""
    chunks = corpus.held_out_chunks(model.config.context_length)  # (N, T + 1)
    return float(next_token_loss(model.eval(), chunks))


def train_char_gpt(
    setup: Setup = QUICK,
    *,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> tuple[CharGPT, TrainResult]:
    """Train a GPT on the shipped fables (``setup.model.vocab_size`` becomes the text's).

    Training stops after ``setup.train.steps`` steps, or at the first evaluation after
    ``setup.max_seconds`` seconds once ``setup.min_steps`` are done: on a slow machine the model
    trains for fewer steps (the result reports how many), the same seed and number of steps giving
    the same weights.
    """
    if not isinstance(setup, Setup):
        raise TypeError(f"setup: expected a Setup (QUICK or FULL), got {type(setup).__name__}")
    corpus = CharCorpus.shipped()
    config = dataclasses.replace(setup.model, vocab_size=corpus.vocab_size)
    torch.manual_seed(seed)  # the same seed gives the same initial weights
    model = GPT(config)
    meta = {
        "kind": KIND,
        "model_config": dataclasses.asdict(config),
        "vocabulary": list(corpus.tokenizer.vocabulary),
    }
    curve: list[float] = []  # held-out loss at every evaluation (every eval_every steps, the end)

    def evaluate(m: nn.Module) -> dict[str, float]:
        curve.append(held_out_loss(m, corpus))
        steps = min(len(curve) * setup.train.eval_every, setup.train.steps)
        return {"held_out_loss": curve[-1], "seconds": time.perf_counter() - start, "step": steps}

    def out_of_time(metrics: dict[str, float]) -> bool:
        late = setup.max_seconds is not None and metrics["seconds"] > setup.max_seconds
        return late and metrics["step"] >= setup.min_steps

    start = time.perf_counter()
    result = train(
        model, corpus.windows(config.context_length), dataclasses.replace(setup.train, seed=seed),
        collate=collate_windows, loss_fn=gpt_step, evaluate=evaluate, stop_when=out_of_time,
        checkpoint=checkpoint, meta=meta, progress=progress,
    )  # fmt: skip
    result.metrics["held_out_curve"] = curve
    return CharGPT(model.cpu().eval(), corpus.tokenizer, result.steps), result


def load_char_gpt(path: str | Path) -> CharGPT:
    """Load a model saved by ``attention-lab run gpt --checkpoint FILE``."""
    state = load_checkpoint(path)
    if state.get("kind") != KIND or "model_config" not in state or "vocabulary" not in state:
        raise CheckpointError(
            f"checkpoint: expected a character-level GPT (from `attention-lab run gpt "
            f"--checkpoint FILE`) in {str(path)!r}, got a checkpoint of kind {state.get('kind')!r}"
        )
    model = GPT(GPTConfig(**state["model_config"]))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint: weights in {str(path)!r} do not match its config "
            f"({str(error).splitlines()[0]})"
        ) from None
    return CharGPT(model.eval(), CharTokenizer(state["vocabulary"]), int(state["step"]))


@dataclasses.dataclass
class CausalHeatmap:
    """One head's attention over a short text, and what it says in numbers."""

    text: str
    layer: int
    head: int
    weights: list[list[float]]  # (T, T): row = query character, column = key character
    above_diagonal_max: float  # the largest weight on a later character (causal: exactly 0)
    previous_share: float  # mean weight on the character just before (rows 1..T-1)
    itself_share: float  # mean weight on the character itself


def causal_heatmap(gpt: CharGPT, text: str = HEATMAP_TEXT) -> CausalHeatmap:
    """The attention of the head that looks most at the previous character, for ``text``."""
    with torch.no_grad():
        gpt.model(gpt.tokenizer.encode(text)[None])  # (1, T): every block keeps its weights
    weights = gpt.model.attention_weights()[:, 0]  # (L, 1, H, T, T) -> (L, H, T, T)
    previous = weights.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)  # (L, H)
    layer, head = divmod(int(previous.argmax()), previous.shape[1])
    chosen = weights[layer, head]  # (T, T)
    return CausalHeatmap(
        text=text,
        layer=layer,
        head=head,
        weights=chosen.tolist(),
        above_diagonal_max=float(chosen.triu(diagonal=1).max()),
        previous_share=float(previous[layer, head]),
        itself_share=float(chosen.diagonal().mean()),
    )


@dataclasses.dataclass
class GPTResult(ExperimentResult):
    seed: int
    steps: int  # steps trained (fewer than max_steps when the time budget ran out)
    max_steps: int
    max_seconds: float | None  # the time budget of training (None: none)
    batch_size: int
    context_length: int
    parameters: int
    vocab_size: int
    train_characters: int
    held_out_characters: int
    seconds: float  # training wall time, evaluation included
    threads: int  # torch CPU threads during the run
    held_out_loss: float  # nats per character on the held-out fables
    unigram_loss: float  # the same characters under the training text's character frequencies
    held_out_bits_per_character: float
    train_steps: list[int]  # the steps at which the training loss was logged
    train_loss: list[float]  # mean over the steps since the previous log
    held_out_steps: list[int]
    held_out_curve: list[float]  # held-out loss during training
    samples: list[dict[str, Any]]  # prompt, temperature, top_k, seed, text
    heatmap: CausalHeatmap

    def alt_text(self) -> str:
        """What the figure shows, in words, from the numbers it is drawn from."""
        h = self.heatmap
        first, last = self.train_loss[0], self.train_loss[-1]
        return (
            f"Left: training loss of a {self.parameters:,}-parameter character-level GPT falls "
            f"from {first:.2f} to {last:.2f} nats per character in {self.steps} steps; its "
            f"held-out loss is {self.held_out_loss:.2f}, against {self.unigram_loss:.2f} for "
            f"character frequencies alone. Right: attention of layer {h.layer}, head {h.head} "
            f"over the {len(h.text)} characters of {h.text!r}: every cell above the diagonal is "
            f"{h.above_diagonal_max:.0f} (no character reads a later one); on average a character "
            f"puts {h.previous_share:.0%} of its weight on the one before it and "
            f"{h.itself_share:.0%} on itself."
        )

    def plot(self) -> DescribedFigure:
        fig = DescribedFigure(figsize=(15, 5.4))
        left, right = fig.subplots(1, 2)
        left.plot(self.train_steps, self.train_loss, label="training loss")
        left.plot(self.held_out_steps, self.held_out_curve, "o-", color="C1",
                  label=f"held-out loss (end: {self.held_out_loss:.2f})")  # fmt: skip
        left.axhline(self.unigram_loss, color="gray", ls=":",
                     label=f"unigram baseline: {self.unigram_loss:.2f}")  # fmt: skip
        left.set(xlabel="step", ylabel="nats per character", title="next-character loss")
        left.legend(fontsize=8)
        h = self.heatmap
        plot_attention(h.weights, visible_characters(h.text), ax=right,
                       title=f"causal attention, layer {h.layer}, head {h.head}")  # fmt: skip
        fig.tight_layout()
        fig.alt_text = self.alt_text()
        return fig


def held_out_points(curve: list[float], eval_every: int, steps: int) -> list[tuple[int, float]]:
    """(step, loss) of each evaluation: ``train`` evaluates every ``eval_every`` steps and once
    more at its last step (the same numbers again if it stopped at an evaluation)."""
    points = [(min((i + 1) * eval_every, steps) if eval_every else steps, loss)
              for i, loss in enumerate(curve)]  # fmt: skip
    return [point for i, point in enumerate(points) if i == 0 or point[0] != points[i - 1][0]]


def visible_characters(text: str) -> list[str]:
    """Axis labels for characters: a space shows as "␣" and a line break as "⏎"."""
    return [{" ": "␣", "\n": "⏎"}.get(ch, ch) for ch in text]


def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    steps: int | None = None,
) -> GPTResult:
    """Train the character-level GPT, measure its held-out loss, sample from it.

    ``steps`` overrides the number of training steps and lifts the time budget.
    """
    setup = QUICK if quick else FULL
    if steps is not None:
        train_config = dataclasses.replace(setup.train, steps=steps)
        setup = dataclasses.replace(setup, train=train_config, max_seconds=None)
    corpus = CharCorpus.shipped()
    start = time.perf_counter()
    gpt, trained = train_char_gpt(setup, seed=seed, checkpoint=checkpoint, progress=progress)
    seconds = time.perf_counter() - start
    context = gpt.model.config.context_length
    samples = [
        {"prompt": prompt, "temperature": temperature, "top_k": top_k, "seed": seed,
         "text": gpt.complete(prompt, temperature=temperature, top_k=top_k, seed=seed)}
        for prompt in PROMPTS
        for temperature, top_k in ((0.8, None), (1.0, 1))
    ]  # fmt: skip
    held_out = trained.metrics["held_out_loss"]
    points = held_out_points(
        trained.metrics["held_out_curve"], setup.train.eval_every, trained.steps
    )
    return GPTResult(
        seed=seed,
        steps=trained.steps,
        batch_size=setup.train.batch_size,
        context_length=context,
        parameters=sum(p.numel() for p in gpt.model.parameters()),
        vocab_size=corpus.vocab_size,
        train_characters=len(corpus.train_ids),
        held_out_characters=len(corpus.held_out_ids),
        seconds=seconds,
        threads=torch.get_num_threads(),
        held_out_loss=held_out,
        unigram_loss=corpus.unigram_loss(context),
        held_out_bits_per_character=held_out / math.log(2),
        train_steps=[int(record["step"]) for record in trained.history],
        train_loss=[record["loss"] for record in trained.history],
        held_out_steps=[step for step, _ in points],
        held_out_curve=[loss for _, loss in points],
        max_steps=setup.train.steps,
        max_seconds=setup.max_seconds,
        samples=samples,
        heatmap=causal_heatmap(gpt),
    )
