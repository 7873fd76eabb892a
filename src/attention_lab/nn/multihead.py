"""Multi-head attention (Vaswani et al. 2017, section 3.2.2).

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_o,   head_i = Attention(Q W_q_i, K W_k_i, V W_v_i)

Shape legend: B batch, T_q/T_k query/key lengths, D = d_model, H = num_heads, d_k = D // H.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.nn._checks import (
    check_mask,
    check_positive_int,
    check_probability,
    check_same_device_dtype,
    check_tensor,
)
from attention_lab.nn.attention import scaled_dot_product_attention


class MultiHeadAttention(nn.Module):
    """H attention heads in parallel, each in its own d_k = D / H dimensional subspace.

    One ``nn.Linear`` per projection holds the weights of all heads at once (``W_q`` maps D to
    H * d_k = D), so splitting into heads is a reshape, not H separate layers.

    ``forward`` keeps the last attention weights in ``.attn_weights`` ``(B, H, T_q, T_k)``. With
    ``store_weights = False`` it skips them and calls torch's fused
    ``F.scaled_dot_product_attention`` instead (same numbers, faster, less memory); the readable
    path is the default.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("num_heads", num_heads)
        check_probability("dropout", dropout)
        if d_model % num_heads != 0:
            raise ValueError(
                f"d_model: expected a multiple of num_heads={num_heads} (each head gets "
                f"d_k = d_model / num_heads), got d_model={d_model}"
            )
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.dropout = dropout
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
        self.store_weights = True
        self.attn_weights: Tensor | None = None

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
    ) -> Tensor:
        """``query`` ``(B, T_q, D)``, ``key``/``value`` ``(B, T_k, D)`` -> ``(B, T_q, D)``.

        ``mask``: bool (True = may attend) or float (added), shaped ``(T_q, T_k)``,
        ``(B, T_q or 1, T_k)`` or ``(B, H or 1, T_q or 1, T_k)``.
        """
        self._check_inputs(query, key, value)
        B, T_q, _ = query.shape
        T_k = key.shape[1]
        if mask is not None:
            mask = self._heads_mask(mask, B, T_q, T_k, query)
        dropout_p = self.dropout if self.training else 0.0

        # 1) project, 2) split D into H heads of d_k
        q, k, v = self._project(query, key, value)
        q = self._split_heads(q)  # (B, T_q, D) -> (B, H, T_q, d_k)
        k = self._split_heads(k)  # (B, T_k, D) -> (B, H, T_k, d_k)
        v = self._split_heads(v)  # (B, T_k, D) -> (B, H, T_k, d_k)

        # 3) attend, in every head at once
        if self.store_weights:
            heads, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=dropout_p)
            self.attn_weights = weights.detach()  # (B, H, T_q, T_k)
        else:
            heads = _fused_attention(q, k, v, mask, dropout_p)  # (B, H, T_q, d_k)
            self.attn_weights = None

        # 4) concatenate the heads and mix them with W_o
        concat = heads.transpose(1, 2).reshape(
            B, T_q, self.d_model
        )  # (B, H, T_q, d_k) -> (B, T_q, D)
        return self.W_o(concat)  # (B, T_q, D) @ (D, D) -> (B, T_q, D)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self.store_weights or key is not value:
            return self.W_q(query), self.W_k(key), self.W_v(value)  # each (B, T, D) @ (D, D)
        # fast path: stack the projections that share an input into one matmul
        if query is key:  # self-attention: (B, T, D) -> (B, T, 3D)
            return _stacked_linear(query, self.W_q, self.W_k, self.W_v).chunk(3, dim=-1)
        k, v = _stacked_linear(key, self.W_k, self.W_v).chunk(2, dim=-1)  # cross: (B, T_k, 2D)
        return self.W_q(query), k, v

    def _split_heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        # the transpose matters: a bare view(B, H, T, d_k) would mix positions across heads
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, t, dim=3)
            if t.shape[-1] != self.d_model:
                raise ValueError(
                    f"{name}: expected shape (B, T, d_model={self.d_model}), got {tuple(t.shape)}"
                )
        check_same_device_dtype(query=query, key=key, value=value)
        if self.W_q.weight.dtype != query.dtype:
            raise TypeError(
                f"query: expected dtype {self.W_q.weight.dtype} (the module's parameters), "
                f"got {query.dtype}; convert one with .to(dtype)"
            )
        if self.W_q.weight.device != query.device:
            raise ValueError(
                f"query: expected device {self.W_q.weight.device} (the module's parameters), "
                f"got {query.device}"
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

    def _heads_mask(self, mask: Tensor, B: int, T_q: int, T_k: int, like: Tensor) -> Tensor:
        """Bring a 2-D, 3-D or 4-D mask to a shape that broadcasts to (B, H, T_q, T_k)."""
        if not isinstance(mask, Tensor) or mask.dim() not in (2, 3, 4):
            got = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
            raise ValueError(
                f"mask: expected (T_q, T_k), (B, T_q, T_k) or (B, H, T_q, T_k) (size-1 dims "
                f"broadcast), got {got}"
            )
        if mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, T_q, T_k) -> (B, 1, T_q, T_k)
        check_mask(mask, torch.Size((B, self.num_heads, T_q, T_k)), like)
        return mask

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (any ``batch_first``)."""
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(
                f"module: expected torch.nn.MultiheadAttention, got {type(module).__name__}"
            )
        if not module._qkv_same_embed_dim:
            raise ValueError("module: expected kdim == vdim == embed_dim (one in_proj_weight)")
        if module.bias_k is not None or module.add_zero_attn:
            raise ValueError("module: add_bias_kv and add_zero_attn have no counterpart here")
        bias = module.in_proj_bias is not None
        ours = cls(module.embed_dim, module.num_heads, dropout=module.dropout, bias=bias)
        ours = ours.to(device=module.in_proj_weight.device, dtype=module.in_proj_weight.dtype)
        W_q, W_k, W_v = module.in_proj_weight.detach().chunk(3)  # (3D, D) -> 3 x (D, D)
        with torch.no_grad():
            ours.W_q.weight.copy_(W_q)
            ours.W_k.weight.copy_(W_k)
            ours.W_v.weight.copy_(W_v)
            ours.W_o.weight.copy_(module.out_proj.weight)
            if bias:
                b_q, b_k, b_v = module.in_proj_bias.detach().chunk(3)
                ours.W_q.bias.copy_(b_q)
                ours.W_k.bias.copy_(b_k)
                ours.W_v.bias.copy_(b_v)
                ours.W_o.bias.copy_(module.out_proj.bias)
        return ours


def _stacked_linear(x: Tensor, *layers: nn.Linear) -> Tensor:
    """``x`` through several same-shaped linear layers at once: one (D -> n D) matmul."""
    weight = torch.cat([layer.weight for layer in layers])  # (n D, D)
    bias = None if layers[0].bias is None else torch.cat([layer.bias for layer in layers])
    return F.linear(x, weight, bias)


def _fused_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float
) -> Tensor:
    """torch's fused kernel, with our contract: a query with no key to attend to gets zeros."""
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    # an additive float mask with the dtype's lowest finite value keeps fully blocked rows finite
    blocked = ~mask if mask.dtype == torch.bool else torch.isneginf(mask)
    additive = mask.to(q.dtype) if mask.dtype != torch.bool else torch.zeros((), dtype=q.dtype)
    additive = additive.masked_fill(blocked, torch.finfo(q.dtype).min)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=dropout_p)
    empty = blocked.all(dim=-1, keepdim=True)  # (..., T_q, 1): rows with nothing to attend to
    # always applied, never `if empty.any()`: a branch on a value would make the GPU wait for the
    # CPU at every layer, and would break a compiled graph
    return out.masked_fill(empty, 0.0)


def use_fast_attention(model: nn.Module, enabled: bool = True) -> nn.Module:
    """Switch every ``MultiHeadAttention`` in ``model`` to torch's fused kernel (or back).

    The fused path computes the same outputs and gradients but keeps no ``attn_weights``: use it to
    train, and the readable default to look inside. Returns ``model``.
    """
    for module in model.modules():
        if isinstance(module, MultiHeadAttention):
            module.store_weights = not enabled
            module.attn_weights = None
    return model
