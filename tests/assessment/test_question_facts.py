"""Quiz keys that once contradicted the lessons, checked against the library or the paper."""

from __future__ import annotations

import re

import torch

from attention_lab import TanhRNN
from attention_lab.assessment import get_question, load_questions
from attention_lab.experiments import rnn_gradients

# Where "Attention is all you need" (Vaswani et al. 2017) says what: a phrase -> its section.
PAPER_SECTIONS = {
    "LayerNorm(x + Sublayer(x))": "3.1",
    "label smoothing": "5.4",
    "warm-up": "5.3",
    "warmup": "5.3",
}
CITATION = re.compile(r"Vaswani et al\.? 2017,? (?:section )?(\d\.\d)")


def test_paper_citations_name_the_section_that_says_it():
    checked = 0
    for question in load_questions():
        for text in (question.explanation, question.prompt):
            cited = CITATION.findall(text)
            for phrase, section in PAPER_SECTIONS.items():
                if phrase.lower() in text.lower() and cited:
                    assert cited == [section], (question.id, phrase, cited)
                    checked += 1
    assert checked >= 2  # the LayerNorm questions of topic 3.3 at least


def test_transformer_addresses_keys_only_what_replaces_recurrence():
    question = get_question("transformer-addresses")
    for choice in question.choices:
        if "residual" in choice.text.lower():
            assert not choice.correct, "residuals address depth, not recurrence through time"
            assert "depth" in choice.feedback
    assert sum(c.correct for c in question.choices) == 3


def test_exploding_direction_stem_is_sufficient_and_the_rnn_agrees():
    question = get_question("exploding-direction")
    assert "orthogonal" in question.prompt and "1.5" in question.prompt
    (key,) = [c for c in question.choices if c.correct]
    assert "grow" in key.text
    # the stem's set-up: W_hh = 1.5 Q, inputs small enough for tanh' ~ 1 over 10 steps
    D, g = 16, torch.Generator().manual_seed(0)
    rnn = TanhRNN(D, D, bias=False).double()
    with torch.no_grad():
        rnn.W_hh.copy_(rnn_gradients.orthogonal_recurrence(D, 1.5, g))
    x = torch.randn(4, 11, D, generator=g, dtype=torch.float64) * 1e-6  # (B, T, D)
    states = rnn.unroll(x)
    grads = torch.autograd.grad(states[-1].sum(), states)  # dL/dh_t, T x (B, D)
    growth = grads[0].norm() / grads[-1].norm()  # 10 steps back
    # tanh' = 1 - h^2 >= 1 - 1e-7 here, so the growth is 1.5^10 up to that factor per step
    assert 1.5**10 * (1 - 1e-5) < growth <= 1.5**10 * (1 + 1e-9), float(growth)


def test_mask_before_softmax_key_is_what_lesson_34_teaches():
    question = get_question("mask-before-softmax")
    (key,) = [c for c in question.choices if c.correct]
    assert "finfo" in key.text and "-inf" in key.text
    scores = torch.randn(3, 4, dtype=torch.float64)
    mask = torch.tensor([[True, True, False, False]] * 2 + [[False] * 4])
    filled = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(filled, dim=-1)
    assert torch.equal(weights[:2, 2:], torch.zeros(2, 2))  # exp(min - max) underflows to 0
    assert torch.isfinite(weights).all()  # unlike -inf, a fully masked row stays finite
    assert torch.isnan(torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)[2]).all()
