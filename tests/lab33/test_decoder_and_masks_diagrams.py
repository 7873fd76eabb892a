"""The decoder at work (teacher forcing vs generation) and the masks of a real padded batch."""

from __future__ import annotations

import pytest
import torch

from attention_lab import NumberTranslation, Transformer, TransformerConfig, greedy_decode
from attention_lab.tasks.numbers import VOCABULARY, number_to_digits, number_to_words
from attention_lab.viz.decoder_diagram import decoder_alt, decoder_steps, draw_decoder
from attention_lab.viz.masks_diagram import batch_masks, draw_masks, masks_alt

TASK = NumberTranslation(9999)
TOK = TASK.tokenizer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = TransformerConfig(
        src_vocab_size=len(TOK), tgt_vocab_size=len(TOK), d_model=16, num_heads=2,
        num_encoder_layers=1, num_decoder_layers=1, d_ff=32, dropout=0.0, max_len=32,
    )  # fmt: skip
    return Transformer(config).double().eval()


def test_decoder_steps_are_the_models_probabilities(model):
    src, tgt = TOK.encode("three hundred and forty-two"), TOK.encode("3 4 2")
    steps = decoder_steps(model, src, tgt, VOCABULARY, bos_id=TOK.bos_id, eos_id=TOK.eos_id)
    assert steps.decoder_input == ["<bos>", "3", "4", "2"] and steps.target == [
        "3",
        "4",
        "2",
        "<eos>",
    ]
    with torch.no_grad():
        s, t = torch.tensor([src]), torch.tensor([[TOK.bos_id, *tgt]])
        probs = torch.softmax(model(s, t, *model.make_masks(s, t))[0], -1)  # (T, V)
    for position, candidates in enumerate(steps.forced):
        top = probs[position].topk(3)
        assert [c for c, _ in candidates] == [VOCABULARY[i] for i in top.indices.tolist()]
        assert [p for _, p in candidates] == pytest.approx(top.values.tolist(), abs=1e-12)
    # generation: the first token of each step's top list is what greedy decoding writes
    greedy = greedy_decode(
        model, s, max_len=len(steps.steps) + 1, bos_id=TOK.bos_id, eos_id=TOK.eos_id
    )
    assert [c[0][0] for c in steps.steps] == [VOCABULARY[i] for i in greedy[0, 1:].tolist()]
    assert steps.generated == [c[0][0] for c in steps.steps]


def test_decoder_alt_and_figure(model):
    steps = decoder_steps(
        model, TOK.encode("two thousand and five"), TOK.encode("2 0 0 5"), VOCABULARY,
        bos_id=TOK.bos_id, eos_id=TOK.eos_id, k=2,
    )  # fmt: skip
    right = sum(c[0][0] == t for c, t in zip(steps.forced, steps.target))
    alt = decoder_alt(steps)
    assert f"right at {right} of 5 positions" in alt
    assert f"Generation: {len(steps.steps)} steps" in alt
    fig = draw_decoder(steps)
    assert fig.alt_text == alt
    with pytest.raises(ValueError, match="k: expected an int in"):
        decoder_steps(model, [5], [6], VOCABULARY, bos_id=1, eos_id=2, k=0)


def _batch():
    items = [
        (TOK.encode(number_to_words(n)), TOK.encode(number_to_digits(n))) for n in (42, 2005, 342)
    ]
    batch = TASK.collate(items)
    return batch.tgt_in, [[VOCABULARY[i] for i in row] for row in batch.tgt_in.tolist()]


def test_masks_are_the_librarys_for_the_most_padded_sentence():
    ids, names = _batch()
    masks = batch_masks(ids, names, pad_id=0)
    assert masks.row == 0 and masks.tokens == ["<bos>", "4", "2", "<pad>", "<pad>"]
    assert masks.padding.sum(axis=1).tolist() == [3] * 5
    assert masks.causal.sum(axis=1).tolist() == [1, 2, 3, 4, 5]
    assert masks.combined.sum(axis=1).tolist() == [1, 2, 3, 3, 3]
    alt = masks_alt(masks)
    assert "3 real tokens and 2 padding" in alt and "1, 2, 3, 3, 3 keys per query" in alt
    assert draw_masks(masks).alt_text == alt
    with pytest.raises(ValueError, match="tokens: expected 3 lists of 5 tokens"):
        batch_masks(ids, names[:2], pad_id=0)
