"""`attention-lab gradescope --out autograder.zip`: Lab 3.4 graded on Gradescope.

attention-lab gradescope --out autograder.zip [--seed N] [--timeout S] [--memory MB]
                         [--isolation auto|namespace|basic]
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from attention_lab.cli._messages import fail
from attention_lab.cli._paths import output_file


def register(app: typer.Typer) -> None:
    app.command("gradescope")(gradescope)


def gradescope(
    out: Path = typer.Option(
        Path("autograder.zip"), "--out", callback=output_file, help="The zip to write (.zip)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the test cases (the same for everyone)."),
    timeout: float = typer.Option(60.0, "--timeout", help="Wall-clock seconds per submission."),
    memory: int = typer.Option(2048, "--memory", help="Address-space limit per submission, MB."),
    isolation: str = typer.Option(
        "auto", "--isolation", help="auto (namespaces where allowed), namespace or basic."
    ),
) -> None:
    """Write a Gradescope autograder for Lab 3.4: upload the zip to a Programming Assignment.

    Each submission (one .py or .ipynb file) is graded in a sandbox; Gradescope shows one test
    per exercise with its score and the diagnosis of what went wrong.
    """
    from attention_lab.assessment.gradescope import AutograderConfig, write_autograder

    try:
        config = AutograderConfig(seed=seed, timeout=timeout, memory_mb=memory, isolation=isolation)
        names = write_autograder(out, config)
    except (TypeError, ValueError) as error:
        fail(error)
    console = Console(soft_wrap=True)
    console.print(f"wrote {out} ({len(names)} files: setup.sh, run_autograder, the grader)")
    console.print(
        "upload it on Gradescope: Programming Assignment > Configure Autograder > Zip file upload"
    )
