"""`attention-lab run NAME`: run one experiment, print its numbers, save JSON and a figure."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import figure_file, output_file
from attention_lab.experiments import EXPERIMENTS, get_experiment


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("experiments")(list_experiments)


def list_experiments() -> None:
    """List the experiments that `run` knows."""
    table = Table("name", "what it measures")
    for name, (_, description) in EXPERIMENTS.items():
        table.add_row(name, description)
    Console().print(table)


def run(
    name: str = typer.Argument(..., help="Experiment name; see `attention-lab experiments`."),
    quick: bool = typer.Option(False, "--quick", help="Small settings (at most ~90 s on a CPU)."),
    seed: int = typer.Option(
        0, "--seed", help="Random seed; the same seed gives the same numbers."
    ),
    json_path: Path | None = typer.Option(
        None, "--json", callback=output_file, help="Write the result as JSON here."
    ),
    plot_path: Path | None = typer.Option(
        None, "--plot", callback=figure_file, help="Write the figure here (png/svg/pdf)."
    ),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        callback=output_file,
        help="Where to save the trained model (experiments that train one).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing --checkpoint file with the new model."
    ),
    threads: int = typer.Option(
        1, "--threads", min=1, help="torch CPU threads (1 is fair on a shared box)."
    ),
) -> None:
    """Run experiment NAME and report what it measured."""
    import torch

    console = Console()
    try:
        fn = get_experiment(name)
    except ValueError as error:
        fail(str(error))
    kwargs: dict[str, object] = {"quick": quick, "seed": seed}
    if checkpoint is not None:
        if "checkpoint" not in inspect.signature(fn).parameters:
            fail(f"experiment {name!r} trains no model to checkpoint")
        if checkpoint.exists() and not force:
            fail(
                f"--checkpoint: '{checkpoint}' exists already; pass --force to replace it with a "
                f"newly trained model, or another --checkpoint"
            )
        kwargs["checkpoint"] = checkpoint
    torch.set_num_threads(threads)
    result = fn(**kwargs)
    data = result.to_dict()
    console.print_json(json.dumps(data))
    if json_path is not None:
        result.to_json(json_path)
        console.print(f"wrote {json_path}", markup=False, highlight=False)
    if plot_path is not None:
        figure = result.plot()
        figure.savefig(plot_path, dpi=120, bbox_inches="tight")
        console.print(f"wrote {plot_path}", markup=False, highlight=False)
