"""What one batch costs: sums, not means, so that the loop can divide by the *global* token count
(then N processes compute exactly the gradient of one process on the whole batch)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.training.distributed import unwrap


@dataclasses.dataclass(frozen=True)
class StepOutput:
    """What a loss function returns for one local batch."""

    loss_sum: Tensor  # summed loss over the batch's real target tokens (a scalar with grad)
    tokens: int  # number of real target tokens
    correct: int  # of which the argmax prediction is right


LossFn = Callable[[nn.Module, Any], StepOutput]


def seq2seq_loss(model: nn.Module, batch: Any, label_smoothing: float = 0.0) -> StepOutput:
    """Cross-entropy of a teacher-forced encoder-decoder on a batch with ``src``, ``tgt_in``,
    ``tgt_out``: padding masks on both sides, a causal mask on the decoder.

    ``model`` is an encoder-decoder such as :class:`~attention_lab.Transformer`: it provides
    ``make_masks(src, tgt_in)`` and ``config.pad_id``. Other models bring their own loss function.
    """
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
