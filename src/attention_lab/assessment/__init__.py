"""Assessment for Module 3: question bank, quizzes, LMS exports, written assignment, code grader.

- `load_questions`, `check_answer`, `AnswerSheet`, `grade_answers_dir`: the quiz engine
- `NotebookQuiz` (ipywidgets), `run_terminal_quiz` (rich), `quiz_html` (static web page):
  practice quizzes; official grades come from the LMS export and the batch grader
- `export_questions` (Moodle GIFT, Canvas QTI, jupyterquiz JSON)
- `load_assignment`, `write_assignment`: the written assignment and its rubric
- `grade_batch`: the sandboxed batch grader for Lab 3.4 code submissions
"""

from attention_lab.assessment.assignment import load_assignment, write_assignment
from attention_lab.assessment.bank import coverage, get_question, load_questions
from attention_lab.assessment.export import export_questions
from attention_lab.assessment.grader import Limits, grade_batch
from attention_lab.assessment.html import quiz_html
from attention_lab.assessment.notebook import NotebookQuiz
from attention_lab.assessment.schema import Question, QuestionSchemaError
from attention_lab.assessment.scoring import AnswerSheet, check_answer, grade_answers_dir
from attention_lab.assessment.terminal import run_terminal_quiz

__all__ = [
    "AnswerSheet",
    "Limits",
    "NotebookQuiz",
    "Question",
    "QuestionSchemaError",
    "check_answer",
    "coverage",
    "export_questions",
    "get_question",
    "grade_answers_dir",
    "grade_batch",
    "load_assignment",
    "load_questions",
    "quiz_html",
    "run_terminal_quiz",
    "write_assignment",
]
