"""The grader's outputs: the gradebook CSV (written atomically) and per-student feedback."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attention_lab.course.files import write_atomic

if TYPE_CHECKING:
    from attention_lab.assessment.grader.batch import ExerciseOutcome, SubmissionResult


def _csv_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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


def write_csv_atomic(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """Write rows to `path` in one step (a temporary file renamed over it), readable as any file
    the user writes: mode 0666 & ~umask when new, the old mode when replaced."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    write_atomic(Path(path), buffer.getvalue())


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
        lines += exercise_feedback(exercise, diagnoses)
        lines.append("")
    if result.output.strip():
        lines += ["## What your program printed (and any traceback)", ""]
        lines += printed_output(result)
    return "\n".join(lines) + "\n"


def exercise_feedback(exercise: ExerciseOutcome, diagnoses: Mapping[str, str]) -> list[str]:
    """One exercise's feedback as Markdown lines: its score, a line per test case (the verdict
    and the judge's message) and the explanation of every diagnosis it got."""
    lines = [
        f"Score **{exercise.score:g} / {exercise.points:g}** "
        f"({exercise.passed_cases} of {len(exercise.cases)} test cases passed).",
        "",
    ]
    seen: set[str] = set()
    for number, case in enumerate(exercise.cases, start=1):
        mark = "passed" if case.passed else "failed"
        lines.append(f"- case {number}: {mark}: `{case.diagnosis}`. {case.message}".rstrip())
        seen.add(case.diagnosis)
    for diagnosis in sorted(seen - {"correct"}):
        if diagnosis in diagnoses:
            lines += ["", f"> **{diagnosis}**: {diagnoses[diagnosis]}"]
    return lines


def printed_output(result: SubmissionResult) -> list[str]:
    """What the submission printed (the part kept) as a fenced Markdown block, and how much more
    was discarded."""
    lines = ["```text", result.output.replace("```", "'''").rstrip(), "```"]
    more = result.output_bytes - len(result.output.encode("utf-8", "replace"))
    if more > 0:
        lines.append(f"({more} more bytes of output were discarded.)")
    return lines
