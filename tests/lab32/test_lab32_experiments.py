"""attention-scaling and multi-head experiments: the claims the lesson makes, measured."""

import json
import math

import matplotlib

matplotlib.use("Agg")
import pytest
import torch

from attention_lab import MultiHeadAttention, causal_mask, without_heads
from attention_lab.experiments import get_experiment
from attention_lab.experiments.multihead_roles import multihead_by_hand, pattern_scores
from attention_lab.experiments.scaling import ScaleSwitchAttention, measure_softmax
from attention_lab.numerics import rounding_bound
from attention_lab.tasks.patterns import PatternTask

torch.set_num_threads(1)

# The comparisons below run in float64 (docs/numerics.md rule 2), where a real bug (a weight off by
# 1e-6, a missing 1/sqrt(d_k)) moves results far past the rounding bound. Sum of |terms|: inputs
# N(0, 1) draws below 6, weights below 2, so q, k, v entries below 16 * 6 * 2 < 200, scores below
# 16 * 200 * 200 < 1e6 (softmax passes an error on with a factor below 2, and its weights are at
# most 1, so later sums stay smaller): magnitude 1e6.
MAGNITUDE = 1e6


@pytest.fixture(scope="module")
def scaling_result():
    return get_experiment("attention-scaling")(quick=True, seed=0, progress=False, train_steps=60)


def test_variance_grows_with_dk_within_10_percent_of_theory(scaling_result):
    r = scaling_result
    assert r.d_k == sorted(r.d_k) and r.d_k[-1] >= 256
    for measured, d in zip(r.var_qk, r.d_k):
        assert abs(measured - d) / d < 0.10
        assert abs(r.var_scaled[r.d_k.index(d)] - 1.0) < 0.10


def test_unscaled_softmax_saturates_and_gradients_vanish(scaling_result):
    r = scaling_result
    assert all(a > b for a, b in zip(r.entropy_unscaled, r.entropy_unscaled[1:]))
    assert all(a < b for a, b in zip(r.max_weight_unscaled, r.max_weight_unscaled[1:]))
    assert r.max_weight_unscaled[-1] > 0.85 and max(r.max_weight_scaled) < 0.35
    assert max(r.entropy_scaled) - min(r.entropy_scaled) < 0.1
    assert r.grad_unscaled[-1] < 0.05 * r.grad_scaled[-1]
    assert max(r.grad_scaled) / min(r.grad_scaled) < 1.2
    assert len(r.train_loss_scaled) == len(r.train_loss_unscaled) == 6
    json.dumps(r.to_dict())
    assert len(r.plot().axes) == 4


def test_softmax_stats_match_closed_forms_at_dk_1():
    # d_k = 1, T = 2: q.k is a product of two N(0,1): variance exactly 1
    stats = measure_softmax(1, 40_000, 2, torch.Generator().manual_seed(1))
    assert abs(stats["var_qk"] - 1.0) < 0.05
    assert stats["entropy_scaled"] <= math.log(2)


def test_scale_switch_matches_raw_dot_products():
    attn = ScaleSwitchAttention(8, scaled=False).double()
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    attn(x, x, x)
    raw = torch.softmax(attn.W_q(x) @ attn.W_k(x).transpose(1, 2), dim=-1)
    # n: the projection (8), the score (8), softmax over T = 5 keys with exp and a division (7): 23
    tol = rounding_bound(23, torch.float64, MAGNITUDE)
    torch.testing.assert_close(attn.attn_weights[:, 0], raw, atol=tol, rtol=0)


def test_multihead_by_hand_equals_library_and_torch():
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4).double()
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    mask = causal_mask(6)
    ours, weights = multihead_by_hand(mha, x, mask)
    # n: the projection (16), the score (d_k = 4), softmax over T = 6 keys (8), the weighted sum
    # (6), W_o (16): 50 < 64
    tol = rounding_bound(64, torch.float64, MAGNITUDE)
    torch.testing.assert_close(ours, mha(x, x, x, mask), atol=tol, rtol=0)
    torch.testing.assert_close(weights, mha.attn_weights, atol=tol, rtol=0)
    # a removed head changes exactly its d_k columns of the concatenation
    with without_heads(mha, [1]):
        ablated = mha(x, x, x, mask)
    W_o_cols = mha.W_o.weight[:, 4:8]  # head 1's slice of W_o
    q = mha.W_q(x).view(2, 6, 4, 4).transpose(1, 2)
    k = mha.W_k(x).view(2, 6, 4, 4).transpose(1, 2)
    v = mha.W_v(x).view(2, 6, 4, 4).transpose(1, 2)
    head1 = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 1]
    # three computations of 64 terms each (ours, ablated, head 1 through W_o): gamma_64 three times
    # is at most gamma_192
    tol = rounding_bound(3 * 64, torch.float64, MAGNITUDE)
    torch.testing.assert_close(ours - ablated, head1 @ W_o_cols.T, atol=tol, rtol=0)


def test_pattern_scores_on_known_heads():
    task = PatternTask(n_letters=4, n_colours=2, length=6)
    batch = task.sample(8, torch.Generator().manual_seed(0))
    T = 6
    prev = torch.zeros(T, T)
    prev[torch.arange(1, T), torch.arange(0, T - 1)] = 1.0
    match = torch.zeros(8, T, T)
    for b in range(8):
        for t in range(T):
            if batch.match_pos[b, t] >= 0:
                match[b, t, batch.match_pos[b, t]] = 1.0
    weights = torch.stack([prev.expand(8, T, T), match], dim=1)  # (B, 2, T, T)
    scores = pattern_scores(weights, batch)
    assert scores[0, 0] == 1.0 and scores[1, 1] == 1.0


def test_multihead_heads_have_distinct_measured_roles(tmp_path):
    run = get_experiment("multi-head")
    r = run(quick=True, seed=0, progress=False, checkpoint=tmp_path / "m.pt")
    assert r.distinct_roles >= 2
    assert {"previous token", "matching letter"} <= set(r.roles)
    assert r.accuracy["previous"] > 0.95 and r.accuracy["match"] > 0.85
    # removing the matching head breaks the match question, not the previous one
    h = r.roles.index("matching letter")
    assert r.ablation[h]["match"] < r.accuracy["match"] - 0.2
    assert r.ablation[h]["previous"] > 0.95
    # one head cannot do both jobs
    assert r.single_head_accuracy["match"] < r.accuracy["match"] - 0.2
    assert (tmp_path / "m.pt").stat().st_size > 0
    json.dumps(r.to_dict())
    assert len(r.plot().axes) >= 2 + r.num_heads
