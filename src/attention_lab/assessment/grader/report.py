"""The grader's outputs: the gradebook CSV (written atomically) and per-student feedback."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from attention_lab.assessment.grader.results import SubmissionResult


def gradebook_rows(results: Sequence[SubmissionResult], exercises: Mapping[str, Any]) -> list[list]:
    header = ["student_id", "file", "status", *exercises.keys(), "total", "max", "isolation"]
    header += ["seconds", "detail"]
    maximum = round(sum(float(ex.points) for ex in exercises.values()), 2)
    rows: list[list] = [header]
    for r in results:
        scores = {e.exercise_id: e.score for e in r.exercises}
        rows.append(
            [
                r.student_id,
                r.file_name,
                r.status,
                *(scores.get(ex_id, 0.0) for ex_id in exercises),
                r.total,
                maximum,
                r.isolation,
                r.seconds,
                r.detail.splitlines()[0][:300] if r.detail else "",
            ]
        )
    return rows


def safe_file_stem(student_id: str, taken: set[str]) -> str:
    """A file name for this student's feedback that cannot leave the feedback folder."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", student_id).lstrip(".") or "submission"
    stem = stem[:100]
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    taken.add(candidate)
    return candidate


def feedback_markdown(result: SubmissionResult, diagnoses: Mapping[str, str]) -> str:
    """The student's feedback: scores, diagnoses with explanations, their own errors/output."""
    maximum = sum(e.points for e in result.exercises)
    lines = [
        f"# Lab 3.4 feedback: {result.student_id}",
        "",
        f"- File: `{result.file_name}`",
        f"- Status: **{result.status}**" + (f" ({result.detail})" if result.detail else ""),
        f"- Total: **{result.total:g} / {maximum:g}**",
        f"- Isolation: {result.isolation}",
        "",
        "This is the official grade for Lab 3.4. Your code ran in a sandbox; its outputs were "
        "compared with a reference outside it. What it printed had no effect on the score.",
        "",
    ]
    for exercise in result.exercises:
        lines.append(f"## {exercise.exercise_id}: {exercise.title}")
        lines.append("")
        total = len(exercise.cases)
        lines.append(
            f"Score **{exercise.score:g} / {exercise.points:g}** "
            f"({exercise.passed_cases} of {total} test cases passed)."
        )
        lines.append("")
        seen: set[str] = set()
        for number, case in enumerate(exercise.cases, start=1):
            mark = "passed" if case.passed else "failed"
            lines.append(f"- case {number}: {mark}: `{case.diagnosis}`. {case.message}".rstrip())
            seen.add(case.diagnosis)
        for diagnosis in sorted(seen - {"correct"}):
            if diagnosis in diagnoses:
                lines += ["", f"> **{diagnosis}**: {diagnoses[diagnosis]}"]
        lines.append("")
    if result.output.strip():
        kept = len(result.output.encode("utf-8", "replace"))
        more = result.output_bytes - kept
        lines += ["## What your program printed (and any traceback)", "", "```text"]
        lines += [result.output.replace("```", "'''").rstrip()]
        lines += ["```"]
        if more > 0:
            lines.append(f"({more} more bytes of output were discarded.)")
    return "\n".join(lines) + "\n"
