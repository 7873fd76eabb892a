"""Every diagnosis is detected on a wrong answer written for it (one test each)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import lab34_wrong as wrong
import pytest
import torch

from attention_lab import handcalc, misconceptions
from attention_lab.exercises import DIAGNOSES, EXERCISES, evaluate

# diagnosis -> (exercise id, the wrong answer written for it)
WRONG = {
    "raises_error": ("scaled_dot_product_attention", wrong.sdpa_values_transposed),
    "wrong_return_type": ("scaled_dot_product_attention", wrong.sdpa_returns_dict),
    "returns_output_only": ("scaled_dot_product_attention", wrong.sdpa_output_only),
    "one_rank_only": ("scaled_dot_product_attention", wrong.sdpa_dot_T),
    "weights_do_not_sum_to_one": (
        "scaled_dot_product_attention",
        wrong.sdpa_normalised_over_everything,
    ),
    "call_signature": ("masked_attention", wrong.sdpa_no_mask_parameter),
    "dropout_in_eval": ("multi_head_attention", wrong.MultiHeadDropoutInForward),
    "constructor_signature": ("multi_head_attention", wrong.MultiHeadOtherNames),
    "shared_projection": ("multi_head_attention", wrong.MultiHeadSharedProjection),
    "assumes_equal_lengths": ("multi_head_attention", wrong.MultiHeadKeyReshapedWithQueryLength),
    "blocked_keys_get_weight": ("masked_attention", wrong.masked_fill_zero),
    "mask_additive": ("masked_attention", wrong.masked_additive),
    "mask_shape": ("masked_attention", wrong.masked_view_as_scores),
    "wrong_parameters": ("qkv_projection", wrong.ProjectionFused),
    "shape_mismatch": ("attention_scores", wrong.scores_keep_dim),
    "modifies_inputs": ("scaled_dot_product_attention", wrong.sdpa_scales_q_in_place),
    "softmax_wrong_dim": ("scaled_dot_product_attention", wrong.sdpa_softmax_dim_minus_2),
    "missing_scale": ("scaled_dot_product_attention", wrong.sdpa_missing_scale),
    "scale_by_dk_not_sqrt": ("scaled_dot_product_attention", wrong.sdpa_scale_by_dk),
    "wrong_scale": ("scaled_dot_product_attention", wrong.sdpa_scale_by_sqrt_T),
    "scale_uses_d_model": ("multi_head_attention", wrong.MultiHeadScaleByDModel),
    "wrong_transpose": ("attention_scores", wrong.scores_keys_first),
    "bias_missing": ("qkv_projection", wrong.ProjectionNoBias),
    "qkv_mixed_up": ("qkv_projection", wrong.ProjectionSwapped),
    "weights_not_applied_to_values": ("scaled_dot_product_attention", wrong.sdpa_scores_times_v),
    "returns_scores_not_weights": ("scaled_dot_product_attention", wrong.sdpa_returns_scores),
    "outputs_swapped": ("scaled_dot_product_attention", wrong.sdpa_swapped),
    "mask_after_softmax": ("masked_attention", wrong.masked_after_softmax),
    "mask_inverted": ("masked_attention", wrong.masked_inverted),
    "mask_ignored": ("masked_attention", wrong.masked_ignored),
    "nan_on_fully_masked_row": ("masked_attention", wrong.masked_with_minus_inf),
    "fully_masked_row_not_zero": ("masked_attention", wrong.masked_with_minus_1e9),
    "causal_diagonal_wrong": ("causal_mask", wrong.causal_strict),
    "mask_not_boolean": ("causal_mask", wrong.causal_float),
    "numerically_unstable": ("softmax", wrong.softmax_naive),
    "heads_split_wrong": ("multi_head_attention", wrong.MultiHeadSplitWithoutTranspose),
    "heads_merged_wrong": ("multi_head_attention", wrong.MultiHeadMergeWithoutTranspose),
    "output_projection_missing": ("multi_head_attention", wrong.MultiHeadNoOutputProjection),
    "non_finite_output": ("weighted_sum", wrong.weighted_sum_log_space),
    "wrong_values": ("weighted_sum", wrong.weighted_sum_relu),
    "not_attempted": ("qkv_projection", wrong.ProjectionUnfinished),
    "wrong_target_kind": ("qkv_projection", wrong.projection_as_function),
}

# more wrong answers: the same misconception in other exercises or written another way
MORE = [
    ("attention_scores", wrong.scores_flattened, "one_rank_only"),
    ("scaled_dot_product_attention", wrong.sdpa_dropout_always_on, "dropout_in_eval"),
    ("multi_head_attention", wrong.MultiHeadSelfOnly, "call_signature"),
    ("masked_attention", wrong.masked_inverted, "mask_inverted"),
    ("attention_scores", wrong.scores_times_sqrt, "wrong_scale"),
    ("softmax", wrong.softmax_over_queries, "softmax_wrong_dim"),
    ("weighted_sum", wrong.weighted_sum_uniform, "weights_not_applied_to_values"),
    ("weighted_sum", wrong.weighted_sum_transposed, "wrong_transpose"),
    ("scaled_dot_product_attention", wrong.sdpa_keys_as_rows, "wrong_transpose"),
    ("masked_attention", wrong.masked_fill_in_place_on_mask, "modifies_inputs"),
    ("causal_mask", wrong.causal_upper, "mask_inverted"),
    ("padding_mask", wrong.padding_flat, "shape_mismatch"),
    ("padding_mask", wrong.padding_pad_is_true, "mask_inverted"),
    ("padding_mask", wrong.padding_hard_coded_zero, "wrong_values"),
    ("qkv_projection", wrong.ProjectionWeightNotTransposed, "wrong_transpose"),
    ("attention_with_loops", wrong.sdpa_missing_scale, "missing_scale"),
    ("multi_head_attention", wrong.sdpa_missing_scale, "wrong_target_kind"),  # a function
    ("scaled_dot_product_attention", None, "not_attempted"),
    ("qkv_projection", 5, "wrong_target_kind"),
    ("qkv_projection", wrong.ProjectionNotAModule, "wrong_target_kind"),
    ("attention_scores", wrong.ProjectionSwapped, "wrong_target_kind"),
    ("causal_mask", "tril", "wrong_target_kind"),
]

SEEDS = (0, 1, 2)


def test_every_diagnosis_has_a_wrong_answer():
    assert set(WRONG) | {"correct"} == set(DIAGNOSES)


@pytest.mark.parametrize("diagnosis", sorted(WRONG))
def test_diagnosis_detected(diagnosis):
    exercise_id, candidate = WRONG[diagnosis]
    assert diagnosis in EXERCISES[exercise_id].diagnoses
    for seed in SEEDS:
        result = evaluate(exercise_id, candidate, seed=seed)
        assert not result.passed
        assert result.diagnosis == diagnosis, (seed, result)


@pytest.mark.parametrize(("exercise_id", "candidate", "diagnosis"), MORE)
def test_more_wrong_answers(exercise_id, candidate, diagnosis):
    for seed in SEEDS:
        result = evaluate(exercise_id, candidate, seed=seed)
        assert (result.passed, result.diagnosis) == (False, diagnosis), (seed, result)


@pytest.mark.parametrize("diagnosis", sorted(WRONG))
def test_messages_reveal_no_reference_values(diagnosis):
    """A message names shapes, positions and sizes: never a number with a decimal point."""
    exercise_id, candidate = WRONG[diagnosis]
    result = evaluate(exercise_id, candidate, seed=3)
    assert not re.search(r"\d\.\d", result.message), result.message
    assert result.message


def test_documented_diagnoses_are_known():
    for exercise in EXERCISES.values():
        assert set(exercise.diagnoses) <= set(DIAGNOSES), exercise.id


def test_fresh_inputs_every_call():
    exercise = EXERCISES["scaled_dot_product_attention"]
    first, second = exercise.cases(0), exercise.cases(1)
    assert not torch.equal(first[0].inputs["q"], second[0].inputs["q"])
    assert all(
        torch.equal(a.inputs[name], b.inputs[name])
        for a, b in zip(first, exercise.cases(0))
        for name in a.inputs
    )


def test_every_exercise_names_a_target_of_the_wrong_kind():
    for exercise in EXERCISES.values():
        assert "wrong_target_kind" in exercise.diagnoses, exercise.id
        result = evaluate(exercise.id, 5, seed=0)
        assert (result.passed, result.diagnosis) == (False, "wrong_target_kind"), exercise.id
        kind = "a class (an nn.Module subclass)" if exercise.kind == "class" else "a function"
        assert result.message == f"{exercise.target}: expected {kind}, got int 5."


def test_one_catalogue_for_exercises_and_hand_calculation():
    """Both checkers take their explanations from attention_lab.misconceptions, and neither
    imports the other."""
    for diagnoses in (DIAGNOSES, handcalc.DIAGNOSES):
        assert all(text == misconceptions.MISCONCEPTIONS[key] for key, text in diagnoses.items())
    assert set(DIAGNOSES) & set(handcalc.DIAGNOSES) >= {"missing_scale", "softmax_wrong_dim"}
    src = Path(misconceptions.__file__).parent
    for package, other in (("exercises", "handcalc"), ("handcalc", "exercises")):
        for path in (src / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(f"attention_lab.{other}"), path
    ground = ast.parse(Path(misconceptions.__file__).read_text())
    assert not any(
        isinstance(n, ast.ImportFrom) and (n.module or "").startswith("attention_lab")
        for n in ast.walk(ground)
    )
    with pytest.raises(ValueError, match="unknown nope"):
        misconceptions.explanations(["nope"])


def test_pattern_and_interface_messages_say_what_the_exercise_expects():
    result = evaluate("multi_head_attention", wrong.MultiHeadOtherNames, seed=0)
    assert "MultiHeadOtherNames(d_model=" in result.message and "num_heads=" in result.message
    result = evaluate("masked_attention", wrong.sdpa_no_mask_parameter, seed=0)
    assert "(q, k, v, mask)" in result.message
    result = evaluate("scaled_dot_product_attention", wrong.sdpa_dot_T, seed=0)
    assert result.message.startswith("The code works on 2-D inputs and fails on 3-D, 4-D")
    assert "(1 of 4 cases passed.)" in result.message
