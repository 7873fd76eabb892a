"""The three Topic 3.1 experiments: mechanics, reproducibility, and the quick acceptance run."""

import json
import math

import pytest
import torch
from matplotlib.figure import Figure
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.experiments import get_experiment, long_range, rnn_gradients, sequential
from attention_lab.tasks import agreement_task


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_registered_names_point_at_these_modules():
    assert get_experiment("rnn-gradients") is rnn_gradients.run
    assert get_experiment("sequential-vs-parallel") is sequential.run
    assert get_experiment("long-range") is long_range.run


# --- rnn-gradients ---------------------------------------------------------------------------


def test_per_step_rate_recovers_a_known_rate():
    distances = list(range(1, 40))
    assert rnn_gradients.per_step_rate(
        distances, [3.0 * 0.8**d for d in distances]
    ) == pytest.approx(0.8)
    assert rnn_gradients.per_step_rate(
        distances, [0.1 * 1.2**d for d in distances]
    ) == pytest.approx(1.2)


def test_orthogonal_recurrence_has_every_singular_value_rho():
    W = rnn_gradients.orthogonal_recurrence(16, 0.9, torch.Generator().manual_seed(0))
    torch.testing.assert_close(torch.linalg.svdvals(W), torch.full((16,), 0.9), atol=1e-5, rtol=0)


def test_rnn_gradients_small_run_is_reproducible_and_follows_theory():
    kwargs = {"seed": 3, "progress": False, "max_distance": 30, "hidden_size": 16, "clip_runs": 1}
    a = rnn_gradients.run(**kwargs).to_dict()
    b = rnn_gradients.run(**kwargs).to_dict()
    assert a == b
    assert a["distances"] == list(range(1, 31))
    for rho in ("0.5", "0.9", "1.0", "1.1", "1.5"):
        assert len(a["grad_norms"][rho]) == 30
        # tanh' <= 1: the measured rate can only be below the linear-regime rate rho
        assert a["decay_rate"][rho] <= a["theory_rate"][rho] + 1e-9
    assert a["decay_rate"]["0.5"] < 0.55
    assert a["grad_norms"]["0.5"][-1] < 1e-6 * a["grad_norms"]["0.5"][0]
    assert a["decay_rate"]["attention"] == pytest.approx(1.0, abs=0.01)
    assert a["clipping"]["runs"] == 1
    assert max(a["clipping"]["loss_clipped"]) < 50
    other = rnn_gradients.run(**{**kwargs, "seed": 4}).to_dict()
    assert other["grad_norms"]["0.9"] != a["grad_norms"]["0.9"]


def test_rnn_gradients_rejects_bad_sizes():
    with pytest.raises(ValueError, match="max_distance: expected an int >= 2, got 1"):
        rnn_gradients.run(max_distance=1, progress=False)
    with pytest.raises(ValueError, match="clip_runs: expected an int >= 1, got 0"):
        rnn_gradients.run(clip_runs=0, progress=False)


def test_cli_rnn_gradients_quick_meets_the_acceptance_numbers(tmp_path):
    """`attention-lab run rnn-gradients --quick` with the default seed: the numbers the lesson quotes."""
    out, fig = tmp_path / "g.json", tmp_path / "g.png"
    result = CliRunner().invoke(
        app, ["run", "rnn-gradients", "--quick", "--json", str(out), "--plot", str(fig)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"spectral_norms", "distances", "grad_norms", "lstm", "attention", "decay_rate"} <= set(
        data
    )
    assert data["distances"][0] == 1 and data["distances"][-1] == 100
    for rho in ("0.5", "0.9"):
        norms = data["grad_norms"][rho]
        assert norms[-1] < 1e-3 * norms[0], rho
    growth = max(data["grad_norms"][k][-1] / data["grad_norms"][k][0] for k in data["grad_norms"])
    assert growth >= 10
    attention = data["attention"]
    assert min(attention) > 0.5 * attention[0]
    assert data["decay_rate"]["attention"] == pytest.approx(1.0, abs=0.01)
    assert data["clipping"]["failed_clipped"] < data["clipping"]["failed_unclipped"]
    assert fig.stat().st_size > 10_000


# --- sequential-vs-parallel ------------------------------------------------------------------


def test_growth_exponent_of_power_laws():
    lengths = [16, 32, 64, 128, 256]
    assert sequential.growth_exponent(lengths, [1e-6 * T for T in lengths]) == pytest.approx(1.0)
    assert sequential.growth_exponent(lengths, [1e-9 * T**2 for T in lengths]) == pytest.approx(2.0)


def test_multiply_adds_grow_linearly_for_rnn_quadratically_for_attention():
    small, large = sequential.multiply_adds(100, 2, 8), sequential.multiply_adds(200, 2, 8)
    assert large["rnn"] == 2 * small["rnn"]
    assert large["lstm"] == 4 * large["rnn"]
    # the T^2 term doubles twice as fast as the projections
    assert large["attention"] - 2 * small["attention"] == 2 * 2 * 8 * (200**2 - 2 * 100**2)


def test_sequential_small_run():
    result = sequential.run(
        lengths=(8, 16, 32), repeats=2, batch_size=2, d_model=16, num_heads=2, progress=False
    )
    data = result.to_dict()
    assert data["rnn_sequential_steps"] == [8, 16, 32]
    assert data["attention_sequential_steps"] == [1, 1, 1]
    for key in ("rnn_seconds", "attention_seconds", "lstm_seconds"):
        assert len(data[key]) == 3 and all(s > 0 for s in data[key])
    for name in ("rnn", "lstm", "attention"):
        assert len(data["cpu_seconds"][name]) == 3
        assert math.isfinite(data["growth_exponent"][name])
    assert data["threads"] == 1
    assert isinstance(result.plot(), Figure)


def test_sequential_median_lies_between_min_and_max():
    result = sequential.run(
        lengths=(8, 16), repeats=3, batch_size=2, d_model=8, num_heads=2, progress=False
    )
    series = {
        "rnn": result.rnn_seconds,
        "lstm": result.lstm_seconds,
        "attention": result.attention_seconds,
    }
    for name, medians in series.items():
        for lo, mid, hi in zip(result.seconds_min[name], medians, result.seconds_max[name]):
            assert lo <= mid <= hi


def test_timed_layers_compute_the_same_function_shape():
    models = sequential.build_models(16, 4, "cpu", torch.float32)
    x = torch.randn(2, 5, 16)
    for fn in models.values():
        assert fn(x).shape == (2, 5, 16)


def test_sequential_rejects_bad_settings():
    with pytest.raises(ValueError, match=r"lengths: expected sequence lengths >= 1, got \[0, 4\]"):
        sequential.run(lengths=(0, 4), progress=False)
    with pytest.raises(ValueError, match="repeats: expected an int >= 1, got 0"):
        sequential.run(lengths=(4,), repeats=0, progress=False)


# --- long-range ------------------------------------------------------------------------------


def test_models_share_width_and_read_the_last_position():
    for name in long_range.MODELS:
        model = long_range.make_model(name, 41, 16)
        tokens = agreement_task(3, 6, seed=0).tokens
        assert model(tokens).shape == (3, 2)
    with pytest.raises(ValueError, match="name: expected one of"):
        long_range.make_model("gru", 41, 16)


def test_recurrent_classifier_rnn_is_the_hand_written_rnn():
    """The fused nn.RNN inside the classifier computes what TanhRNN writes out step by step."""
    from attention_lab import TanhRNN

    torch.manual_seed(0)
    model = long_range.RecurrentClassifier("rnn", 41, 8)
    tokens = agreement_task(4, 9, seed=1).tokens
    ours = TanhRNN.from_torch(model.rnn)
    h_T = ours(model.embed(tokens))[1]
    torch.testing.assert_close(model.head(h_T), model(tokens), atol=1e-5, rtol=1.3e-6)


def test_lstm_starts_with_forget_bias_one():
    torch.manual_seed(0)
    model = long_range.RecurrentClassifier("lstm", 41, 8)
    torch.manual_seed(0)
    torch.nn.Embedding(41, 8)  # drawn first in the classifier too
    plain = torch.nn.LSTM(8, 8, batch_first=True)
    delta = model.rnn.bias_hh_l0.detach() - plain.bias_hh_l0.detach()
    torch.testing.assert_close(delta, torch.cat([torch.zeros(8), torch.ones(8), torch.zeros(16)]))


def test_long_range_tiny_run_is_reproducible():
    kwargs = {"seed": 1, "progress": False, "distances": (1, 3), "steps": 30, "width": 8}
    a = long_range.run(**kwargs).to_dict()
    b = long_range.run(**kwargs).to_dict()
    for key in ("distances", "accuracy", "chance", "steps", "final_loss", "params"):
        assert a[key] == b[key], key
    assert set(a["accuracy"]) == {"rnn", "lstm", "transformer"}
    assert a["chance"] == 0.5 and a["steps"] == 30 and a["distances"] == [1, 3]
    assert all(0.0 <= acc <= 1.0 for accs in a["accuracy"].values() for acc in accs)
    assert isinstance(long_range.run(**kwargs).plot(), Figure)


def test_training_learns_the_short_task():
    """Not a rigged test: at distance 2 every model learns agreement from 150 steps."""
    result = long_range.run(seed=0, progress=False, distances=(2,), steps=150, width=16)
    for name, acc in result.accuracy.items():
        assert acc[0] > 0.9, name


def test_long_range_rejects_bad_settings():
    with pytest.raises(ValueError, match="models: expected names from"):
        long_range.run(models=("gru",), progress=False, distances=(2,), steps=20)
    with pytest.raises(ValueError, match="steps: expected an int >= 20"):
        long_range.run(steps=5, progress=False, distances=(2,))
    with pytest.raises(ValueError, match="distance: expected an int >= 0"):
        long_range.run(distances=(-1,), steps=20, progress=False)
    with pytest.raises(ValueError, match="data: expected at least steps"):
        long_range.train(
            long_range.make_model("rnn", 41, 4),
            agreement_task(10, 2),
            steps=20,
            batch_size=4,
            lr=1e-3,
        )
