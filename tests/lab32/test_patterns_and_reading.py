"""The pattern task's encoding, and the read-this-heatmap exercise (three ways each question)."""

import numpy as np
import pytest
import torch

from attention_lab.exercises.heatmap_reading import HeatmapReading
from attention_lab.tasks.patterns import IGNORE, PatternTask


def test_pattern_task_targets_follow_their_definition():
    task = PatternTask(n_letters=3, n_colours=2, length=5)
    batch = task.sample(200, torch.Generator().manual_seed(0))
    C = task.n_colours
    for b in range(200):
        toks = batch.tokens[b].tolist()
        letters = [t // C for t in toks]
        assert max(letters.count(x) for x in set(letters)) <= 2
        assert batch.previous[b, 0] == IGNORE and batch.previous[b, 1:].tolist() == toks[:-1]
        for t in range(5):
            earlier = [j for j in range(t) if letters[j] == letters[t]]
            if earlier:
                assert batch.match_pos[b, t] == earlier[0]
                assert batch.match[b, t] == toks[earlier[0]] % C
            else:
                assert (batch.match_pos[b, t], batch.match[b, t]) == (-1, C)
    again = task.sample(200, torch.Generator().manual_seed(0))
    assert torch.equal(again.tokens, batch.tokens)
    assert task.token_name(5) == "c1"


def test_pattern_task_bad_config():
    with pytest.raises(ValueError, match="length: expected at most 2 \\* n_letters = 6.*got 7"):
        PatternTask(n_letters=3, length=7)
    with pytest.raises(ValueError, match="n_colours: expected an int >= 2, got 1"):
        PatternTask(n_colours=1)


@pytest.fixture
def reading():
    return HeatmapReading.generated(seed=3)


def test_previous_head_question(reading):
    q = reading.previous_head_question()
    best = int(reading.previous_token_scores().argmax())
    assert q.check(best).correct and q.check(best).diagnosis == "correct"
    T = reading.weights.shape[1]
    self_head = int(reading.weights[:, np.arange(T), np.arange(T)].mean(1).argmax())
    assert q.check(self_head).diagnosis == "self_head"
    other = ({0, 1, 2, 3} - {best, self_head}).pop()
    assert q.check(other).diagnosis == "wrong"
    assert q.check(9).diagnosis == "wrong" and "no head 9" in q.check(9).message
    assert str(best) in q.solution() and "diagonal" in q.hint()
    with pytest.raises(TypeError, match="answer: expected a head index"):
        q.check(None)


def test_row_question_three_ways(reading):
    head = int(reading.previous_token_scores().argmax())
    q = reading.row_question(head, 5)
    best = int(reading.weights[head, 5].argmax())
    assert q.check(best).correct and q.check(reading.tokens[best]).correct
    assert q.check(best - 1).diagnosis in ("off_by_one", "read_column")
    column_best = int(reading.weights[head, :, 5].argmax())
    if column_best != best:
        assert q.check(column_best).diagnosis == "read_column"
    assert q.check(0).diagnosis == "wrong" or abs(best) <= 1
    with pytest.raises(ValueError, match="answer: expected one of the tokens"):
        q.check("zebra")
    with pytest.raises(TypeError, match="answer: expected a token \\(str\\) or a column index"):
        q.check(2.5)


def test_reading_a_trained_like_tensor_and_bad_input():
    w = torch.eye(4)[[0, 0, 1, 2]]  # a pure previous-token pattern, as a model would give
    reading = HeatmapReading(
        w[None].repeat(2, 1, 1) * torch.tensor([1.0, 0.0])[:, None, None], ["a", "b", "c", "d"]
    )
    assert reading.previous_head_question().check(0).correct
    with pytest.raises(ValueError, match="tokens: expected 4 tokens"):
        HeatmapReading(w, ["a"])
    with pytest.raises(ValueError, match=r"weights: expected shape \(H, T, T\)"):
        HeatmapReading(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="seed: expected an int >= 0"):
        HeatmapReading.generated(-2)
