"""scaled_dot_product_attention against torch's F.scaled_dot_product_attention and a float64 run."""

import pytest
import torch
import torch.nn.functional as F
from references import MAGNITUDE, assert_matches_torch

from attention_lab import causal_mask, scaled_dot_product_attention
from attention_lab.numerics import assert_float32_as_accurate, rounding_bound

SHAPES = [  # (batch dims, T_q, T_k, d_k, d_v)
    ((2, 4), 5, 7, 8, 6),  # T_q != T_k
    ((1,), 3, 3, 4, 4),  # batch 1
    ((2, 1), 6, 6, 16, 16),  # one head
    ((3,), 4, 9, 1, 2),  # d_k = 1
    ((1, 2), 512, 512, 8, 8),  # long sequence
]


def _masks(batch, T_q, T_k, g):
    lengths = torch.randint(1, T_k + 1, (batch[0],), generator=g)
    keep = torch.arange(T_k)[None, :] < lengths[:, None]  # (B, T_k)
    padding = keep.view(batch[0], *([1] * (len(batch) - 1)), 1, T_k)
    causal = torch.ones(T_q, T_k, dtype=torch.bool).tril()
    fully = causal.clone()
    fully[0] = False
    return {
        "none": None,
        "causal": causal,
        "padding": padding,
        "causal+padding": causal & padding,
        "fully masked row": fully,
        "float": torch.randn(T_q, T_k, generator=g),
    }


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s}")
@pytest.mark.parametrize(
    "mask_kind", ["none", "causal", "padding", "causal+padding", "fully masked row", "float"]
)
def test_matches_torch_sdpa_fp32(shape, mask_kind):
    batch, T_q, T_k, d_k, d_v = shape
    g = torch.Generator().manual_seed(1)
    q = torch.randn(*batch, T_q, d_k, generator=g)
    k = torch.randn(*batch, T_k, d_k, generator=g)
    v = torch.randn(*batch, T_k, d_v, generator=g)
    mask = _masks(batch, T_q, T_k, g)[mask_kind]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (*batch, T_q, d_v)
    assert weights.shape == (*batch, T_q, T_k)

    def run(dtype):
        qd, kd, vd = q.to(dtype), k.to(dtype), v.to(dtype)
        m = mask.to(dtype) if mask is not None and mask.is_floating_point() else mask
        ours = scaled_dot_product_attention(qd, kd, vd, m)[0]
        return ours, F.scaled_dot_product_attention(qd, kd, vd, attn_mask=m)

    assert_matches_torch(run, terms=d_k + T_k)  # q.k, then weights.v


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "causal+padding", "float"])
def test_matches_explicit_formula_in_float64(mask_kind):
    batch, T_q, T_k, d = (2, 3), 5, 6, 8
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(*batch, t, d, generator=g, dtype=torch.float64) for t in (T_q, T_k, T_k))
    mask = _masks(batch, T_q, T_k, g)[mask_kind]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = q @ k.transpose(-1, -2) / d**0.5
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask.double()
    ref_w = torch.softmax(scores, dim=-1)
    tol = rounding_bound(8 + 6 + 2, torch.float64, MAGNITUDE)  # q.k, weights.v, scale and mask
    torch.testing.assert_close(weights, ref_w, atol=tol, rtol=0)
    torch.testing.assert_close(out, ref_w @ v, atol=tol, rtol=0)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=tol, rtol=0
    )


@pytest.mark.parametrize(
    "mask",
    [torch.zeros(4, 5, dtype=torch.bool), torch.full((4, 5), float("-inf"))],
    ids=["bool", "float -inf"],
)
def test_fully_masked_rows_give_zero_weights_output_and_finite_gradients(mask):
    q = torch.randn(2, 4, 8, requires_grad=True)
    k = torch.randn(2, 5, 8, requires_grad=True)
    v = torch.randn(2, 5, 3, requires_grad=True)
    mask = mask.clone()
    mask[1:] = True if mask.dtype == torch.bool else 0.0  # only row 0 is fully masked
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(weights[:, 0], torch.zeros(2, 5))
    assert torch.equal(out[:, 0], torch.zeros(2, 3))
    torch.testing.assert_close(weights[:, 1:].sum(-1), torch.ones(2, 3))
    (out.sum() + weights.sum()).backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_as_accurate_as_torch_and_never_nan(dtype):
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 4, 16, 32, generator=g).to(dtype) * 4 for _ in range(3))
    mask = causal_mask(16)
    mask[0] = False  # a fully masked row must not overflow to NaN in half precision
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.dtype == dtype and weights.dtype == dtype
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    ref, _ = scaled_dot_product_attention(q.double(), k.double(), v.double(), mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).double()
    visible = mask.any(-1)  # rows torch also computes
    our_error = (out.double() - ref)[..., visible, :].abs().max()
    their_error = (theirs - ref)[..., visible, :].abs().max()
    assert our_error <= 1.5 * their_error + 1e-3, (our_error, their_error)


def test_dropout_changes_only_what_values_see_and_keeps_weights():
    q, k, v = torch.randn(3, 2, 5, 8).unbind(0)
    out_a, w_a = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    out_b, w_b = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(w_a, w_b)
    assert not torch.allclose(out_a, out_b)


@pytest.mark.parametrize("scale", [1.0, 0.25, 0.0, -0.5])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "float"])
def test_scale_replaces_one_over_sqrt_dk_like_torch(scale, mask_kind):
    batch, T_q, T_k, d = (2, 3), 5, 6, 8
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(*batch, t, d, generator=g) for t in (T_q, T_k, T_k))
    mask = _masks(batch, T_q, T_k, g)[mask_kind]
    _, weights = scaled_dot_product_attention(q, k, v, mask, scale=scale)

    def run(dtype):
        m = mask.to(dtype) if mask is not None and mask.is_floating_point() else mask
        ours, _ = scaled_dot_product_attention(
            q.to(dtype), k.to(dtype), v.to(dtype), m, scale=scale
        )
        ref = F.scaled_dot_product_attention(
            q.to(dtype), k.to(dtype), v.to(dtype), attn_mask=m, scale=scale
        )
        return ours, ref

    assert_matches_torch(run, terms=8 + 6 + 2)  # q.k of d = 8, weights.v of T_k = 6, scale, mask

    def formula(dtype):
        """The formula with the given factor in place of 1/sqrt(d_k), in ``dtype``."""
        scores = scale * q.to(dtype) @ k.to(dtype).transpose(-1, -2)
        if mask is not None:
            scores = (
                scores + mask.to(dtype)
                if mask.is_floating_point()
                else scores.masked_fill(~mask, -torch.inf)
            )
        return torch.softmax(scores, dim=-1)

    # float32 weights as accurate as torch's float32 run of the formula (docs/numerics.md rule 2)
    assert_float32_as_accurate(weights, formula(torch.float32), formula(torch.float64), "weights")


def test_default_scale_is_one_over_sqrt_dk_and_scale_one_gives_raw_dot_products():
    q, k, v = torch.randn(3, 2, 4, 16, dtype=torch.float64).unbind(0)
    default, _ = scaled_dot_product_attention(q, k, v)
    explicit, _ = scaled_dot_product_attention(q, k, v, scale=16**-0.5)
    torch.testing.assert_close(default, explicit, atol=0, rtol=0)
    _, raw = scaled_dot_product_attention(q, k, v, None, 1.0)
    torch.testing.assert_close(
        raw, torch.softmax(q @ k.transpose(-1, -2), dim=-1),
        atol=rounding_bound(16 + 1, torch.float64, MAGNITUDE), rtol=0,
    )  # fmt: skip


@pytest.mark.parametrize(
    "scale,error,words",
    [
        ("0.5", TypeError, ["scale", "number", "str"]),
        (True, TypeError, ["scale", "number", "bool"]),
        (float("inf"), ValueError, ["scale", "finite", "inf"]),
    ],
)
def test_bad_scale(scale, error, words):
    q = torch.randn(2, 3, 4)
    with pytest.raises(error) as info:
        scaled_dot_product_attention(q, q, q, scale=scale)
    for word in words:
        assert word in str(info.value)
