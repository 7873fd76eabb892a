"""The causal mask stops the future leaking; padding is ignored only with its mask."""

from __future__ import annotations

import pytest
import torch

from attention_lab import DecoderLayer, causal_mask, padding_mask
from attention_lab.experiments.masking import masking_demo


@pytest.mark.parametrize("k", [1, 4, 7])
def test_masking_demo_numbers(k):
    r = masking_demo(seed=0, changed_position=k)
    assert r.max_change_before_with_mask == 0.0  # bit-for-bit identical
    assert r.change_by_position_with_mask[:k] == [0.0] * k
    assert r.max_change_before_without_mask > 1e-3  # the future leaked
    assert r.change_by_position_with_mask[k] > 1e-3  # the change itself is seen from k on
    assert r.padding_fill_change_with_mask == 0.0
    assert r.padding_fill_change_without_mask > 1e-3
    assert r.padded_vs_unpadded_with_mask < 1e-5
    assert r.padded_vs_unpadded_without_mask > 1e-3


def test_masking_demo_is_reproducible_and_plots():
    a, b = masking_demo(seed=3), masking_demo(seed=3)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != masking_demo(seed=4).to_dict()
    fig = a.plot()
    assert len(fig.axes) == 2


@pytest.mark.parametrize("k", [0, 8])
def test_masking_demo_rejects_a_position_outside_the_target(k):
    with pytest.raises(ValueError, match=f"changed_position: expected 0 < position < 8, got {k}"):
        masking_demo(changed_position=k)


def test_decoder_layer_in_float64_never_looks_ahead():
    """An independent check on one DecoderLayer, float64, every future position at once."""
    torch.manual_seed(0)
    layer = DecoderLayer(16, 4, 32).double().eval()
    x = torch.randn(2, 7, 16, dtype=torch.float64)
    memory = torch.randn(2, 5, 16, dtype=torch.float64)
    mask = causal_mask(7)
    out = layer(x, memory, mask)
    for k in range(1, 7):
        changed = x.clone()
        changed[:, k:] = torch.randn(2, 7 - k, 16, dtype=torch.float64)
        assert torch.equal(layer(changed, memory, mask)[:, :k], out[:, :k])
        assert not torch.allclose(layer(changed, memory)[:, :k], layer(x, memory)[:, :k])
    # padded memory positions get zero cross-attention weight and cannot change anything
    src = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]])
    keep = padding_mask(src, 0)  # (B, 1, 1, S)
    junk = memory.clone()
    junk[0, 3:] = 100.0
    torch.testing.assert_close(
        layer(x, junk, mask, keep)[0], layer(x, memory, mask, keep)[0], rtol=0, atol=1e-12
    )
    assert layer.cross_attn.attn_weights[0, :, :, 3:].abs().max() == 0
