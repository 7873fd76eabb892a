"""The hand-written RNN and the step-by-step LSTM against torch's fused modules."""

import copy

import pytest
import torch
from torch import Tensor, nn

from attention_lab import StepwiseLSTM, TanhRNN, rnn_step, scale_to_spectral_norm
from attention_lab.numerics import assert_float32_as_accurate, rounding_bound

# Sum of |terms| of one pre-activation: input_size * |x| * |w| + hidden_size * |h| * |w| + biases
# < 5 * 6 * 1 + 7 * 10 * 1 + 2 * 1 < 100 (inputs N(0, 1) draws below 6, weights below 1, states
# h, c and gates below 1 except the LSTM's c, below 10 steps). An error in h reaches the next step
# through W_hh (entries below 1/sqrt(7)) and tanh/sigmoid (slope <= 1), so it is not amplified by
# more than a factor 10 over these sequences: magnitude 1e3.
MAGNITUDE = 1e3


def _assert_same_as_torch(
    ours: dict[torch.dtype, Tensor], theirs: dict[torch.dtype, Tensor], terms: int, what: str
) -> None:
    """float64 within the rounding bound of ``terms`` accumulated terms; float32 as accurate as
    torch's own float32 run, both measured against torch in float64 (docs/numerics.md rule 2)."""
    torch.testing.assert_close(
        ours[torch.float64],
        theirs[torch.float64],
        atol=rounding_bound(terms, torch.float64, MAGNITUDE),
        rtol=0,
        msg=lambda m: f"{what}, float64: {m}",
    )
    assert_float32_as_accurate(
        ours[torch.float32], theirs[torch.float32], theirs[torch.float64], what
    )


def _pair(input_size=5, hidden_size=7, bias=True, dtype=torch.float32):
    torch.manual_seed(0)
    ref = nn.RNN(input_size, hidden_size, batch_first=True, bias=bias).to(dtype)
    return ref, TanhRNN.from_torch(ref)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h0", [False, True])
def test_tanh_rnn_equals_nn_rnn(bias, with_h0):
    ref32, _ = _pair(bias=bias)
    x32 = torch.randn(3, 11, 5)
    h0_32 = torch.randn(3, 7) if with_h0 else None
    outs, hs, outs_ref, hs_ref = {}, {}, {}, {}
    for dtype in (torch.float32, torch.float64):  # the same weights and inputs in both dtypes
        ref = copy.deepcopy(ref32).to(dtype)
        x = x32.to(dtype)
        h0 = None if h0_32 is None else h0_32.to(dtype)
        out_ref, h_ref = ref(x, None if h0 is None else h0.unsqueeze(0))
        outs[dtype], hs[dtype] = TanhRNN.from_torch(ref)(x, h0)
        outs_ref[dtype], hs_ref[dtype] = out_ref, h_ref[0]
    # n: 11 steps, each a sum of 5 input + 7 hidden terms + 2 biases: 11 * 14 = 154
    _assert_same_as_torch(outs, outs_ref, 11 * 14, "outputs")
    _assert_same_as_torch(hs, hs_ref, 11 * 14, "final state")


def test_tanh_rnn_gradients_equal_nn_rnn_float64():
    ref, ours = _pair(dtype=torch.float64)
    x = torch.randn(2, 9, 5, dtype=torch.float64)
    target = torch.randn(2, 9, 7, dtype=torch.float64)
    ((ref(x)[0] - target) ** 2).sum().backward()
    ((ours(x)[0] - target) ** 2).sum().backward()
    pairs = [
        (ours.W_ih, ref.weight_ih_l0),
        (ours.W_hh, ref.weight_hh_l0),
        (ours.b_ih, ref.bias_ih_l0),
        (ours.b_hh, ref.bias_hh_l0),
    ]
    for mine, theirs in pairs:
        torch.testing.assert_close(mine.grad, theirs.grad, atol=1e-12, rtol=1e-10)


def test_unroll_gives_bptt_recursion():
    """dL/dh_{t-1} = W_hh^T ((1 - h_t^2) * dL/dh_t) when the loss reads only h_T."""
    _, rnn = _pair(dtype=torch.float64)
    states = rnn.unroll(torch.randn(4, 6, 5, dtype=torch.float64))
    grads = torch.autograd.grad(states[-1].sum(), states)
    for t in range(len(states) - 1, 0, -1):
        expected = ((1 - states[t] ** 2) * grads[t]) @ rnn.W_hh
        torch.testing.assert_close(grads[t - 1], expected)


def test_rnn_step_is_one_step_of_the_module():
    _, rnn = _pair()
    x = torch.randn(2, 1, 5)
    h = rnn_step(x[:, 0], torch.zeros(2, 7), rnn.W_ih, rnn.W_hh, rnn.b_ih + rnn.b_hh)
    torch.testing.assert_close(h, rnn(x)[1])


def test_stepwise_lstm_equals_nn_lstm():
    torch.manual_seed(0)
    ours32 = StepwiseLSTM(5, 7, forget_bias=1.0)
    x32 = torch.randn(3, 10, 5)
    outs, hs, outs_ref, hs_ref = {}, {}, {}, {}
    for dtype in (torch.float32, torch.float64):  # the same weights and inputs in both dtypes
        ours = copy.deepcopy(ours32).to(dtype)
        x = x32.to(dtype)
        outs[dtype], hs[dtype] = ours(x)
        out_ref, (h_ref, _) = ours.to_torch().to(dtype)(x)
        outs_ref[dtype], hs_ref[dtype] = out_ref, h_ref[0]
    # n: 10 steps, each a sum of 5 input + 7 hidden terms + 2 biases, then c_t = f c + i g adds
    # 2 more: 10 * 16 = 160
    _assert_same_as_torch(outs, outs_ref, 10 * 16, "outputs")
    _assert_same_as_torch(hs, hs_ref, 10 * 16, "final state")


def test_forget_bias_goes_to_the_forget_gate_only():
    torch.manual_seed(0)
    plain = StepwiseLSTM(3, 4, forget_bias=0.0).cell.bias_hh.detach()
    torch.manual_seed(0)
    opened = StepwiseLSTM(3, 4, forget_bias=2.5).cell.bias_hh.detach()
    expected = torch.zeros(16)
    expected[4:8] = 2.5  # torch's gate order: input, forget, cell, output
    torch.testing.assert_close(opened - plain, expected)


def test_scale_to_spectral_norm():
    torch.manual_seed(0)
    W = scale_to_spectral_norm(torch.randn(8, 8), 0.9)
    assert torch.linalg.matrix_norm(W, ord=2).item() == pytest.approx(0.9, rel=1e-5)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0.0, ValueError, "spectral_norm: expected a positive float, got 0.0"),
        ("1", TypeError, "spectral_norm: expected a positive float, got str"),
    ],
)
def test_scale_to_spectral_norm_bad_target(value, error, message):
    with pytest.raises(error, match=message):
        scale_to_spectral_norm(torch.randn(3, 3), value)


def test_scale_to_spectral_norm_zero_matrix():
    with pytest.raises(ValueError, match="matrix: expected a non-zero matrix"):
        scale_to_spectral_norm(torch.zeros(3, 3), 1.0)


@pytest.mark.parametrize(
    ("x", "h0", "error", "message"),
    [
        (
            torch.randn(2, 4, 6),
            None,
            ValueError,
            r"x: expected shape \(B, T >= 1, input_size=5\), got \(2, 4, 6\)",
        ),
        (torch.randn(4, 5), None, ValueError, r"x: expected a 3-D tensor, got shape \(4, 5\)"),
        (
            torch.ones(2, 4, 5, dtype=torch.long),
            None,
            TypeError,
            "x: expected a floating-point tensor, got dtype torch.int64",
        ),
        (torch.randn(2, 0, 5), None, ValueError, r"x: expected shape \(B, T >= 1"),
        (
            torch.randn(2, 4, 5),
            torch.randn(3, 7),
            ValueError,
            r"h0: expected shape \(B=2, hidden_size=7\), got \(3, 7\)",
        ),
    ],
)
def test_tanh_rnn_bad_input(x, h0, error, message):
    _, rnn = _pair()
    with pytest.raises(error, match=message):
        rnn(x, h0)


def test_lstm_bad_input():
    with pytest.raises(
        ValueError, match=r"x: expected shape \(B, T >= 1, input_size=3\), got \(1, 2, 4\)"
    ):
        StepwiseLSTM(3, 4)(torch.randn(1, 2, 4))


@pytest.mark.parametrize(
    ("module", "error", "message"),
    [
        (nn.LSTM(2, 3, batch_first=True), TypeError, "module: expected torch.nn.RNN, got LSTM"),
        (nn.RNN(2, 3, nonlinearity="relu", batch_first=True), ValueError, "nonlinearity='relu'"),
        (nn.RNN(2, 3, num_layers=2, batch_first=True), ValueError, "num_layers=2"),
        (nn.RNN(2, 3), ValueError, "module: expected batch_first=True"),
    ],
)
def test_from_torch_rejects_what_it_cannot_copy(module, error, message):
    with pytest.raises(error, match=message):
        TanhRNN.from_torch(module)


@pytest.mark.parametrize(("args", "message"), [((0, 3), "input_size"), ((3, -1), "hidden_size")])
def test_constructor_checks(args, message):
    with pytest.raises(ValueError, match=f"{message}: expected a positive int"):
        TanhRNN(*args)
