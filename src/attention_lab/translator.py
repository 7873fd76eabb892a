"""The number translator of Lab 3.3: an encoder-decoder that turns number words into digits.

The model is the library's from-scratch :class:`~attention_lab.Transformer` (post-norm, as in the
paper), trained with padding and causal masks by :func:`attention_lab.training.train` on
:class:`~attention_lab.tasks.numbers.NumberTranslation` and tested with greedy decoding on numbers
held out from training. This module is the application: presets (:data:`QUICK`, :data:`FULL`,
:func:`setup_for`), training and resuming (:func:`train_translator`, :func:`resume_setup`),
loading (:func:`load_translator`, :func:`get_translator`), translating and reading the
cross-attention. The experiment that reports on it is :mod:`attention_lab.experiments.translation`.

For lessons and tools::

    translator = get_translator()                  # trains quickly, or loads a checkpoint
    translate(translator, "seven hundred and two")  # -> "7 0 2"
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from attention_lab.checkpoints import CheckpointError, check_path, load_checkpoint
from attention_lab.nn.transformer import PRESETS, Transformer, TransformerConfig, greedy_decode
from attention_lab.tasks.numbers import NumberTranslation, Tokenizer, is_digits, words_to_number
from attention_lab.training import TrainConfig, TrainResult, train


@dataclasses.dataclass(frozen=True)
class Setup:
    """Everything a translation run needs: the task, the model's shape and the training recipe."""

    max_number: int  # numbers 0..max_number
    direction: str  # "words-to-digits", "digits-to-words" or "both"
    test_size: int  # held-out numbers for the final exact-match test
    valid_size: int  # held-out numbers that decide early stopping
    model: TransformerConfig
    train: TrainConfig


def _model(d_model: int, heads: int, layers: int, d_ff: int, dropout: float) -> TransformerConfig:
    vocab = len(Tokenizer())
    return TransformerConfig(
        src_vocab_size=vocab, tgt_vocab_size=vocab, d_model=d_model, num_heads=heads,
        num_encoder_layers=layers, num_decoder_layers=layers, d_ff=d_ff, dropout=dropout,
        max_len=32, share_embeddings=True,
    )  # fmt: skip


# --quick: 0..9999, 500 unseen numbers tested; 30-40 s of one CPU thread (seeds 0-2: 99.2-100%).
QUICK = Setup(
    max_number=9999,
    direction="words-to-digits",
    test_size=500,
    valid_size=250,
    model=_model(d_model=64, heads=4, layers=2, d_ff=128, dropout=0.0),
    train=TrainConfig(steps=1000, batch_size=64, lr=3e-3, warmup=100, eval_every=100),
)
# the full run: up to 999 999, both directions in one model (a few CPU minutes per 1000 steps)
FULL = Setup(
    max_number=999_999,
    direction="both",
    test_size=2000,
    valid_size=500,
    model=_model(d_model=128, heads=4, layers=2, d_ff=256, dropout=0.0),
    train=TrainConfig(steps=6000, batch_size=128, lr=2e-3, warmup=200, eval_every=500),
)


MODEL_PRESETS = ("tiny", "base", "paper-base", "paper-big")
SETUPS = {"quick": QUICK, "full": FULL}


def setup_for(preset: str | dict[str, Any], **overrides: Any) -> Setup:
    """The Setup of a named preset, or of a checkpoint (to resume it), with overrides.

    ``preset``: "quick", "full", a model preset of ``attention_lab.PRESETS`` (trained on the full
    task; the paper's sizes with the paper's recipe: Eq. 3 schedule, 4000 warmup steps, label
    smoothing 0.1), or a checkpoint's state. ``overrides``: ``steps``, ``batch_size``, ``lr``,
    ``max_number``, ``direction`` (None leaves a value as it is).
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if isinstance(preset, dict):  # a checkpoint: rebuild exactly what it was trained with
        if preset.get("kind") != "translation":
            raise CheckpointError(
                f"resume: expected a translation checkpoint, got kind {preset.get('kind')!r}"
            )
        task, config = preset["task"], dict(preset["train_config"])
        config["betas"] = tuple(config["betas"])
        if {"max_number", "direction"} & overrides.keys():
            raise ValueError(
                "resume: the task of a checkpoint cannot change (max_number, direction)"
            )
        setup = Setup(
            task["max_number"], task["direction"], task["test_size"], task["valid_size"],
            TransformerConfig(**preset["model_config"]), TrainConfig(**config),
        )  # fmt: skip
    elif preset in SETUPS:
        setup = SETUPS[preset]
    elif preset in MODEL_PRESETS:
        model = dataclasses.replace(
            PRESETS[preset], src_vocab_size=FULL.model.src_vocab_size,
            tgt_vocab_size=FULL.model.tgt_vocab_size, share_embeddings=True,
        )  # fmt: skip
        recipe = FULL.train
        if preset.startswith("paper"):
            recipe = dataclasses.replace(
                recipe, schedule="noam", lr=1.0, warmup=4000, label_smoothing=0.1
            )
        setup = dataclasses.replace(FULL, model=model, train=recipe)
    else:
        known = ", ".join([*SETUPS, *MODEL_PRESETS])
        raise ValueError(f"preset: expected one of {known}, got {preset!r}")
    task_fields = {k: overrides.pop(k) for k in ("max_number", "direction") if k in overrides}
    if task_fields:  # a new range keeps ~10% of it for testing and ~5% for validation
        setup = dataclasses.replace(setup, **task_fields)
        count = setup.max_number + 1
        setup = dataclasses.replace(
            setup,
            test_size=min(setup.test_size, count // 10),
            valid_size=min(setup.valid_size, count // 20),
        )
    NumberTranslation(  # validates the task before any training starts
        setup.max_number, setup.direction,  # type: ignore[arg-type]
        test_size=setup.test_size, valid_size=setup.valid_size,
    )  # fmt: skip
    if overrides:
        setup = dataclasses.replace(setup, train=dataclasses.replace(setup.train, **overrides))
    return setup


def resume_setup(path: str | Path, **overrides: Any) -> tuple[Setup, int]:
    """The Setup and the seed to continue the checkpoint at ``path``: the task, model and recipe it
    was trained with, and the seed that fixed its split, so the resumed run sees the same data.

    ``overrides`` as in :func:`setup_for` (``steps`` extends the run); the task cannot change.
    Pass both to :func:`train_translator` with ``resume=path``.

    Raises:
        FileNotFoundError, CheckpointError: as :func:`~attention_lab.checkpoints.load_checkpoint`,
            or the checkpoint is not a translation model's.
        ValueError: an override that changes the task.
    """
    state = load_checkpoint(path, require_trained=False)
    setup = setup_for(state, **overrides)
    return setup, int(state["task"]["seed"])


@dataclasses.dataclass
class Translator:
    """A trained model with its task (tokenizer, range, direction): what ``translate`` needs."""

    model: Transformer
    task: NumberTranslation
    steps: int = 0

    @property
    def tokenizer(self) -> Tokenizer:
        return self.task.tokenizer

    def translate(self, text: str) -> str:
        return translate(self, text)


def translate(translator: Translator, text: str) -> str:
    """Translate number words to digits (or digits to words, if the model learned that way).

    ``translate(t, "seven hundred and two") == "7 0 2"``. Greedy decoding, one token at a time.

    Raises:
        TypeError: ``translator`` is not a Translator or ``text`` is not a str.
        ValueError: empty text, an unknown word (named, with the closest known word), words that
            are not a number as the task writes it ("seven hundred and": the message says what is
            wrong), digits with leading zeros, a direction the model was not trained for, or a
            number outside its range.
    """
    _check_translator(translator)
    src = _source_ids(translator, text)[None]  # (1, S)
    out = _decode(translator, src)  # (1, T)
    return translator.tokenizer.decode(out[0])


def _check_translator(translator: object) -> None:
    if not isinstance(translator, Translator):
        raise TypeError(
            f"translator: expected a Translator (from get_translator or load_translator), "
            f"got {type(translator).__name__}"
        )


def _source_ids(translator: Translator, text: str) -> Tensor:
    task, tok = translator.task, translator.tokenizer
    ids = tok.encode(text)  # checks type, emptiness and unknown words
    from_digits = is_digits(text)
    if from_digits and task.direction == "words-to-digits":
        raise ValueError(
            f"text: this model translates number words to digits; expected words such as "
            f"'seven hundred and two', got digits {text!r}"
        )
    if not from_digits and task.direction == "digits-to-words":
        raise ValueError(
            f"text: this model translates digits to number words; expected digits such as "
            f"'702', got {text!r}"
        )
    value = _value(text, from_digits)
    if value > task.max_number:
        raise ValueError(
            f"text: expected a number in [0, {task.max_number}] (the range this model learned), "
            f"got {text!r} = {value}"
        )
    if len(ids) > translator.model.config.max_len:
        raise ValueError(
            f"text: expected at most {translator.model.config.max_len} tokens, got {len(ids)}"
        )
    return torch.tensor(ids, dtype=torch.long)


def _value(text: str, from_digits: bool) -> int:
    """The number ``text`` names; ValueError (saying what is wrong) unless it is written as the
    task writes numbers, so the model is never asked to translate something it cannot have seen."""
    if not from_digits:
        return words_to_number(text)
    digits = "".join(text.split()).replace(",", "")
    if len(digits) > 1 and digits.startswith("0"):
        raise ValueError(
            f"text: expected digits without leading zeros, got {text!r}; did you mean "
            f"{str(int(digits))!r}?"
        )
    return int(digits)


def _decode(translator: Translator, src: Tensor) -> Tensor:
    device = next(translator.model.parameters()).device
    tok = translator.tokenizer
    return greedy_decode(
        translator.model, src.to(device), max_len=translator.task.max_target_len + 2,
        bos_id=tok.bos_id, eos_id=tok.eos_id,
    ).cpu()  # fmt: skip


@torch.no_grad()
def exact_match(translator: Translator, dataset: NumberTranslation, batch_size: int = 500) -> float:
    """Share of ``dataset`` whose greedy translation equals the reference exactly."""
    _check_translator(translator)
    if not isinstance(dataset, NumberTranslation):
        raise TypeError(
            f"dataset: expected a NumberTranslation (e.g. translator.task.with_split('test')), "
            f"got {type(dataset).__name__}"
        )
    tok, right = translator.tokenizer, 0
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        out = _decode(translator, tok.pad([s for s, _ in items]))  # (b, T)
        right += sum(tok.tokens(row) == tok.tokens(t) for row, (_, t) in zip(out, items))
    return right / len(dataset)


@dataclasses.dataclass(frozen=True)
class CrossAttention:
    """Cross-attention of one translation: ``weights (L, H, T_out, T_src)``: for each decoder
    layer and head, how much each output token (row) looked at each source token (column)."""

    weights: Tensor
    source: list[str]
    output: list[str]


@torch.no_grad()
def cross_attention(translator: Translator, text: str) -> CrossAttention:
    """Translate ``text`` greedily, then replay the decoder once to read its cross-attention."""
    _check_translator(translator)
    model, tok = translator.model, translator.tokenizer
    src = _source_ids(translator, text)[None]  # (1, S)
    out = _decode(translator, src)  # (1, T): <bos> y_1 .. y_n <eos>
    output = tok.tokens(out[0])
    dec_in = out[:, : len(output) + 1]  # <bos> y_1 .. y_n: each row predicts the next token
    model.eval()
    model(src, dec_in, *model.make_masks(src, dec_in))
    layers = [layer.cross_attn.attn_weights[0] for layer in model.decoder.layers]  # L x (H, T, S)
    return CrossAttention(torch.stack(layers).cpu(), tok.tokens(src[0]), [*output, "<eos>"])


def build_model(setup: Setup, seed: int) -> Transformer:
    torch.manual_seed(seed)  # the same seed gives the same initial weights
    return Transformer(setup.model)


def train_translator(
    setup: Setup = QUICK,
    *,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool = True,
) -> tuple[Translator, TrainResult]:
    """Train a translator (one process, or every process under ``torchrun``); stops early when the
    validation numbers are all translated exactly. Saves ``checkpoint`` (rank 0) if given."""
    if not isinstance(setup, Setup):
        raise TypeError(
            f"setup: expected a Setup (QUICK, FULL or setup_for(...)), got {type(setup).__name__}"
        )
    for name, path in (("checkpoint", checkpoint), ("resume", resume)):
        if path is not None:
            check_path(path, name)
    if checkpoint is not None and Path(checkpoint).is_dir():  # found now, not after training
        raise IsADirectoryError(
            f"checkpoint: expected a file to write, got the directory {str(checkpoint)!r}"
        )
    task = NumberTranslation(
        setup.max_number, setup.direction, test_size=setup.test_size,  # type: ignore[arg-type]
        valid_size=setup.valid_size, seed=seed,
    )  # fmt: skip
    valid = task.with_split("valid")
    model = build_model(setup, seed)
    train_config = dataclasses.replace(setup.train, seed=seed)
    meta = {
        "model_config": dataclasses.asdict(setup.model),
        "task": task.config(),
        "kind": "translation",
    }
    result = train(
        model, task, train_config, collate=task.collate, d_model=setup.model.d_model,
        evaluate=lambda m: {"valid_exact": exact_match(Translator(m, task), valid)},
        stop_when=lambda metrics: metrics["valid_exact"] >= 1.0,
        checkpoint=checkpoint, resume=resume, meta=meta, progress=progress,
    )  # fmt: skip
    return Translator(model.cpu().eval(), task, result.steps), result


def load_translator(path: str | Path) -> Translator:
    """Load a translator from a checkpoint written by ``attention-lab train`` or
    ``attention-lab run translation --checkpoint FILE``; clear errors for anything else."""
    state = load_checkpoint(path)
    if state.get("kind") != "translation" or "model_config" not in state or "task" not in state:
        raise CheckpointError(
            f"checkpoint: expected a number-translation model in {str(path)!r}, got a checkpoint "
            f"of kind {state.get('kind')!r}"
        )
    config = TransformerConfig(**state["model_config"])
    model = Transformer(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint: weights in {str(path)!r} do not match its config ({str(error).splitlines()[0]})"
        ) from None
    task = NumberTranslation(**state["task"])
    return Translator(model.eval(), task, int(state["step"]))


def get_translator(
    checkpoint: str | Path | None = None, *, seed: int = 0, progress: bool = False
) -> Translator:
    """The lesson's entry point: load ``checkpoint`` if it exists, else train the quick model
    (about a minute on one CPU thread) and save it there when a path is given.

    Without ``checkpoint``, the environment variable ``ATTENTION_LAB_TRANSLATOR`` names one (the
    course build sets it, so every lesson shares one trained model).
    """
    if checkpoint is not None:
        check_path(checkpoint, "checkpoint", "a path to a checkpoint file (or None)")
    checkpoint = checkpoint or os.environ.get("ATTENTION_LAB_TRANSLATOR") or None
    if checkpoint is not None and Path(checkpoint).exists():
        return load_translator(checkpoint)
    translator, _ = train_translator(QUICK, seed=seed, checkpoint=checkpoint, progress=progress)
    return translator
