"""attention-lab: the Transformer of "Attention is All You Need", from scratch and verified.

The public API is re-exported here and nowhere else::

    from attention_lab import MultiHeadAttention, scaled_dot_product_attention
"""

from attention_lab.assessment import NotebookQuiz, grade_batch, load_questions, quiz_html
from attention_lab.experiments.translation import (
    Translator,
    get_translator,
    load_translator,
    translate,
)
from attention_lab.handcalc import check_handcalc, generate_handcalc
from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.bert import (
    BertConfig,
    BertEncoder,
    load_minilm,
    mean_pooling,
    minilm_path,
    sentence_attention,
    sentence_embeddings,
)
from attention_lab.nn.blocks import DecoderLayer, EncoderLayer, FeedForward
from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.nn.multihead import MultiHeadAttention, use_fast_attention
from attention_lab.nn.positional import PositionalEncoding, sinusoidal_positional_encoding
from attention_lab.nn.rnn import StepwiseLSTM, TanhRNN, rnn_step, scale_to_spectral_norm
from attention_lab.nn.tokenizer import BertTokenizer
from attention_lab.nn.transformer import (
    PRESETS,
    Decoder,
    Encoder,
    Transformer,
    TransformerConfig,
    greedy_decode,
)
from attention_lab.tasks.numbers import NumberTranslation
from attention_lab.tracing import Trace, trace
from attention_lab.training import TrainConfig, train

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "BertConfig",
    "BertEncoder",
    "BertTokenizer",
    "Decoder",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "FeedForward",
    "MultiHeadAttention",
    "NotebookQuiz",
    "NumberTranslation",
    "PositionalEncoding",
    "StepwiseLSTM",
    "TanhRNN",
    "Trace",
    "TrainConfig",
    "Transformer",
    "TransformerConfig",
    "Translator",
    "causal_mask",
    "check_handcalc",
    "generate_handcalc",
    "get_translator",
    "grade_batch",
    "greedy_decode",
    "load_minilm",
    "load_questions",
    "load_translator",
    "mean_pooling",
    "minilm_path",
    "padding_mask",
    "quiz_html",
    "rnn_step",
    "scale_to_spectral_norm",
    "scaled_dot_product_attention",
    "sentence_attention",
    "sentence_embeddings",
    "sinusoidal_positional_encoding",
    "trace",
    "train",
    "translate",
    "use_fast_attention",
]
