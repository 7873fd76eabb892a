"""The batch grader for Lab 3.4 code: sandboxed children, judged by the parent."""

from attention_lab.assessment.grader.batch import (
    BatchReport,
    SubmissionResult,
    grade_batch,
    notebook_to_source,
    time_bound,
)
from attention_lab.assessment.grader.sandbox import Limits, detect_isolation

__all__ = [
    "BatchReport",
    "Limits",
    "SubmissionResult",
    "detect_isolation",
    "grade_batch",
    "notebook_to_source",
    "time_bound",
]
