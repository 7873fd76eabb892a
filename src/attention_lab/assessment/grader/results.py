"""What grading one submission found: per case, per exercise, per submission (one gradebook row).

Plain data shared by the grader (`batch`) that fills it and the reports (`report`) that print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CaseOutcome:
    passed: bool
    diagnosis: str
    message: str


@dataclass
class PartOutcome:
    """A separately credited part of an exercise (see ``Exercise.parts``)."""

    part_id: str
    title: str
    points: float
    score: float
    passed: int
    total: int


@dataclass
class ExerciseOutcome:
    exercise_id: str
    title: str
    points: float
    score: float
    cases: list[CaseOutcome]
    parts: list[PartOutcome] = field(default_factory=list)  # when the exercise has several
    verdict: str = ""  # the exercise's one verdict over all cases (``Exercise.combine``)

    @property
    def passed_cases(self) -> int:
        return sum(c.passed for c in self.cases)


@dataclass
class SubmissionResult:
    """One gradebook row and the material for one feedback file."""

    student_id: str
    file_name: str
    status: str  # ok | import_error | timeout | crashed | rejected | grader_error
    isolation: str
    exercises: list[ExerciseOutcome] = field(default_factory=list)
    detail: str = ""
    output: str = ""
    output_bytes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(e.score for e in self.exercises), 2)
