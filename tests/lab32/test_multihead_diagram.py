"""The multi-head diagram: parts computed from a real MultiHeadAttention, alt text from them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attention_lab import MultiHeadAttention, sinusoidal_positional_encoding
from attention_lab.tracing import word_vector
from attention_lab.viz.multihead_diagram import draw_multihead, multihead_alt, multihead_parts

TOKENS = "the cat sat on the mat".split()


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    x = torch.stack([word_vector(w, 8) for w in TOKENS]) * math.sqrt(8)  # (T, D)
    x = x + sinusoidal_positional_encoding(len(TOKENS), 8)
    mha = MultiHeadAttention(8, 2).double()
    return mha, x.double(), multihead_parts(mha, x.double(), TOKENS)


def test_parts_are_the_modules_own_computation(parts):
    mha, x, p = parts
    with torch.no_grad():
        out = mha(x[None], x[None], x[None])[0]
    np.testing.assert_allclose(p.output, out.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.weights, mha.attn_weights[0].numpy(), rtol=0, atol=1e-12)
    # the concatenation is the heads side by side: head h fills columns h*d_k..(h+1)*d_k - 1
    np.testing.assert_array_equal(p.concat[:, :4], p.heads[0])
    np.testing.assert_array_equal(p.concat[:, 4:], p.heads[1])
    np.testing.assert_allclose(p.weights.sum(-1), 1.0, atol=1e-12)


def test_alt_text_names_each_heads_top_keys(parts):
    _, _, p = parts
    alt = multihead_alt(p)
    for h in range(2):
        top = p.weights[h].argmax(axis=1)
        pairs = ", ".join(f"{TOKENS[i]}->{TOKENS[j]}" for i, j in enumerate(top))
        assert (
            f"Head {h + 1}: mean weight on the token itself {np.trace(p.weights[h]) / 6:.2f}" in alt
        )
        assert pairs in alt
    fig = draw_multihead(p)
    assert fig.alt_text == alt
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {f"{w:.2f}" for w in p.weights[1].ravel()} <= texts
    assert "Concat · W_o (6 x 8)" in texts


def test_bad_input_is_named():
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(
        ValueError, match=r"x: expected a tensor of shape \(T, d_model=8\), got \(6, 4\)"
    ):
        multihead_parts(mha, torch.zeros(6, 4), TOKENS)
    with pytest.raises(ValueError, match="tokens: expected 6 labels"):
        multihead_parts(mha, torch.zeros(6, 8), TOKENS[:3])
    with pytest.raises(TypeError, match="mha: expected a MultiHeadAttention"):
        multihead_parts(torch.nn.Linear(8, 8), torch.zeros(6, 8), TOKENS)
