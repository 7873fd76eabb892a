"""Input checks shared by the models: clear errors that name the argument, the expected and the received."""

from __future__ import annotations

import torch
from torch import Tensor


def check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value}")


def check_probability(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a float in [0, 1), got {type(value).__name__} {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: expected a float in [0, 1), got {value}")


def check_tensor(name: str, value: object, *, dim: int | None = None, min_dim: int = 0) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if dim is not None and value.dim() != dim:
        raise ValueError(
            f"{name}: expected a {dim}-D tensor, got shape {tuple(value.shape)} ({value.dim()}-D)"
        )
    if value.dim() < min_dim:
        raise ValueError(
            f"{name}: expected at least {min_dim} dimensions, got shape {tuple(value.shape)}"
        )
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")


def check_same_device_dtype(**tensors: Tensor) -> None:
    (first_name, first), *rest = tensors.items()
    for name, t in rest:
        if t.dtype != first.dtype:
            raise TypeError(
                f"{name}: expected dtype {first.dtype} like {first_name}, got {t.dtype}"
            )
        if t.device != first.device:
            raise ValueError(
                f"{name}: expected device {first.device} like {first_name}, got {t.device}"
            )


def check_mask(mask: object, target_shape: torch.Size, like: Tensor, name: str = "mask") -> None:
    """A mask must be bool (True = may attend) or float, broadcastable to ``target_shape``."""
    if not isinstance(mask, Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor (bool or float), got {type(mask).__name__}"
        )
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(
            f"{name}: expected dtype torch.bool (True = may attend) or a float dtype "
            f"(added to the scores), got {mask.dtype}"
        )
    if mask.device != like.device:
        raise ValueError(f"{name}: expected device {like.device}, got {mask.device}")
    try:
        shape = torch.broadcast_shapes(mask.shape, target_shape)
    except RuntimeError:
        shape = None
    if shape != target_shape:
        raise ValueError(
            f"{name}: expected a shape that broadcasts to the scores {tuple(target_shape)} "
            f"(..., T_q, T_k), got {tuple(mask.shape)}"
        )
