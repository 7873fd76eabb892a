"""Exercise: the Q, K and V projections as three ``nn.Linear`` layers.

    Q = X W_q + b_q,   K = X W_k + b_k,   V = X W_v + b_v          (Vaswani et al. 2017, 3.2)

The learner's module is built with the case's sizes, the case's weights are loaded into it
(strictly: names ``W_q``, ``W_k``, ``W_v``), and its three outputs are compared with ``F.linear``
in float64.

Shape legend: B batch, T positions, D = d_model, d_k query/key width, d_v value width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from attention_lab.exercises import compare, sampling
from attention_lab.exercises.base import Case, Exercise, Result, generic, solution_source, verdict

NAMES = {"q": "W_q", "k": "W_k", "v": "W_v"}
STATE = "weights."


def projection_cases(g: torch.Generator) -> list[Case]:
    cases = []
    # a square case (D = d_k = d_v) lets a transposed or swapped weight run, so it can be named
    for d_model, d_k, d_v in ((8, 8, 8), (12, 4, 6), (6, 10, 10)):
        B, T = sampling.randint(g, 2, 3), sampling.randint(g, 3, 7)
        inputs = {"x": sampling.randn(g, B, T, d_model)}
        for layer, width in (("W_q", d_k), ("W_k", d_k), ("W_v", d_v)):
            inputs.update(sampling.linear_state(g, STATE + layer, d_model, width))
        call = {
            "kind": "class",
            "init": {"d_model": d_model, "d_k": d_k, "d_v": d_v},
            "load_state": STATE,
            "method": "forward",
            "args": ["x"],
            "outputs": ["q", "k", "v"],
        }
        cases.append(Case(call, inputs))
    return cases


def diagnose_projection(case: Case, found: dict[str, Tensor]) -> Result:
    x = case.tensor("x")

    def weight(layer: str) -> Tensor:
        return case.tensor(f"{STATE}{layer}.weight")

    def bias(layer: str) -> Tensor:
        return case.tensor(f"{STATE}{layer}.bias")

    expected = {name: F.linear(x, weight(layer), bias(layer)) for name, layer in NAMES.items()}
    if all(compare.close(found[name], expected[name]) for name in NAMES):
        return verdict(case, "correct")
    for name, layer in NAMES.items():
        got = found[name]
        if compare.close(got, expected[name]):
            continue
        for other, other_layer in NAMES.items():
            if other != name and compare.close(got, expected[other]):
                return verdict(
                    case,
                    "qkv_mixed_up",
                    f"{name} equals x {other_layer} + b, the {other} projection.",
                )
        if compare.close(got, x @ weight(layer).T):
            return verdict(
                case, "bias_missing", f"{name} equals x @ {layer}.weight.T without the bias."
            )
        if weight(layer).shape[0] == x.shape[-1] and compare.close(
            got, x @ weight(layer) + bias(layer)
        ):
            return verdict(
                case,
                "wrong_transpose",
                f"{name} equals x @ {layer}.weight + b; nn.Linear uses weight.T.",
            )
    return generic(case, {name: (found[name], expected[name]) for name in NAMES}, row="position")


QKV_PROJECTION = Exercise(
    id="qkv_projection",
    title="Queries, keys and values as linear projections",
    target="QKVProjection",
    kind="class",
    objectives=("3.4.2",),
    points=1,
    prompt=(
        "Define `class QKVProjection(nn.Module)` with `__init__(self, d_model, d_k, d_v)` "
        "creating three `nn.Linear` layers with bias named `W_q` (d_model -> d_k), `W_k` "
        "(d_model -> d_k) and `W_v` (d_model -> d_v), and `forward(self, x)` taking `x` "
        "`(B, T, d_model)` and returning the tuple `(q, k, v)`."
    ),
    hints=(
        "Each projection is its own layer with its own weights: "
        "`self.W_q = nn.Linear(d_model, d_k)`, and the same for W_k and W_v (d_v for W_v).",
        "In `forward`, call the layers: `return self.W_q(x), self.W_k(x), self.W_v(x)`. An "
        "nn.Linear computes x @ weight.T + bias for you.",
    ),
    solution=solution_source("QKVProjection"),
    diagnoses=(
        "not_attempted",
        "wrong_target_kind",
        "constructor_signature",
        "call_signature",
        "dropout_in_eval",
        "raises_error",
        "wrong_parameters",
        "wrong_return_type",
        "modifies_inputs",
        "qkv_mixed_up",
        "bias_missing",
        "wrong_transpose",
        "shape_mismatch",
        "non_finite_output",
        "wrong_values",
    ),
    make_cases=projection_cases,
    diagnose=diagnose_projection,
)
