"""attention-lab: the Transformer of "Attention is All You Need", from scratch and verified.

The public API is re-exported here and nowhere else::

    from attention_lab import MultiHeadAttention, scaled_dot_product_attention
"""

from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.blocks import DecoderLayer, EncoderLayer, FeedForward
from attention_lab.nn.masks import causal_mask, padding_mask
from attention_lab.nn.multihead import MultiHeadAttention
from attention_lab.nn.positional import PositionalEncoding, sinusoidal_positional_encoding
from attention_lab.nn.transformer import (
    PRESETS,
    Decoder,
    Encoder,
    Transformer,
    TransformerConfig,
    greedy_decode,
)

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "Decoder",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "FeedForward",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Transformer",
    "TransformerConfig",
    "causal_mask",
    "greedy_decode",
    "padding_mask",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
]
