"""Learner-style implementations of the Lab 3.4 exercises, each with the verdict it must get.

Written in the styles learners use (einsum, view/transpose, bmm, NumPy-like manual softmax, fused
QKV, a loop over heads, torch's own kernel inside) and adapted to the exercises' signatures, both
correct ones and single or double mistakes. ``CORPUS`` lists ``Entry(exercise, candidate,
expected)``: ``expected`` is "correct" or the diagnosis the check must lead with. ``TEXTBOOK``
marks the masked versions that are right except for a query with no key to attend to: they must
get full credit for the masking part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attention_lab.exercises import solutions


@dataclass(frozen=True)
class Entry:
    exercise: str
    candidate: object
    expected: str  # "correct" or the leading diagnosis
    textbook: bool = False  # right on the masking part, wrong only on the fully masked query
    or_else: str = ""  # another leading diagnosis some seeds give (a crash on every case)
    named: tuple[str, ...] = ()  # other diagnoses the verdict must also name
    not_named: tuple[str, ...] = ()  # diagnoses it must not name: their evidence is absent


# -- scaled dot-product attention, correct in several styles ---------------------------------


def sdpa_einsum(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) / q.size(-1) ** 0.5
    attn = scores.softmax(dim=-1)
    return torch.einsum("...qk,...kd->...qd", attn, v), attn


def sdpa_matmul_functional(query, key, value, mask=None):
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-1, -2)) * (1.0 / math.sqrt(d_k))
    p_attn = F.softmax(scores, dim=-1)
    return torch.matmul(p_attn, value), p_attn


def sdpa_manual_softmax(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
    s = s - s.max(dim=-1, keepdim=True).values
    e = torch.exp(s)
    w = e / e.sum(dim=-1, keepdim=True)
    return w @ v, w


def sdpa_bmm_flattened(q, k, v, mask=None):
    *batch, T_q, d = q.shape
    T_k = k.shape[-2]
    q3, k3, v3 = q.reshape(-1, T_q, d), k.reshape(-1, T_k, d), v.reshape(-1, T_k, v.shape[-1])
    w = torch.softmax(torch.bmm(q3, k3.transpose(1, 2)) / math.sqrt(d), dim=-1)
    out = torch.bmm(w, v3)
    return out.reshape(*batch, T_q, v.shape[-1]), w.reshape(*batch, T_q, T_k)


def sdpa_torch_kernel_and_weights(q, k, v, mask=None):
    weights = torch.softmax(q @ k.mT / math.sqrt(q.shape[-1]), dim=-1)
    return F.scaled_dot_product_attention(q, k, v), weights


def sdpa_naive_exp(q, k, v, mask=None):  # no max subtraction: fine for inputs of unit scale
    e = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).exp()
    w = e / e.sum(-1, keepdim=True)
    return w @ v, w


# -- scaled dot-product attention, wrong --------------------------------------------------------


def sdpa_einsum_keys_first(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...kq", q, k) / q.size(-1) ** 0.5
    attn = scores.softmax(dim=-1)
    return attn.transpose(-2, -1) @ v, attn


def sdpa_softmax_dim_1(q, k, v, mask=None):  # right for 2-D inputs only, by accident
    attn = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=1)
    return attn @ v, attn


def sdpa_scale_by_seq_len(q, k, v, mask=None):
    attn = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-2)), dim=-1)
    return attn @ v, attn


def sdpa_einsum_no_scale(q, k, v, mask=None):
    attn = torch.einsum("...id,...jd->...ij", q, k).softmax(-1)
    return torch.einsum("...ij,...jd->...id", attn, v), attn


def sdpa_divide_by_dk(q, k, v, mask=None):
    d_k = q.shape[-1]
    attn = torch.softmax(q @ k.transpose(-2, -1) / d_k, dim=-1)
    return attn @ v, attn


def sdpa_numpy_T(q, k, v, mask=None):  # .T is fine on a matrix, not on a batch
    attn = torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1)
    return attn @ v, attn


def sdpa_bmm_3d_only(q, k, v, mask=None):
    attn = torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1]), dim=-1)
    return torch.bmm(attn, v), attn


def sdpa_returns_output(q, k, v, mask=None):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v


def sdpa_weights_first(q, k, v, mask=None):
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return attn, attn @ v


def sdpa_scores_times_values(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return scores @ v, scores.softmax(-1)


def sdpa_global_normaliser(q, k, v, mask=None):
    e = torch.exp(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))
    w = e / torch.sum(e)
    return w @ v, w


def sdpa_dropout_functional(q, k, v, mask=None, dropout_p=0.1):
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    attn = F.dropout(attn, dropout_p)
    return attn @ v, attn


def sdpa_columns_and_no_scale(q, k, v, mask=None):
    attn = torch.softmax(q @ k.transpose(-2, -1), dim=-2)
    return attn @ v, attn


def sdpa_scales_query_in_place(q, k, v, mask=None):
    q.div_(math.sqrt(q.shape[-1]))
    attn = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    return attn @ v, attn


# -- masked attention, correct -----------------------------------------------------------------


def masked_nan_to_num(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    attn = torch.nan_to_num(torch.softmax(scores, dim=-1))  # a row of -inf: NaN -> 0
    return attn @ v, attn


def masked_where_and_zero(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = torch.where(mask, scores, torch.finfo(scores.dtype).min)
    attn = scores.softmax(-1)
    if mask is not None:
        attn = attn * mask
    return attn @ v, attn


# -- masked attention, right except for the fully masked query (the textbook versions) ----------


def masked_annotated_style(query, key, value, mask=None):
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    p_attn = scores.softmax(dim=-1)
    return torch.matmul(p_attn, value), p_attn


def masked_minus_inf(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    attn = F.softmax(scores, dim=-1)
    return attn @ v, attn


def masked_where_minus_1e9(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(-1e9))
    attn = scores.softmax(-1)
    return attn @ v, attn


# -- masked attention, wrong ------------------------------------------------------------------


def masked_true_means_blocked_inf(q, k, v, mask=None):  # nn.MultiheadAttention's convention
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_true_means_blocked(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, -1e9)
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_fill_with_zero(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0)
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_fill_tiny(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e-9)  # "a very small number"
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_added(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores += mask
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_multiplied_after(q, k, v, mask=None):
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        attn = attn * mask
    return attn @ v, attn


def masked_forgot_mask(q, k, v, mask=None):
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return attn @ v, attn


def masked_reshaped_mask(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        mask = mask.reshape(scores.shape)
        scores = scores.masked_fill(~mask, float("-inf"))
    attn = torch.nan_to_num(scores.softmax(-1))
    return attn @ v, attn


def masked_no_mask_argument(q, k, v):
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return attn @ v, attn


def masked_inverted_no_scale(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(mask, -1e9)
    attn = scores.softmax(-1)
    return attn @ v, attn


def masked_softmax_dim_2(q, k, v, mask=None):  # crashes on 2-D, right on 3-D, wrong on 4-D
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    attn = torch.softmax(scores, dim=2)
    return attn @ v, attn


def masked_unsqueezed_for_heads(q, k, v, mask=None):  # written for a (B, T_k) padding mask
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask.unsqueeze(1), -1e9)
    attn = scores.softmax(-1)
    return attn @ v, attn


# -- multi-head attention ----------------------------------------------------------------------


class _Base(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0
        self.h, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def heads(self, query, key, value):
        """Project and split: (B, T, D) -> (B, H, T, d_k) for each of q, k, v."""
        B = query.size(0)
        return (
            layer(x).view(B, -1, self.h, self.d_k).transpose(1, 2)
            for layer, x in ((self.W_q, query), (self.W_k, key), (self.W_v, value))
        )

    def attend(self, q, k, v, mask, scale):
        """softmax(q kᵀ / scale), blocked keys filled with -1e9, times v."""
        scores = q @ k.transpose(-2, -1) / scale
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        return torch.softmax(scores, -1) @ v  # (B, H, T_q, d_k)


class MHAViewTranspose(_Base):
    def forward(self, query, key, value, mask=None):
        B = query.size(0)
        q = self.W_q(query).view(B, -1, self.h, self.d_k).transpose(1, 2)
        k = self.W_k(key).view(B, -1, self.h, self.d_k).transpose(1, 2)
        v = self.W_v(value).view(B, -1, self.h, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e9)
        x = F.softmax(scores, dim=-1) @ v
        x = x.transpose(1, 2).contiguous().view(B, -1, self.h * self.d_k)
        return self.W_o(x)


class MHAEinsum(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape

        def split(x):
            return x.reshape(B, x.shape[1], self.h, self.d_k)  # (B, T, H, d_k)

        q, k, v = split(self.W_q(query)), split(self.W_k(key)), split(self.W_v(value))
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        attn = scores.softmax(-1)
        out = torch.einsum("bhqk,bkhd->bqhd", attn, v).reshape(B, T_q, D)
        return self.W_o(out)


class MHAFusedQKV(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        if query is key and key is value:  # self-attention: one fused projection
            weight = torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight])
            bias = torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias])
            q, k, v = F.linear(query, weight, bias).chunk(3, dim=-1)
        else:
            q, k, v = self.W_q(query), self.W_k(key), self.W_v(value)
        q, k, v = (t.view(B, -1, self.h, self.d_k).permute(0, 2, 1, 3) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.W_o(out.permute(0, 2, 1, 3).reshape(B, T_q, D))


class MHALoopOverHeads(_Base):
    def forward(self, query, key, value, mask=None):
        heads = []
        for h in range(self.h):
            rows = slice(h * self.d_k, (h + 1) * self.d_k)
            q = F.linear(query, self.W_q.weight[rows], self.W_q.bias[rows])
            k = F.linear(key, self.W_k.weight[rows], self.W_k.bias[rows])
            v = F.linear(value, self.W_v.weight[rows], self.W_v.bias[rows])
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
            if mask is not None:
                m = mask[:, 0] if mask.dim() == 4 else mask  # (B, 1, T_k) or (T_q, T_k)
                scores = scores.masked_fill(~m, -1e9)
            heads.append(torch.softmax(scores, dim=-1) @ v)
        return self.W_o(torch.cat(heads, dim=-1))


class MHAMergeNoTranspose(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = self.attend(q, k, v, mask, math.sqrt(self.d_k))
        return self.W_o(x.reshape(B, T_q, D))  # (B, H, T_q, d_k) read as (B, T_q, D)


class MHASplitNoTranspose(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q = self.W_q(query).reshape(B, self.h, T_q, self.d_k)
        k = self.W_k(key).reshape(B, self.h, key.shape[1], self.d_k)
        v = self.W_v(value).reshape(B, self.h, value.shape[1], self.d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        x = F.softmax(scores, dim=-1) @ v
        return self.W_o(x.transpose(1, 2).reshape(B, T_q, D))


class MHAInterleavedMerge(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = self.attend(q, k, v, mask, math.sqrt(self.d_k))
        return self.W_o(x.permute(0, 2, 3, 1).reshape(B, T_q, D))


class MHAScaleDModel(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = self.attend(q, k, v, mask, math.sqrt(D))
        return self.W_o(x.transpose(1, 2).reshape(B, T_q, D))


class MHANoOutputProjection(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return x.transpose(1, 2).reshape(B, T_q, D)


class MHAKeyWithQueryLength(_Base):
    def forward(self, query, key, value, mask=None):
        B, T, D = query.shape
        q, k, v = (
            layer(x).view(B, T, self.h, self.d_k).transpose(1, 2)
            for layer, x in ((self.W_q, query), (self.W_k, key), (self.W_v, value))
        )
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.W_o(x.transpose(1, 2).reshape(B, T, D))


class MHADropoutOn(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.1)
        return self.W_o(x.transpose(1, 2).reshape(B, T_q, D))


class MHAOtherConstructor(MHAViewTranspose):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)


class MHASelfAttentionOnly(MHAViewTranspose):
    def forward(self, x, mask=None):
        return super().forward(x, x, x, mask)


class MHASharedHeadProjection(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, self.d_k)
        self.W_k = nn.Linear(d_model, self.d_k)
        self.W_v = nn.Linear(d_model, self.d_k)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        q, k, v = self.W_q(query), self.W_k(key), self.W_v(value)
        head = F.scaled_dot_product_attention(q, k, v)
        return self.W_o(torch.cat([head] * self.h, dim=-1))


class MHAInvertedMaskInf(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))  # True taken as "blocked"
        x = torch.softmax(scores, -1) @ v
        return self.W_o(x.transpose(1, 2).reshape(B, T_q, D))


class MHAMergeWrongAndDModelScale(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        x = self.attend(q, k, v, mask, math.sqrt(D))
        return self.W_o(x.reshape(B, T_q, D))


class MHAAdditiveMask(_Base):
    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = self.heads(query, key, value)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores + mask
        x = torch.softmax(scores, -1) @ v
        return self.W_o(x.transpose(1, 2).reshape(B, T_q, D))


# -- attention with loops ----------------------------------------------------------------------


def loops_plain(q, k, v):
    T_q, T_k = q.shape[0], k.shape[0]
    out = torch.zeros(T_q, v.shape[1])
    attn = torch.zeros(T_q, T_k)
    for i in range(T_q):
        row = torch.tensor([float(torch.dot(q[i], k[j])) for j in range(T_k)])
        row = torch.softmax(row / math.sqrt(q.shape[1]), dim=0)
        attn[i] = row
        for j in range(T_k):
            out[i] += row[j] * v[j]
    return out, attn


def loops_no_scale(q, k, v):
    T_q, T_k = q.shape[0], k.shape[0]
    out = torch.zeros(T_q, v.shape[1])
    attn = torch.zeros(T_q, T_k)
    for i in range(T_q):
        e = [math.exp(float(q[i] @ k[j])) for j in range(T_k)]
        for j in range(T_k):
            attn[i, j] = e[j] / sum(e)
            out[i] += attn[i, j] * v[j]
    return out, attn


# -- written after the checks were built, to measure them on code they were not built on -------


def h_masked_fill_inplace_inf(q, k, v, mask=None):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(k.size(-1))
    if mask is not None:
        scores.masked_fill_(mask == False, float("-inf"))  # noqa: E712
    attn = F.softmax(scores, -1)
    return attn @ v, attn


def h_masked_fill_kwarg_bug(q, k, v, mask=None):
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
    if mask is not None:
        scores.masked_fill_(mask=0, value=float("-inf"))
    attn = F.softmax(scores, -1)
    return attn @ v, attn


def h_float_softmax(q, k, v, mask=None):
    scale = k.size(-1) ** -0.5
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    attn = F.softmax(scores.float(), dim=-1).type_as(scores)
    return torch.matmul(attn, v), attn


def h_permute_3d(q, k, v, mask=None):
    scores = torch.matmul(q, k.permute(0, 2, 1)) / math.sqrt(q.shape[-1])
    attn = torch.softmax(scores, dim=-1)
    return attn @ v, attn


def h_sum_without_keepdim(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    w = scores.exp() / scores.exp().sum(dim=-1)
    return w @ v, w


def h_isnan_cleanup(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), -float("inf"))
    w = torch.softmax(scores, dim=-1)
    w = torch.where(torch.isnan(w), torch.zeros_like(w), w)
    return w @ v, w


def h_multiply_by_mask(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores * mask
    w = torch.softmax(scores, dim=-1)
    return w @ v, w


def h_mask_eq_one_blocked(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask == 1, -1e9)
    w = torch.softmax(scores, dim=-1)
    return w @ v, w


def h_loops_numpy(q, k, v):
    Q, K, V = q.numpy(), k.numpy(), v.numpy()
    out = np.zeros((Q.shape[0], V.shape[1]))
    W = np.zeros((Q.shape[0], K.shape[0]))
    for i in range(Q.shape[0]):
        s = np.array([Q[i] @ K[j] for j in range(K.shape[0])]) / np.sqrt(Q.shape[1])
        e = np.exp(s - s.max())
        W[i] = e / e.sum()
        for j in range(K.shape[0]):
            out[i] += W[i, j] * V[j]
    return torch.tensor(out), torch.tensor(W)


def h_softmax_len_shape(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    w = F.softmax(scores, dim=len(scores.shape) - 1)
    return w @ v, w


def h_prescale_q(q, k, v, mask=None):
    q = q / math.sqrt(q.shape[-1])
    w = (q @ k.transpose(-2, -1)).softmax(-1)
    return w @ v, w


def split_heads(x, n_heads):
    B, S, D = x.shape
    return x.view(B, S, n_heads, D // n_heads).transpose(1, 2)


def combine_heads(x):
    B, H, S, Dh = x.shape
    return x.transpose(1, 2).contiguous().view(B, S, H * Dh)


class HMHA(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.d_model, self.num_heads = d_model, num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(0.1)

    def scores(self, query, key, value):
        q = split_heads(self.W_q(query), self.num_heads)
        k = split_heads(self.W_k(key), self.num_heads)
        v = split_heads(self.W_v(value), self.num_heads)
        return q @ k.transpose(-2, -1) / math.sqrt(self.d_model // self.num_heads), v

    def forward(self, query, key, value, mask=None):
        scores, v = self.scores(query, key, value)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        attn = self.dropout(torch.softmax(scores, dim=-1))
        return self.W_o(combine_heads(attn @ v))


class HMHASoftmaxDim2(HMHA):
    def forward(self, query, key, value, mask=None):
        scores, v = self.scores(query, key, value)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return self.W_o(combine_heads(torch.softmax(scores, dim=2) @ v))


class HMHAMaskUnsqueezed(HMHA):
    def forward(self, query, key, value, mask=None):
        scores, v = self.scores(query, key, value)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1) == 0, -1e9)
        return self.W_o(combine_heads(torch.softmax(scores, dim=-1) @ v))


class HMHANoBias(HMHA):
    def forward(self, query, key, value, mask=None):
        q = split_heads(query @ self.W_q.weight.T, self.num_heads)
        k = split_heads(key @ self.W_k.weight.T, self.num_heads)
        v = split_heads(value @ self.W_v.weight.T, self.num_heads)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_model // self.num_heads)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return self.W_o(combine_heads(torch.softmax(scores, dim=-1) @ v))


class HMHAHeadsFirstReshape(HMHA):  # reshape(B, H, -1, d_k): positions and heads mixed
    def forward(self, query, key, value, mask=None):
        B, T, D = query.shape
        d_k = D // self.num_heads
        q = self.W_q(query).reshape(B, self.num_heads, -1, d_k)
        k = self.W_k(key).reshape(B, self.num_heads, -1, d_k)
        v = self.W_v(value).reshape(B, self.num_heads, -1, d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        out = torch.softmax(scores, dim=-1) @ v
        return self.W_o(out.transpose(1, 2).reshape(B, T, D))


# -- regressions: independently written implementations whose verdicts claimed too much or too
# little (a diagnosis without its evidence, a compound mistake named by half)


def causal_strict(T):  # tril(diagonal=-1): itself excluded; T = 1 has no future to invert
    return torch.tril(torch.ones(T, T), diagonal=-1).bool()


def causal_minus_inf(T):  # an additive 0/-inf float mask (.bool() of it would be inverted)
    return torch.triu(torch.full((T, T), float("-inf")), diagonal=1)


def causal_numpy(T):  # a NumPy array: the message names its type and shape, not its values
    return np.tril(np.ones((T, T), dtype=bool))


class QKVStacked(solutions.QKVProjection):  # one stacked tensor instead of the tuple (q, k, v)
    def forward(self, x):
        return torch.stack(super().forward(x))


def sdpa_returns_logits(q, k, v, mask=None):  # right output, the scores returned as weights
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    return torch.softmax(logits, dim=-1) @ v, logits


def masked_view_mask(q, k, v, mask=None):  # mask.view(B, 1, -1): a (B, 1, 1, T_k) mask moves axes
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        mask = mask.view(q.shape[0], 1, -1)
        s = s.masked_fill(~mask, float("-inf"))
    w = torch.nan_to_num(torch.softmax(s, -1))
    return w @ v, w


def masked_no_scale_inf(q, k, v, mask=None):  # no scale and -inf: NaN on the fully masked query
    s = q @ k.transpose(-2, -1)
    if mask is not None:
        s[~mask.expand_as(s)] = float("-inf")
    w = torch.softmax(s, -1)
    return w @ v, w


class MHASoftmaxDim2(HMHA):  # softmax over the queries with -1e9: padded key columns get weight
    def forward(self, query, key, value, mask=None):
        scores, v = self.scores(query, key, value)
        if mask is not None:
            m = mask.unsqueeze(1) if mask.dim() == 3 else mask
            scores = scores.masked_fill(~m, -1e9)
        return self.W_o(combine_heads(torch.softmax(scores, dim=2) @ v))


class MHAPerHeadSmallLinears(HMHA):  # W_q, W_k, W_v map d_model to one head's d_k
    def __init__(self, d_model, num_heads):
        super().__init__(d_model, num_heads)
        d_k = d_model // num_heads
        self.W_q, self.W_k, self.W_v = (nn.Linear(d_model, d_k) for _ in range(3))


SDPA, MASKED, MHA = "scaled_dot_product_attention", "masked_attention", "multi_head_attention"

CORPUS: tuple[Entry, ...] = (
    Entry(SDPA, sdpa_einsum, "correct"),
    Entry(SDPA, sdpa_matmul_functional, "correct"),
    Entry(SDPA, sdpa_manual_softmax, "correct"),
    Entry(SDPA, sdpa_bmm_flattened, "correct"),
    Entry(SDPA, sdpa_torch_kernel_and_weights, "correct"),
    Entry(SDPA, sdpa_naive_exp, "correct"),
    Entry(SDPA, sdpa_einsum_keys_first, "wrong_transpose"),
    Entry(SDPA, sdpa_softmax_dim_1, "softmax_wrong_dim"),
    Entry(SDPA, sdpa_scale_by_seq_len, "wrong_scale"),
    Entry(SDPA, sdpa_einsum_no_scale, "missing_scale"),
    Entry(SDPA, sdpa_divide_by_dk, "scale_by_dk_not_sqrt"),
    Entry(SDPA, sdpa_numpy_T, "one_rank_only"),
    Entry(SDPA, sdpa_bmm_3d_only, "one_rank_only"),
    Entry(SDPA, sdpa_returns_output, "returns_output_only"),
    Entry(SDPA, sdpa_weights_first, "outputs_swapped"),
    Entry(SDPA, sdpa_scores_times_values, "weights_not_applied_to_values"),
    Entry(SDPA, sdpa_global_normaliser, "weights_do_not_sum_to_one"),
    Entry(SDPA, sdpa_dropout_functional, "dropout_in_eval"),
    Entry(SDPA, sdpa_columns_and_no_scale, "missing_scale"),  # and softmax_wrong_dim
    Entry(SDPA, sdpa_scales_query_in_place, "modifies_inputs"),
    Entry(MASKED, sdpa_matmul_functional, "mask_ignored"),
    Entry(MASKED, masked_nan_to_num, "correct"),
    Entry(MASKED, masked_where_and_zero, "correct"),
    Entry(MASKED, masked_annotated_style, "fully_masked_row_not_zero", textbook=True),
    Entry(MASKED, masked_minus_inf, "nan_on_fully_masked_row", textbook=True),
    Entry(MASKED, masked_where_minus_1e9, "fully_masked_row_not_zero", textbook=True),
    Entry(MASKED, masked_true_means_blocked_inf, "mask_inverted"),
    Entry(MASKED, masked_true_means_blocked, "mask_inverted"),
    Entry(MASKED, masked_fill_with_zero, "blocked_keys_get_weight"),
    Entry(MASKED, masked_fill_tiny, "blocked_keys_get_weight"),
    Entry(MASKED, masked_added, "mask_additive"),
    Entry(MASKED, masked_multiplied_after, "mask_after_softmax"),
    Entry(MASKED, masked_forgot_mask, "mask_ignored"),
    Entry(MASKED, masked_reshaped_mask, "mask_shape"),
    Entry(MASKED, masked_no_mask_argument, "call_signature"),
    Entry(MASKED, masked_inverted_no_scale, "missing_scale"),  # and mask_inverted
    Entry(MASKED, masked_unsqueezed_for_heads, "raises_error"),
    Entry(MASKED, masked_softmax_dim_2, "softmax_wrong_dim"),  # and raises_error
    Entry(MHA, MHAViewTranspose, "correct"),
    Entry(MHA, MHAEinsum, "correct"),
    Entry(MHA, MHAFusedQKV, "correct"),
    Entry(MHA, MHALoopOverHeads, "correct"),
    Entry(MHA, MHAMergeNoTranspose, "heads_merged_wrong"),
    Entry(MHA, MHASplitNoTranspose, "heads_split_wrong"),
    Entry(MHA, MHAInterleavedMerge, "heads_merged_wrong"),
    Entry(MHA, MHAScaleDModel, "scale_uses_d_model"),
    Entry(MHA, MHANoOutputProjection, "output_projection_missing"),
    Entry(MHA, MHAKeyWithQueryLength, "assumes_equal_lengths"),
    Entry(MHA, MHADropoutOn, "dropout_in_eval"),
    Entry(MHA, MHAOtherConstructor, "constructor_signature"),
    Entry(MHA, MHASelfAttentionOnly, "call_signature"),
    Entry(MHA, MHASharedHeadProjection, "shared_projection"),
    Entry(MHA, MHAInvertedMaskInf, "mask_inverted"),
    Entry(MHA, MHAMergeWrongAndDModelScale, "heads_merged_wrong"),  # and scale_uses_d_model
    Entry(MHA, MHAAdditiveMask, "mask_additive"),
    Entry("attention_with_loops", loops_plain, "correct"),
    Entry("attention_with_loops", loops_no_scale, "missing_scale"),
    Entry(MASKED, h_masked_fill_inplace_inf, "nan_on_fully_masked_row", textbook=True),
    Entry(MASKED, h_masked_fill_kwarg_bug, "raises_error"),
    Entry(SDPA, h_float_softmax, "correct"),
    Entry(SDPA, h_permute_3d, "one_rank_only"),
    Entry(SDPA, h_sum_without_keepdim, "weights_do_not_sum_to_one", or_else="raises_error"),
    Entry(MASKED, h_isnan_cleanup, "correct"),
    Entry(MASKED, h_multiply_by_mask, "blocked_keys_get_weight"),
    Entry(MASKED, h_mask_eq_one_blocked, "mask_inverted"),
    Entry("attention_with_loops", h_loops_numpy, "correct"),
    Entry(SDPA, h_softmax_len_shape, "correct"),
    Entry(SDPA, h_prescale_q, "correct"),
    Entry(MHA, HMHA, "correct"),
    Entry(MHA, HMHASoftmaxDim2, "softmax_wrong_dim"),
    Entry(MHA, HMHAMaskUnsqueezed, "mask_shape"),
    Entry(MHA, HMHANoBias, "bias_missing"),
    Entry(MHA, HMHAHeadsFirstReshape, "heads_split_wrong"),
    Entry("causal_mask", causal_strict, "causal_diagonal_wrong", not_named=("mask_inverted",)),
    Entry("causal_mask", causal_minus_inf, "mask_not_boolean"),
    Entry("causal_mask", causal_numpy, "wrong_return_type"),
    Entry("qkv_projection", QKVStacked, "wrong_return_type", not_named=("returns_output_only",)),
    Entry(
        SDPA,
        sdpa_returns_logits,
        "returns_scores_not_weights",
        not_named=("weights_not_applied_to_values",),
    ),
    Entry(MASKED, masked_view_mask, "mask_shape", not_named=("blocked_keys_get_weight",)),
    Entry(MASKED, masked_no_scale_inf, "missing_scale", named=("nan_on_fully_masked_row",)),
    Entry(MHA, MHASoftmaxDim2, "softmax_wrong_dim", not_named=("wrong_values",)),
    Entry(MHA, MHAPerHeadSmallLinears, "shared_projection"),
)
