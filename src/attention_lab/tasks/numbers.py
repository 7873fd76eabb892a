"""Number translation: English number words <-> digits, a small real sequence-to-sequence task.

The pairs are read the way British English writes numbers, with "and" before the last two digits::

    342     "three hundred and forty-two"          <-> "3 4 2"
    2005    "two thousand and five"                <-> "2 0 0 5"
    120000  "one hundred and twenty thousand"      <-> "1 2 0 0 0 0"

Worked example of the encoding (``NumberTranslation(max_number=999, direction="words-to-digits")``;
the ids are those of :data:`VOCABULARY`: 0 ``<pad>``, 1 ``<bos>``, 2 ``<eos>``, then the ten digits,
then the words)::

    number       342
    source text  "three hundred and forty-two"
    source       ["three", "hundred", "and", "forty", "two"]  ->  [16, 41, 43, 35, 15]
    target text  "3 4 2"
    target       ["3", "4", "2"]                               ->  [6, 7, 5]
    decoder in   <bos> 3 4 2                                   ->  [1, 6, 7, 5]
    decoder out        3 4 2 <eos>                             ->  [6, 7, 5, 2]

The hyphen of "forty-two" is spelling, not a token: "forty-two" and "forty two" read the same, and
decoding puts the hyphen back. A batch is padded on the right with ``<pad>`` (id 0) to its longest
sequence; :func:`attention_lab.padding_mask` then hides the padding from attention.

The split is seeded: a fixed set of numbers is held out for testing (and another for validation)
and never appears in training, in either direction, so exact match on the test split measures
generalisation to unseen numbers, not recall.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

Direction = Literal["words-to-digits", "digits-to-words", "both"]
DIRECTIONS: tuple[str, ...] = ("words-to-digits", "digits-to-words", "both")

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)
DIGITS = tuple("0123456789")
UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
WORDS = (*UNITS, *TENS[2:], "hundred", "thousand", "and")
# One vocabulary for both sides, so one model can translate in both directions.
VOCABULARY: tuple[str, ...] = (*SPECIALS, *DIGITS, *WORDS)
MAX_SUPPORTED = 999_999
_SMALL = (*UNITS, *TENS[2:])  # the words of 0..99; two in a row only as in "forty two"


def _below_thousand(n: int) -> list[str]:
    """Words of ``0 < n < 1000``: "three hundred and forty-two" -> [three, hundred, and, forty, two]."""
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [UNITS[hundreds], "hundred"]
        if rest:
            words.append("and")
    if rest >= 20:
        words.append(TENS[rest // 10])
        if rest % 10:
            words.append(UNITS[rest % 10])
    elif rest:
        words.append(UNITS[rest])
    return words


def number_to_tokens(n: int) -> list[str]:
    """The word tokens of ``n`` (0 <= n <= 999 999), hyphens left out: 42 -> ["forty", "two"]."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n: expected an int in [0, {MAX_SUPPORTED}], got {type(n).__name__}")
    if not 0 <= n <= MAX_SUPPORTED:
        raise ValueError(f"n: expected an int in [0, {MAX_SUPPORTED}], got {n}")
    if n == 0:
        return ["zero"]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += [*_below_thousand(thousands), "thousand"]
        if 0 < rest < 100:  # British: "two thousand and five"
            words.append("and")
    if rest:
        words += _below_thousand(rest)
    return words


def join_words(tokens: Sequence[str]) -> str:
    """Spell word tokens as text, with the hyphen of "forty-two" put back."""
    text: list[str] = []
    for token in tokens:
        if text and token in UNITS[1:10] and text[-1] in TENS[2:]:
            text[-1] = f"{text[-1]}-{token}"
        else:
            text.append(token)
    return " ".join(text)


def number_to_words(n: int) -> str:
    """English words of ``n``: ``number_to_words(342) == "three hundred and forty-two"``."""
    return join_words(number_to_tokens(n))


def number_to_digits(n: int) -> str:
    """Digits of ``n`` separated by spaces, one token each: ``number_to_digits(342) == "3 4 2"``."""
    number_to_tokens(n)  # same checks
    return " ".join(str(n))


def words_to_number(text: str) -> int:
    """Read English number words back to an int (the exact inverse of :func:`number_to_words`).

    Used to check translations and inputs, never by the model. Raises ValueError for text that is
    not a number in [0, 999 999] written the way :func:`number_to_words` writes it; the message
    says what is wrong ("seven hundred two": the task writes 'seven hundred and two').
    """
    tokens = tokenize(text)
    for n_candidate in _candidates(tokens):
        if number_to_tokens(n_candidate) == tokens:
            return n_candidate
    raise ValueError(
        f"text: expected a well-formed English number, got {text!r}: {_what_is_wrong(tokens)}"
    )


def _what_is_wrong(tokens: list[str]) -> str:
    """Why ``tokens`` are not the words of a number as :func:`number_to_tokens` writes them."""
    digits = [t for t in tokens if t in DIGITS]
    if digits:
        if len(digits) == len(tokens):
            return "it is written in digits, not words"
        return (
            "it mixes digits and words; write a number one way or the other, e.g. '702' or "
            "'seven hundred and two'"
        )
    if all(t == "and" for t in tokens):
        return "'and' alone is not a number"
    if tokens[0] == "and":
        return "it starts with 'and'; 'and' only joins the parts of a number"
    if tokens[-1] == "and":
        return f"it ends with 'and'; a number word must follow it{_suggestion(tokens)}"
    if "zero" in tokens:
        return "'zero' is a number on its own; it is never part of a longer number"
    if tokens.count("thousand") > 1:
        return "'thousand' appears more than once"
    for before, word in zip(["", *tokens], tokens):
        if word == "hundred" and before not in UNITS[1:10]:
            where = f"here it follows {before!r}" if before else "here it comes first"
            return f"'hundred' must follow one of one..nine, e.g. 'three hundred'; {where}"
        if word == "thousand" and before in ("", "and"):
            where = f"here it follows {before!r}" if before else "here it comes first"
            return f"'thousand' must follow a number, e.g. 'two thousand'; {where}"
        if word == "and" and before == "and":
            return "'and' appears twice in a row"
        if before in _SMALL and word in _SMALL and not (before in TENS and word in UNITS[1:10]):
            return f"{before!r} cannot be followed by {word!r}"
    suggestion = _suggestion(tokens)
    if suggestion:
        return f"'and' is missing or in the wrong place{suggestion}"
    return (
        "the words are not in the order of a number; the task writes numbers as in 'three "
        "hundred and forty-two', 'two thousand and five', 'one hundred and twenty thousand'"
    )


def _suggestion(tokens: list[str]) -> str:
    """``"; did you mean ..."`` when only the placement of 'and' is off, else ``""``."""
    core = [t for t in tokens if t != "and"]
    for n in _candidates(core):
        if [t for t in number_to_tokens(n) if t != "and"] == core:
            return f"; did you mean {number_to_words(n)!r}?"
    return ""


def _candidates(tokens: list[str]) -> list[int]:
    """Numbers whose words might be ``tokens`` (a cheap parse; the caller confirms it)."""
    value = 0
    group = 0
    for token in tokens:
        if token in UNITS:
            group += UNITS.index(token)
        elif token in TENS[2:]:
            group += 10 * TENS.index(token)
        elif token == "hundred":
            group *= 100
        elif token == "thousand":
            value += group * 1000
            group = 0
        elif token != "and":
            return []
    total = value + group
    return [total] if 0 <= total <= MAX_SUPPORTED else []


def tokenize(text: str) -> list[str]:
    """Split text into tokens of :data:`VOCABULARY` (no ids yet).

    Words are lower-cased and split on spaces and hyphens; a run of digits is split into single
    digits ("342" and "3 4 2" both give ["3", "4", "2"]); commas between digit groups are dropped.

    Raises:
        TypeError: ``text`` is not a str.
        ValueError: ``text`` is empty, or holds a word outside the vocabulary (the message names
            it and suggests the closest known word).
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    pieces = text.lower().replace("-", " ").replace(",", " ").split()
    if not pieces:
        raise ValueError(
            "text: expected a number in words or digits, e.g. 'seven hundred and two' or '702', "
            f"got an empty string {text!r}"
        )
    tokens: list[str] = []
    for piece in pieces:
        if piece.isdigit() and piece.isascii():
            tokens += list(piece)
        elif piece in WORDS:
            tokens.append(piece)
        else:
            close = difflib.get_close_matches(piece, WORDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"text: unknown word {piece!r} in {text!r}; expected English number words "
                f"(zero..nineteen, twenty..ninety, hundred, thousand, and) or digits{hint}"
            )
    return tokens


@dataclasses.dataclass(frozen=True)
class Tokenizer:
    """Maps tokens <-> ids over :data:`VOCABULARY` and pads batches (``<pad>`` is id 0)."""

    vocabulary: tuple[str, ...] = VOCABULARY

    @property
    def pad_id(self) -> int:
        return self.vocabulary.index(PAD)

    @property
    def bos_id(self) -> int:
        return self.vocabulary.index(BOS)

    @property
    def eos_id(self) -> int:
        return self.vocabulary.index(EOS)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str) -> list[int]:
        """``"three hundred and forty-two"`` -> ``[16, 41, 43, 35, 15]`` (no <bos>/<eos>)."""
        index = {token: i for i, token in enumerate(self.vocabulary)}
        return [index[token] for token in tokenize(text)]

    def tokens(self, ids: Sequence[int] | Tensor) -> list[str]:
        """Ids -> tokens, stopping at the first ``<eos>`` and skipping ``<bos>``/``<pad>``."""
        out: list[str] = []
        for i in [int(i) for i in ids]:
            if not 0 <= i < len(self.vocabulary):
                raise ValueError(f"ids: expected ids in [0, {len(self.vocabulary)}), got {i}")
            token = self.vocabulary[i]
            if token == EOS:
                break
            if token not in (BOS, PAD):
                out.append(token)
        return out

    def decode(self, ids: Sequence[int] | Tensor) -> str:
        """Ids -> text: digits joined by spaces ("3 4 2"), words spelled ("forty-two")."""
        return detokenize(self.tokens(ids))

    def pad(self, sequences: Sequence[Sequence[int]]) -> Tensor:
        """Right-pad id lists to one ``(B, T_max)`` long tensor with ``<pad>``."""
        if not sequences:
            raise ValueError("sequences: expected at least one sequence, got none")
        longest = max(len(s) for s in sequences)
        batch = torch.full((len(sequences), longest), self.pad_id, dtype=torch.long)
        for row, seq in enumerate(sequences):
            batch[row, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
        return batch


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens -> text: digits as "3 4 2", words as "three hundred and forty-two"."""
    if tokens and all(t in DIGITS for t in tokens):
        return " ".join(tokens)
    return join_words(tokens)


def is_digits(text: str) -> bool:
    """True when ``text`` is written in digits (so it translates to words)."""
    tokens = tokenize(text)
    return all(t in DIGITS for t in tokens)


@dataclasses.dataclass(frozen=True)
class Batch:
    """A padded batch: ``src (B, T_src)``, decoder input ``tgt_in (B, T_tgt)`` = <bos> + target,
    and the labels ``tgt_out (B, T_tgt)`` = target + <eos>; all padded with id 0."""

    src: Tensor
    tgt_in: Tensor
    tgt_out: Tensor

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.src.to(device), self.tgt_in.to(device), self.tgt_out.to(device))

    @property
    def num_tokens(self) -> int:
        """Real (non-padding) tokens the decoder predicts: the unit of tokens per second."""
        return int((self.tgt_out != 0).sum())


class NumberTranslation(torch.utils.data.Dataset):
    """The seeded number-translation task: splits, pairs, tokenizer and batching.

    Args:
        max_number: largest number of the task (0..max_number), at most 999 999.
        direction: "words-to-digits", "digits-to-words" or "both" (each number once each way).
        test_size: numbers held out for the final exact-match test (never seen in training).
        valid_size: numbers held out for validation during training (never seen either).
        seed: seeds the split; the same seed always holds out the same numbers.
        split: which split this dataset serves: "train", "valid" or "test".
    """

    def __init__(
        self,
        max_number: int = 999,
        direction: Direction = "words-to-digits",
        *,
        test_size: int = 100,
        valid_size: int = 50,
        seed: int = 0,
        split: Literal["train", "valid", "test"] = "train",
    ) -> None:
        if isinstance(max_number, bool) or not isinstance(max_number, int):
            raise TypeError(f"max_number: expected an int, got {type(max_number).__name__}")
        if not 9 <= max_number <= MAX_SUPPORTED:
            raise ValueError(
                f"max_number: expected 9 <= max_number <= {MAX_SUPPORTED}, got {max_number}"
            )
        if direction not in DIRECTIONS:
            raise ValueError(f"direction: expected one of {DIRECTIONS}, got {direction!r}")
        if split not in ("train", "valid", "test"):
            raise ValueError(f"split: expected 'train', 'valid' or 'test', got {split!r}")
        for name, size in (("test_size", test_size), ("valid_size", valid_size)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {size!r}")
        if test_size + valid_size >= (max_number + 1) // 2:
            raise ValueError(
                f"test_size + valid_size: expected fewer than half of the {max_number + 1} numbers "
                f"so most remain for training, got {test_size} + {valid_size}"
            )
        self.max_number = max_number
        self.direction = direction
        self.test_size = test_size
        self.valid_size = valid_size
        self.seed = seed
        self.split = split
        self.tokenizer = Tokenizer()
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(max_number + 1, generator=generator)  # (N,) a seeded shuffle
        bounds = {"test": (0, test_size), "valid": (test_size, test_size + valid_size)}
        start, stop = bounds.get(split, (test_size + valid_size, max_number + 1))
        self.numbers: Tensor = order[start:stop].sort().values  # (N_split,)

    def with_split(self, split: Literal["train", "valid", "test"]) -> NumberTranslation:
        """The same task (same seed, same held-out numbers) serving another split."""
        return NumberTranslation(
            self.max_number,
            self.direction,  # type: ignore[arg-type]
            test_size=self.test_size,
            valid_size=self.valid_size,
            seed=self.seed,
            split=split,
        )

    def config(self) -> dict[str, object]:
        """Plain data that rebuilds this task (kept in checkpoints)."""
        return {
            "max_number": self.max_number,
            "direction": self.direction,
            "test_size": self.test_size,
            "valid_size": self.valid_size,
            "seed": self.seed,
        }

    @property
    def max_target_len(self) -> int:
        """An upper bound on the tokens of any source or target of the task (decoding limit)."""
        digits = len(str(self.max_number))
        words = (
            5 if self.max_number < 1000 else 11
        )  # "seven hundred and seventy seven" (+ thousand)
        return max(digits, words)

    def __len__(self) -> int:
        return len(self.numbers) * (2 if self.direction == "both" else 1)

    def pair(self, index: int) -> tuple[str, str]:
        """The (source text, target text) of item ``index``."""
        if self.direction == "both":
            n, to_words = int(self.numbers[index // 2]), index % 2 == 1
        else:
            n, to_words = int(self.numbers[index]), self.direction == "digits-to-words"
        words, digits = number_to_words(n), number_to_digits(n)
        return (digits, words) if to_words else (words, digits)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        source, target = self.pair(index)
        return self.tokenizer.encode(source), self.tokenizer.encode(target)

    def collate(self, items: Sequence[tuple[list[int], list[int]]]) -> Batch:
        """Pad a list of (source ids, target ids) into a :class:`Batch`."""
        tok = self.tokenizer
        src = tok.pad([s for s, _ in items])
        tgt_in = tok.pad([[tok.bos_id, *t] for _, t in items])  # teacher forcing: shifted right
        tgt_out = tok.pad([[*t, tok.eos_id] for _, t in items])
        return Batch(src, tgt_in, tgt_out)

    def batch(self, indices: Sequence[int]) -> Batch:
        return self.collate([self[i] for i in indices])
