"""The trace of one token through an encoder block reproduces the block, step by step."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
from rich.console import Console
from torch import nn
from typer.testing import CliRunner

import attention_lab
from attention_lab import EncoderLayer, sinusoidal_positional_encoding, trace
from attention_lab.cli import app
from attention_lab.numerics import assert_float32_as_accurate, rounding_bound
from attention_lab.tracing import trace_sentence, word_vector

# The trace and the block run in float64 (docs/numerics.md rule 2): a bug such as a weight off by
# 1e-6 or a missing 1/sqrt(d_k) moves the output by far more than the rounding bound. n, the longest
# chain of accumulated terms in one block (d_model = 16, d_k = 4, d_ff = 32, T <= 6): the q, k
# projection (16), the scores (4), softmax (6), the weighted sum (6), W_o (16), the residual (1),
# LayerNorm's mean and variance (16 + 16), W_1 (16), W_2 (32), the residual (1), LayerNorm
# (16 + 16): 182 < 200. Sum of |terms|: inputs below 6, weights below 1, LayerNorm outputs below
# 1.5 sqrt(16) + 0.5 < 7, at most 32 terms, a factor 2 through softmax and LayerNorm:
# 32 * 7 * 7 * 2 < 1e4. TOL = gamma_200 * 1e4 = 2.2e-10.
TOL = rounding_bound(200, torch.float64, 1e4)
# Softmax weights: the row sum over T <= 6 keys, exp and one division per weight, then the 6
# weights added: n = 6 + 2 + 6 = 14 < 16 terms of size at most 1.
SOFTMAX_TOL = rounding_bound(16, torch.float64, 1.0)
WORDS = ["the", "cat", "sat", "on", "the", "mat"]


def _layer(norm_first=False, activation="relu", seed=0, d_model=16, heads=4, d_ff=32):
    torch.manual_seed(seed)
    layer = EncoderLayer(d_model, heads, d_ff, activation=activation, norm_first=norm_first)
    with torch.no_grad():  # non-trivial LayerNorm parameters, so gamma and beta are exercised
        for norm in (layer.norm1, layer.norm2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    return layer.eval()


def _layer_input(words, d_model, dtype=torch.float64):
    x = torch.stack([word_vector(w, d_model) for w in words]).to(dtype) * math.sqrt(d_model)
    return (x + sinusoidal_positional_encoding(len(words), d_model, dtype=dtype))[None]  # (1, T, D)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("position", [0, 2, 5])
def test_final_vector_equals_the_layers_own_output(norm_first, activation, position):
    layer32 = _layer(norm_first, activation)
    layer = copy.deepcopy(layer32).double()
    t = trace(layer, WORDS, position)
    expected = layer(_layer_input(WORDS, 16))[0, position]
    torch.testing.assert_close(t.output, expected, atol=TOL, rtol=0)
    # the float32 trace learners see is as accurate as the block's own float32 run
    found32 = trace(layer32, WORDS, position).output.float()
    reference32 = layer32(_layer_input(WORDS, 16, torch.float32))[0, position]
    assert_float32_as_accurate(found32, reference32, expected, "traced output")


def test_final_vector_equals_torchs_encoder_layer_with_the_same_weights():
    torch.manual_seed(3)
    reference = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    reference = reference.double().eval()
    layer = EncoderLayer.from_torch(reference).eval()
    x = torch.randn(1, 5, 16, dtype=torch.float64)
    t = trace(layer, x[0], 3, positional=False)
    torch.testing.assert_close(t.output, reference(x)[0, 3], atol=TOL, rtol=0)


def test_intermediate_steps_match_the_modules():
    layer = _layer().double()
    x = _layer_input(WORDS, 16)
    t = trace(layer, WORDS, 2)
    attn_out = layer.self_attn(x, x, x)  # also stores attn_weights (1, H, T, T)
    torch.testing.assert_close(t.step("W_o").value, attn_out[0, 2], atol=TOL, rtol=0)
    weights = t.step("softmax weights").value
    torch.testing.assert_close(
        weights, layer.self_attn.attn_weights[0, :, 2], atol=SOFTMAX_TOL, rtol=0
    )
    torch.testing.assert_close(
        weights.sum(-1), torch.ones(4, dtype=torch.float64), atol=SOFTMAX_TOL, rtol=0
    )
    torch.testing.assert_close(t.step("+ positional encoding").value, x[0, 2], atol=TOL, rtol=0)
    scores = t.step("scores").value
    torch.testing.assert_close(t.step("scaled scores").value, scores / 2.0)  # d_k = 4
    torch.testing.assert_close(torch.softmax(scores / 2.0, -1), weights, atol=SOFTMAX_TOL, rtol=0)
    # the concatenation is the per-head weighted sums laid side by side
    torch.testing.assert_close(
        t.step("concatenation").value, t.step("weighted sum").value.flatten()
    )
    y = layer.norm1(x + attn_out)
    torch.testing.assert_close(t.step("LayerNorm 1 (Add & Norm)").value, y[0, 2], atol=TOL, rtol=0)
    hidden = torch.relu(layer.feed_forward.W_1(y))[0, 2]
    assert f"{int((hidden == 0).sum())} of 32 ReLU units are 0" == t.step("relu").note
    assert [s.shape for s in t.steps[3:6]] == [(4, 4)] * 3  # q, k, v: (H, d_k)
    assert t.step("scores").shape == (4, 6)  # (H, T)


def test_layer_norm_note_reports_mean_and_variance_before_and_after():
    layer = EncoderLayer(8, 2, 16).eval()  # gamma = 1, beta = 0: output mean 0, variance 1
    t = trace(layer, WORDS, 1)
    note = t.step("LayerNorm 2 (layer output)").note
    assert note.startswith("mean ") and "variance" in note
    assert note.split("-> ")[1].startswith(("0.000", "-0.000"))
    assert note.endswith("-> 1.000")


def test_token_ids_with_an_embedding_and_a_mask():
    layer = _layer().double()
    torch.manual_seed(1)
    embedding = nn.Embedding(10, 16).double()
    ids = torch.tensor([3, 1, 4, 1, 5])
    keep = torch.tensor([True, True, True, False, False])  # the last two are padding
    t = trace(layer, ids, 1, embedding=embedding, mask=keep, labels=list("abcde"))
    x = embedding(ids)[None] * 4.0 + sinusoidal_positional_encoding(5, 16, dtype=torch.float64)
    expected = layer(x, keep[None, None, None, :])[0, 1]
    torch.testing.assert_close(t.output, expected, atol=TOL, rtol=0)
    assert t.step("softmax weights").value[:, 3:].abs().max() == 0  # padding gets no weight
    assert t.tokens == list("abcde")


def test_same_word_same_vector_and_seeded():
    assert torch.equal(word_vector("cat", 8), word_vector("cat", 8))
    assert not torch.equal(word_vector("cat", 8), word_vector("dog", 8))
    assert not torch.equal(word_vector("cat", 8, seed=1), word_vector("cat", 8))
    a, b = trace_sentence("a short sentence", 2), trace_sentence("a short sentence", 2)
    assert torch.equal(a.output, b.output)
    assert not torch.equal(a.output, trace_sentence("a short sentence", 2, seed=1).output)


def test_rendering_lists_every_step():
    t = trace_sentence("the cat sat", 1, norm_first=True)
    text = str(t)
    names = [s.name for s in t.steps]
    assert names[:3] == ["embedding", "positional encoding", "+ positional encoding"]
    assert "LayerNorm 1 (pre-norm)" in names and names[-1] == "second residual (layer output)"
    for name in names:
        assert name in text
    console = Console(width=200, record=True)
    console.print(t)
    rendered = console.export_text()
    assert "E[word]" in rendered  # brackets survive rich markup
    assert "ReLU units are 0" in rendered and "'cat'" in rendered
    assert json.loads(json.dumps(t.to_dict()))["steps"][0]["shape"] == [8]
    assert attention_lab.Trace is type(t)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda L: trace(nn.Linear(8, 8), WORDS, 0),
            TypeError,
            "layer: expected an attention_lab EncoderLayer",
        ),
        (lambda L: trace(L, WORDS, 6), ValueError, "position: expected 0 <= position < 6"),
        (lambda L: trace(L, WORDS, -1), ValueError, "got -1"),
        (lambda L: trace(L, WORDS, True), TypeError, "position: expected an int"),
        (lambda L: trace(L, [], 0), ValueError, "tokens: expected at least one token"),
        (lambda L: trace(L, "the cat", 0), TypeError, "tokens: expected a list of words"),
        (
            lambda L: trace(L, torch.tensor([1, 2]), 0),
            ValueError,
            "embedding: expected an nn.Embedding",
        ),
        (
            lambda L: trace(L, torch.randn(3, 5), 0),
            ValueError,
            "tokens: expected vectors of shape (T, 16)",
        ),
        (
            lambda L: trace(L, torch.tensor([1, 2]), 0, embedding=nn.Embedding(4, 8)),
            ValueError,
            "embedding_dim=16",
        ),
        (
            lambda L: trace(L, WORDS, 0, mask=torch.ones(3, dtype=torch.bool)),
            ValueError,
            "mask: expected a bool tensor of shape (6,)",
        ),
        (
            lambda L: trace(L, torch.randn(3, 16), 0, labels=["a"]),
            ValueError,
            "labels: expected 3 labels",
        ),
        (lambda L: trace_sentence("   ", 0), ValueError, "sentence: expected at least one word"),
        (lambda L: trace_sentence(None, 0), TypeError, "sentence: expected a str"),
    ],
)
def test_bad_input_errors(call, error, message):
    with pytest.raises(error) as info:
        call(_layer())
    assert message in str(info.value)


def test_step_lookup_names_the_choices():
    with pytest.raises(KeyError, match="name: expected one of"):
        trace_sentence("a b", 0).step("no such step")


def test_cli_trace(tmp_path):
    runner = CliRunner()
    out = tmp_path / "trace.json"
    result = runner.invoke(
        app, ["trace", "a short sentence", "--position", "2", "--plain", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "token 2 'sentence'" in result.output and "softmax weights" in result.output
    assert "ReLU units are 0" in result.output and "LayerNorm 2 (layer output)" in result.output
    data = json.loads(out.read_text())
    expected = trace_sentence("a short sentence", 2).output.tolist()
    assert data["steps"][-1]["value"] == pytest.approx(expected)
    table = runner.invoke(
        app,
        ["trace", "a short sentence", "-p", "1", "--pre-norm", "--d-model", "16", "--heads", "4"],
    )
    assert table.exit_code == 0 and "pre-norm" in table.output
    for args, message in (
        (["trace", "", "-p", "0"], "sentence: expected at least one word"),
        (["trace", "one two", "-p", "2"], "position: expected 0 <= position < 2"),
        (["trace", "one two", "--d-model", "7"], "d_model: expected a multiple of num_heads"),
    ):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 2
        assert message in " ".join(bad.output.split())


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nodir/t.json", "'--json': the folder 'nodir' does not exist (create it first)"),
        ("adir", "'--json': expected a file path, got the directory 'adir'"),
    ],
)
def test_cli_trace_bad_json_path_is_refused_before_the_trace(tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    result = CliRunner().invoke(app, ["trace", "the cat sat", "--plain", "--json", path])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split())
    assert "softmax weights" not in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]
