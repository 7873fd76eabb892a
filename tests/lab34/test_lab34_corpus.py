"""The checker on a corpus of learner-style implementations (``lab34_corpus``).

No correct implementation is rejected, no faulty one passes, each gets the diagnosis it must lead
with, at least 90% of the faulty ones get a specific (not generic) diagnosis, and no combined
verdict contradicts the verdicts of its cases.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from lab34_corpus import CORPUS, Entry

from attention_lab.exercises import EXERCISES, GENERIC, Result
from attention_lab.exercises.base import run_case

SEEDS = (0, 1, 2)


def _name(entry: Entry) -> str:
    return f"{entry.exercise}:{entry.candidate.__name__}"


@cache
def judged(index: int, seed: int) -> tuple[Result, tuple[Result, ...]]:
    """The combined verdict and the verdict of every case, for one entry and one seed."""
    entry = CORPUS[index]
    exercise = EXERCISES[entry.exercise]
    cases = exercise.cases(seed)
    results = tuple(run_case(exercise, case, entry.candidate) for case in cases)
    return exercise.combine(results, cases), results


def test_corpus_is_large_and_varied():
    faulty = [e for e in CORPUS if e.expected != "correct"]
    assert len(CORPUS) >= 40
    assert len({e.expected for e in faulty}) >= 25  # many different mistakes
    assert len({e.exercise for e in CORPUS}) >= 4
    assert len({_name(e) for e in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[_name(e) for e in CORPUS])
def test_expected_verdict(index):
    entry = CORPUS[index]
    for seed in SEEDS:
        combined, _ = judged(index, seed)
        assert combined.passed == (entry.expected == "correct"), (seed, combined)
        assert combined.diagnosis in (entry.expected, entry.or_else), (seed, combined.message)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[_name(e) for e in CORPUS])
def test_other_findings_are_named_only_with_their_evidence(index):
    entry = CORPUS[index]
    for seed in SEEDS:
        combined, _ = judged(index, seed)
        named = {combined.diagnosis, *combined.also}
        assert set(entry.named) <= named, (seed, combined.message)
        assert not set(entry.not_named) & named, (seed, combined.message)
        assert "\\x0a" not in combined.message, combined.message  # no escaped learner text
        assert ". expected" not in combined.message, combined.message  # sentences start upper
        assert not re.search(r"[\w,] \(\d+ of \d+ cases passed", combined.message)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[_name(e) for e in CORPUS])
def test_verdict_never_contradicts_its_cases(index):
    for seed in SEEDS:
        combined, results = judged(index, seed)
        passed = sum(r.passed for r in results)
        if combined.passed:
            assert passed == len(results)
            continue
        if combined.diagnosis in ("not_attempted", "wrong_target_kind"):
            continue
        assert f"({passed} of {len(results)} cases passed.)" in combined.message
        named = {combined.diagnosis, *combined.also}
        for r in results:  # every failing case's finding is named, or explained by a pattern
            if not r.passed and combined.diagnosis not in (
                "one_rank_only",
                "assumes_equal_lengths",
                "mask_shape",
            ):
                assert r.diagnosis in named, (r, combined)
        if any(r.diagnosis == "raises_error" for r in results):
            assert "raised" in combined.message  # a crash is never hidden
        assert not re.search(r"\d\.\d", combined.message), combined.message  # no values shown


def test_figures():
    """0 correct rejected, 0 bugs passed, >= 90% of the faulty cases diagnosed specifically."""
    correct_rejected = bugs_passed = specific = faulty = 0
    for index, entry in enumerate(CORPUS):
        for seed in SEEDS:
            combined, _ = judged(index, seed)
            if entry.expected == "correct":
                correct_rejected += not combined.passed
                continue
            faulty += 1
            bugs_passed += combined.passed
            specific += combined.diagnosis not in GENERIC
    assert (correct_rejected, bugs_passed) == (0, 0)
    assert specific >= 0.9 * faulty, f"{specific} of {faulty} specific"


def test_textbook_masking_gets_credit_for_the_masking_part():
    textbook = [i for i, e in enumerate(CORPUS) if e.textbook]
    assert len(textbook) >= 3
    for index in textbook:
        for seed in SEEDS:
            combined, _ = judged(index, seed)
            masking, fully_masked = combined.parts
            assert (masking.id, fully_masked.id) == ("masking", "fully_masked_query")
            assert masking.passed == masking.total and masking.score == masking.points
            assert fully_masked.passed == 0 and fully_masked.score == 0
            assert "Part 'masking': all" in combined.message and "(full credit)" in combined.message
