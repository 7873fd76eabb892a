"""The grader's outputs: the gradebook CSV (written atomically) and per-student feedback."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from attention_lab.assessment.grader.results import ExerciseOutcome, SubmissionResult
from attention_lab.inert import inert


def gradebook_rows(results: Sequence[SubmissionResult], exercises: Mapping[str, Any]) -> list[list]:
    """One row per submission: a column per exercise and, for an exercise with several parts
    (``Exercise.parts``), one more per part, named ``exercise_id:part_id``."""
    columns: list[tuple[str, str | None]] = []
    for ex_id, exercise in exercises.items():
        columns.append((ex_id, None))
        parts = getattr(exercise, "parts", ())
        if len(parts) > 1:
            columns += [(ex_id, part.id) for part in parts]
    header = ["student_id", "file", "status"]
    header += [ex_id if part is None else f"{ex_id}:{part}" for ex_id, part in columns]
    header += ["total", "max", "isolation", "seconds", "detail"]
    maximum = round(sum(float(ex.points) for ex in exercises.values()), 2)
    rows: list[list] = [header]
    for r in results:
        scores: dict[tuple[str, str | None], float] = {}
        for e in r.exercises:
            scores[(e.exercise_id, None)] = e.score
            scores.update({(e.exercise_id, p.part_id): p.score for p in e.parts})
        detail = inert(r.detail.splitlines()[0][:300]) if r.detail else ""
        rows.append(
            [
                inert(r.student_id),
                inert(r.file_name),
                r.status,
                *(scores.get(column, 0.0) for column in columns),
                r.total,
                maximum,
                r.isolation,
                r.seconds,
                detail,
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
    """The student's feedback: scores, diagnoses with explanations, their own errors/output.

    Text the submission controls (error messages, what it printed, its file name) is shown
    inertly: control characters are escaped, so they can neither colour nor clear a terminal.
    """
    maximum = sum(e.points for e in result.exercises)
    detail = f" ({inert(result.detail)})" if result.detail else ""
    file_name = inert(result.file_name).replace("`", "'")
    lines = [
        f"# Lab 3.4 feedback: {inert(result.student_id)}",
        "",
        f"- File: `{file_name}`",
        f"- Status: **{result.status}**{detail}",
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
    """One exercise's feedback as Markdown lines: its score (and each part's), the verdict over
    all cases, a line per test case (the verdict and the judge's message) and the explanation of
    every diagnosis it got. Text the submission controls is shown inertly."""
    lines = [
        f"Score **{exercise.score:g} / {exercise.points:g}** "
        f"({exercise.passed_cases} of {len(exercise.cases)} test cases passed).",
        "",
    ]
    for part in exercise.parts:
        lines.append(
            f"- part {part.part_id} ({part.title}): **{part.score:g} / {part.points:g}** "
            f"({part.passed} of {part.total} test cases passed)"
        )
    if exercise.parts:
        lines.append("")
    if exercise.verdict:
        lines += [f"Verdict: {inert(exercise.verdict)}", ""]
    seen: set[str] = set()
    for number, case in enumerate(exercise.cases, start=1):
        mark = "passed" if case.passed else "failed"
        lines.append(inert(f"- case {number}: {mark}: `{case.diagnosis}`. {case.message}").rstrip())
        seen.add(case.diagnosis)
    for diagnosis in sorted(seen - {"correct"}):
        if diagnosis in diagnoses:
            lines += ["", f"> **{diagnosis}**: {diagnoses[diagnosis]}"]
    return lines


def printed_output(result: SubmissionResult) -> list[str]:
    """What the submission printed (the part kept) as a fenced Markdown block, and how much more
    was discarded."""
    kept = inert(result.output, keep_newlines=True).replace("```", "'''").rstrip()
    lines = ["```text", kept, "```"]
    more = result.output_bytes - len(result.output.encode("utf-8", "replace"))
    if more > 0:
        lines.append(f"({more} more bytes of output were discarded.)")
    return lines
