"""Invariants that any correct attention satisfies, checked on random shapes with hypothesis."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_lab import (
    EncoderLayer,
    MultiHeadAttention,
    causal_mask,
    scaled_dot_product_attention,
)
from attention_lab.numerics import rounding_bound

dims = st.integers(min_value=1, max_value=6)


@st.composite
def attention_inputs(draw):
    B, T_q, T_k, d_k, d_v = (draw(dims) for _ in range(5))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, T_q, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(B, T_k, d_k, generator=g, dtype=torch.float64)
    v = torch.randn(B, T_k, d_v, generator=g, dtype=torch.float64)
    mask = torch.rand(B, T_q, T_k, generator=g) < draw(st.floats(0.0, 1.0))
    return q, k, v, mask, g


@settings(max_examples=60, deadline=None)
@given(attention_inputs())
def test_rows_sum_to_one_or_zero_and_masked_keys_get_zero(inputs):
    q, k, v, mask, _ = inputs
    _, w = scaled_dot_product_attention(q, k, v, mask)
    sums = w.sum(-1)
    expected = mask.any(-1).double()
    torch.testing.assert_close(sums, expected, atol=1e-12, rtol=0)
    assert (w[~mask] == 0).all()
    assert (w >= 0).all()


@settings(max_examples=60, deadline=None)
@given(attention_inputs())
def test_permuting_keys_and_values_together_changes_nothing(inputs):
    q, k, v, mask, g = inputs
    perm = torch.randperm(k.shape[1], generator=g)
    out, w = scaled_dot_product_attention(q, k, v, mask)
    out_p, w_p = scaled_dot_product_attention(q, k[:, perm], v[:, perm], mask[..., perm])
    torch.testing.assert_close(out, out_p, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(w[..., perm], w_p, atol=1e-12, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(attention_inputs())
def test_gradients_are_finite_everywhere(inputs):
    q, k, v, mask, _ = inputs
    q, k, v = (t.clone().requires_grad_(True) for t in (q, k, v))
    out, w = scaled_dot_product_attention(q, k, v, mask)
    (out.pow(2).sum() + w.sum()).backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))


@settings(max_examples=25, deadline=None)
@given(
    T=st.integers(2, 8),
    change_at=st.integers(0, 7),
    heads=st.sampled_from([1, 2, 4]),
    seed=st.integers(0, 999),
)
def test_future_tokens_never_change_earlier_outputs_under_a_causal_mask(T, change_at, heads, seed):
    change_at = change_at % T
    torch.manual_seed(seed)
    layer = EncoderLayer(8, heads, 16).double().eval()
    mha = MultiHeadAttention(8, heads).double().eval()
    x = torch.randn(2, T, 8, dtype=torch.float64)
    y = x.clone()
    y[:, change_at] += torch.randn(2, 8, dtype=torch.float64)
    # Exactly equal in exact arithmetic, so each run is within the rounding bound of the same value.
    # n, the longest chain in one block of width 8 (d_ff = 16, T <= 8 keys): q, k projections (8),
    # scores (<= 8), softmax (T + 2), the weighted sum (T), W_o (8), LayerNorm (16), W_1 (8), W_2
    # (16), LayerNorm (16), residuals (2): at most 108 < 128; two runs: 2 * 128. Sum of |terms|
    # below 1e5 as in references.MAGNITUDE (inputs below 6, weights below 1, sums of <= 16 terms).
    tol = rounding_bound(2 * 128, torch.float64, 1e5)
    for module in (layer, lambda t, m: mha(t, t, t, m)):
        a, b = module(x, causal_mask(T)), module(y, causal_mask(T))
        torch.testing.assert_close(a[:, :change_at], b[:, :change_at], atol=tol, rtol=0)
