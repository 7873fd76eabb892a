"""Every mistake the course's checkers can name, with one explanation each, written for a learner.

The Lab 3.4 exercise checker (``attention_lab.exercises``) and the hand-calculation checker
(``attention_lab.handcalc``) share this catalogue, so one mistake has one id and one explanation
wherever it is found. The ids are stable: the batch grader writes them to the gradebook and the
instructor guide lists them as common misconceptions. This module imports nothing from the rest
of the package.
"""

from __future__ import annotations

from collections.abc import Iterable

MISCONCEPTIONS: dict[str, str] = {
    "correct": "Correct: everything checked matches the reference.",
    "not_attempted": (
        "Not attempted yet: there is nothing to check. In a notebook exercise the function or "
        "class is missing, or still raises NotImplementedError: write your code where it says "
        "'your code here'. In a hand calculation, pass the steps you computed (Q=..., K=..., "
        "scores=..., weights=..., output=...)."
    ),
    "wrong_target_kind": (
        "The name the exercise asks you to define holds the wrong kind of object, so the "
        "checker cannot call it. A function exercise needs `def name(...):` returning tensors; a "
        "class exercise needs `class Name(nn.Module):` with `__init__` and `forward` (the class "
        "itself, not an instance of it). Check the prompt, and that no later cell assigned "
        "something else to the same name."
    ),
    "raises_error": (
        "Your code raised an error on one of the test inputs. The test inputs vary the batch "
        "dimensions and use different numbers of queries and keys (T_q != T_k): code that "
        "hard-codes a shape, uses .T on a tensor with more than 2 dimensions, or swaps T_q and "
        "T_k somewhere breaks on them."
    ),
    "wrong_return_type": (
        "The function returns the wrong kind of thing: check the exercise for what to return "
        "(one tensor, or a tuple such as (output, weights) or (q, k, v), in that order)."
    ),
    "wrong_parameters": (
        "The module's parameters do not have the expected names or shapes, so the checker cannot "
        "load its weights. Use the paper's names (W_q, W_k, W_v, W_o) for nn.Linear layers of the "
        "sizes the exercise gives, with bias."
    ),
    "shape_mismatch": (
        "The result has the wrong shape (a table with the wrong number of rows or columns). Write "
        "the shape of every intermediate result next to the line that makes it, e.g. "
        "(B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k)."
    ),
    "modifies_inputs": (
        "Your code changes its input tensors in place (an operation ending in '_' such as "
        "masked_fill_, div_, or '/=' on an argument). The caller's tensors must stay as they "
        "were: use the out-of-place version (masked_fill, /)."
    ),
    "softmax_wrong_dim": (
        "The softmax runs over the wrong axis. Each query's weights over the keys must sum to 1, "
        "so normalise over the last axis (the keys): softmax(scores, dim=-1). Over dim=-2 the "
        "weights of each key sum to 1 across the queries instead."
    ),
    "missing_scale": (
        "The scores are not scaled. Divide Q K^T by sqrt(d_k) before the softmax: without it the "
        "dot products grow with d_k and the softmax saturates into near one-hot weights with tiny "
        "gradients (Vaswani et al. 2017, section 3.2.1)."
    ),
    "scale_by_dk_not_sqrt": (
        "The scores are divided by d_k instead of sqrt(d_k). The dot product of two random "
        "d_k-dimensional vectors has variance d_k, so its standard deviation is sqrt(d_k): that "
        "is the factor that brings the scores back to unit scale."
    ),
    "wrong_scale": (
        "The scores are scaled by a factor other than 1 / sqrt(d_k). Check which dimension you "
        "take: d_k is the last dimension of q and k (the per-head width), not T or d_model."
    ),
    "scale_uses_d_model": (
        "The scores are divided by sqrt(d_model) instead of sqrt(d_k). In multi-head attention "
        "each head works in d_k = d_model / num_heads dimensions, and the scale belongs to the "
        "head's dot product."
    ),
    "wrong_transpose": (
        "A transpose is missing or in the wrong place: the result matches the right computation "
        "with two axes swapped. Scores are q @ k.transpose(-2, -1) (queries on the rows, keys on "
        "the columns); a Linear layer computes x @ W.T + b."
    ),
    "bias_missing": (
        "The projection leaves out the bias: nn.Linear computes x @ W.T + b. Call the layer "
        "itself (self.W_q(x)) rather than multiplying by its weight."
    ),
    "qkv_mixed_up": (
        "The queries, keys and values come from the wrong projections (for example the keys "
        "made with W_q, or Q, K and V returned in another order). Q = x W_q, K = x W_k, "
        "V = x W_v, each with its own layer."
    ),
    "weights_not_applied_to_values": (
        "The attention weights are right but the output is not weights @ V. Each output row is "
        "the weighted average of the value vectors: output = weights @ v, shape "
        "(..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)."
    ),
    "returns_scores_not_weights": (
        "The function returns the scores (before the softmax) where the weights belong. The "
        "weights are softmax(scores): non-negative, each row summing to 1."
    ),
    "outputs_swapped": (
        "The two results are in the wrong order: return (output, weights), output first."
    ),
    "mask_after_softmax": (
        "The mask is applied after the softmax, so the remaining weights no longer sum to 1. "
        "Mask the scores before the softmax (fill blocked positions with a very negative number) "
        "so that the softmax spreads each row over the allowed keys only."
    ),
    "mask_inverted": (
        "The mask is used the wrong way round. Here True means 'may attend' (as in "
        "torch.nn.functional.scaled_dot_product_attention): block the positions where the mask "
        "is False, e.g. scores.masked_fill(~mask, ...)."
    ),
    "mask_ignored": (
        "The mask has no effect: the result equals attention without a mask. Apply it to the "
        "scores before the softmax."
    ),
    "nan_on_fully_masked_row": (
        "A query whose keys are all masked gets NaN. Filling the scores with -inf makes such a "
        "row softmax(-inf, ..., -inf) = 0/0. Fill with the dtype's lowest finite value "
        "(torch.finfo(scores.dtype).min) and set the weights of fully masked rows to 0, so the "
        "output of that query is 0 rather than NaN."
    ),
    "fully_masked_row_not_zero": (
        "A query whose keys are all masked gets non-zero weights (a uniform row from the softmax "
        "of equal very negative scores). The convention here: such a query attends to nothing, "
        "so its weights and its output are 0. Zero the weights where the mask is False after "
        "the softmax."
    ),
    "causal_diagonal_wrong": (
        "The causal mask is off by one on the diagonal. Position i may attend to positions "
        "0..i, itself included: the mask is lower-triangular with the diagonal set (torch.tril)."
    ),
    "mask_not_boolean": (
        "The mask is not a boolean tensor. Return dtype torch.bool with True where attention is "
        "allowed (an additive 0/-inf float mask is another convention, not the one used here)."
    ),
    "numerically_unstable": (
        "Large scores overflow: exp(100) is inf in float32, and inf / inf is NaN. Subtract each "
        "row's maximum before exp (softmax is unchanged by adding a constant to a row), or use "
        "torch.softmax."
    ),
    "heads_split_wrong": (
        "The heads are split with a reshape but no transpose. x.view(B, H, T, d_k) cuts the "
        "memory of (B, T, D) into blocks that mix positions; split the feature axis instead: "
        "x.view(B, T, H, d_k).transpose(1, 2) -> (B, H, T, d_k)."
    ),
    "heads_merged_wrong": (
        "The heads are merged with a reshape but no transpose. Bring the head axis next to d_k "
        "first: out.transpose(1, 2).reshape(B, T_q, D), (B, H, T_q, d_k) -> (B, T_q, H, d_k) "
        "-> (B, T_q, D)."
    ),
    "output_projection_missing": (
        "The concatenated heads are returned without the output projection W_o. Multi-head "
        "attention ends with Concat(head_1, ..., head_h) W_o (Vaswani et al. 2017, section 3.2.2)."
    ),
    "weights_do_not_sum_to_one": (
        "The weights of a query do not sum to 1 over the keys, so they are not a softmax over "
        "the keys: the exp() is not divided by its own row's total, or the normalising sum runs "
        "over another axis. Each row of weights (last axis) must be non-negative and sum to 1."
    ),
    "blocked_keys_get_weight": (
        "Keys that the mask blocks still get weight. Filling the blocked scores with 0 (or a "
        "tiny number such as -1e-9) leaves exp(0) = 1 in the softmax; fill them with a very "
        "negative number (torch.finfo(scores.dtype).min) so that their weight is 0."
    ),
    "mask_additive": (
        "The mask is added to the scores, as an additive float mask (0 where allowed, -inf where "
        "blocked) would be. This exercise passes a boolean mask, True = may attend: adding it "
        "adds 1 to the allowed scores and blocks nothing. Use scores.masked_fill(~mask, ...)."
    ),
    "mask_shape": (
        "The code assumes one shape of mask and fails on another. The exercise passes boolean "
        "masks broadcastable to (..., T_q, T_k): (T_q, T_k), (B, T_q, T_k) and (B, 1, 1, T_k). "
        "Use the mask as it comes (masked_fill broadcasts it) instead of reshaping it."
    ),
    "one_rank_only": (
        "The code works for inputs with one number of dimensions only. The exercise passes "
        "(T, d), (B, T, d) and (B, H, T, d) inputs: count axes from the end (dim=-1, "
        "transpose(-2, -1), shape[-1]) instead of from the front, and do not use .T or "
        "torch.bmm, which need a fixed number of dimensions."
    ),
    "assumes_equal_lengths": (
        "The code works when the queries and the keys have the same length and fails when "
        "T_q != T_k (cross-attention). Reshape the key and the value with their own length "
        "(key.shape[1]), not the query's, and keep T_q and T_k apart in every shape."
    ),
    "dropout_in_eval": (
        "Two calls with the same inputs in evaluation mode gave different outputs: dropout is "
        "still on. Use an nn.Dropout module (model.eval() switches it off) or pass "
        "training=self.training to F.dropout."
    ),
    "shared_projection": (
        "One small projection is shared by every head: W_q, W_k or W_v maps d_model to d_k = "
        "d_model / num_heads and each head reuses it. Each head has its own projection; the "
        "usual way is one nn.Linear(d_model, d_model) per role whose output is split into "
        "num_heads slices of d_k."
    ),
    "constructor_signature": (
        "The class cannot be built the way the exercise builds it. The checker calls the "
        "constructor with keyword arguments, e.g. MultiHeadAttention(d_model=..., "
        "num_heads=...): keep exactly those parameter names, and give any extra parameter a "
        "default."
    ),
    "call_signature": (
        "The function or forward cannot be called the way the exercise calls it, e.g. "
        "forward(query, key, value, mask=None) or scaled_dot_product_attention(q, k, v, "
        "mask=None). Keep those parameters in that order; give any extra parameter a default."
    ),
    "returns_output_only": (
        "The function returns only the output, but the exercise asks for a tuple (output, "
        "weights): return weights @ v, weights."
    ),
    "non_finite_output": (
        "The result contains NaN or inf where the reference is finite. Look for a division by "
        "zero, an exp of a large number or a log of zero."
    ),
    "wrong_values": (
        "The result has the right shape but wrong values, and none of the common mistakes "
        "explains them. Compare each line with the formula and check each intermediate shape on "
        "a tiny example you can compute by hand."
    ),
    "softmax_missing": (
        "The scaled scores are used as weights without the softmax. The weights are "
        "softmax(scores): exponentiate each score and divide by its row's total, so that each "
        "row is non-negative and sums to 1."
    ),
    "weights_applied_to_keys": (
        "The weights multiply the keys instead of the values. The output is weights @ V: the "
        "keys decide where attention goes, the values are what it carries."
    ),
    "wrong_weight_matrix": (
        "A projection uses another projection's weight matrix: Q = X W_q, K = X W_k, V = X W_v."
    ),
    "transposed_result": (
        "The numbers are right but the table is transposed: write one row per token."
    ),
    "rows_do_not_sum_to_one": (
        "A row of softmax weights does not add up to 1. Divide each exp() by the total of its "
        "own row."
    ),
    "rounding": (
        "Close, but off by more than rounding to the stated number of decimals allows. Keep more "
        "decimals in the intermediate steps and round only the answer."
    ),
    "follows_from_earlier_error": (
        "Right for the numbers you had: this step follows from an earlier wrong step. Fix the "
        "earlier step first."
    ),
    "arithmetic": "An arithmetic slip: recompute the cells named.",
}

# conclusions that name no particular misconception: a check prefers any other one
GENERIC = ("raises_error", "shape_mismatch", "non_finite_output", "wrong_values")


def explanations(ids: Iterable[str]) -> dict[str, str]:
    """``{id: explanation}`` for ``ids`` in the catalogue's order (ValueError for an unknown id)."""
    wanted = set(ids)
    unknown = sorted(wanted - set(MISCONCEPTIONS))
    if unknown:
        raise ValueError(f"ids: expected ids of MISCONCEPTIONS, got unknown {', '.join(unknown)}")
    return {key: text for key, text in MISCONCEPTIONS.items() if key in wanted}
