"""MultiHeadAttention against torch.nn.MultiheadAttention with copied weights; the fused class and
the switches between the two; switching heads off."""

import copy

import pytest
import torch
from references import assert_matches_torch
from torch import nn

from attention_lab import (
    PRESETS,
    FusedMultiHeadAttention,
    MultiHeadAttention,
    Transformer,
    causal_mask,
    fast_attention,
    use_fast_attention,
    use_readable_attention,
    without_heads,
)


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
def test_fused_class_gives_same_outputs_and_gradients(self_attention, mask_kind):
    readable = MultiHeadAttention(16, 4)
    fast = FusedMultiHeadAttention(16, 4)
    fast.load_state_dict(readable.state_dict())  # the same state_dict keys
    x = torch.randn(2, 6, 16)
    mem = x if self_attention else torch.randn(2, 6, 16)
    mask = {
        "none": None,
        "causal": causal_mask(6),
        "fully masked row": causal_mask(6).index_fill(0, torch.tensor([2]), False),
        "float": torch.randn(6, 6),
    }[mask_kind]

    def run(dtype):
        """(readable, fused) output, input gradient and every parameter's gradient, in dtype."""
        results = []
        for module in (copy.deepcopy(readable).to(dtype), copy.deepcopy(fast).to(dtype)):
            xi = x.to(dtype).requires_grad_(True)
            mi = xi if self_attention else mem.to(dtype).requires_grad_(True)
            m = mask.to(dtype) if mask is not None and mask.is_floating_point() else mask
            out = module(xi, mi, mi, m)
            (out * torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out)).sum().backward()
            grads = [p.grad.flatten() for p in module.parameters()]
            results.append((out.detach(), xi.grad, torch.cat(grads)))
        return results

    # forward: projections of D = 16, q.k of d_k = 4, weights.v of T = 6, W_o of 16; the backward
    # pass runs the same sums transposed, plus one over the batch and positions (2 * 6) for the
    # parameters' gradients
    runs = {dtype: run(dtype) for dtype in (torch.float64, torch.float32)}
    for i, what in enumerate(("output", "input gradient", "parameter gradients")):
        pair = lambda dtype, i=i: (runs[dtype][0][i], runs[dtype][1][i])  # noqa: E731
        assert_matches_torch(pair, terms=2 * (16 + 4 + 6 + 16) + 12, what=what)
    assert torch.isfinite(runs[torch.float32][1][1]).all()
    with torch.no_grad():
        readable(x, mem, mem, mask), fast(x, mem, mem, mask)
    assert readable.attn_weights.shape == (2, 4, 6, 6)
    with pytest.raises(RuntimeError, match="use_readable_attention"):
        fast.attn_weights  # noqa: B018


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


def test_fused_and_readable_have_the_same_state_dict_keys():
    assert list(FusedMultiHeadAttention(8, 2).state_dict()) == list(
        MultiHeadAttention(8, 2).state_dict()
    )


def test_fused_attn_weights_is_a_clear_error_not_none():
    fused = FusedMultiHeadAttention(8, 2)
    x = torch.randn(1, 3, 8)
    fused(x, x, x)
    with pytest.raises(RuntimeError) as info:
        fused.attn_weights  # noqa: B018
    for words in ("FusedMultiHeadAttention keeps no attention weights", "use_readable_attention"):
        assert words in str(info.value)


def test_switches_change_the_same_modules_in_place_and_share_parameters():
    model = Transformer(PRESETS["tiny"]).eval()
    layers = [m for m in model.modules() if isinstance(m, MultiHeadAttention)]
    params = [p for m in layers for p in m.parameters()]
    src = torch.randint(1, 64, (2, 7))
    tgt = torch.randint(1, 64, (2, 5))
    masks = model.make_masks(src, tgt)
    readable_out = model(src, tgt, *masks)

    assert use_fast_attention(model) is model
    assert all(type(m) is FusedMultiHeadAttention for m in layers)  # the same objects
    assert [p for m in layers for p in m.parameters()] == params  # the same tensors, not copies
    fused_out = model(src, tgt, *masks)

    def run(dtype):
        """(fused, readable) outputs of a copy of the model in ``dtype``."""
        copied = copy.deepcopy(model).to(dtype)
        fused = copied(src, tgt, *masks)
        return fused, use_readable_attention(copied)(src, tgt, *masks)

    # longest chain: two encoder layers (projection 64 + q.k 16 + weights.v 7 + W_o 64 + two
    # LayerNorms 128 + feed-forward 64 + 256 = 599 each), two decoder layers (self- and
    # cross-attention 149 + 151, three LayerNorms 192, feed-forward 320: 812 each), the output
    # projection 64: 2886 < 3000 terms
    assert_matches_torch(run, terms=3000, what="fused against readable")
    assert fused_out.dtype == torch.float32 and fused_out.shape == readable_out.shape

    assert use_readable_attention(model) is model
    assert all(type(m) is MultiHeadAttention for m in layers)
    model(src, tgt, *masks)
    assert all(m.attn_weights is not None for m in layers)


def test_a_bare_attention_module_switches_in_place():
    mha = MultiHeadAttention(8, 2)
    use_fast_attention(mha)
    assert type(mha) is FusedMultiHeadAttention
    use_readable_attention(mha)
    assert type(mha) is MultiHeadAttention and mha.attn_weights is None  # no stale weights


def test_fast_attention_restores_on_exit_and_on_an_exception():
    model = Transformer(PRESETS["tiny"])
    first = model.encoder.layers[0].self_attn
    with fast_attention(model) as inside:
        assert inside is model and type(first) is FusedMultiHeadAttention
    assert type(first) is MultiHeadAttention

    with pytest.raises(ValueError, match="a step failed"), fast_attention(model):
        assert type(first) is FusedMultiHeadAttention
        raise ValueError("a step failed")
    assert all(
        type(m) is MultiHeadAttention for m in model.modules() if isinstance(m, MultiHeadAttention)
    )

    with fast_attention(model, enabled=False):
        assert type(first) is MultiHeadAttention


def test_fast_attention_leaves_layers_that_were_already_fused_as_they_were():
    model = Transformer(PRESETS["tiny"])
    already = model.decoder.layers[0].cross_attn
    use_fast_attention(already)
    with fast_attention(model):
        pass
    assert type(already) is FusedMultiHeadAttention
    assert type(model.decoder.layers[0].self_attn) is MultiHeadAttention


def test_switches_reject_what_is_not_a_module():
    with pytest.raises(TypeError, match="model: expected torch.nn.Module, got dict"):
        use_fast_attention({"layer": MultiHeadAttention(8, 2)})


@pytest.mark.parametrize("cls", [MultiHeadAttention, FusedMultiHeadAttention])
def test_without_heads_removes_exactly_that_heads_share_and_is_undone(cls):
    torch.manual_seed(0)
    mha = cls(16, 4).eval()
    x = torch.randn(2, 6, 16, dtype=torch.float32)
    mask = causal_mask(6)
    full = mha(x, x, x, mask)

    def run(dtype):
        """(full - ablated, head 1's contribution from torch's kernel), in ``dtype``."""
        m, xd = copy.deepcopy(mha).to(dtype), x.to(dtype)
        with without_heads(m, [1]):
            ablated = m(xd, xd, xd, mask)
        # head 1's contribution on its own: its d_k columns of W_o
        q, k, v = (W(xd).view(2, 6, 4, 4).transpose(1, 2) for W in (m.W_q, m.W_k, m.W_v))
        head1 = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 1]
        return m(xd, xd, xd, mask) - ablated, head1 @ m.W_o.weight[:, 4:8].T

    # a difference of two runs (projection 16, q.k 4, weights.v 6, W_o 16) and the head alone
    with torch.no_grad():
        assert_matches_torch(run, terms=3 * (16 + 4 + 6 + 16), what="head 1's share")
    torch.testing.assert_close(mha(x, x, x, mask), full, atol=0, rtol=0)  # the hook is gone
    with without_heads(mha, [0, 1, 2, 3]):
        torch.testing.assert_close(mha(x, x, x, mask), mha.W_o.bias.expand_as(full))


@pytest.mark.parametrize(
    "heads,error,words",
    [([4], ValueError, ["heads", "[0, 4)", "4"]), (2, TypeError, ["heads", "list", "int"])],
)
def test_without_heads_rejects_heads_that_do_not_exist(heads, error, words):
    with pytest.raises(error) as info, without_heads(MultiHeadAttention(8, 4), heads):
        pass
    for word in words:
        assert word in str(info.value)
