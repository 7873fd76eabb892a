"""Every kind of bad input raises ValueError/TypeError naming the argument, the expected and the received."""

import pytest
import torch

from attention_lab import (
    EncoderLayer,
    FeedForward,
    MultiHeadAttention,
    PositionalEncoding,
    Transformer,
    TransformerConfig,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)


def _qkv(*shapes, dtype=torch.float32):
    return [torch.randn(*s, dtype=dtype) for s in shapes]


@pytest.mark.parametrize(
    "call,error,words",
    [
        (
            lambda: MultiHeadAttention(10, 3),
            ValueError,
            ["d_model", "multiple of num_heads=3", "10"],
        ),
        (lambda: MultiHeadAttention(0, 1), ValueError, ["d_model", "positive", "0"]),
        (lambda: MultiHeadAttention(8, -2), ValueError, ["num_heads", "positive", "-2"]),
        (lambda: MultiHeadAttention(8.0, 2), TypeError, ["d_model", "int", "float"]),
        (lambda: MultiHeadAttention(8, 2, dropout=1.5), ValueError, ["dropout", "[0, 1)", "1.5"]),
        (
            lambda: FeedForward(8, 16, activation="tanh"),
            ValueError,
            ["activation", "relu", "'tanh'"],
        ),
        (lambda: EncoderLayer(8, 3, 16), ValueError, ["d_model", "num_heads=3"]),
        (lambda: sinusoidal_positional_encoding(4, 7), ValueError, ["d_model", "even", "7"]),
        (lambda: causal_mask(0), ValueError, ["T", "positive", "0"]),
        (
            lambda: TransformerConfig(10, 12, share_embeddings=True),
            ValueError,
            ["share_embeddings", "10", "12"],
        ),
        (
            lambda: TransformerConfig(10, 10, d_model=30, num_heads=4),
            ValueError,
            ["d_model", "num_heads=4", "30"],
        ),
        (lambda: Transformer({"d_model": 8}), TypeError, ["config", "TransformerConfig", "dict"]),
    ],
)
def test_bad_constructor_arguments(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "args,error,words",
    [
        (_qkv((2, 3, 4), (2, 5, 6), (2, 5, 4)), ValueError, ["k", "d_k=4", "(2, 5, 6)"]),
        (_qkv((2, 3, 4), (2, 5, 4), (2, 6, 4)), ValueError, ["v", "T_k=5", "(2, 6, 4)"]),
        (_qkv((4,), (5, 4), (5, 4)), ValueError, ["q", "at least 2", "(4,)"]),
        (
            [torch.randn(2, 3), torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3)],
            TypeError,
            ["k", "torch.float32", "torch.float64"],
        ),
        (
            [torch.ones(2, 3, dtype=torch.long)] * 3,
            TypeError,
            ["q", "floating-point", "torch.int64"],
        ),
        (
            [[1.0, 2.0], torch.randn(2, 3), torch.randn(2, 3)],
            TypeError,
            ["q", "torch.Tensor", "list"],
        ),
    ],
)
def test_bad_attention_inputs(args, error, words):
    with pytest.raises(error) as info:
        scaled_dot_product_attention(*args)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "mask,error,words",
    [
        (torch.ones(3, 4, dtype=torch.bool), ValueError, ["mask", "(2, 3, 5)", "(3, 4)"]),
        (torch.ones(3, 5, dtype=torch.long), TypeError, ["mask", "torch.bool", "torch.int64"]),
        ("causal", TypeError, ["mask", "torch.Tensor", "str"]),
    ],
)
def test_bad_masks(mask, error, words):
    q, k, v = _qkv((2, 3, 4), (2, 5, 4), (2, 5, 4))
    with pytest.raises(error) as info:
        scaled_dot_product_attention(q, k, v, mask)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "inputs,mask,error,words",
    [
        (
            (torch.randn(2, 3, 8), torch.randn(2, 4, 6), torch.randn(2, 4, 6)),
            None,
            ValueError,
            ["key", "d_model=8", "(2, 4, 6)"],
        ),
        (
            (torch.randn(2, 3, 8), torch.randn(3, 4, 8), torch.randn(3, 4, 8)),
            None,
            ValueError,
            ["batch size", "2, 3, 3"],
        ),
        (
            (torch.randn(2, 3, 8), torch.randn(2, 4, 8), torch.randn(2, 5, 8)),
            None,
            ValueError,
            ["value", "T_k=4"],
        ),
        ((torch.randn(3, 8),) * 3, None, ValueError, ["query", "3-D", "(3, 8)"]),
        (
            (torch.randn(2, 3, 8, dtype=torch.float64),) * 3,
            None,
            TypeError,
            ["query", "torch.float32", "torch.float64"],
        ),
        (
            (torch.randn(2, 3, 8),) * 3,
            torch.ones(5, dtype=torch.bool),
            ValueError,
            ["mask", "(T_q, T_k)", "(5,)"],
        ),
        (
            (torch.randn(2, 3, 8),) * 3,
            torch.ones(2, 3, 4, dtype=torch.bool),
            ValueError,
            ["mask", "(2, 2, 3, 3)", "(2, 1, 3, 4)"],
        ),
        (
            (torch.randn(2, 3, 8),) * 3,
            torch.ones(3, 3, dtype=torch.int32),
            TypeError,
            ["mask", "torch.bool", "torch.int32"],
        ),
    ],
)
def test_bad_multihead_inputs(inputs, mask, error, words):
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(error) as info:
        mha(*inputs, mask)
    for word in words:
        assert word in str(info.value)


def test_bad_tokens_and_positions():
    model = Transformer(
        TransformerConfig(
            10,
            10,
            d_model=8,
            num_heads=2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            d_ff=16,
            max_len=16,
        )
    )
    with pytest.raises(
        ValueError, match=r"src_tokens: expected token ids in \[0, 10\), got min 0 and max 12"
    ):
        model.encode(torch.tensor([[0, 12]]))
    with pytest.raises(
        TypeError, match="tgt_tokens: expected integer token ids, got dtype torch.float32"
    ):
        model.decode(torch.zeros(1, 2), torch.zeros(1, 2, 8))
    with pytest.raises(ValueError, match=r"src_tokens: expected shape \(B, T\), got \(3,\)"):
        model.encode(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="x: expected at most max_len=16 positions, got T=20"):
        PositionalEncoding(8, max_len=16)(torch.zeros(1, 20, 8))
    with pytest.raises(ValueError, match=r"tokens: expected shape \(B, T\), got \(4,\)"):
        padding_mask(torch.tensor([1, 2, 0, 0]), 0)


def test_from_torch_rejects_the_wrong_module():
    with pytest.raises(TypeError, match="expected torch.nn.MultiheadAttention, got Linear"):
        MultiHeadAttention.from_torch(torch.nn.Linear(2, 2))
    with pytest.raises(
        TypeError, match="expected torch.nn.TransformerEncoderLayer, got TransformerDecoderLayer"
    ):
        EncoderLayer.from_torch(torch.nn.TransformerDecoderLayer(8, 2))
