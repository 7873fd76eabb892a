# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3.4 Implementing Transformers from Scratch
#
# **Duration:** approximately 1 - 1.5 hours (a live-coding session: follow along and fill in the
# exercises).
#
# **Learning objectives**
#
# - Gain a deeper understanding of the self-attention mechanism by implementing a simplified
#   version in PyTorch.
# - Reinforce the concepts of Queries, Keys, and Values in code.
# - Understand how attention weights are calculated and applied to the Value matrix.
# - Appreciate the building blocks that form the foundation of Transformer models.
#
# We build scaled dot-product attention one line at a time, each line next to the formula it
# computes,
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V
# \qquad \text{(Eq. 1, Vaswani et al. 2017, section 3.2.1)}$$
#
# then make it fast with matrix multiplication, add padding and causal masks, and split it into
# heads. Ten short exercises (`q1` ... `q10`) ask you to write each piece. After each one,
# `lab34.qN.check()` runs your code on fresh random inputs, compares it with a float64 reference
# and, when it is wrong, names the likely mistake (a softmax over the wrong axis, a missing scale,
# a mask applied after the softmax...). `lab34.qN.hint()`, `lab34.qN.hint(2)` and
# `lab34.qN.solution()` are there when you are stuck. These checks are practice: official grades
# come from the batch grader.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

import attention_lab as al
from attention_lab.exercises import lab34
from attention_lab.viz import plot_attention
from attention_lab.viz.tables import matrix_table

torch.manual_seed(0)
# timings below compare like with like on one core
torch.set_num_threads(1)

# %% [markdown] slide="Live coding: Q, K and V projections"
# <!-- serves: 3.4.2 3.4.1 -->
# ## 1. Queries, keys and values are three linear projections
#
# Every token starts as a vector of size $d_{model}$. Attention looks at it three ways, each a
# learned linear map of the same input $X$ (shape `(B, T, D)`):
#
# | symbol | code | asks |
# |---|---|---|
# | $Q = XW_q$ | `q = W_q(x)` | what am I looking for? |
# | $K = XW_k$ | `k = W_k(x)` | what do I contain? |
# | $V = XW_v$ | `v = W_v(x)` | what do I pass on if chosen? |
#
# In PyTorch a learned linear map is `nn.Linear(d_in, d_out)`; it computes `x @ weight.T + bias`
# over the last axis, so it works for any batch shape.

# %%
tokens = ["the", "cat", "sat", "down"]
d_model, d_k = 8, 4
# (B, T, D): stand-in embeddings of the four tokens
x = torch.randn(1, len(tokens), d_model)

W_q = nn.Linear(d_model, d_k)
q = W_q(x)  # (B, T, D) @ (D, d_k) -> (B, T, d_k)
print("x:", tuple(x.shape), "-> q:", tuple(q.shape))
print(
    "same as x @ W_q.weight.T + W_q.bias:",
    torch.allclose(q, x @ W_q.weight.T + W_q.bias),
)

# %% [markdown]
# <!-- hands-on: 3.4.2 -->
# **Exercise q1.** Complete `QKVProjection`: three `nn.Linear` layers with bias named `W_q`
# (`d_model -> d_k`), `W_k` (`d_model -> d_k`) and `W_v` (`d_model -> d_v`); `forward(x)` returns
# `(q, k, v)`. The check loads its own weights into your layers, so keep these names.


# %%
class QKVProjection(nn.Module):
    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        # BEGIN SOLUTION
        self.W_q = nn.Linear(d_model, d_k)
        self.W_k = nn.Linear(d_model, d_k)
        self.W_v = nn.Linear(d_model, d_v)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        # (B, T, d_k), (B, T, d_k), (B, T, d_v)
        return self.W_q(x), self.W_k(x), self.W_v(x)
        # END SOLUTION


# %%
lab34.q1.check()

# %% [markdown] slide="Implement scaled dot-product attention"
# <!-- serves: 3.4.3 3.4.1 -->
# ## 2. Scores: every query against every key, then the scale
#
# The score of query $i$ against key $j$ is the dot product $q_i \cdot k_j$. All of them at once
# are one matrix product, $QK^\top$: `(T_q, d_k) @ (d_k, T_k) -> (T_q, T_k)`, queries on the rows
# and keys on the columns. With batch dimensions, transpose only the last two axes:
# `k.transpose(-2, -1)` (`k.T` would reverse all of them).
#
# Why divide by $\sqrt{d_k}$? For random vectors with unit-variance entries, $q \cdot k$ is a sum of
# $d_k$ products, so its variance is $d_k$. Measured:

# %%
for width in (4, 64, 512):
    a, b = torch.randn(10_000, width), torch.randn(10_000, width)
    dots = (a * b).sum(-1)
    print(
        f"d_k={width:4d}: std of q·k = {dots.std():6.2f}, after / "
        f"sqrt(d_k): {(dots / math.sqrt(width)).std():.2f}"
    )

# %% [markdown]
# Without the scale, scores of size ±20 push the softmax to a near one-hot row whose gradients
# vanish; dividing by $\sqrt{d_k}$ brings them back to unit scale whatever the width.
#
# <!-- hands-on: 3.4.3 -->
# **Exercise q2.** `attention_scores(q, k)` returns $QK^\top/\sqrt{d_k}$, shape `(..., T_q, T_k)`.


# %%
def attention_scores(q, k):
    # BEGIN SOLUTION
    d_k = q.shape[-1]
    # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    return q @ k.transpose(-2, -1) / math.sqrt(d_k)
    # END SOLUTION


# %%
lab34.q2.check()

# %% [markdown]
# What does the checker say about a wrong answer? `check()` also accepts a function directly.
# Here is the most common mistake of all, the forgotten scale:

# %%
lab34.q2.check(lambda q, k: q @ k.transpose(-2, -1))

# %% [markdown]
# <!-- serves: 3.4.3 -->
# ## 3. Softmax: scores become weights
#
# $\mathrm{softmax}(s)_j = e^{s_j} / \sum_{j'} e^{s_{j'}}$, taken **over the keys** (the last axis),
# so that each query's weights are positive and sum to 1. Adding a constant to a row changes
# nothing, which is how it is kept finite: subtract the row's maximum before `exp`.
#
# <!-- hands-on: 3.4.3 -->
# **Exercise q3.** Write `attention_weights(scores)` with `exp` and `sum` (no `torch.softmax`),
# finite even for scores around 100 (`exp(100)` is `inf` in float32).


# %%
def attention_weights(scores):
    # BEGIN SOLUTION
    # largest exponent is 0: no overflow
    scores = scores - scores.amax(dim=-1, keepdim=True)
    exp = scores.exp()
    return exp / exp.sum(dim=-1, keepdim=True)  # each row sums to 1
    # END SOLUTION


# %%
lab34.q3.check()

# %% [markdown]
# <!-- serves: 3.4.3 -->
# ## 4. The weighted sum of the values
#
# Query $i$'s output is the average of the value vectors weighted by its row of weights,
# $\mathrm{out}_i = \sum_j w_{ij} v_j$: again one matrix product, `(T_q, T_k) @ (T_k, d_v)`.
#
# <!-- hands-on: 3.4.3 -->
# **Exercise q4.** `weighted_sum(weights, v)` -> `(..., T_q, d_v)`.


# %%
def weighted_sum(weights, v):
    # BEGIN SOLUTION
    # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return weights @ v
    # END SOLUTION


# %%
lab34.q4.check()

# %% [markdown] slide="Implement scaled dot-product attention"
# <!-- serves: 3.4.1 3.4.3 -->
# ## 5. The whole of scaled dot-product attention
#
# Three lines, one per step of Eq. 1. Return the weights too: they are what attention heatmaps
# show.
#
# <!-- hands-on: 3.4.1 3.4.3 -->
# **Exercise q5.** `scaled_dot_product_attention(q, k, v, mask=None)` returns `(output, weights)`.
# Ignore `mask` for now; section 7 adds it.


# %%
def scaled_dot_product_attention(q, k, v, mask=None):
    # BEGIN SOLUTION
    scores = attention_scores(q, k)  # (..., T_q, T_k)
    weights = attention_weights(scores)  # softmax over the keys
    return weighted_sum(
        weights, v
    ), weights  # (..., T_q, d_v), (..., T_q, T_k)
    # END SOLUTION


# %%
lab34.q5.check()

# %% [markdown]
# Your function now agrees with the library's and with PyTorch's own fused kernel:

# %%
projection = QKVProjection(d_model, d_k, d_k)
q, k, v = projection(x)
with torch.no_grad():
    ours, weights = scaled_dot_product_attention(q, k, v)
    library_output, library_weights = al.scaled_dot_product_attention(
        q, k, v
    )
    torch.testing.assert_close(ours, library_output)
    torch.testing.assert_close(weights, library_weights)
    torch.testing.assert_close(
        ours, F.scaled_dot_product_attention(q, k, v)
    )
print(
    "matches attention_lab and "
    "torch.nn.functional.scaled_dot_product_attention"
)
plot_attention(
    weights[0],
    tokens,
    title="untrained projections: weights of each query (rows)",
)
plt.show()

# %% [markdown] slide="Matrix products and masks"
# <!-- serves: 3.4.1 3.4.4 -->
# ## 6. Matrix multiplication for efficiency
#
# Nothing above loops over tokens: one `@` computes all $T_q \times T_k$ scores. To see what that
# buys, write the same computation the slow way.
#
# <!-- hands-on: 3.4.1 3.4.4 -->
# **Exercise q6.** `attention_with_loops(q, k, v)` for one sequence (`(T_q, d_k)`, `(T_k, d_k)`,
# `(T_k, d_v)`), returning `(output, weights)` like your matrix version but computing every score,
# weight and output row in Python `for` loops.


# %%
def attention_with_loops(q, k, v):
    # BEGIN SOLUTION
    T_q, d_k = q.shape
    T_k = k.shape[0]
    weights = torch.zeros(T_q, T_k)
    output = torch.zeros(T_q, v.shape[1])
    for i in range(T_q):
        scores = [
            float(q[i] @ k[j]) / math.sqrt(d_k) for j in range(T_k)
        ]  # one query at a time
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        for j in range(T_k):
            weights[i, j] = exps[j] / total
            # weighted sum, one value vector at a time
            output[i] += weights[i, j] * v[j]
    return output, weights
    # END SOLUTION


# %%
lab34.q6.check()

# %% [markdown]
# Now time both on the same inputs. The two versions run alternately (A B A B ...) so that
# whatever else the machine is doing affects both alike, and we keep the median.


# %% slide="Matrix products and masks"
def median_seconds(fn, *args, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


lengths, loop_times, matrix_times = [8, 16, 32, 48], [], []
with torch.no_grad():
    for T in lengths:
        q1, k1, v1 = (
            torch.randn(T, 32),
            torch.randn(T, 32),
            torch.randn(T, 32),
        )
        loops, matrix = [], []
        for _ in range(3):  # interleaved
            loops.append(
                median_seconds(attention_with_loops, q1, k1, v1, repeats=1)
            )
            matrix.append(
                median_seconds(
                    scaled_dot_product_attention, q1, k1, v1, repeats=5
                )
            )
        loop_times.append(sorted(loops)[1])
        matrix_times.append(sorted(matrix)[1])
        print(
            f"T={T:3d}: loops {loop_times[-1] * 1e3:8.2f} ms, matrix "
            f"{matrix_times[-1] * 1e3:6.3f} ms, "
            f"speed-up x{loop_times[-1] / matrix_times[-1]:,.0f}"
        )

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.loglog(
    lengths, [t * 1e3 for t in loop_times], "o-", label="Python loops"
)
ax.loglog(
    lengths,
    [t * 1e3 for t in matrix_times],
    "s-",
    label="matrix multiplication",
)
ax.set_xticks(lengths, [str(T) for T in lengths])
ax.minorticks_off()
ax.set_xlabel("sequence length T")
ax.set_ylabel("time (ms, median)")
ax.set_title("Attention for one sequence, d_k = 32, one CPU thread")
ax.legend()
plt.show()

# %% [markdown]
# Both do the same $T^2 d_k$ multiply-adds; the loop version pays Python's overhead for each of
# them, the matrix version hands the whole product to one optimised kernel (on a GPU, thousands
# of them run at once). The same holds across a batch: one batched call against a Python loop over
# sequences.

# %%
batch = torch.randn(64, 16, 32)  # (B, T, d_k)
with torch.no_grad():
    per_sequence, batched = [], []
    for _ in range(5):
        per_sequence.append(
            median_seconds(
                lambda b: [
                    scaled_dot_product_attention(s, s, s) for s in b
                ],
                batch,
                repeats=1,
            )
        )
        batched.append(
            median_seconds(
                scaled_dot_product_attention,
                batch,
                batch,
                batch,
                repeats=1,
            )
        )
    loop_s, batch_s = sorted(per_sequence)[2], sorted(batched)[2]
print(
    f"64 sequences: loop over the batch {loop_s * 1e3:.2f} ms, one "
    "batched "
    f"call {batch_s * 1e3:.2f} ms (x{loop_s / batch_s:.1f})"
)

# %% [markdown] slide="Matrix products and masks"
# <!-- serves: 3.4.4 3.4.1 -->
# ## 7. Padding and masking
#
# A batch holds sentences of different lengths, so short ones are padded with a `pad_id` token.
# Padding must not receive attention: a **mask** says which keys each query may attend to. Here,
# as in `torch.nn.functional.scaled_dot_product_attention`, a boolean mask has **True = may
# attend**. Two masks matter:
#
# - the **padding mask** `(B, 1, 1, T)`: False at padding keys; the size-1 axes broadcast over
#   heads and query positions;
# - the **causal mask** `(T, T)`: a decoder position must not see the tokens after it, so query
#   $i$ may attend to keys $0..i$ (lower-triangular).
#
# Masking happens on the scores, **before** the softmax: blocked scores become a very negative
# number whose `exp` is 0, so each row's remaining weights still sum to 1.
#
# <!-- hands-on: 3.4.4 -->
# **Exercise q7.** `causal_mask(T)` -> `(T, T)` bool, True where key $j \le$ query $i$.


# %%
def causal_mask(T):
    # BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool).tril()
    # END SOLUTION


# %%
lab34.q7.check()

# %% [markdown]
# <!-- hands-on: 3.4.4 -->
# **Exercise q8.** `padding_mask(tokens, pad_id)` -> `(B, 1, 1, T)` bool, True at real tokens.


# %%
def padding_mask(tokens, pad_id):
    # BEGIN SOLUTION
    return (tokens != pad_id)[:, None, None, :]  # (B, T) -> (B, 1, 1, T)
    # END SOLUTION


# %%
lab34.q8.check()

# %% [markdown]
# <!-- hands-on: 3.4.1 3.4.4 -->
# **Exercise q9.** Redefine `scaled_dot_product_attention(q, k, v, mask=None)` to apply a boolean
# mask before the softmax. It has two parts, credited apart. *Masking*: blocked keys get weight 0
# and each row still sums to 1. *The fully masked query*: a query whose keys are *all* blocked
# must get zero weights and a zero output, not NaN: fill with `torch.finfo(scores.dtype).min`
# rather than `-inf`, and zero the blocked weights after the softmax. The textbook version with
# `-inf` or `-1e9` gets the first part right and the check says so.


# %%
def scaled_dot_product_attention(q, k, v, mask=None):
    # BEGIN SOLUTION
    scores = attention_scores(q, k)  # (..., T_q, T_k)
    if mask is not None:
        # blocked: exp() = 0
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = attention_weights(scores)
    if mask is not None:
        # a fully blocked row: zeros, not uniform
        weights = weights.masked_fill(~mask, 0.0)
    return weighted_sum(weights, v), weights
    # END SOLUTION


# %%
lab34.q9.check()

# %% [markdown]
# A padded batch: "the cat sat down" and "a dog ran" padded with `<pad>` (id 0). With the padding
# mask, no query attends to `<pad>`; adding the causal mask (combined with `&`) also hides the
# future.

# %% slide="Matrix products and masks"
vocab = {
    "<pad>": 0,
    "the": 1,
    "cat": 2,
    "sat": 3,
    "down": 4,
    "a": 5,
    "dog": 6,
    "ran": 7,
}
sentences = [["the", "cat", "sat", "down"], ["a", "dog", "ran", "<pad>"]]
ids = torch.tensor([[vocab[w] for w in s] for s in sentences])  # (B, T)
embed = nn.Embedding(len(vocab), d_model)
with torch.no_grad():
    q, k, v = projection(embed(ids))  # each (B, T, d)
    pad = padding_mask(ids, vocab["<pad>"])[
        :, 0
    ]  # (B, 1, 1, T) -> (B, 1, T) for a batch without heads
    # (B, 1, T) & (T, T) -> (B, T, T)
    both = pad & causal_mask(ids.shape[1])
    _, padded_weights = scaled_dot_product_attention(q, k, v, pad)
    _, causal_weights = scaled_dot_product_attention(q, k, v, both)
    torch.testing.assert_close(
        causal_weights, al.scaled_dot_product_attention(q, k, v, both)[1]
    )

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
plot_attention(
    padded_weights[1], sentences[1], ax=axes[0], title="padding mask"
)
plot_attention(
    causal_weights[1],
    sentences[1],
    ax=axes[1],
    title="padding & causal mask",
)
plt.tight_layout()
plt.show()

# %% [markdown]
# The `<pad>` row still gets weights (it is a query too); that does no harm as long as nothing
# reads its output: the loss ignores padding positions.
#
# Why not `-inf`? A query with no allowed key gets `softmax(-inf, ..., -inf) = 0/0`:

# %%
# (T_q=1, d_k), (T_k=3, d_k)
one_query, three_keys = (
    torch.randn(1, 4),
    torch.randn(3, 4),
)
nothing_allowed = torch.tensor([[False, False, False]])  # (T_q, T_k)
scores = attention_scores(one_query, three_keys)
with_inf = torch.softmax(
    scores.masked_fill(~nothing_allowed, float("-inf")), dim=-1
)
ours_weights = scaled_dot_product_attention(
    one_query, three_keys, three_keys, nothing_allowed
)[1]
display(
    matrix_table(
        torch.cat([with_inf, ours_weights]),
        ["fill with -inf", "ours"],
        ["key 1", "key 2", "key 3"],
        caption="the weights of a query that may see no key",
    )
)

# %% [markdown] slide="Modify and compare"
# <!-- serves: 3.4.2 3.4.4 -->
# ## 8. Multi-head attention: split, attend, merge
#
# Multi-head attention runs $H$ attentions side by side, each in its own $d_k = D/H$-dimensional
# slice of the projections, then concatenates them and mixes them with $W_o$
# (Vaswani et al. 2017, section 3.2.2). Splitting is a reshape **plus a transpose**:
#
# `(B, T, D) -> view (B, T, H, d_k) -> transpose (B, H, T, d_k)`
#
# A bare `view(B, H, T, d_k)` has the right shape but cuts the memory in the wrong place: each
# "head" would mix features from different positions. With the head axis in front of `T`, your
# attention function treats `(B, H)` as batch dimensions and runs every head at once. Merging
# undoes it: `transpose(1, 2)` then `reshape(B, T_q, D)`.
#
# <!-- hands-on: 3.4.2 3.4.4 -->
# **Exercise q10.** Complete `MultiHeadAttention(d_model, num_heads)` with layers `W_q`, `W_k`,
# `W_v`, `W_o` (each `nn.Linear(d_model, d_model)`); `forward(query, key, value, mask=None)`
# returns `(B, T_q, D)`. Pass `mask` on to your attention function.


# %%
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        # BEGIN SOLUTION
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        # END SOLUTION

    def forward(self, query, key, value, mask=None):
        # BEGIN SOLUTION
        B, T_q, D = query.shape

        def split(x):  # (B, T, D) -> (B, T, H, d_k) -> (B, H, T, d_k)
            H, d_k = self.num_heads, self.d_k
            return x.view(B, x.shape[1], H, d_k).transpose(1, 2)

        q = split(self.W_q(query))
        k, v = split(self.W_k(key)), split(self.W_v(value))
        # (B, H, T_q, d_k)
        heads, _ = scaled_dot_product_attention(q, k, v, mask)
        # (B, H, T_q, d_k) -> (B, T_q, H, d_k) -> (B, T_q, D)
        concat = heads.transpose(1, 2).reshape(B, T_q, D)
        return self.W_o(concat)  # (B, T_q, D) @ (D, D) -> (B, T_q, D)
        # END SOLUTION


# %%
lab34.q10.check()

# %% [markdown]
# Same weights, same numbers as the library's `MultiHeadAttention` and, through it, PyTorch's
# `nn.MultiheadAttention`:

# %%
torch_mha = nn.MultiheadAttention(d_model, num_heads=2, batch_first=True)
library_mha = al.MultiHeadAttention.from_torch(torch_mha)
mine = MultiHeadAttention(d_model, num_heads=2)
mine.load_state_dict(library_mha.state_dict())
x2 = torch.randn(2, 5, d_model)
with torch.no_grad():
    torch.testing.assert_close(mine(x2, x2, x2), library_mha(x2, x2, x2))
    torch.testing.assert_close(
        mine(x2, x2, x2), torch_mha(x2, x2, x2, need_weights=False)[0]
    )
print(
    "MultiHeadAttention matches attention_lab and "
    "torch.nn.MultiheadAttention"
)

# %% [markdown]
# <!-- hands-on: 3.4.1 3.4.4 -->
# ## Try this
#
# Change the parameters below and re-run the cell.
#
# 1. Set `scale` to `1.0` (no scaling) and raise `d_k` to 256: how peaked do the weights get?
#    What does that do to the gradients a softmax passes back?
# 2. Set `num_heads` to 1, 2, 4 and 8 for `d_model = 32`: the parameter count does not change.
#    Why not? (Hint: count the weights of `W_q`.)
# 3. In your `scaled_dot_product_attention`, swap `dim=-1` for `dim=-2` in the softmax and run
#    `lab34.q5.check()`: read what the checker says.

# %%
d_k_try, scale = 256, None  # None: 1 / sqrt(d_k)
qt, kt = torch.randn(1, 6, d_k_try), torch.randn(1, 6, d_k_try)
factor = 1 / math.sqrt(d_k_try) if scale is None else scale
peak = (
    torch.softmax(qt @ kt.transpose(-2, -1) * factor, dim=-1)
    .amax(-1)
    .mean()
)
print(
    f"d_k={d_k_try}, scale={factor:.4f}: mean largest weight per row = "
    f"{peak:.2f} (1.00 = one-hot)"
)
for num_heads in (1, 2, 4, 8):
    n_params = sum(
        p.numel() for p in MultiHeadAttention(32, num_heads).parameters()
    )
    print(f"num_heads={num_heads}: {n_params} parameters")

# %% [markdown]
# Your progress on all ten exercises:

# %%
lab34.summary()

# %% [markdown] slide="The building blocks of every Transformer"
# ## Key takeaways
#
# - Q, K and V are three learned linear projections of the same tokens (`nn.Linear`), and the
#   whole of attention is three lines: scores `q @ k.transpose(-2, -1) / sqrt(d_k)`, a softmax over
#   the keys, and `weights @ v`.
# - The $\sqrt{d_k}$ scale keeps the scores at unit scale whatever the width, so the softmax does
#   not saturate.
# - Matrix multiplication computes every query-key pair at once: orders of magnitude faster than
#   Python loops on the same arithmetic, and the reason attention parallelises where an RNN cannot.
# - Masks act on the scores before the softmax (True = may attend here): padding masks hide
#   padding, causal masks hide the future, and a fully masked query should give zeros, not NaN.
# - Multi-head attention is a reshape and a transpose around the same function: `(B, T, D) ->
#   (B, H, T, d_k)`, attend, and back, then $W_o$. These pieces are the building blocks of every
#   Transformer layer in the next lessons.
