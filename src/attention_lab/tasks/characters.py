"""Character-level language modelling of a small text the project ships.

The text is ``data/fables.txt``: twenty of Aesop's fables retold for this project in plain
English (about 11 kB, ASCII only). A GPT reads it one character at a time and learns to predict
the next character, the pre-training objective of GPT (Radford et al. 2018) at its smallest.

Worked example of the encoding (the vocabulary is the 57 characters of the text, sorted; an id is
a position in it, so the line break is 0 and the space is 1)::

    text       "The fox"
    ids        [26, 39, 36, 1, 37, 46, 55]
    window     the model reads ids[:-1] and is trained to predict ids[1:] at every position:
               "T" -> "h", "Th" -> "e", "The" -> " ", ..., "The fo" -> "x"

The text is split once: the first 90% for training, the last 10% held out, so the held-out loss
is measured on fables the model never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import torch
from torch import Tensor

CORPUS_FILE = "fables.txt"
HELD_OUT_FRACTION = 0.1


@dataclass(frozen=True)
class CharBatch:
    """A batch of windows of ``T + 1`` ids ``(B, T + 1)``: inputs ``[:, :-1]``, targets ``[:, 1:]``."""

    tokens: Tensor

    def to(self, device: torch.device | str) -> CharBatch:
        return CharBatch(self.tokens.to(device))


class CharWindows(torch.utils.data.Dataset):
    """Every window of ``length + 1`` consecutive ids of ``ids``, one per start position."""

    def __init__(self, ids: Tensor, length: int):
        if len(ids) < length + 1:
            raise ValueError(
                f"length: expected at most {len(ids) - 1} (the text has {len(ids)} characters), "
                f"got {length}"
            )
        self.ids, self.length = ids, length

    def __len__(self) -> int:
        return len(self.ids) - self.length

    def __getitem__(self, index: int) -> Tensor:
        return self.ids[index : index + self.length + 1]  # (length + 1,)


def collate_windows(items: Sequence[Tensor]) -> CharBatch:
    return CharBatch(torch.stack(list(items)))  # B x (T + 1,) -> (B, T + 1)


class CharTokenizer:
    """Characters <-> ids: id ``i`` is ``vocabulary[i]``."""

    def __init__(self, vocabulary: Sequence[str]):
        vocabulary = tuple(vocabulary)
        if not vocabulary or any(not isinstance(c, str) or len(c) != 1 for c in vocabulary):
            raise ValueError(
                f"vocabulary: expected a non-empty sequence of single characters, got "
                f"{vocabulary[:5]!r}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("vocabulary: expected each character once, got repeats")
        self.vocabulary = vocabulary
        self._index = {ch: i for i, ch in enumerate(vocabulary)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str) -> Tensor:
        """``text`` -> ids ``(len(text),)``; every character must be in the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        unknown = sorted({ch for ch in text if ch not in self._index})
        if unknown:
            raise ValueError(
                f"text: expected only characters of the training text, got unknown "
                f"{''.join(unknown)!r}; known: {''.join(self.vocabulary)!r}"
            )
        return torch.tensor([self._index[ch] for ch in text], dtype=torch.long)

    def decode(self, ids: Tensor | Sequence[int]) -> str:
        """ids -> text."""
        values = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        bad = [i for i in values if not (isinstance(i, int) and 0 <= i < self.vocab_size)]
        if bad:
            raise ValueError(f"ids: expected ints in [0, {self.vocab_size}), got {bad[:5]}")
        return "".join(self.vocabulary[i] for i in values)


class CharCorpus:
    """A text, its character tokenizer, and its training and held-out ids."""

    def __init__(self, text: str, held_out_fraction: float = HELD_OUT_FRACTION):
        if not isinstance(text, str) or len(text) < 100:
            got = f"{len(text)} characters" if isinstance(text, str) else type(text).__name__
            raise ValueError(f"text: expected a text of at least 100 characters, got {got}")
        if not 0.0 < held_out_fraction < 0.5:
            raise ValueError(
                f"held_out_fraction: expected a number in (0, 0.5), got {held_out_fraction!r}"
            )
        self.text = text
        self.tokenizer = CharTokenizer(sorted(set(text)))
        ids = self.tokenizer.encode(text)  # (N,)
        cut = round(len(ids) * (1 - held_out_fraction))
        self.train_ids, self.held_out_ids = ids[:cut], ids[cut:]

    @classmethod
    def shipped(cls) -> CharCorpus:
        """The fables that ship with the package."""
        path = resources.files("attention_lab.tasks").joinpath("data", CORPUS_FILE)
        return cls(path.read_text(encoding="utf-8"))

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def windows(self, length: int) -> CharWindows:
        """The training windows of ``length`` inputs (and one more id for the last target)."""
        return CharWindows(self.train_ids, length)

    def held_out_chunks(self, length: int) -> Tensor:
        """The held-out text cut into consecutive windows of ``length + 1`` ids: ``(N, length + 1)``.

        Consecutive windows share one id (the last target of one is the first input of the next),
        so every held-out character after the first is predicted once (a tail shorter than a
        window is left out).
        """
        ids = self.held_out_ids
        starts = range(0, len(ids) - length, length)
        if not starts:
            raise ValueError(
                f"length: expected less than {len(ids)} (the held-out text), got {length}"
            )
        return torch.stack([ids[s : s + length + 1] for s in starts])

    def unigram_loss(self, length: int) -> float:
        """Cross-entropy (nats per character) of the held-out targets of ``held_out_chunks(length)``
        under the training text's character frequencies (add-one smoothing): the score of a model
        that ignores the context."""
        counts = torch.bincount(self.train_ids, minlength=self.vocab_size).double()  # (V,)
        log_p = ((counts + 1) / (counts.sum() + self.vocab_size)).log()  # (V,)
        targets = self.held_out_chunks(length)[:, 1:]  # (N, length)
        return float(-log_p[targets].mean())
