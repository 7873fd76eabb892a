"""The encoder-decoder Transformer (Vaswani et al. 2017, section 3, Figure 1).

    source tokens -> embed * sqrt(D) + PE -> Encoder (N x EncoderLayer) -> memory
    target tokens -> embed * sqrt(D) + PE -> Decoder (N x DecoderLayer, attends to memory) -> logits

Shape legend: B batch, S source length, T target length, D = d_model, V vocabulary size.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from attention_lab.nn import interop
from attention_lab.nn._checks import (
    check_instance,
    check_layers,
    check_positive_int,
    check_token_ids,
    check_transformer_config,
)
from attention_lab.nn.blocks import ACTIVATIONS, DecoderLayer, EncoderLayer
from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.nn.positional import PositionalEncoding


class Encoder(nn.Module):
    """A stack of encoder layers, with the optional final LayerNorm that ``nn.TransformerEncoder``
    has (a pre-norm stack needs it: its last output is never normalised otherwise)."""

    def __init__(self, layers: Iterable[EncoderLayer], norm: nn.LayerNorm | None = None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        check_layers("layers", self.layers, "EncoderLayer")
        self.norm = norm

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``x`` ``(B, S, D)`` -> ``(B, S, D)``."""
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x) if self.norm is not None else x

    @classmethod
    def from_torch(cls, module: nn.TransformerEncoder) -> Encoder:
        """Copy a ``torch.nn.TransformerEncoder``."""
        return interop.stack_from_torch(cls, module, nn.TransformerEncoder, EncoderLayer)


class Decoder(nn.Module):
    """A stack of decoder layers, each attending to the same encoder output ``memory``."""

    def __init__(self, layers: Iterable[DecoderLayer], norm: nn.LayerNorm | None = None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        check_layers("layers", self.layers, "DecoderLayer")
        self.norm = norm

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """``x`` ``(B, T, D)``, ``memory`` ``(B, S, D)`` -> ``(B, T, D)``."""
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        return self.norm(x) if self.norm is not None else x

    @classmethod
    def from_torch(cls, module: nn.TransformerDecoder) -> Decoder:
        """Copy a ``torch.nn.TransformerDecoder``."""
        return interop.stack_from_torch(cls, module, nn.TransformerDecoder, DecoderLayer)


@dataclass(frozen=True)
class TransformerConfig:
    """Everything that defines a Transformer's shape. Presets: ``PRESETS``."""

    src_vocab_size: int  # number of source token ids
    tgt_vocab_size: int  # number of target token ids
    d_model: int = 512  # width of every token vector (D)
    num_heads: int = 8  # attention heads per layer (H); d_k = d_model / num_heads
    num_encoder_layers: int = 6  # N in the paper
    num_decoder_layers: int = 6
    d_ff: int = 2048  # hidden width of the feed-forward network
    dropout: float = 0.1  # P_drop: on sub-layer outputs, embeddings+PE and attention weights
    activation: str = "relu"  # "relu" (the paper) or "gelu"
    norm_first: bool = False  # False: post-norm (the paper); True: pre-norm
    layer_norm_eps: float = 1e-5
    final_norm: bool | None = None  # final LayerNorm on each stack; None: only for pre-norm
    share_embeddings: bool = False  # one matrix for source, target embeddings and output (3.4)
    max_len: int = 512  # longest sequence the positional encoding covers
    pad_id: int = 0  # token id of padding, ignored by attention

    def __post_init__(self) -> None:
        check_transformer_config(self, ACTIVATIONS)

    @property
    def d_k(self) -> int:
        return self.d_model // self.num_heads

    @property
    def uses_final_norm(self) -> bool:
        return self.norm_first if self.final_norm is None else self.final_norm


PRESETS: dict[str, TransformerConfig] = {
    # small enough to train in seconds on a laptop CPU
    "tiny": TransformerConfig(
        src_vocab_size=64,
        tgt_vocab_size=64,
        d_model=64,
        num_heads=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        d_ff=256,
        dropout=0.0,
        max_len=128,
    ),
    "base": TransformerConfig(
        src_vocab_size=1000,
        tgt_vocab_size=1000,
        d_model=128,
        num_heads=4,
        num_encoder_layers=3,
        num_decoder_layers=3,
        d_ff=512,
        dropout=0.1,
        max_len=256,
    ),
    # Table 3 of the paper: "base" and "big", with a shared BPE vocabulary of 37000 tokens
    "paper-base": TransformerConfig(
        src_vocab_size=37000,
        tgt_vocab_size=37000,
        d_model=512,
        num_heads=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        d_ff=2048,
        dropout=0.1,
        share_embeddings=True,
    ),
    "paper-big": TransformerConfig(
        src_vocab_size=37000,
        tgt_vocab_size=37000,
        d_model=1024,
        num_heads=16,
        num_encoder_layers=6,
        num_decoder_layers=6,
        d_ff=4096,
        dropout=0.3,
        share_embeddings=True,
    ),
}


class Transformer(nn.Module):
    """The encoder-decoder of Figure 1: embeddings, positional encoding, both stacks, output layer."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        check_instance("config", config, TransformerConfig)
        self.config = c = config
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model)
        self.tgt_embed = (
            self.src_embed if c.share_embeddings else nn.Embedding(c.tgt_vocab_size, c.d_model)
        )
        self.positional = PositionalEncoding(c.d_model, c.dropout, c.max_len)
        layer_args = (
            c.d_model,
            c.num_heads,
            c.d_ff,
            c.dropout,
            c.activation,
            c.norm_first,
            c.layer_norm_eps,
        )
        self.encoder = Encoder(
            [EncoderLayer(*layer_args) for _ in range(c.num_encoder_layers)],
            nn.LayerNorm(c.d_model, eps=c.layer_norm_eps) if c.uses_final_norm else None,
        )
        self.decoder = Decoder(
            [DecoderLayer(*layer_args) for _ in range(c.num_decoder_layers)],
            nn.LayerNorm(c.d_model, eps=c.layer_norm_eps) if c.uses_final_norm else None,
        )
        self.generator = nn.Linear(c.d_model, c.tgt_vocab_size)
        self._init_weights()
        if c.share_embeddings:
            self.generator.weight = self.tgt_embed.weight  # section 3.4: one shared matrix

    def _init_weights(self) -> None:
        # Xavier-uniform for every matrix, as the Annotated Transformer and nn.Transformer do
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def embed_src(self, src_tokens: Tensor) -> Tensor:
        """Token ids ``(B, S)`` -> ``embedding * sqrt(D) + PE`` ``(B, S, D)`` (section 3.4)."""
        check_token_ids("src_tokens", src_tokens, self.config.src_vocab_size)
        return self.positional(self.src_embed(src_tokens) * math.sqrt(self.config.d_model))

    def embed_tgt(self, tgt_tokens: Tensor) -> Tensor:
        """Token ids ``(B, T)`` -> ``(B, T, D)``."""
        check_token_ids("tgt_tokens", tgt_tokens, self.config.tgt_vocab_size)
        return self.positional(self.tgt_embed(tgt_tokens) * math.sqrt(self.config.d_model))

    def encode(self, src_tokens: Tensor, src_mask: Tensor | None = None) -> Tensor:
        """``(B, S)`` -> memory ``(B, S, D)``."""
        return self.encoder(self.embed_src(src_tokens), src_mask)

    def decode(
        self,
        tgt_tokens: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """``(B, T)`` and memory ``(B, S, D)`` -> logits ``(B, T, V)``."""
        hidden = self.decoder(self.embed_tgt(tgt_tokens), memory, tgt_mask, memory_mask)
        return self.generator(hidden)  # (B, T, D) -> (B, T, V)

    def forward(
        self,
        src_tokens: Tensor,
        tgt_tokens: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
    ) -> Tensor:
        """Teacher forcing: logits ``(B, T, V)`` for every target position at once.

        ``src_mask`` (usually ``padding_mask(src, pad_id)``) masks the encoder's self-attention and
        the decoder's cross-attention; ``tgt_mask`` (usually causal and padding) masks the decoder's
        self-attention. See ``make_masks``.
        """
        memory = self.encode(src_tokens, src_mask)
        return self.decode(tgt_tokens, memory, tgt_mask, src_mask)

    def make_masks(self, src_tokens: Tensor, tgt_tokens: Tensor) -> tuple[Tensor, Tensor]:
        """The usual masks: source padding ``(B, 1, 1, S)`` and causal-and-padding ``(B, 1, T, T)``."""
        src_mask = padding_mask(src_tokens, self.config.pad_id)
        T = tgt_tokens.shape[1]
        tgt_mask = padding_mask(tgt_tokens, self.config.pad_id) & causal_mask(T, tgt_tokens.device)
        return src_mask, tgt_mask

    @classmethod
    def from_torch(cls, module: nn.Transformer, src_vocab: int, tgt_vocab: int) -> Transformer:
        """Copy the stacks of a ``torch.nn.Transformer`` (which has no embeddings: those and the
        output layer stay freshly initialised)."""
        return interop.transformer_from_torch(cls, TransformerConfig, module, src_vocab, tgt_vocab)


@torch.no_grad()
def greedy_decode(
    model: Transformer,
    src_tokens: Tensor,
    max_len: int,
    bos_id: int,
    eos_id: int,
    src_mask: Tensor | None = None,
) -> Tensor:
    """Translate by always taking the most likely next token (the paper uses beam search).

    Encodes the source once, then feeds the decoder its own output one token at a time under a
    causal mask. Returns ``(B, <= max_len)`` token ids starting with ``bos_id``; after a sequence's
    ``eos_id`` its remaining positions hold ``pad_id``.
    """
    check_positive_int("max_len", max_len)
    if src_mask is None:
        src_mask = padding_mask(src_tokens, model.config.pad_id)
    was_training = model.training
    model.eval()
    memory = model.encode(src_tokens, src_mask)  # (B, S, D)
    B = src_tokens.shape[0]
    out = torch.full((B, 1), bos_id, dtype=torch.long, device=src_tokens.device)  # (B, 1)
    finished = torch.zeros(B, dtype=torch.bool, device=src_tokens.device)
    for _ in range(max_len - 1):
        tgt_mask = causal_mask(out.shape[1], out.device)
        logits = model.decode(out, memory, tgt_mask, src_mask)  # (B, t, V)
        next_token = logits[:, -1].argmax(dim=-1)  # (B,)
        next_token = next_token.masked_fill(finished, model.config.pad_id)
        out = torch.cat([out, next_token[:, None]], dim=1)  # (B, t) -> (B, t + 1)
        finished |= next_token == eos_id
        if finished.all():
            break
    model.train(was_training)
    return out


def count_parameters(model: Transformer) -> dict[str, int]:
    """Trainable parameters by component; a shared matrix is counted once (where it first appears)."""
    seen: set[int] = set()

    def count(module: nn.Module | None) -> int:
        if module is None:
            return 0
        total = 0
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += p.numel()
        return total

    parts = {"embeddings": count(model.src_embed) + count(model.tgt_embed)}
    for stack_name, stack in (("encoder", model.encoder), ("decoder", model.decoder)):
        attn = ffn = norms = 0
        for layer in stack.layers:
            attn += count(layer.self_attn) + count(getattr(layer, "cross_attn", None))
            ffn += count(layer.feed_forward)
            norms += sum(count(m) for m in layer.modules() if isinstance(m, nn.LayerNorm))
        norms += count(stack.norm)
        parts[f"{stack_name} attention"] = attn
        parts[f"{stack_name} feed-forward"] = ffn
        parts[f"{stack_name} layer norms"] = norms
    parts["output layer"] = count(model.generator)
    parts["total"] = sum(parts.values())
    return parts


def with_vocab(
    config: TransformerConfig, src_vocab_size: int, tgt_vocab_size: int
) -> TransformerConfig:
    """A copy of ``config`` for a task's vocabularies."""
    return dataclasses.replace(config, src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size)
