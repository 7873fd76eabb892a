"""The one training loop of the project: batches, optimizer, schedule, progress, evaluation,
checkpoints, and DistributedDataParallel under ``torchrun``.

The same call trains on one CPU core, on a GPU, or on N processes::

    python train.py                                   # one process
    torchrun --nproc_per_node=2 train.py              # 2 processes: gloo on CPU, nccl on GPU

Under ``torchrun`` the global batch is split evenly across the processes (``DistributedSampler``),
DDP averages the gradients, and only rank 0 shows progress and writes checkpoints. The loss is a sum
over the real (non-padding) target tokens divided by the number of such tokens in the *global*
batch, so N processes compute exactly the gradient one process computes on the whole batch.

The learning-rate schedules are the paper's (Eq. 3, Vaswani et al. 2017, section 5.3):
``lr = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)`` ("noam"), and linear warmup followed by
cosine decay ("cosine"), which reaches a given accuracy in fewer steps on small tasks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset, DistributedSampler

from attention_lab.nn.multihead import use_fast_attention

CHECKPOINT_FORMAT = "attention-lab-checkpoint/1"
SCHEDULES = ("cosine", "noam", "constant")
POSITIVE = ("steps", "batch_size", "log_every")


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
        for name in (
            "steps",
            "batch_size",
            "log_every",
            "warmup",
            "eval_every",
            "checkpoint_every",
        ):
            value, least = getattr(self, name), int(name in POSITIVE)
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


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: not one of ours, corrupt, incompatible or untrained."""


@dataclasses.dataclass
class TrainResult:
    """What a run did: steps, time, throughput, the last metrics and the logged history."""

    steps: int
    seconds: float
    cpu_seconds: float
    tokens: int
    tokens_per_second: float
    metrics: dict[str, float]
    history: list[dict[str, float]]


@dataclasses.dataclass(frozen=True)
class StepOutput:
    """What a loss function returns for one local batch: sums, not means (see the module doc)."""

    loss_sum: Tensor  # summed loss over the batch's real target tokens (a scalar with grad)
    tokens: int  # number of real target tokens
    correct: int  # of which the argmax prediction is right


LossFn = Callable[[nn.Module, Any], StepOutput]


def seq2seq_loss(model: nn.Module, batch: Any, label_smoothing: float = 0.0) -> StepOutput:
    """Cross-entropy of a teacher-forced encoder-decoder on a batch with ``src``, ``tgt_in``,
    ``tgt_out`` (padding id 0): padding masks on both sides, a causal mask on the decoder."""
    core = unwrap(model)
    src_mask, tgt_mask = core.make_masks(batch.src, batch.tgt_in)  # (B,1,1,S), (B,1,T,T)
    logits = model(batch.src, batch.tgt_in, src_mask, tgt_mask)  # (B, T, V)
    labels = batch.tgt_out  # (B, T)
    real = labels != core.config.pad_id
    loss_sum = F.cross_entropy(
        logits.flatten(0, 1).float(),  # (B*T, V)
        labels.flatten(),  # (B*T,)
        ignore_index=core.config.pad_id,
        label_smoothing=label_smoothing,
        reduction="sum",
    )
    correct = ((logits.argmax(-1) == labels) & real).sum()
    return StepOutput(loss_sum, int(real.sum()), int(correct))


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a ``DistributedDataParallel`` wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


# --- distributed ----------------------------------------------------------------------------


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


def batch_indices(
    dataset: Dataset, batch_size: int, *, seed: int, info: DistInfo, start_step: int = 0
) -> Iterator[list[int]]:
    """Endless local batches of dataset indices, epoch after epoch, for this rank.

    Rank r of W takes every W-th index of the epoch's seeded permutation (``DistributedSampler``),
    so the W local batches of one step together hold the same samples as one process's global
    batch. ``start_step`` skips the batches a resumed run has already seen.
    """
    sampler = DistributedSampler(
        dataset, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=seed
    )
    per_epoch = len(sampler) // batch_size
    if per_epoch == 0:
        raise ValueError(
            f"batch_size: expected at most {len(sampler)} samples per process (the training set "
            f"has {len(dataset)}), got {batch_size}"
        )
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        sampler.set_epoch(epoch)
        order = list(sampler)  # this rank's share of the epoch's permutation
        for b in range(skip, per_epoch):
            yield order[b * batch_size : (b + 1) * batch_size]
        epoch, skip = epoch + 1, 0


# --- schedule, checkpoints ---------------------------------------------------------------------


def lr_lambda(config: TrainConfig, d_model: int) -> Callable[[int], float]:
    """Multiplier of ``config.lr`` at optimizer step ``step`` (0-based)."""

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


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (a temporary file, then a rename).

    On any failure the temporary file is removed and an existing file at ``path`` is left as it
    was; the error is raised again.
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint: expected a path to a checkpoint file, got {path!r:.60}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"checkpoint: expected a file to write, got the directory {str(path)!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave a half-written file behind
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, *, require_trained: bool = True) -> dict[str, Any]:
    """Read a checkpoint written by :func:`train`, with a clear error for every way it can fail.

    Only tensors and plain data are loaded (``weights_only=True``): a file that holds anything
    else is refused, never executed.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: nothing at ``path``.
        CheckpointError: a directory, not readable, not a torch file, not an attention-lab
            checkpoint, or (with ``require_trained``) a model trained for 0 steps.
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint: expected a path to a checkpoint file, got {path!r:.60}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"checkpoint: expected a file written by `attention-lab train` or "
            f"`attention-lab run translation --checkpoint`, but {str(path)!r} does not exist"
        )
    if path.is_dir():
        raise CheckpointError(f"checkpoint: expected a file, got the directory {str(path)!r}")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as error:
        raise CheckpointError(f"checkpoint: cannot read {str(path)!r}: {error.strerror}") from None
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(
            f"checkpoint: {str(path)!r} is not a checkpoint written by attention-lab (it could "
            f"not be read as one: {_unreadable_reason(path, error)})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"checkpoint: expected an attention-lab checkpoint (format {CHECKPOINT_FORMAT!r}) in "
            f"{str(path)!r}, got {found!r}"
        )
    if require_trained and int(state.get("step", 0)) <= 0:
        raise CheckpointError(
            f"checkpoint: {str(path)!r} holds an untrained model (0 training steps); train it "
            "first, e.g. `attention-lab train --checkpoint FILE`"
        )
    return state


def _unreadable_reason(path: Path, error: Exception) -> str:
    """Why ``torch.load(path, weights_only=True)`` failed, in a few words (torch's own message
    advises turning ``weights_only`` off, which would run any code the file holds)."""
    try:
        with open(path, "rb") as file:
            head = file.read(512)
    except OSError as read_error:
        return read_error.strerror or type(read_error).__name__
    message = str(error)
    if "GLOBAL " in message:  # a pickled Python object other than tensors and plain data
        name = message.split("GLOBAL ", 1)[1].split()[0]
        return f"it holds a Python object ({name}) that checkpoints never contain"
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04"):  # a zip archive, the container torch.save writes
        if "central directory" in message:
            return (
                "the file is incomplete or damaged, e.g. cut short while it was written or copied"
            )
        return "it is a zip archive, but not one written by torch.save"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c.isspace() for c in text):
        return "it is a text file"
    return "it is not in the file format torch.save writes"


# --- the loop ------------------------------------------------------------------------------------


def train(
    model: nn.Module,
    dataset: Dataset,
    config: TrainConfig,
    *,
    collate: Callable[[Sequence[Any]], Any],
    loss_fn: LossFn | None = None,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    stop_when: Callable[[dict[str, float]], bool] | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    meta: dict[str, Any] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` on ``dataset`` for ``config.steps`` optimizer steps (Adam, section 5.3).

    Args:
        collate: turns a list of dataset items into a batch with ``.to(device)``.
        loss_fn: ``(model, batch) -> StepOutput``; default :func:`seq2seq_loss`.
        evaluate: ``model -> metrics``, run on rank 0 every ``config.eval_every`` steps and at the
            end (with the readable attention path, in eval mode).
        stop_when: ``metrics -> bool``; True stops early (decided on rank 0 for every rank).
        checkpoint: where rank 0 saves model, optimizer, schedule, step, history and ``meta``:
            every ``config.checkpoint_every`` steps and at the end.
        resume: a checkpoint to continue from: its weights, optimizer, schedule, data position and
            history (the schedule follows ``config.steps``, which may extend the run).
        meta: plain data stored in the checkpoint (what rebuilds the model and the task).
    """
    info = dist_info()
    device = torch.device(device) if device is not None else default_device(info)
    if config.batch_size % info.world_size:
        raise ValueError(
            f"batch_size: expected a multiple of the {info.world_size} processes, "
            f"got {config.batch_size}"
        )
    loss_fn = loss_fn or (lambda m, b: seq2seq_loss(m, b, config.label_smoothing))
    run = _Run(model.to(device), config, info, checkpoint, meta, progress=progress)
    if resume is not None:
        run.restore(resume)
    batches = batch_indices(
        dataset,
        config.batch_size // info.world_size,
        seed=config.seed,
        info=info,
        start_step=run.step,
    )
    wrapped = model
    if info.world_size > 1:  # DDP all-reduces (averages) the gradients during backward
        ids = [device.index] if device.type == "cuda" else None
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    use_fast_attention(model, config.fast_attention)
    autocast = torch.autocast("cuda", torch.bfloat16, enabled=device.type == "cuda" and config.bf16)
    with run.bar:
        while run.step < config.steps:
            wrapped.train()
            batch = collate([dataset[i] for i in next(batches)]).to(device)
            with autocast:
                out = loss_fn(wrapped, batch)
            run.optimize(out)
            due = lambda every: every and run.step % every == 0 and run.step < config.steps  # noqa: E731
            if evaluate is not None and due(config.eval_every):
                if run.evaluate(evaluate, stop_when):
                    break
            if due(config.checkpoint_every):
                run.save()
    if evaluate is not None:
        run.evaluate(evaluate, None)
    seconds = time.perf_counter() - run.started
    use_fast_attention(model, False)
    run.save()
    del wrapped  # DDP state must not outlive the process group
    return run.result(seconds)


class _Run:
    """The state of one training run: optimizer, schedule, step, progress, history."""

    def __init__(
        self, model, config: TrainConfig, info: DistInfo, checkpoint, meta, *, progress: bool
    ) -> None:
        self.model, self.config, self.info = model, config, info
        self.checkpoint, self.meta = checkpoint, meta or {}
        d_model = getattr(getattr(model, "config", None), "d_model", 512)
        self.optimizer = torch.optim.Adam(
            model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps,
            weight_decay=config.weight_decay,
        )  # fmt: skip
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_lambda(config, d_model)
        )
        self.step, self.history, self.metrics = 0, [], {}
        torch.manual_seed(config.seed + info.rank)  # the dropout stream of this rank
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        self.window = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, tokens since a log
        self.window_start, self.tokens = time.perf_counter(), 0
        self.bar = _Progress(config.steps, enabled=progress and info.is_main)

    def restore(self, path: str | Path) -> None:
        state = load_checkpoint(path, require_trained=False)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, ValueError) as error:
            raise CheckpointError(
                f"resume: checkpoint {str(path)!r} does not match this model and optimizer "
                f"({type(error).__name__}: {str(error).splitlines()[0]})"
            ) from None
        self.step, self.history = int(state["step"]), list(state.get("history", []))
        self.metrics = dict(state.get("metrics", {}))
        if self.info.is_main and "rng" in state:
            torch.set_rng_state(state["rng"])
        self.bar.update(self.step, self.history[-1] if self.history else {}, self.metrics)

    def optimize(self, out: StepOutput) -> None:
        """One optimizer step on the loss normalised by the global batch's token count."""
        info = self.info
        global_tokens = _all_reduce(torch.tensor([float(out.tokens)]), info)[0]
        # sum / global tokens, times W because DDP averages the W gradients
        scale = info.world_size / float(global_tokens.clamp_min(1))
        self.optimizer.zero_grad(set_to_none=True)
        (out.loss_sum * scale).backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        self.window += torch.tensor(
            [out.loss_sum.item(), out.correct, out.tokens], dtype=torch.float64
        )
        if self.step % self.config.log_every == 0 or self.step == self.config.steps:
            self.log()

    def log(self) -> None:
        loss_sum, correct, tokens = _all_reduce(self.window, self.info).tolist()
        elapsed = time.perf_counter() - self.window_start
        self.tokens += int(tokens)
        record = {
            "step": self.step,
            "loss": loss_sum / max(tokens, 1),
            "accuracy": correct / max(tokens, 1),
            "tokens_per_second": tokens / max(elapsed, 1e-9),
            "lr": self.scheduler.get_last_lr()[0],
            "seconds": time.perf_counter() - self.started,
        }
        self.history.append(record)
        self.bar.update(self.step, record, self.metrics)
        self.window.zero_()
        self.window_start = time.perf_counter()

    def evaluate(self, evaluate, stop_when) -> bool:
        """Evaluate on rank 0; returns whether to stop (the same answer on every rank)."""
        flag = torch.zeros(1)
        if self.info.is_main:
            self.model.eval()
            self.metrics = dict(evaluate(self.model))
            self.model.train()
            flag[0] = float(bool(stop_when and stop_when(self.metrics)))
            self.bar.update(self.step, self.history[-1] if self.history else {}, self.metrics)
        if self.info.world_size > 1:  # every rank stops at the same step
            device = "cuda" if dist.get_backend() == "nccl" else "cpu"
            moved = flag.to(device)
            dist.broadcast(moved, src=0)
            flag = moved.cpu()
        return bool(flag[0])

    def save(self) -> None:
        if self.checkpoint is not None and self.info.is_main:
            state = {
                "step": self.step,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "train_config": dataclasses.asdict(self.config),
                "history": self.history,
                "metrics": self.metrics,
                "rng": torch.get_rng_state(),
                **self.meta,
            }
            save_checkpoint(self.checkpoint, state)
        if self.info.world_size > 1:
            dist.barrier()

    def result(self, seconds: float) -> TrainResult:
        return TrainResult(
            steps=self.step,
            seconds=seconds,
            cpu_seconds=time.process_time() - self.cpu_started,
            tokens=self.tokens,
            tokens_per_second=self.tokens / max(seconds, 1e-9),
            metrics=self.metrics,
            history=self.history,
        )


def _all_reduce(values: Tensor, info: DistInfo) -> Tensor:
    """Sum ``values`` over the processes (a copy; the identity for one process)."""
    values = values.clone()
    if info.world_size > 1:
        backend_device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        moved = values.to(backend_device)
        dist.all_reduce(moved)
        values = moved.cpu()
    return values


class _Progress:
    """A rich progress bar with loss, accuracy, tokens/s and the last evaluation."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"), transient=False,
        )  # fmt: skip
        self.task = self.progress.add_task("train", total=total, status="")

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(*exc)

    def update(self, step: int, record: dict[str, float], metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        parts = []
        if record:
            parts.append(
                f"loss {record['loss']:.3f}  acc {record['accuracy']:.1%}  "
                f"{record['tokens_per_second']:,.0f} tok/s"
            )
        parts += [f"{k} {v:.3f}" for k, v in metrics.items()]
        self.progress.update(self.task, completed=step, status="  ".join(parts))
