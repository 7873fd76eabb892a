"""The course: objectives, lessons, coverage, learner notebooks and the course site.

    from attention_lab.course import build, write_notebooks
    report = build(LESSONS_DIR, "_build/course")      # what `attention-lab build` runs
    write_notebooks(LESSONS_DIR, "notebooks", solutions=True)

Importing this package is cheap: the site builder (Sphinx, Jupyter Book) loads only when used.
"""

from attention_lab.course.coverage import Coverage, CoverageError, compute, quiz_questions
from attention_lab.course.lessons import LESSONS_DIR, Lesson, LessonError, load_all
from attention_lab.course.notebooks import solution_copy, student_copy, write_notebooks
from attention_lab.course.objectives import Objective, Topic, objectives, topics


def build(*args, **kwargs):
    """Build the course site; see :func:`attention_lab.course.site.build`."""
    from attention_lab.course.site import build as _build

    return _build(*args, **kwargs)


__all__ = [
    "LESSONS_DIR",
    "Coverage",
    "CoverageError",
    "Lesson",
    "LessonError",
    "Objective",
    "Topic",
    "build",
    "compute",
    "load_all",
    "objectives",
    "quiz_questions",
    "solution_copy",
    "student_copy",
    "topics",
    "write_notebooks",
]
