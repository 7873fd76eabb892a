"""The number translator (the lesson's API), its experiment and the `translate` / `train` commands."""

from __future__ import annotations

import dataclasses
import json

import matplotlib
import pytest
import torch
from typer.testing import CliRunner

from attention_lab.checkpoints import CheckpointError, save_checkpoint
from attention_lab.cli import app
from attention_lab.experiments import translation
from attention_lab.tasks.numbers import NumberTranslation, number_to_words
from attention_lab.training import TrainConfig
from attention_lab.translator import (
    QUICK,
    Translator,
    build_model,
    cross_attention,
    exact_match,
    get_translator,
    load_translator,
    resume_setup,
    setup_for,
    train_translator,
    translate,
)
from attention_lab.translator import (
    _source_ids as source_ids,
)

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


def test_resume_setup_rebuilds_the_run_of_a_checkpoint(tmp_path, trained):
    _, _, path = trained
    task = SMALL.train
    setup, seed = resume_setup(path, steps=task.steps + 100)
    assert seed == 0  # the seed that fixed the split, so the resumed run sees the same data
    assert (setup.max_number, setup.direction, setup.model) == (999, SMALL.direction, SMALL.model)
    assert setup.train == dataclasses.replace(task, steps=task.steps + 100)
    with pytest.raises(ValueError, match="the task of a checkpoint cannot change"):
        resume_setup(path, max_number=99)
    other = tmp_path / "other.pt"
    save_checkpoint(other, {"step": 1, "kind": "classifier"})
    with pytest.raises(CheckpointError, match="expected a translation checkpoint"):
        resume_setup(other)


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
        translate(build_model(SMALL, 0), "one")


def test_load_translator_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_translator(tmp_path / "missing.pt")
    untrained = tmp_path / "untrained.pt"
    model = build_model(SMALL, 0)
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
    assert data["params"] == sum(p.numel() for p in build_model(SMALL, 0).parameters())
    assert 0 < data["peak_memory_mb"] < 4096
    json.dumps(data)
    figure = result.plot()
    figure.savefig(tmp_path / "figure.png")
    attention_axes = figure.axes[1]
    assert attention_axes.get_title().startswith("cross-attention")
    source = [t.get_text() for t in attention_axes.get_xticklabels()]
    assert source == result._example.source and "hundred" in source  # a held-out example
    held_out = {number_to_words(n) for n in NumberTranslation(
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
    trained = path.read_bytes()
    done = runner.invoke(app, [*args, "--steps", "3"])  # the same command again
    assert done.exit_code == 2
    assert (
        f"--checkpoint: '{path}' exists already; pass --force to replace it, --resume {path} to "
        "continue it, or another --checkpoint" in " ".join(done.output.split())
    )
    assert "training" not in done.output and path.read_bytes() == trained
    done = runner.invoke(app, [*args, "--steps", "2", "--seed", "1", "--force"])
    assert done.exit_code == 0, done.output
    assert path.read_bytes() != trained and load_translator(path).steps == 2
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

    model = build_model(SMALL, 0)
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


@pytest.fixture
def no_training(monkeypatch, tmp_path):
    """Training fails the test: a bad option must end `train` before the first step."""

    def must_not_train(*args, **kwargs):
        raise AssertionError("training started despite a bad option")

    monkeypatch.setattr("attention_lab.translator.train_translator", must_not_train)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()


def _text(result) -> str:
    """The output on one line, without the frame typer draws around its errors."""
    return " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--checkpoint", "adir"],
            "'--checkpoint': expected a file path, got the directory 'adir'",
        ),
        (["--checkpoint", ""], "'--checkpoint': expected a file name"),
        (["--checkpoint", "nodir/t.pt"], "'--checkpoint': the folder 'nodir' does not exist"),
        (["--threads", "-1"], "Invalid value for '--threads'"),
    ],
)
def test_cli_train_bad_option_is_refused_before_training(no_training, tmp_path, args, message):
    done = runner.invoke(app, ["train", "--steps", "5", "--no-progress", *args])
    assert done.exit_code == 2, done.output
    assert message in _text(done)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]  # no adir.tmp left behind


def test_cli_train_resume_may_name_its_own_checkpoint_another_way(no_training, tmp_path):
    """`--resume /abs/t.pt --checkpoint t.pt` continues the file: no refusal, on to loading it."""
    resume = tmp_path / "t.pt"
    resume.write_bytes(b"not a checkpoint")
    done = runner.invoke(app, ["train", "--resume", str(resume), "--checkpoint", "t.pt"])
    assert done.exit_code == 2  # the file is refused as a checkpoint, not as an existing file
    assert "exists already" not in done.output and f"checkpoint: '{resume}'" in done.output
    assert resume.read_bytes() == b"not a checkpoint"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nodir/p.png", "'--plot': the folder 'nodir' does not exist (create it first)"),
        ("fig.xyz", "'--plot': expected a file ending in .png, .svg, .pdf, got 'fig.xyz'"),
        ("adir", "'--plot': expected a file path, got the directory 'adir'"),
    ],
)
def test_cli_translate_bad_plot_path(trained, tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    done = runner.invoke(app, ["translate", str(trained[2]), "seven", "--plot", path])
    assert done.exit_code == 2, done.output
    assert message in _text(done)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]


def test_cli_translate_shows_checkpoint_errors_as_they_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["translate", "[/x].pt", "seven"])  # brackets are not markup
    assert done.exit_code == 2 and "'[/x].pt' does not exist" in _text(done)
    (tmp_path / "text.pt").write_text("hello")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # a torch file, not a checkpoint
    for name in ("text.pt", "module.pt"):
        done = runner.invoke(app, ["translate", name, "seven"])
        assert done.exit_code == 2, done.output
        assert done.output.startswith(f"error: checkpoint: '{name}'")
        assert "\x1b" not in done.output  # no raw terminal codes from torch's message


def _untrained(max_number: int = 9999, direction: str = "words-to-digits"):

    task = NumberTranslation(max_number, direction, test_size=10, valid_size=5)
    return Translator(build_model(QUICK, 0), task)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("and", "'and' alone is not a number"),
        ("hundred hundred", "'hundred' must follow one of one..nine, e.g. 'three hundred'"),
        ("seven hundred and", "ends with 'and'.*did you mean 'seven hundred'\\?"),
        ("seven hundred two", "did you mean 'seven hundred and two'\\?"),
        ("seven seven", "'seven' cannot be followed by 'seven'"),
        ("7 hundred", "mixes digits and words"),
        ("zero and five", "'zero' is a number on its own"),
    ],
)
def test_malformed_number_words_are_refused_before_the_model_runs(text, message, monkeypatch):
    def must_not_decode(*args, **kwargs):
        raise AssertionError("the model was asked to translate a malformed number")

    monkeypatch.setattr("attention_lab.translator._decode", must_not_decode)
    translator = _untrained()
    with pytest.raises(
        ValueError, match=f"text: expected a well-formed English number, got {text!r}: .*{message}"
    ):
        translate(translator, text)
    with pytest.raises(ValueError, match=message):
        cross_attention(translator, text)


def test_every_number_the_task_writes_is_accepted():
    from attention_lab.tasks.numbers import number_to_digits

    to_digits, to_words = _untrained(), _untrained(direction="digits-to-words")
    for n in range(10_000):
        words = number_to_words(n)
        assert source_ids(to_digits, words).tolist() == to_digits.tokenizer.encode(words)
        for digits in (str(n), number_to_digits(n)):
            assert source_ids(to_words, digits).tolist() == to_words.tokenizer.encode(digits)
    assert source_ids(to_words, "1,005").tolist() == to_words.tokenizer.encode("1005")


def test_digits_with_leading_zeros_are_refused():
    with pytest.raises(
        ValueError, match="text: expected digits without leading zeros, got '007'; did you mean '7'"
    ):
        translate(_untrained(direction="digits-to-words"), "007")


def test_entry_points_name_a_missing_translator_or_path(tmp_path):
    with pytest.raises(TypeError) as error:
        load_translator(None)
    assert str(error.value) == "checkpoint: expected a path to a checkpoint file, got None"
    for call in (
        lambda: translate(None, "seven"),
        lambda: cross_attention(None, "seven"),
        lambda: exact_match(None, _untrained().task),
    ):
        with pytest.raises(
            TypeError,
            match=r"translator: expected a Translator \(from get_translator or load_translator\), got NoneType",
        ):
            call()
    with pytest.raises(TypeError, match="dataset: expected a NumberTranslation .*got list"):
        exact_match(_untrained(), [1, 2])
    with pytest.raises(
        TypeError, match=r"checkpoint: expected a path to a checkpoint file \(or None\), got int 5"
    ):
        get_translator(5)
    with pytest.raises(TypeError, match="setup: expected a Setup .*got str"):
        train_translator("quick")
    with pytest.raises(TypeError, match="resume: expected a path to a checkpoint file, got int 3"):
        train_translator(SMALL, resume=3)
    with pytest.raises(
        IsADirectoryError, match="checkpoint: expected a file to write, got the directory"
    ):
        train_translator(SMALL, checkpoint=tmp_path, progress=False)  # refused before training
    assert list(tmp_path.iterdir()) == []
