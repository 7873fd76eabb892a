"""`attention-lab trace`: follow one token through an encoder block; `attention-lab paper`: the
paper's base and big models beside our parameter counts (Topic 3.3)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import output_file


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)
    app.command("paper")(paper)


def trace(
    sentence: str = typer.Argument(..., help='Words separated by spaces, e.g. "the cat sat".'),
    position: int = typer.Option(0, "--position", "-p", help="Which word to follow (0 = first)."),
    d_model: int = typer.Option(8, "--d-model", help="Width of the token vectors."),
    heads: int = typer.Option(2, "--heads", help="Attention heads (must divide --d-model)."),
    d_ff: int = typer.Option(32, "--d-ff", help="Hidden width of the feed-forward network."),
    pre_norm: bool = typer.Option(False, "--pre-norm", help="LayerNorm before each sublayer."),
    seed: int = typer.Option(0, "--seed", help="Seeds the layer's weights and the word vectors."),
    plain: bool = typer.Option(False, "--plain", help="Plain text instead of a table."),
    json_path: Path | None = typer.Option(
        None, "--json", callback=output_file, help="Also write every value as JSON."
    ),
) -> None:
    """Print every transformation one token goes through in a (seeded, untrained) encoder block."""
    from attention_lab.tracing import trace_sentence

    console = Console()
    try:
        result = trace_sentence(
            sentence,
            position,
            d_model=d_model,
            num_heads=heads,
            d_ff=d_ff,
            norm_first=pre_norm,
            seed=seed,
        )
    except (ValueError, TypeError) as error:
        fail(error)
    if plain:
        console.out(str(result), highlight=False)
    else:
        console.print(result)
    if json_path is not None:
        json_path.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
        console.print(f"wrote {json_path}", markup=False, highlight=False)


def paper() -> None:
    """Table 3 of the paper (base and big) with our parameter counts beside its 65M and 213M."""
    from attention_lab.paper import paper_table

    rows = paper_table()
    table = Table(title="Vaswani et al. 2017, Table 3 (BLEU: Table 2) vs our parameter count")
    table.add_column("")
    for row in rows:
        table.add_column(row.model.name, justify="right")
    fields = (
        ("N (layers per stack)", lambda r: str(r.model.N)),
        ("d_model", lambda r: str(r.model.d_model)),
        ("d_ff", lambda r: str(r.model.d_ff)),
        ("h (heads)", lambda r: str(r.model.h)),
        ("d_k = d_v", lambda r: str(r.model.d_k)),
        ("P_drop", lambda r: str(r.model.P_drop)),
        ("ε_ls (label smoothing)", lambda r: str(r.model.eps_ls)),
        ("train steps", lambda r: r.model.train_steps),
        ("training", lambda r: r.model.training),
        ("BLEU EN-DE / EN-FR", lambda r: f"{r.model.bleu_en_de} / {r.model.bleu_en_fr}"),
        ("params, paper", lambda r: f"{r.model.params_millions}M"),
        ("params, ours", lambda r: f"{r.ours['total']:,}"),
        ("difference", lambda r: f"{r.difference_percent:+.1f}%"),
    )
    for label, value in fields:
        table.add_row(label, *(value(r) for r in rows))
    console = Console()
    console.print(table)
    console.print(
        "Ours: Transformer(PRESETS['paper-base' | 'paper-big']) counted by count_parameters, with "
        "a 37000-token vocabulary shared by both embeddings and the output layer (section 3.4). "
        "Table 3 rounds to millions and does not say how it counted."
    )
