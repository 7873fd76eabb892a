"""The long-range agreement task: labels, structure, seeds, errors."""

import pytest
import torch

from attention_lab.tasks import (
    AGREEMENT_VERBS,
    AGREEMENT_VOCAB,
    agreement_task,
    decode_agreement,
)

SINGULAR = {"key", "cat", "dog", "teacher", "book", "car", "house", "bird", "student", "river"}
PLURAL = {noun + "s" for noun in SINGULAR}


def test_label_is_the_number_of_the_first_word():
    batch = agreement_task(500, 7, seed=3)
    for tokens, label in zip(batch.tokens, batch.labels):
        words = decode_agreement(tokens).split()
        subject = words[0]
        assert subject in SINGULAR | PLURAL
        assert int(label) == (subject in PLURAL)
        assert decode_agreement(tokens, label).split()[-1] == ("are" if subject in PLURAL else "is")


def test_structure_subject_fillers_slot():
    batch = agreement_task(200, 12, seed=1)
    assert batch.tokens.shape == (200, 14)
    assert batch.tokens.dtype == torch.int64
    assert batch.distance == 12
    assert batch.vocab_size == len(AGREEMENT_VOCAB)
    assert (batch.tokens[:, -1] == AGREEMENT_VOCAB.index("<verb>")).all()
    middle = {AGREEMENT_VOCAB[i] for i in batch.tokens[:, 1:-1].flatten().tolist()}
    assert "<verb>" not in middle
    assert middle & (SINGULAR | PLURAL), "expected some attractor nouns between subject and verb"


def test_attractors_of_both_numbers_and_rate():
    batch = agreement_task(2000, 20, seed=0, attractor_rate=0.25)
    nouns = torch.tensor(
        [AGREEMENT_VOCAB[i] in SINGULAR | PLURAL for i in batch.tokens[:, 1:-1].flatten().tolist()]
    )
    assert nouns.float().mean().item() == pytest.approx(0.25, abs=0.01)
    none = agreement_task(50, 20, seed=0, attractor_rate=0.0)
    assert not any(
        AGREEMENT_VOCAB[i] in SINGULAR | PLURAL for i in none.tokens[:, 1:-1].flatten().tolist()
    )
    only = agreement_task(50, 20, seed=0, attractor_rate=1.0)
    assert all(
        AGREEMENT_VOCAB[i] in SINGULAR | PLURAL for i in only.tokens[:, 1:-1].flatten().tolist()
    )


def test_attractors_are_independent_of_the_label():
    """The most recent noun predicts the label no better than chance: no shortcut."""
    batch = agreement_task(4000, 10, seed=5, attractor_rate=0.5)
    hits, count = 0, 0
    for tokens, label in zip(batch.tokens.tolist(), batch.labels.tolist()):
        nouns = [
            AGREEMENT_VOCAB[i] for i in tokens[1:-1] if AGREEMENT_VOCAB[i] in SINGULAR | PLURAL
        ]
        if nouns:
            count += 1
            hits += int(nouns[-1] in PLURAL) == label
    assert 0.46 < hits / count < 0.54


def test_labels_are_balanced():
    labels = agreement_task(4000, 3, seed=0).labels.float()
    assert labels.mean().item() == pytest.approx(0.5, abs=0.03)


def test_same_seed_same_sentences_other_seed_other_sentences():
    a, b = agreement_task(64, 9, seed=11), agreement_task(64, 9, seed=11)
    c = agreement_task(64, 9, seed=12)
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.tokens, c.tokens)


def test_global_random_state_untouched():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    agreement_task(10, 5, seed=4)
    assert torch.equal(torch.rand(3), expected)


def test_worked_example_in_the_docstring():
    batch = agreement_task(1, distance=4, seed=7)
    assert batch.tokens[0].tolist() == [12, 21, 26, 23, 1, 40]
    assert batch.labels.tolist() == [1]
    assert decode_agreement(batch.tokens[0], batch.labels[0]) == "dogs behind small the cat are"
    assert AGREEMENT_VERBS == ("is", "are")


def test_distance_zero_is_subject_then_slot():
    batch = agreement_task(5, 0, seed=0)
    assert batch.tokens.shape == (5, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"num_examples": 0, "distance": 3},
            ValueError,
            "num_examples: expected an int >= 1, got 0",
        ),
        (
            {"num_examples": 2.0, "distance": 3},
            TypeError,
            "num_examples: expected an int, got float",
        ),
        (
            {"num_examples": 2, "distance": -1},
            ValueError,
            r"distance: expected an int >= 0 \(filler words\), got -1",
        ),
        ({"num_examples": 2, "distance": "5"}, TypeError, "distance: expected an int, got str"),
        (
            {"num_examples": 2, "distance": 3, "attractor_rate": 1.5},
            ValueError,
            r"attractor_rate: expected a float in \[0, 1\], got 1.5",
        ),
        (
            {"num_examples": 2, "distance": 3, "attractor_rate": None},
            TypeError,
            "attractor_rate: expected a float in",
        ),
        (
            {"num_examples": 2, "distance": 3, "seed": "0"},
            TypeError,
            "seed: expected an int, got str",
        ),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        agreement_task(**kwargs)


def test_decode_rejects_a_batch():
    with pytest.raises(
        ValueError,
        match=r"tokens: expected a 1-D tensor of word ids \(one sentence\), got \(2, 3\)",
    ):
        decode_agreement(torch.zeros(2, 3, dtype=torch.long))
