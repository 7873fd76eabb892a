"""`attention-lab lab` without a browser: the notebooks it writes and the command it runs."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.course import lab


def test_prepare_writes_missing_notebooks_and_keeps_worked_ones(tmp_path):
    first = lab.prepare(tmp_path)
    assert (tmp_path / "04_from_scratch.ipynb") in first.written
    assert not (tmp_path / "solutions").exists()  # learners get no solutions
    worked = tmp_path / "04_from_scratch.ipynb"
    worked.write_text(worked.read_text().replace("your code here", "my attempt"))
    (tmp_path / "02_self_attention.ipynb").unlink()
    again = lab.prepare(tmp_path)
    assert again.written == [tmp_path / "02_self_attention.ipynb"]
    assert again.kept == [worked] and "my attempt" in worked.read_text()


def test_the_command_serves_the_folder_on_localhost_only(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    command = lab.lab_command(tmp_path, port=8890, open_browser=False, extra=("--allow-root",))
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=8890" in command
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command
    assert "--ServerApp.open_browser=False" in command and command[-1] == "--allow-root"
    with pytest.raises(ValueError, match="port: expected a port number from 0 to 65535, got 70000"):
        lab.lab_command(tmp_path, port=70000)


def test_without_jupyterlab_it_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    result = CliRunner().invoke(app, ["lab", "--dir", str(tmp_path / "nb"), "--no-browser"])
    assert result.exit_code == 2
    assert "JupyterLab is not installed" in result.output
    assert "pip install 'attention-lab[lab]'" in result.output
