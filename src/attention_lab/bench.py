"""Benchmarks: our code against torch's own, measured side by side in one process.

Method (the machines are shared and noisy): one thread unless threading is measured; the two sides
run interleaved A B A B ...; we report the median ratio A/B with its min and max. A ratio below 1
means ours is faster.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from attention_lab.nn.multihead import MultiHeadAttention, use_fast_attention
from attention_lab.nn.transformer import Transformer, TransformerConfig


@dataclass(frozen=True)
class Comparison:
    name: str  # what was compared
    ours_seconds: float  # median time of one call of ours
    theirs_seconds: float  # median time of one call of the reference
    ratio_median: float  # ours / theirs, median over the interleaved pairs
    ratio_min: float
    ratio_max: float
    repeats: int
    target: float | None = None  # the ratio we aim to stay at or under
    settings: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio_median <= self.target

    def to_dict(self) -> dict:
        return {**asdict(self), "met": self.met}


def compare(
    name: str,
    ours: Callable[[], object],
    theirs: Callable[[], object],
    *,
    repeats: int = 21,
    warmup: int = 3,
    target: float | None = None,
    settings: str = "",
) -> Comparison:
    """Time ``ours`` and ``theirs`` interleaved, ``repeats`` pairs after ``warmup`` pairs."""
    for _ in range(warmup):
        ours()
        theirs()
    ours_t, theirs_t = [], []
    for i in range(repeats):
        # alternate which side goes first, so neither always runs on a warmer cache
        order = (
            ((ours, ours_t), (theirs, theirs_t))
            if i % 2 == 0
            else ((theirs, theirs_t), (ours, ours_t))
        )
        for fn, times in order:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    ratios = [a / b for a, b in zip(ours_t, theirs_t, strict=True)]
    return Comparison(
        name,
        statistics.median(ours_t),
        statistics.median(theirs_t),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        repeats,
        target,
        settings,
    )


# --------------------------------------------------------------------------- attention


def _sdpa_reference(d_model: int, num_heads: int) -> nn.Module:
    """The shortest correct multi-head attention in torch: one packed projection + fused SDPA."""

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.out = nn.Linear(d_model, d_model)

        def forward(self, x: Tensor) -> Tensor:
            B, T, D = x.shape
            q, k, v = self.qkv(x).view(B, T, 3, num_heads, D // num_heads).permute(2, 0, 3, 1, 4)
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.out(y.transpose(1, 2).reshape(B, T, D))

    return Reference()


def bench_multihead(
    B: int = 8, T: int = 256, d_model: int = 512, num_heads: int = 8, repeats: int = 21
) -> list[Comparison]:
    """Forward+backward of causal self-attention: ours (fast and readable) vs torch's."""
    torch.manual_seed(0)
    x = torch.randn(B, T, d_model, requires_grad=True)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    fast = use_fast_attention(MultiHeadAttention(d_model, num_heads))
    readable = MultiHeadAttention(d_model, num_heads)
    torch_mha = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
    reference = _sdpa_reference(d_model, num_heads)
    torch_mask = ~mask

    def step(fn: Callable[[], Tensor]) -> Callable[[], None]:
        def run() -> None:
            fn().sum().backward()

        return run

    ours_fast = step(lambda: fast(x, x, x, mask))
    settings = f"B {B}, T {T}, d_model {d_model}, heads {num_heads}, causal, fp32, 1 thread"
    return [
        compare(
            "MultiHeadAttention fwd+bwd (fast path) vs SDPA reference",
            ours_fast,
            step(lambda: reference(x)),
            repeats=repeats,
            target=1.05,
            settings=settings,
        ),
        compare(
            "MultiHeadAttention fwd+bwd (fast path) vs nn.MultiheadAttention",
            ours_fast,
            step(lambda: torch_mha(x, x, x, attn_mask=torch_mask, need_weights=False)[0]),
            repeats=repeats,
            settings=settings,
        ),
        compare(
            "MultiHeadAttention fwd+bwd (readable path, weights kept) vs SDPA reference",
            step(lambda: readable(x, x, x, mask)),
            step(lambda: reference(x)),
            repeats=repeats,
            settings=settings,
        ),
    ]


# --------------------------------------------------------------------------- training step


class TorchSeq2Seq(nn.Module):
    """``nn.Transformer`` with the same embeddings, positional encoding and output layer as ours."""

    def __init__(self, ours: Transformer):
        super().__init__()
        c = ours.config
        self.ours = ours  # borrows embed_src / embed_tgt / generator (same weights)
        self.core = nn.Transformer(
            c.d_model,
            c.num_heads,
            c.num_encoder_layers,
            c.num_decoder_layers,
            c.d_ff,
            dropout=c.dropout,
            batch_first=True,
            norm_first=c.norm_first,
        )

    def forward(self, src: Tensor, tgt: Tensor, src_pad: Tensor, tgt_causal: Tensor) -> Tensor:
        hidden = self.core(
            self.ours.embed_src(src),
            self.ours.embed_tgt(tgt),
            tgt_mask=tgt_causal,
            src_key_padding_mask=src_pad,
            memory_key_padding_mask=src_pad,
        )
        return self.ours.generator(hidden)


def matched_pair(config: TransformerConfig, seed: int = 0) -> tuple[Transformer, TorchSeq2Seq]:
    """Our Transformer (fast path) and ``nn.Transformer`` with identical weights everywhere."""
    torch.manual_seed(seed)
    theirs = TorchSeq2Seq(Transformer(config))
    ours = Transformer.from_torch(theirs.core, config.src_vocab_size, config.tgt_vocab_size)
    shared = {
        k: v
        for k, v in theirs.ours.state_dict().items()
        if not k.startswith(("encoder.", "decoder."))
    }
    ours.load_state_dict(shared, strict=False)
    return use_fast_attention(ours), theirs


def training_flops(config: TransformerConfig, B: int, S: int, T: int) -> float:
    """FLOPs of one forward+backward, counted per matmul (forward x 3), as nanoGPT's estimate_mfu
    does (6 N per token for the weights, plus the attention's T x T products)."""
    D, F, V = config.d_model, config.d_ff, config.tgt_vocab_size
    enc = config.num_encoder_layers * (2 * S * 4 * D * D + 2 * S * 2 * D * F + 4 * S * S * D)
    dec = config.num_decoder_layers * (
        2 * T * 4 * D * D  # self-attention projections
        + 2 * T * 2 * D * D
        + 2 * S * 2 * D * D  # cross-attention: q, o on T; k, v on S
        + 2 * T * 2 * D * F  # feed-forward
        + 4 * T * T * D
        + 4 * T * S * D  # scores and weighted sums
    )
    return 3.0 * B * (enc + dec + 2 * T * D * V)


def matmul_flops_per_second(n: int = 1024, repeats: int = 5) -> float:
    """The machine's fp32 matmul rate, measured now (the ceiling for the MFU ratio)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times)


def bench_training_step(
    config: TransformerConfig | None = None,
    B: int = 16,
    S: int = 32,
    T: int = 32,
    repeats: int = 11,
) -> tuple[Comparison, dict]:
    """One AdamW step of our Transformer vs ``nn.Transformer`` with the same weights and config."""
    if config is None:
        config = TransformerConfig(
            src_vocab_size=1000,
            tgt_vocab_size=1000,
            d_model=256,
            num_heads=8,
            num_encoder_layers=2,
            num_decoder_layers=2,
            d_ff=1024,
            dropout=0.0,
        )
    ours, theirs = matched_pair(config)

    src = torch.randint(1, config.src_vocab_size, (B, S))
    tgt = torch.randint(1, config.tgt_vocab_size, (B, T + 1))
    src[: B // 4, S - S // 4 :] = config.pad_id  # a quarter of the batch is padded
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    src_mask, tgt_mask = ours.make_masks(src, tgt_in)
    causal_float = nn.Transformer.generate_square_subsequent_mask(T)
    loss_fn = nn.CrossEntropyLoss(ignore_index=config.pad_id)
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-4)

    def step_ours() -> None:
        logits = ours(src, tgt_in, src_mask, tgt_mask)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()

    def step_theirs() -> None:
        logits = theirs(src, tgt_in, src == config.pad_id, causal_float)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        opt_theirs.zero_grad(set_to_none=True)
        loss.backward()
        opt_theirs.step()

    settings = (
        f"d_model {config.d_model}, heads {config.num_heads}, layers "
        f"{config.num_encoder_layers}+{config.num_decoder_layers}, d_ff {config.d_ff}, vocab "
        f"{config.tgt_vocab_size}, B {B}, S {S}, T {T}, AdamW, fp32, 1 thread"
    )
    comparison = compare(
        "Transformer training step vs nn.Transformer",
        step_ours,
        step_theirs,
        repeats=repeats,
        target=1.0,
        settings=settings,
    )
    flops = training_flops(config, B, S, T)
    peak = matmul_flops_per_second()
    achieved = flops / comparison.ours_seconds
    mfu = {
        "step_flops": flops,
        "achieved_flops_per_second": achieved,
        "matmul_flops_per_second": peak,
        "fraction_of_matmul_rate": achieved / peak,
        "torch_fraction_of_matmul_rate": flops / comparison.theirs_seconds / peak,
    }
    return comparison, mfu


def check_same_training(config: TransformerConfig | None = None, steps: int = 3) -> float:
    """Largest logit difference after ``steps`` identical SGD steps of ours and nn.Transformer.

    The benchmark is only fair if both sides compute the same thing; this checks they do.
    """
    config = config or TransformerConfig(
        src_vocab_size=50,
        tgt_vocab_size=50,
        d_model=32,
        num_heads=4,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=64,
        dropout=0.0,
    )
    ours, theirs = matched_pair(config)
    src = torch.randint(1, 50, (4, 7))
    tgt = torch.randint(1, 50, (4, 6))
    src_mask, tgt_mask = ours.make_masks(src, tgt)
    opt_a = torch.optim.SGD(ours.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1)
    causal = nn.Transformer.generate_square_subsequent_mask(6)
    for _ in range(steps):
        for opt, logits_fn in (
            (opt_a, lambda: ours(src, tgt, src_mask, tgt_mask)),
            (opt_b, lambda: theirs(src, tgt, src == 0, causal)),
        ):
            opt.zero_grad()
            logits_fn().logsumexp(-1).mean().backward()
            opt.step()
    with torch.no_grad():
        a = ours(src, tgt, src_mask, tgt_mask)
        b = theirs(src, tgt, src == 0, causal)
    return (a - b).abs().max().item()


# --------------------------------------------------------------------------- end to end


def bench_translation(seed: int = 0) -> dict:
    """Time to >= 99% held-out exact match on the number-translation task (quick settings).

    The quick run stops as soon as every validation number is translated exactly; the held-out
    test numbers, never seen in training, are scored after.
    """
    from attention_lab.experiments import translation

    result = translation.run(quick=True, seed=seed, progress=False)
    return {
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "exact_match": result.exact_match,
        "steps": result.steps,
        "peak_memory_mb": result.peak_memory_mb,
        "target": "exact_match >= 0.99 within 90 s; peak memory <= 1024 MB",
        "met": result.exact_match >= 0.99
        and result.seconds <= 90
        and result.peak_memory_mb <= 1024,
        "seed": seed,
    }


def bench_course_build(lessons_dir: str | None = None) -> dict:
    """A cold build of the course (empty cache) and a warm rebuild with nothing changed.

    ``lessons_dir`` defaults to the lessons shipped in the package.
    """
    import tempfile
    from pathlib import Path

    from attention_lab.course.lessons import LESSONS_DIR
    from attention_lab.course.site import build, cpu_jobs

    lessons_dir = lessons_dir or LESSONS_DIR
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("cold", "warm"):
            start = time.perf_counter()
            build(lessons_dir, Path(tmp) / "site", cache_dir=Path(tmp) / "cache", jobs=cpu_jobs())
            times[f"{name}_seconds"] = time.perf_counter() - start
    times["target"] = "cold <= 360 s, warm <= 30 s"
    times["met"] = times["cold_seconds"] <= 360 and times["warm_seconds"] <= 30
    return times
