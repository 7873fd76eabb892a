"""Model answers to the Lab 3.4 exercises, shown by ``lab34.qN.solution()``.

Each is written as a learner would write it in the notebook (plain PyTorch, no ``attention_lab``
imports), so the batch grader accepts it as a submission. Where two exercises define the same
name, the first version here carries a suffix that ``solution()`` removes.

Shape legend: ``...`` batch dimensions, T_q/T_k query/key lengths, D = d_model, H = num_heads,
d_k = D // H, d_v value width.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class QKVProjection(nn.Module):
    """Q = x W_q, K = x W_k, V = x W_v (Vaswani et al. 2017, section 3.2)."""

    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        self.W_q = nn.Linear(d_model, d_k)
        self.W_k = nn.Linear(d_model, d_k)
        self.W_v = nn.Linear(d_model, d_v)

    def forward(self, x):
        q = self.W_q(x)  # (B, T, D) -> (B, T, d_k)
        k = self.W_k(x)  # (B, T, D) -> (B, T, d_k)
        v = self.W_v(x)  # (B, T, D) -> (B, T, d_v)
        return q, k, v


def attention_scores(q, k):
    """Q K^T / sqrt(d_k): how well each query matches each key."""
    d_k = q.shape[-1]
    return (
        q @ k.transpose(-2, -1) / math.sqrt(d_k)
    )  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)


def attention_weights(scores):
    """softmax over the keys (the last axis), stable for large scores."""
    scores = scores - scores.amax(dim=-1, keepdim=True)  # exp() of at most 0: no overflow
    exp = scores.exp()
    return exp / exp.sum(dim=-1, keepdim=True)  # each row sums to 1


def weighted_sum(weights, v):
    """Each output row is the weights' average of the value vectors."""
    return weights @ v  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)


def scaled_dot_product_attention_unmasked(q, k, v, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V  (Eq. 1, Vaswani et al. 2017)."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    weights = torch.softmax(scores, dim=-1)  # over the keys
    return weights @ v, weights  # (..., T_q, d_v), (..., T_q, T_k)


def causal_mask(T):
    """(T, T) bool: query i may attend to keys 0..i."""
    return torch.ones(T, T, dtype=torch.bool).tril()


def padding_mask(tokens, pad_id):
    """(B, 1, 1, T) bool: True for real tokens; broadcasts over heads and queries."""
    return (tokens != pad_id)[:, None, None, :]  # (B, T) -> (B, 1, 1, T)


def scaled_dot_product_attention(q, k, v, mask=None):
    """Eq. 1 with a bool mask (True = may attend); fully masked queries get zeros, not NaN."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        # lowest finite value, not -inf: a row with every key blocked stays finite
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)  # fully blocked rows: 0 instead of uniform
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Concat(head_1, ..., head_H) W_o, head_i = Attention(Q W_q_i, K W_k_i, V W_v_i)."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def split_heads(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)

    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q = self.split_heads(self.W_q(query))  # (B, H, T_q, d_k)
        k = self.split_heads(self.W_k(key))  # (B, H, T_k, d_k)
        v = self.split_heads(self.W_v(value))  # (B, H, T_k, d_k)
        heads, _ = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T_q, d_k)
        concat = heads.transpose(1, 2).reshape(B, T_q, D)  # (B, H, T_q, d_k) -> (B, T_q, D)
        return self.W_o(concat)


def attention_with_loops(q, k, v):
    """Attention for one sequence, one query and one key at a time: (T_q, d_k), (T_k, d_k), (T_k, d_v)."""
    T_q, d_k = q.shape
    T_k = k.shape[0]
    weights = torch.zeros(T_q, T_k, dtype=q.dtype)
    output = torch.zeros(T_q, v.shape[1], dtype=q.dtype)
    for i in range(T_q):
        scores = [float(q[i] @ k[j]) / math.sqrt(d_k) for j in range(T_k)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        for j in range(T_k):
            weights[i, j] = exps[j] / total
            output[i] += weights[i, j] * v[j]
    return output, weights
