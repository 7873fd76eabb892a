"""`attention-lab translate` and `attention-lab train`: the encoder-decoder of Lab 3.3 at work.

`train` runs unchanged under torchrun, e.g. on 2 CPU processes (gloo) or 8 GPUs (nccl)::

    torchrun --nproc_per_node=2 --no-python attention-lab train --steps 600
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import figure_file, output_file

PRESET_HELP = (
    "quick (the tuned minute-long model, 0..9999, words to digits), full (0..999999, both "
    "directions), or a model preset: tiny, base, paper-base, paper-big"
)


def register(app: typer.Typer) -> None:
    app.command("translate")(translate)
    app.command("train")(train)


def translate(
    checkpoint: Path = typer.Argument(..., help="A model saved by `train` or `run translation`."),
    text: str = typer.Argument(..., help='A number in words ("seven hundred and two") or digits.'),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        callback=figure_file,
        help="Save the cross-attention figure here (png/svg/pdf).",
    ),
) -> None:
    """Translate TEXT with the model in CHECKPOINT and print the result."""
    from attention_lab.checkpoints import CheckpointError
    from attention_lab.experiments.translation import plot_cross_attention
    from attention_lab.translator import cross_attention, load_translator
    from attention_lab.translator import translate as translate_text

    console = Console()
    try:
        translator = load_translator(checkpoint)
        result = translate_text(translator, text)
    except (FileNotFoundError, CheckpointError, ValueError, TypeError) as error:
        fail(error)
    console.print(
        result or "(the model produced no tokens: is it trained enough?)", highlight=False
    )
    if plot is not None:
        ax = plot_cross_attention(cross_attention(translator, text))
        ax.figure.savefig(plot, dpi=120, bbox_inches="tight")
        console.print(f"wrote {plot}", markup=False, highlight=False)


def train(
    preset: str = typer.Option("quick", "--preset", help=PRESET_HELP),
    steps: int | None = typer.Option(None, "--steps", help="Total optimizer steps."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue from this checkpoint."),
    checkpoint: Path = typer.Option(
        Path("translator.pt"),
        "--checkpoint",
        callback=output_file,
        help="Save the model here (a file that exists needs --force, or --resume naming it).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing --checkpoint file with the new model."
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Global batch size."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate."),
    max_number: int | None = typer.Option(None, "--max-number", help="Numbers 0..N (N <= 999999)."),
    direction: str | None = typer.Option(
        None, "--direction", help="words-to-digits, digits-to-words or both."
    ),
    seed: int = typer.Option(0, "--seed", help="Seeds the split, the weights and the data order."),
    threads: int = typer.Option(
        0, "--threads", min=0, help="torch CPU threads per process (0: default)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train the number translator (works under `torchrun --nproc_per_node=N`)."""
    import torch

    from attention_lab.checkpoints import CheckpointError
    from attention_lab.training import distributed
    from attention_lab.translator import exact_match, resume_setup, setup_for, train_translator

    console = Console()
    if checkpoint.exists() and not force and not _same_file(checkpoint, resume):
        fail(
            f"--checkpoint: '{checkpoint}' exists already; pass --force to replace it, "
            f"--resume {checkpoint} to continue it, or another --checkpoint"
        )
    if threads:
        torch.set_num_threads(threads)
    overrides = {"steps": steps, "batch_size": batch_size, "lr": lr}
    try:
        if resume is not None:
            setup, seed = resume_setup(resume, **overrides)
        else:
            setup = setup_for(preset, max_number=max_number, direction=direction, **overrides)
    except (FileNotFoundError, CheckpointError, ValueError, TypeError) as error:
        fail(error)
    with distributed() as info:
        if info.is_main:
            where = f"{info.world_size} processes" if info.world_size > 1 else "1 process"
            console.print(
                f"training {preset if resume is None else resume} for {setup.train.steps} steps "
                f"on {where}: numbers 0..{setup.max_number}, {setup.direction}",
                markup=False,
            )
        try:
            translator, result = train_translator(
                setup, seed=seed, checkpoint=checkpoint, resume=resume, progress=progress
            )
        except (CheckpointError, ValueError) as error:
            fail(error)
        if info.is_main:
            test = exact_match(translator, translator.task.with_split("test"))
            console.print(
                f"steps {result.steps}  time {result.seconds:.1f} s  "
                f"{result.tokens_per_second:,.0f} tokens/s  "
                + "  ".join(f"{k} {v:.1%}" for k, v in result.metrics.items())
                + f"  test exact match {test:.1%} ({len(translator.task.with_split('test'))} "
                f"unseen numbers)"
            )
            console.print(f"saved {checkpoint}", markup=False, highlight=False)
        del translator, result  # free the model before the process group goes


def _same_file(checkpoint: Path, resume: Path | None) -> bool:
    """True when ``--checkpoint`` names the file that ``--resume`` continues."""
    return resume is not None and checkpoint.resolve() == resume.resolve()
