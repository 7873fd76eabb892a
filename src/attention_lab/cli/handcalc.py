"""`attention-lab handcalc`: a self-attention problem to solve with a pencil, and its solution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import output_file


def register(app: typer.Typer) -> None:
    app.command("handcalc")(handcalc)


def _table(title: str, M: np.ndarray, rows: list[str], cols: list[str], decimals: int) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("")
    for c in cols:
        table.add_column(c, justify="right")
    whole = bool(np.all(M == np.round(M)))  # a table of whole numbers prints without decimals
    for r, row in zip(rows, M):
        cells = [str(int(x)) if whole else f"{x:.{decimals}f}" for x in row]
        table.add_row(r, *cells)
    return table


def handcalc(
    seed: int = typer.Option(
        0, "--seed", help="Which problem: the same seed gives the same numbers."
    ),
    tokens: int = typer.Option(3, "--tokens", help="Sequence length T (2 to 5)."),
    d_model: int = typer.Option(4, "--d-model", help="Width of each token vector (2 to 5)."),
    d_k: int | None = typer.Option(None, "--d-k", help="Width of Q, K, V (default: d_model)."),
    decimals: int = typer.Option(2, "--decimals", help="Decimals for softmax weights and output."),
    json_path: Path | None = typer.Option(
        None, "--json", callback=output_file, help="Write problem and solution here."
    ),
    worksheet: Path | None = typer.Option(
        None,
        "--worksheet",
        callback=output_file,
        help="Write a printable HTML worksheet (answer key on its own page).",
    ),
    solution: bool = typer.Option(
        True, "--solution/--no-solution", help="Print the worked solution after the problem."
    ),
) -> None:
    """Generate a small attention problem to work by hand, with its step-by-step solution."""
    from attention_lab.handcalc import generate_handcalc, worksheet_html

    console = Console()
    try:
        p = generate_handcalc(seed, tokens=tokens, d_model=d_model, d_k=d_k, decimals=decimals)
    except (TypeError, ValueError) as error:
        fail(error)
    tok = list(p.tokens)
    model = [f"x{j + 1}" for j in range(p.d_model)]
    dk = [f"d{j + 1}" for j in range(p.d_k)]
    console.print(
        f"[bold]Self-attention by hand[/bold] (seed {p.seed}): tokens {' '.join(tok)}, "
        f"d_model = {p.d_model}, d_k = {p.d_k}, sqrt(d_k) = {p.sqrt_d_k:.4g}.\n"
        f"Compute softmax(Q K^T / sqrt(d_k)) V; round weights and output to {p.decimals} decimals."
    )
    for name, M, rows, cols in (
        ("X", p.X, tok, model),
        ("W_q", p.W_q, model, dk),
        ("W_k", p.W_k, model, dk),
        ("W_v", p.W_v, model, dk),
    ):
        console.print(_table(name, M, rows, cols, 2))
    if solution:
        console.rule("worked solution")
        steps = (
            ("1. Q = X W_q", p.Q, dk, 2),
            ("   K = X W_k", p.K, dk, 2),
            ("   V = X W_v", p.V, dk, 2),
            ("2. scores = Q K^T (row = query, column = key)", p.scores, tok, 2),
            (f"3. scaled = scores / {p.sqrt_d_k:.4g}", p.scaled_scores, tok, 2),
            ("4. exp(scaled - row max)", p.exp_scores, tok, 3),
            ("   weights = exp / row total", p.weights, tok, p.decimals),
            ("5. output = weights V", p.output, dk, p.decimals),
        )
        for title, M, cols, dec in steps:
            console.print(_table(title, M, tok, cols, dec))
    if json_path is not None:
        json_path.write_text(json.dumps(p.to_dict(), indent=2) + "\n")
        console.print(f"wrote {json_path}", markup=False, highlight=False)
    if worksheet is not None:
        worksheet.write_text(worksheet_html(p))
        console.print(
            f"wrote {worksheet} (print it; the answer key starts on page 2)",
            markup=False,
            highlight=False,
        )
