"""MultiHeadAttention against torch.nn.MultiheadAttention with copied weights; the fused fast path."""

import copy

import pytest
import torch
from references import assert_matches_torch
from torch import nn

from attention_lab import MultiHeadAttention, causal_mask


def _pair(d_model, num_heads, bias=True, batch_first=True, dtype=torch.float32):
    theirs = nn.MultiheadAttention(
        d_model, num_heads, bias=bias, batch_first=batch_first, dtype=dtype
    ).eval()
    return MultiHeadAttention.from_torch(theirs).eval(), theirs


@pytest.mark.parametrize(
    "B,T_q,T_k,D,H",
    [(2, 5, 7, 16, 4), (1, 3, 3, 8, 1), (3, 4, 6, 8, 8), (2, 128, 128, 32, 4)],
    ids=["Tq!=Tk", "batch1-onehead", "d_k=1", "long"],
)
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "causal+padding"])
def test_matches_torch_multihead_attention(B, T_q, T_k, D, H, mask_kind):
    ours, theirs = _pair(D, H)
    query, key = torch.randn(B, T_q, D), torch.randn(B, T_k, D)
    keep = torch.arange(T_k)[None, :] < torch.randint(1, T_k + 1, (B,))[:, None]  # (B, T_k)
    causal = torch.ones(T_q, T_k, dtype=torch.bool).tril()
    ours_mask, torch_kwargs = {
        "none": (None, {}),
        "causal": (causal, {"attn_mask": ~causal}),
        "padding": (keep[:, None, None, :], {"key_padding_mask": ~keep}),
        "causal+padding": (
            causal & keep[:, None, None, :],
            {"attn_mask": ~causal, "key_padding_mask": ~keep},
        ),
    }[mask_kind]
    got = ours(query, key, key, ours_mask)
    assert got.shape == (B, T_q, D) and ours.attn_weights.shape == (B, H, T_q, T_k)
    runs = {}

    def run(dtype):
        theirs_d = copy.deepcopy(theirs).to(dtype)
        ours_d = MultiHeadAttention.from_torch(theirs_d).eval()
        q, k = query.to(dtype), key.to(dtype)
        out, w = theirs_d(q, k, k, average_attn_weights=False, **torch_kwargs)
        mine = ours_d(q, k, k, ours_mask)
        runs[dtype] = (ours_d.attn_weights, w)  # (B, H, T_q, T_k) each
        return mine, out

    terms = 2 * D + D // H + T_k  # projections in and out, q.k over d_k, weights.v over T_k
    assert_matches_torch(run, terms=terms)
    assert_matches_torch(lambda dtype: runs[dtype], terms=terms, what="weights")


def test_float64_matches_at_1e_10_and_without_bias_and_seq_first_source():
    ours, theirs = _pair(16, 4, bias=False, batch_first=False, dtype=torch.float64)
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    expected, _ = theirs(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1))
    torch.testing.assert_close(ours(x, x, x), expected.transpose(0, 1), atol=1e-10, rtol=0)


def test_three_dimensional_mask_is_per_batch():
    _, theirs = _pair(8, 2)
    x = torch.randn(3, 4, 8)
    mask = torch.rand(3, 4, 4) > 0.3
    mask[..., 0] = True

    def run(dtype):
        theirs_d = copy.deepcopy(theirs).to(dtype)
        xd = x.to(dtype)
        expected, _ = theirs_d(xd, xd, xd, attn_mask=(~mask).repeat_interleave(2, dim=0))
        return MultiHeadAttention.from_torch(theirs_d).eval()(xd, xd, xd, mask), expected

    assert_matches_torch(run, terms=2 * 8 + 4 + 4)  # D = 8 in and out, d_k = 4, T_k = 4


@pytest.mark.parametrize("self_attention", [True, False])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "fully masked row", "float"])
def test_fast_path_gives_same_outputs_and_gradients(self_attention, mask_kind):
    readable = MultiHeadAttention(16, 4)
    fast = MultiHeadAttention(16, 4)
    fast.load_state_dict(readable.state_dict())
    fast.store_weights = False
    x = torch.randn(2, 6, 16)
    mem = x if self_attention else torch.randn(2, 6, 16)
    mask = {
        "none": None,
        "causal": causal_mask(6),
        "fully masked row": causal_mask(6).index_fill(0, torch.tensor([2]), False),
        "float": torch.randn(6, 6),
    }[mask_kind]
    outs = []
    for module in (readable, fast):
        xi = x.clone().requires_grad_(True)
        mi = xi if self_attention else mem.clone().requires_grad_(True)
        out = module(xi, mi, mi, mask)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outs.append((out, xi.grad, [p.grad.clone() for p in module.parameters()]))
    (o1, g1, p1), (o2, g2, p2) = outs
    torch.testing.assert_close(o1, o2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g1, g2, atol=1e-5, rtol=1e-5)
    for a, b in zip(p1, p2, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert torch.isfinite(g2).all()
    assert fast.attn_weights is None and readable.attn_weights is not None


def test_heads_are_independent_subspaces():
    """Zeroing head 0's slice of W_o removes exactly head 0's contribution."""
    mha = MultiHeadAttention(8, 2, bias=False).eval()
    x = torch.randn(1, 5, 8)
    full = mha(x, x, x)
    with torch.no_grad():
        mha.W_o.weight[:, :4] = 0
    only_head1 = mha(x, x, x)
    with torch.no_grad():
        mha.W_o.weight.zero_()
    assert not torch.allclose(full, only_head1)
    torch.testing.assert_close(mha(x, x, x), torch.zeros_like(full))
