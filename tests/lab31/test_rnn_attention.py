"""The RNN encoder-decoder with and without additive attention, and the experiment that compares
them with the Transformer on number translation."""

from __future__ import annotations

import json

import pytest
import torch

from attention_lab.experiments import get_experiment, rnn_attention
from attention_lab.nn.seq2seq_rnn import (
    AdditiveAttention,
    AttentionRNNEncoderDecoder,
    RNNEncoderDecoder,
)


def test_additive_attention_is_bahdanaus_formula_and_ignores_padding():
    torch.manual_seed(0)
    attention = AdditiveAttention(4, 3).double()
    s, h = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 5, 4, dtype=torch.float64)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    context, weights = attention(s, h, mask)
    for b in range(2):  # e_j = v^T tanh(W_s s + W_h h_j), softmax over the real positions only
        real = int(mask[b].sum())
        e = torch.stack([attention.v(torch.tanh(attention.W_s(s[b]) + attention.W_h(h[b, j])))[0]
                         for j in range(real)])  # fmt: skip
        a = torch.softmax(e, 0)
        torch.testing.assert_close(weights[b, :real], a, rtol=0, atol=1e-12)
        torch.testing.assert_close(context[b], a @ h[b, :real], rtol=0, atol=1e-12)
    assert weights[1, 3:].abs().max() == 0


@pytest.mark.parametrize("cls", [RNNEncoderDecoder, AttentionRNNEncoderDecoder])
def test_greedy_generation_agrees_with_teacher_forcing_on_its_own_output(cls):
    torch.manual_seed(0)
    model = cls(vocab_size=12, hidden_size=8).double().eval()
    src = torch.tensor([[5, 6, 7, 0], [8, 9, 10, 11]])  # the first is padded
    out = model.generate(src, max_len=5, bos_id=1, eos_id=2)  # (B, <= 5)
    logits = model(src, out[:, :-1])  # feeding its own tokens back reproduces each choice
    assert torch.equal(logits.argmax(-1)[out[:, 1:] != 0], out[:, 1:][out[:, 1:] != 0])
    if cls.uses_attention:
        assert model.last_alignment.shape[:2] == (2, out.shape[1] - 1)
        torch.testing.assert_close(model.last_alignment.sum(-1), torch.ones(2, out.shape[1] - 1,
                                   dtype=torch.float64))  # fmt: skip
    # padding changes nothing: the padded sentence alone gives the same translation
    alone = model.generate(src[:1, :3], max_len=5, bos_id=1, eos_id=2)
    assert torch.equal(alone[0], out[0, : alone.shape[1]])


def test_bad_ids_are_named():
    model = RNNEncoderDecoder(vocab_size=12, hidden_size=8)
    with pytest.raises(ValueError, match="src: expected integer token ids of shape"):
        model(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))


def test_experiment_is_registered_seeded_and_reports_every_length():
    assert get_experiment("rnn-attention") is rnn_attention.run
    kwargs = dict(steps=4, hidden_size=8, max_number=99, progress=False)
    result = rnn_attention.run(seed=1, **kwargs)
    again = rnn_attention.run(seed=1, **kwargs)
    data, data_again = result.to_dict(), again.to_dict()
    del data["train_seconds"], data_again["train_seconds"]
    assert data == data_again  # seeded: the same numbers again (timings aside)
    json.dumps(result.to_dict())
    assert sum(result.test_counts) == 10  # 10% of the 100 numbers are held out
    assert set(result.exact_match) == set(rnn_attention.MODELS)
    assert all(len(v) == len(result.source_lengths) for v in result.exact_match.values())
    rows = torch.tensor(result.alignment)
    torch.testing.assert_close(rows.sum(-1), torch.ones(len(rows), dtype=rows.dtype))
    assert len(result.alignment_output) == len(rows)
    fig = result.plot()
    assert fig.alt_text == rnn_attention.rnn_attention_alt(result)
    assert f"{result.overall['rnn']:.0%} overall" in fig.alt_text
