"""`attention-lab run` and `attention-lab bench`: a bad option ends the command before any work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

import attention_lab.bench
import attention_lab.cli.experiments as run_cli
from attention_lab.cli import app
from attention_lab.experiments.base import ExperimentResult

runner = CliRunner()


def _text(result) -> str:
    """The output on one line, without the frame typer draws around its errors."""
    return " ".join(result.output.replace("│", " ").split())


@dataclasses.dataclass
class _Trained(ExperimentResult):
    steps: int


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """`run` gets a stand-in experiment that records its calls (and saves a model) in tmp_path."""
    seen: list[Path | None] = []

    def experiment(*, quick: bool = False, seed: int = 0, checkpoint: Path | None = None):
        seen.append(checkpoint)
        if checkpoint is not None:
            Path(checkpoint).write_bytes(b"newly trained model")
        return _Trained(steps=3)

    monkeypatch.setattr(run_cli, "get_experiment", lambda name: experiment)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    return seen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "nodir/x.json"], "'--json': the folder 'nodir' does not exist"),
        (["--json", "adir"], "'--json': expected a file path, got the directory 'adir'"),
        (["--plot", "nodir/x.png"], "'--plot': the folder 'nodir' does not exist"),
        (["--plot", "fig.xyz"], "'--plot': expected a file ending in .png, .svg, .pdf, got"),
        (["--checkpoint", "nodir/c.pt"], "'--checkpoint': the folder 'nodir' does not exist"),
        (["--checkpoint", "adir"], "'--checkpoint': expected a file path, got the directory"),
        (["--threads", "0"], "Invalid value for '--threads'"),
        (["--threads", "-1"], "Invalid value for '--threads'"),
    ],
)
def test_run_refuses_a_bad_option_before_the_experiment(calls, tmp_path, args, message):
    result = runner.invoke(app, ["run", "translation", "--quick", *args])
    assert result.exit_code == 2, result.output
    assert message in _text(result)
    assert calls == []  # nothing was computed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]  # nothing was written


def test_run_keeps_an_existing_checkpoint_unless_forced(calls, tmp_path):
    saved = tmp_path / "t.pt"
    saved.write_bytes(b"a model trained for an hour")
    result = runner.invoke(app, ["run", "translation", "--checkpoint", "t.pt"])
    assert result.exit_code == 2
    assert (
        "--checkpoint: 't.pt' exists already; pass --force to replace it with a newly trained "
        "model, or another --checkpoint" in _text(result)
    )
    assert calls == [] and saved.read_bytes() == b"a model trained for an hour"
    result = runner.invoke(app, ["run", "translation", "--checkpoint", "t.pt", "--force"])
    assert result.exit_code == 0, result.output
    assert calls == [Path("t.pt")] and saved.read_bytes() == b"newly trained model"


def test_run_unknown_name_is_shown_as_typed():
    result = runner.invoke(app, ["run", "[/x]"])
    assert result.exit_code == 2
    assert "unknown experiment '[/x]'; expected one of" in _text(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "nodir/x.json"], "'--json': the folder 'nodir' does not exist"),
        (["--json", "adir"], "'--json': expected a file path, got the directory 'adir'"),
        (["--threads", "0"], "Invalid value for '--threads'"),
    ],
)
def test_bench_refuses_a_bad_option_before_timing(monkeypatch, tmp_path, args, message):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the benchmark started despite a bad option")

    monkeypatch.setattr(attention_lab.bench, "check_same_training", must_not_run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    result = runner.invoke(app, ["bench", "--quick", *args])
    assert result.exit_code == 2, result.output
    assert message in _text(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]
