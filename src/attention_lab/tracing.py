"""Trace one token through an encoder block: every transformation, with its shape and its values.

The hands-on activity of Topic 3.3 ("tracing the flow of a single token through an encoder block")
done by the computer. ``trace(layer, tokens, position)`` recomputes, for the token at
``position``, each step of Figure 1 / section 3 of Vaswani et al. 2017 with the layer's own
weights:

    x   = E[token] · √d_model + PE(pos)                          (3.4, 3.5)
    q, k, v = x W_q, x W_k, x W_v, split into h heads of d_k     (3.2.2)
    a_h = softmax(q_h K_h^T / √d_k) V_h                          (Eq. 1)
    z   = Concat(a_1 .. a_h) W_o                                  (3.2.2)
    y   = LayerNorm(x + z)                                        (3.1, Add & Norm)
    out = LayerNorm(y + max(0, y W_1 + b_1) W_2 + b_2)            (Eq. 2, Add & Norm)

(pre-norm layers, ``norm_first=True``, normalise before each sublayer instead). The trace's last
vector is the layer's own output at that position; a test checks it.

Shape legend: T tokens, D = d_model, H heads, d_k = D // H, d_ff hidden width of the FFN.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.blocks import ACTIVATIONS, EncoderLayer
from attention_lab.nn.positional import sinusoidal_positional_encoding


@dataclass
class TraceStep:
    """One transformation of the traced token."""

    name: str  # what happened, e.g. "softmax weights"
    formula: str  # how, in the paper's symbols
    value: Tensor  # the traced token's value after this step (detached, float64 copy)
    note: str = ""  # a measurement worth reading, e.g. "31 of 64 ReLU units are 0"
    rows: str = ""  # what the rows of a 2-D value are: "heads"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass
class Trace:
    """The steps of one token through one encoder layer; ``print(trace)`` or ``rich`` shows it."""

    tokens: list[str]  # the sequence, one label per position
    position: int  # the traced position
    description: str  # the layer: norm placement and sizes
    steps: list[TraceStep] = field(default_factory=list)

    @property
    def output(self) -> Tensor:
        """The token's vector after the whole layer, ``(D,)``."""
        return self.steps[-1].value

    def step(self, name: str) -> TraceStep:
        """The step called ``name`` (see ``[s.name for s in trace.steps]``)."""
        for s in self.steps:
            if s.name == name:
                return s
        names = ", ".join(repr(s.name) for s in self.steps)
        raise KeyError(f"name: expected one of {names}, got {name!r}")

    def to_dict(self) -> dict:
        """Plain data (lists of floats) for JSON."""
        return {
            "tokens": self.tokens,
            "position": self.position,
            "layer": self.description,
            "steps": [
                {
                    "name": s.name,
                    "formula": s.formula,
                    "shape": list(s.shape),
                    "value": s.value.tolist(),
                    "note": s.note,
                }
                for s in self.steps
            ],
        }

    def title(self) -> str:
        token = self.tokens[self.position]
        return (
            f"token {self.position} {token!r} of {' '.join(self.tokens)!r} through an "
            f"EncoderLayer ({self.description})"
        )

    def __str__(self) -> str:
        lines = [self.title()]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"{i:2d}. {s.name}  {s.shape}   {s.formula}")
            lines.extend("      " + row for row in _format_value(s, self.tokens).splitlines())
            if s.note:
                lines.append(f"      -> {s.note}")
        return "\n".join(lines)

    def __rich_console__(self, console, options):
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(self.title()), show_lines=True, title_justify="left")
        for column, style in (("#", "dim"), ("step", "bold"), ("shape", "cyan"), ("values", "")):
            table.add_column(column, style=style, overflow="fold")
        for i, s in enumerate(self.steps, 1):
            values = escape(_format_value(s, self.tokens))
            if s.note:
                values += f"\n[green]{escape(s.note)}[/green]"
            step = f"{escape(s.name)}\n[dim]{escape(s.formula)}[/dim]"
            table.add_row(str(i), step, str(s.shape), values)
        yield table


def trace_sentence(
    sentence: str,
    position: int,
    *,
    d_model: int = 8,
    num_heads: int = 2,
    d_ff: int = 32,
    norm_first: bool = False,
    seed: int = 0,
) -> Trace:
    """Trace word ``position`` of ``sentence`` (split on spaces) through a freshly initialised,
    seeded ``EncoderLayer`` (the same ``seed`` gives the same layer and word vectors)."""
    if not isinstance(sentence, str):
        raise TypeError(f"sentence: expected a str, got {type(sentence).__name__}")
    words = sentence.split()
    if not words:
        raise ValueError(f"sentence: expected at least one word, got {sentence!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = EncoderLayer(d_model, num_heads, d_ff, norm_first=norm_first)
    return trace(layer.eval(), words, position, seed=seed)


def word_vector(word: str, d_model: int, seed: int = 0) -> Tensor:
    """A fixed random embedding for ``word``: ``N(0, 1/d_model)`` entries seeded by the word
    itself, so a word has the same vector in every sentence (an untrained embedding table)."""
    generator = torch.Generator().manual_seed(zlib.crc32(word.encode()) + 7919 * seed)
    return torch.randn(d_model, generator=generator) / math.sqrt(d_model)  # (D,)


@torch.no_grad()
def trace(
    layer: EncoderLayer,
    tokens: Sequence[str] | Tensor,
    position: int,
    *,
    embedding: nn.Embedding | None = None,
    labels: Sequence[str] | None = None,
    positional: bool = True,
    mask: Tensor | None = None,
    seed: int = 0,
) -> Trace:
    """Follow the token at ``position`` through ``layer``, step by step (see the module docstring).

    Args:
        layer: the encoder block (its own weights are used; dropout is off).
        tokens: words (each embedded with ``word_vector`` unless ``embedding`` is given), token
            ids ``(T,)`` looked up in ``embedding``, or already-embedded vectors ``(T, D)``.
        position: which token to follow, ``0 <= position < T``.
        embedding: the embedding table to look token ids up in (needed when ``tokens`` are ids).
        labels: names of the tokens for display when ``tokens`` is a tensor.
        positional: add the sinusoidal positional encoding (section 3.5) to the embeddings.
        mask: optional bool key mask ``(T,)`` or ``(T, T)``, True = may attend.
        seed: seeds ``word_vector`` for words.

    Returns:
        A ``Trace``; ``trace.output`` equals ``layer(x)[0, position]`` for the same input ``x``.
    """
    if not isinstance(layer, EncoderLayer):
        raise TypeError(
            f"layer: expected an attention_lab EncoderLayer, got {type(layer).__name__}"
        )
    D = layer.self_attn.d_model
    x_embed, names, formula = _embed(tokens, embedding, labels, D, seed, layer.norm1.weight)
    T = x_embed.shape[0]
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"position: expected an int, got {type(position).__name__}")
    if not 0 <= position < T:
        raise ValueError(
            f"position: expected 0 <= position < {T} (the number of tokens), got {position}"
        )
    words = list(names)
    steps = [TraceStep("embedding", formula, x_embed[position])]
    x = x_embed
    if positional:
        pe = sinusoidal_positional_encoding(T, D, dtype=x.dtype, device=x.device)  # (T, D)
        x = x_embed + pe  # (T, D) + (T, D) -> (T, D)
        steps.append(TraceStep("positional encoding", f"PE({position}), section 3.5", pe[position]))
        steps.append(TraceStep("+ positional encoding", "x = embedding + PE", x[position]))

    block = _Recorder(steps, position)
    if layer.norm_first:
        h = block.norm("LayerNorm 1 (pre-norm)", layer.norm1, x)
        z = _attention(layer, h, position, words, mask, block)
        x = block.add("residual sum", "x + MultiHead(LayerNorm(x))", x, z)
        h = block.norm("LayerNorm 2 (pre-norm)", layer.norm2, x)
        f = _feed_forward(layer, h, block)
        block.add("second residual (layer output)", "x + FFN(LayerNorm(x))", x, f)
    else:
        z = _attention(layer, x, position, words, mask, block)
        s = block.add("residual sum", "x + MultiHead(x)", x, z)
        y = block.norm("LayerNorm 1 (Add & Norm)", layer.norm1, s)
        f = _feed_forward(layer, y, block)
        s = block.add("second residual", "y + FFN(y)", y, f)
        block.norm("LayerNorm 2 (layer output)", layer.norm2, s)
    for s in steps:
        s.value = s.value.detach().to(torch.float64).clone()
    attn = layer.self_attn
    norm = "pre-norm" if layer.norm_first else "post-norm"
    ff = layer.feed_forward
    description = (
        f"{norm}, d_model={D}, heads={attn.num_heads}, d_k={attn.d_k}, "
        f"d_ff={ff.W_1.out_features}, {ff.activation}"
    )
    return Trace(tokens=words, position=position, description=description, steps=steps)


@dataclass
class _Recorder:
    """Appends steps for whole-sequence tensors ``(T, ...)`` by taking the traced row."""

    steps: list[TraceStep]
    position: int

    def add(self, name: str, formula: str, x: Tensor, sublayer_out: Tensor) -> Tensor:
        out = x + sublayer_out  # (T, D) + (T, D) -> (T, D)
        self.steps.append(TraceStep(name, formula, out[self.position]))
        return out

    def norm(self, name: str, norm: nn.LayerNorm, x: Tensor) -> Tensor:
        out = norm(x)  # (T, D) -> (T, D), each row to mean 0, variance 1, then γ·x + β
        before, after = x[self.position], out[self.position]
        note = (
            f"mean {before.mean():.3f} -> {after.mean():.3f}, "
            f"variance {before.var(unbiased=False):.3f} -> {after.var(unbiased=False):.3f}"
        )
        self.steps.append(TraceStep(name, "γ · (x - mean) / √(var + ε) + β", after, note))
        return out


def _attention(
    layer: EncoderLayer, x: Tensor, position: int, words: list[str], mask, block: _Recorder
) -> Tensor:
    """Multi-head self-attention of the whole sequence, recording the traced token's view of it."""
    attn = layer.self_attn
    H, d_k = attn.num_heads, attn.d_k
    T = x.shape[0]
    # 1) project every token, 2) split into heads
    q = attn.W_q(x).view(T, H, d_k).transpose(0, 1)  # (T, D) -> (H, T, d_k)
    k = attn.W_k(x).view(T, H, d_k).transpose(0, 1)  # (T, D) -> (H, T, d_k)
    v = attn.W_v(x).view(T, H, d_k).transpose(0, 1)  # (T, D) -> (H, T, d_k)
    steps, p = block.steps, position
    steps.append(TraceStep("query q", "x W_q + b_q, split into heads", q[:, p], rows="heads"))
    steps.append(TraceStep("key k", "x W_k + b_k, split into heads", k[:, p], rows="heads"))
    steps.append(TraceStep("value v", "x W_v + b_v, split into heads", v[:, p], rows="heads"))
    # 3) the traced query against every key, in every head
    scores = q[:, p : p + 1] @ k.transpose(-2, -1)  # (H, 1, d_k) @ (H, d_k, T) -> (H, 1, T)
    steps.append(TraceStep("scores", "q · k_j for every token j", scores[:, 0], rows="heads"))
    steps.append(
        TraceStep(
            "scaled scores",
            f"q · k_j / √d_k = / {math.sqrt(d_k):.3f}",
            scores[:, 0] / math.sqrt(d_k),
            rows="heads",
        )
    )
    out, weights = scaled_dot_product_attention(q, k, v, _key_mask(mask, T, x))  # (H, T, d_k)
    w = weights[:, p]  # (H, T)
    top = [words[int(i)] for i in w.argmax(-1)]
    steps.append(
        TraceStep(
            "softmax weights",
            "softmax over j (each head's row sums to 1)",
            w,
            note="most attended: " + ", ".join(f"head {h}: {t!r}" for h, t in enumerate(top)),
            rows="heads",
        )
    )
    steps.append(TraceStep("weighted sum", "Σ_j weight_j · v_j, per head", out[:, p], rows="heads"))
    concat = out.transpose(0, 1).reshape(T, H * d_k)  # (H, T, d_k) -> (T, D)
    steps.append(TraceStep("concatenation", "Concat(head_1, ..., head_h)", concat[p]))
    z = attn.W_o(concat)  # (T, D) @ (D, D) -> (T, D)
    steps.append(TraceStep("W_o", "Concat(...) W_o + b_o = MultiHead(x)", z[p]))
    return z


def _feed_forward(layer: EncoderLayer, x: Tensor, block: _Recorder) -> Tensor:
    ff = layer.feed_forward
    p = block.position
    pre = ff.W_1(x)  # (T, D) @ (D, d_ff) -> (T, d_ff)
    hidden = ACTIVATIONS[ff.activation](pre)  # (T, d_ff)
    block.steps.append(TraceStep("FFN W_1", "x W_1 + b_1", pre[p]))
    d_ff = hidden.shape[-1]
    if ff.activation == "relu":
        note = f"{int((hidden[p] == 0).sum())} of {d_ff} ReLU units are 0"
    else:
        note = f"{int((pre[p] < 0).sum())} of {d_ff} units are negative before GELU (squashed toward 0)"
    block.steps.append(TraceStep(ff.activation, f"{ff.activation}(x W_1 + b_1)", hidden[p], note))
    out = ff.W_2(hidden)  # (T, d_ff) @ (d_ff, D) -> (T, D)
    block.steps.append(TraceStep("FFN W_2", "hidden W_2 + b_2 = FFN(x)", out[p]))
    return out


def _embed(tokens, embedding, labels, D: int, seed: int, like: Tensor):
    """Token input -> ``(x (T, D), labels, formula)`` in the layer's dtype and device."""
    scale = math.sqrt(D)
    if isinstance(tokens, Tensor):
        if tokens.is_floating_point():
            if tokens.dim() != 2 or tokens.shape[1] != D:
                raise ValueError(
                    f"tokens: expected vectors of shape (T, {D}), got {tuple(tokens.shape)}"
                )
            x, formula = tokens, "given vectors"
        else:
            if tokens.dim() != 1:
                raise ValueError(f"tokens: expected ids of shape (T,), got {tuple(tokens.shape)}")
            if embedding is None:
                raise ValueError(
                    "embedding: expected an nn.Embedding to look token ids up in, got None"
                )
            if embedding.embedding_dim != D:
                raise ValueError(
                    f"embedding: expected embedding_dim={D}, got {embedding.embedding_dim}"
                )
            x, formula = embedding(tokens) * scale, f"E[id] · √d_model (√{D} = {scale:.3f})"
        names = [str(i) for i in range(x.shape[0])] if labels is None else list(labels)
    else:
        if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
            raise TypeError(
                "tokens: expected a list of words, ids (T,) or vectors (T, D), "
                f"got {type(tokens).__name__}"
            )
        names = list(tokens)
        if not names:
            raise ValueError("tokens: expected at least one token, got none")
        x = torch.stack([word_vector(w, D, seed) for w in names]) * scale  # (T, D)
        formula = f"E[word] · √d_model (√{D} = {scale:.3f})"
    if x.shape[0] == 0:
        raise ValueError("tokens: expected at least one token, got none")
    if len(names) != x.shape[0]:
        raise ValueError(f"labels: expected {x.shape[0]} labels (one per token), got {len(names)}")
    return x.to(device=like.device, dtype=like.dtype), names, formula


def _key_mask(mask: Tensor | None, T: int, like: Tensor) -> Tensor | None:
    if mask is None:
        return None
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape not in ((T,), (T, T)):
        got = (
            f"{mask.dtype} {tuple(mask.shape)}" if isinstance(mask, Tensor) else type(mask).__name__
        )
        raise ValueError(f"mask: expected a bool tensor of shape ({T},) or ({T}, {T}), got {got}")
    return mask.to(like.device)  # (T,) broadcasts over heads and queries, as (T, T) does


def _format_value(step: TraceStep, tokens: list[str], width: int = 8) -> str:
    value = step.value
    if value.dim() == 1:
        return _vector(value, width)
    if step.name in ("scores", "scaled scores", "softmax weights"):
        return "\n".join(
            f"head {h}: " + "  ".join(f"{t}={float(x):.3f}" for t, x in zip(tokens, row))
            for h, row in enumerate(value)
        )
    return "\n".join(f"head {h}: {_vector(row, width)}" for h, row in enumerate(value))


def _vector(value: Tensor, width: int) -> str:
    numbers = [f"{float(x):+.3f}" for x in value]
    if len(numbers) > width:
        numbers = [*numbers[: width // 2], "…", *numbers[-width // 2 :]]
    return "[" + " ".join(numbers) + "]"
