"""Label smoothing and warm-up on the translator: the experiment, its schedule and its figure."""

from __future__ import annotations

import json
import math

import pytest

from attention_lab.experiments import get_experiment, training_recipe


def test_paper_schedule_is_eq_3():
    for step in (1, 100, 3999, 4000, 4001, 20000):
        expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
        assert training_recipe.paper_schedule(step) == pytest.approx(expected, rel=1e-12)
    # the peak is at the end of the warm-up: d_model^-0.5 warmup^-0.5
    assert training_recipe.paper_schedule(4000) == pytest.approx(1 / math.sqrt(512 * 4000))


def test_experiment_is_registered_seeded_and_measures_every_variant():
    assert get_experiment("translator-training") is training_recipe.run
    variants = ("baseline", "label smoothing")
    kwargs = dict(steps=3, d_model=8, variants=variants, progress=False)
    result = training_recipe.run(seed=2, **kwargs)
    again = training_recipe.run(seed=2, **kwargs).to_dict()
    data = result.to_dict()
    del data["cpu_seconds"], again["cpu_seconds"]
    assert data == again
    json.dumps(result.to_dict())
    assert result.variants == list(variants) and result.warmup == 1
    for name in variants:
        assert 0 <= result.exact_match[name] <= 1 and 0 < result.confidence[name] <= 1
        assert result.test_nll[name] > 0 and len(result.loss_curves[name]) == 3
    fig = result.plot()
    assert fig.alt_text == training_recipe.training_recipe_alt(result)
    assert (
        f"label smoothing: exact match {result.exact_match['label smoothing']:.0%}" in fig.alt_text
    )
    with pytest.raises(ValueError, match="variants: expected names from"):
        training_recipe.run(steps=1, variants=("no such",), progress=False)
