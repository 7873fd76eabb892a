"""Read this heatmap: auto-checked questions about attention weights (objective 3.2.6).

Two kinds of question, asked about any ``(H, T, T)`` attention tensor with its tokens:

- ``row_question(head, i)``: which key token does query row ``i`` attend to most?
- ``previous_head_question()``: which head is the previous-token head?

``HeatmapReading.generated(seed)`` builds a tensor with heads of known character (previous token,
self, first token, diffuse) in a seeded order, so every learner can get their own; the same
questions work on the weights of a trained model (the lesson uses both).

Diagnoses: ``correct``, ``read_column`` (read column i instead of row i), ``off_by_one`` (a
neighbour of the brightest cell), ``self_head`` (picked the head on the diagonal), ``wrong``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

HEAD_KINDS = ("previous token", "self", "first token", "diffuse")
_WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "today")


@dataclasses.dataclass(frozen=True)
class Feedback:
    correct: bool
    diagnosis: str
    message: str

    def __str__(self) -> str:
        return ("Correct. " if self.correct else "Not yet. ") + self.message


@dataclasses.dataclass(frozen=True)
class Question:
    """One question: ``prompt``, ``check(answer)``, ``hint()``, ``solution()``."""

    prompt: str
    _check: Callable[[Any], Feedback]
    _hint: str
    _solution: str

    def check(self, answer: Any) -> Feedback:
        return self._check(answer)

    def hint(self) -> str:
        return self._hint

    def solution(self) -> str:
        return self._solution


class HeatmapReading:
    """Questions about ``weights`` ``(H, T, T)`` (or ``(T, T)``) with ``tokens`` (length T)."""

    def __init__(self, weights: Any, tokens: Sequence[str]):
        if hasattr(weights, "detach"):
            weights = weights.detach().cpu().numpy()
        W = np.asarray(weights, dtype=np.float64)
        if W.ndim == 2:
            W = W[None]
        if W.ndim != 3 or W.shape[1] != W.shape[2]:
            raise ValueError(f"weights: expected shape (H, T, T) or (T, T), got {W.shape}")
        if isinstance(tokens, str) or len(tokens) != W.shape[1]:
            got = repr(tokens) if isinstance(tokens, str) else f"{len(tokens)} tokens"
            raise ValueError(f"tokens: expected {W.shape[1]} tokens (one per row), got {got}")
        self.weights = W
        self.tokens = [str(t) for t in tokens]

    @classmethod
    def generated(cls, seed: int, T: int = 8) -> HeatmapReading:
        """Heads of the four ``HEAD_KINDS`` in a seeded order, with a little noise."""
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
        if not 4 <= T <= len(_WORDS):
            raise ValueError(f"T: expected an int between 4 and {len(_WORDS)}, got {T!r}")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(HEAD_KINDS))
        logits = rng.normal(0.0, 0.5, size=(len(HEAD_KINDS), T, T))
        for h, kind in enumerate(HEAD_KINDS[i] for i in order):
            for i in range(T):
                target = {"previous token": max(i - 1, 0), "self": i, "first token": 0}.get(kind)
                if target is not None:
                    logits[h, i, target] += 4.0
        causal = np.tril(np.ones((T, T), dtype=bool))
        logits = np.where(causal, logits, -np.inf)
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        words = list(rng.choice(_WORDS, size=T, replace=False))
        return cls(weights, words)

    def previous_token_scores(self) -> np.ndarray:
        """``(H,)`` mean weight each head puts one step back (queries 1..T-1)."""
        t = np.arange(1, self.weights.shape[1])
        return self.weights[:, t, t - 1].mean(axis=1)

    def row_question(self, head: int, i: int) -> Question:
        """Which key token does query row ``i`` of ``head`` attend to most?"""
        H, T, _ = self.weights.shape
        if not 0 <= head < H or not 0 <= i < T:
            raise ValueError(f"head, i: expected 0 <= head < {H} and 0 <= i < {T}, got {head}, {i}")
        row = self.weights[head, i]
        best = int(row.argmax())
        column_best = int(self.weights[head, :, i].argmax())

        def check(answer: Any) -> Feedback:
            j = self._key_index(answer)
            if j == best or (isinstance(answer, str) and answer == self.tokens[best]):
                return Feedback(True, "correct",
                                f"row {i} ('{self.tokens[i]}') puts {row[best]:.2f} on '{self.tokens[best]}'.")  # fmt: skip
            if j == column_best and j != best:
                return Feedback(False, "read_column", f"You read column {i} (who attends to "
                                f"'{self.tokens[i]}'); the question is about row {i}: where "
                                f"'{self.tokens[i]}' looks.")  # fmt: skip
            if abs(j - best) == 1:
                return Feedback(False, "off_by_one", f"Close: '{self.tokens[j]}' is next to the "
                                "brightest cell of the row. Follow the row to the brightest cell.")  # fmt: skip
            return Feedback(False, "wrong", f"'{self.tokens[j]}' gets {row[j]:.2f}; another key "
                            "in this row gets more. Find the brightest cell in the row.")  # fmt: skip

        return Question(
            prompt=f"Head {head}: which key token does row {i} (query '{self.tokens[i]}') attend "
            "to most? Answer with the token or its column index.",
            _check=check,
            _hint="Rows are queries, columns are keys. Go along row "
            f"{i} and find its brightest cell; the column label is the answer.",
            _solution=f"'{self.tokens[best]}' (column {best}), weight {row[best]:.2f}.",
        )

    def previous_head_question(self) -> Question:
        """Which head is the previous-token head (bright cells just below the diagonal)?"""
        scores = self.previous_token_scores()
        best = int(scores.argmax())
        T = self.weights.shape[1]
        diagonal = self.weights[:, np.arange(T), np.arange(T)].mean(axis=1)

        def check(answer: Any) -> Feedback:
            if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
                raise TypeError(f"answer: expected a head index (int), got {type(answer).__name__}")
            if not 0 <= answer < len(scores):
                return Feedback(False, "wrong", f"There is no head {answer}: heads are numbered "
                                f"0 to {len(scores) - 1}.")  # fmt: skip
            if answer == best:
                return Feedback(True, "correct", f"head {best} puts {scores[best]:.2f} of its "
                                "weight on the previous token on average.")  # fmt: skip
            if int(diagonal.argmax()) == answer:
                return Feedback(False, "self_head", f"Head {answer}'s bright cells are on the "
                                "diagonal: each token attends to itself. The previous-token "
                                "head's bright cells sit one step left of the diagonal.")  # fmt: skip
            return Feedback(False, "wrong", f"Head {answer} puts only {scores[answer]:.2f} on "
                            "the previous token. Look for a bright line one step left of the "
                            "diagonal.")  # fmt: skip

        return Question(
            prompt="Which head is the previous-token head? Answer with its number.",
            _check=check,
            _hint="In a previous-token head, row i is brightest at column i - 1: a bright line "
            "just below the diagonal.",
            _solution=f"head {best} (mean weight {scores[best]:.2f} on the previous token).",
        )

    def _key_index(self, answer: Any) -> int:
        if isinstance(answer, str):
            if answer not in self.tokens:
                raise ValueError(
                    f"answer: expected one of the tokens {self.tokens}, got {answer!r}"
                )
            return self.tokens.index(answer)
        if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
            raise TypeError(
                f"answer: expected a token (str) or a column index (int), got {type(answer).__name__}"
            )
        if not 0 <= answer < len(self.tokens):
            raise ValueError(
                f"answer: expected a column index 0..{len(self.tokens) - 1}, got {answer}"
            )
        return int(answer)
