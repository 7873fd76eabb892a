"""Check every from-scratch component against its counterpart in torch, with copied weights.

``attention-lab verify`` prints the table; ``run_checks()`` returns it for tests and notebooks.
Both sides run in float64: there every summation order a CPU may pick (vector width, BLAS
blocking, threads) stays orders of magnitude inside the tolerance, so the verdict is the same on
every machine, while a wrong formula, a missing scale or a weight off by 1e-8 fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.nn.attention import scaled_dot_product_attention
from attention_lab.nn.blocks import DecoderLayer, EncoderLayer
from attention_lab.nn.masks import causal_mask
from attention_lab.nn.multihead import MultiHeadAttention
from attention_lab.nn.transformer import Decoder, Encoder, Transformer
from attention_lab.numerics import rounding_bound

# Rounding bound (attention_lab.numerics): the longest chain of accumulated terms here is under
# 4096 (the Transformer: 2 + 2 layers of D = 32, d_ff = 64, about 1200 terms), each sum's |terms|
# add up to under 1e3 (inputs below 6 in size, weights below 1, at most 64 terms): float64 results
# agree to gamma_4096 * 1e3 = 4.5e-10 (measured: about 2e-15).
DTYPE = torch.float64
ATOL = rounding_bound(4096, DTYPE, 1e3)


@dataclass(frozen=True)
class Check:
    component: str  # what was compared
    case: str  # masks / variant
    max_abs_diff: float
    passed: bool


def _compare(component: str, case: str, ours: Tensor, theirs: Tensor, atol: float = ATOL) -> Check:
    diff = (ours.double() - theirs.double()).abs().max().item()
    same_nan = torch.equal(torch.isnan(ours), torch.isnan(theirs))
    return Check(component, case, diff, bool(diff <= atol and same_nan))


def _key_padding(B: int, T: int, generator: torch.Generator) -> Tensor:
    """Bool (B, T), True = real token; every sequence keeps at least one real token."""
    lengths = torch.randint(1, T + 1, (B,), generator=generator)
    return torch.arange(T)[None, :] < lengths[:, None]


def run_checks(seed: int = 0) -> list[Check]:
    """Build each component and torch's, copy weights, run both on random inputs, compare.

    Everything is built and run in float64 (``DTYPE``); the default dtype is restored after."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    try:
        return _run_checks(seed)
    finally:
        torch.set_default_dtype(previous)


def _run_checks(seed: int) -> list[Check]:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    B, S, T, D, H, d_ff = 3, 7, 5, 32, 4, 64
    x = torch.randn(B, S, D, generator=g)
    y = torch.randn(B, T, D, generator=g)
    keep = _key_padding(B, S, g)  # (B, S) True = real
    checks: list[Check] = []

    # scaled dot-product attention vs F.scaled_dot_product_attention
    q, k, v = (torch.randn(B, H, n, 8, generator=g) for n in (T, S, S))
    masks: dict[str, Tensor | None] = {
        "no mask": None,
        "causal": torch.ones(T, S, dtype=torch.bool).tril(),
        "padding": keep[:, None, None, :],
        "fully masked row": torch.ones(T, S, dtype=torch.bool)
        .tril()
        .index_fill(0, torch.tensor([0]), False),
        "float mask": torch.randn(T, S, generator=g),
    }
    for name, mask in masks.items():
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        checks.append(
            _compare(
                "scaled_dot_product_attention",
                name,
                out,
                F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
            )
        )

    # multi-head attention vs nn.MultiheadAttention (torch's bool masks mean "blocked": invert)
    mha = nn.MultiheadAttention(D, H, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(mha).eval()
    cases: dict[str, tuple[Tensor | None, dict]] = {
        "no mask": (None, {}),
        "causal": (
            torch.ones(T, S, dtype=torch.bool).tril(),
            {"attn_mask": ~torch.ones(T, S, dtype=torch.bool).tril()},
        ),
        "padding": (keep[:, None, None, :], {"key_padding_mask": ~keep}),
    }
    for name, (mask, torch_kwargs) in cases.items():
        theirs, their_w = mha(
            y, x, x, need_weights=True, average_attn_weights=False, **torch_kwargs
        )
        checks.append(_compare("MultiHeadAttention", name, ours(y, x, x, mask), theirs))
        checks.append(_compare("MultiHeadAttention weights", name, ours.attn_weights, their_w))

    # blocks and stacks in all four variants
    for norm_first in (False, True):
        for activation in ("relu", "gelu"):
            variant = f"{'pre' if norm_first else 'post'}-norm {activation}"
            kwargs = dict(
                dim_feedforward=d_ff,
                dropout=0.0,
                activation=activation,
                batch_first=True,
                norm_first=norm_first,
            )
            enc = nn.TransformerEncoderLayer(D, H, **kwargs).eval()
            checks.append(
                _compare(
                    "EncoderLayer",
                    variant + ", padding",
                    EncoderLayer.from_torch(enc).eval()(x, keep[:, None, None, :]),
                    enc(x, src_key_padding_mask=~keep),
                )
            )
            dec = nn.TransformerDecoderLayer(D, H, **kwargs).eval()
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(T)
            checks.append(
                _compare(
                    "DecoderLayer",
                    variant + ", causal+padding",
                    DecoderLayer.from_torch(dec).eval()(
                        y, x, causal_mask(T), keep[:, None, None, :]
                    ),
                    dec(y, x, tgt_mask=tgt_mask, memory_key_padding_mask=~keep),
                )
            )
    stack_kwargs = dict(dim_feedforward=d_ff, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, H, **stack_kwargs),
        2,
        norm=nn.LayerNorm(D),
        enable_nested_tensor=False,
    ).eval()
    checks.append(
        _compare(
            "Encoder",
            "2 layers + norm, padding",
            Encoder.from_torch(encoder).eval()(x, keep[:, None, None, :]),
            encoder(x, src_key_padding_mask=~keep),
        )
    )
    decoder = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(D, H, **stack_kwargs), 2, norm=nn.LayerNorm(D)
    ).eval()
    checks.append(
        _compare(
            "Decoder",
            "2 layers + norm, causal",
            Decoder.from_torch(decoder).eval()(y, x, causal_mask(T)),
            decoder(y, x, tgt_mask=nn.Transformer.generate_square_subsequent_mask(T)),
        )
    )

    # the whole model: torch's nn.Transformer has no embeddings, so feed it ours
    reference = nn.Transformer(D, H, 2, 2, d_ff, dropout=0.0, batch_first=True).eval()
    model = Transformer.from_torch(reference, 11, 13).eval()
    src = torch.randint(1, 11, (B, S), generator=g)
    tgt = torch.randint(1, 13, (B, T), generator=g)
    theirs = model.generator(
        reference(
            model.embed_src(src),
            model.embed_tgt(tgt),
            tgt_mask=nn.Transformer.generate_square_subsequent_mask(T),
        )
    )
    checks.append(
        _compare("Transformer", "logits, causal", model(src, tgt, None, causal_mask(T)), theirs)
    )
    return checks


def all_passed(checks: list[Check]) -> bool:
    return all(c.passed for c in checks)
