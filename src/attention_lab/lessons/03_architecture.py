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
# # 3.3 The Transformer Architecture
#
# **Duration:** approximately 2 - 2.5 hours (building the full architecture step-by-step).
#
# **Learning objectives**
#
# - Understand the overall architecture of the Transformer, including the encoder and decoder
#   stacks.
# - Learn about the role of positional encodings in handling sequence order.
# - Grasp the function of layer normalization and residual connections in stabilizing and
#   accelerating training.
# - Understand the flow of information through the encoder and decoder.
# - Identify the key components of the original "Attention is All You Need" paper.
#
# Every number on this page is computed by the `attention_lab` library as the page runs; the
# experiments use small settings, from seconds each to about a minute for the translator, on a
# laptop CPU.

# %%
import math
import os
from pathlib import Path

import torch
from IPython.display import Markdown, display

from attention_lab import (
    EncoderLayer,
    NumberTranslation,
    sinusoidal_positional_encoding,
    trace,
)
from attention_lab.experiments import (
    positional_ablation,
    residual_ablation,
    training_recipe,
)
from attention_lab.experiments.masking import masking_demo
from attention_lab.numerics import rounding_bound
from attention_lab.paper import paper_table_markdown
from attention_lab.tasks.numbers import (
    VOCABULARY,
    number_to_digits,
    number_to_words,
)
from attention_lab.tracing import trace_sentence, word_vector
from attention_lab.viz.architecture import (
    draw_transformer,
    plot_positional_encoding,
    plot_positional_similarity,
)
from attention_lab.viz.decoder_diagram import decoder_steps, draw_decoder
from attention_lab.viz.masks_diagram import batch_masks, draw_masks

torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown] slide="Encoder and decoder stacks"
# <!-- serves: 3.3.1 3.3.5 -->
# ## The whole model in one picture
#
# The Transformer of Vaswani et al. (2017) is an **encoder-decoder**. The encoder reads the whole
# source sentence at once and turns every token into a vector that knows its context. The
# decoder writes the output one token at a time; each of its layers looks at what it has written
# so far (masked self-attention) and at the encoder's output (cross-attention). Both stacks are
# made of N = 6 identical layers, and nothing in them is recurrent or convolutional: only
# attention, a small feed-forward network per position, residual connections and LayerNorm.
#
# The figure below is Figure 1 of the paper, drawn by `attention_lab.viz.draw_transformer` with the
# base model's sizes.

# %% slide="Encoder and decoder stacks"
draw_transformer(6, d_model=512, num_heads=8, d_ff=2048)

# %% [markdown]
# The paper trained two sizes. Table 3 gives their shapes and parameter counts; beside them is
# our count of the same configurations (`TransformerConfig` presets `"paper-base"` and
# `"paper-big"`, one 37000-token vocabulary shared by both embeddings and the output layer, as in
# section 3.4).

# %%
display(Markdown(paper_table_markdown()))

# %% [markdown]
# <!-- hands-on: 3.3.5 -->
# **Try this.** Where do the base model's parameters live? Use
# `attention_lab.paper.count_preset_parameters("paper-base")`, which counts by component, and
# find the share of the embeddings, the attention layers and the feed-forward networks. Which
# component would you shrink first to make a smaller model, and what would it cost?

# %% [markdown] slide="Encoder and decoder stacks"
# <!-- serves: 3.3.1 3.3.4 -->
# ## Encoder and decoder blocks
#
# An **encoder layer** has two sub-layers:
#
# 1. **multi-head self-attention**: every position gathers information from every position;
# 2. a **position-wise feed-forward network**, $\mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2$
#    (Eq. 2), the same two linear layers with a ReLU applied to each position separately
#    ($d_{model}=512 \to d_{ff}=2048 \to 512$).
#
# Each sub-layer is wrapped in **Add & Norm**: $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$.
#
# A **decoder layer** has three: **masked** self-attention (position $i$ may look only at
# positions $\le i$), **cross-attention** (queries from the decoder, keys and values from the
# encoder's output), and the same feed-forward network, each with Add & Norm. Stacking N layers
# just feeds each layer's output into the next; every decoder layer reads the *final* encoder
# output.

# %%
layer = EncoderLayer(d_model=512, num_heads=8, d_ff=2048)
print(layer)
sizes = {
    name: sum(p.numel() for p in module.parameters())
    for name, module in [
        ("self-attention", layer.self_attn),
        ("feed-forward", layer.feed_forward),
        (
            "two LayerNorms",
            torch.nn.ModuleList([layer.norm1, layer.norm2]),
        ),
    ]
}
print({k: f"{v:,}" for k, v in sizes.items()})

# %% [markdown] slide="Positional encodings"
# Two thirds of an encoder layer's weights are in its feed-forward network
# ($2 \cdot 512 \cdot 2048$), one third in the four $512 \times 512$ attention projections, and
# almost nothing in LayerNorm (a gain and a bias per dimension).
#
# <!-- serves: 3.3.2 -->
# ## Positional encodings
#
# Attention compares every token with every token, and nothing in that comparison says *where*
# a token is. Shuffle the input and, without positional information, the outputs are shuffled
# the same way and are otherwise identical. The paper adds to each embedding a vector that
# depends on the position only (section 3.5):
#
# $$PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d_{model}}), \qquad
#   PE_{(pos, 2i+1)} = \cos(pos / 10000^{2i/d_{model}})$$
#
# Each pair of dimensions is a clock hand turning at its own speed: fast in the first dimensions,
# very slowly in the last ones.

# %%
plot_positional_encoding(T=64, d_model=128)

# %% [markdown]
# Two properties make this encoding useful. The similarity of two positions depends only on
# their **offset** (right panel: the curves of four different starting positions lie on top of
# each other), and nearby positions are more alike than distant ones.

# %%
plot_positional_similarity(T=128, d_model=128)

# %% [markdown]
# The paper chose sinusoids "because we hypothesized it would allow the model to easily learn to
# attend by relative positions, since for any fixed offset $k$, $PE_{pos+k}$ can be represented
# as a linear function of $PE_{pos}$". The linear function is a rotation of each (sin, cos) pair
# by the angle $\omega_i k$. Check it on the library's encoding:

# %%
d_model, k = 16, 5
# (T, D)
pe = sinusoidal_positional_encoding(100, d_model, dtype=torch.float64)
M = torch.zeros(d_model, d_model, dtype=torch.float64)
for i in range(d_model // 2):
    angle = k / 10000 ** (2 * i / d_model)
    c, s = math.cos(angle), math.sin(angle)
    M[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor(
        [[c, s], [-s, c]], dtype=torch.float64
    )
shifted = pe[:-k] @ M.T  # one matrix moves *every* position p to p + k
print(
    "max |PE(p) M_k^T - PE(p + k)| =",
    (shifted - pe[k:]).abs().max().item(),
)

# %% [markdown]
# ### Ablation: remove the positional encoding
#
# `positional_ablation` trains the same small encoder (2 layers, $d_{model}=64$) with and without
# the encoding on three per-token tasks over sequences of 8 digits:
#
# - **reversal** (order-dependent): output at position $i$ the token at position $T-1-i$;
# - **counting** (order-free): output how often the token occurs in the sequence;
# - **sorting** (order-free): output the slot the token takes in the sorted sequence.
#
# The dashed line is the best accuracy *any* model can reach without order information.
# (The page runs 150 training steps on reversal and sorting; `attention-lab run
# positional-ablation --quick` runs 300 steps on all three tasks.)

# %% slide="Positional encodings"
pos = positional_ablation.run(
    steps=150, tasks=("reversal", "sorting"), seed=0, progress=False
)
for i, task in enumerate(pos.tasks):
    print(
        f"{task:9s} with PE {pos.accuracy_with_pe[i]:6.1%}   without PE "
        f"{pos.accuracy_without_pe[i]:6.1%}   best possible without order "
        f"{pos.order_blind_ceiling[i]:6.1%}"
    )
pos.plot()

# %% [markdown]
# Without positions, reversal stays at the order-blind ceiling (the model can only guess the most
# common other token), while sorting, whose answer depends on the *set* of tokens alone, is
# learned either way. Counting is order-free too, but needs more steps than this page spends:
# run the command above to see whether it behaves like sorting.
#
# <!-- hands-on: 3.3.2 -->
# **Try this.** Run `positional_ablation.run(steps=150, tasks=("reversal",), length=9)`. With an
# odd length, the middle token is its own partner. Predict the new order-blind ceiling before you
# run it, then compare it with `pos.order_blind_ceiling`.

# %% [markdown] slide="Add & Norm"
# <!-- serves: 3.3.3 -->
# ## Residual connections and LayerNorm
#
# A **residual connection** adds a sub-layer's input to its output, $x + \mathrm{Sublayer}(x)$:
# the gradient then has a path through the identity, around every sub-layer (He et al. 2016).
# **LayerNorm** rescales each token's vector to mean 0 and variance 1 (then a learned gain and
# bias), so every layer sees inputs of the same scale however deep the stack is (Ba et al. 2016).
#
# One qualification. In the paper's post-norm layer, $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$,
# every LayerNorm sits *on* that identity path: the gradient that goes around a sub-layer still
# passes through one LayerNorm per sub-layer, and each can rescale it. Only the pre-norm
# arrangement below, $x + \mathrm{Sublayer}(\mathrm{LayerNorm}(x))$, leaves a clean identity path
# from the output to the input whose gradient does not shrink with depth (Xiong et al. 2020).
#
# `residual_ablation` builds a 12-layer stack five ways and measures the gradient that reaches
# each layer at initialisation, then trains each on reversal with the same data.
# (The page trains 60 steps; `attention-lab run residual-ablation --quick` trains 150.)

# %% slide="Add & Norm"
res = residual_ablation.run(steps=60, seed=0, progress=False)
for i, name in enumerate(res.variants):
    print(
        f"{name:13s} gradient at layer 1: "
        f"{res.first_layer_grad_norm_at_init[i]:9.2e}   "
        f"at layer 12: {res.last_layer_grad_norm_at_init[i]:9.2e}   "
        f"final loss {res.final_loss[i]:.2f}"
    )
print(
    "loss of a uniform guess over the 10 digits: ln 10 = "
    f"{math.log(10):.2f}"
)
res.plot()

# %% [markdown]
# With neither residuals nor LayerNorm the gradient reaching the first layer is vanishingly small
# (see "neither" above): it shrinks by a large factor per layer, and the first layers cannot
# learn. LayerNorm alone ("no residual") keeps the scale but the gradient still fades towards the
# input; residuals alone ("no LayerNorm") keep the gradient but let it, and the activations, grow.
# With both, every layer receives a useful gradient. Compare the final losses with a uniform
# guess: the stacks without residual connections have not learned anything yet in 60 steps.
#
# **Post-norm or pre-norm?** The paper puts LayerNorm *after* the residual sum,
# $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$. The Annotated Transformer's code writes
# `x + self.dropout(sublayer(self.norm(x)))`, LayerNorm *before* the sub-layer plus a final
# LayerNorm, and mentions it only in passing ("for code simplicity the norm is first as opposed to
# last"), so readers comparing its code with the paper's Figure 1 find the norm in the wrong place.
# Both are Transformers; pre-norm keeps a clean identity path from output to input, which is why
# deep pre-norm stacks train with less warm-up (Xiong et al. 2020). Sixty steps are too few to
# separate the loss curves on this page: `attention-lab run residual-ablation --quick` trains 150
# steps and reports the held-out accuracy of all five variants.

# %%
draw_transformer(6, norm_first=True)

# %% [markdown]
# <!-- hands-on: 3.3.3 -->
# **Try this.** Rerun `residual_ablation.run(steps=60, num_layers=4, progress=False)`. Does the
# stack without residuals still lose its gradient with 4 layers instead of 12? Plot
# `res.grad_norm_by_layer_at_init` for both depths and explain the slope.

# %% [markdown] slide="The decoder at work"
# <!-- serves: 3.3.4 -->
# ## The flow of information, and the masks that direct it
#
# Information flows *up* each stack and *across* from the encoder to every decoder layer, and
# two masks decide where it may not flow:
#
# - the decoder's **causal mask** stops position $i$ from seeing positions after $i$, so the model
#   cannot copy the token it is being trained to predict (section 3.2.3);
# - the **padding mask** stops every position from attending to the padding that makes the
#   sentences of a batch the same length.
#
# `masking_demo` measures both on a seeded encoder-decoder: it changes a future target token,
# fills the padding with other tokens, and adds extra padding.

# %%
mask = masking_demo(seed=0)
k = mask.changed_position
print(
    f"change target token {k}: max change at positions < {k}: "
    f"with causal mask {mask.max_change_before_with_mask:.1e}, "
    f"without {mask.max_change_before_without_mask:.2f}"
)
print(
    "fill the padding with tokens: with padding mask "
    f"{mask.padding_fill_change_with_mask:.1e}, "
    f"without {mask.padding_fill_change_without_mask:.2f}"
)
print(
    "padded vs unpadded source: with padding mask "
    f"{mask.padded_vs_unpadded_with_mask:.1e}, "
    f"without {mask.padded_vs_unpadded_without_mask:.2f}"
)
mask.plot()

# %% [markdown]
# With the causal mask the earlier outputs are identical to the last bit; without it, every
# position changes. With the padding mask, what sits in the padding changes nothing.
#
# <!-- serves: 3.3.4 -->
# ### The masks side by side
#
# A real padded batch of the translator's decoder inputs (42, 2005 and 342, each starting with
# `<bos>`, padded on the right to the longest), and the three masks of its most padded sentence,
# each computed by the library (`padding_mask`, `causal_mask`, and their `&`, exactly as
# `Transformer.make_masks` combines them). Each row is one query; bright cells are the keys it
# may see.

# %% slide="The decoder at work"
numbers_task = NumberTranslation(9999)
tok = numbers_task.tokenizer
pairs = [
    (tok.encode(number_to_words(n)), tok.encode(number_to_digits(n)))
    for n in (42, 2005, 342)
]
# (B, T): <bos> + digits, padded with id 0
padded = numbers_task.collate(pairs).tgt_in
names = [[VOCABULARY[i] for i in row] for row in padded.tolist()]
draw_masks(batch_masks(padded, names, pad_id=tok.pad_id))

# %% [markdown]
# The padding mask hides the two padding *keys* from every query (the padding rows still get an
# output; the loss ignores them). The causal mask lets query $i$ see keys $1..i$. Combined, the
# real tokens see only earlier real tokens: this is the decoder's self-attention mask in training.
#
# <!-- serves: 3.3.1 3.3.4 -->
# ## The architecture at work: a translator trained in a minute
#
# `attention_lab.translator` trains this encoder-decoder (2 + 2 layers,
# $d_{model}=64$) to translate English number words into digits, with padding and causal masks,
# and tests it with greedy decoding on numbers it never saw (a held-out split, fixed by the seed).
# The page loads a saved checkpoint
# when there is one (set `ATTENTION_LAB_TRANSLATOR` to its path, or run
# `attention-lab run translation --quick --checkpoint FILE`); otherwise it trains the model once,
# about a minute on one CPU thread, and saves it for the next run.

# %%
from attention_lab.translator import (
    cross_attention,
    exact_match,
    get_translator,
    translate,
)

# the course build keeps its artifacts in ATTENTION_LAB_ARTIFACTS, so the
# model trains once per build cache
artifacts = Path(
    os.environ.get(
        "ATTENTION_LAB_ARTIFACTS", Path.home() / ".cache" / "attention-lab"
    )
)
checkpoint = Path(
    os.environ.get(
        "ATTENTION_LAB_TRANSLATOR", artifacts / "translator-quick.pt"
    )
)
checkpoint.parent.mkdir(parents=True, exist_ok=True)
translator = get_translator(checkpoint, seed=0)
# numbers the model never saw in training
held_out = translator.task.with_split("test")
print(
    f"exact match on the {len(held_out)} held-out numbers: "
    f"{exact_match(translator, held_out):.1%}"
)
unseen = [held_out.pair(i)[0] for i in range(len(held_out))]
for words in unseen[:: len(unseen) // 3][:3]:
    print(f"{words!r:45} -> {translate(translator, words)}")

# %% [markdown]
# Which source words does each output digit look at? The cross-attention of the last decoder
# layer (averaged over its heads) shows the alignment the model learned.

# %%
sentence = next(
    (w for w in unseen if "hundred" in w and "-" in w), unseen[0]
)
example = cross_attention(translator, sentence)
print("source:", example.source)
print("output:", example.output)
# (L, H, T_out, T_src) -> (T_out, T_src)
weights = example.weights[-1].mean(0)
for token, row in zip(example.output, weights):
    print(
        f"{token:>6} looks most at {example.source[int(row.argmax())]!r}"
    )

# %% [markdown]
# <!-- serves: 3.3.4 -->
# ### The decoder at work: training vs generation
#
# The same trained translator, on one number, two ways. **Training (teacher forcing):** the
# decoder reads the target shifted right (`<bos> 3 4 2`) and predicts every next token in one
# pass; the causal mask keeps position $i$ from seeing what it must predict. **Generation:**
# there is no target; the decoder starts from `<bos>`, the final Linear + softmax gives a
# probability to every token of the vocabulary, the most likely one is appended (greedy
# decoding), and the decoder runs again. Each cell shows a candidate and its probability.

# %% slide="The decoder at work"
src_ids, tgt_ids = (
    tok.encode("three hundred and forty-two"),
    tok.encode("3 4 2"),
)
steps = decoder_steps(
    translator.model,
    src_ids,
    tgt_ids,
    VOCABULARY,
    bos_id=tok.bos_id,
    eos_id=tok.eos_id,
)
draw_decoder(steps)

# %% [markdown] slide="How the paper trains"
# A trained model is sure of itself on a number like this one: the top candidate takes almost
# all of the probability at every step. Teacher forcing and generation agree here because the
# model's own tokens are the right ones; early in training they differ, since generation feeds
# the model its own mistakes while teacher forcing always feeds it the truth.
#
# <!-- serves: 3.3.3 3.3.5 -->
# ## How the paper trains: label smoothing and warm-up, measured
#
# Two details of the paper's recipe (section 5): **label smoothing** (5.4) trains towards a
# target that puts $1 - \epsilon = 0.9$ on the right token and spreads $\epsilon = 0.1$ over the
# vocabulary, which "hurts perplexity, as the model learns to be more unsure, but improves
# accuracy and BLEU"; and the **warm-up** learning-rate schedule (5.3, Eq. 3),
#
# $$\mathrm{lrate} = d_{model}^{-0.5} \cdot \min(\mathrm{step}^{-0.5},\;
# \mathrm{step} \cdot \mathrm{warmup\_steps}^{-1.5}),$$
#
# which grows linearly for the first `warmup_steps` steps, then decays like
# $1/\sqrt{\mathrm{step}}$ (left panel below). `training_recipe` trains the translator (smaller
# than above: $d_{model} = 32$) five ways, each differing in one thing, with the same data order,
# steps and peak learning rate: with and without label smoothing; and a deep 6 + 6 post-norm
# stack with and without warm-up, beside a deep pre-norm stack without warm-up. (The page trains
# 160 steps, a fifth fewer than 200 with every effect below still there (seed 0);
# `attention-lab run translator-training --quick` trains 300.)

# %% slide="How the paper trains"
recipe = training_recipe.run(steps=160, seed=0, progress=False)
for name in recipe.variants:
    print(
        f"{name:27} exact {recipe.exact_match[name]:6.1%}  "
        f"CE {recipe.test_nll[name]:.3f}  conf "
        f"{recipe.confidence[name]:.3f}"
    )
recipe.plot()

# %% [markdown]
# What the numbers say (held-out numbers; CE: teacher-forced cross-entropy without smoothing;
# conf: the mean probability of the top token):
#
# - **Label smoothing** leaves exact match where it was but makes the model less sure: its
#   confidence in the top token moves towards $0.9$, the target it was trained towards, and its
#   cross-entropy (the log of the perplexity) is higher. That is the paper's "hurts perplexity";
#   on a task this easy there is no accuracy left to gain.
# - **Warm-up and depth.** At the same peak learning rate the two deep post-norm stacks learn
#   little in 160 steps, and the one without warm-up least (the highest cross-entropy), while the
#   deep pre-norm stack, with no warm-up at all, learns the task. With 300 steps
#   (`attention-lab run translator-training --quick`, seed 0) we measured about 30% exact match
#   for post-norm with warm-up and 0% without. In post-norm every LayerNorm sits on the residual
#   path, and large early updates derail it (Xiong et al. 2020); warm-up keeps the first updates
#   small.
#
# <!-- hands-on: 3.3.3 -->
# **Try this.** Rerun with `training_recipe.run(steps=200, lr=1e-3, variants=("deep post-norm,
# warm-up", "deep post-norm, no warm-up"), progress=False)`. Does warm-up still matter at a
# third of the learning rate?

# %% [markdown] slide="Trace one token through an encoder block"
# <!-- serves: 3.3.1 3.3.4 -->
# ## Activity: trace one token through an encoder block
#
# <!-- hands-on: 3.3.1 3.3.4 -->
# Follow the word "sat" in "the cat sat on the mat" through one encoder layer ($d_{model}=8$,
# 2 heads, so every number fits on a line). Before you run the cell, write down the shape you
# expect at each step: the embedding, the query of one head, the scores against every token,
# the softmax weights, the weighted sum, the concatenation, the FFN's hidden layer. Then compare.
# The same trace from a terminal: `attention-lab trace "the cat sat on the mat" --position 2`.

# %%
walk = trace_sentence(
    "the cat sat on the mat", 2, d_model=8, num_heads=2, d_ff=32
)
print(walk)

# %% [markdown]
# <!-- hands-on: 3.3.3 3.3.4 -->
# **Exercise.** Recompute the first Add & Norm by hand from the trace: take the residual sum
# $s$ of step 13, normalise it to mean 0 and variance 1 (use the biased variance and
# $\epsilon = 10^{-5}$), then apply the layer's gain $\gamma$ and bias $\beta$. Your vector must
# equal the trace's "LayerNorm 1" step. The layer ran in float32, so the check compares yours with
# the same LayerNorm run in float64 on the same $s$, where rounding errors are far smaller than a
# forgotten $\epsilon$.

# %%
layer8 = EncoderLayer(8, 2, 32).eval()
walk8 = trace(layer8, "the cat sat on the mat".split(), 2)
s = walk8.step("residual sum").value  # (D,), float64
gamma, beta = layer8.norm1.weight.double(), layer8.norm1.bias.double()
# BEGIN SOLUTION
mine = (s - s.mean()) / torch.sqrt(
    s.var(unbiased=False) + layer8.norm1.eps
) * gamma + beta
# END SOLUTION
# computed by the layer in float32
traced = walk8.step("LayerNorm 1 (Add & Norm)").value
# float64
expected = torch.nn.functional.layer_norm(
    s, (8,), gamma, beta, layer8.norm1.eps
)
print(
    "max difference from the trace's float32 step:",
    (mine - traced).abs().max().item(),
)
# float64 rounding of a LayerNorm of 8 numbers below 10 in size: sums of
# at most 4 x 8 terms whose sizes add up to below 1e3, in any order:
# 3.6e-12; forgetting ε alone moves the result by about 1e-5
assert (mine - expected).abs().max() <= rounding_bound(
    4 * 8, torch.float64, 1e3
), "not yet: check the mean, the variance and ε"

# %% [markdown]
# The trace's last vector is exactly what the layer itself outputs for that token:

# %%
tokens = "the cat sat on the mat".split()
inputs = torch.stack([word_vector(w, 8) for w in tokens]) * math.sqrt(8)
inputs = inputs + sinusoidal_positional_encoding(len(tokens), 8)
# the layer ran in float32: one block of width 8 (d_ff = 32, 6 tokens)
# accumulates about 100 terms along its longest chain, of sizes adding up
# to below 100
gap = (
    (layer8(inputs[None])[0, 2].double() - walk8.output).abs().max().item()
)
float32_bound = rounding_bound(100, torch.float32, 100)
print(
    f"largest difference {gap:.1e}, float32 rounding bound "
    f"{float32_bound:.0e}"
)
assert gap <= float32_bound

# %% [markdown] slide="The paper's key ideas and their impact"
# <!-- serves: 3.3.5 -->
# ## Key takeaways of the paper
#
# - **Attention is all you need**: the Transformer drops recurrence and convolution entirely.
#   Every layer connects every position to every position in one step, so a sentence is
#   processed in parallel and long-range dependencies are one hop away.
# - **Scaled dot-product attention**, $\mathrm{softmax}(QK^T/\sqrt{d_k})V$, run in **multiple
#   heads** in parallel, is the only mechanism that mixes information between positions.
# - **Encoder-decoder stacks** of N = 6 layers: self-attention and a position-wise FFN in the
#   encoder; masked self-attention, cross-attention and an FFN in the decoder.
# - **Positional encodings** (sinusoids) give the order that attention alone cannot see; without
#   them an order-dependent task such as reversal cannot be learned (measured above).
# - **Residual connections and LayerNorm** around every sub-layer make a deep stack trainable
#   (measured above: without them the first layer's gradient vanishes).
# - The base model (65M parameters) reached 27.3 BLEU on WMT 2014 English-German, the big model
#   (213M) 28.4, a new state of the art at a fraction of the training cost of earlier models
#   (3.5 days on 8 GPUs). The architecture became the foundation of BERT, GPT and almost every
#   large language model since.
