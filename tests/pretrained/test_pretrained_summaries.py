"""Per-head summaries on attention patterns whose answers are known exactly."""

from __future__ import annotations

import math

import pytest
import torch

from attention_lab.explorer import head_summaries
from attention_lab.explorer.summaries import downsample

TOKENS = ["[CLS]", "a", "b", "c", "[SEP]"]


def summarise(weights, **kwargs):
    kwargs = {"start_token": "[CLS]", "end_token": "[SEP]", "self_attention": True} | kwargs
    return head_summaries(weights, TOKENS, **kwargs)


def test_known_patterns():
    T = len(TOKENS)
    itself = torch.eye(T)
    previous = torch.zeros(T, T)
    previous[0, 0] = 1.0
    previous[torch.arange(1, T), torch.arange(T - 1)] = 1.0  # token i looks at i - 1
    uniform = torch.full((T, T), 1 / T)
    on_cls = torch.zeros(T, T)
    on_cls[:, 0] = 1.0
    weights = torch.stack([itself, previous, uniform, on_cls])[None]  # (1, 4, T, T)

    s_itself, s_previous, s_uniform, s_cls = summarise(weights)[0]
    assert s_itself.itself == pytest.approx(1.0) and s_itself.entropy == pytest.approx(
        0.0, abs=1e-12
    )
    assert s_itself.previous == pytest.approx(0.0)
    assert s_previous.previous == pytest.approx(1.0) and s_previous.itself == pytest.approx(1 / T)
    assert s_uniform.entropy == pytest.approx(math.log2(T))
    assert s_uniform.start == pytest.approx(1 / T) and s_uniform.end == pytest.approx(1 / T)
    assert s_cls.start == pytest.approx(1.0) and s_cls.end == pytest.approx(0.0)


def test_cross_attention_has_no_previous_or_self():
    weights = torch.softmax(torch.randn(2, 3, 4, len(TOKENS)), dim=-1)  # (L, H, T_q=4, T_k=5)
    summaries = summarise(weights, self_attention=False)
    assert len(summaries) == 2 and len(summaries[0]) == 3
    assert all(s.previous is None and s.itself is None for row in summaries for s in row)
    assert summaries[1][2].to_dict()["entropy"] == summaries[1][2].entropy


@pytest.mark.parametrize(
    ("weights", "tokens", "kwargs", "message"),
    [
        (
            torch.rand(5, 5),
            TOKENS,
            {},
            r"weights: expected a \(L, H, T_q, T_k\) tensor, got \(5, 5\)",
        ),
        (torch.rand(1, 1, 5, 5), TOKENS[:3], {}, r"key_tokens: expected 5 tokens \(T_k\), got 3"),
        (
            torch.rand(1, 1, 4, 5),
            TOKENS,
            {},
            "weights: self-attention needs T_q == T_k, got 4 and 5",
        ),
    ],
)
def test_bad_input(weights, tokens, kwargs, message):
    with pytest.raises(ValueError, match=message):
        head_summaries(weights, tokens, start_token="[CLS]", end_token="[SEP]", self_attention=True)


def test_downsample_keeps_small_matrices_and_averages_big_ones():
    small = torch.rand(5, 7)
    assert downsample(small, 24) is small
    big = torch.softmax(torch.randn(96, 96), dim=-1)
    thumb = downsample(big, 24)
    assert thumb.shape == (24, 24)
    assert thumb[3, 5].item() == pytest.approx(big[12:16, 20:24].mean().item(), rel=1e-6)
    assert downsample(torch.rand(100, 30), 24).shape == (24, 24)
