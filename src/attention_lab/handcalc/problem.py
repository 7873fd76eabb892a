"""A scaled dot-product attention problem small enough to work with a pencil, and its solution.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (Eq. 1, Vaswani et al. 2017, 3.2.1)

Shape legend: T tokens, D = d_model (width of each token's vector in X), d_k width of the queries,
keys and values (one head, so d_v = d_k).

Worked example (``generate_handcalc(0)``, abridged): X is 3 x 4 with entries in {-1, 0, 1, 2},
W_q, W_k, W_v are 4 x 4 with entries in {-1, 0, 1}; Q = X W_q, K = X W_k, V = X W_v are small
integers, the scores Q K^T are integers, dividing by sqrt(d_k) = 2 makes them halves, and the
softmax weights are rounded to 2 decimals as a learner would.

Reproducibility: the numbers come from ``random.Random(seed).random()``, whose sequence Python
guarantees to be the same on every machine and every version, so a seed names one problem for a
whole class.
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

import numpy as np

# The steps of the calculation, in the order a learner does them.
STEPS = ("Q", "K", "V", "scores", "scaled_scores", "weights", "output")

_X_VALUES = (-1, 0, 1, 1, 2)  # small integers; 1 twice so rows are rarely all zero
_W_VALUES = (-1, 0, 0, 1)  # zeros make the products short sums
_WORDS = (
    "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "it", "big", "red", "sun", "is",
    "we", "go", "see", "you", "and", "ate",
)  # fmt: skip
_MAX_ATTEMPTS = 20_000
# The classic mistakes `replay` reproduces (the checker explains each one in `MISTAKES`).
REPLAYED_MISTAKES = (
    "missing_scale",
    "scale_by_dk_not_sqrt",
    "wrong_transpose",
    "softmax_missing",
    "softmax_wrong_dim",
    "weights_applied_to_keys",
)


@dataclasses.dataclass(frozen=True)
class HandCalcProblem:
    """One generated problem with every intermediate step of its worked solution.

    ``weights`` are the softmax weights rounded to ``decimals`` (what a learner writes down) and
    ``output`` is computed from those rounded weights, then rounded; ``exact_weights`` and
    ``exact_output`` keep full precision. The checker accepts both within its tolerances.
    """

    seed: int
    tokens: tuple[str, ...]
    d_model: int
    d_k: int
    decimals: int
    X: np.ndarray  # (T, D)
    W_q: np.ndarray  # (D, d_k)
    W_k: np.ndarray  # (D, d_k)
    W_v: np.ndarray  # (D, d_k)
    Q: np.ndarray  # (T, d_k)
    K: np.ndarray  # (T, d_k)
    V: np.ndarray  # (T, d_k)
    scores: np.ndarray  # (T, T)
    scaled_scores: np.ndarray  # (T, T)
    exp_scores: np.ndarray  # (T, T) exp(scaled - row max), 3 decimals
    weights: np.ndarray  # (T, T) rounded
    output: np.ndarray  # (T, d_k) from the rounded weights, rounded
    exact_weights: np.ndarray
    exact_output: np.ndarray

    @property
    def sqrt_d_k(self) -> float:
        return math.sqrt(self.d_k)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: the problem, every step, and how it was generated."""
        data: dict[str, Any] = {
            "seed": self.seed,
            "tokens": list(self.tokens),
            "d_model": self.d_model,
            "d_k": self.d_k,
            "decimals": self.decimals,
        }
        for name in ("X", "W_q", "W_k", "W_v", *STEPS):
            data[name] = _plain(getattr(self, name))
        return data


def _plain(a: np.ndarray) -> list[list[float | int]]:
    """Integers stay integers (3, not 3.0); other numbers are rounded to 4 decimals."""
    return [[int(x) if float(x).is_integer() else round(float(x), 4) for x in row] for row in a]


def softmax_rows(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: subtract the max first (it cancels in the ratio)."""
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def round_half_up(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round as taught at school (0.125 -> 0.13), not banker's rounding."""
    scale = 10.0**decimals
    return np.floor(np.asarray(x) * scale + 0.5 + 1e-9) / scale


def tolerances(problem: HandCalcProblem) -> dict[str, float]:
    """Absolute tolerance per step, sized for hand rounding to ``problem.decimals`` places."""
    step = 10.0**-problem.decimals
    t_weights = 0.5 * step + 0.01
    t_scaled = 0.01 if math.sqrt(problem.d_k).is_integer() else 0.5 * step + 0.006
    column_mass = float(np.abs(problem.V).sum(axis=0).max())
    return {
        "Q": 0.01,
        "K": 0.01,
        "V": 0.01,
        "scores": 0.01,
        "scaled_scores": t_scaled,
        "weights": t_weights,
        "output": t_weights * column_mass + 0.5 * step + 0.005,
    }


def replay(problem: HandCalcProblem, mistake: str | None = None) -> dict[str, np.ndarray]:
    """Every step of the calculation, done right (``mistake=None``) or with one classic mistake
    in it (one of :data:`REPLAYED_MISTAKES`; the checker's ``MISTAKES`` say what each one is)."""
    if mistake is not None and mistake not in REPLAYED_MISTAKES:
        raise ValueError(f"mistake: expected None or one of {REPLAYED_MISTAKES}, got {mistake!r}")
    p = problem
    Q, K, V = p.Q, p.K, p.V
    scores = K @ Q.T if mistake == "wrong_transpose" else Q @ K.T  # (T, T)
    divisor = {"missing_scale": 1.0, "scale_by_dk_not_sqrt": float(p.d_k)}.get(mistake, p.sqrt_d_k)
    scaled = scores / divisor
    if mistake == "softmax_missing":
        weights = scaled
    else:
        weights = softmax_rows(scaled, axis=0 if mistake == "softmax_wrong_dim" else 1)
    output = weights @ (K if mistake == "weights_applied_to_keys" else V)  # (T, T) @ (T, d_k)
    return {"Q": Q, "K": K, "V": V, "scores": scores, "scaled_scores": scaled,
            "weights": weights, "output": output}  # fmt: skip


def is_diagnosable(problem: HandCalcProblem) -> bool:
    """True when, at every step, each mistake's answer is told apart from the right one and from
    the other mistakes' answers by more than twice the rounding tolerance."""
    tol = tolerances(problem)
    chains = [replay(problem)] + [replay(problem, m) for m in REPLAYED_MISTAKES]
    projections = [problem.X @ W for W in (problem.W_q, problem.W_k, problem.W_v)]
    for step in STEPS:
        values = [chain[step] for chain in chains]
        if step in ("Q", "K", "V"):
            values = projections
        if step == "scores" and problem.Q.shape[0] == problem.d_k:
            values.append(problem.Q @ problem.K)  # "K instead of K^T" has the right shape here
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                gap = float(np.abs(a - b).max())
                if 1e-9 < gap <= 2 * tol[step] or (step in ("Q", "K", "V") and gap <= 1e-9):
                    return False
    return True


def check_sizes(seed: int, tokens: int, d_model: int, d_k: int | None, decimals: int) -> int:
    """Validate the generator's arguments; return d_k (defaulting to d_model)."""
    for name, value, low, high in (
        ("seed", seed, 0, None),
        ("tokens", tokens, 2, 5),
        ("d_model", d_model, 2, 5),
        ("decimals", decimals, 1, 4),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name}: expected an int, got {type(value).__name__} ({value!r})")
        if value < low or (high is not None and value > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise ValueError(f"{name}: expected an int {span} (pencil-sized), got {value}")
    if d_k is None:
        return int(d_model)
    if isinstance(d_k, bool) or not isinstance(d_k, (int, np.integer)):
        raise TypeError(f"d_k: expected an int or None, got {type(d_k).__name__} ({d_k!r})")
    if not 2 <= d_k <= 5:
        raise ValueError(
            f"d_k: expected an int between 2 and 5 (d_k = 1 would make scaling invisible), got {d_k}"
        )
    return int(d_k)


def generate_handcalc(
    seed: int, tokens: int = 3, d_model: int = 4, d_k: int | None = None, decimals: int = 2
) -> HandCalcProblem:
    """Generate the pencil-and-paper attention problem named by ``seed``.

    Args:
        seed: any int >= 0; the same seed gives the same problem on every machine.
        tokens: sequence length T (2 to 5).
        d_model: width D of each token's vector (2 to 5).
        d_k: width of queries, keys and values (default: d_model; 4 makes sqrt(d_k) = 2).
        decimals: decimals a learner keeps for the softmax weights and the output.

    The generator draws candidates until one is friendly *and* unambiguous: small entries, score
    rows that are neither flat nor one-hot, and every classic mistake (see
    ``attention_lab.handcalc.MISTAKES``) giving an answer clearly different from the right one, so
    ``check_handcalc`` can always tell which mistake was made.
    """
    d_k = check_sizes(seed, tokens, d_model, d_k, decimals)
    rng = random.Random(int(seed))
    for _ in range(_MAX_ATTEMPTS):
        problem = _candidate(rng, int(seed), tokens, d_model, d_k, decimals)
        if problem is not None and is_diagnosable(problem):
            return problem
    raise RuntimeError(  # pragma: no cover - the property test over seeds guards this
        f"no pencil-friendly problem found for seed={seed}, tokens={tokens}, d_model={d_model}"
    )


def _pick(rng: random.Random, values: tuple, shape: tuple[int, int]) -> np.ndarray:
    # rng.random() is the one stream Python guarantees across versions; choice() is not.
    flat = [values[int(rng.random() * len(values))] for _ in range(shape[0] * shape[1])]
    return np.array(flat, dtype=np.float64).reshape(shape)


def _candidate(
    rng: random.Random, seed: int, T: int, D: int, d_k: int, decimals: int
) -> HandCalcProblem | None:
    words = list(_WORDS)
    tokens = tuple(words.pop(int(rng.random() * len(words))) for _ in range(T))
    X = _pick(rng, _X_VALUES, (T, D))
    W_q, W_k, W_v = (_pick(rng, _W_VALUES, (D, d_k)) for _ in range(3))
    Q, K, V = X @ W_q, X @ W_k, X @ W_v  # (T, D) @ (D, d_k) -> (T, d_k)
    if not _friendly_inputs(X, Q, K, V):
        return None
    scores = Q @ K.T  # (T, d_k) @ (d_k, T) -> (T, T)
    scaled = scores / math.sqrt(d_k)
    spread = scaled.max(axis=1) - scaled.min(axis=1)
    if np.any(spread < 1.0) or np.any(spread > 4.0) or np.abs(scores).max() > 12:
        return None  # flat rows teach nothing; very peaked rows round to 0.00 and 1.00
    if math.sqrt(d_k).is_integer():
        scaled_written = scaled
    else:
        scaled_written = round_half_up(scaled, decimals)  # a learner writes sqrt(3) as 1.73...
    exact_weights = softmax_rows(scaled)
    weights = round_half_up(exact_weights, decimals)
    if np.any(weights == 0.0):
        return None
    return HandCalcProblem(
        seed=seed,
        tokens=tokens,
        d_model=D,
        d_k=d_k,
        decimals=decimals,
        X=X,
        W_q=W_q,
        W_k=W_k,
        W_v=W_v,
        Q=Q,
        K=K,
        V=V,
        scores=scores,
        scaled_scores=scaled_written,
        exp_scores=round_half_up(np.exp(scaled - scaled.max(axis=1, keepdims=True)), 3),
        weights=weights,
        output=round_half_up(weights @ V, decimals),  # (T, T) @ (T, d_k) -> (T, d_k)
        exact_weights=exact_weights,
        exact_output=exact_weights @ V,
    )


def _friendly_inputs(X: np.ndarray, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> bool:
    if np.any(np.all(X == 0, axis=1)):
        return False  # a zero token vector gives a row of equal scores
    for M in (Q, K, V):
        if np.abs(M).max() > 3 or np.any(np.all(M == 0, axis=0)):
            return False
    # distinct value rows, so "which token did it attend to" shows in the output
    return len({tuple(row) for row in V}) == V.shape[0]
