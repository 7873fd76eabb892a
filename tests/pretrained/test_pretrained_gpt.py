"""The decoder-only GPT: causality, equality with torch's encoder layer under a causal mask,
reproducible sampling, greedy decoding, and clear errors."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from attention_lab import GPT, GPT_PRESETS, GPTConfig, causal_mask, use_fast_attention
from attention_lab.nn.gpt import next_token_loss, next_token_probabilities
from attention_lab.numerics import assert_float32_as_accurate, gamma, rounding_bound

VARIANTS = [(nf, act) for nf in (False, True) for act in ("relu", "gelu")]
IDS = [f"{'pre' if nf else 'post'}-{act}" for nf, act in VARIANTS]
# docs/numerics.md: ours and torch's are compared in float64 within the rounding bound, and our
# float32 run must be as accurate as torch's float32 run against float64. Longest chain of
# accumulated terms in one block (D = 32, d_k = 8, d_ff = 64, T <= 16): Q/K/V 32 + q.k 8 +
# weights.v 16 + W_o 32 + two LayerNorms 64 + feed-forward 32 + 64 = 248; two blocks and the final
# LayerNorm: 528 < 600. Sum of |terms| of any of those sums: N(0, 1) inputs below 6, torch's
# initial weights below 1, LayerNorm outputs below sqrt(32) < 6, at most 64 terms, softmax and
# LayerNorm passing an error on with a factor below 2: 64 * 6 * 6 * 2 < 1e4.
TERMS, MAGNITUDE = 600, 1e4
ATOL64 = rounding_bound(TERMS, torch.float64, MAGNITUDE)  # 6.7e-10


def small_gpt(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**GPT_PRESETS["tiny"].__dict__, **overrides})).eval()


def torch_encoder(norm_first: bool, activation: str, layers: int = 2, dtype=torch.float32):
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(
        32, 4, 64, dropout=0.0, activation=activation, norm_first=norm_first,
        batch_first=True, dtype=dtype,
    )  # fmt: skip
    norm = nn.LayerNorm(32, dtype=dtype) if norm_first else None
    return nn.TransformerEncoder(layer, layers, norm=norm, enable_nested_tensor=False).eval()


@pytest.mark.parametrize("fast", [False, True], ids=["readable", "fused"])
def test_changing_the_future_never_changes_the_past(fast):
    model = use_fast_attention(small_gpt()) if fast else small_gpt()
    tokens = torch.randint(0, 64, (3, 20), generator=torch.Generator().manual_seed(0))
    changed = tokens.clone()
    changed[:, 12:] = (changed[:, 12:] + 7) % 64  # a different future from position 12 on
    with torch.no_grad():
        before, after = model(tokens), model(changed)
    # the masked weights are exactly 0, so the past's numbers are computed from the same inputs
    # by the same kernels: they are equal, not just close
    torch.testing.assert_close(after[:, :12], before[:, :12], atol=0, rtol=0)
    assert (after[:, 12:] - before[:, 12:]).abs().max() > 1e-3  # and the future does change


def test_gradients_do_not_flow_from_the_past_to_the_future():
    model = small_gpt()
    tokens = torch.randint(0, 64, (1, 10), generator=torch.Generator().manual_seed(1))
    embedded = model.token_embed(tokens).detach().requires_grad_(True)
    positions = model.position_embed(torch.arange(10))
    hidden = model.stack(embedded + positions, causal_mask(10))  # (1, 10, D)
    # a random direction: the plain sum of a LayerNorm's output is constant (0), its gradient too
    direction = torch.randn(hidden.shape[-1], generator=torch.Generator().manual_seed(2))
    (hidden[0, 4] * direction).sum().backward()
    grad = embedded.grad[0].abs().sum(-1)  # (10,): how much position 4 depends on each input
    assert torch.all(grad[5:] == 0) and torch.all(grad[:5] > 0)


@pytest.mark.parametrize("norm_first,activation", VARIANTS, ids=IDS)
def test_a_gpt_block_is_torchs_encoder_layer_with_a_causal_mask(norm_first, activation):
    x, T = torch.randn(2, 9, 32, dtype=torch.float64), 9
    encoder32 = torch_encoder(norm_first, activation)

    def run(dtype):
        """(block, stack) outputs of ours and of torch's, with the same weights, in ``dtype``."""
        encoder = copy.deepcopy(encoder32).to(dtype)
        ours = GPT.from_torch(encoder, vocab_size=50, context_length=16).eval()
        torch_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype)  # -inf above
        with torch.no_grad():
            expected_block = encoder.layers[0](x.to(dtype), src_mask=torch_mask, is_causal=True)
            got_block = ours.stack.layers[0](x.to(dtype), causal_mask(T))
            expected_stack = encoder(x.to(dtype), mask=torch_mask, is_causal=True)
            got_stack = ours.stack(x.to(dtype), causal_mask(T))
        return (got_block, expected_block), (got_stack, expected_stack)

    runs64, runs32 = run(torch.float64), run(torch.float32)
    for what, (ours64, theirs64), (ours32, theirs32) in zip(("block", "stack"), runs64, runs32):
        assert ours32.dtype == theirs32.dtype == torch.float32
        torch.testing.assert_close(
            ours64, theirs64, atol=ATOL64, rtol=0, msg=lambda m, what=what: f"{what}: {m}"
        )
        assert_float32_as_accurate(ours32, theirs32, theirs64, what)


@pytest.mark.parametrize("norm_first,activation", VARIANTS, ids=IDS)
def test_the_whole_gpt_equals_embeddings_then_torchs_stack_in_float64(norm_first, activation):
    encoder = torch_encoder(norm_first, activation, dtype=torch.float64)
    ours = GPT.from_torch(encoder, vocab_size=50, context_length=16).eval()
    assert ours.token_embed.weight.dtype == torch.float64
    tokens = torch.randint(0, 50, (2, 11), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        x = ours.token_embed(tokens) + ours.position_embed(torch.arange(11))
        mask = nn.Transformer.generate_square_subsequent_mask(11, dtype=torch.float64)
        expected = ours.lm_head(encoder(x, mask=mask, is_causal=True))
        got = ours(tokens)
    torch.testing.assert_close(got, expected, atol=ATOL64, rtol=0)


def test_from_torch_rejects_what_it_cannot_copy():
    with pytest.raises(TypeError, match="expected torch.nn.TransformerEncoder"):
        GPT.from_torch(nn.Linear(2, 2), 10, 10)
    layer = nn.TransformerEncoderLayer(32, 4, 64, norm_first=True, batch_first=True)
    no_final_norm = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    with pytest.raises(ValueError, match="final LayerNorm"):
        GPT.from_torch(no_final_norm, 10, 10)


def test_generation_is_reproducible_with_a_seed():
    model = small_gpt()
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    a = model.generate(prompt, 20, generator=torch.Generator().manual_seed(7))
    b = model.generate(prompt, 20, generator=torch.Generator().manual_seed(7))
    c = model.generate(prompt, 20, generator=torch.Generator().manual_seed(8))
    assert a.shape == (2, 23) and torch.equal(a[:, :3], prompt)
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(3)
    d = model.generate(prompt, 20, temperature=0.7, top_k=5)
    torch.manual_seed(3)
    assert torch.equal(d, model.generate(prompt, 20, temperature=0.7, top_k=5))


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_top_k_1_is_greedy_decoding(temperature):
    model = small_gpt()
    prompt = torch.tensor([[5, 9], [0, 63]])
    expected = prompt.clone()
    with torch.no_grad():
        for _ in range(15):  # greedy: always the single most likely next token
            expected = torch.cat([expected, model(expected)[:, -1].argmax(-1, keepdim=True)], 1)
    got = model.generate(prompt, 15, temperature=temperature, top_k=1,
                         generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert torch.equal(got, expected)


def test_next_token_probabilities_against_float64():
    logits = torch.randn(4, 30, generator=torch.Generator().manual_seed(4))
    for temperature, top_k in ((1.0, None), (0.5, None), (2.0, 7), (1.0, 1)):
        scaled = logits.double() / temperature
        if top_k is not None:
            kth = scaled.topk(top_k, dim=-1).values[:, -1:]
            scaled = scaled.masked_fill(scaled < kth, -math.inf)
        expected = torch.softmax(scaled, dim=-1).float()
        got = next_token_probabilities(logits, temperature, top_k)
        # float32 softmax of 30 terms: the sum within gamma_30 of exact, plus a few roundings
        # (the scaling, exp, the division) for each probability <= 1
        torch.testing.assert_close(got, expected, atol=gamma(30 + 4, torch.float32), rtol=0)
        assert ((got > 0).sum(-1) == (top_k or 30)).all()


def test_the_loss_of_an_untrained_model_is_about_log_vocab():
    model = small_gpt()  # N(0, 0.02) weights: nearly uniform predictions
    tokens = torch.randint(0, 64, (4, 33), generator=torch.Generator().manual_seed(5))
    loss = next_token_loss(model, tokens)
    assert abs(loss.item() - math.log(64)) < 0.05
    torch.testing.assert_close(next_token_loss(model, tokens, "sum"), loss * 4 * 32)


def test_weight_tying_is_optional():
    tied, untied = small_gpt(), small_gpt(tie_weights=False)
    assert tied.lm_head.weight is tied.token_embed.weight
    assert untied.lm_head.weight is not untied.token_embed.weight
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 64 * 32


def test_attention_weights_are_causal_and_rows_sum_to_one():
    model = small_gpt()
    with torch.no_grad():
        model(torch.randint(0, 64, (2, 12)))
    weights = model.attention_weights()  # (L, B, H, T, T)
    assert weights.shape == (2, 2, 2, 12, 12)
    assert torch.all(weights.triu(diagonal=1) == 0)
    # 12 weights <= 1, each within gamma_12 + u of its exact value (softmax's sum and division),
    # summed in float64: within 2 gamma_12 of 1 (the padding-row check of the BERT tests)
    torch.testing.assert_close(
        weights.double().sum(-1), torch.ones(2, 2, 2, 12, dtype=torch.float64),
        atol=2 * gamma(12, torch.float32), rtol=0,
    )  # fmt: skip
    use_fast_attention(model)
    with torch.no_grad():
        model(torch.randint(0, 64, (2, 12)))
    with pytest.raises(RuntimeError, match="use_readable_attention"):
        model.attention_weights()


@pytest.mark.parametrize(
    "tokens,kwargs,error,message",
    [
        (torch.zeros(1, 0, dtype=torch.long), {}, ValueError, "at least one token"),
        (torch.tensor([[1, 64]]), {}, ValueError, r"ids in \[0, 64\).*64"),
        (torch.tensor([[-1, 3]]), {}, ValueError, r"ids in \[0, 64\)"),
        (torch.tensor([1, 2]), {}, ValueError, r"tokens\[None\]"),
        (torch.tensor([[1.0, 2.0]]), {}, TypeError, "integer token ids"),
        ([[1, 2]], {}, TypeError, "torch.Tensor"),
        (torch.tensor([[1, 2]]), {"max_new_tokens": 31}, ValueError, "at most 30"),
        (torch.tensor([[1, 2]]), {"max_new_tokens": 0}, ValueError, "max_new_tokens"),
        (torch.tensor([[1, 2]]), {"temperature": 0.0}, ValueError, "temperature"),
        (torch.tensor([[1, 2]]), {"temperature": -1.0}, ValueError, "temperature"),
        (torch.tensor([[1, 2]]), {"temperature": math.nan}, ValueError, "temperature"),
        (torch.tensor([[1, 2]]), {"temperature": "hot"}, TypeError, "temperature"),
        (torch.tensor([[1, 2]]), {"top_k": 0}, ValueError, r"top_k.*1\.\.64"),
        (torch.tensor([[1, 2]]), {"top_k": 65}, ValueError, r"top_k.*1\.\.64"),
        (torch.tensor([[1, 2]]), {"top_k": 2.5}, TypeError, "top_k"),
    ],
)
def test_bad_input_gets_a_clear_error(tokens, kwargs, error, message):
    model = small_gpt()
    kwargs = {"max_new_tokens": 5, **kwargs}
    with pytest.raises(error, match=message):
        model.generate(tokens, **kwargs)


def test_a_prompt_longer_than_the_context_is_refused():
    with pytest.raises(ValueError, match="at most context_length=32"):
        small_gpt()(torch.zeros(1, 33, dtype=torch.long))


def test_config_checks():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        GPTConfig(vocab_size=10, d_model=30, num_heads=4)
    with pytest.raises(ValueError, match="activation"):
        GPTConfig(vocab_size=10, activation="tanh")
    with pytest.raises(TypeError, match="vocab_size"):
        GPTConfig(vocab_size=10.0)
    with pytest.raises(TypeError, match="GPTConfig"):
        GPT({"vocab_size": 10})
    small = GPT_PRESETS["gpt2-small"]
    # GPT-2 small: 124 M parameters with the output layer tied to the token embedding
    params = (
        small.vocab_size * small.d_model
        + small.context_length * small.d_model
        + small.num_layers * (4 * small.d_model**2 + 2 * small.d_model * small.d_ff)
    )
    assert 120e6 < params < 125e6


def test_the_quiz_temperature_answer_is_the_librarys():
    from attention_lab import load_questions

    question = load_questions(ids=["temperature-probability"])[0]
    probability = next_token_probabilities(torch.tensor([2.0, 1.0, 0.0]), temperature=0.5)[0]
    assert abs(float(probability) - question.answer) <= question.tolerance
    plain = next_token_probabilities(torch.tensor([2.0, 1.0, 0.0]))[0]
    assert (
        abs(float(plain) - question.wrong_answers[0].value) <= question.wrong_answers[0].tolerance
    )
