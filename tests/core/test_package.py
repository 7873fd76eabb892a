"""The package's public names load on first use: the model code needs torch and nothing else."""

import subprocess
import sys

import pytest

import attention_lab


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_the_model_loads_without_the_course_and_assessment_tools():
    loaded = _modules_after("from attention_lab import Transformer, MultiHeadAttention")
    assert "attention_lab.nn.transformer" in loaded
    for heavy in ("attention_lab.assessment", "attention_lab.course", "yaml", "nbformat"):
        assert heavy not in loaded


@pytest.mark.parametrize("name", attention_lab.__all__)
def test_every_public_name_resolves_from_its_module(name):
    value = getattr(attention_lab, name)
    assert getattr(value, "__name__", name) == name or not callable(value)
    assert name in dir(attention_lab)


def test_an_unknown_name_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Transfomer'"):
        attention_lab.Transfomer  # noqa: B018
