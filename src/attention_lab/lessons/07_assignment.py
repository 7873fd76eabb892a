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
# # Module 3 written assignment
#
# **Duration:** the syllabus sets no time for the assignment; plan on 2-3 hours of writing outside
# class.
#
# **Learning objectives**
#
# The syllabus' assessment: *"A short assignment where learners might be asked to explain the
# purpose of a specific component of the Transformer architecture or to compare and contrast
# RNNs and Transformers."* This assignment asks for both. Prompt 1 serves the objectives of the
# component you choose (3.2.4, 3.2.5, 3.3.2-3.3.5); prompt 2 serves Topic 3.1 (3.1.1-3.1.5).
#
# The assignment sheet, the rubric and the submission template below are generated from the
# course's data, so what you read here is exactly what your instructor grades with.

# %%
from IPython.display import Markdown, display

from attention_lab.assessment.assignment import (
    assignment_markdown,
    load_assignment,
    rubric_csv,
    submission_template,
)

assignment = load_assignment()
print(
    f"{len(assignment.prompts)} prompts, {assignment.points:g} points in "
    "total"
)

# %% [markdown]
# <!-- serves: 3.1.1 3.1.2 3.1.3 3.1.4 3.1.5 3.2.4 3.2.5 3.3.2 3.3.3 3.3.4 3.3.5 -->
# ## The assignment and its rubric

# %%
display(Markdown(assignment_markdown()))

# %% [markdown]
# <!-- hands-on: 3.1.3 3.1.4 3.2.4 -->
# ## Gather your evidence
#
# Both prompts ask for evidence. The course's experiments give you measurements to cite, with
# the conditions they were measured under (say which machine and sizes):
#
# ```bash
# attention-lab experiments                      # what can be measured
# attention-lab run attention-scaling --quick --plot s.png # an example: what 1/sqrt(d_k) does to softmax
# ```
#
# For prompt 2, a path-length argument needs no experiment: in an RNN, information from token 1
# passes through 99 recurrent steps to reach token 100; in self-attention, one.
#
# ## Submission template
#
# Copy this into a Markdown file, fill it in, and submit it as your instructor says.

# %%
display(Markdown("```markdown\n" + submission_template() + "\n```"))

# %% [markdown]
# ## For instructors
#
# `attention-lab assignment --out assignment/` writes `assignment.md` (the sheet above),
# `submission_template.md` and `rubric.csv`, laid out for Canvas' rubric import (one row per
# criterion, then rating name, description and points for each level). Its first lines:

# %%
print("\n".join(rubric_csv().splitlines()[:3]))

# %% [markdown]
# ## Key takeaways
#
# - Prompt 1 asks what one component computes, what breaks without it, and the evidence for both.
# - Prompt 2 compares RNNs and Transformers on parallelism, long-range dependencies, gradient flow
#   and cost, and asks when an RNN is still the better tool.
# - The rubric rewards accuracy, reasoning and evidence you interpret, not length.
