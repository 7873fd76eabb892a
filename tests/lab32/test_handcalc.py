"""Hand calculation: generator, worked solution, checker diagnoses, worksheet, CLI."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from attention_lab.cli import app
from attention_lab.handcalc import (
    DIAGNOSES,
    STEPS,
    check_handcalc,
    generate_handcalc,
    worksheet_html,
)

SEED = 11


@pytest.fixture(scope="module")
def p():
    return generate_handcalc(SEED)


def _steps(p):
    return {s: getattr(p, s) for s in STEPS}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    tokens=st.integers(2, 4),
    d_model=st.integers(2, 4),
)
def test_any_seed_worked_solution_is_accepted_and_pencil_friendly(seed, tokens, d_model):
    p = generate_handcalc(seed, tokens=tokens, d_model=d_model)
    for M in (p.X, p.W_q, p.W_k, p.W_v, p.Q, p.K, p.V, p.scores):
        assert np.array_equal(M, np.round(M)), "entries must be whole numbers"
    assert np.abs(p.X).max() <= 2 and np.abs(p.W_q).max() <= 1
    fb = check_handcalc(seed, tokens=tokens, d_model=d_model, **_steps(p))
    assert fb.ok and fb.diagnosis == "correct" and fb.first_wrong is None
    # the exact (unrounded) weights and output are accepted too
    assert check_handcalc(p, weights=p.exact_weights, output=p.exact_output).ok


def test_solution_matches_torch_float64(p):
    q, k, v = (torch.tensor(M) for M in (p.Q, p.K, p.V))
    ref = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None])[0]
    assert torch.allclose(torch.tensor(p.exact_output), ref, atol=1e-12)
    assert np.allclose(p.Q, p.X @ p.W_q) and np.allclose(p.scores, p.Q @ p.K.T)
    assert np.allclose(p.weights, np.round(p.exact_weights, 2), atol=0.0051)


def test_seed_is_reproducible_and_pinned():
    a, b = generate_handcalc(0), generate_handcalc(0)
    assert a.to_dict() == b.to_dict()
    # pinned: the same problem on every machine (random.Random(seed).random() is stable)
    assert a.tokens == ("sat", "sun", "see")
    assert a.X.tolist() == [[1, 0, -1, 1], [2, 0, 0, -1], [1, 1, -1, 1]]
    assert generate_handcalc(1).to_dict() != a.to_dict()


def _diagnose(p, **steps):
    fb = check_handcalc(p, **steps)
    assert not fb.ok
    return fb


def test_forgot_to_scale(p):
    fb = _diagnose(p, scaled_scores=p.scores)
    assert (fb.diagnosis, fb.first_wrong) == ("missing_scale", "scaled_scores")
    fb = _diagnose(p, weights=np.round(_softmax(p.scores), 2))
    assert (fb.diagnosis, fb.first_wrong) == ("missing_scale", "weights")


def test_divided_by_dk_not_sqrt(p):
    fb = _diagnose(p, scores=p.scores, scaled_scores=p.scores / p.d_k)
    assert (fb.diagnosis, fb.first_wrong) == ("scale_by_dk_not_sqrt", "scaled_scores")
    assert "sqrt(d_k) = 2" in fb.message


def test_softmax_over_wrong_axis(p):
    wrong = np.round(_softmax(p.scaled_scores, axis=0), 2)
    fb = _diagnose(p, scaled_scores=p.scaled_scores, weights=wrong)
    assert (fb.diagnosis, fb.first_wrong) == ("softmax_wrong_dim", "weights")


def test_used_K_instead_of_K_transpose(p):
    fb = _diagnose(p, Q=p.Q, scores=p.K @ p.Q.T)
    assert (fb.diagnosis, fb.first_wrong) == ("wrong_transpose", "scores")
    fb = _diagnose(p, scores=p.Q.T @ p.K)  # (d_k, d_k): the transpose on the wrong factor
    assert fb.diagnosis == "wrong_transpose" and "Q^T K" in fb.message
    square = generate_handcalc(5, tokens=4, d_model=4)  # T == d_k: Q K has the right shape
    fb = _diagnose(square, scores=square.Q @ square.K)
    assert fb.diagnosis == "wrong_transpose"


def test_multiplied_weights_by_K_not_V(p):
    fb = _diagnose(p, weights=p.weights, output=np.round(p.weights @ p.K, 2))
    assert (fb.diagnosis, fb.first_wrong) == ("weights_applied_to_keys", "output")


def test_names_first_wrong_step_and_carries_later_ones(p):
    Q = p.Q.copy()
    Q[0, 0] += 1
    fb = _diagnose(p, Q=Q, K=p.K, scores=Q @ p.K.T)
    assert fb.first_wrong == "Q" and fb.diagnosis == "arithmetic"
    assert "row 1" in fb.message
    statuses = {s.step: s.status for s in fb.steps}
    assert statuses == {
        "Q": "wrong",
        "K": "correct",
        "V": "missing",
        "scores": "carried",
        "scaled_scores": "missing",
        "weights": "missing",
        "output": "missing",
    }


def test_other_diagnoses(p):
    assert _diagnose(p, Q=p.X @ p.W_k).diagnosis == "wrong_weight_matrix"
    assert _diagnose(p, Q=p.Q.T).diagnosis == "transposed_result"
    bad = p.weights.copy()
    bad[0] += 0.2
    assert _diagnose(p, weights=bad).diagnosis == "rows_do_not_sum_to_one"
    assert _diagnose(p, weights=p.exact_weights + 0.03).diagnosis == "rounding"
    assert set(DIAGNOSES) >= {
        "missing_scale",
        "scale_by_dk_not_sqrt",
        "softmax_wrong_dim",
        "wrong_transpose",
        "weights_applied_to_keys",
        "correct",
    }


def test_missing_steps_and_not_attempted(p):
    fb = check_handcalc(SEED)
    assert (fb.ok, fb.diagnosis) == (False, "not_attempted")
    fb = check_handcalc(SEED, output=torch.tensor(p.output))  # tensors work; only output given
    assert fb.ok and [s.step for s in fb.steps if s.status == "correct"] == ["output"]


def test_wrong_shape_says_expected_shape(p):
    fb = _diagnose(p, scores=np.zeros((2, 5)))
    assert fb.diagnosis == "shape_mismatch"
    assert "3 x 3" in fb.message and "2 x 5" in fb.message


def test_bad_input_errors():
    with pytest.raises(TypeError, match="Q: expected a table of numbers"):
        check_handcalc(0, Q=[[1, 2], [3]])
    with pytest.raises(TypeError, match="weights: expected a table of numbers"):
        check_handcalc(0, weights="0.5 0.5")
    with pytest.raises(ValueError, match="tokens: expected an int between 2 and 5.*got 9"):
        generate_handcalc(0, tokens=9)
    with pytest.raises(ValueError, match="seed: expected an int >= 0.*got -1"):
        generate_handcalc(-1)
    with pytest.raises(TypeError, match="d_model: expected an int, got float"):
        generate_handcalc(0, d_model=4.0)
    with pytest.raises(ValueError, match="d_k: expected an int between 2 and 5"):
        generate_handcalc(0, d_k=1)


def test_worksheet_has_problem_blanks_and_answer_key_on_new_page(p):
    page = worksheet_html(p)
    problem, key = page.split('<section class="answer-key">')
    assert "break-before: page" in page and "<script" not in page and "http" not in page
    # Q, K, V, output are 3 x 4; scores, scaled, exp, weights are 3 x 3
    assert problem.count("class='blank'") == 4 * 3 * 4 + 4 * 3 * 3
    assert str(int(p.scores[0, 0])) in key and f"{p.weights[0, 0]:.2f}" in key
    assert "Answer key" not in problem


def test_cli_json_and_worksheet(tmp_path):
    out, sheet = tmp_path / "p.json", tmp_path / "w.html"
    result = CliRunner().invoke(
        app, ["handcalc", "--seed", "4", "--json", str(out), "--worksheet", str(sheet)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in (
        "X",
        "W_q",
        "W_k",
        "W_v",
        "Q",
        "K",
        "V",
        "scores",
        "scaled_scores",
        "weights",
        "output",
        "d_k",
    ):
        assert key in data
    assert data == json.loads(json.dumps(generate_handcalc(4).to_dict()))
    assert "answer-key" in sheet.read_text()
    assert "worked solution" in result.output
    bad = CliRunner().invoke(app, ["handcalc", "--tokens", "9"])
    assert bad.exit_code == 2 and "tokens: expected" in bad.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "nodir/x.json"], "'--json': the folder 'nodir' does not exist"),
        (["--json", "adir"], "'--json': expected a file path, got the directory 'adir'"),
        (["--json", ""], "'--json': expected a file name"),
        (["--worksheet", "adir"], "'--worksheet': expected a file path, got the directory 'adir'"),
        (["--worksheet", "nodir/w.html"], "'--worksheet': the folder 'nodir' does not exist"),
    ],
)
def test_cli_bad_output_path_is_refused_before_the_problem(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    result = CliRunner().invoke(app, ["handcalc", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split())
    assert "Self-attention by hand" not in result.output  # refused before any output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]


def _softmax(x, axis=-1):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize(
    ("step", "cell", "where"),
    [
        ("Q", (1, 1), "row 2 (token '{t1}'), column 2 (d2)"),
        ("K", (0, 3), "row 1 (token '{t0}'), column 4 (d4)"),
        ("V", (2, 0), "row 3 (token '{t2}'), column 1 (d1)"),
        ("scores", (1, 1), "row 2 (token '{t1}'), column 2 (key '{t1}')"),
        ("scaled_scores", (0, 2), "row 1 (token '{t0}'), column 3 (key '{t2}')"),
        ("weights", (2, 1), "row 3 (token '{t2}'), column 2 (key '{t1}')"),
        ("output", (1, 0), "row 2 (token '{t1}'), column 1 (d1)"),
    ],
)
@pytest.mark.parametrize("blank", [np.nan, None])
def test_an_empty_cell_is_named_as_the_worksheet_labels_it(p, step, cell, where, blank):
    table = getattr(p, step).astype(object)  # a partly filled table, as a learner writes it
    table[cell] = blank
    where = where.format(**{f"t{i}": token for i, token in enumerate(p.tokens)})
    with pytest.raises(ValueError) as error:
        check_handcalc(SEED, **{step: table.tolist()})
    assert str(error.value) == (
        f"{step}: {where} is empty (NaN/None); fill in every cell with a number"
    )


def test_an_empty_table_and_an_infinite_cell(p):
    with pytest.raises(ValueError, match=r"^Q: row 1 \(token '\w+'\), column 1 \(d1\) is empty "
                       r"\(NaN/None\) \(and 11 more cells\); fill in every cell"):  # fmt: skip
        check_handcalc(SEED, Q=[[None] * 4] * 3)
    scores = p.scores.copy()
    scores[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"scores: row 1 .*column 2 .* is inf \(not a finite"):
        check_handcalc(SEED, scores=torch.tensor(scores))
    with pytest.raises(ValueError, match="weights: the value is empty"):
        check_handcalc(SEED, weights=np.nan)


def test_a_wrong_cell_is_named_as_the_worksheet_labels_it(p):
    weights = p.weights.copy()
    weights[2, 0] += 0.3
    weights[2, 1] -= 0.3
    fb = _diagnose(p, weights=weights)
    assert fb.diagnosis == "arithmetic"
    assert f"row 3 (token '{p.tokens[2]}'), column 1 (key '{p.tokens[0]}') is off" in fb.message
