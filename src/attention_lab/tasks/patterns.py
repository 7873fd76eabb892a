"""A two-question task whose answers sit in two different places, so one head cannot do both jobs.

Each token is a letter with a colour. At every position t a causal model answers two questions:

1. **previous**: which token came just before t?  (the answer is at position t - 1)
2. **match**: what colour did t's letter have the last time it appeared?  (the answer is at the
   earlier position with the same letter; "new" if there is none)

Every letter appears at most twice, so the match is unique. Both answers are single lookups, so
one attention layer suffices, but they live at different positions: a model needs one head
looking one step back and another head looking for the same letter (Olsson et al. 2022 call
these previous-token and matching heads). One head cannot do both.

Worked example (``PatternTask(n_letters=3, n_colours=2, length=5)``; token id = letter *
n_colours + colour, named letter + colour number)::

    tokens        a0  c1  a1  b0  c0        ids   0   5   1   2   4
    previous      --  a0  c1  a1  b0        ids -100  0   5   1   2   (-100: no question at t=0)
    match colour  new new  0  new  1        ids   2   2   0   2   1   (new = n_colours = 2)
    match pos     -1  -1   0  -1   1
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

IGNORE = -100  # the label cross-entropy skips (no previous token at t = 0)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclasses.dataclass(frozen=True)
class PatternBatch:
    tokens: Tensor  # (B, T) token ids
    previous: Tensor  # (B, T) id of the token at t - 1, IGNORE at t = 0
    match: Tensor  # (B, T) colour of the earlier same letter, n_colours ("new") if none
    match_pos: Tensor  # (B, T) position of that earlier token, -1 if none


@dataclasses.dataclass(frozen=True)
class PatternTask:
    """Seeded sampler of the two-question task (see the module docstring for an example)."""

    n_letters: int = 8  # distinct letters; each appears at most twice per sequence
    n_colours: int = 4  # colours a letter can carry
    length: int = 12  # tokens per sequence, at most 2 * n_letters

    def __post_init__(self) -> None:
        for name in ("n_letters", "n_colours", "length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{name}: expected an int >= 2, got {value!r}")
        if self.n_letters > len(_LETTERS):
            raise ValueError(f"n_letters: expected at most {len(_LETTERS)}, got {self.n_letters}")
        if self.length > 2 * self.n_letters:
            raise ValueError(
                f"length: expected at most 2 * n_letters = {2 * self.n_letters} (each letter "
                f"appears at most twice), got {self.length}"
            )

    @property
    def vocab_size(self) -> int:
        return self.n_letters * self.n_colours

    def token_name(self, token_id: int) -> str:
        letter, colour = divmod(int(token_id), self.n_colours)
        return f"{_LETTERS[letter]}{colour}"

    def sample(self, batch_size: int, generator: torch.Generator) -> PatternBatch:
        """``batch_size`` sequences drawn with ``generator`` (seed it for reproducible data)."""
        B, T, C = batch_size, self.length, self.n_colours
        # every letter twice, shuffled, first T kept: letters appear once or twice
        pool = torch.arange(self.n_letters).repeat(2)  # (2 * n_letters,)
        order = torch.rand(B, pool.numel(), generator=generator).argsort(dim=1)  # (B, 2L)
        letters = pool[order][:, :T]  # (B, T)
        colours = torch.randint(0, C, (B, T), generator=generator)
        tokens = letters * C + colours

        previous = torch.full((B, T), IGNORE, dtype=torch.long)
        previous[:, 1:] = tokens[:, :-1]

        same = letters[:, :, None] == letters[:, None, :]  # (B, T, T): [b, t, j] same letter
        earlier = torch.ones(T, T, dtype=torch.bool).tril(-1)  # j < t
        hit = same & earlier
        has_match = hit.any(dim=2)  # (B, T)
        match_pos = torch.where(has_match, hit.int().argmax(dim=2), torch.full_like(letters, -1))
        matched_colour = colours.gather(1, match_pos.clamp(min=0))
        match = torch.where(has_match, matched_colour, torch.full_like(colours, C))
        return PatternBatch(tokens=tokens, previous=previous, match=match, match_pos=match_pos)
