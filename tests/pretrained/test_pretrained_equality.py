"""Our BertEncoder running all-MiniLM-L6-v2 equals the Hugging Face and sentence-transformers
implementations of the same model, offline, on a padded batch of sentences.

Tolerances follow docs/numerics.md: the implementations are compared in float64, where any
summation order a CPU picks stays far inside the bound below; the float32 run (what learners use)
must be as accurate as transformers' own float32 run, both measured against the float64 result.
Only real tokens are compared: a padding token's vector and attention row feed nothing, and they
are the first to drift when the kernels change. What the padding rows must satisfy is checked on
its own (zero weight on padding keys, rows that sum to 1).
"""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import SENTENCES

from attention_lab import minilm_path, sentence_embeddings
from attention_lab.numerics import assert_float32_as_accurate, gamma, rounding_bound

# Longest chain of accumulated terms in MiniLM (D = 384, d_k = 32, d_ff = 1536, 6 layers), per
# layer: Q/K/V projection 384 + q.k 32 + weights.v T + output projection 384 + two LayerNorms
# 2 * 384 + feed-forward 384 + 1536; T <= 64 here: at most 3552 terms per layer.
TERMS = 6 * 3552
# Sum of |terms| of any of those sums: hidden vectors stay below 10 in size per entry (LayerNorm
# output times gamma, measured max 6.1) times weights below 1, over at most 1536 terms: 1.5e4.
MAGNITUDE = 1.5e4
# float64: gamma_21312 * 1.5e4 = 3.6e-8, first order (LayerNorm and softmax have condition near 1
# here); any bug worth the name (a weight off by 1e-6, a missing scale) is far above it.
FLOAT64_ATOL = rounding_bound(TERMS, torch.float64, MAGNITUDE)
# float32: ours may be at most 4x as far from the float64 result as transformers' float32 run is,
# plus 4 units of rounding (attention_lab.numerics.float32_allowance).


@pytest.fixture(scope="module")
def hf_bert():
    from transformers import BertModel

    model = BertModel.from_pretrained(
        str(minilm_path()), attn_implementation="eager", local_files_only=True
    )
    return model.eval()


@pytest.fixture(scope="module")
def batch(minilm):
    _, tokenizer = minilm
    batch = tokenizer(SENTENCES)
    assert batch.attention_mask.min() == 0, "the batch must contain padding"
    return batch


def _run_both(model, hf_bert, batch):
    with torch.no_grad():
        ours = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
        theirs = hf_bert(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            token_type_ids=batch.token_type_ids,
            output_attentions=True,
        )
    return ours, theirs


@pytest.fixture(scope="module")
def ours_and_theirs(minilm, hf_bert, batch):
    return _run_both(minilm[0], hf_bert, batch)


@pytest.fixture(scope="module")
def ours_and_theirs_float64(minilm, hf_bert, batch):
    """The same two models on copies of the weights in float64."""
    return _run_both(copy.deepcopy(minilm[0]).double(), copy.deepcopy(hf_bert).double(), batch)


def _assert_float32_as_accurate(ours, theirs, exact, where, what):
    """``ours`` (float32) is at most 4x as far from ``exact`` (float64) as transformers' float32
    ``theirs``, on the entries ``where`` selects (attention_lab.numerics.float32_allowance)."""
    assert_float32_as_accurate(ours[where], theirs[where], exact[where], what)


def test_last_hidden_states_match_transformers(
    ours_and_theirs, ours_and_theirs_float64, batch, no_network
):
    ours, theirs = ours_and_theirs
    assert (
        ours.last_hidden_state.shape
        == theirs.last_hidden_state.shape
        == (*batch.input_ids.shape, 384)
    )
    real = batch.attention_mask.bool()  # (B, T): the tokens whose vectors mean something
    ours64, theirs64 = ours_and_theirs_float64
    torch.testing.assert_close(
        ours64.last_hidden_state[real], theirs64.last_hidden_state[real], atol=FLOAT64_ATOL, rtol=0
    )
    torch.testing.assert_close(
        ours64.pooler_output, theirs64.pooler_output, atol=FLOAT64_ATOL, rtol=0
    )
    _assert_float32_as_accurate(
        ours.last_hidden_state, theirs.last_hidden_state, ours64.last_hidden_state, real, "hidden"
    )
    everything = torch.ones_like(ours.pooler_output, dtype=torch.bool)
    _assert_float32_as_accurate(
        ours.pooler_output, theirs.pooler_output, ours64.pooler_output, everything, "pooler"
    )


def test_every_layers_attention_weights_match_transformers(
    ours_and_theirs, ours_and_theirs_float64, batch
):
    ours, theirs = ours_and_theirs
    ours64, theirs64 = ours_and_theirs_float64
    B, T = batch.input_ids.shape
    real = batch.attention_mask.bool()  # (B, T)
    real_queries = real[:, None, :, None].expand(B, 12, T, T)  # (B, H, T_q, T_k)
    assert len(ours.attentions) == len(theirs.attentions) == len(ours64.attentions) == 6
    for layer in range(6):
        a, b = ours.attentions[layer], theirs.attentions[layer]
        assert a.shape == b.shape == (B, 12, T, T)
        torch.testing.assert_close(
            ours64.attentions[layer][real_queries],
            theirs64.attentions[layer][real_queries],
            atol=FLOAT64_ATOL,
            rtol=0,
            msg=lambda m, layer=layer: f"layer {layer}, float64, real queries: {m}",
        )
        _assert_float32_as_accurate(
            a, b, ours64.attentions[layer], real_queries, f"layer {layer}, real queries"
        )

    # Padding query rows mean nothing, but they are still attention rows: weight only on real
    # keys, exactly 0 on padding keys, summing to 1 within the rounding of T terms each <= 1
    # (softmax's division adds one rounding per term: 2 gamma_T in all).
    padding = ~real  # (B, T)
    for layer, a in enumerate(ours.attentions):
        assert a.transpose(1, 3)[padding].abs().max() == 0, f"layer {layer}: padding keys"
        pad_rows = a.transpose(1, 2)[padding]  # (B, T_q, H, T_k)[padding queries] -> (N, H, T_k)
        torch.testing.assert_close(
            pad_rows.double().sum(-1),
            torch.ones(pad_rows.shape[:-1], dtype=torch.float64),
            atol=2 * gamma(T, torch.float32),
            rtol=0,
            msg=lambda m, layer=layer: f"layer {layer}, padding query rows: {m}",
        )


def test_transformers_tokenizer_gives_the_same_ids(minilm, batch):
    from transformers import AutoTokenizer

    hf_tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()), local_files_only=True)
    expected = hf_tokenizer(SENTENCES, padding=True, return_tensors="pt")
    assert torch.equal(batch.input_ids, expected["input_ids"])
    assert torch.equal(batch.attention_mask, expected["attention_mask"])
    assert torch.equal(batch.token_type_ids, expected["token_type_ids"])


def test_sentence_embeddings_match_sentence_transformers(minilm, no_network):
    from sentence_transformers import SentenceTransformer

    model, tokenizer = minilm
    reference = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
    theirs = reference.encode(SENTENCES, convert_to_tensor=True, batch_size=len(SENTENCES))
    ours = sentence_embeddings(model, tokenizer, SENTENCES)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    # cosine in float64, so its own 384-term sums add nothing: 0.99999 is the same direction
    # within 0.26 degrees, where float32 noise of 1e-5 per entry moves it by under 1e-4 degrees
    cosine = torch.nn.functional.cosine_similarity(ours.double(), theirs.cpu().double(), dim=1)
    assert cosine.min() >= 0.99999, cosine
    # unit length: float32 sum of 384 squares, square root and division
    torch.testing.assert_close(
        ours.double().norm(dim=1),
        torch.ones(len(SENTENCES), dtype=torch.float64),
        atol=gamma(384 + 2, torch.float32),
        rtol=0,
    )
