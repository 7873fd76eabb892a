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
# # 3.2 Understanding the Self-Attention Mechanism
#
# **Duration:** approximately 2 - 2.5 hours (detailed explanation with visual aids and mathematical
# formulations).
#
# **Learning objectives**
#
# - Understand the core components of the self-attention mechanism: Queries, Keys, and Values.
# - Grasp how Queries, Keys, and Values are derived from the input sequence.
# - Learn how attention weights are calculated using scaled dot-product attention.
# - Understand the role of the scaling factor in preventing the dot products from becoming too large.
# - Comprehend the concept of Multi-Head Attention and its benefits.
# - Learn how to visualize attention weights to understand which parts of the input the model is
#   focusing on.
#
# Every number below is computed by the `attention_lab` library as the page runs.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, Markdown, display

from attention_lab import (
    MultiHeadAttention,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from attention_lab.exercises.heatmap_reading import HeatmapReading
from attention_lab.experiments import multihead_roles, scaling
from attention_lab.handcalc import (
    check_handcalc,
    generate_handcalc,
    solution_markdown,
)
from attention_lab.numerics import rounding_bound
from attention_lab.tracing import word_vector
from attention_lab.viz import interactive_attention, plot_attention, show
from attention_lab.viz.attention_steps import (
    attention_stepper_html,
    draw_attention_steps,
)
from attention_lab.viz.multihead_diagram import (
    draw_multihead,
    multihead_parts,
)
from attention_lab.viz.tables import matrix_table

torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown] slide="Queries, keys and values"
# <!-- serves: 3.2.1 3.2.2 -->
# ## Queries, keys and values
#
# Self-attention lets every token of a sequence gather information from every other token. Each
# token plays three parts, and each part is a *linear transformation of its embedding*:
#
# - the **query** $q = x W_q$: *what am I looking for?*
# - the **key** $k = x W_k$: *what do I have?* (what I can be found by)
# - the **value** $v = x W_v$: *what information do I provide* if someone attends to me?
#
# A library catalogue is a fair picture: your question is the query, the labels on the shelves
# are keys, and the books are values. You compare your question with every label, and you read
# the books in proportion to how well their labels match.
#
# Stacking the tokens' embeddings as the rows of $X$ (shape $T \times d_{model}$), all queries at
# once are one matrix product $Q = X W_q$, and likewise $K = X W_k$, $V = X W_v$.

# %%
T, d_model, d_k = 4, 8, 8
X = torch.randn(T, d_model)  # 4 token embeddings
W_q, W_k, W_v = (
    torch.randn(d_model, d_k) / d_model**0.5 for _ in range(3)
)
Q, K, V = X @ W_q, X @ W_k, X @ W_v  # each (T, d_k): one row per token
print("Q:", tuple(Q.shape), " K:", tuple(K.shape), " V:", tuple(V.shape))

# %% [markdown] slide="Scaled dot-product attention"
# <!-- serves: 3.2.3 -->
# ## Scaled dot-product attention
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V
# \qquad \text{(Vaswani et al. 2017, Eq. 1)}$$
#
# 1. **Similarity**: $Q K^\top$ is a $T \times T$ table; entry $(i, j)$ is query $i$ dotted with
#    key $j$.
# 2. **Scale**: divide by $\sqrt{d_k}$ (why: next section).
# 3. **Softmax along each row**: every query's weights are positive and add up to 1.
# 4. **Weighted sum**: each output row is the weights times $V$, an average of the value rows.
#
# Written out step by step, it matches the library's function exactly:

# %%
scores = Q @ K.T / d_k**0.5  # (T, d_k) @ (d_k, T) -> (T, T)
weights = torch.softmax(scores, dim=-1)  # each row sums to 1
output = weights @ V  # (T, T) @ (T, d_k) -> (T, d_k)

lib_output, lib_weights = scaled_dot_product_attention(Q, K, V)
print("rows sum to 1:", torch.allclose(weights.sum(-1), torch.ones(T)))
print(
    "matches the library:",
    torch.allclose(output, lib_output),
    torch.allclose(weights, lib_weights),
)

# %% [markdown]
# <!-- serves: 3.2.3 -->
# <!-- hands-on: 3.2.3 -->
# ## Activity: attention with a pencil
#
# The syllabus' paper-and-pencil exercise. Each learner (or each table) takes a seed; the seed
# names one problem, the same on every machine. Print the worksheet with
# `attention-lab handcalc --seed 7 --worksheet sheet.html` (the answer key is on its own page), or
# read the problem here. The numbers are small integers, and $\sqrt{d_k} = 2$.

# %%
problem = generate_handcalc(seed=7)
tokens = list(problem.tokens)
features = [
    f"x{j + 1}" for j in range(problem.d_model)
]  # the columns of X
dk = [f"d{j + 1}" for j in range(problem.d_k)]  # the columns of Q, K, V
display(
    matrix_table(
        problem.X, tokens, features, caption="X (one row per token)"
    )
)
for name in ("W_q", "W_k", "W_v"):
    display(
        matrix_table(getattr(problem, name), features, dk, caption=name)
    )

# %% [markdown]
# The steps you will take, drawn on this problem's own numbers: only $X$ is filled in. (The
# worksheet has this empty diagram on its first page and the filled one in the answer key.)

# %% slide="Attention by hand"
draw_attention_steps(problem, blank=True)

# %% [markdown]
# Work out $Q$, $K$, $V$, the scores, the scaled scores, the softmax weights (2 decimals) and the
# output, then type in the steps you have. `check_handcalc` checks whichever steps you give, with
# a tolerance that fits hand rounding, and names the first wrong step and the likely reason.

# %%
# BEGIN SOLUTION
my_Q = problem.Q.tolist()  # noqa: N816 (the paper's symbol)
my_scores = problem.scores.tolist()
my_weights = problem.weights.tolist()
my_output = problem.output.tolist()
# END SOLUTION
print(
    check_handcalc(
        7, Q=my_Q, scores=my_scores, weights=my_weights, output=my_output
    )
)

# %% [markdown]
# What the checker says about classic slips, for example forgetting the scale:

# %%
unscaled_weights = np.round(
    torch.softmax(torch.tensor(problem.scores), dim=-1).numpy(), 2
)
print(check_handcalc(7, weights=unscaled_weights).message)
print(check_handcalc(7, output=problem.weights @ problem.K).message)

# %% [markdown]
# The full worked solution:

# %%
Markdown(solution_markdown(problem))

# %% [markdown]
# <!-- serves: 3.2.1 3.2.3 -->
# ### The same calculation, drawn
#
# Every table of the solution in one picture, with the arrows between the steps. The shaded rows
# follow one query, "sun", through every step: its row of $X$ becomes its query, which is
# compared with every key (so all of $K$ is framed), scaled, turned into weights, and used to
# average all of $V$.

# %% slide="Scaled dot-product attention"
draw_attention_steps(problem, query=1)

# %% [markdown]
# Step through it yourself: **Next** reveals one step at a time, and the buttons choose which
# query's path is highlighted (the sentence above the tables gives that query's numbers).

# %%
HTML(attention_stepper_html(problem))

# %% [markdown] slide="Why divide by sqrt(d_k)"
# <!-- serves: 3.2.4 -->
# ## Why divide by $\sqrt{d_k}$?
#
# If the entries of $q$ and $k$ are independent with mean 0 and variance 1, then
# $q \cdot k = \sum_{i=1}^{d_k} q_i k_i$ is a sum of $d_k$ terms of variance 1: its variance is
# $d_k$ (Vaswani et al. 2017, footnote 4). With $d_k = 64$ the scores have a standard deviation of
# 8; the softmax of such numbers is nearly one-hot, and the gradient through a one-hot softmax is
# nearly zero, so learning stalls. Dividing by $\sqrt{d_k}$ brings the variance back to 1.
#
# The `attention-scaling` experiment measures each link of this argument
# (`attention-lab run attention-scaling`; quick settings here).

# %% slide="Why divide by sqrt(d_k)"
result = scaling.run(quick=True, progress=False, train_steps=200)
for d, v, e in zip(result.d_k, result.var_qk, result.var_relative_error):
    print(
        f"d_k = {d:4d}: Var(q.k) = {v:7.2f}  (theory {d}, off by {e:.1%})"
    )
fig = result.plot()
plt.show()

# %% [markdown]
# Read the panels left to right: the variance tracks $d_k$; without the scale the softmax's entropy
# collapses and its largest weight heads for 1; the gradient at the softmax input shrinks by
# orders of magnitude; with the scale all three stay put. In the small training run (right), both
# versions learn this easy task, and the curves show how far the unscaled one lags
# (`train_steps_to_loss_*` in the result). Adam and LayerNorm soften the damage in a model this
# small; the gradient panel is why it bites in big models.

# %% [markdown] slide="Multi-head attention"
# <!-- serves: 3.2.5 -->
# ## Multi-head attention
#
# One head *can* spread its weight over several tokens, but it returns a single weighted average
# of their values: whatever it gathers from different places is blended into one vector, with one
# set of weights. The paper puts it this way: "with a single attention head, averaging inhibits
# this" (Vaswani et al. 2017, section 3.2.2), *this* being attending to information from
# different representation subspaces at different positions. Multi-head attention runs $H$ heads
# in parallel, each in its own $d_k = d_{model}/H$ dimensional subspace with its own weights,
# concatenates their outputs and mixes them with $W_o$:
#
# $$\mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\, W_o,
# \qquad \mathrm{head}_h = \mathrm{Attention}(X W_q^h, X W_k^h, X W_v^h)$$
#
# The split, the concatenation and $W_o$, written out (`multihead_by_hand`), give what the
# library's `MultiHeadAttention` computes, up to the rounding of adding in another order:

# %%
# float64: rounding far below a bug
mha = MultiHeadAttention(d_model=16, num_heads=4).double()
x = torch.randn(2, 5, 16, dtype=torch.float64)
by_hand, _ = multihead_roles.multihead_by_hand(mha, x)
# a sum of n terms, in any order, is within gamma_n * sum(|terms|) of
# the exact value (docs/numerics.md): the longest chain here adds
# 16 + 4 + 5 + 16 < 50 terms of sizes adding up to below 1e3
gap = (by_hand - mha(x, x, x)).abs().max().item()
bound = rounding_bound(50, torch.float64, 1e3)
print(
    f"concat + W_o by hand vs library: largest difference {gap:.0e}, "
    f"rounding bound {bound:.0e}"
)
assert gap <= bound

# %% [markdown]
# The same, drawn from a real `MultiHeadAttention` ($d_{model} = 8$, 2 heads, so $d_k = 4$) on a
# real sentence ("the cat sat on the mat", each word a fixed random embedding plus its
# positional encoding). Follow the shapes: the $6 \times 8$ input, two heads that each compute
# their own $6 \times 6$ weights from their own 4 columns of $W_q$, $W_k$, $W_v$, two
# $6 \times 4$ outputs, side by side a $6 \times 8$ concatenation, and $W_o$ mixing it back to
# $6 \times 8$. The weights are untrained, so read the *structure*, not the patterns.

# %% slide="Multi-head attention"
sentence = "the cat sat on the mat".split()
torch.manual_seed(0)
# (T, D)
x_sentence = torch.stack([word_vector(w, 8) for w in sentence]) * 8**0.5
x_sentence = x_sentence + sinusoidal_positional_encoding(len(sentence), 8)
draw_multihead(
    multihead_parts(MultiHeadAttention(8, 2), x_sentence, sentence)
)

# %% [markdown] slide="Multi-head attention"
# <!-- serves: 3.2.5 3.2.6 -->
# ### Do heads really do different jobs? A measurement
#
# The `multi-head` experiment trains a one-layer model where each position must answer two
# questions whose answers sit in different places: *which token came just before me?* and *what
# colour did my letter have last time?* We then score each head on each pattern (its mean weight on
# the position the pattern predicts), and remove one head at a time to see which question breaks.
# A one-head model of the same width is the control.

# %% slide="Multi-head attention"
heads = multihead_roles.run(quick=True, progress=False)
display(
    matrix_table(
        heads.scores,
        [f"head {h}: {role}" for h, role in enumerate(heads.roles)],
        heads.patterns,
        caption="each head's mean weight on the position each pattern "
        "predicts",
        corner="head",
    )
)
print(
    "accuracy, all heads:",
    {k: round(v, 3) for k, v in heads.accuracy.items()},
)
print(
    "accuracy, one-head model:",
    {k: round(v, 3) for k, v in heads.single_head_accuracy.items()},
)
for h, acc in enumerate(heads.ablation):
    print(f"without head {h}:", {k: round(v, 3) for k, v in acc.items()})
fig = heads.plot()
plt.show()

# %% [markdown]
# Read the output before the figure. Several heads can share one job: here more than one head
# scores high on *previous token*, so removing any one of them only dents that question (the
# others still cover it). The *matching letter* job sits in one head; without it, the model
# answers that question about as badly as the one-head model:

# %%
for h, role in enumerate(heads.roles):
    if role == "matching letter":
        print(
            f"head {h} (matching letter) removed: match "
            f"{heads.accuracy['match']:.3f} -> "
            f"{heads.ablation[h]['match']:.3f}; one-head model "
            f"{heads.single_head_accuracy['match']:.3f}"
        )

# %% [markdown] slide="Reading attention heatmaps"
# <!-- serves: 3.2.6 -->
# ## Visualising attention weights
#
# A heatmap of the weights has one row per query token and one column per key token; a bright cell
# $(i, j)$ means that token $i$'s output takes the largest share of its weighted average from
# $v_j$. That is a statement about *weights*, not about *contributions*: a large weight on a value
# vector with a small norm adds little, and after the head come $W_o$, the residual connection
# and further layers, which can change what reaches the model's decision. Attention weights show
# where a head reads from, not why the model decides what it decides (Jain and Wallace 2019,
# "Attention is not Explanation"; Wiegreffe and Pinter 2019 for the debate). The static version:

# %% slide="Reading attention heatmaps"
tokens = heads.example_tokens
ax = plot_attention(
    heads.example_weights[0], tokens, title="head 0 of the trained model"
)
plt.show()

# %% [markdown]
# The interactive version (it works offline): pick a head with the buttons, hover a cell to see
# the query token, the key token and the weight.

# %%
fig = interactive_attention(
    np.array(heads.example_weights), tokens, title="trained model"
)
show(fig)

# %% [markdown]
# <!-- hands-on: 3.2.6 -->
# ### Exercise: read this heatmap
#
# Below are four heads of a made-up model. Answer the two questions; the checks tell you whether
# you read the heatmap right and, if not, what went wrong.

# %%
reading = HeatmapReading.generated(seed=3)
show(
    interactive_attention(
        reading.weights, reading.tokens, title="read this heatmap"
    )
)

# %%
q_prev = reading.previous_head_question()
print(q_prev.prompt)
# BEGIN SOLUTION
my_head = 3
# END SOLUTION
print(q_prev.check(my_head))

# %%
q_row = reading.row_question(head=3, i=5)
print(q_row.prompt)
# BEGIN SOLUTION
my_token = "today"
# END SOLUTION
print(q_row.check(my_token))

# %% [markdown] slide="What attention weights do and do not explain"
# ## Key takeaways
#
# - Queries, keys and values are three linear projections of the same token embeddings: what a
#   token looks for, what it offers to be found by, and what it passes on.
# - Attention weights are a row-wise softmax of $Q K^\top / \sqrt{d_k}$; the output is those
#   weights times $V$.
# - Without $1/\sqrt{d_k}$, dot products grow like $\sqrt{d_k}$ in size, the softmax saturates and
#   gradients vanish; we measured all three.
# - Multi-head attention gives each head its own weighted average, so different heads can gather
#   from different places without blending them into one average; in our trained
#   model some heads track the previous token and one the matching letter, and removing the
#   matching-letter head takes that question back to the one-head model's level.
# - Heatmaps show where each token reads from: read them row by row, and remember that a weight
#   is a share of an average, not a measure of importance.
