"""The explorer's GPT (next-token probabilities) and query/key view, through its HTTP API."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import threading

import pytest
import torch
from test_pretrained_explorer_server import (  # noqa: F401
    assert_shown_weights,
    call,
    translation_checkpoint,
)

from attention_lab.experiments import char_gpt
from attention_lab.explorer import make_server
from attention_lab.numerics import assert_float32_as_accurate, gamma, unit_roundoff


def query_key_bound(q, k, scaled):
    """How far a float32 model's attention weights of one query may be from the softmax that the
    query/key view recomputes in float64 from the same float32 ``q`` ``(d_k,)`` and ``k``
    ``(T_k, d_k)``. Each score q.k_j / sqrt(d_k) in float32 is within gamma_{d_k + 2} *
    sum_i |q_i k_ji| / sqrt(d_k) (the dot product and the scaling) plus u * |score| (subtracting
    the row's maximum); softmax moves a weight w_j by at most w_j * 2 max_j |score error| <= twice
    that, and float32 softmax itself adds gamma_{T_k + 3} (the sum of T_k terms, exp, division)."""
    d_k, T_k = q.shape[0], k.shape[0]
    u = unit_roundoff(torch.float32)
    score_error = gamma(d_k + 2, torch.float32) * (q.abs() * k.abs()).sum(-1).max().item()
    score_error = score_error / math.sqrt(d_k) + u * max(abs(s) for s in scaled if s is not None)
    return 2 * score_error + gamma(T_k + 3, torch.float32)


@pytest.fixture(scope="module")
def gpt_checkpoint(tmp_path_factory):
    """A GPT trained for 30 steps, saved the way `attention-lab run gpt --checkpoint` saves it."""
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("gpt") / "gpt.pt"
    setup = dataclasses.replace(char_gpt.QUICK, max_seconds=None)
    setup = dataclasses.replace(setup, train=dataclasses.replace(setup.train, steps=30))
    char_gpt.train_char_gpt(setup, checkpoint=path, progress=False)
    return path


@pytest.fixture(scope="module")
def server(gpt_checkpoint, translation_checkpoint):  # noqa: F811
    server = make_server(checkpoint=translation_checkpoint, port=0, gpt=gpt_checkpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def gpt_and_float64(path):
    """The GPT saved at ``path`` and a float64 copy of its model (the reference, rule 2)."""
    gpt = char_gpt.load_char_gpt(path)
    return gpt, copy.deepcopy(gpt.model).double()


def post(server, path, body):
    response, data = call(server, "POST", path, body)
    return response.status, json.loads(data)


def test_the_gpt_is_the_third_model(server):
    _, data = call(server, "GET", "/api/models")
    models = json.loads(data)["models"]
    assert [m["id"] for m in models] == ["minilm", "translation", "gpt"]
    assert [m["predicts_next_token"] for m in models] == [False, False, True]


def test_gpt_attention_is_causal_and_matches_the_model(server, gpt_checkpoint):
    text = "The fox ran to the river."
    status, data = post(
        server, "/api/attention", {"model": "gpt", "text": text, "layer": 1, "head": 3}
    )
    assert status == 200, data
    assert data["query_tokens"] == [{" ": "␣"}.get(c, c) for c in text]
    gpt, model64 = gpt_and_float64(gpt_checkpoint)
    with torch.no_grad():
        gpt.model(gpt.tokenizer.encode(text)[None])
        model64(gpt.tokenizer.encode(text)[None])
    expected = gpt.model.attention_weights()[1, 0, 3]  # (T, T)
    exact = model64.attention_weights()[1, 0, 3]  # (T, T) float64
    assert_shown_weights(data["matrix"], expected, exact)
    assert all(w == 0 for i, row in enumerate(data["matrix"]) for w in row[i + 1 :])


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.5, None), (2.0, 5), (0.7, 1)])
def test_next_token_probabilities_follow_temperature_and_top_k(
    server, gpt_checkpoint, temperature, top_k
):
    text = "The lion"
    body = {"model": "gpt", "text": text, "temperature": temperature, "top_k": top_k, "count": 57}
    status, data = post(server, "/api/next-token", body)
    assert status == 200, data
    gpt, model64 = gpt_and_float64(gpt_checkpoint)
    with torch.no_grad():
        logits = gpt.model(gpt.tokenizer.encode(text)[None])[0, -1]
        logits64 = model64(gpt.tokenizer.encode(text)[None])[0, -1]

    def formula(logits):
        """softmax(logits / temperature) over the top_k largest, written out in logits' dtype:
        the reference, independent of next_token_probabilities (the code under test)."""
        scaled = logits / temperature  # (V,)
        if top_k is not None:
            scaled = scaled.masked_fill(scaled < scaled.topk(top_k).values[-1], -math.inf)
        return torch.softmax(scaled, dim=-1)

    got = torch.zeros(57, dtype=torch.float64)
    for entry in data["top"]:
        got[entry["id"]] = entry["probability"]
    # the server's float32 run as accurate as the formula's float32 run, against float64
    # (docs/numerics.md rule 2)
    assert_float32_as_accurate(got.float(), formula(logits), formula(logits64), "probabilities")
    # 57 float32 probabilities, each within gamma_{57 + 3} of its share (softmax's sum, exp and
    # division), added in float64
    total = sum(e["probability"] for e in data["top"])
    assert data["kept"] == (top_k or 57) and total == pytest.approx(1, abs=gamma(60, torch.float32))
    probabilities = [e["probability"] for e in data["top"]]
    assert probabilities == sorted(probabilities, reverse=True)
    if top_k == 1:  # greedy: all the probability on the model's most likely character
        assert data["top"][0]["id"] == int(logits.argmax()) and data["top"][0]["probability"] == 1.0


def test_next_token_bad_requests(server):
    for body, message in [
        ({"model": "gpt", "text": "The", "temperature": 0}, "temperature"),
        ({"model": "gpt", "text": "The", "temperature": "hot"}, "temperature"),
        ({"model": "gpt", "text": "The", "top_k": 0}, "top_k"),
        ({"model": "gpt", "text": "The", "top_k": 58}, "top_k"),
        ({"model": "gpt", "text": "Jazz"}, "unknown 'Jz'"),
        ({"model": "minilm", "text": "The"}, "expected a language model"),
    ]:
        status, data = post(server, "/api/next-token", body)
        assert status == 400 and message in data["error"], (body, data)


@pytest.mark.parametrize(
    "model,stack,text",
    [
        ("minilm", "self", "The animal didn't cross the street because it was too tired."),
        ("gpt", "self", 'The fox said, "I am tired."'),
        ("translation", "encoder", "forty-two"),
        ("translation", "decoder", "forty-two"),
        ("translation", "cross", "forty-two"),
    ],
)
def test_the_query_key_view_rebuilds_the_models_weights(server, model, stack, text):
    status, attention = post(
        server, "/api/attention", {"model": model, "text": text, "stack": stack}
    )
    assert status == 200, attention
    T_q = len(attention["query_tokens"])
    info = next(s for s in attention["stacks"] if s["id"] == stack)
    for layer, head, query in [(0, 0, 0), (info["num_layers"] - 1, info["num_heads"] - 1, T_q - 1)]:
        body = {
            "model": model,
            "text": text,
            "stack": stack,
            "layer": layer,
            "head": head,
            "query": query,
        }
        status, v = post(server, "/api/query-key", body)
        assert status == 200, v
        q, k = torch.tensor(v["q"], dtype=torch.float64), torch.tensor(v["k"], dtype=torch.float64)
        assert q.shape == (v["d_k"],) and k.shape == (len(v["key_tokens"]), v["d_k"])
        torch.testing.assert_close(torch.tensor(v["products"], dtype=torch.float64), q * k)
        torch.testing.assert_close(torch.tensor(v["dots"], dtype=torch.float64), k @ q)
        allowed = torch.tensor(v["allowed"])
        for j, scaled in enumerate(v["scaled"]):
            if allowed[j]:
                assert scaled == pytest.approx(v["dots"][j] / math.sqrt(v["d_k"]))
            else:
                assert scaled is None and v["weights"][j] == 0.0
        causal = model == "gpt" or stack == "decoder"
        assert allowed.tolist() == [not causal or j <= query for j in range(len(allowed))]
        # softmax of the scaled scores is the row of weights the model itself computed
        torch.testing.assert_close(
            torch.tensor(v["weights"], dtype=torch.float64),
            torch.tensor(v["model_weights"], dtype=torch.float64),
            atol=query_key_bound(q, k, v["scaled"]), rtol=0,
        )  # fmt: skip
        assert v["query_token"] == attention["query_tokens"][query]


def test_query_key_bad_requests(server):
    status, data = post(server, "/api/query-key", {"model": "gpt", "text": "The fox", "query": 7})
    assert status == 400 and "query: expected an integer in 0..6" in data["error"]
    status, data = post(server, "/api/query-key", {"model": "gpt", "text": "The fox", "query": "x"})
    assert status == 400 and "query" in data["error"]


def test_a_long_text_is_cut_to_the_context_with_a_note(server):
    text = "the river " * 10  # 100 characters, the context holds 64
    status, data = post(server, "/api/attention", {"model": "gpt", "text": text})
    assert status == 200 and len(data["query_tokens"]) == 64 and data["truncated"]
    assert "reads the last 64" in " ".join(data["notes"])


def test_a_missing_gpt_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="attention-lab run gpt --checkpoint"):
        make_server(port=0, gpt=tmp_path / "none.pt")
