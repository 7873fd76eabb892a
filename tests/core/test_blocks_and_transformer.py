"""Blocks, stacks and the whole model against torch's nn.Transformer family, with copied weights."""

import copy

import pytest
import torch
from references import MAGNITUDE, assert_matches_torch
from torch import nn

from attention_lab import (
    PRESETS,
    Decoder,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    FeedForward,
    PositionalEncoding,
    Transformer,
    TransformerConfig,
    causal_mask,
    greedy_decode,
    padding_mask,
    sinusoidal_positional_encoding,
)
from attention_lab.nn.transformer import count_parameters
from attention_lab.numerics import rounding_bound

VARIANTS = [(nf, act) for nf in (False, True) for act in ("relu", "gelu")]
IDS = [f"{'pre' if nf else 'post'}-{act}" for nf, act in VARIANTS]


def _keep(B, T):
    return torch.arange(T)[None, :] < torch.randint(1, T + 1, (B,))[:, None]


@pytest.mark.parametrize("norm_first,activation", VARIANTS, ids=IDS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    layer = nn.TransformerEncoderLayer(
        32,
        4,
        64,
        dropout=0.0,
        activation=activation,
        norm_first=norm_first,
        batch_first=batch_first,
    ).eval()
    x, keep = torch.randn(3, 9, 32), _keep(3, 9)

    def run(dtype):
        theirs = copy.deepcopy(layer).to(dtype)
        xd = x.to(dtype)
        torch_x = xd if batch_first else xd.transpose(0, 1)
        expected = theirs(torch_x, src_key_padding_mask=~keep)
        expected = expected if batch_first else expected.transpose(0, 1)
        return EncoderLayer.from_torch(theirs).eval()(xd, padding_mask(keep.long(), 0)), expected

    # only real positions: a padding position's output feeds nothing (docs/numerics.md);
    # terms: in-projection 32, q.k 8, weights.v 9, out-projection 32, feed-forward 32 + 64,
    # two LayerNorms 2 * 32
    assert_matches_torch(run, terms=241, where=keep[:, :, None])


@pytest.mark.parametrize("norm_first,activation", VARIANTS, ids=IDS)
def test_decoder_layer_matches_torch(norm_first, activation):
    layer = nn.TransformerDecoderLayer(
        32, 4, 64, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True
    ).eval()
    y, memory, keep = torch.randn(2, 6, 32), torch.randn(2, 8, 32), _keep(2, 8)

    def run(dtype):
        theirs = copy.deepcopy(layer).to(dtype)
        yd, md = y.to(dtype), memory.to(dtype)
        expected = theirs(
            yd,
            md,
            tgt_mask=nn.Transformer.generate_square_subsequent_mask(6, dtype=dtype),
            memory_key_padding_mask=~keep,
        )
        ours = DecoderLayer.from_torch(theirs).eval()
        return ours(yd, md, causal_mask(6), keep[:, None, None, :]), expected

    # terms: self-attention 32 + 8 + 6 + 32, cross-attention 32 + 8 + 8 + 32, feed-forward
    # 32 + 64, three LayerNorms 3 * 32
    assert_matches_torch(run, terms=390)


def test_float64_layers_match_within_the_rounding_bound():
    enc = nn.TransformerEncoderLayer(
        16, 2, 32, dropout=0.0, batch_first=True, dtype=torch.float64
    ).eval()
    dec = nn.TransformerDecoderLayer(
        16, 2, 32, dropout=0.0, batch_first=True, dtype=torch.float64
    ).eval()
    x, y = torch.randn(2, 5, 16, dtype=torch.float64), torch.randn(2, 4, 16, dtype=torch.float64)
    # longest chains: encoder layer 16 + 8 + 5 + 16 + 2 * 16 + 16 + 32 = 125 terms, decoder layer
    # (self- and cross-attention, three LayerNorms) 16 + 8 + 4 + 16 + 16 + 8 + 5 + 16 + 48 + 48 = 185
    tol = rounding_bound(200, torch.float64, MAGNITUDE)
    torch.testing.assert_close(EncoderLayer.from_torch(enc).eval()(x), enc(x), atol=tol, rtol=0)
    expected = dec(
        y, x, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    )
    torch.testing.assert_close(
        DecoderLayer.from_torch(dec).eval()(y, x, causal_mask(4)), expected, atol=tol, rtol=0
    )


@pytest.mark.parametrize("with_norm", [True, False])
def test_stacks_match_torch(with_norm):
    norm = nn.LayerNorm(32) if with_norm else None
    enc = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True),
        3,
        norm=norm,
        enable_nested_tensor=False,
    ).eval()
    dec = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True),
        2,
        norm=nn.LayerNorm(32) if with_norm else None,
    ).eval()
    x, y, keep = torch.randn(2, 7, 32), torch.randn(2, 5, 32), _keep(2, 7)
    assert (Encoder.from_torch(enc).norm is None) == (not with_norm)
    memories = {}

    def run_encoder(dtype):
        theirs = copy.deepcopy(enc).to(dtype)
        memories[dtype] = theirs(x.to(dtype), src_key_padding_mask=~keep)
        ours = Encoder.from_torch(theirs).eval()
        return ours(x.to(dtype), keep[:, None, None, :]), memories[dtype]

    def run_decoder(dtype):
        theirs = copy.deepcopy(dec).to(dtype)
        args = (y.to(dtype), memories[dtype])
        expected = theirs(
            *args,
            tgt_mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype),
            memory_key_padding_mask=~keep,
        )
        ours = Decoder.from_torch(theirs).eval()
        return ours(*args, causal_mask(5), keep[:, None, None, :]), expected

    # only real positions: the decoder never attends to padding memory (docs/numerics.md);
    # terms: 3 encoder layers of 241 + norm 32, then the decoder on top: 2 layers of 390 + 32
    assert_matches_torch(run_encoder, terms=755, where=keep[:, :, None], what="encoder")
    assert_matches_torch(run_decoder, terms=755 + 812, what="decoder")


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_from_torch_matches_nn_transformer(norm_first):
    reference = nn.Transformer(
        32, 4, 2, 2, 64, dropout=0.0, batch_first=True, norm_first=norm_first
    ).eval()
    model = Transformer.from_torch(reference, src_vocab=20, tgt_vocab=17).eval()
    src = torch.randint(1, 20, (3, 8))
    src[0, 6:] = 0  # padding
    tgt = torch.randint(1, 17, (3, 6))
    src_mask, tgt_mask = model.make_masks(src, tgt)

    def run(dtype):
        theirs, ours = copy.deepcopy(reference).to(dtype), copy.deepcopy(model).to(dtype)
        expected = ours.generator(
            theirs(
                ours.embed_src(src),
                ours.embed_tgt(tgt),
                tgt_mask=nn.Transformer.generate_square_subsequent_mask(6, dtype=dtype),
                src_key_padding_mask=src == 0,
                memory_key_padding_mask=src == 0,
                tgt_key_padding_mask=tgt == 0,
            )
        )
        return ours(src, tgt, src_mask, tgt_mask), expected

    # terms: 2 encoder layers of 241, 2 decoder layers of 390, final norms 2 * 32, generator 32
    assert_matches_torch(run, terms=1358)


def test_embeddings_are_scaled_by_sqrt_d_model_and_positionally_encoded():
    model = Transformer(PRESETS["tiny"]).eval()
    tokens = torch.tensor([[3, 3, 5]])
    expected = model.src_embed(tokens) * 64**0.5 + sinusoidal_positional_encoding(3, 64)
    torch.testing.assert_close(model.embed_src(tokens), expected)


def test_shared_embeddings_are_one_tensor():
    config = TransformerConfig(
        src_vocab_size=50,
        tgt_vocab_size=50,
        d_model=16,
        num_heads=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=32,
        share_embeddings=True,
    )
    model = Transformer(config)
    assert model.src_embed.weight is model.tgt_embed.weight is model.generator.weight
    assert count_parameters(model)["embeddings"] == 50 * 16


def test_paper_configurations_parameter_counts():
    """Table 3 reports 65M and 213M; ours, counted from section 3, are within 3%."""
    with torch.device("meta"):  # shapes only: no memory, no time
        base = count_parameters(Transformer(PRESETS["paper-base"]))["total"]
        big = count_parameters(Transformer(PRESETS["paper-big"]))["total"]
    assert base == 63_119_496
    assert big == 214_282_376
    assert abs(base - 65e6) / 65e6 < 0.03 and abs(big - 213e6) / 213e6 < 0.01


def test_greedy_decode_copies_with_a_model_that_copies():
    """A decoder whose output layer is rigged to repeat the source shows the loop's bookkeeping."""
    torch.manual_seed(0)
    config = TransformerConfig(
        src_vocab_size=12,
        tgt_vocab_size=12,
        d_model=16,
        num_heads=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=32,
        dropout=0.0,
    )
    model = Transformer(config)
    out = greedy_decode(model, torch.tensor([[4, 5, 6], [7, 8, 0]]), max_len=6, bos_id=1, eos_id=2)
    assert out.shape[0] == 2 and out.shape[1] <= 6
    assert (out[:, 0] == 1).all()
    # decoding one step at a time equals the argmax of teacher forcing on its own output
    src = torch.tensor([[4, 5, 6]])
    memory = model.eval().encode(src, padding_mask(src, 0))
    logits = model.decode(out[:1, :-1], memory, causal_mask(out.shape[1] - 1), padding_mask(src, 0))
    finished = (out[0, 1:] == 2).cumsum(0) > 0
    steps = logits[0].argmax(-1)
    first_pad = int(finished.long().argmax()) + 1 if finished.any() else len(steps)
    assert torch.equal(steps[:first_pad], out[0, 1 : first_pad + 1])


def test_causal_mask_stops_the_future_leaking():
    model = Transformer(PRESETS["tiny"]).eval()
    src = torch.randint(1, 64, (1, 5))
    tgt = torch.randint(1, 64, (1, 6))
    changed = tgt.clone()
    changed[0, 4:] = (changed[0, 4:] + 7) % 63 + 1
    a = model(src, tgt, None, causal_mask(6))
    b = model(src, changed, None, causal_mask(6))
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])
    assert not torch.allclose(model(src, tgt)[:, :4], model(src, changed)[:, :4])


def test_padding_is_ignored():
    model = Transformer(PRESETS["tiny"]).eval()
    src = torch.tensor([[5, 6, 7, 0, 0]])
    other_pad = torch.tensor([[5, 6, 7, 9, 11]])  # junk where the padding was, masked out
    tgt = torch.tensor([[1, 4, 4]])
    mask = torch.tensor([[True, True, True, False, False]])[:, None, None, :]
    torch.testing.assert_close(
        model(src, tgt, mask, causal_mask(3)), model(other_pad, tgt, mask, causal_mask(3))
    )
    torch.testing.assert_close(
        model(src, tgt, mask, causal_mask(3)), model(src[:, :3], tgt, None, causal_mask(3))
    )


def test_positional_encoding_values_and_module():
    pe = sinusoidal_positional_encoding(50, 8, dtype=torch.float64)
    assert pe[0].tolist() == [0.0, 1.0] * 4
    torch.testing.assert_close(
        pe[7, 2],
        torch.tensor(
            torch.sin(torch.tensor(7 / 10000 ** (2 / 8), dtype=torch.float64)).item(),
            dtype=torch.float64,
        ),
    )
    x = torch.zeros(2, 10, 8)
    torch.testing.assert_close(PositionalEncoding(8)(x), pe[:10].float().expand(2, 10, 8))


def test_feed_forward_is_position_wise():
    ff = FeedForward(8, 32)
    x = torch.randn(2, 5, 8)
    torch.testing.assert_close(ff(x)[:, 3], ff(x[:, 3:4])[:, 0])


def test_fast_path_compiles_as_one_graph_and_matches_eager():
    """No value-dependent branch on the training path: nothing makes a GPU wait for the CPU, and
    torch.compile(fullgraph=True) traces the whole forward and backward (aot_eager: same tracing
    as inductor, without its code generation)."""
    from attention_lab import use_fast_attention

    torch.manual_seed(0)
    # float64, so that the comparison below is decided by the rounding bound (docs/numerics.md)
    model = use_fast_attention(Transformer(PRESETS["tiny"]).eval()).double()
    src = torch.randint(1, 50, (3, 9))
    src[0, 6:] = 0  # padding, so the masks are not all True
    tgt = torch.randint(1, 50, (3, 7))
    masks = model.make_masks(src, tgt)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    eager_out = model(src, tgt, *masks)
    eager_out.square().mean().backward()
    eager_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    compiled_out = compiled(src, tgt, *masks)
    compiled_out.square().mean().backward()
    # each run within gamma_n * MAGNITUDE of exact, n = the longest chain: under 3000 terms
    # forward in the tiny preset (test_multihead counts them), as many again backward
    tol = 2 * rounding_bound(2 * 3000, torch.float64, MAGNITUDE)
    torch.testing.assert_close(compiled_out, eager_out, atol=tol, rtol=0)
    for p, expected in zip(model.parameters(), eager_grads, strict=True):
        torch.testing.assert_close(p.grad, expected, atol=tol, rtol=0)
    torch._dynamo.reset()
