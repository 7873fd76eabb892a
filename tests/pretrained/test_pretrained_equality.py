"""Our BertEncoder running all-MiniLM-L6-v2 equals the Hugging Face and sentence-transformers
implementations of the same model, offline, on a padded batch of sentences."""

from __future__ import annotations

import pytest
import torch
from conftest import SENTENCES

from attention_lab import minilm_path, sentence_embeddings


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


@pytest.fixture(scope="module")
def ours_and_theirs(minilm, hf_bert, batch):
    model, _ = minilm
    with torch.no_grad():
        ours = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
        theirs = hf_bert(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            token_type_ids=batch.token_type_ids,
            output_attentions=True,
        )
    return ours, theirs


def test_last_hidden_states_match_transformers(ours_and_theirs, batch, no_network):
    ours, theirs = ours_and_theirs
    assert (
        ours.last_hidden_state.shape
        == theirs.last_hidden_state.shape
        == (*batch.input_ids.shape, 384)
    )
    torch.testing.assert_close(ours.last_hidden_state, theirs.last_hidden_state, atol=1e-4, rtol=0)
    torch.testing.assert_close(ours.pooler_output, theirs.pooler_output, atol=1e-4, rtol=0)


def test_every_layers_attention_weights_match_transformers(ours_and_theirs, batch):
    ours, theirs = ours_and_theirs
    assert len(ours.attentions) == len(theirs.attentions) == 6
    for layer, (a, b) in enumerate(zip(ours.attentions, theirs.attentions, strict=True)):
        assert a.shape == (len(SENTENCES), 12, batch.input_ids.shape[1], batch.input_ids.shape[1])
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0, msg=f"layer {layer}")
    # padding keys get exactly zero weight in every layer
    padding = batch.attention_mask == 0  # (B, T)
    for a in ours.attentions:
        assert a.transpose(1, 3)[padding].abs().max() == 0  # (B, T_k, T_q, H)[pad keys]


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
    cosine = torch.nn.functional.cosine_similarity(ours, theirs.cpu(), dim=1)
    assert cosine.min() >= 0.99999, cosine
    torch.testing.assert_close(ours.norm(dim=1), torch.ones(len(SENTENCES)))
