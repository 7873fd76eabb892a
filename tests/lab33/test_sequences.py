"""The order-dependent and order-free sequence tasks: labels, invariances, seeding, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_lab.tasks import (
    SEQUENCE_TASKS,
    SequenceTask,
    counting_labels,
    reversal_labels,
    sorting_labels,
)

sequences = st.lists(st.integers(0, 9), min_size=2, max_size=12)


def test_docstring_worked_example():
    x = torch.tensor([3, 7, 3, 0, 9, 1])
    assert reversal_labels(x).tolist() == [1, 9, 0, 3, 7, 3]
    assert counting_labels(x).tolist() == [2, 1, 2, 1, 1, 1]
    assert sorting_labels(x).tolist() == [2, 4, 2, 0, 5, 1]


@settings(max_examples=60, deadline=None)
@given(sequences)
def test_labels_match_plain_python(xs):
    x = torch.tensor(xs)
    assert reversal_labels(x).tolist() == xs[::-1]
    assert counting_labels(x).tolist() == [xs.count(v) for v in xs]
    assert sorting_labels(x).tolist() == [sorted(xs).index(v) for v in xs]
    batch = torch.stack([x, x.flip(0)])  # (2, T): labels are computed per row
    assert torch.equal(counting_labels(batch)[1], counting_labels(x.flip(0)))


@settings(max_examples=40, deadline=None)
@given(sequences, st.randoms(use_true_random=False))
def test_order_free_labels_permute_with_the_input(xs, rnd):
    x = torch.tensor(xs)
    perm = torch.tensor(rnd.sample(range(len(xs)), len(xs)))
    for name in ("counting", "sorting"):
        task = SequenceTask(name, length=len(xs))
        assert not task.order_dependent
        assert torch.equal(task.labels(x[perm]), task.labels(x)[perm])


def test_reversal_depends_on_order():
    task = SequenceTask("reversal", length=4)
    x = torch.tensor([1, 2, 3, 4])
    perm = torch.tensor([1, 0, 2, 3])
    assert task.order_dependent
    assert not torch.equal(task.labels(x[perm]), task.labels(x)[perm])


@pytest.mark.parametrize("name", SEQUENCE_TASKS)
def test_sampling_is_seeded_and_labels_fit_the_classes(name):
    task = SequenceTask(name, length=7, vocab_size=5)
    x1, y1 = task.sample(300, torch.Generator().manual_seed(0))
    x2, y2 = task.sample(300, torch.Generator().manual_seed(0))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, task.sample(300, torch.Generator().manual_seed(1))[0])
    assert x1.shape == y1.shape == (300, 7)
    assert 0 <= int(x1.min()) and int(x1.max()) < 5
    assert 0 <= int(y1.min()) and int(y1.max()) < task.num_classes
    assert 0 < task.chance_accuracy(x1) < 1


def test_order_blind_ceiling():
    two = SequenceTask("reversal", length=2)  # the partner is the other token: fully determined
    assert two.order_blind_ceiling(torch.tensor([[1, 2], [3, 3]])) == 1.0
    odd = SequenceTask("reversal", length=3)  # best guess: the most common token
    assert odd.order_blind_ceiling(torch.tensor([[1, 1, 2]])) == pytest.approx(2 / 3)
    even = SequenceTask("reversal", length=4)  # best guess: the most common *other* token
    assert even.order_blind_ceiling(torch.tensor([[1, 1, 2, 3]])) == pytest.approx(
        (1 / 3 + 1 / 3 + 2 / 3 + 2 / 3) / 4
    )
    assert SequenceTask("sorting").order_blind_ceiling(torch.zeros(1, 8, dtype=torch.long)) == 1.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: SequenceTask("copy"),
            ValueError,
            "name: expected one of reversal, counting, sorting, got 'copy'",
        ),
        (
            lambda: SequenceTask("reversal", length=1),
            ValueError,
            "length: expected an int >= 2, got 1",
        ),
        (
            lambda: SequenceTask("reversal", vocab_size=1),
            ValueError,
            "vocab_size: expected an int >= 2, got 1",
        ),
        (
            lambda: SequenceTask("reversal", length=4).labels(torch.zeros(2, 5, dtype=torch.long)),
            ValueError,
            "tokens: expected shape (..., 4), got (2, 5)",
        ),
        (
            lambda: SequenceTask("reversal").sample(0, torch.Generator()),
            ValueError,
            "batch_size: expected an int >= 1, got 0",
        ),
        (
            lambda: SequenceTask("reversal").sample(2, 0),
            TypeError,
            "generator: expected a torch.Generator, got int",
        ),
        (
            lambda: counting_labels([1, 2]),
            TypeError,
            "tokens: expected a torch.Tensor of ids, got list",
        ),
        (
            lambda: sorting_labels(torch.ones(3)),
            TypeError,
            "tokens: expected an integer tensor of ids, got dtype torch.float32",
        ),
    ],
)
def test_bad_input_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
