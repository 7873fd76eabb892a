"""Time a cold and a warm build of the course site and print the result as JSON.

Cold: empty cache, every lesson executes. Warm: the same build again with nothing changed, so
every lesson comes from the cache and Sphinx re-renders nothing that did not change.

    .venv/bin/python benchmarks/course_build.py [--lessons DIR] [--jobs 2] [--out DIR]

Wall-clock times on a shared 2-core machine are inflated by the load of other processes; the
JSON carries this process's CPU time (children included) and the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from attention_lab.assessment import load_questions
from attention_lab.course.coverage import quiz_questions
from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.course.site import build, cpu_jobs


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(lessons: Path, out: Path, jobs: int) -> dict:
    cpu, wall = _cpu_seconds(), time.perf_counter()
    questions = quiz_questions(load_questions())  # what `attention-lab build` passes
    report = build(lessons, out, questions=questions, allow_gaps=True, jobs=jobs)
    return {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(_cpu_seconds() - cpu, 1),
        "executed": len(report.executed),
        "cached": len(report.cached),
        "steps_s": {k: round(v, 1) for k, v in report.seconds.items()},
        "lesson_run_s": {**report.executed, **report.cached},
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=Path, default=LESSONS_DIR)
    parser.add_argument("--jobs", type=int, default=cpu_jobs())
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument(
        "--freeze-library",
        action="store_true",
        help="key the cache on the library as it is at the start (others may be editing it)",
    )
    args = parser.parse_args()
    if args.freeze_library:
        from attention_lab.course import execute

        frozen = execute.library_fingerprint()
        execute.library_fingerprint = lambda: frozen
    root = Path(tempfile.mkdtemp(prefix="course-bench-")) if args.out is None else args.out
    out = root / "site"
    shutil.rmtree(root / ".site-cache", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    try:
        cold = timed(args.lessons, out, args.jobs)
        warm = timed(args.lessons, out, args.jobs)
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)
    result = {
        "lessons": sorted(cold["lesson_run_s"]),
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "cold": cold,
        "warm": warm,
        "limits_s": {"cold": 360, "warm": 30},
        "within_limits": cold["wall_s"] <= 360 and warm["wall_s"] <= 30,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
