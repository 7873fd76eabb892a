"""The installation check and the parameter table, as a user runs them."""

from types import SimpleNamespace

from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.verify import run_checks

runner = CliRunner()


def test_verify_passes_and_prints_its_table():
    result = runner.invoke(app, ["verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for component in (
        "scaled_dot_product_attention",
        "MultiHeadAttention",
        "EncoderLayer",
        "DecoderLayer",
        "Encoder",
        "Decoder",
        "Transformer",
    ):
        assert component in result.output
    assert "FAIL" not in result.output
    assert "checks passed" in result.output


def test_verify_detects_a_broken_component(monkeypatch):
    """verify must be able to fail: break the scale in Eq. 1 and watch it report."""
    import attention_lab.nn.attention as attention

    # divide by d_k instead of sqrt(d_k), in our module only (torch keeps the real math.sqrt)
    monkeypatch.setattr(attention, "math", SimpleNamespace(sqrt=lambda x: x))
    checks = run_checks()
    failed = {c.component for c in checks if not c.passed}
    assert "scaled_dot_product_attention" in failed and "MultiHeadAttention" in failed
    result = runner.invoke(app, ["verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_params_prints_the_paper_comparison():
    result = runner.invoke(app, ["params", "paper-base"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "63,119,496" in result.output and "65M" in result.output
    result = runner.invoke(app, ["params", "paper-big"], env={"COLUMNS": "200"})
    assert "214,282,376" in result.output and "213M" in result.output


def test_params_unknown_preset():
    result = runner.invoke(app, ["params", "huge"])
    assert result.exit_code == 2
    assert "unknown preset 'huge'" in result.output
