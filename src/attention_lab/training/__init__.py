"""The one training loop of the project: batches, optimizer, schedule, progress, evaluation,
checkpoints, and DistributedDataParallel under ``torchrun``.

The same call trains on one CPU core, on a GPU, or on N processes::

    python train.py                                   # one process
    torchrun --nproc_per_node=2 train.py              # 2 processes: gloo on CPU, nccl on GPU

Under ``torchrun`` the global batch is split evenly across the processes (``DistributedSampler``),
DDP averages the gradients, and only rank 0 shows progress and writes checkpoints. The loss is a sum
over the real (non-padding) target tokens divided by the number of such tokens in the *global*
batch, so N processes compute exactly the gradient one process computes on the whole batch.

One job per file: ``config`` (what to train), ``loss`` (what one batch costs), ``sampler`` (which
samples each rank sees), ``schedule`` (the learning rate), ``distributed`` (the process group),
``progress`` (the bar), ``loop`` (:func:`train`). Checkpoint files are
:mod:`attention_lab.checkpoints`.
"""

from attention_lab.training.config import TrainConfig
from attention_lab.training.distributed import (
    DistInfo,
    all_reduce,
    default_device,
    dist_info,
    distributed,
    unwrap,
)
from attention_lab.training.loop import TrainResult, train
from attention_lab.training.loss import LossFn, StepOutput, seq2seq_loss
from attention_lab.training.sampler import batch_indices
from attention_lab.training.schedule import lr_lambda

__all__ = [
    "DistInfo",
    "LossFn",
    "StepOutput",
    "TrainConfig",
    "TrainResult",
    "all_reduce",
    "batch_indices",
    "default_device",
    "dist_info",
    "distributed",
    "lr_lambda",
    "seq2seq_loss",
    "train",
    "unwrap",
]
