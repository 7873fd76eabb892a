"""What to train: one frozen config of plain data, stored in every checkpoint."""

from __future__ import annotations

import dataclasses

SCHEDULES = ("cosine", "noam", "constant")
_COUNTS = ("steps", "batch_size", "log_every", "warmup", "eval_every", "checkpoint_every")
_POSITIVE = ("steps", "batch_size", "log_every")  # the other counts may be 0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train; every field is plain data so it is stored in checkpoints."""

    steps: int = 1000  # optimizer steps in total (a resumed run continues up to this number)
    batch_size: int = 64  # global batch: split evenly across the processes under torchrun
    lr: float = 1e-3  # peak learning rate ("noam" scales it by d_model^-0.5 instead)
    schedule: str = "cosine"  # "cosine" (warmup then cosine decay), "noam" (Eq. 3) or "constant"
    warmup: int = 100  # steps of linear warmup
    min_lr_ratio: float = 0.05  # "cosine" ends at lr * min_lr_ratio
    betas: tuple[float, float] = (0.9, 0.98)  # Adam betas of the paper (section 5.3)
    eps: float = 1e-9
    weight_decay: float = 0.0
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    label_smoothing: float = 0.0  # the paper uses 0.1 (section 5.4)
    eval_every: int = 0  # evaluate every N steps (0: only at the end)
    checkpoint_every: int = 0  # also save a checkpoint every N steps (0: only at the end)
    log_every: int = 10  # record loss/accuracy/tokens-per-second in the history every N steps
    seed: int = 0  # data order and dropout
    fast_attention: bool = True  # fused SDPA while training (weights are not kept)
    bf16: bool = True  # bf16 autocast on CUDA (ignored on CPU)

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value, least = getattr(self, name), int(name in _POSITIVE)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}: expected an int >= {least}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr: expected a positive float, got {self.lr!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing: expected a float in [0, 1), got {self.label_smoothing}"
            )
