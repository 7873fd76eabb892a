"""The positional and residual ablations: their mechanics, their effects, reproducibility."""

from __future__ import annotations

import pytest
import torch

from attention_lab import EncoderLayer
from attention_lab.experiments import get_experiment
from attention_lab.experiments.positional_ablation import (
    SequenceTagger,
    evaluate_tagger,
    train_tagger,
)
from attention_lab.experiments.residual_ablation import (
    VARIANTS,
    AblationLayer,
    DeepTagger,
    layer_gradient_norms,
)
from attention_lab.numerics import rounding_bound
from attention_lab.tasks import SequenceTask

# Both sides run in float64 (docs/numerics.md rule 2). n, the longest chain of accumulated terms in
# one encoder block of width D, d_k = D / 4, d_ff = 2 D, T keys: the q, k projection (D), the
# scores (D / 4), softmax (T), the weighted sum (T), W_o (D), the residual (1), LayerNorm's mean
# and variance (2 D), W_1 (D), W_2 (2 D), the residual (1), LayerNorm (2 D): 10.25 D + 2 T + 2.
# Sum of |terms|: inputs below 6 (the tagger's scaled embeddings below 5 sqrt(64) = 40), weights
# below 1.5, LayerNorm outputs below 1.5 sqrt(D) + 0.5, at most 2 D terms, a factor 2 through
# softmax and LayerNorm.
# One block, D = 16, T = 5: n = 176 < 200; 32 * 7 * 7 * 2 < 1e4; TOL = gamma_200 * 1e4 = 2.2e-10.
TOL = rounding_bound(200, torch.float64, 1e4)
# The tagger, D = 64, T = 8, two blocks: 2 * 674 plus the embedding scale (1) and the output head
# (64): n = 1413 < 1500; 128 * 40 * 13 * 2 < 1e5; gamma_1500 * 1e5 = 1.7e-8.
TAGGER_TOL = rounding_bound(1500, torch.float64, 1e5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_ablation_layer_with_residual_and_norm_is_the_encoder_layer(norm_first):
    torch.manual_seed(0)
    reference = EncoderLayer(16, 4, 32, norm_first=norm_first).double().eval()
    ours = AblationLayer(16, 4, 32, residual=True, norm="pre" if norm_first else "post").double()
    ours.load_state_dict(reference.state_dict(), strict=False)
    with torch.no_grad():
        reference.norm1.weight.uniform_(0.5, 1.5)
        ours.norm1.weight.copy_(reference.norm1.weight)
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    torch.testing.assert_close(ours(x), reference(x), atol=TOL, rtol=0)


def test_ablation_layer_without_residual_or_norm():
    torch.manual_seed(0)
    layer = AblationLayer(16, 4, 32, residual=False, norm=None)
    assert isinstance(layer.norm1, torch.nn.Identity)
    x = torch.randn(2, 5, 16)
    h = layer.self_attn(x, x, x)
    torch.testing.assert_close(layer(x), layer.feed_forward(h))
    with pytest.raises(ValueError, match="norm: expected 'post', 'pre' or None, got 'middle'"):
        AblationLayer(16, 4, 32, residual=True, norm="middle")


def test_gradient_vanishes_in_a_deep_stack_without_residuals_and_norm():
    task = SequenceTask("reversal")
    tokens, labels = task.sample(64, torch.Generator().manual_seed(0))
    first = {}
    for name in ("post-norm", "neither"):
        residual, norm = VARIANTS[name]
        torch.manual_seed(0)
        model = DeepTagger(10, 10, residual=residual, norm=norm, num_layers=12)
        loss = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), labels.flatten())
        loss.backward()
        norms = layer_gradient_norms(model)
        assert len(norms) == 12
        first[name] = norms[0]
        if name == "neither":
            assert norms[0] < 1e-3 * norms[-1]  # shrinks layer after layer toward the input
    assert first["neither"] < 1e-6 * first["post-norm"]


def test_without_positional_encoding_the_encoder_is_permutation_equivariant():
    torch.manual_seed(0)
    blind = SequenceTagger(10, 10, positional=False).double().eval()
    seeing = SequenceTagger(10, 10, positional=True).eval()
    x = torch.randint(0, 10, (3, 8))
    perm = torch.randperm(8)
    with torch.no_grad():
        torch.testing.assert_close(blind(x[:, perm]), blind(x)[:, perm], atol=TAGGER_TOL, rtol=0)
        assert not torch.allclose(seeing(x[:, perm]), seeing(x)[:, perm], atol=1e-3)


def test_reversal_needs_positional_encoding():
    """The effect itself, small: 150 steps learn reversal with PE and cannot without it."""
    torch.set_num_threads(1)
    task = SequenceTask("reversal")
    tokens, labels = task.sample(500, torch.Generator().manual_seed(123))
    with_pe, _ = train_tagger(task, positional=True, steps=150, seed=0)
    without, losses = train_tagger(task, positional=False, steps=150, seed=0)
    assert evaluate_tagger(with_pe, tokens, labels)[0] > 0.95
    assert evaluate_tagger(without, tokens, labels)[0] < task.order_blind_ceiling(tokens) + 0.05
    assert len(losses) == 15


def test_experiments_are_registered_reproducible_and_validated():
    torch.set_num_threads(1)
    positional = get_experiment("positional-ablation")
    a = positional(seed=1, progress=False, tasks=("counting",), steps=20).to_dict()
    b = positional(seed=1, progress=False, tasks=("counting",), steps=20).to_dict()
    c = positional(seed=2, progress=False, tasks=("counting",), steps=20).to_dict()
    a.pop("seconds"), b.pop("seconds"), c.pop("seconds")
    assert a == b and a != c
    assert len(a["loss_with_pe"][0]) == len(a["logged_steps"]) == 2
    residual = get_experiment("residual-ablation")
    r1 = residual(seed=0, progress=False, num_layers=3, variants=("pre-norm", "neither"), steps=10)
    r2 = residual(seed=0, progress=False, num_layers=3, variants=("pre-norm", "neither"), steps=10)
    assert r1.loss == r2.loss and r1.grad_norm_by_layer_at_init == r2.grad_norm_by_layer_at_init
    assert len(r1.grad_norm_by_layer_at_init[0]) == 3
    assert len(r1.plot().axes) == 3
    with pytest.raises(ValueError, match="tasks: expected names from"):
        positional(tasks=("copy",), progress=False)
    with pytest.raises(ValueError, match="variants: expected names from"):
        residual(variants=("sandwich",), progress=False)
    with pytest.raises(ValueError, match="steps: expected an int >= 10, got 5"):
        residual(steps=5, progress=False)
    with pytest.raises(ValueError, match="num_layers: expected an int >= 1, got 0"):
        residual(num_layers=0, progress=False)
