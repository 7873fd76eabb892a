"""Sinusoidal positional encoding: relative position is a linear function; the figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attention_lab import sinusoidal_positional_encoding
from attention_lab.viz.architecture import (
    draw_transformer,
    plot_positional_encoding,
    plot_positional_similarity,
    positional_similarity,
)

D = 32


def _rotation(offset: int, d_model: int) -> torch.Tensor:
    """Block-diagonal M_k with PE(pos + k) = M_k PE(pos), written from the paper's definition:
    for frequency w_i = 1 / 10000^(2i / d_model), (sin, cos)(w (p + k)) is (sin, cos)(w p) rotated
    by the angle w k (angle-sum identities)."""
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    for i in range(d_model // 2):
        angle = offset / 10000 ** (2 * i / d_model)
        c, s = math.cos(angle), math.sin(angle)
        M[2 * i, 2 * i], M[2 * i, 2 * i + 1] = c, s  # sin(a + b) = sin a cos b + cos a sin b
        M[2 * i + 1, 2 * i], M[2 * i + 1, 2 * i + 1] = (
            -s,
            c,
        )  # cos(a + b) = cos a cos b - sin a sin b
    return M


@pytest.mark.parametrize("offset", [1, 3, 17, 50])
def test_relative_position_is_a_linear_function(offset):
    pe = sinusoidal_positional_encoding(200, D, dtype=torch.float64)  # (T, D)
    M = _rotation(offset, D)
    predicted = pe[:-offset] @ M.T  # (T - k, D) @ (D, D): PE(p) -> PE(p + k) for every p at once
    torch.testing.assert_close(predicted, pe[offset:], atol=1e-10, rtol=0)
    # one matrix per offset, whatever the position: shifting by k then by 2 is shifting by k + 2
    torch.testing.assert_close(_rotation(2, D) @ M, _rotation(offset + 2, D), atol=1e-12, rtol=0)
    # and M_k is a rotation: it preserves the norm, so |PE(p)| is the same for every p
    torch.testing.assert_close(M @ M.T, torch.eye(D, dtype=torch.float64), atol=1e-12, rtol=0)


def test_a_position_is_not_a_linear_function_of_the_position_alone_without_offset():
    # the property is about *offsets*: distinct offsets need distinct matrices
    assert not torch.allclose(_rotation(1, D), _rotation(2, D))


def test_similarity_depends_on_the_offset_only():
    sim = positional_similarity(T=64, d_model=D)  # (T, T)
    assert sim.shape == (64, 64)
    np.testing.assert_allclose(np.diag(sim), 1.0, atol=1e-12)
    for k in (1, 5, 20):
        diagonal = np.diag(sim, k)
        np.testing.assert_allclose(diagonal, diagonal[0], atol=1e-10)  # Toeplitz
        expected = np.mean([math.cos(k / 10000 ** (2 * i / D)) for i in range(D // 2)])
        assert diagonal[0] == pytest.approx(expected, abs=1e-10)
    np.testing.assert_allclose(sim, sim.T, atol=1e-12)
    assert sim[0, 1] > sim[0, 10]  # neighbours are more alike than distant positions


def test_figures():
    fig = plot_positional_encoding(T=32, d_model=D)
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(image, sinusoidal_positional_encoding(32, D).numpy())
    fig = plot_positional_similarity(T=64, d_model=D, anchors=(0, 10))
    (right,) = [ax for ax in fig.axes if ax.get_title() == "similarity depends on the offset only"]
    curves = right.get_lines()
    assert [line.get_label() for line in curves[:2]] == ["p = 0", "p = 10"]
    # the curves of the two anchors coincide where both are defined
    x0, y0 = curves[0].get_data()
    x1, y1 = curves[1].get_data()
    common = np.intersect1d(x0, x1)
    np.testing.assert_allclose(y0[np.isin(x0, common)], y1[np.isin(x1, common)], atol=1e-10)
    with pytest.raises(ValueError, match=r"anchors: expected positions in \[0, 64\), got 70"):
        plot_positional_similarity(T=64, d_model=D, anchors=(70,))


@pytest.mark.parametrize("norm_first", [False, True])
def test_architecture_diagram(norm_first):
    fig = draw_transformer(6, norm_first=norm_first, d_model=512, num_heads=8, d_ff=2048)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "6×" in texts and "N = 6,  d_model = 512,  h = 8,  d_ff = 2048" in texts
    assert "Masked\nMulti-Head Attention" in texts and "Softmax" in texts
    norms = sum(t in ("Add & Norm", "LayerNorm") for t in texts)
    # post-norm: 2 Add & Norm (encoder) + 3 (decoder); pre-norm: 2 + 3 + 2 final LayerNorms
    assert norms == (7 if norm_first else 5)
    with pytest.raises(ValueError, match="num_layers: expected an int >= 1, got 0"):
        draw_transformer(0)
