"""The encoder and decoder blocks (Vaswani et al. 2017, section 3.1, Figure 1).

Each sub-layer is wrapped in "Add & Norm": ``LayerNorm(x + Sublayer(x))`` (post-norm, the paper's
choice, and torch's default). Pre-norm, ``x + Sublayer(LayerNorm(x))``, is an option: it trains
deep stacks more easily and is what most modern models (and the Annotated Transformer) use.

Shape legend: B batch, T_q/T_k query/key lengths (T for self-attention), D = d_model.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.nn import interop
from attention_lab.nn._checks import check_feed_forward_args
from attention_lab.nn.multihead import MultiHeadAttention

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class FeedForward(nn.Module):
    """Position-wise feed-forward network (section 3.3, Eq. 2): ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2``.

    The same two-layer MLP is applied to every position separately; ``d_ff`` (2048 in the paper) is
    its hidden width. GELU replaces ReLU in BERT-style models.
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        bias: bool = True,
    ):
        super().__init__()
        check_feed_forward_args(d_model, d_ff, dropout, activation, ACTIVATIONS)
        self.activation = activation
        self.W_1 = nn.Linear(d_model, d_ff, bias=bias)
        self.W_2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        hidden = ACTIVATIONS[self.activation](self.W_1(x))  # (B, T, D) -> (B, T, d_ff)
        return self.W_2(self.dropout(hidden))  # (B, T, d_ff) -> (B, T, D)


class EncoderLayer(nn.Module):
    """Multi-head self-attention, then the feed-forward network, each with Add & Norm."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, bias=bias)
        self.feed_forward = FeedForward(d_model, d_ff, dropout, activation, bias=bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``x`` ``(B, T, D)`` -> ``(B, T, D)``; ``mask`` as in ``MultiHeadAttention``."""
        if self.norm_first:  # pre-norm: x + Sublayer(LayerNorm(x))
            x = x + self.dropout1(self._self_attention(self.norm1(x), mask))
            x = x + self.dropout2(self.feed_forward(self.norm2(x)))
        else:  # post-norm (the paper): LayerNorm(x + Sublayer(x))
            x = self.norm1(x + self.dropout1(self._self_attention(x, mask)))
            x = self.norm2(x + self.dropout2(self.feed_forward(x)))
        return x

    def _self_attention(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.self_attn(x, x, x, mask)  # queries, keys and values all come from x

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> EncoderLayer:
        """Copy a ``torch.nn.TransformerEncoderLayer`` (batch_first or not, post- or pre-norm, relu/gelu)."""
        return interop.layer_from_torch(cls, layer, nn.TransformerEncoderLayer)


class DecoderLayer(nn.Module):
    """Masked self-attention, attention over the encoder's output (cross-attention), then the
    feed-forward network, each with Add & Norm (section 3.1)."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, bias=bias)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, bias=bias)
        self.feed_forward = FeedForward(d_model, d_ff, dropout, activation, bias=bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """``x`` ``(B, T_q, D)`` (target so far), ``memory`` ``(B, T_k, D)`` (encoder output).

        ``tgt_mask`` masks the self-attention (usually causal), ``memory_mask`` the cross-attention
        (usually the source padding).
        """
        if self.norm_first:
            x = x + self.dropout1(self._self_attention(self.norm1(x), tgt_mask))
            x = x + self.dropout2(self.cross_attn(self.norm2(x), memory, memory, memory_mask))
            x = x + self.dropout3(self.feed_forward(self.norm3(x)))
        else:
            x = self.norm1(x + self.dropout1(self._self_attention(x, tgt_mask)))
            # queries from the decoder, keys and values from the encoder
            x = self.norm2(x + self.dropout2(self.cross_attn(x, memory, memory, memory_mask)))
            x = self.norm3(x + self.dropout3(self.feed_forward(x)))
        return x

    def _self_attention(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.self_attn(x, x, x, mask)

    @classmethod
    def from_torch(cls, layer: nn.TransformerDecoderLayer) -> DecoderLayer:
        """Copy a ``torch.nn.TransformerDecoderLayer`` (batch_first or not, post- or pre-norm, relu/gelu)."""
        return interop.layer_from_torch(cls, layer, nn.TransformerDecoderLayer)
