"""Self-attention by hand: generated problems, worked solutions, worksheets and a checker.

    >>> from attention_lab.handcalc import check_handcalc, generate_handcalc
    >>> problem = generate_handcalc(seed=7)          # the same numbers on every machine
    >>> check_handcalc(7, Q=problem.Q).ok
    True

One concept per file: ``problem`` generates and solves, ``checker`` diagnoses a learner's steps,
``worksheet`` writes the worked solution and a printable worksheet.
"""

from attention_lab.handcalc.checker import (
    DIAGNOSES,
    MISTAKES,
    HandCalcFeedback,
    StepCheck,
    check_handcalc,
)
from attention_lab.handcalc.problem import (
    STEPS,
    HandCalcProblem,
    generate_handcalc,
    replay,
    tolerances,
)
from attention_lab.handcalc.worksheet import solution_markdown, worksheet_html

__all__ = [
    "DIAGNOSES",
    "MISTAKES",
    "STEPS",
    "HandCalcFeedback",
    "HandCalcProblem",
    "StepCheck",
    "check_handcalc",
    "generate_handcalc",
    "replay",
    "solution_markdown",
    "tolerances",
    "worksheet_html",
]
