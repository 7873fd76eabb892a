"""How long the course takes to build: a cold build (empty cache) and a warm rebuild.

Run by ``attention-lab bench --course``; targets: cold <= 360 s, warm <= 30 s on a 2-core CPU.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from attention_lab.course.coverage import QuizQuestion
from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.course.site import build, cpu_jobs


def bench_course_build(
    lessons_dir: str | Path = LESSONS_DIR, questions: Iterable[QuizQuestion] | None = None
) -> dict:
    """A cold build of the course (empty cache) and a warm rebuild with nothing changed.

    ``questions``: the quiz's questions for the coverage check (see :func:`site.build`).
    """
    questions = None if questions is None else list(questions)
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("cold", "warm"):
            start = time.perf_counter()
            build(
                lessons_dir, Path(tmp) / "site", questions=questions,
                cache_dir=Path(tmp) / "cache", jobs=cpu_jobs(),
            )  # fmt: skip
            times[f"{name}_seconds"] = time.perf_counter() - start
    times["target"] = "cold <= 360 s, warm <= 30 s"
    times["met"] = times["cold_seconds"] <= 360 and times["warm_seconds"] <= 30
    return times
