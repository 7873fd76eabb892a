"""Per-token sequence tasks that do and do not depend on word order.

Self-attention is permutation-equivariant: shuffle the input tokens and, without positional
encoding, the outputs are shuffled the same way and are otherwise unchanged (section 3.5 of
Vaswani et al. 2017: "Since our model contains no recurrence and no convolution, in order for the
model to make use of the order of the sequence, we must inject some information about the relative
or absolute position of the tokens"). These tasks measure that claim. Each one maps a sequence of
``T`` token ids to ``T`` labels, one per position:

- ``reversal`` (order-dependent): ``y_i = x_{T-1-i}``. The answer at a position depends on *where*
  the position is, so it cannot be computed from the bag of tokens alone.
- ``counting`` (order-free): ``y_i = #{j : x_j = x_i}``, how often the token occurs in the sequence.
- ``sorting`` (order-free): ``y_i = #{j : x_j < x_i}``, the slot that ``x_i`` takes in the sorted
  sequence (sorting written as "where does each token go", which is how a per-token model sorts).

Worked example (``vocab_size=10``, ``length=6``), input ``x = [3, 7, 3, 0, 9, 1]``::

    reversal  y = [1, 9, 0, 3, 7, 3]
    counting  y = [2, 1, 2, 1, 1, 1]
    sorting   y = [2, 4, 2, 0, 5, 1]     (sorted(x) = [0, 1, 3, 3, 7, 9])

Shuffle ``x`` and the counting and sorting labels are shuffled with it (they are functions of the
token and the multiset of tokens); the reversal labels are not.

Shapes: ``B`` batch, ``T`` sequence length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


def reversal_labels(tokens: Tensor) -> Tensor:
    """``y_i = x_{T-1-i}``: the sequence read backwards. ``(..., T) -> (..., T)``."""
    _check_tokens(tokens)
    return tokens.flip(-1)


def counting_labels(tokens: Tensor) -> Tensor:
    """``y_i = #{j : x_j = x_i}``: occurrences of each token in its sequence. ``(..., T) -> (..., T)``."""
    _check_tokens(tokens)
    same = tokens.unsqueeze(-1) == tokens.unsqueeze(-2)  # (..., T, 1) == (..., 1, T) -> (..., T, T)
    return same.sum(-1)


def sorting_labels(tokens: Tensor) -> Tensor:
    """``y_i = #{j : x_j < x_i}``: the index of ``x_i`` in the sorted sequence (ties share the
    first slot). ``(..., T) -> (..., T)``."""
    _check_tokens(tokens)
    smaller = tokens.unsqueeze(-2) < tokens.unsqueeze(
        -1
    )  # (..., 1, T) < (..., T, 1) -> (..., T, T)
    return smaller.sum(-1)


_LABELS: dict[str, tuple[Callable[[Tensor], Tensor], bool]] = {
    # name -> (labelling function, does the answer depend on the order of the input?)
    "reversal": (reversal_labels, True),
    "counting": (counting_labels, False),
    "sorting": (sorting_labels, False),
}

SEQUENCE_TASKS: tuple[str, ...] = tuple(_LABELS)


@dataclass(frozen=True)
class SequenceTask:
    """A seeded per-token task over random sequences of ``length`` ids in ``[0, vocab_size)``.

    >>> task = SequenceTask("reversal", length=6, vocab_size=10)
    >>> x, y = task.sample(2, torch.Generator().manual_seed(0))
    >>> bool((y == x.flip(-1)).all())
    True
    """

    name: str  # one of SEQUENCE_TASKS
    length: int = 8  # T, tokens per sequence
    vocab_size: int = 10  # input ids are drawn uniformly from [0, vocab_size)

    def __post_init__(self) -> None:
        if self.name not in _LABELS:
            raise ValueError(
                f"name: expected one of {', '.join(SEQUENCE_TASKS)}, got {self.name!r}"
            )
        if not isinstance(self.length, int) or self.length < 2:
            raise ValueError(f"length: expected an int >= 2, got {self.length!r}")
        if not isinstance(self.vocab_size, int) or self.vocab_size < 2:
            raise ValueError(f"vocab_size: expected an int >= 2, got {self.vocab_size!r}")

    @property
    def order_dependent(self) -> bool:
        """True when shuffling the input changes the labels beyond shuffling them too."""
        return _LABELS[self.name][1]

    @property
    def num_classes(self) -> int:
        """Number of distinct labels a classifier must be able to output."""
        if self.name == "reversal":
            return self.vocab_size
        if self.name == "counting":
            return self.length + 1  # counts are 1..T; 0 never occurs but keeps label == count
        return self.length  # sorting: slots 0..T-1

    def labels(self, tokens: Tensor) -> Tensor:
        """The label of every position of ``tokens`` ``(..., T)``, as a ``(..., T)`` long tensor."""
        if tokens.shape[-1:] != (self.length,):
            raise ValueError(
                f"tokens: expected shape (..., {self.length}), got {tuple(tokens.shape)}"
            )
        return _LABELS[self.name][0](tokens)

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``batch_size`` sequences: ``(tokens (B, T), labels (B, T))``, reproducible from
        ``generator``."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator: expected a torch.Generator, got {type(generator).__name__}"
            )
        tokens = torch.randint(
            0, self.vocab_size, (batch_size, self.length), generator=generator
        )  # (B, T)
        return tokens, self.labels(tokens)

    def chance_accuracy(self, tokens: Tensor) -> float:
        """Per-token accuracy of the best guess that ignores the input: always the most common
        label of ``tokens``' labels (a baseline every model must beat)."""
        labels = self.labels(tokens).flatten()
        return labels.bincount().max().item() / labels.numel()

    def order_blind_ceiling(self, tokens: Tensor) -> float:
        """Best expected per-token accuracy of any model that sees each token and the *multiset*
        of its sequence but not the order (a Transformer without positional encoding).

        Order-free tasks: 1.0. Reversal: given its own token and the multiset, a position's
        partner ``T-1-i`` is equally likely to be any other slot (``T`` even) or any slot
        including itself (``T`` odd), so the best guess is the most common remaining token and
        the ceiling is ``E[max_v count(v) / T]`` (odd ``T``) or ``E[max_v count'(v) / (T-1)]``
        with ``count'`` not counting the position itself (even ``T``).
        """
        if not self.order_dependent:
            return 1.0
        counts = torch.nn.functional.one_hot(tokens, self.vocab_size).sum(-2)  # (B, T) -> (B, V)
        counts = counts.unsqueeze(-2).expand(*tokens.shape, self.vocab_size)  # (B, T, V)
        if self.length % 2 == 0:
            own = torch.nn.functional.one_hot(tokens, self.vocab_size)  # (B, T, V)
            best = (counts - own).max(-1).values / (self.length - 1)  # (B, T)
        else:
            best = counts.max(-1).values / self.length  # (B, T)
        return best.double().mean().item()


def _check_tokens(tokens: Tensor) -> None:
    if not isinstance(tokens, Tensor):
        raise TypeError(f"tokens: expected a torch.Tensor of ids, got {type(tokens).__name__}")
    if tokens.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise TypeError(f"tokens: expected an integer tensor of ids, got dtype {tokens.dtype}")
    if tokens.dim() < 1:
        raise ValueError(
            "tokens: expected shape (..., T) with at least one dimension, got a scalar"
        )
