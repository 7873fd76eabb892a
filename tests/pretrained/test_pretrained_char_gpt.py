"""The character-level task on the shipped fables and `attention-lab run gpt`."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from attention_lab import CharCorpus, load_char_gpt
from attention_lab.checkpoints import CheckpointError, save_checkpoint
from attention_lab.cli import app
from attention_lab.experiments import char_gpt
from attention_lab.tasks.characters import CharTokenizer


@pytest.fixture(scope="module")
def corpus():
    return CharCorpus.shipped()


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A 30-step run (the wiring, not the quality), with a checkpoint."""
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("gpt") / "gpt.pt"
    return char_gpt.run(quick=True, steps=30, progress=False, checkpoint=path), path


def test_the_docstrings_worked_example(corpus):
    assert corpus.vocab_size == 57 and corpus.tokenizer.vocabulary[:2] == ("\n", " ")
    assert corpus.tokenizer.encode("The fox").tolist() == [26, 39, 36, 1, 37, 46, 55]
    assert corpus.tokenizer.decode([26, 39, 36, 1, 37, 46, 55]) == "The fox"


def test_the_corpus_is_small_ascii_and_split_once(corpus):
    assert 5_000 < len(corpus.text.encode()) < 50_000 and corpus.text.isascii()
    ids = torch.cat([corpus.train_ids, corpus.held_out_ids])
    assert corpus.tokenizer.decode(ids) == corpus.text
    assert len(corpus.held_out_ids) == len(corpus.text) - round(0.9 * len(corpus.text))


def test_held_out_chunks_predict_every_character_once(corpus):
    chunks = corpus.held_out_chunks(64)  # (N, 65)
    targets = chunks[:, 1:].flatten()
    n = targets.numel()
    assert n == 64 * ((len(corpus.held_out_ids) - 1) // 64)  # all but a tail shorter than 64
    assert torch.equal(targets, corpus.held_out_ids[1 : n + 1])
    with pytest.raises(ValueError, match="held-out text"):
        corpus.held_out_chunks(len(corpus.held_out_ids))


def test_the_unigram_baseline_against_a_direct_count(corpus):
    counts = Counter(corpus.text[: len(corpus.train_ids)])
    total = len(corpus.train_ids) + corpus.vocab_size
    targets = corpus.tokenizer.decode(corpus.held_out_chunks(64)[:, 1:].flatten())
    expected = -sum(math.log((counts[ch] + 1) / total) for ch in targets) / len(targets)
    assert abs(corpus.unigram_loss(64) - expected) < 1e-9  # float64, ~1000 terms


def test_the_tokenizer_names_unknown_characters(corpus):
    with pytest.raises(ValueError, match=r"unknown '#@'"):
        corpus.tokenizer.encode("a@b#")
    with pytest.raises(TypeError, match="expected a str"):
        corpus.tokenizer.encode(["a"])
    with pytest.raises(ValueError, match=r"ints in \[0, 57\)"):
        corpus.tokenizer.decode([3, 57])
    with pytest.raises(ValueError, match="each character once"):
        CharTokenizer("aa")
    with pytest.raises(ValueError, match="at least 100 characters"):
        CharCorpus("too short")


def test_a_run_reports_what_it_measured(short_run, corpus):
    result, _ = short_run
    data = json.loads(json.dumps(result.to_dict()))
    assert data["steps"] == 30 and data["max_seconds"] is None
    assert (
        data["held_out_steps"] == [25, 30] and data["held_out_curve"][-1] == data["held_out_loss"]
    )
    assert 0 < data["held_out_loss"] < math.log(57) + 0.1  # 30 steps: below uniform guessing
    assert data["unigram_loss"] == pytest.approx(corpus.unigram_loss(64))
    assert data["held_out_bits_per_character"] == pytest.approx(data["held_out_loss"] / math.log(2))
    assert len(data["samples"]) == 4
    for sample in data["samples"]:
        assert sample["text"].startswith(sample["prompt"]) and len(sample["text"]) == 64
    heatmap = data["heatmap"]
    weights = torch.tensor(heatmap["weights"])
    assert weights.shape == (len(heatmap["text"]),) * 2 and heatmap["above_diagonal_max"] == 0.0
    assert torch.all(weights.triu(1) == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(len(heatmap["text"])))


def test_the_figure_says_in_words_what_it_shows(short_run, tmp_path):
    result, _ = short_run
    fig = result.plot()
    alt = fig.alt_text
    assert f"{result.held_out_loss:.2f}" in alt and f"{result.unigram_loss:.2f}" in alt
    assert f"layer {result.heatmap.layer}, head {result.heatmap.head}" in alt
    assert f"{result.heatmap.previous_share:.0%}" in alt
    assert f'alt="{alt[:40]}' in fig._repr_html_()
    path = tmp_path / "gpt.png"
    fig.savefig(path)
    assert Image.open(path).info["Description"] == alt


def test_the_checkpoint_loads_and_generates_the_same_text(short_run):
    result, path = short_run
    gpt = load_char_gpt(path)
    assert gpt.steps == 30
    first = result.samples[0]
    again = gpt.complete(first["prompt"], temperature=first["temperature"],
                         top_k=first["top_k"], seed=first["seed"])  # fmt: skip
    assert again == first["text"]


def test_a_checkpoint_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    save_checkpoint(path, {"step": 5, "kind": "translation", "model": {}})
    with pytest.raises(CheckpointError, match="character-level GPT"):
        load_char_gpt(path)


def test_attention_lab_run_gpt_writes_json(monkeypatch, tmp_path):
    short = dataclasses.replace(char_gpt.QUICK.train, steps=20)
    monkeypatch.setattr(char_gpt, "QUICK", dataclasses.replace(char_gpt.QUICK, train=short))
    out = tmp_path / "gpt.json"
    result = CliRunner().invoke(app, ["run", "gpt", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["steps"] == 20 and data["seconds"] > 0 and data["samples"]
    assert {"held_out_loss", "unigram_loss", "heatmap"} <= set(data)
