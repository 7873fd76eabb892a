"""Every `attention-lab run NAME` that a lesson, the README or the docs show names a real experiment."""

import re
from pathlib import Path

from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.experiments import EXPERIMENTS

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    *sorted(LESSONS_DIR.glob("*.py")),
    ROOT / "README.md",
    *(ROOT / "docs").glob("*.md"),
]


def test_every_experiment_named_in_the_text_exists():
    named = {
        (path.name, name)
        for path in TEXTS
        for name in re.findall(r"attention-lab\s+run\s+([a-z][a-z0-9-]*)", path.read_text())
    }
    assert len(named) >= 5  # the lessons do point to experiments
    unknown = sorted((file, name) for file, name in named if name not in EXPERIMENTS)
    assert not unknown, f"unknown experiments (see `attention-lab experiments`): {unknown}"
