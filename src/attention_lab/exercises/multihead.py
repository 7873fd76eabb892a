"""Exercise: multi-head attention, splitting D into H heads and merging them back.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W_o,  head_i = Attention(Q W_q_i, K W_k_i, V W_v_i)
                                                            (Vaswani et al. 2017, section 3.2.2)

The reference is the library's ``MultiHeadAttention`` in float64 with the case's weights. The
misconceptions are :func:`variant` with one step done the common wrong way.

Shape legend: B batch, T_q/T_k query/key lengths, D = d_model, H = num_heads, d_k = D // H.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor

from attention_lab.exercises import compare, sampling
from attention_lab.exercises.attention import reference as attention
from attention_lab.exercises.base import Case, Exercise, Result, generic, solution_source, verdict
from attention_lab.exercises.probes import softmax_over
from attention_lab.nn.multihead import MultiHeadAttention

STATE = "weights."
LAYERS = ("W_q", "W_k", "W_v", "W_o")
NAMES = ("query", "key", "value")


def variant(
    case: Case,
    *,
    split: str = "transpose",  # "transpose" (right) | "view": reshape to (B, H, T, d_k) directly
    merge: str = "transpose",  # "transpose" (right) | "view": reshape (B, H, T, d_k) to (B, T, D)
    # | "interleaved": features ordered d_k-major, (B, T, d_k, H) -> (B, T, D)
    scale: str = "d_k",  # "d_k" (right) | "d_model" | "none" | "d_k_not_sqrt"
    softmax_dim: int = -1,
    mask: str = "given",  # "given" | "inverted" | "ignored" | "additive"
    projections: tuple[str, str, str] = ("W_q", "W_k", "W_v"),
    output_projection: bool = True,
    bias: bool = True,  # False: W_q, W_k, W_v applied without their bias
    textbook: bool = False,  # a wrong softmax axis: blocked scores very negative, not zeroed after
) -> Tensor:
    """Multi-head attention in float64 with the case's weights, one step changed as asked."""
    H = case.call["init"]["num_heads"]
    query, key, value = (case.tensor(n) for n in case.call["args"][:3])
    B, T_q, D = query.shape
    d_k = D // H

    def linear(x: Tensor, layer: str) -> Tensor:
        b = case.tensor(f"{STATE}{layer}.bias") if bias or layer == "W_o" else None
        return F.linear(x, case.tensor(f"{STATE}{layer}.weight"), b)

    def heads(x: Tensor) -> Tensor:
        B, T, _ = x.shape
        if split == "view":
            return x.reshape(B, H, T, d_k)  # the mistake: rows of D cut across positions
        return x.reshape(B, T, H, d_k).transpose(1, 2)  # (B, T, D) -> (B, H, T, d_k)

    q, k, v = (heads(linear(x, layer)) for x, layer in zip((query, key, value), projections))
    m = case.inputs.get("mask")
    if m is not None and mask in ("inverted", "ignored"):
        m = None if mask == "ignored" else ~m
    factor = {"d_k": d_k**-0.5, "d_model": D**-0.5, "none": 1.0, "d_k_not_sqrt": 1.0 / d_k}[scale]
    if m is not None and mask == "additive":  # softmax(scores + mask), the bool mask as 0/1
        scores = q @ k.transpose(-2, -1) * factor + m.to(q.dtype)  # (B, H, T_q, T_k)
        out = torch.softmax(scores, dim=softmax_dim) @ v
    elif softmax_dim == -1:
        out, _ = attention(q, k, v, m, scale=factor)  # (B, H, T_q, d_k)
    else:
        allowed = None if m is None else torch.broadcast_to(m, (B, H, T_q, k.shape[-2]))
        scores = q @ k.transpose(-2, -1) * factor  # (B, H, T_q, T_k)
        if textbook and allowed is not None:  # a column blocked for every query is uniform
            weights = torch.softmax(
                scores.masked_fill(~allowed, torch.finfo(q.dtype).min), softmax_dim
            )
            out = weights @ v
        else:
            out = softmax_over(scores, softmax_dim, allowed) @ v
    if merge == "view":
        concat = out.reshape(B, T_q, D)  # the mistake: heads interleaved with positions
    elif merge == "interleaved":  # the mistake: (B, H, T_q, d_k) -> (B, T_q, d_k, H)
        concat = out.permute(0, 2, 3, 1).reshape(B, T_q, D)
    else:
        concat = out.transpose(1, 2).reshape(B, T_q, D)  # (B, H, T_q, d_k) -> (B, T_q, D)
    return linear(concat, "W_o") if output_projection else concat


def reference(case: Case) -> Tensor:
    init = case.call["init"]
    module = MultiHeadAttention(init["d_model"], init["num_heads"]).double()
    module.load_state_dict(
        {key[len(STATE) :]: t.double() for key, t in case.inputs.items() if key.startswith(STATE)}
    )
    with torch.no_grad():
        return module(*(case.tensor(n) for n in case.call["args"][:3]), case.inputs.get("mask"))


MISCONCEPTIONS: tuple[tuple[str, dict, str], ...] = (
    (
        "heads_split_wrong",
        {"split": "view"},
        "the heads were split with a reshape to (B, H, T, d_k) and no transpose.",
    ),
    (
        "heads_split_wrong",
        {"split": "view", "merge": "view"},
        "the heads were split (and merged) with a reshape and no transpose.",
    ),
    (
        "heads_merged_wrong",
        {"merge": "view"},
        "the heads were merged with a reshape of (B, H, T_q, d_k) and no transpose.",
    ),
    (
        "heads_merged_wrong",
        {"merge": "interleaved"},
        "the heads were merged in the wrong order: permuted to (B, T_q, d_k, H) before the "
        "reshape, which interleaves their features (feature j of head h lands at j * H + h).",
    ),
    (
        "scale_uses_d_model",
        {"scale": "d_model"},
        "the scores were divided by sqrt(d_model), not sqrt(d_k) = sqrt(d_model / num_heads).",
    ),
    ("missing_scale", {"scale": "none"}, "the scores were not divided by sqrt(d_k)."),
    (
        "scale_by_dk_not_sqrt",
        {"scale": "d_k_not_sqrt"},
        "the scores were divided by d_k, not sqrt(d_k).",
    ),
    (
        "output_projection_missing",
        {"output_projection": False},
        "the concatenated heads were returned without W_o.",
    ),
    (
        "softmax_wrong_dim",
        {"softmax_dim": -2},
        "the softmax ran over the queries (dim=-2), not the keys.",
    ),
    (
        "bias_missing",
        {"bias": False},
        "the queries, keys and values were projected without the bias (x @ W.T instead of "
        "the layer itself).",
    ),
    ("qkv_mixed_up", {"projections": ("W_q", "W_q", "W_v")}, "the keys were made with W_q."),
    ("qkv_mixed_up", {"projections": ("W_q", "W_k", "W_k")}, "the values were made with W_k."),
    (
        "qkv_mixed_up",
        {"projections": ("W_q", "W_v", "W_k")},
        "the keys and values were made with each other's layers.",
    ),
    (
        "qkv_mixed_up",
        {"projections": ("W_k", "W_q", "W_v")},
        "the queries and keys were made with each other's layers.",
    ),
)
MASK_MISCONCEPTIONS = (
    (
        "mask_inverted",
        {"mask": "inverted"},
        "the heads attend where the mask is False: the code reads True as 'blocked', but the "
        "exercise passes True = 'may attend'.",
    ),
    ("mask_ignored", {"mask": "ignored"}, "the output equals attention without the mask."),
    (
        "mask_additive",
        {"mask": "additive"},
        "the boolean mask was added to the scores (softmax(scores + mask)) instead of blocking "
        "the keys where it is False.",
    ),
)


def attending_rows(case: Case, inverted: bool = False) -> Tensor | None:
    """(B, T_q, 1) bool: the queries that have a key to attend to in every head (None: no mask)."""
    mask = case.inputs.get("mask")
    if mask is None:
        return None
    query, key = (case.inputs[n] for n in case.call["args"][:2])
    shape = (query.shape[0], 1, query.shape[1], key.shape[1])  # (B, 1, T_q, T_k)
    allowed = torch.broadcast_to(~mask if inverted else mask, shape)
    return allowed.any(dim=-1).all(dim=1).unsqueeze(-1)  # (B, T_q, 1)


def matches(case: Case, got: Tensor, change: dict) -> bool:
    """Whether ``got`` is the variant's output (rows that attend to nothing left out)."""
    where = attending_rows(case)
    if change.get("mask") == "inverted":
        where = attending_rows(case, inverted=True)
    if compare.close(got, variant(case, **change), where):
        return True
    return (
        change.get("softmax_dim", -1) != -1
        and "mask" in case.inputs
        and compare.close(got, variant(case, **change, textbook=True), where)
    )


def diagnose_multihead(case: Case, found: dict[str, Tensor]) -> Result:
    expected = reference(case)
    got = found["output"]
    if compare.close(got, expected):
        return verdict(case, "correct")
    misconceptions = MISCONCEPTIONS + (MASK_MISCONCEPTIONS if "mask" in case.inputs else ())
    if got.shape != expected.shape:
        return generic(case, {"output": (got, expected)})
    for diagnosis, change, detail in misconceptions:
        if matches(case, got, change):
            if diagnosis == "mask_inverted" and compare.non_finite(got):
                detail += " Queries whose keys the inverted mask all blocks get NaN (-inf scores)."
            return verdict(case, diagnosis, detail)
    for (first, one, text), (second, other, more) in itertools.combinations(misconceptions, 2):
        if one.keys() & other.keys() or first == second:
            continue  # the same step changed twice
        if matches(case, got, {**one, **other}):
            message = verdict(case, first, f"two mistakes together: {text[:-1]}; {more}").message
            return Result(False, first, message, (second,))
    if compare.non_finite(got) and not compare.non_finite(expected):
        return generic(case, {"output": (got, expected)})
    first = compare.first_difference("output", got, expected, "query")
    return verdict(
        case,
        "wrong_values",
        f"output has the expected shape {compare.shape(expected)} but other values, and no "
        "common mistake (nor two of them together) explains them; "
        f"{first}. Check the split and merge of the heads on a tiny input: "
        "head h must use features h*d_k ... (h+1)*d_k - 1 of every position.",
    )


def multihead_cases(g: torch.Generator) -> list[Case]:
    cases = []
    for self_attention, masked in ((True, False), (False, False), (True, True), (False, True)):
        H = sampling.choice(g, [2, 4])
        d_k = sampling.choice(g, [2, 3, 4])
        D, B = H * d_k, sampling.randint(g, 2, 3)
        T_q = sampling.randint(g, 3, 6)
        T_k = T_q if self_attention else sampling.randint(g, 2, 7, avoid=[T_q])
        if self_attention:  # one tensor passed as query, key and value
            inputs = {"x": sampling.randn(g, B, T_q, D)}
            names = ["x", "x", "x"]
        else:
            inputs = {name: sampling.randn(g, B, T, D) for name, T in zip(NAMES, (T_q, T_k, T_k))}
            names = list(NAMES)
        if masked and self_attention:
            inputs["mask"] = torch.ones(T_q, T_q, dtype=torch.bool).tril()  # (T, T) causal
        elif masked:
            keys = torch.arange(T_k)
            inputs["mask"] = torch.stack([keys < n for n in sampling.lengths(g, B, T_k)])[
                :, None, None, :
            ]
        for layer in LAYERS:
            inputs.update(sampling.linear_state(g, STATE + layer, D, D))
        call = {
            "kind": "class",
            "init": {"d_model": D, "num_heads": H},
            "load_state": STATE,
            "method": "forward",
            "args": names + (["mask"] if masked else []),
            "outputs": ["output"],
        }
        cases.append(Case(call, inputs))
    return cases


MULTI_HEAD_ATTENTION = Exercise(
    id="multi_head_attention",
    title="Multi-head attention: splitting and merging heads",
    target="MultiHeadAttention",
    kind="class",
    objectives=("3.4.2", "3.4.4"),
    points=3,
    prompt=(
        "Define `class MultiHeadAttention(nn.Module)` with `__init__(self, d_model, num_heads)` "
        "creating four `nn.Linear(d_model, d_model)` layers with bias, `W_q`, `W_k`, `W_v`, "
        "`W_o`, and `forward(self, query, key, value, mask=None)` for `query` `(B, T_q, D)`, "
        "`key`/`value` `(B, T_k, D)`: project, split D into `num_heads` heads of "
        "d_k = D / num_heads, run your `scaled_dot_product_attention` in every head at once "
        "(passing `mask` on), merge the heads and apply `W_o`. Return the output `(B, T_q, D)`."
    ),
    hints=(
        "Split with `x.view(B, T, H, d_k).transpose(1, 2)` -> (B, H, T, d_k): the head axis must "
        "come from the feature axis D, not from the positions. Your attention function then "
        "treats (B, H) as batch dimensions.",
        "Merge with `out.transpose(1, 2).reshape(B, T_q, D)` (transpose first, then reshape), "
        "then `self.W_o(...)`. The scale is sqrt(d_k) of one head, which your attention "
        "function takes from q.shape[-1] by itself.",
    ),
    solution=solution_source("MultiHeadAttention"),
    diagnoses=(
        "not_attempted",
        "wrong_target_kind",
        "constructor_signature",
        "call_signature",
        "dropout_in_eval",
        "raises_error",
        "wrong_parameters",
        "shared_projection",
        "wrong_return_type",
        "modifies_inputs",
        "heads_split_wrong",
        "heads_merged_wrong",
        "scale_uses_d_model",
        "missing_scale",
        "scale_by_dk_not_sqrt",
        "output_projection_missing",
        "softmax_wrong_dim",
        "qkv_mixed_up",
        "bias_missing",
        "mask_inverted",
        "mask_ignored",
        "mask_additive",
        "mask_shape",
        "assumes_equal_lengths",
        "shape_mismatch",
        "non_finite_output",
        "wrong_values",
    ),
    make_cases=multihead_cases,
    diagnose=diagnose_multihead,
)
