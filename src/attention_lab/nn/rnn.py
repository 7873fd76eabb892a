"""Recurrent networks written out one time step at a time, for the experiments of Topic 3.1.

The vanilla (Elman) RNN, as in ``torch.nn.RNN`` with ``nonlinearity="tanh"``:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)                       (Elman 1990)

Backpropagation through time multiplies one Jacobian per step,

    dL/dh_t = (dh_{t+1}/dh_t)^T dL/dh_{t+1},   dh_{t+1}/dh_t = diag(1 - h_{t+1}^2) W_hh,

so ||dL/dh_{t-d}|| <= (gamma * sigma_max(W_hh))^d ||dL/dh_t|| with gamma = 1 for tanh: a largest
singular value below 1 is enough for the gradient to vanish exponentially with the distance d
(Pascanu, Mikolov and Bengio 2013, "On the difficulty of training recurrent neural networks",
section 3.1). ``unroll`` returns every h_t as its own node of the graph so that dL/dh_t can be read.

Shape legend: B batch, T sequence length, D_in input size, D hidden size.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from attention_lab.nn import interop
from attention_lab.nn._checks import check_rnn_args, check_sequence_input, check_spectral_norm_args

__all__ = ["StepwiseLSTM", "TanhRNN", "rnn_step", "scale_to_spectral_norm"]


def rnn_step(x_t: Tensor, h_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b: Tensor | None) -> Tensor:
    """One step of the vanilla RNN: ``h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b)``.

    ``x_t`` ``(B, D_in)``, ``h_prev`` ``(B, D)``, ``W_ih`` ``(D, D_in)``, ``W_hh`` ``(D, D)``,
    ``b`` ``(D,)`` (``b_ih + b_hh``) or None. Returns ``h_t`` ``(B, D)``.
    """
    pre = x_t @ W_ih.T + h_prev @ W_hh.T  # (B, D_in) @ (D_in, D) + (B, D) @ (D, D) -> (B, D)
    if b is not None:
        pre = pre + b
    return torch.tanh(pre)


class TanhRNN(nn.Module):
    """A single-layer vanilla tanh RNN, batch first, computed by an explicit Python loop over time.

    The parameters have the meaning (and the initialisation, U(-1/sqrt(D), 1/sqrt(D))) of
    ``torch.nn.RNN``'s ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0`` and ``bias_hh_l0``;
    ``from_torch`` copies them, so the two compute the same numbers.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        check_rnn_args(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.W_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b_ih = nn.Parameter(torch.empty(hidden_size)) if bias else None
        self.b_hh = nn.Parameter(torch.empty(hidden_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def unroll(self, x: Tensor, h0: Tensor | None = None) -> list[Tensor]:
        """Run over ``x`` ``(B, T, D_in)``; return ``[h_1, ..., h_T]``, each ``(B, D)``.

        Each ``h_t`` is a separate node of the autograd graph, so
        ``torch.autograd.grad(loss, states)`` gives dL/dh_t for every t (backpropagation
        through time, one term per step).
        """
        check_sequence_input(x, self.input_size, h0, self.hidden_size)
        h = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        b = None if self.b_ih is None else self.b_ih + self.b_hh
        states = []
        for t in range(x.shape[1]):  # strictly one step after another: h_t needs h_{t-1}
            h = rnn_step(x[:, t], h, self.W_ih, self.W_hh, b)  # (B, D)
            states.append(h)
        return states

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``x`` ``(B, T, D_in)`` -> ``(outputs (B, T, D), h_T (B, D))``, like ``nn.RNN``."""
        states = self.unroll(x, h0)
        return torch.stack(states, dim=1), states[-1]  # T x (B, D) -> (B, T, D)

    @classmethod
    def from_torch(cls, module: nn.RNN) -> TanhRNN:
        """Copy the weights of a one-layer, unidirectional, batch-first tanh ``torch.nn.RNN``."""
        return interop.rnn_from_torch(cls, module)


class StepwiseLSTM(nn.Module):
    """An LSTM (Hochreiter and Schmidhuber 1997) run one ``nn.LSTMCell`` step at a time.

        c_t = f_t * c_{t-1} + i_t * g_t,   h_t = o_t * tanh(c_t)

    The cell state's path is additive: dc_t/dc_{t-1} = diag(f_t), so the gradient along it
    shrinks by the forget gate per step rather than by W_hh and tanh'. ``unroll`` returns every
    h_t as a graph node, like ``TanhRNN.unroll``. ``forget_bias`` is added to the forget gate's
    bias at initialisation (1.0 is the usual choice, Jozefowicz et al. 2015; 0 is torch's).
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0):
        super().__init__()
        check_rnn_args(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.cell = nn.LSTMCell(input_size, hidden_size)
        with torch.no_grad():  # gate order in torch: input, forget, cell (g), output
            self.cell.bias_hh[hidden_size : 2 * hidden_size] += forget_bias

    def unroll(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> list[Tensor]:
        """Run over ``x`` ``(B, T, D_in)``; return ``[h_1, ..., h_T]``, each ``(B, D)``."""
        check_sequence_input(x, self.input_size)
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        states = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)  # (h_t, c_t), each (B, D)
            states.append(state[0])
        return states

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x`` ``(B, T, D_in)`` -> ``(outputs (B, T, D), h_T (B, D))``, like ``nn.LSTM``."""
        states = self.unroll(x)
        return torch.stack(states, dim=1), states[-1]  # T x (B, D) -> (B, T, D)

    def to_torch(self) -> nn.LSTM:
        """The same weights in a fused, batch-first ``torch.nn.LSTM`` (for checks and speed)."""
        return interop.lstm_to_torch(self.cell)


def scale_to_spectral_norm(matrix: Tensor, spectral_norm: float) -> Tensor:
    """Return ``matrix`` rescaled so that its largest singular value is ``spectral_norm``.

    For an orthogonal ``matrix`` every singular value (and every |eigenvalue|) becomes
    ``spectral_norm``, which makes the per-step factor of the linearised RNN exactly that value.
    """
    check_spectral_norm_args(matrix, spectral_norm)
    sigma_max = torch.linalg.matrix_norm(matrix, ord=2)
    return matrix * (spectral_norm / sigma_max)
