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
# # 3.1 The Need for Transformers
#
# **Duration:** approximately 1 - 1.5 hours (lecture and discussion).
#
# **Learning objectives**
#
# - Understand the limitations of Recurrent Neural Networks (RNNs) when processing sequential
#   data, particularly long sequences.
# - Identify the vanishing and exploding gradient problems in RNNs.
# - Appreciate the sequential nature of RNN computations and its impact on parallelization.
# - Grasp the challenges RNNs face in capturing long-range dependencies in sequences.
# - Understand how the Transformer architecture addresses these limitations through the attention
#   mechanism.
#
# Every course *says* that RNNs suffer from vanishing gradients and cannot be parallelised. Here
# you *measure* it: each claim comes with an experiment that runs in under a minute, and that you
# can change. The page runs small versions; the full ones are one command each:
#
# ```
# attention-lab run rnn-gradients --quick --plot gradients.png
# attention-lab run sequential-vs-parallel --quick --plot timing.png
# attention-lab run long-range --quick --plot long_range.png
# attention-lab run rnn-attention --quick --plot bottleneck.png
# ```

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from torch import nn

from attention_lab import TanhRNN
from attention_lab.experiments import (
    long_range,
    rnn_attention,
    rnn_gradients,
    sequential,
)
from attention_lab.measurements import recorded_gpu_rnn_vs_attention
from attention_lab.nn.multihead import use_readable_attention
from attention_lab.tasks import agreement_task, decode_agreement
from attention_lab.viz import draw_gradient_flow, draw_rnn_unrolled
from attention_lab.viz.processing import (
    draw_rnn_vs_transformer,
    plot_cpu_and_gpu,
)
from attention_lab.viz.tables import matrix_table

torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown] slide="Predict the last word"
# <!-- serves: 3.1.1 3.1.4 -->
# ## Long-range dependencies
#
# Language is full of words that depend on other words far away:
#
# - **Predicting the last word of a long sentence.** *"The **keys** to the old cabinet in the
#   hallway next to my grandmother's kitchen **are** on the table."* The verb agrees with
#   *keys*, thirteen words back, not with *kitchen*, the nearest noun.
# - **Understanding context in a long paragraph.** *"**Ana** grew up in Porto. [...three
#   sentences about the weather, a train journey and a job interview...] At lunch, the manager
#   asked where **she** had learned such good **Portuguese**."* Both *she* and *Portuguese* are
#   decided by the first sentence.
# - Code and data: a closing bracket that matches one opened 200 tokens earlier; a variable used
#   long after its definition.
#
# To measure this, we keep exactly the first example and nothing else: a subject, $L$ filler
# words (some of them nouns of the other number, *attractors*), and the slot where the verb goes.
# The answer depends on one word $L + 1$ positions back.

# %%
batch = agreement_task(4, distance=8, seed=1)
for tokens, label in zip(batch.tokens, batch.labels):
    print(decode_agreement(tokens, label))

# %% [markdown] slide="How an RNN reads a sentence"
# <!-- serves: 3.1.1 3.1.3 -->
# ## How an RNN reads a sequence
#
# A recurrent network keeps a hidden state $h_t$, a summary of everything read so far, and updates
# it once per word (Elman 1990):
#
# $$h_t = \tanh(W_{ih}\, x_t + W_{hh}\, h_{t-1} + b)$$
#
# Unrolled in time, the same cell with the same weights is applied once per position. Two things
# follow from the picture:
#
# 1. **Everything the network knows about word 1 must survive in $h$** through every later step:
#    a fixed-size vector squeezed and rewritten $T$ times.
# 2. **Step $t$ cannot start before step $t - 1$ has finished.** $T$ words take $T$ steps, one
#    after another, however many processors you have.

# %% slide="How an RNN reads a sentence"
fig = draw_rnn_unrolled(steps=5)

# %% [markdown]
# <!-- hands-on: 3.1.1 -->
# ### Exercise: one step of an RNN
#
# Write `my_rnn_step(x_t, h_prev, W_ih, W_hh, b)` for a batch: `x_t` is `(B, D_in)`, `h_prev` is
# `(B, D)`, `W_ih` is `(D, D_in)`, `W_hh` is `(D, D)` and `b` is `(D,)`. The cell after it runs
# your step in a loop and compares the result with the library's `TanhRNN` and with PyTorch's own
# `nn.RNN`.


# %%
def my_rnn_step(x_t, h_prev, W_ih, W_hh, b):
    # BEGIN SOLUTION
    return torch.tanh(x_t @ W_ih.T + h_prev @ W_hh.T + b)
    # END SOLUTION


# %%
reference = nn.RNN(input_size=3, hidden_size=4, batch_first=True)
# the same weights, written out step by step
rnn = TanhRNN.from_torch(reference)
x = torch.randn(2, 6, 3)  # (B, T, D_in)
h = torch.zeros(2, 4)
with torch.no_grad():
    for t in range(
        x.shape[1]
    ):  # one step after another: there is no other way
        h = my_rnn_step(
            x[:, t], h, rnn.W_ih, rnn.W_hh, rnn.b_ih + rnn.b_hh
        )
    torch.testing.assert_close(h, rnn(x)[1])
    torch.testing.assert_close(h, reference(x)[1][0])
print("your step, looped over 6 positions, matches TanhRNN and nn.RNN")

# %% [markdown] slide="Gradients through time"
# <!-- serves: 3.1.2 -->
# ## Vanishing and exploding gradients
#
# Training needs the gradient of the loss with respect to early hidden states.
# Backpropagation through time applies the chain rule once per step:
#
# $$\frac{\partial L}{\partial h_{t-1}} = \Big(\frac{\partial h_t}{\partial h_{t-1}}\Big)^{\!\top}
# \frac{\partial L}{\partial h_t}, \qquad
# \frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}\big(1 - h_t^2\big)\, W_{hh}$$
#
# so the gradient $d$ steps back is a product of $d$ such matrices. Since $|\tanh'| \le 1$, its
# size is at most $\sigma_{max}(W_{hh})^d$ times the gradient at the loss, where $\sigma_{max}$ is
# the largest singular value (Pascanu, Mikolov and Bengio 2013): **below 1 the gradient vanishes
# exponentially**; above 1 it *can* explode (a necessary condition, not a sufficient one, since
# tanh may saturate).
#
# In the picture, the red arrows carry the gradient backwards; in the RNN each arrow multiplies by
# up to $\sigma_{max}$ again. In a self-attention layer the output at $T$ is a weighted sum of
# every position, so the gradient reaches each input in **one** step.

# %% slide="Gradients through time"
fig = draw_gradient_flow(steps=6, spectral_norm=0.7)

# %% [markdown]
# The experiment: a vanilla RNN with $W_{hh} = \rho\, Q$ ($Q$ a random orthogonal matrix, so every
# singular value is exactly $\rho$), 100 steps of small random inputs, a loss on the last hidden
# state. We measure $\|\partial L / \partial h_{T-d}\|$ for every distance $d$, for
# $\rho \in \{0.5, 0.9, 1.0, 1.1, 1.5\}$, for an LSTM, and for one self-attention layer. The
# bottom row trains the same RNN, started at $\rho = 1.5$, with plain SGD, with and without
# gradient-norm clipping.

# %% slide="Gradients through time"
grads = rnn_gradients.run(quick=True, seed=0, progress=False, clip_runs=3)
fig = grads.plot()

# %%
distance = grads.distances[-1]
print(
    f"gradient at distance {distance} / gradient at distance 1, and "
    "per-step factor:"
)
for rho in grads.spectral_norms:
    norms = grads.grad_norms[str(rho)]
    rate = grads.decay_rate[str(rho)]
    print(
        f"  RNN  sigma_max = {rho:<4}  ratio {norms[-1] / norms[0]:9.2e}  "
        " "
        f"factor {rate:.3f}"
    )
for name, norms in (("LSTM", grads.lstm), ("attention", grads.attention)):
    rate = grads.decay_rate["lstm" if name == "LSTM" else "attention"]
    print(
        f"  {name:<21} ratio {norms[-1] / norms[0]:9.2e}   factor "
        f"{rate:.3f}"
    )
clip = grads.clipping
print(
    f"training at lr={clip['lr']}: runs that failed (test accuracy < 90%) "
    f"over {clip['runs']} "
    f"seeds: {clip['failed_unclipped']} without clipping, "
    f"{clip['failed_clipped']} with clipping"
)

# %% [markdown]
# What we measured:
#
# - **Vanishing.** With $\sigma_{max} = 0.5$ and $0.9$ the gradient 100 steps back is many orders
#   of magnitude smaller than one step back: whatever the loss says about word 1 never reaches the
#   weights that read it. The fitted per-step factor sits *below* the theory's $\sigma_{max}$:
#   $\tanh' < 1$ only removes more.
# - **Even $\sigma_{max} = 1$ loses the gradient**, more slowly: the tanh derivative is below 1
#   whenever the state is not exactly 0.
# - **Exploding.** With $\sigma_{max} = 1.5$ the gradient *grows* with the distance (by hundreds of
#   times over 100 steps here), but less than $1.5^{100}$: saturation holds it back.
# - **The LSTM is no magic at initialisation.** Its cell state is updated additively,
#   $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, so the gradient along it shrinks by the forget
#   gate $f_t$ per step. PyTorch initialises the forget-gate bias at 0 ($f \approx 0.5$); a bias
#   of 1 ($f \approx 0.73$) is a common recommendation (Jozefowicz et al. 2015), and with it the
#   gradient still vanishes, by about $0.73^{100} \approx 10^{-14}$ over 100 steps. With a bias of
#   3 ($f \approx 0.95$) it decays about 100 times ($0.95^{100} \approx 0.6\%$ remains), not
#   $10^{14}$ times: weak enough to learn from. The LSTM's advantage is that the network can
#   *learn* to hold the gate open; it does not get it for free.
# - **Attention does not decay at all**: every input is one step from the output.
# - **Clipping.** Without clipping, a gradient spike turns into a huge parameter step and the loss
#   jumps far above chance; rescaling the gradient to norm 1 before each step keeps the same run
#   stable. Clipping tames *exploding* gradients; it does nothing for vanishing ones.

# %% [markdown]
# <!-- hands-on: 3.1.2 -->
# ### Try this: change the spectral norm
#
# Pick a $\sigma_{max}$ and predict, *before running*, the theory's bound on
# $\|\partial L/\partial h_{T-100}\| \,/\, \|\partial L/\partial h_{T-1}\|$ (99 steps apart). Then
# run the cell. Try $0.95$, $1.05$, $1.3$; then set `input_std = 1.0` (large inputs saturate tanh)
# and see what happens to the exploding case.

# %%
rho = 0.95
input_std = 0.1
# BEGIN SOLUTION
# each of the 99 steps multiplies by at most sigma_max (gamma = 1 for tanh)
my_bound = rho**99
# END SOLUTION
norms = rnn_gradients.measure_gradients(
    "rnn", rho, max_distance=100, input_std=input_std
)
measured = norms[-1] / norms[0]
print(
    f"your bound {my_bound:.3g}, measured {measured:.3g}, per-step factor "
    f"{rnn_gradients.per_step_rate(list(range(1, 101)), norms):.3f} "
    "(theory "
    f"<= {rho})"
)
print(
    "the measurement respects the bound"
    if measured <= my_bound * 1.05
    else "the measurement is above your bound: check the exponent and "
    "the base"
)

# %% [markdown] slide="How an RNN reads a sentence"
# <!-- serves: 3.1.3 -->
# ## Sequential computation
#
# An RNN needs $T$ sequential steps for $T$ positions. One self-attention layer needs **one**:
# every output is computed from the same inputs at once, as a few matrix products. Vaswani et al.
# (2017, Table 1) put it in three columns:
#
# | layer          | work per layer     | sequential operations | longest path between two positions |
# |----------------|--------------------|-----------------------|-----------------------------------|
# | self-attention | $O(T^2 \cdot d)$   | $O(1)$                | $O(1)$                             |
# | recurrent      | $O(T \cdot d^2)$   | $O(T)$                | $O(T)$                             |
#
# Note the first column: attention does *more* total work as $T$ grows. Its win is that the work
# can run in parallel. We time forward + backward of a fused `nn.RNN`, a fused `nn.LSTM` and one
# `MultiHeadAttention` layer (batch 8, width 64) on this machine, with **one CPU thread**.

# %% slide="How an RNN reads a sentence"
timing = sequential.run(
    lengths=(16, 32, 64, 128, 256, 512), repeats=3, progress=False
)
fig = timing.plot()
print(f"{'T':>5} {'RNN ms':>8} {'LSTM ms':>8} {'attention ms':>13}")
for i, T in enumerate(timing.lengths):
    print(
        f"{T:>5} {1e3 * timing.rnn_seconds[i]:>8.2f} "
        f"{1e3 * timing.lstm_seconds[i]:>8.2f} "
        f"{1e3 * timing.attention_seconds[i]:>13.2f}"
    )
print(
    "growth exponents (time ~ T^k):",
    {name: round(k, 2) for name, k in timing.growth_exponent.items()},
)

# %% [markdown]
# Read the figure honestly. On one CPU thread there is no parallel hardware for attention to use,
# so the step count (left) does not turn into a wall-clock win (right): attention's time grows
# faster than the RNN's because its work grows like $T^2$, and a fused LSTM can be as fast or
# faster. The recurrent layers' time grows about linearly, as their $T$ sequential steps predict.
# (On a shared machine the wall times are noisy; the dotted lines are the CPU time of the
# thread.)
#
# On a GPU the picture is expected to turn around: each of the RNN's $T$ steps is a tiny kernel
# that leaves the chip almost idle, while attention's matrix products can fill it. This page runs
# on a CPU and cannot show that itself, but a recorded GPU measurement can. The right panel below
# comes from one NVIDIA H100 (2026-11-27, torch 2.11.0+cu130, torch's own `nn.LSTM`,
# `nn.TransformerEncoderLayer` and a Python loop over `nn.RNNCell`; batch 16, width 256, fp32,
# forward + backward, CUDA-event medians; the data and its method ship with the package in
# `attention_lab/measurements/`). Its sizes are not the CPU run's (batch 8, width 64), so compare
# the *shapes* of the curves, not the milliseconds.

# %% slide="How an RNN reads a sentence"
gpu = recorded_gpu_rnn_vs_attention()
for T, lstm, encoder, loop in zip(
    gpu.lengths, gpu.lstm_ms, gpu.encoder_ms, gpu.loop_rnn_ms
):
    loop_text = (
        f"{loop / encoder:5.1f}x" if loop is not None else "  (not run)"
    )
    print(
        f"T = {T:4}: LSTM / encoder layer {lstm / encoder:4.1f}x, loop "
        "RNN "
        f"/ encoder {loop_text}"
    )
plot_cpu_and_gpu(timing, gpu)

# %% [markdown]
# On the GPU the fused LSTM is slower than the encoder layer at every recorded length, and the
# gap grows from $T = 64$ to $T = 1024$; at 4096 it narrows again as attention's $T^2$ work starts
# to show. The Python-loop RNN, which makes the sequential dependency explicit, is slower still.
# To measure it yourself on a GPU
# (`benchmarks/RESULTS.md` records the runs made so far):
#
# ```
# python benchmarks/rnn_vs_attention_gpu.py --json gpu.json --plot gpu.png
# ```
#
# This is the argument of the paper (section 4): during training the whole sequence is processed
# in one parallel step per layer, which is what made training on long texts practical.
#
# ### The two ways of processing a sequence, side by side
#
# The picture of this section, drawn with the numbers measured above: on the left, $T$ steps in a
# chain vs all pairs in one step, and the path from the first token to the last ($T - 1$ steps
# vs 1); on the right, the sequential steps per layer that the timing experiment counted, and how
# much of the gradient survives 100 positions (from the gradient experiment).

# %% slide="How an RNN reads a sentence"
draw_rnn_vs_transformer(timing, grads, steps=6)

# %% [markdown]
# <!-- hands-on: 3.1.3 -->
# ### Exercise: when does attention do more work?
#
# Per layer and per sequence, an LSTM does about $8 T d^2$ multiply-adds (4 gates, 2 matrices
# each), self-attention about $4 T d^2 + 2 T^2 d$ (4 projections, then $QK^\top$ and the weighted
# sum of $V$). For the paper's $d_{model} = 512$, from which length $T$ on does attention do more
# multiply-adds than the LSTM? Work it out, then let `sequential.multiply_adds` check you.

# %%
d_model = 512
# BEGIN SOLUTION
my_crossover = 2 * d_model  # 8 T d^2 = 4 T d^2 + 2 T^2 d  <=>  T = 2 d
# END SOLUTION
work = sequential.multiply_adds(
    my_crossover, batch_size=1, d_model=d_model
)
shorter = sequential.multiply_adds(
    my_crossover - 1, batch_size=1, d_model=d_model
)
correct = (
    work["attention"] == work["lstm"]
    and shorter["attention"] < shorter["lstm"]
)
print(
    f"T = {my_crossover}: attention {work['attention']:,} vs LSTM "
    f"{work['lstm']:,} multiply-adds"
)
print(
    "correct: the two are equal there"
    if correct
    else "not yet: set the two sums equal, solve for T"
)

# %% [markdown] slide="Predict the last word"
# <!-- serves: 3.1.4 -->
# ## Long-range dependencies, measured
#
# Now the verb-agreement task from the start, at several distances $L$. A vanilla RNN, an LSTM and
# a small Transformer (two encoder layers of the library's `EncoderLayer`) get an honest,
# identical setting: the same training sentences, the same width (32), the same optimizer (Adam,
# learning rate `long_range.LEARNING_RATE` $= 3 \cdot 10^{-3}$, which a sweep over
# $\{10^{-3}, 3 \cdot 10^{-3}, 10^{-2}\}$ picked as best or tied-best for all three; repeat it
# with `long_range.run(lr=...)`), the same batch size,
# step budget and gradient clipping, and the same 1000 held-out test sentences. The page runs two
# distances; `attention-lab run long-range --quick` runs four, up to $L = 100$.

# %% slide="Predict the last word"
agreement = long_range.run(
    distances=(5, 30), steps=300, seed=0, progress=False
)
fig = agreement.plot()
display(
    matrix_table(
        [
            [100 * acc for acc in accuracy]
            for accuracy in agreement.accuracy.values()
        ],
        [
            f"{name} ({agreement.params[name]:,} parameters)"
            for name in agreement.accuracy
        ],
        [f"L = {L}" for L in agreement.distances],
        decimals=1,
        caption="held-out accuracy (%)",
        corner="model",
    )
)

# %% [markdown]
# What we measured: at $L = 5$ all three models learn the task almost perfectly. At $L = 30$ the
# vanilla RNN is at chance (50%): its gradient from the verb never reaches the subject, so it
# cannot learn what to remember. **The LSTM fails too, within this budget**: its gates *can* learn
# to keep the subject, but with 300 steps it does not find that solution (it does with more
# steps and shorter distances, try it below). The Transformer gets it right at both distances,
# because the verb slot looks at the subject directly (`attention-lab run long-range --quick` takes
# it to $L = 100$).
#
# This is a fair fight, not a rigged one, but it is *one* budget: the Transformer has more
# parameters at the same width, and a better-tuned LSTM with a longer schedule would go further.
# What does not change with tuning is the mechanism: the RNN's signal must pass through $L$ steps,
# attention's through one.

# %% [markdown]
# <!-- hands-on: 3.1.4 -->
# ### Try this: change the distance
#
# Where between 5 and 30 does the vanilla RNN give up, and the LSTM? Change `L` (and `models`,
# `steps`) and run; the cell prints how long it took.

# %%
L = 15
trial = long_range.run(
    distances=(L,), models=("rnn", "lstm"), steps=300, progress=False
)
for name, accuracy in trial.accuracy.items():
    print(
        f"{name}: {accuracy[0]:.1%} (chance 50%), trained in "
        f"{trial.cpu_seconds[name][0]:.1f} s CPU"
    )

# %% [markdown] slide="Attention as the way out"
# <!-- serves: 3.1.5 -->
# ## Attention as the solution
#
# When you read *"The keys to the old cabinet in the hallway next to my grandmother's kitchen
# \_\_\_ on the table"* and must choose *is* or *are*, you do not replay the sentence word by word;
# your eyes jump back to *keys*. Human attention is selective: in a noisy room you follow one
# voice and ignore the rest (the "cocktail party effect"); on a page you focus on the few words
# that matter for the question in your head.
#
# An attention layer does the same with arithmetic. The position that needs information (the
# verb slot) sends a **query**, "where is my subject?"; every position offers a **key**; the
# softmax of query-key similarities decides how much of each position's **value** to take. This
# fixes all three limitations at once:
#
# - **one step between any two positions**, so the gradient does not vanish with distance
#   (measured above: the attention curve is flat);
# - **no recurrence**, so all positions are computed in parallel;
# - **no bottleneck**: nothing has to be squeezed into one hidden state and survive $L$ updates.
#
# Do we see it? We train the small Transformer at $L = 20$ and look at where the verb slot attends
# in each layer, averaged over 200 test sentences.

# %%
torch.manual_seed(0)
model = long_range.make_model(
    "transformer", vocab_size=batch.vocab_size, width=32
)
long_range.train(
    model,
    agreement_task(250 * 32, 20, seed=0),
    steps=250,
    batch_size=32,
    lr=3e-3,
)
test = agreement_task(200, 20, seed=5)
print(f"test accuracy at L=20: {long_range.evaluate(model, test):.1%}")
# the readable layers keep the attention weights
use_readable_attention(model)
model.eval()
with torch.no_grad():
    model(test.tokens)
# (layers, heads, T): the slot's row
slot_attention = torch.stack(
    [
        layer.self_attn.attn_weights[:, :, -1, :].mean(0)
        for layer in model.layers
    ]
)
fig, axes = plt.subplots(
    1, len(model.layers), figsize=(11, 3), sharey=True
)
for i, ax in enumerate(axes):
    for h, row in enumerate(slot_attention[i]):
        ax.plot(row.numpy(), marker=".", label=f"head {h}")
    ax.set_title(f"layer {i + 1}: where the verb slot attends")
    ax.set_xlabel("position (0 = subject, last = verb slot)")
axes[0].set_ylabel("attention weight (mean)")
axes[-1].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# <!-- hands-on: 3.1.5 -->
# ### Exercise: read the attention
#
# In the last layer, which position does the verb slot attend to most, and with how much weight
# (the best head)? Answer from the figure, then run the check. Compare with the weight
# $1/22$ that a uniform average over the 22 positions would give.

# %%
# BEGIN SOLUTION
my_position = 0
# END SOLUTION
best_head = slot_attention[-1].max(dim=-1).values.argmax()
top_position = int(slot_attention[-1, best_head].argmax())
weight = float(slot_attention[-1, best_head, top_position])
print(
    f"head {int(best_head)} of the last layer puts {weight:.0%} of the "
    "slot's attention on "
    f"position {top_position} (uniform would be {1 / 22:.0%})"
)
print(
    "correct: the subject"
    if my_position == top_position
    else "not quite: look again at the peaks of the last layer"
)

# %% [markdown] slide="Attention added to recurrence, then recurrence dropped"
# <!-- serves: 3.1.1 3.1.5 -->
# ## Before attention replaced recurrence, it was added to it
#
# The first neural translators were **RNN encoder-decoders** (Sutskever, Vinyals and Le 2014; Cho
# et al. 2014): one RNN reads the source sentence, and its *last hidden state*, one fixed-size
# vector, is all the decoder gets. However long the sentence, everything must pass through that
# vector: the same bottleneck as in the agreement task, now for a whole sentence.
# Bahdanau, Cho and Bengio (2014) kept the RNNs and added **attention**: at every output step the
# decoder scores every encoder state, $e_j = v^\top \tanh(W_s s + W_h h_j)$ (*additive*
# attention), turns the scores into weights with a softmax, and reads their weighted average.
# Three years later the Transformer kept the attention and dropped the recurrence.
#
# `rnn_attention` measures the three on the number translator of lesson 3.3 (number words to
# digits), with the same budget for all: the same training numbers in the same order, steps,
# batch, optimizer and seed; held-out exact match, grouped by the length of the source in words
# (300 steps each, as `attention-lab run rnn-attention --quick`; about a minute of CPU in all).

# %% slide="Attention added to recurrence, then recurrence dropped"
bridge = rnn_attention.run(quick=True, seed=0, progress=False)
display(
    matrix_table(
        [
            [100 * v for v in values] + [100 * bridge.overall[name]]
            for name, values in bridge.exact_match.items()
        ],
        [rnn_attention.LABELS[name] for name in bridge.exact_match],
        [
            f"{n} words ({c})"
            for n, c in zip(bridge.source_lengths, bridge.test_counts)
        ]
        + ["all"],
        decimals=0,
        caption="held-out exact match (%), by source length "
        "(held-out numbers)",
        corner="model",
    )
)
bridge.plot()

# %% [markdown]
# Read the left panel first: in this run the plain encoder-decoder gets barely more than half of
# the held-out numbers right and does worse on the longer inputs than on the short ones, while
# the same RNNs with
# attention, trained exactly as long, translate almost all of them, as the Transformer does.
# (With fewer steps, try `steps=200`, the gap is wider still and the Transformer learns
# fastest.) The right panel is the
# alignment the attention model learned on its own (Bahdanau et al.'s Figure 3 shows the same
# kind of picture for English-French): each digit looks at the words that say it. The fixed-size
# bottleneck is a measurement here, and attention removes it. What attention added to an RNN did
# not remove is the recurrence: the encoder and the decoder still take one step per token.
#
# <!-- hands-on: 3.1.5 -->
# **Try this.** Run `rnn_attention.run(steps=200, hidden_size=128, progress=False)`. Does a
# wider hidden state (a bigger bottleneck) close the gap of the plain encoder-decoder? Predict
# first, then look at the longest inputs.

# %% [markdown] slide="Attention added to recurrence, then recurrence dropped"
# <!-- serves: 3.1.1 3.1.2 3.1.5 -->
# ## Key papers, in our words
#
# Each paper below is summarised in our own words and tied to the experiment on this page that
# reproduces its point.
#
# - **Bengio, Simard and Frasconi (1994), "Learning long-term dependencies with gradient descent
#   is difficult".** A recurrent network that stores information robustly must have contracting
#   dynamics, and with contracting dynamics the gradient from a distant step shrinks
#   exponentially, so the longer the dependency, the less gradient descent can learn it. *On this
#   page:* the gradient-norm curves for $\sigma_{max} < 1$, and the vanilla RNN at chance at
#   $L = 30$ in the agreement task.
# - **Hochreiter and Schmidhuber (1997), "Long short-term memory".** A memory cell updated by
#   addition, with multiplicative gates that decide what to write, keep and read, gives the
#   error signal a path that need not decay (the "constant error carousel"). *On this page:* the
#   LSTM's gradient depends on its forget gate, and it does not solve long distances for free.
# - **Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural
#   networks".** The gradient $d$ steps back is bounded by $\sigma_{max}(W_{hh})^d$: below 1 it
#   vanishes, above 1 it can explode; clipping the gradient norm handles explosions, not
#   vanishing. *On this page:* the gradient experiment with $W_{hh} = \rho Q$ and the clipping
#   runs.
# - **Bahdanau, Cho and Bengio (2014), "Neural machine translation by jointly learning to align
#   and translate".** Encoding a whole sentence into one fixed-length vector hurts on long
#   sentences; letting the decoder attend over all encoder states fixes it and learns an
#   alignment as a by-product. *On this page:* the bottleneck experiment just above.
# - **Vaswani et al. (2017), "Attention is all you need".** Attention alone, without recurrence,
#   gives one sequential step per layer and a path of length one between any two positions
#   (Table 1), and trains faster on parallel hardware. *On this page:* the step counts, the flat
#   attention gradient curve, the Transformer on the agreement task, and the recorded GPU times.

# %% [markdown] slide="Human attention and its limits"
# ## Key takeaways
#
# - An RNN reads one position per step and carries everything in one hidden state: $T$
#   positions mean $T$ sequential steps and a long chain between distant words.
# - Backpropagation through time multiplies one Jacobian per step: with $\sigma_{max}(W_{hh}) < 1$
#   the gradient vanishes exponentially (we measured factors near $\sigma_{max}$ per step), above
#   1 it can explode; gradient clipping tames explosions but not vanishing.
# - LSTMs help because their cell state is additive and gated, but only when the forget gate is
#   held near 1; at a fixed training budget they also failed at long distances here.
# - The sequential dependency makes RNNs hard to parallelise; attention needs one step per layer
#   for any length. That can only pay off in wall-clock time on parallel hardware (a GPU; the
#   GPU script measures it), not on one CPU thread, where attention's $O(T^2)$ work shows instead.
# - Attention connects every position to every other in one step: the gradient does not decay
#   with distance, and a small Transformer solved agreement at every distance we tried, by
#   attending from the verb straight to its subject.
# - Attention was first added to RNN encoder-decoders (Bahdanau et al. 2014) to remove the
#   fixed-size bottleneck between encoder and decoder; measured here, it closes the gap on longer
#   inputs. The Transformer then removed the recurrence too.
#
# **Further reading:** Hochreiter (1991) and Bengio, Simard and Frasconi (1994) on vanishing
# gradients; Pascanu, Mikolov and Bengio (2013), *On the difficulty of training recurrent neural
# networks*; Hochreiter and Schmidhuber (1997), *Long short-term memory*; Linzen, Dupoux and
# Goldberg (2016) on subject-verb agreement; Vaswani et al. (2017), *Attention is all you need*,
# section 4 and Table 1.
