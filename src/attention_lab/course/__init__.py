"""The course: objectives, lessons, coverage, learner notebooks and the course site.

    from attention_lab.assessment import load_assignment, load_questions
    from attention_lab.course import quiz_questions, write_notebooks
    from attention_lab.course.site import build

    # what `attention-lab build` runs; the caller hands the course the quiz and the assignment
    report = build(LESSONS_DIR, "_build/course", questions=quiz_questions(load_questions()),
                   assignment=load_assignment())
    write_notebooks(LESSONS_DIR, "notebooks", solutions=True)

Importing this package is cheap (0.5 s of CPU): the site builder, ``course.site``, which loads the
exercises' checker (torch) and, when a build starts, Sphinx and Jupyter Book, is imported apart.
"""

from attention_lab.course.coverage import Coverage, CoverageError, compute, quiz_questions
from attention_lab.course.lessons import LESSONS_DIR, Lesson, LessonError, load_all
from attention_lab.course.notebooks import solution_copy, student_copy, write_notebooks
from attention_lab.objectives import Objective, Topic, objectives, topics

__all__ = [
    "LESSONS_DIR",
    "Coverage",
    "CoverageError",
    "Lesson",
    "LessonError",
    "Objective",
    "Topic",
    "compute",
    "load_all",
    "objectives",
    "quiz_questions",
    "solution_copy",
    "student_copy",
    "topics",
    "write_notebooks",
]
