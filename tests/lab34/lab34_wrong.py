"""Deliberately wrong answers, one per diagnosis, each written the way a learner gets it wrong."""

from __future__ import annotations

import math

import torch
from torch import nn

# -- the whole attention, with one mistake each ----------------------------------------------


def sdpa_missing_scale(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    return weights @ v, weights


def sdpa_scale_by_dk(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1], dim=-1)
    return weights @ v, weights


def sdpa_scale_by_sqrt_T(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2]), dim=-1)
    return weights @ v, weights


def sdpa_softmax_dim_minus_2(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-2)
    return weights @ v, weights


def sdpa_keys_as_rows(q, k, v, mask=None):
    weights = torch.softmax(k @ q.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v, weights


def sdpa_scores_times_v(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    return scores @ v, weights


def sdpa_returns_scores(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, scores


def sdpa_swapped(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights, weights @ v


def sdpa_output_only(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v


def sdpa_dot_T(q, k, v, mask=None):
    weights = torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1)  # .T flips every axis
    return weights @ v, weights


def sdpa_scales_q_in_place(q, k, v, mask=None):
    q /= math.sqrt(q.shape[-1])
    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    return weights @ v, weights


def _masked(q, k, v, mask, *, fill, blocked, zero_rows, after=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None and not after:
        scores = scores.masked_fill(blocked(mask), fill)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None and (after or zero_rows):
        weights = weights.masked_fill(blocked(mask), 0.0)
    return weights @ v, weights


def masked_after_softmax(q, k, v, mask=None):
    return _masked(q, k, v, mask, fill=0.0, blocked=lambda m: ~m, zero_rows=False, after=True)


def masked_inverted(q, k, v, mask=None):
    return _masked(q, k, v, mask, fill=-1e9, blocked=lambda m: m, zero_rows=True)


def masked_ignored(q, k, v, mask=None):
    return _masked(q, k, v, None, fill=0.0, blocked=lambda m: ~m, zero_rows=False)


def masked_with_minus_inf(q, k, v, mask=None):
    return _masked(q, k, v, mask, fill=float("-inf"), blocked=lambda m: ~m, zero_rows=False)


def masked_with_minus_1e9(q, k, v, mask=None):
    return _masked(q, k, v, mask, fill=-1e9, blocked=lambda m: ~m, zero_rows=False)


def masked_fill_in_place_on_mask(q, k, v, mask=None):
    if mask is not None:
        mask.logical_not_()  # now True = blocked, "to make masked_fill easier"
        return _masked(q, k, v, mask, fill=-1e9, blocked=lambda m: m, zero_rows=True)
    return _masked(q, k, v, None, fill=0.0, blocked=lambda m: m, zero_rows=False)


# -- the steps ---------------------------------------------------------------------------------


def scores_keys_first(q, k):
    return k @ q.transpose(-2, -1) / math.sqrt(q.shape[-1])


def scores_times_sqrt(q, k):
    return q @ k.transpose(-2, -1) * math.sqrt(q.shape[-1])


def scores_flattened(q, k):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).reshape(-1, k.shape[-2])


def softmax_over_queries(scores):
    return scores.exp() / scores.exp().sum(dim=-2, keepdim=True)


def softmax_naive(scores):
    return scores.exp() / scores.exp().sum(dim=-1, keepdim=True)


def weighted_sum_uniform(weights, v):
    return v.mean(dim=-2, keepdim=True).expand(*weights.shape[:-1], v.shape[-1])


def weighted_sum_transposed(weights, v):
    return v.transpose(-2, -1) @ weights.transpose(-2, -1)


def weighted_sum_log_space(weights, v):
    return torch.exp(weights @ torch.log(v))


def weighted_sum_relu(weights, v):
    return torch.relu(weights @ v)


# -- masks ---------------------------------------------------------------------------------------


def causal_upper(T):
    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)


def causal_strict(T):
    return torch.ones(T, T, dtype=torch.bool).tril(diagonal=-1)


def causal_float(T):
    return torch.ones(T, T).tril()


def padding_flat(tokens, pad_id):
    return tokens != pad_id


def padding_pad_is_true(tokens, pad_id):
    return (tokens == pad_id)[:, None, None, :]


def padding_hard_coded_zero(tokens, pad_id):
    return (tokens != 0)[:, None, None, :]


# -- projections ---------------------------------------------------------------------------------


class _Projection(nn.Module):
    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        self.W_q = nn.Linear(d_model, d_k)
        self.W_k = nn.Linear(d_model, d_k)
        self.W_v = nn.Linear(d_model, d_v)


class ProjectionSwapped(_Projection):
    def forward(self, x):
        return self.W_q(x), self.W_v(x), self.W_k(x)


class ProjectionNoBias(_Projection):
    def forward(self, x):
        return x @ self.W_q.weight.T, x @ self.W_k.weight.T, x @ self.W_v.weight.T


class ProjectionWeightNotTransposed(_Projection):
    def forward(self, x):
        return (
            x @ self.W_q.weight + self.W_q.bias,
            x @ self.W_k.weight + self.W_k.bias,
            x @ self.W_v.weight + self.W_v.bias,
        )


class ProjectionFused(nn.Module):
    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        self.W_qkv = nn.Linear(d_model, 2 * d_k + d_v)
        self.sizes = (d_k, d_k, d_v)

    def forward(self, x):
        return self.W_qkv(x).split(self.sizes, dim=-1)


class ProjectionUnfinished(nn.Module):
    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        raise NotImplementedError("your code here")


def projection_as_function(x):  # a function where the exercise asks for an nn.Module class
    return x, x, x


class ProjectionNotAModule:  # a class, but not an nn.Module: no weights can be loaded
    def __init__(self, d_model, d_k, d_v):
        self.sizes = (d_model, d_k, d_v)

    def __call__(self, x):
        return x, x, x


# -- multi-head attention ----------------------------------------------------------------------


class _MultiHead(nn.Module):
    split_transposes = True
    merge_transposes = True
    scale_dim = "d_k"
    use_output_projection = True

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.H, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def split(self, x):
        B, T, _ = x.shape
        if self.split_transposes:
            return x.view(B, T, self.H, self.d_k).transpose(1, 2)
        return x.view(B, self.H, T, self.d_k)

    def forward(self, query, key, value, mask=None):
        B, T_q, D = query.shape
        q, k, v = (
            self.split(self.W_q(query)),
            self.split(self.W_k(key)),
            self.split(self.W_v(value)),
        )
        scale = math.sqrt(self.d_k if self.scale_dim == "d_k" else D)
        scores = q @ k.transpose(-2, -1) / scale
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        out = torch.softmax(scores, dim=-1) @ v
        if self.merge_transposes:
            concat = out.transpose(1, 2).reshape(B, T_q, D)
        else:
            concat = out.reshape(B, T_q, D)
        return self.W_o(concat) if self.use_output_projection else concat


class MultiHeadSplitWithoutTranspose(_MultiHead):
    split_transposes = False


class MultiHeadMergeWithoutTranspose(_MultiHead):
    merge_transposes = False


class MultiHeadScaleByDModel(_MultiHead):
    scale_dim = "d_model"


class MultiHeadNoOutputProjection(_MultiHead):
    use_output_projection = False


# -- one more wrong answer for each diagnosis found by probing, by pattern or by the interface ----


def sdpa_returns_dict(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return {"output": weights @ v, "weights": weights}


def sdpa_values_transposed(q, k, v, mask=None):  # (T_q, T_k) @ (d_v, T_k): never fits
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v.transpose(-2, -1), weights


def sdpa_normalised_over_everything(q, k, v, mask=None):
    exp = torch.exp(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))
    weights = exp / exp.sum()  # one total for the whole tensor, not one per query
    return weights @ v, weights


def sdpa_no_mask_parameter(q, k, v):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v, weights


def sdpa_dropout_always_on(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    weights = torch.nn.functional.dropout(weights, p=0.1)  # training=True by default
    return weights @ v, weights


def scores_keep_dim(q, k):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).unsqueeze(-1)


def masked_fill_zero(q, k, v, mask=None):
    return _masked(q, k, v, mask, fill=0.0, blocked=lambda m: ~m, zero_rows=False)


def masked_additive(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask  # as if the mask were 0 / -inf floats
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def masked_view_as_scores(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        mask = mask.view(scores.shape)  # only works when the mask already has every axis
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights


class MultiHeadOtherNames(_MultiHead):
    def __init__(self, embed_dim, n_heads):
        super().__init__(embed_dim, n_heads)


class MultiHeadSelfOnly(_MultiHead):
    def forward(self, x, mask=None):
        return super().forward(x, x, x, mask)


class MultiHeadKeyReshapedWithQueryLength(_MultiHead):
    def forward(self, query, key, value, mask=None):
        B, T, D = query.shape
        q = self.W_q(query).view(B, T, self.H, self.d_k).transpose(1, 2)
        k = self.W_k(key).view(B, T, self.H, self.d_k).transpose(1, 2)  # T is the query's length
        v = self.W_v(value).view(B, T, self.H, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        out = torch.softmax(scores, dim=-1) @ v
        return self.W_o(out.transpose(1, 2).reshape(B, T, D))


class MultiHeadDropoutInForward(_MultiHead):
    def forward(self, query, key, value, mask=None):
        return torch.nn.functional.dropout(super().forward(query, key, value, mask), p=0.1)


class MultiHeadSharedProjection(nn.Module):
    """One d_model -> d_k projection per role, applied in every head."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.H, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, self.d_k)
        self.W_k = nn.Linear(d_model, self.d_k)
        self.W_v = nn.Linear(d_model, self.d_k)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        heads = []
        for _ in range(self.H):
            q, k, v = self.W_q(query), self.W_k(key), self.W_v(value)
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.d_k), dim=-1)
            heads.append(weights @ v)
        return self.W_o(torch.cat(heads, dim=-1))
