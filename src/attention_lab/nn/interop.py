"""Weights from other libraries into our models: torch's own modules and Hugging Face BERT files.

The models stay free of this bookkeeping: their ``from_torch`` / ``from_pretrained`` methods are
one-line wrappers over the functions here. Each function builds the model class it is given
(``cls``) with the other module's shape, then copies every tensor by name. Nothing is converted
except layout: torch packs W_q, W_k and W_v into one ``in_proj_weight`` ``(3D, D)``; Hugging Face
names the same ``nn.Linear`` weights differently (``hf_name_mapping``).

Shape legend: D = d_model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor, nn

from attention_lab.nn._checks import (
    check_hf_state,
    check_instance,
    check_torch_activation,
    check_torch_layer,
    check_torch_multihead,
    check_torch_rnn,
    required_file,
)

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def copy_weights(pairs: list[tuple[Tensor, Tensor]]) -> None:
    """``ours.copy_(theirs)`` for every pair, outside autograd."""
    with torch.no_grad():
        for ours, theirs in pairs:
            ours.copy_(theirs)


def _weight_and_bias(ours: nn.Linear, theirs: nn.Linear) -> list[tuple[Tensor, Tensor]]:
    pairs = [(ours.weight, theirs.weight)]
    return pairs if theirs.bias is None else [*pairs, (ours.bias, theirs.bias)]


def _like(ours: ModuleT, theirs: Tensor) -> ModuleT:
    return ours.to(device=theirs.device, dtype=theirs.dtype)  # before copying: no lost precision


# --------------------------------------------------------------------------- torch.nn


def multihead_from_torch(cls: type[ModuleT], module: nn.MultiheadAttention) -> ModuleT:
    """A ``MultiHeadAttention`` (or subclass ``cls``) with the weights of a
    ``torch.nn.MultiheadAttention`` (any ``batch_first``)."""
    check_torch_multihead(module)
    bias = module.in_proj_bias is not None
    ours = cls(module.embed_dim, module.num_heads, dropout=module.dropout, bias=bias)
    ours = _like(ours, module.in_proj_weight)
    copy_weights(_multihead_pairs(ours, module))
    return ours


def _multihead_pairs(ours: nn.Module, theirs: nn.MultiheadAttention) -> list:
    """(ours, theirs) tensors: torch packs W_q, W_k, W_v (and their biases) into one matrix."""
    W_q, W_k, W_v = theirs.in_proj_weight.chunk(3)  # (3D, D) -> 3 x (D, D)
    pairs = [(ours.W_q.weight, W_q), (ours.W_k.weight, W_k), (ours.W_v.weight, W_v)]
    if theirs.in_proj_bias is not None:
        b_q, b_k, b_v = theirs.in_proj_bias.chunk(3)  # (3D,) -> 3 x (D,)
        pairs += [(ours.W_q.bias, b_q), (ours.W_k.bias, b_k), (ours.W_v.bias, b_v)]
    return pairs + _weight_and_bias(ours.W_o, theirs.out_proj)


def layer_from_torch(cls: type[ModuleT], layer: nn.Module, kind: type[nn.Module]) -> ModuleT:
    """An ``EncoderLayer`` or ``DecoderLayer`` (``cls``) from a ``torch.nn.TransformerEncoderLayer``
    or ``TransformerDecoderLayer`` (``kind``): batch_first or not, post- or pre-norm, relu/gelu.

    The decoder has two more parts than the encoder, the cross-attention (torch:
    ``multihead_attn``) and a third norm; everything else has the same name in both.
    """
    check_torch_layer(layer, kind)
    ours = cls(
        layer.self_attn.embed_dim,
        layer.self_attn.num_heads,
        layer.linear1.out_features,
        dropout=layer.dropout.p,
        activation=torch_activation_name(layer.activation),
        norm_first=layer.norm_first,
        layer_norm_eps=layer.norm1.eps,
        bias=layer.linear1.bias is not None,
    )
    ours = _like(ours, layer.linear1.weight)
    ff = ours.feed_forward
    pairs = _multihead_pairs(ours.self_attn, layer.self_attn)
    if hasattr(layer, "multihead_attn"):  # the decoder's attention over the encoder's output
        pairs += _multihead_pairs(ours.cross_attn, layer.multihead_attn)
    pairs += _weight_and_bias(ff.W_1, layer.linear1) + _weight_and_bias(ff.W_2, layer.linear2)
    for norm in ("norm1", "norm2", "norm3"):  # the decoder has three Add & Norm, the encoder two
        if hasattr(layer, norm):
            pairs += _weight_and_bias(getattr(ours, norm), getattr(layer, norm))
    copy_weights(pairs)
    return ours


def torch_activation_name(activation: object) -> str:
    """torch's ``activation`` (a function or a module) as our name: ``"relu"`` or ``"gelu"``."""
    check_torch_activation(activation)
    return "relu" if activation is F.relu or isinstance(activation, nn.ReLU) else "gelu"


def stack_from_torch(
    cls: type[ModuleT], module: nn.Module, kind: type[nn.Module], layer_cls: type
) -> ModuleT:
    """An ``Encoder`` or ``Decoder`` (``cls``) from ``torch.nn.TransformerEncoder`` or
    ``TransformerDecoder`` (``kind``), layer by layer (``layer_cls.from_torch``), final norm too."""
    check_instance("module", module, kind)
    return cls([layer_cls.from_torch(layer) for layer in module.layers], clone_norm(module.norm))


def clone_norm(norm: nn.LayerNorm | None) -> nn.LayerNorm | None:
    """A new ``nn.LayerNorm`` with the weights of ``norm`` (None stays None)."""
    if norm is None:
        return None
    bias = norm.bias is not None
    ours = _like(nn.LayerNorm(norm.normalized_shape, eps=norm.eps, bias=bias), norm.weight)
    copy_weights(_weight_and_bias(ours, norm))
    return ours


def transformer_from_torch(
    cls: type[ModuleT], config_cls: type, module: nn.Transformer, src_vocab: int, tgt_vocab: int
) -> ModuleT:
    """A ``Transformer`` (``cls``, configured by a ``config_cls``) with the stacks of a
    ``torch.nn.Transformer``. torch's has no embeddings: those and the output layer stay freshly
    initialised."""
    check_instance("module", module, nn.Transformer)
    first = module.encoder.layers[0]
    config = config_cls(
        src_vocab_size=src_vocab,
        tgt_vocab_size=tgt_vocab,
        d_model=module.d_model,
        num_heads=module.nhead,
        num_encoder_layers=len(module.encoder.layers),
        num_decoder_layers=len(module.decoder.layers),
        d_ff=first.linear1.out_features,
        dropout=first.dropout.p,
        activation=torch_activation_name(first.activation),
        norm_first=first.norm_first,
        layer_norm_eps=first.norm1.eps,
        final_norm=module.encoder.norm is not None,
    )
    ours = _like(cls(config), first.linear1.weight)
    ours.encoder = type(ours.encoder).from_torch(module.encoder)
    ours.decoder = type(ours.decoder).from_torch(module.decoder)
    return ours


def rnn_from_torch(cls: type[ModuleT], module: nn.RNN) -> ModuleT:
    """A ``TanhRNN`` (``cls``) with the weights of a one-layer, unidirectional, batch-first tanh
    ``torch.nn.RNN``."""
    check_torch_rnn(module)
    ours = _like(cls(module.input_size, module.hidden_size, bias=module.bias), module.weight_hh_l0)
    pairs = [(ours.W_ih, module.weight_ih_l0), (ours.W_hh, module.weight_hh_l0)]
    if module.bias:
        pairs += [(ours.b_ih, module.bias_ih_l0), (ours.b_hh, module.bias_hh_l0)]
    copy_weights(pairs)
    return ours


def lstm_to_torch(cell: nn.LSTMCell) -> nn.LSTM:
    """The weights of an ``nn.LSTMCell`` in a fused, batch-first, one-layer ``torch.nn.LSTM``."""
    lstm = _like(nn.LSTM(cell.input_size, cell.hidden_size, batch_first=True), cell.weight_hh)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    copy_weights([(getattr(lstm, f"{name}_l0"), getattr(cell, name)) for name in names])
    return lstm


# --------------------------------------------------------------------------- Hugging Face BERT

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


def load_hf_bert_state(model: nn.Module, state: dict[str, Tensor]) -> None:
    """Copy a Hugging Face ``BertModel`` state dict into ``model`` (a ``BertEncoder``), by name.

    Every tensor of the file must have a place here and every parameter here must be filled;
    anything else is an error (a silent partial load is how ported models go wrong).
    """
    state = {name.removeprefix("bert."): tensor for name, tensor in state.items()}
    mapping = hf_name_mapping(model.config.num_layers)
    ours = dict(model.named_parameters())
    check_hf_state(state, mapping, ours, IGNORED_HF_NAMES, model.config.num_layers)
    copy_weights([(ours[our_name], state[hf_name]) for hf_name, our_name in mapping.items()])


def read_hf_folder(folder: str | Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """``config.json`` (as a dict) and ``model.safetensors`` (as a state dict) of a Hugging Face
    model folder."""
    config = json.loads(required_file(folder, "config.json").read_text())
    return config, load_file(str(required_file(folder, "model.safetensors")))
