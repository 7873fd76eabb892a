"""Long-range number agreement: "the keys ... (L words later) ... are".

The subject of a sentence decides the number of its verb however far away the verb is, and the
words in between may contain nouns of the other number ("attractors"; Linzen, Dupoux and
Goldberg 2016, "Assessing the ability of LSTMs to learn syntax-sensitive dependencies"). This task
keeps exactly that dependency and nothing else: the first word is the subject (a singular or a
plural noun), then come ``distance`` filler words, then the slot ``<verb>`` where the model must
say ``is`` (label 0, singular subject) or ``are`` (label 1, plural subject). The label depends on
the token ``distance + 1`` positions before the slot and on no other token, so chance is 50%.

Worked example: ``agreement_task(1, distance=4, seed=7)`` gives::

    words   dogs  behind  small  the  cat  <verb>
    ids       12      21     26   23    1      40      label 1 ("are": "dogs" is plural)

"cat" is an attractor: the most recent noun is singular, the subject is plural. The ids are
positions in ``AGREEMENT_VOCAB``: 10 singular nouns, their 10 plurals, 20 fillers, ``<verb>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "AGREEMENT_VERBS",
    "AGREEMENT_VOCAB",
    "AgreementBatch",
    "agreement_task",
    "decode_agreement",
]

_SINGULAR = ("key", "cat", "dog", "teacher", "book", "car", "house", "bird", "student", "river")
_PLURAL = tuple(f"{noun}s" for noun in _SINGULAR)
_FILLERS = (
    # prepositions, determiners without number, adjectives, adverbs and conjunctions
    "near",
    "behind",
    "with",
    "the",
    "old",
    "red",
    "small",
    "quiet",
    "famous",
    "very",
    "on",
    "under",
    "by",
    "and",
    "of",
    "bright",
    "green",
    "from",
    "beside",
    "new",
)
_VERB_SLOT = "<verb>"

#: Every word of the task; a word's id is its index here.
AGREEMENT_VOCAB: tuple[str, ...] = (*_SINGULAR, *_PLURAL, *_FILLERS, _VERB_SLOT)
#: The answer for label 0 (singular subject) and label 1 (plural subject).
AGREEMENT_VERBS: tuple[str, str] = ("is", "are")

_NOUN_IDS = torch.arange(0, 2 * len(_SINGULAR))  # singular ids first, then plural ids
_FILLER_IDS = torch.arange(2 * len(_SINGULAR), 2 * len(_SINGULAR) + len(_FILLERS))
_VERB_ID = len(AGREEMENT_VOCAB) - 1


@dataclass(frozen=True)
class AgreementBatch:
    """``tokens`` ``(N, distance + 2)`` word ids; ``labels`` ``(N,)``: 0 = "is", 1 = "are"."""

    tokens: Tensor
    labels: Tensor
    distance: int

    @property
    def vocab_size(self) -> int:
        return len(AGREEMENT_VOCAB)


def agreement_task(
    num_examples: int, distance: int, *, seed: int = 0, attractor_rate: float = 0.25
) -> AgreementBatch:
    """``num_examples`` sentences whose verb must agree with a subject ``distance + 1`` words back.

    Each filler position holds an attractor noun (either number, at random) with probability
    ``attractor_rate``, otherwise a filler word. Subjects are singular or plural with probability
    1/2. The same ``seed`` gives the same sentences; the generator has its own
    ``torch.Generator``, so the global random state is not touched.
    """
    for name, value in (("num_examples", num_examples), ("distance", distance)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if num_examples < 1:
        raise ValueError(f"num_examples: expected an int >= 1, got {num_examples}")
    if distance < 0:
        raise ValueError(f"distance: expected an int >= 0 (filler words), got {distance}")
    if isinstance(attractor_rate, bool) or not isinstance(attractor_rate, (int, float)):
        raise TypeError(
            f"attractor_rate: expected a float in [0, 1], got {type(attractor_rate).__name__}"
        )
    if not 0.0 <= attractor_rate <= 1.0:
        raise ValueError(f"attractor_rate: expected a float in [0, 1], got {attractor_rate}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__} {seed!r}")

    g = torch.Generator().manual_seed(seed)
    n_nouns = len(_SINGULAR)
    labels = torch.randint(0, 2, (num_examples,), generator=g)  # 1 = plural subject
    subjects = torch.randint(0, n_nouns, (num_examples,), generator=g) + labels * n_nouns
    fillers = _FILLER_IDS[torch.randint(0, len(_FILLER_IDS), (num_examples, distance), generator=g)]
    attractors = _NOUN_IDS[torch.randint(0, len(_NOUN_IDS), (num_examples, distance), generator=g)]
    is_attractor = torch.rand(num_examples, distance, generator=g) < attractor_rate
    middle = torch.where(is_attractor, attractors, fillers)  # (N, L)
    slot = torch.full((num_examples, 1), _VERB_ID)
    tokens = torch.cat([subjects[:, None], middle, slot], dim=1)  # (N, 1 + L + 1)
    return AgreementBatch(tokens=tokens, labels=labels, distance=distance)


def decode_agreement(tokens: Tensor, label: int | Tensor | None = None) -> str:
    """One sentence as words; with ``label``, the slot is filled with its verb."""
    if not isinstance(tokens, Tensor) or tokens.dim() != 1:
        got = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
        raise ValueError(f"tokens: expected a 1-D tensor of word ids (one sentence), got {got}")
    words = [AGREEMENT_VOCAB[i] for i in tokens.tolist()]
    if label is not None:
        words[-1] = AGREEMENT_VERBS[int(label)]
    return " ".join(words)
