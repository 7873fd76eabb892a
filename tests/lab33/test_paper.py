"""The paper's base and big models beside our parameter counts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.paper import (
    PAPER_MODELS,
    count_preset_parameters,
    paper_table,
    paper_table_markdown,
)


def _by_hand(N: int, d: int, d_ff: int, vocab: int) -> int:
    """Section 3 counted by hand: shared embedding/output matrix plus the output bias."""
    attention = 4 * (d * d + d)  # W_q, W_k, W_v, W_o with biases
    ffn = d * d_ff + d_ff + d_ff * d + d
    norm = 2 * d
    encoder = N * (attention + ffn + 2 * norm)
    decoder = N * (2 * attention + ffn + 3 * norm)
    return vocab * d + encoder + decoder + vocab


def test_counts_match_a_count_by_hand_and_are_near_table_3():
    rows = paper_table()
    assert [r.model.name for r in rows] == ["base", "big"]
    for row, (d, d_ff) in zip(rows, [(512, 2048), (1024, 4096)]):
        assert row.ours["total"] == _by_hand(6, d, d_ff, 37000)
        assert abs(row.difference_percent) < 5
    assert rows[0].model.params_millions == 65 and rows[1].model.params_millions == 213
    table = paper_table_markdown(rows)
    assert "| base | 6 | 512 | 2048 | 8 | 64 |" in table and "| 213M | 214.3M |" in table


def test_models_match_the_presets():
    from attention_lab import PRESETS

    for m in PAPER_MODELS:
        c = PRESETS[m.preset]
        assert (c.num_encoder_layers, c.d_model, c.d_ff, c.num_heads, c.d_k, c.dropout) == (
            m.N,
            m.d_model,
            m.d_ff,
            m.h,
            m.d_k,
            m.P_drop,
        )


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset: expected one of .*, got 'huge'"):
        count_preset_parameters("huge")


def test_cli_paper():
    result = CliRunner().invoke(app, ["paper"])
    assert result.exit_code == 0, result.output
    assert (
        "63,119,496" in result.output and "214,282,376" in result.output and "65M" in result.output
    )
