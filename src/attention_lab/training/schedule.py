"""The learning-rate schedules of the paper (Eq. 3, Vaswani et al. 2017, section 5.3).

``lr = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)`` ("noam"), and linear warmup followed by
cosine decay ("cosine"), which reaches a given accuracy in fewer steps on small tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from attention_lab.training.config import TrainConfig


def lr_lambda(config: TrainConfig, d_model: int | None = None) -> Callable[[int], float]:
    """Multiplier of ``config.lr`` at optimizer step ``step`` (0-based).

    ``d_model``: the model width that "noam" scales by (Eq. 3); the other schedules ignore it.
    """
    if config.schedule == "noam" and (
        isinstance(d_model, bool) or not isinstance(d_model, int) or d_model < 1
    ):
        raise ValueError(
            f"d_model: the 'noam' schedule (Eq. 3) scales by d_model^-0.5; expected the model "
            f"width as a positive int, got {d_model!r}"
        )

    def factor(step: int) -> float:
        s = step + 1
        if config.schedule == "noam":  # Eq. 3 of the paper, with lr as an extra scale
            warm = max(config.warmup, 1)
            return d_model**-0.5 * min(s**-0.5, s * warm**-1.5)
        if s <= config.warmup:
            return s / max(config.warmup, 1)
        if config.schedule == "constant":
            return 1.0
        progress = min((s - config.warmup) / max(config.steps - config.warmup, 1), 1.0)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (
            1 + math.cos(math.pi * progress)
        )

    return factor
