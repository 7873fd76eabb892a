"""The number-translation task: spelling, tokenizer, padding, and a held-out split never trained on."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_lab.tasks.numbers import (
    VOCABULARY,
    NumberTranslation,
    Tokenizer,
    number_to_digits,
    number_to_words,
    tokenize,
    words_to_number,
)

# British English, written out by hand (not by the code under test)
SPELLED = {
    0: "zero",
    7: "seven",
    13: "thirteen",
    20: "twenty",
    42: "forty-two",
    100: "one hundred",
    101: "one hundred and one",
    342: "three hundred and forty-two",
    702: "seven hundred and two",
    1000: "one thousand",
    1005: "one thousand and five",
    2050: "two thousand and fifty",
    2500: "two thousand five hundred",
    9999: "nine thousand nine hundred and ninety-nine",
    12000: "twelve thousand",
    100042: "one hundred thousand and forty-two",
    120000: "one hundred and twenty thousand",
    999999: "nine hundred and ninety-nine thousand nine hundred and ninety-nine",
}


@pytest.mark.parametrize(("n", "words"), SPELLED.items())
def test_number_to_words_matches_hand_written_spelling(n, words):
    assert number_to_words(n) == words
    assert words_to_number(words) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 999_999))
def test_words_round_trip_and_digits(n):
    assert words_to_number(number_to_words(n)) == n
    assert number_to_digits(n).replace(" ", "") == str(n)


def test_documented_worked_example():
    tok = Tokenizer()
    assert tok.encode("three hundred and forty-two") == [16, 41, 43, 35, 15]
    assert tok.encode("3 4 2") == [6, 7, 5]
    task = NumberTranslation(999, "words-to-digits", test_size=0, valid_size=0)
    index = int((task.numbers == 342).nonzero())
    assert task.pair(index) == ("three hundred and forty-two", "3 4 2")
    batch = task.batch([index])
    assert batch.src.tolist() == [[16, 41, 43, 35, 15]]
    assert batch.tgt_in.tolist() == [[1, 6, 7, 5]]
    assert batch.tgt_out.tolist() == [[6, 7, 5, 2]]
    assert VOCABULARY[:3] == ("<pad>", "<bos>", "<eos>")


def test_tokenize_normalises_spelling_variants():
    assert tokenize("Forty-Two") == tokenize("forty two") == ["forty", "two"]
    assert tokenize("342") == tokenize("3 4 2") == ["3", "4", "2"]
    assert tokenize("1,005") == ["1", "0", "0", "5"]


def test_tokenize_unknown_word_names_it_and_suggests():
    with pytest.raises(ValueError, match=r"unknown word 'fourty'.*did you mean 'forty'"):
        tokenize("fourty two")
    with pytest.raises(ValueError, match=r"unknown word 'million'"):
        tokenize("one million")


@pytest.mark.parametrize("text", ["", "   ", "-"])
def test_tokenize_empty_input(text):
    with pytest.raises(ValueError, match="text: expected a number in words or digits.*empty"):
        tokenize(text)


def test_tokenize_rejects_non_strings():
    with pytest.raises(TypeError, match="text: expected a str, got int"):
        tokenize(342)


def test_words_to_number_rejects_malformed_text():
    with pytest.raises(ValueError, match="well-formed English number, got 'seven seven'"):
        words_to_number("seven seven")


@pytest.mark.parametrize(
    ("n", "error", "match"),
    [(-1, ValueError, "got -1"), (10**6, ValueError, "got 1000000"), (1.5, TypeError, "got float")],
)
def test_number_to_words_bad_input(n, error, match):
    with pytest.raises(error, match=f"n: expected an int in \\[0, 999999\\], {match}"):
        number_to_words(n)


@pytest.mark.parametrize("direction", ["words-to-digits", "digits-to-words", "both"])
def test_splits_are_disjoint_cover_the_range_and_are_seeded(direction):
    kwargs = {"test_size": 100, "valid_size": 50, "seed": 3}
    splits = {
        s: NumberTranslation(999, direction, split=s, **kwargs) for s in ("train", "valid", "test")
    }
    sets = {s: set(d.numbers.tolist()) for s, d in splits.items()}
    assert len(sets["test"]) == 100 and len(sets["valid"]) == 50 and len(sets["train"]) == 850
    assert not sets["test"] & sets["train"] and not sets["valid"] & sets["train"]
    assert not sets["test"] & sets["valid"]
    assert sets["train"] | sets["valid"] | sets["test"] == set(range(1000))
    # the training pairs never mention a held-out number, in either direction
    held_out = {number_to_words(n) for n in sets["test"]} | {
        number_to_digits(n) for n in sets["test"]
    }
    train = splits["train"]
    assert not any(set(train.pair(i)) & held_out for i in range(len(train)))
    assert len(train) == 850 * (2 if direction == "both" else 1)
    again = NumberTranslation(999, direction, split="test", **kwargs)
    assert torch.equal(again.numbers, splits["test"].numbers)
    other = NumberTranslation(999, direction, split="test", test_size=100, valid_size=50, seed=4)
    assert not torch.equal(other.numbers, splits["test"].numbers)
    assert splits["train"].with_split("test").numbers.tolist() == splits["test"].numbers.tolist()


def test_both_directions_pair_each_number_each_way():
    task = NumberTranslation(99, "both", test_size=10, valid_size=5)
    n = int(task.numbers[0])
    assert task.pair(0) == (number_to_words(n), number_to_digits(n))
    assert task.pair(1) == (number_to_digits(n), number_to_words(n))


def test_padding_and_shifted_targets():
    task = NumberTranslation(9999, test_size=0, valid_size=0)
    tok = task.tokenizer
    indices = [int((task.numbers == n).nonzero()) for n in (5, 342, 7777)]
    batch = task.batch(indices)
    lengths = [len(task[i][0]) for i in indices]
    assert batch.src.shape == (3, max(lengths))
    for row, length in enumerate(lengths):
        assert (batch.src[row, length:] == tok.pad_id).all()
        assert (batch.src[row, :length] != tok.pad_id).all()
    assert (batch.tgt_in[:, 0] == tok.bos_id).all()
    # labels are the decoder input shifted left by one, ending in <eos>
    for row in range(3):
        real = batch.tgt_out[row][batch.tgt_out[row] != tok.pad_id].tolist()
        assert real[-1] == tok.eos_id
        assert batch.tgt_in[row, 1 : len(real)].tolist() == real[:-1]
    assert tok.decode(batch.tgt_out[1]) == "3 4 2"
    assert batch.num_tokens == 2 + 4 + 5  # digits + <eos>


def test_decode_stops_at_eos_and_skips_specials():
    tok = Tokenizer()
    ids = [tok.bos_id, *tok.encode("forty two"), tok.eos_id, *tok.encode("one")]
    assert tok.decode(ids) == "forty-two"
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, 44\), got 99"):
        tok.decode([99])
    with pytest.raises(ValueError, match="sequences: expected at least one sequence"):
        tok.pad([])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_number": 5}, ValueError, "max_number: expected 9 <= max_number <= 999999, got 5"),
        ({"max_number": "9"}, TypeError, "max_number: expected an int, got str"),
        ({"direction": "up"}, ValueError, "direction: expected one of .*got 'up'"),
        ({"split": "dev"}, ValueError, "split: expected 'train', 'valid' or 'test', got 'dev'"),
        ({"test_size": -1}, ValueError, "test_size: expected an int >= 0, got -1"),
        ({"test_size": 400, "valid_size": 200}, ValueError, "fewer than half of the 1000 numbers"),
    ],
)
def test_task_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        NumberTranslation(**{"max_number": 999, **kwargs})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("and", "'and' alone is not a number"),
        ("and seven", "it starts with 'and'"),
        (
            "seven hundred and",
            "it ends with 'and'; a number word must follow it; did you mean 'seven hundred'?",
        ),
        (
            "hundred hundred",
            "'hundred' must follow one of one..nine, e.g. 'three hundred'; here it comes first",
        ),
        (
            "twenty hundred",
            "'hundred' must follow one of one..nine, e.g. 'three hundred'; here it follows 'twenty'",
        ),
        ("thousand", "'thousand' must follow a number, e.g. 'two thousand'; here it comes first"),
        ("one thousand two thousand", "'thousand' appears more than once"),
        ("one hundred and and two", "'and' appears twice in a row"),
        ("twelve three", "'twelve' cannot be followed by 'three'"),
        (
            "two thousand five",
            "'and' is missing or in the wrong place; did you mean 'two thousand and five'?",
        ),
        ("3 hundred", "it mixes digits and words"),
        ("342", "it is written in digits, not words"),
    ],
)
def test_words_to_number_says_what_is_wrong(text, reason):
    with pytest.raises(ValueError) as error:
        words_to_number(text)
    assert str(error.value).startswith(
        f"text: expected a well-formed English number, got {text!r}: {reason}"
    )


def test_every_number_up_to_9999_reads_back():
    assert all(words_to_number(number_to_words(n)) == n for n in range(10_000))
