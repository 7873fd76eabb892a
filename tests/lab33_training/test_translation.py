"""The translation experiment, the lesson's API and the `translate` / `train` commands."""

from __future__ import annotations

import dataclasses
import json

import matplotlib
import pytest
import torch
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.experiments import translation
from attention_lab.experiments.translation import (
    QUICK,
    cross_attention,
    exact_match,
    get_translator,
    load_translator,
    setup_for,
    train_translator,
    translate,
)
from attention_lab.tasks.numbers import number_to_words
from attention_lab.training import CheckpointError, TrainConfig, save_checkpoint

matplotlib.use("Agg")
runner = CliRunner()

# small enough to train in a few CPU seconds, big enough to generalise to unseen numbers
SMALL = dataclasses.replace(
    QUICK,
    max_number=999,
    test_size=100,
    valid_size=50,
    model=dataclasses.replace(
        QUICK.model, d_model=32, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=64
    ),
    train=TrainConfig(steps=300, batch_size=32, lr=5e-3, warmup=30, eval_every=50),
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("translator") / "small.pt"
    translator, result = train_translator(SMALL, seed=0, checkpoint=path, progress=False)
    return translator, result, path


def test_learns_to_translate_numbers_it_never_saw(trained):
    translator, result, _ = trained
    test = translator.task.with_split("test")
    train_numbers = set(translator.task.numbers.tolist())
    assert not train_numbers & set(test.numbers.tolist())
    assert result.metrics["valid_exact"] == 1.0  # it stopped because validation was perfect
    assert result.steps < SMALL.train.steps
    assert exact_match(translator, test) >= 0.85
    n = next(n for n in test.numbers.tolist() if n >= 100)
    digits = translate(translator, number_to_words(n))
    assert digits.replace(" ", "").isdigit()


def test_checkpoint_round_trip(trained):
    translator, _, path = trained
    loaded = load_translator(path)
    for a, b in zip(translator.model.state_dict().values(), loaded.model.state_dict().values()):
        assert torch.equal(a, b)
    assert loaded.task.config() == translator.task.config()
    text = number_to_words(int(translator.task.with_split("test").numbers[0]))
    assert translate(loaded, text) == translate(translator, text) == loaded.translate(text)
    assert (
        get_translator(path).steps == loaded.steps
    )  # an existing checkpoint is loaded, not retrained


def test_cross_attention_of_a_translation(trained):
    translator, _, _ = trained
    attn = cross_attention(translator, "three hundred and forty-two")
    L, H = SMALL.model.num_decoder_layers, SMALL.model.num_heads
    assert attn.source == ["three", "hundred", "and", "forty", "two"]
    assert attn.output[-1] == "<eos>"
    assert attn.weights.shape == (L, H, len(attn.output), len(attn.source))
    torch.testing.assert_close(attn.weights.sum(-1), torch.ones(L, H, len(attn.output)))
    assert " ".join(attn.output[:-1]) == translate(translator, "three hundred and forty-two")


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("", ValueError, "expected a number in words or digits.*empty string"),
        ("seven hundred and twoo", ValueError, "unknown word 'twoo'.*did you mean 'two'"),
        ("702", ValueError, "this model translates number words to digits.*got digits '702'"),
        ("five thousand", ValueError, r"expected a number in \[0, 999\].*= 5000"),
        (702, TypeError, "text: expected a str, got int"),
    ],
)
def test_translate_bad_input(trained, text, error, match):
    with pytest.raises(error, match=match):
        translate(trained[0], text)


def test_translate_needs_a_translator():
    with pytest.raises(TypeError, match="translator: expected a Translator .* got Transformer"):
        translate(translation.build_model(SMALL, 0), "one")


def test_load_translator_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_translator(tmp_path / "missing.pt")
    untrained = tmp_path / "untrained.pt"
    model = translation.build_model(SMALL, 0)
    save_checkpoint(untrained, {"step": 0, "model": model.state_dict(), "kind": "translation"})
    with pytest.raises(CheckpointError, match="untrained model"):
        load_translator(untrained)
    other = tmp_path / "other.pt"
    save_checkpoint(other, {"step": 5, "model": {}, "kind": "classifier"})
    with pytest.raises(
        CheckpointError, match="expected a number-translation model .* kind 'classifier'"
    ):
        load_translator(other)


def test_setup_for_presets_and_errors():
    assert setup_for("quick") == QUICK
    paper = setup_for("paper-base", steps=10)
    assert paper.model.d_model == 512 and paper.train.schedule == "noam" and paper.train.steps == 10
    small = setup_for("quick", max_number=99)
    assert (small.max_number, small.test_size, small.valid_size) == (99, 10, 5)
    with pytest.raises(ValueError, match="preset: expected one of quick, full, tiny.*got 'huge'"):
        setup_for("huge")
    with pytest.raises(ValueError, match="direction: expected one of"):
        setup_for("quick", direction="sideways")


def test_run_reports_the_issue_keys_and_plots(tmp_path, monkeypatch):
    monkeypatch.setattr(translation, "QUICK", SMALL)
    result = translation.run(quick=True, seed=0, progress=False, checkpoint=tmp_path / "r.pt")
    data = result.to_dict()
    for key in ("exact_match", "seconds", "steps", "tokens_per_second", "params"):
        assert isinstance(data[key], (int, float)), key
    assert 0.85 <= data["exact_match"] <= 1 and data["test_numbers"] == 100
    assert data["params"] == sum(p.numel() for p in translation.build_model(SMALL, 0).parameters())
    assert 0 < data["peak_memory_mb"] < 4096
    json.dumps(data)
    figure = result.plot()
    figure.savefig(tmp_path / "figure.png")
    attention_axes = figure.axes[1]
    assert attention_axes.get_title().startswith("cross-attention")
    source = [t.get_text() for t in attention_axes.get_xticklabels()]
    assert source == result._example.source and "hundred" in source  # a held-out example
    held_out = {number_to_words(n) for n in translation.NumberTranslation(
        999, test_size=100, valid_size=50, split="test").numbers.tolist()}  # fmt: skip
    assert " ".join(source) in {w.replace("-", " ") for w in held_out}


def test_cli_translate(trained, tmp_path):
    translator, _, path = trained
    n = int(translator.task.with_split("test").numbers[-1])
    done = runner.invoke(
        app, ["translate", str(path), number_to_words(n), "--plot", str(tmp_path / "a.png")]
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == translate(translator, number_to_words(n))
    assert (tmp_path / "a.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seven hundred and twoo"], "unknown word 'twoo'"),
        ([""], "empty string"),
        (["702"], "translates number words to digits"),
    ],
)
def test_cli_translate_bad_text(trained, args, message):
    done = runner.invoke(app, ["translate", str(trained[2]), *args])
    assert done.exit_code == 2
    assert message in done.output
    assert "Traceback" not in done.output


def test_cli_translate_bad_checkpoints(tmp_path):
    done = runner.invoke(app, ["translate", str(tmp_path / "nope.pt"), "one"])
    assert done.exit_code == 2 and "does not exist" in done.output
    save_checkpoint(tmp_path / "fresh.pt", {"step": 0, "model": {}, "kind": "translation"})
    done = runner.invoke(app, ["translate", str(tmp_path / "fresh.pt"), "one"])
    assert done.exit_code == 2 and "untrained model" in done.output


def test_cli_train_then_resume(tmp_path):
    path = tmp_path / "t.pt"
    args = [
        "train",
        "--max-number",
        "99",
        "--batch-size",
        "8",
        "--checkpoint",
        str(path),
        "--no-progress",
    ]
    done = runner.invoke(app, [*args, "--steps", "2"])
    assert done.exit_code == 0, done.output
    assert "numbers 0..99" in done.output and "test exact match" in done.output
    done = runner.invoke(
        app,
        [
            "train",
            "--resume",
            str(path),
            "--steps",
            "4",
            "--checkpoint",
            str(path),
            "--no-progress",
        ],
    )
    assert done.exit_code == 0, done.output
    assert load_translator(path).steps == 4
    done = runner.invoke(app, ["train", "--preset", "huge"])
    assert done.exit_code == 2 and "preset: expected one of" in done.output
    done = runner.invoke(app, ["train", "--resume", str(tmp_path / "missing.pt")])
    assert done.exit_code == 2 and "does not exist" in done.output


def test_direction_follows_the_checkpoint():
    from attention_lab.experiments.translation import Translator
    from attention_lab.tasks.numbers import NumberTranslation

    model = translation.build_model(SMALL, 0)
    to_words = Translator(
        model, NumberTranslation(999, "digits-to-words", test_size=10, valid_size=5)
    )
    with pytest.raises(ValueError, match="translates digits to number words; expected digits"):
        translate(to_words, "seven")
    with pytest.raises(ValueError, match=r"expected a number in \[0, 999\].*'12345' = 12345"):
        translate(to_words, "12345")
    both = Translator(model, NumberTranslation(999, "both", test_size=10, valid_size=5))
    for text in ("702", "seven hundred and two"):  # either side is accepted
        assert isinstance(translate(both, text), str)
