"""The `attention-lab` command: a thin typer layer over the library.

Each area of the course registers its commands from its own module in this package, so the
command line reads like the table of contents of the course.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="attention-lab",
    help="The Transformer Revolution: Attention is All You Need, as runnable software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# One module per area; each defines `register(app)`. The order is the order of `--help`.
_AREAS = (
    "attention_lab.cli.core",  # verify, params
    "attention_lab.cli.experiments",  # run NAME
    "attention_lab.cli.handcalc",  # handcalc (3.2)
    "attention_lab.cli.architecture",  # translate, train (3.3)
    "attention_lab.cli.trace",  # trace one token through a block (3.3)
    "attention_lab.cli.pretrained",  # similarity, attention, explore
    "attention_lab.cli.assessment",  # quiz, grade
    "attention_lab.cli.gradescope",  # gradescope (Lab 3.4 autograder)
    "attention_lab.cli.course",  # build, serve, notebooks
    "attention_lab.cli.lab",  # lab (the notebooks in JupyterLab)
    "attention_lab.cli.performance",  # bench
)


def _register_all() -> None:
    import importlib

    for name in _AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # a real missing dependency, not an absent area
                raise
            continue
        module.register(app)


_register_all()


def main() -> None:
    app()
