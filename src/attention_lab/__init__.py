"""attention-lab: the Transformer of "Attention is All You Need", from scratch and verified.

The public API is re-exported here and nowhere else::

    from attention_lab import MultiHeadAttention, scaled_dot_product_attention

Each name is imported on first use (PEP 562), so ``import attention_lab`` loads nothing but this
file, and ``from attention_lab import Transformer`` loads the model code only: not the quiz, the
grader or the course tools, nor the packages they need.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "NotebookQuiz": "attention_lab.assessment",
    "grade_batch": "attention_lab.assessment",
    "load_questions": "attention_lab.assessment",
    "quiz_html": "attention_lab.assessment",
    "CharGPT": "attention_lab.experiments.char_gpt",
    "load_char_gpt": "attention_lab.experiments.char_gpt",
    "train_char_gpt": "attention_lab.experiments.char_gpt",
    "check_handcalc": "attention_lab.handcalc",
    "generate_handcalc": "attention_lab.handcalc",
    "scaled_dot_product_attention": "attention_lab.nn.attention",
    "BertConfig": "attention_lab.nn.bert",
    "BertEncoder": "attention_lab.nn.bert",
    "load_minilm": "attention_lab.nn.bert",
    "mean_pooling": "attention_lab.nn.bert",
    "minilm_path": "attention_lab.nn.bert",
    "sentence_attention": "attention_lab.nn.bert",
    "sentence_embeddings": "attention_lab.nn.bert",
    "DecoderLayer": "attention_lab.nn.blocks",
    "EncoderLayer": "attention_lab.nn.blocks",
    "FeedForward": "attention_lab.nn.blocks",
    "GPT": "attention_lab.nn.gpt",
    "GPTConfig": "attention_lab.nn.gpt",
    "GPT_PRESETS": "attention_lab.nn.gpt",
    "causal_mask": "attention_lab.nn.masks",
    "padding_mask": "attention_lab.nn.masks",
    "FusedMultiHeadAttention": "attention_lab.nn.multihead",
    "MultiHeadAttention": "attention_lab.nn.multihead",
    "fast_attention": "attention_lab.nn.multihead",
    "use_fast_attention": "attention_lab.nn.multihead",
    "use_readable_attention": "attention_lab.nn.multihead",
    "without_heads": "attention_lab.nn.multihead",
    "PositionalEncoding": "attention_lab.nn.positional",
    "sinusoidal_positional_encoding": "attention_lab.nn.positional",
    "StepwiseLSTM": "attention_lab.nn.rnn",
    "TanhRNN": "attention_lab.nn.rnn",
    "rnn_step": "attention_lab.nn.rnn",
    "scale_to_spectral_norm": "attention_lab.nn.rnn",
    "BertTokenizer": "attention_lab.nn.tokenizer",
    "Decoder": "attention_lab.nn.transformer",
    "Encoder": "attention_lab.nn.transformer",
    "PRESETS": "attention_lab.nn.transformer",
    "Transformer": "attention_lab.nn.transformer",
    "TransformerConfig": "attention_lab.nn.transformer",
    "greedy_decode": "attention_lab.nn.transformer",
    "CharCorpus": "attention_lab.tasks.characters",
    "NumberTranslation": "attention_lab.tasks.numbers",
    "Trace": "attention_lab.tracing",
    "trace": "attention_lab.tracing",
    "TrainConfig": "attention_lab.training",
    "train": "attention_lab.training",
    "Translator": "attention_lab.translator",
    "get_translator": "attention_lab.translator",
    "load_translator": "attention_lab.translator",
    "translate": "attention_lab.translator",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'attention_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
