"""The process group of ``torchrun``: who this process is, joining and leaving, summing over ranks."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclasses.dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """Rank and world size of this process (0 of 1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        return DistInfo(dist.get_rank(), dist.get_world_size(), local)
    return DistInfo()


@contextlib.contextmanager
def distributed() -> Iterator[DistInfo]:
    """Join the process group that ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1):
    nccl when CUDA is available, gloo otherwise. Outside torchrun it does nothing.

    Drop every model and optimizer before the block ends: the group is destroyed on exit (after a
    garbage collection), and gloo sometimes aborts at exit when DDP objects outlive it.
    """
    wants = int(os.environ.get("WORLD_SIZE", "1")) > 1
    started = wants and not dist.is_initialized()
    if started:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    try:
        yield dist_info()
    finally:
        if started:
            gc.collect()
            dist.barrier()
            dist.destroy_process_group()


def default_device(info: DistInfo | None = None) -> torch.device:
    info = info or dist_info()
    return (
        torch.device(f"cuda:{info.local_rank}")
        if torch.cuda.is_available()
        else torch.device("cpu")
    )


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a ``DistributedDataParallel`` wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def wrap(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``model`` in a ``DistributedDataParallel`` wrapper when there are several processes (DDP
    all-reduces, i.e. averages, the gradients during backward); else ``model`` itself."""
    if info.world_size == 1:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def _backend_device() -> str:
    return "cuda" if dist.get_backend() == "nccl" else "cpu"


def all_reduce(values: Tensor, info: DistInfo) -> Tensor:
    """Sum ``values`` over the processes (a copy; the identity for one process)."""
    values = values.clone()
    if info.world_size > 1:
        moved = values.to(_backend_device())
        dist.all_reduce(moved)
        values = moved.cpu()
    return values


def barrier(info: DistInfo) -> None:
    """Wait until every process gets here (nothing to wait for with one process)."""
    if info.world_size > 1:
        dist.barrier()


def broadcast_flag(flag: bool, info: DistInfo) -> bool:
    """Rank 0's ``flag`` on every rank (every rank then stops at the same step)."""
    if info.world_size == 1:
        return flag
    moved = torch.tensor([float(flag)]).to(_backend_device())
    dist.broadcast(moved, src=0)
    return bool(moved.cpu()[0])
