"""GPU benchmark, one call: correctness against float64, then speed and memory.

Run on a CUDA machine (an H100 is the reference card):

    python benchmarks/gpu.py --json gpu-results.json

It checks our model against float64, times our training step against ``nn.Transformer`` at the
paper-base size in bf16 autocast (eagerly, then both through ``torch.compile``), times naive (readable) against fused attention as T grows with
peak memory, and reruns the RNN-vs-attention comparison of Lab 3.1. ``--device cpu --small`` runs
the same code at toy sizes, to check the script itself without a GPU (add ``--compile-backend
aot_eager`` there: inductor takes minutes to compile on a small CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from attention_lab import (
    PRESETS,
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    use_fast_attention,
    use_readable_attention,
)
from attention_lab.bench import matched_pair, training_flops


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: torch.device, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def correctness(device: torch.device) -> dict:
    """Max error of our Transformer in fp32 and bf16 autocast against the same weights in float64."""
    config = TransformerConfig(
        src_vocab_size=100,
        tgt_vocab_size=100,
        d_model=128,
        num_heads=8,
        num_encoder_layers=2,
        num_decoder_layers=2,
        d_ff=512,
        dropout=0.0,
    )
    torch.manual_seed(0)
    model = Transformer(config).to(device).eval()
    reference = Transformer(config).to(device).double().eval()
    reference.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    src = torch.randint(1, 100, (4, 33), device=device)
    tgt = torch.randint(1, 100, (4, 17), device=device)
    src_mask, tgt_mask = model.make_masks(src, tgt)
    with torch.no_grad():
        exact = reference(src, tgt, src_mask, tgt_mask)
        results = {}
        for name, fast in (("readable", False), ("fast", True)):
            (use_fast_attention if fast else use_readable_attention)(model)
            results[f"{name}_fp32_max_abs_err"] = (
                (model(src, tgt, src_mask, tgt_mask).double() - exact).abs().max().item()
            )
            with torch.autocast(device.type, dtype=torch.bfloat16):
                low = model(src, tgt, src_mask, tgt_mask)
            results[f"{name}_bf16_max_abs_err"] = (low.double() - exact).abs().max().item()
    results["logit_scale"] = exact.abs().max().item()
    return results


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int) -> float:
    a, b = (
        torch.randn(n, n, device=device, dtype=dtype),
        torch.randn(n, n, device=device, dtype=dtype),
    )
    return 2 * n**3 / timed(lambda: a @ b, device, repeats=20)


def training_step(
    device: torch.device,
    small: bool,
    compile_backend: str | None = None,
    compile_mode: str | None = None,
) -> dict:
    """Our step vs nn.Transformer, same weights, paper-base in bf16 autocast (B 64, T 128).

    Both run eagerly first; with ``compile_backend`` both are then also run through
    ``torch.compile`` (ours with ``fullgraph=True``: its fast path has no graph break), so every
    pairing can be read off: eager vs eager, compiled vs eager, compiled vs compiled.
    """
    # the paper's base model (Table 3), or the tiny preset to check the script on a CPU
    config = PRESETS["tiny"] if small else PRESETS["paper-base"]
    B, T = (4, 16) if small else (64, 128)
    ours, theirs = matched_pair(config)
    ours, theirs = ours.to(device), theirs.to(device)
    src = torch.randint(1, config.src_vocab_size, (B, T), device=device)
    tgt = torch.randint(1, config.tgt_vocab_size, (B, T + 1), device=device)
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    src_mask, tgt_mask = ours.make_masks(src, tgt_in)
    causal = nn.Transformer.generate_square_subsequent_mask(T, device=device)
    loss_fn = nn.CrossEntropyLoss()
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    repeats = 10 if small else 20
    variants = {
        "ours": (ours, lambda m: m(src, tgt_in, src_mask, tgt_mask)),
        "nn.Transformer": (theirs, lambda m: m(src, tgt_in, src == 0, causal)),
    }

    def time_steps(model: nn.Module, forward) -> tuple[float, float]:
        """(seconds of the first step, which includes any compiling; median seconds per step)"""
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda")

        def step() -> None:
            with torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda"):
                logits = forward(model)
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]).float(), tgt_out.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        start = time.perf_counter()
        step()
        sync(device)
        return time.perf_counter() - start, timed(step, device, repeats=repeats)

    results = {}
    for name, (model, forward) in variants.items():
        results[f"{name}_ms_per_step"] = 1000 * time_steps(model, forward)[1]
    if compile_backend:
        for name, (model, forward) in variants.items():
            try:
                compiled = torch.compile(
                    model, backend=compile_backend, mode=compile_mode, fullgraph=name == "ours"
                )
                first, median = time_steps(compiled, forward)
            except Exception as error:  # reported, so the eager numbers still come back
                results[f"{name}_compiled_error"] = f"{type(error).__name__}: {str(error)[:500]}"
                continue
            results[f"{name}_compiled_ms_per_step"] = 1000 * median
            results[f"{name}_compile_seconds"] = first
    flops = training_flops(config, B, T, T)
    peak = matmul_rate(device, dtype, 256 if small else 8192)
    results["matmul_tflops"] = peak / 1e12
    for name in ("ours", "nn.Transformer", "ours_compiled", "nn.Transformer_compiled"):
        if f"{name}_ms_per_step" in results:
            seconds = results[f"{name}_ms_per_step"] / 1000
            results[f"{name}_fraction_of_matmul_rate"] = flops / seconds / peak
    pairs = {
        "speedup_over_nn_transformer": ("nn.Transformer", "ours"),
        "compiled_speedup_over_nn_transformer": ("nn.Transformer", "ours_compiled"),
        "compiled_speedup_over_compiled_nn_transformer": (
            "nn.Transformer_compiled",
            "ours_compiled",
        ),
    }
    for key, (slow, fast) in pairs.items():
        if f"{slow}_ms_per_step" in results and f"{fast}_ms_per_step" in results:
            results[key] = results[f"{slow}_ms_per_step"] / results[f"{fast}_ms_per_step"]
    results["settings"] = (
        f"d_model {config.d_model}, {config.num_encoder_layers}+{config.num_decoder_layers} "
        f"layers, B {B}, T {T}, {dtype}, dropout {config.dropout}, fused AdamW on CUDA, "
        f"torch.compile backend {compile_backend or 'none'}, mode {compile_mode or 'default'}"
    )
    return results


def attention_scaling(device: torch.device, small: bool) -> list[dict]:
    """Readable (weights materialised) vs fused attention, forward+backward, causal, as T grows."""
    lengths = [64, 128] if small else [512, 1024, 2048, 4096, 8192]
    d_model, heads, B = (64, 4, 2) if small else (512, 8, 8)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    rows = []
    for T in lengths:
        row = {"T": T}
        for name, fast in (("naive", False), ("fast", True)):
            torch.manual_seed(0)
            mha = MultiHeadAttention(d_model, heads).to(device, dtype)
            mha = use_fast_attention(mha) if fast else mha
            x = torch.randn(B, T, d_model, device=device, dtype=dtype, requires_grad=True)
            mask = torch.ones(T, T, dtype=torch.bool, device=device).tril()
            if device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            try:
                row[f"{name}_ms"] = 1000 * timed(
                    lambda mha=mha, x=x, mask=mask: mha(x, x, x, mask).sum().backward(),
                    device,
                    repeats=10,
                )
                if device.type == "cuda":
                    row[f"{name}_peak_gb"] = torch.cuda.max_memory_allocated() / 1e9
            except torch.OutOfMemoryError:
                row[f"{name}_ms"] = None
                row[f"{name}_error"] = "out of memory"
            del mha, x
        if row.get("naive_ms") and row.get("fast_ms"):
            row["naive_over_fast"] = row["naive_ms"] / row["fast_ms"]
        rows.append(row)
    return rows


def rnn_vs_attention(device: torch.device, small: bool) -> dict:
    """Lab 3.1's comparison on this device (benchmarks/rnn_vs_attention_gpu.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rnn_vs_attention_gpu

    argv = ["--device", str(device), "--repeats", "2" if small else "10"]
    if small:
        argv += [
            "--lengths",
            "16",
            "32",
            "--batch-size",
            "2",
            "--d-model",
            "32",
            "--num-heads",
            "4",
        ]
    return rnn_vs_attention_gpu.main(argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--small", action="store_true", help="toy sizes (checks the script)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--compile-backend",
        default="inductor",
        help="torch.compile backend for the compiled training steps ('none' skips them)",
    )
    parser.add_argument(
        "--compile-mode",
        default=None,
        help="torch.compile mode for inductor, e.g. reduce-overhead (CUDA graphs: for a step "
        "that is bound by kernel launches rather than by the GPU's arithmetic)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    backend = None if args.compile_backend == "none" else args.compile_backend
    results = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "small": args.small,
    }
    for name, fn in (
        ("correctness", lambda: correctness(device)),
        ("training_step", lambda: training_step(device, args.small, backend, args.compile_mode)),
        ("attention_scaling", lambda: attention_scaling(device, args.small)),
        ("rnn_vs_attention", lambda: rnn_vs_attention(device, args.small)),
    ):
        start = time.perf_counter()
        results[name] = fn()
        print(
            f"{name} ({time.perf_counter() - start:.1f} s): {json.dumps(results[name])}", flush=True
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
