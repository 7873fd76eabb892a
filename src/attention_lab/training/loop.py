"""The loop: ``train(model, dataset, config, ...)`` for ``config.steps`` optimizer steps (Adam,
section 5.3), with evaluation, early stopping, checkpoints and exact resume.

The loop knows nothing of the model's class: the loss function reads the batch through the
model, and what the schedule needs of the model (its width for Eq. 3) is passed in explicitly.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from attention_lab.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from attention_lab.nn.multihead import fast_attention
from attention_lab.training.config import TrainConfig
from attention_lab.training.distributed import (
    DistInfo,
    all_reduce,
    barrier,
    broadcast_flag,
    default_device,
    dist_info,
    wrap,
)
from attention_lab.training.loss import LossFn, StepOutput, seq2seq_loss
from attention_lab.training.progress import TrainingProgress
from attention_lab.training.sampler import batch_indices
from attention_lab.training.schedule import lr_lambda


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


def train(
    model: nn.Module,
    dataset: Dataset,
    config: TrainConfig,
    *,
    collate: Callable[[Sequence[Any]], Any],
    loss_fn: LossFn | None = None,
    d_model: int | None = None,
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
        loss_fn: ``(model, batch) -> StepOutput``; default :func:`seq2seq_loss` (an
            encoder-decoder such as :class:`~attention_lab.Transformer`).
        d_model: the model width, needed by the "noam" schedule (Eq. 3) only.
        evaluate: ``model -> metrics``, run on rank 0 every ``config.eval_every`` steps and at the
            end (in eval mode, with fast attention when ``config.fast_attention``).
        stop_when: ``metrics -> bool``; True stops early (decided on rank 0 for every rank).
        checkpoint: where rank 0 saves model, optimizer, schedule, step, history and ``meta``:
            every ``config.checkpoint_every`` steps and at the end.
        resume: a checkpoint to continue from: its weights, optimizer, schedule, data position and
            history (the schedule follows ``config.steps``, which may extend the run).
        meta: plain data stored in the checkpoint (what rebuilds the model and the task).

    With ``config.fast_attention`` every attention layer runs torch's fused kernel while training
    and is readable again (``.attn_weights``) when ``train`` returns or raises.
    """
    info = dist_info()
    device = torch.device(device) if device is not None else default_device(info)
    if config.batch_size % info.world_size:
        raise ValueError(
            f"batch_size: expected a multiple of the {info.world_size} processes, "
            f"got {config.batch_size}"
        )
    loss_fn = loss_fn or functools.partial(seq2seq_loss, label_smoothing=config.label_smoothing)
    run = _Run(model.to(device), config, info, d_model, checkpoint, meta, progress=progress)
    if resume is not None:
        run.restore(resume)
    batches = batch_indices(
        dataset,
        config.batch_size // info.world_size,
        seed=config.seed,
        info=info,
        start_step=run.step,
    )
    wrapped = wrap(model, info, device)
    autocast = torch.autocast("cuda", torch.bfloat16, enabled=device.type == "cuda" and config.bf16)
    with fast_attention(model, enabled=config.fast_attention), run.bar:
        while run.step < config.steps:
            wrapped.train()
            batch = collate([dataset[i] for i in next(batches)]).to(device)
            with autocast:
                out = loss_fn(wrapped, batch)
            run.optimize(out)
            if evaluate is not None and _due(config.eval_every, run.step, config.steps):
                if run.evaluate(evaluate, stop_when):
                    break
            if _due(config.checkpoint_every, run.step, config.steps):
                run.save()
        if evaluate is not None:
            run.evaluate(evaluate, None)
    seconds = time.perf_counter() - run.started
    run.save()
    del wrapped  # DDP state must not outlive the process group
    return run.result(seconds)


def _due(every: int, step: int, last: int) -> bool:
    """Whether a thing done every ``every`` steps (0: never) falls at ``step``; the last step is
    left out: the loop evaluates and saves after it anyway."""
    return every > 0 and step % every == 0 and step < last


class _Run:
    """The state of one training run: optimizer, schedule, step, progress, history."""

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        info: DistInfo,
        d_model: int | None,
        checkpoint: str | Path | None,
        meta: dict[str, Any] | None,
        *,
        progress: bool,
    ) -> None:
        self.model, self.config, self.info = model, config, info
        self.checkpoint, self.meta = checkpoint, meta or {}
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
        self.bar = TrainingProgress(config.steps, enabled=progress and info.is_main)

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
        global_tokens = all_reduce(torch.tensor([float(out.tokens)]), info)[0]
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
        loss_sum, correct, tokens = all_reduce(self.window, self.info).tolist()
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
        stop = False
        if self.info.is_main:
            self.model.eval()
            self.metrics = dict(evaluate(self.model))
            self.model.train()
            stop = bool(stop_when and stop_when(self.metrics))
            self.bar.update(self.step, self.history[-1] if self.history else {}, self.metrics)
        return broadcast_flag(stop, self.info)

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
        barrier(self.info)  # no rank goes on before the file is whole

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
