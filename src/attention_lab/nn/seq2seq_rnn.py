"""Recurrent encoder-decoders, before and after attention was added to them (Topic 3.1).

- :class:`RNNEncoderDecoder` (Sutskever, Vinyals and Le 2014; Cho et al. 2014): an LSTM reads the
  source; its last state is the *only* thing the decoder gets, a fixed-size summary of the
  whole sentence however long it is.
- :class:`AttentionRNNEncoderDecoder` (Bahdanau, Cho and Bengio 2014, "Neural machine translation
  by jointly learning to align and translate"): the same, plus additive attention; at every output
  step the decoder scores every encoder state, ``e_j = v^T tanh(W_s s + W_h h_j)``, takes the
  softmax ``a_j``, and reads the context ``c = sum_j a_j h_j``. The bottleneck is gone: the
  decoder can look back at any source position. The weights ``a`` are the alignment.

Both decode with teacher forcing in ``forward`` (``tgt_in`` = ``<bos>`` + target) and greedily in
``generate``. The encoder is ``torch.nn.LSTM`` (the fused kernel, the same cell as the library's
``StepwiseLSTM``); the decoder runs one ``nn.LSTMCell`` step per output token. Padding id 0.

Shape legend: B batch, S source length, T target length, E embedding size, D hidden size,
V vocabulary size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attention_lab.nn._checks import check_positive_int

__all__ = ["AdditiveAttention", "AttentionRNNEncoderDecoder", "RNNEncoderDecoder"]


def _check_ids(name: str, ids: object) -> None:
    if not isinstance(ids, Tensor) or ids.dim() != 2 or ids.is_floating_point():
        got = (
            f"shape {tuple(ids.shape)}, dtype {ids.dtype}"
            if isinstance(ids, Tensor)
            else type(ids).__name__
        )
        raise ValueError(f"{name}: expected integer token ids of shape (B, length), got {got}")


class AdditiveAttention(nn.Module):
    """Bahdanau et al. (2014), appendix A.1.2: ``e_j = v^T tanh(W_s s + W_h h_j)``, a = softmax(e).

    ``forward(s, h, mask)``: the decoder state ``s`` ``(B, D)``, the encoder states ``h``
    ``(B, S, D)``, ``mask`` ``(B, S)`` (True = a real source token). Returns the context
    ``(B, D)`` and the weights ``(B, S)``.
    """

    def __init__(self, hidden_size: int, attention_size: int | None = None):
        super().__init__()
        check_positive_int("hidden_size", hidden_size)
        size = attention_size or hidden_size
        self.W_s = nn.Linear(hidden_size, size, bias=False)
        self.W_h = nn.Linear(hidden_size, size, bias=True)
        self.v = nn.Linear(size, 1, bias=False)

    def forward(self, s: Tensor, h: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.v(torch.tanh(self.W_s(s)[:, None] + self.W_h(h))).squeeze(-1)  # (B, S)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)  # padding: weight 0
        weights = torch.softmax(scores, dim=-1)  # (B, S)
        context = (weights[:, :, None] * h).sum(dim=1)  # (B, S, 1) * (B, S, D) -> (B, D)
        return context, weights


class RNNEncoderDecoder(nn.Module):
    """LSTM encoder -> its final state -> LSTM decoder: the fixed-size bottleneck."""

    uses_attention = False

    def __init__(self, vocab_size: int, hidden_size: int = 64, pad_id: int = 0):
        super().__init__()
        check_positive_int("vocab_size", vocab_size)
        check_positive_int("hidden_size", hidden_size)
        self.pad_id, self.hidden_size = pad_id, hidden_size
        self.embed = nn.Embedding(vocab_size, hidden_size, padding_idx=pad_id)
        self.encoder = nn.LSTM(hidden_size, hidden_size, batch_first=True)
        self.cell = nn.LSTMCell(hidden_size * (1 + self.uses_attention), hidden_size)
        self.out = nn.Linear(hidden_size * (1 + self.uses_attention), vocab_size)
        self.last_alignment: Tensor | None = None  # (B, T, S) after a forward pass with attention

    def encode(self, src: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor]:
        """``src`` ``(B, S)`` -> states ``(B, S, D)``, the final ``(h, c)``, mask ``(B, S)``."""
        _check_ids("src", src)
        mask = src != self.pad_id  # (B, S)
        lengths = mask.sum(dim=1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(src), lengths, batch_first=True, enforce_sorted=False
        )  # padding is skipped, so the final state is that of the last real token
        states, (h, c) = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(
            states, batch_first=True, total_length=src.shape[1]
        )  # (B, S, D)
        return states, (h[0], c[0]), mask

    def step(self, token: Tensor, state, states: Tensor, mask: Tensor):
        """One decoder step: previous token ``(B,)`` -> logits ``(B, V)``, new state, weights."""
        s, c = self.cell(self.embed(token), state)  # (B, D) each
        return self.out(s), (s, c), None

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: ``src`` ``(B, S)``, ``tgt_in`` ``(B, T)`` -> logits ``(B, T, V)``."""
        _check_ids("tgt_in", tgt_in)
        states, state, mask = self.encode(src)
        logits, alignment = [], []
        for t in range(tgt_in.shape[1]):  # the decoder is sequential too
            step_logits, state, weights = self.step(tgt_in[:, t], state, states, mask)
            logits.append(step_logits)
            alignment.append(weights)
        if self.uses_attention:
            self.last_alignment = torch.stack(alignment, dim=1).detach()  # (B, T, S)
        return torch.stack(logits, dim=1)  # T x (B, V) -> (B, T, V)

    @torch.no_grad()
    def generate(self, src: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
        """Greedy decoding: ``(B, <= max_len)`` ids starting with ``bos_id``, padded after eos."""
        states, state, mask = self.encode(src)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        alignment = []
        for _ in range(max_len - 1):
            logits, state, weights = self.step(out[:, -1], state, states, mask)
            alignment.append(weights)
            token = logits.argmax(dim=-1).masked_fill(finished, self.pad_id)  # (B,)
            out = torch.cat([out, token[:, None]], dim=1)
            finished |= token == eos_id
            if finished.all():
                break
        if self.uses_attention:
            self.last_alignment = torch.stack(alignment, dim=1)  # (B, T, S)
        return out


class AttentionRNNEncoderDecoder(RNNEncoderDecoder):
    """The same encoder-decoder with additive attention over every encoder state (Bahdanau et
    al. 2014): the decoder's input is the previous token and the context; its output layer reads
    the new state and the context."""

    uses_attention = True

    def __init__(self, vocab_size: int, hidden_size: int = 64, pad_id: int = 0):
        super().__init__(vocab_size, hidden_size, pad_id)
        self.attention = AdditiveAttention(hidden_size)

    def step(self, token: Tensor, state, states: Tensor, mask: Tensor):
        context, weights = self.attention(state[0], states, mask)  # (B, D), (B, S)
        s, c = self.cell(torch.cat([self.embed(token), context], dim=-1), state)  # (B, D)
        return self.out(torch.cat([s, context], dim=-1)), (s, c), weights
