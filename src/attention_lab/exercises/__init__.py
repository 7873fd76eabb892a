"""Lab 3.4 exercises: write attention from scratch and get instant, misconception-specific feedback.

In a notebook::

    from attention_lab.exercises import lab34
    lab34.q1.check()      # finds your QKVProjection in the notebook and checks it
    lab34.q1.hint()       # lab34.q1.hint(2) for the second hint
    lab34.q1.solution()

Programmatically::

    from attention_lab.exercises import evaluate
    evaluate("attention_scores", my_attention_scores)  # Result(passed, diagnosis, message)

``EXERCISES`` lists the exercises in the order of lesson 04 (``lab34.q1`` ... ``lab34.q10``);
``DIAGNOSES`` explains every diagnosis a check can give (taken from the course's one catalogue,
``attention_lab.misconceptions``). The checks here are practice: official grades come from the batch
grader (``attention-lab grade``), which runs ``runner.py`` in a sandbox and judges with the same
``Exercise.judge``.
"""

from __future__ import annotations

from attention_lab.exercises.attention import LOOPS, MASKED_ATTENTION, SCALED_DOT_PRODUCT_ATTENTION
from attention_lab.exercises.base import Case, Exercise, Result, evaluate_exercise
from attention_lab.exercises.masks import CAUSAL_MASK, PADDING_MASK
from attention_lab.exercises.multihead import MULTI_HEAD_ATTENTION
from attention_lab.exercises.projection import QKV_PROJECTION
from attention_lab.exercises.steps import SCORES, SOFTMAX, WEIGHTED_SUM
from attention_lab.misconceptions import GENERIC, explanations

EXERCISES: dict[str, Exercise] = {
    exercise.id: exercise
    for exercise in (
        QKV_PROJECTION,  # q1  Q, K, V as nn.Linear layers
        SCORES,  # q2  Q K^T / sqrt(d_k)
        SOFTMAX,  # q3  softmax over the keys
        WEIGHTED_SUM,  # q4  weights @ V
        SCALED_DOT_PRODUCT_ATTENTION,  # q5  the whole of Eq. 1
        LOOPS,  # q6  loops against matrix multiplication
        CAUSAL_MASK,  # q7
        PADDING_MASK,  # q8
        MASKED_ATTENTION,  # q9  Eq. 1 with a mask, and the fully masked query
        MULTI_HEAD_ATTENTION,  # q10 splitting and merging heads
    )
}

# every diagnosis an exercise can give, with its explanation from the one catalogue
DIAGNOSES: dict[str, str] = explanations(
    {"correct"} | {d for exercise in EXERCISES.values() for d in exercise.diagnoses}
)


def evaluate(exercise_id: str, candidate: object, *, seed: int | None = None) -> Result:
    """Check ``candidate`` (the learner's function or class) on fresh random cases.

    ``seed`` fixes the cases (default: new ones each call). ``candidate`` None, or one that raises
    NotImplementedError, is ``not_attempted``. Runs in this process: for untrusted code use the
    batch grader.
    """
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        raise ValueError(
            f"exercise_id: expected one of {', '.join(EXERCISES)}, got {exercise_id!r}"
        )
    return evaluate_exercise(EXERCISES[exercise_id], candidate, seed)


__all__ = ["DIAGNOSES", "EXERCISES", "GENERIC", "Case", "Exercise", "Result", "evaluate"]
