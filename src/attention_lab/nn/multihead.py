"""Multi-head attention (Vaswani et al. 2017, section 3.2.2).

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_o,   head_i = Attention(Q W_q_i, K W_k_i, V W_v_i)

Two classes with the same parameters (and ``state_dict`` keys), one code path each:

- ``MultiHeadAttention``, the readable one: it calls our ``scaled_dot_product_attention`` and keeps
  the last attention weights in ``.attn_weights``. Use it to look inside.
- ``FusedMultiHeadAttention``: the same numbers from torch's fused kernel
  (``torch.nn.functional.scaled_dot_product_attention``), faster and lighter because the
  ``(T_q, T_k)`` weights are never stored. Use it to train.

``use_fast_attention(model)`` / ``use_readable_attention(model)`` switch every attention layer of a
model between the two in place, and ``with fast_attention(model):`` does so for one block of code.

Shape legend: B batch, T_q/T_k query/key lengths, D = d_model, H = num_heads, d_k = D // H.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.nn import interop
from attention_lab.nn._checks import (
    check_heads,
    check_instance,
    check_multihead_args,
    check_multihead_inputs,
)
from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.masks import mask_scores

ModelT = TypeVar("ModelT", bound=nn.Module)


class MultiHeadAttention(nn.Module):
    """H attention heads in parallel, each in its own d_k = D / H dimensional subspace.

    One ``nn.Linear`` per projection holds the weights of all heads at once (``W_q`` maps D to
    H * d_k = D), so splitting into heads is a reshape, not H separate layers. ``forward`` keeps
    the last attention weights in ``.attn_weights`` ``(B, H, T_q, T_k)`` (None before the first).
    """

    attn_weights: Tensor | None = None  # (B, H, T_q, T_k), set by every forward

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        check_multihead_args(d_model, num_heads, dropout)
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.dropout = dropout  # on the attention weights, while training
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
    ) -> Tensor:
        """``query`` ``(B, T_q, D)``, ``key``/``value`` ``(B, T_k, D)`` -> ``(B, T_q, D)``.

        ``mask``: bool (True = may attend) or float (added), shaped ``(T_q, T_k)``,
        ``(B, T_q or 1, T_k)`` or ``(B, H or 1, T_q or 1, T_k)``.
        """
        check_multihead_inputs(self, query, key, value, mask)
        # 1) project, 2) split D into H heads of d_k
        q = self.split_heads(self.W_q(query))  # (B, T_q, D) -> (B, H, T_q, d_k)
        k = self.split_heads(self.W_k(key))  # (B, T_k, D) -> (B, H, T_k, d_k)
        v = self.split_heads(self.W_v(value))  # (B, T_k, D) -> (B, H, T_k, d_k)

        # 3) attend, in every head at once
        heads, weights = scaled_dot_product_attention(
            q, k, v, heads_mask(mask), dropout_p=self.dropout if self.training else 0.0
        )  # (B, H, T_q, d_k), (B, H, T_q, T_k)
        self.attn_weights = weights.detach()

        # 4) concatenate the heads and mix them with W_o
        return self.W_o(self.merge_heads(heads))  # (B, T_q, D) @ (D, D) -> (B, T_q, D)

    def split_heads(self, x: Tensor) -> Tensor:
        """``(B, T, D) -> (B, H, T, d_k)``: head h gets columns h*d_k .. (h+1)*d_k - 1."""
        B, T, _ = x.shape
        # the transpose matters: a bare view(B, H, T, d_k) would mix positions across heads
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)

    def merge_heads(self, heads: Tensor) -> Tensor:
        """``(B, H, T, d_k) -> (B, T, D)``: the concatenation of the heads, head 0 first."""
        B, _, T, _ = heads.shape
        return heads.transpose(1, 2).reshape(B, T, self.d_model)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, num_heads={self.num_heads}, dropout={self.dropout}"

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (any ``batch_first``)."""
        return interop.multihead_from_torch(cls, module)


class FusedMultiHeadAttention(MultiHeadAttention):
    """``MultiHeadAttention`` computed by torch's fused kernel: same parameters, same numbers.

    Faster and lighter (the ``(B, H, T_q, T_k)`` weights are never stored), so it keeps no
    ``.attn_weights``: reading them is an error that says how to get them. Projections that share
    an input run as one matmul (self-attention: ``(B, T, D) -> (B, T, 3D)``).
    """

    @property
    def attn_weights(self) -> Tensor:
        raise RuntimeError(
            "attn_weights: FusedMultiHeadAttention keeps no attention weights (torch's fused "
            "kernel never stores them). Use MultiHeadAttention to look inside: call "
            "use_readable_attention(model) before the forward pass whose weights you want."
        )

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
    ) -> Tensor:
        """As ``MultiHeadAttention.forward``."""
        check_multihead_inputs(self, query, key, value, mask)
        q, k, v = (self.split_heads(x) for x in self._project(query, key, value))  # (B, H, T, d_k)
        dropout_p = self.dropout if self.training else 0.0
        heads = fused_attention(q, k, v, heads_mask(mask), dropout_p)  # (B, H, T_q, d_k)
        return self.W_o(self.merge_heads(heads))  # (B, T_q, D) @ (D, D) -> (B, T_q, D)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        if key is not value:
            return self.W_q(query), self.W_k(key), self.W_v(value)  # each (B, T, D) @ (D, D)
        if query is key:  # self-attention: one (B, T, D) -> (B, T, 3D) matmul
            return _stacked_linear(query, self.W_q, self.W_k, self.W_v).chunk(3, dim=-1)
        k, v = _stacked_linear(key, self.W_k, self.W_v).chunk(2, dim=-1)  # cross: (B, T_k, 2D)
        return self.W_q(query), k, v


def heads_mask(mask: Tensor | None) -> Tensor | None:
    """A ``(B, T_q, T_k)`` mask is per sequence: the same for every head, ``(B, 1, T_q, T_k)``."""
    return mask.unsqueeze(1) if mask is not None and mask.dim() == 3 else mask


def fused_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float = 0.0
) -> Tensor:
    """torch's fused kernel with our contract: a query with no key to attend to gets zeros.

    ``q`` ``(..., T_q, d_k)``, ``k`` ``(..., T_k, d_k)``, ``v`` ``(..., T_k, d_v)`` ->
    ``(..., T_q, d_v)``; ``mask`` as in ``scaled_dot_product_attention``.
    """
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    # the mask as scores to add: 0 where a key may be attended, the lowest finite float where not
    additive, blocked = mask_scores(torch.zeros((), dtype=q.dtype, device=q.device), mask)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=dropout_p)
    empty = blocked.all(dim=-1, keepdim=True)  # (..., T_q, 1): rows with nothing to attend to
    # always applied, never `if empty.any()`: a branch on a value would make the GPU wait for the
    # CPU at every layer, and would break a compiled graph
    return out.masked_fill(empty, 0.0)


def _stacked_linear(x: Tensor, *layers: nn.Linear) -> Tensor:
    """``x`` through several same-shaped linear layers at once: one (D -> n D) matmul."""
    weight = torch.cat([layer.weight for layer in layers])  # (n D, D)
    bias = None if layers[0].bias is None else torch.cat([layer.bias for layer in layers])
    return F.linear(x, weight, bias)


def use_fast_attention(model: ModelT) -> ModelT:
    """Make every ``MultiHeadAttention`` in ``model`` a ``FusedMultiHeadAttention``, in place.

    The same module objects change class: parameters, hooks, device and optimizer state stay, only
    the forward pass changes. Same outputs and gradients, no ``attn_weights``. Returns ``model``.
    """
    for module in _attention_layers(model, MultiHeadAttention):
        _become(module, FusedMultiHeadAttention)
    return model


def use_readable_attention(model: ModelT) -> ModelT:
    """Undo ``use_fast_attention``: every attention layer keeps its weights again. Returns ``model``."""
    for module in _attention_layers(model, FusedMultiHeadAttention):
        _become(module, MultiHeadAttention)
    return model


@contextlib.contextmanager
def fast_attention(model: ModelT, enabled: bool = True) -> Iterator[ModelT]:
    """``with fast_attention(model):`` fused attention inside the block, readable again after it.

    Only the layers switched on entry are switched back, on exit or on an exception.
    ``enabled=False`` leaves the model as it is (like ``torch.autocast(enabled=...)``).
    """
    switched = _attention_layers(model, MultiHeadAttention) if enabled else []
    for module in switched:
        _become(module, FusedMultiHeadAttention)
    try:
        yield model
    finally:
        for module in switched:
            _become(module, MultiHeadAttention)


@contextlib.contextmanager
def without_heads(attention: MultiHeadAttention, heads: Sequence[int]) -> Iterator[None]:
    """``with without_heads(mha, [1]):`` head 1 of ``mha`` contributes nothing inside the block.

    Head h owns columns h*d_k .. (h+1)*d_k - 1 of the concatenation that ``W_o`` mixes (section
    3.2.2), so zeroing them removes exactly that head: a forward pre-hook on ``W_o`` does it, and
    ``forward`` stays as it is. Works on both classes; the hook is removed on exit or on an error.
    """
    check_heads(attention, heads)
    keep = torch.ones(attention.d_model)  # (D,): 1 for the columns of the heads that stay
    for h in heads:
        keep[h * attention.d_k : (h + 1) * attention.d_k] = 0.0

    def zero_heads(_: nn.Module, args: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        concat = args[0]  # (B, T_q, D): the heads side by side
        return (concat * keep.to(concat),)

    handle = attention.W_o.register_forward_pre_hook(zero_heads)
    try:
        yield
    finally:
        handle.remove()


def _attention_layers(model: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    check_instance("model", model, nn.Module)
    # exactly `kind`: a subclass may have its own forward, which a swap would throw away
    return [module for module in model.modules() if type(module) is kind]


def _become(module: nn.Module, kind: type[MultiHeadAttention]) -> None:
    module.__class__ = kind  # both classes hold the same parameters; only forward differs
    module.__dict__.pop("attn_weights", None)  # stale weights of the readable class
