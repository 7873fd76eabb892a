"""The query/key view of one head (bertviz calls it the neuron view; Vig 2019, "A Multiscale
Visualization of Attention in the Transformer Model", section 3.3).

For one query position i of head h, Eq. 1 of Vaswani et al. 2017 step by step::

    q_i = (x W_q)_h[i]              the query vector, d_k numbers
    k_j = (x W_k)_h[j]              each key vector
    q_i * k_j                       their elementwise product: which dimensions agree
    q_i . k_j = sum(q_i * k_j)      the dot product (the score)
    q_i . k_j / sqrt(d_k)           scaled
    softmax_j(...)                  the attention weights of row i (masked keys get 0)

The vectors are read from a real run of the model: a forward pre-hook on each
``MultiHeadAttention`` records what it projects.

Shape legend: B batch, L layers, H heads, T_q queries, T_k keys, d_k = d_model / H.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor

from attention_lab.nn.multihead import MultiHeadAttention


@contextmanager
def capture_queries_and_keys(
    modules: Sequence[MultiHeadAttention],
) -> Iterator[list[tuple[Tensor, Tensor] | None]]:
    """While inside, each call of ``modules[i]`` stores its per-head ``(q, k)`` in the list
    yielded, as ``(H, T_q, d_k)`` and ``(H, T_k, d_k)`` of the first batch element (the last call
    wins)."""
    captured: list[tuple[Tensor, Tensor] | None] = [None] * len(modules)

    def hook_for(i: int):
        def hook(module: MultiHeadAttention, args: tuple, kwargs: dict[str, Any]) -> None:
            query = args[0] if len(args) > 0 else kwargs["query"]
            key = args[1] if len(args) > 1 else kwargs["key"]
            with torch.no_grad():
                captured[i] = (_heads(module, module.W_q(query)), _heads(module, module.W_k(key)))

        return hook

    handles = [
        module.register_forward_pre_hook(hook_for(i), with_kwargs=True)
        for i, module in enumerate(modules)
    ]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def _heads(module: MultiHeadAttention, x: Tensor) -> Tensor:
    B, T, _ = x.shape
    split = x.view(B, T, module.num_heads, module.d_k).transpose(
        1, 2
    )  # (B, T, D) -> (B, H, T, d_k)
    return split[0].float().cpu()  # (H, T, d_k)


def stacked(captured: list[tuple[Tensor, Tensor] | None]) -> tuple[Tensor, Tensor]:
    """The captured pairs of every layer as ``(L, H, T_q, d_k)`` and ``(L, H, T_k, d_k)``."""
    if any(pair is None for pair in captured):
        raise RuntimeError("a layer was not run while its queries and keys were being captured")
    queries = torch.stack([pair[0] for pair in captured])  # type: ignore[index]
    keys = torch.stack([pair[1] for pair in captured])  # type: ignore[index]
    return queries, keys


def query_key_view(q: Tensor, k: Tensor, allowed: Tensor | None = None) -> dict[str, Any]:
    """Every step from one query vector ``q`` ``(d_k,)`` and the keys ``k`` ``(T_k, d_k)`` to the
    attention weights of that query (``allowed`` ``(T_k,)`` bool: False = masked key)."""
    d_k = q.shape[-1]
    # in float64, where the products of float32 numbers are exact: the dot products are then the
    # exact sums of the products shown, up to float64 rounding
    products = q.double()[None, :] * k.double()  # (1, d_k) * (T_k, d_k) -> (T_k, d_k)
    dots = products.sum(-1)  # (T_k,): q . k_j
    scaled = dots / math.sqrt(d_k)
    if allowed is None:
        allowed = torch.ones(k.shape[0], dtype=torch.bool)
    weights = torch.softmax(scaled.masked_fill(~allowed, -math.inf), dim=-1)  # (T_k,)
    return {
        "d_k": d_k,
        "sqrt_d_k": math.sqrt(d_k),
        "q": q.tolist(),
        "k": k.tolist(),
        "products": products.tolist(),
        "dots": dots.tolist(),
        "scaled": [s if a else None for s, a in zip(scaled.tolist(), allowed.tolist())],
        "weights": weights.tolist(),
        "allowed": allowed.tolist(),
    }
