"""Correct answers written differently (einsum, explicit loops, torch's own SDPA inside) all pass."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from attention_lab.exercises import EXERCISES, evaluate, solutions

# -- scores, softmax, weighted sum ---------------------------------------------------------


def scores_einsum(q, k):
    return torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])


def scores_loops(q, k):
    out = torch.zeros(*q.shape[:-1], k.shape[-2])
    for i in range(q.shape[-2]):
        for j in range(k.shape[-2]):
            out[..., i, j] = (q[..., i, :] * k[..., j, :]).sum(-1)
    return out * q.shape[-1] ** -0.5


def softmax_logsumexp(scores):
    return (scores - scores.logsumexp(dim=-1, keepdim=True)).exp()


def softmax_functional(scores):
    return F.softmax(scores, dim=-1)


def weighted_sum_einsum(weights, v):
    return torch.einsum("...qk,...kd->...qd", weights, v)


def weighted_sum_broadcast(weights, v):
    return (weights.unsqueeze(-1) * v.unsqueeze(-3)).sum(
        dim=-2
    )  # (..., T_q, T_k, d_v) summed over T_k


# -- the whole attention -------------------------------------------------------------------


def sdpa_einsum(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e30)
    weights = scores.softmax(-1)
    if mask is not None:
        weights = weights * mask
    return torch.einsum("...qk,...kd->...qd", weights, v), weights


def sdpa_torch_inside(q, k, v, mask=None):
    """torch's fused kernel for the output; the weights computed alongside."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v), scores.softmax(-1)
    weights = scores.masked_fill(~mask, float("-inf")).softmax(-1).nan_to_num(0.0)
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).nan_to_num(0.0)
    output = output.masked_fill(~mask.any(-1, keepdim=True), 0.0)  # a fully masked query: zeros
    return output, weights


def sdpa_loops(q, k, v, mask=None):
    """Flattens the batch dimensions and loops over sequences, queries and keys."""
    batch = q.shape[:-2]
    T_q, T_k = q.shape[-2], k.shape[-2]
    full = torch.ones(T_q, T_k, dtype=torch.bool) if mask is None else mask
    full = torch.broadcast_to(full, (*batch, T_q, T_k)).reshape(-1, T_q, T_k)
    qs, ks, vs = (
        q.reshape(-1, T_q, q.shape[-1]),
        k.reshape(-1, T_k, k.shape[-1]),
        v.reshape(-1, T_k, v.shape[-1]),
    )
    out = torch.zeros(qs.shape[0], T_q, v.shape[-1])
    weights = torch.zeros(qs.shape[0], T_q, T_k)
    for b in range(qs.shape[0]):
        for i in range(T_q):
            allowed = [j for j in range(T_k) if full[b, i, j]]
            if not allowed:
                continue
            scores = torch.stack([qs[b, i] @ ks[b, j] for j in allowed]) / math.sqrt(q.shape[-1])
            for j, w in zip(allowed, scores.softmax(0)):
                weights[b, i, j] = w
                out[b, i] += w * vs[b, j]
    return out.reshape(*batch, T_q, -1), weights.reshape(*batch, T_q, T_k)


# -- masks ---------------------------------------------------------------------------------


def causal_arange(T):
    return torch.arange(T)[:, None] >= torch.arange(T)[None, :]


def causal_loops(T):
    mask = torch.zeros(T, T, dtype=torch.bool)
    for i in range(T):
        for j in range(i + 1):
            mask[i, j] = True
    return mask


def padding_view(tokens, pad_id):
    B, T = tokens.shape
    return tokens.ne(pad_id).view(B, 1, 1, T)


# -- projections and multi-head attention -----------------------------------------------------


class ProjectionEinsum(nn.Module):
    def __init__(self, d_model, d_k, d_v):
        super().__init__()
        self.W_q, self.W_k, self.W_v = (
            nn.Linear(d_model, d_k),
            nn.Linear(d_model, d_k),
            nn.Linear(d_model, d_v),
        )

    def forward(self, x):
        return tuple(
            torch.einsum("btd,kd->btk", x, layer.weight) + layer.bias
            for layer in (self.W_q, self.W_k, self.W_v)
        )


class MultiHeadTorchInside(nn.Module):
    """Splits with einops-style reshapes and calls torch's own SDPA in every head."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h = num_heads
        self.W_q, self.W_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.W_v, self.W_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        D = query.shape[-1]

        def split(x):
            return x.unflatten(-1, (self.h, D // self.h)).permute(0, 2, 1, 3)

        q, k, v = split(self.W_q(query)), split(self.W_k(key)), split(self.W_v(value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.W_o(out.permute(0, 2, 1, 3).flatten(-2))


class MultiHeadLoopOverHeads(nn.Module):
    """One head at a time, on column slices of the projections, then concatenated."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.d_k = num_heads, d_model // num_heads
        self.W_q, self.W_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.W_v, self.W_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        q, k, v = self.W_q(query), self.W_k(key), self.W_v(value)
        heads = []
        for i in range(self.h):
            cols = slice(i * self.d_k, (i + 1) * self.d_k)
            m = None if mask is None else mask[..., 0, :, :] if mask.dim() == 4 else mask
            heads.append(sdpa_einsum(q[..., cols], k[..., cols], v[..., cols], m)[0])
        return self.W_o(torch.cat(heads, dim=-1))


CORRECT = [
    ("qkv_projection", solutions.QKVProjection),
    ("qkv_projection", ProjectionEinsum),
    ("attention_scores", solutions.attention_scores),
    ("attention_scores", scores_einsum),
    ("attention_scores", scores_loops),
    ("softmax", solutions.attention_weights),
    ("softmax", softmax_logsumexp),
    ("softmax", softmax_functional),
    ("weighted_sum", solutions.weighted_sum),
    ("weighted_sum", weighted_sum_einsum),
    ("weighted_sum", weighted_sum_broadcast),
    ("scaled_dot_product_attention", solutions.scaled_dot_product_attention_unmasked),
    ("scaled_dot_product_attention", sdpa_einsum),
    ("scaled_dot_product_attention", sdpa_torch_inside),
    ("scaled_dot_product_attention", sdpa_loops),
    ("causal_mask", solutions.causal_mask),
    ("causal_mask", causal_arange),
    ("causal_mask", causal_loops),
    ("padding_mask", solutions.padding_mask),
    ("padding_mask", padding_view),
    ("masked_attention", solutions.scaled_dot_product_attention),
    ("masked_attention", sdpa_einsum),
    ("masked_attention", sdpa_torch_inside),
    ("masked_attention", sdpa_loops),
    ("multi_head_attention", solutions.MultiHeadAttention),
    ("multi_head_attention", MultiHeadTorchInside),
    ("multi_head_attention", MultiHeadLoopOverHeads),
    ("attention_with_loops", solutions.attention_with_loops),
    ("attention_with_loops", sdpa_loops),
    ("attention_with_loops", solutions.scaled_dot_product_attention),
]


@pytest.mark.parametrize(
    ("exercise_id", "candidate"), CORRECT, ids=lambda x: getattr(x, "__name__", x)
)
def test_correct_answer_passes(exercise_id, candidate):
    for seed in (0, 1, 2):
        result = evaluate(exercise_id, candidate, seed=seed)
        assert result.passed, (seed, result)
        assert result.diagnosis == "correct"


def test_every_exercise_has_correct_answers_written_three_ways():
    counts = {exercise_id: 0 for exercise_id in EXERCISES}
    for exercise_id, _ in CORRECT:
        counts[exercise_id] += 1
    assert all(n >= 2 for n in counts.values()), counts


def test_interface_fields():
    ids = list(EXERCISES)
    assert ids[0] == "qkv_projection" and ids[5] == "attention_with_loops"
    assert ids[-1] == "multi_head_attention"
    for exercise in EXERCISES.values():
        assert exercise.kind in ("function", "class")
        assert isinstance(exercise.points, int) and exercise.points > 0
        assert exercise.objectives and all(o.startswith("3.4.") for o in exercise.objectives)
        assert exercise.hints and exercise.prompt and exercise.title
        assert (
            f"{'class' if exercise.kind == 'class' else 'def'} {exercise.target}"
            in exercise.solution
        )


def test_cases_vary_shapes_and_lengths():
    """Several batch shapes, and T_q != T_k, in the attention exercises."""
    for exercise_id in ("scaled_dot_product_attention", "masked_attention", "attention_scores"):
        cases = EXERCISES[exercise_id].cases(5)
        dims = {case.inputs["q"].dim() for case in cases}
        assert dims == {2, 3, 4}, (exercise_id, dims)
        assert any(case.inputs["q"].shape[-2] != case.inputs["k"].shape[-2] for case in cases)


def test_bad_exercise_id_and_seed():
    with pytest.raises(
        ValueError, match=r"exercise_id: expected one of qkv_projection, .* got 'nope'"
    ):
        evaluate("nope", solutions.attention_scores)
    with pytest.raises(TypeError, match=r"seed: expected an int, got str '1'"):
        EXERCISES["softmax"].cases("1")
    with pytest.raises(ValueError, match="outputs: expected the output tensors"):
        exercise = EXERCISES["softmax"]
        exercise.judge(exercise.cases(0)[0], None, None)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_model_solutions_pass_for_any_seed(seed):
    for exercise in EXERCISES.values():
        result = evaluate(exercise.id, _model_solution(exercise), seed=seed)
        assert result.passed, (exercise.id, seed, result)


def _model_solution(exercise):
    name = (
        "scaled_dot_product_attention_unmasked"
        if exercise.id == "scaled_dot_product_attention"
        else exercise.target
    )
    return getattr(solutions, name)
