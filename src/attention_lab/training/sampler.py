"""Which samples each process sees at each step: the seeded, resumable order of the batches."""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import Dataset, DistributedSampler

from attention_lab.training.distributed import DistInfo


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
