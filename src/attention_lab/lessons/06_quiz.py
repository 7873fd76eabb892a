# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 3 quiz
#
# **Duration:** the syllabus sets no time for the quiz; allow about 30-45 minutes for the whole
# bank, or 10 minutes per topic.
#
# **Learning objectives**
#
# The syllabus' assessment: *"A quiz focused on understanding the concepts of self-attention, the
# Transformer architecture components, and the limitations of RNNs."* Every question is tagged
# with the learning objective(s) of Topics 3.1-3.4 it assesses, and every objective has at least
# two questions (the table below is computed from the question bank as the page runs).
#
# **Practice here, grades elsewhere.** The quiz on this page, the notebook quiz and the terminal
# quiz are for practice: they give feedback at once and save your answers to a file you can hand
# in. Official grades come from your instructor: the same questions exported to the course's LMS
# (Moodle or Canvas), re-scoring of the answers files you submit (`attention-lab quiz grade`), and
# the batch grader for the Lab 3.4 code (`attention-lab grade`).

# %%
from IPython.display import HTML, Markdown, display

from attention_lab.assessment import (
    NotebookQuiz,
    coverage,
    load_questions,
    quiz_html,
)
from attention_lab.assessment.export import to_gift
from attention_lab.objectives import objectives

questions = load_questions()
kinds = {
    kind: sum(q.type == kind for q in questions)
    for kind in ("single", "multiple", "numeric", "text")
}
print(f"{len(questions)} questions:", kinds)
print("with a heatmap to read:", [q.id for q in questions if q.figure])

# %% [markdown]
# <!-- serves: 3.1.1 3.1.2 3.1.3 3.1.4 3.1.5 3.2.1 3.2.2 3.2.3 3.2.4 3.2.5 3.2.6 3.3.1 3.3.2 3.3.3 3.3.4 3.3.5 3.4.1 3.4.2 3.4.3 3.4.4 -->
# ## What the quiz covers
#
# One row per learning objective, with the questions that assess it.

# %%
texts = objectives()
rows = ["| Objective | | Questions |", "|---|---|---|"]
for objective, ids in coverage().items():
    rows.append(
        f"| {objective} | {texts[objective].text} | {len(ids)}: "
        f"{', '.join(ids)} |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# <!-- hands-on: 3.1.1 3.1.2 3.1.3 3.1.4 3.1.5 3.2.1 3.2.2 3.2.3 3.2.4 3.2.5 3.2.6 3.3.1 3.3.2 3.3.3 3.3.4 3.3.5 3.4.1 3.4.2 3.4.3 3.4.4 -->
# ## Practice quiz (in this page)
#
# The questions and their choices are shuffled each time the page loads. Press **Check** for
# feedback on your answer and on the explanation behind it; the heatmap questions ask you to read
# attention weights that the library computed for this page. Nothing leaves your browser: when you
# are done, **Download my answers** saves a JSON file you can hand in.

# %%
display(
    HTML(
        quiz_html(
            questions, title="Module 3 practice quiz", full_document=False
        )
    )
)

# %% [markdown]
# ## The same quiz in a notebook (Jupyter)
#
# In Jupyter (not on the static course site, which cannot run widgets), the quiz below is built
# from ipywidgets and works offline. Put your name in `learner`, pick topics or objectives, and
# run the cell; every **Check** saves your answers to `answers_path`.

# %%
quiz = NotebookQuiz(
    learner="your-name",
    objectives=["3.2"],
    answers_path="quiz-answers-3.2.json",
)
quiz

# %% [markdown]
# ## The same quiz in a terminal
#
# ```bash
# attention-lab quiz --learner ada                     # every question, shuffled
# attention-lab quiz --objective 3.2 --learner ada     # one topic
# attention-lab quiz -o 3.2.4 -o 3.3.2 --limit 5       # some objectives, five questions
# ```
#
# Heatmap questions show the weights as a shaded table. Answers are saved after each question to
# `quiz-answers-ada.json` (or `--out FILE`).
#
# ## For instructors: exports and grading
#
# ```bash
# attention-lab quiz export --format gift --out module3.gift   # Moodle: Question bank > Import > GIFT
# attention-lab quiz export --format qti --out module3.zip     # Canvas: Settings > Import > QTI .zip
# attention-lab quiz export --format json --out module3.json   # jupyterquiz
# attention-lab quiz html --out quiz.html                      # this page's quiz, one offline file
# attention-lab quiz grade answers/ --out quiz-gradebook.csv   # re-score submitted answers files
# ```
#
# The exports are checked by reading them back (the test suite parses the GIFT text with the GIFT
# rules and the QTI zip that text2qti builds as XML). Here is the start of the GIFT file:

# %%
print("\n".join(to_gift(questions[:1]).splitlines()[:12]))

# %% [markdown]
# ## Key takeaways
#
# - The quiz has at least two questions for every learning objective of Topics 3.1-3.4, in four
#   forms: single choice, multiple choice, numbers you compute (an attention weight, a parameter
#   count) and short answers; some ask you to read a heatmap.
# - Practice anywhere (this page, a notebook, a terminal): feedback is immediate and your answers
#   are saved to a file.
# - Official grades come from the instructor's LMS quiz, the re-scored answers files and the
#   batch grader for the lab code, never from the practice quizzes themselves.
