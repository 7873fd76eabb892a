"""Sequential vs parallel, measured where parallel hardware exists: RNN/LSTM vs self-attention.

The same measurement as ``attention-lab run sequential-vs-parallel`` (fused ``nn.RNN`` and
``nn.LSTM`` against one ``MultiHeadAttention`` self-attention layer, forward + backward, the
models interleaved, the median of the repeats), run on a GPU with larger sizes. On a GPU the
RNN's T sequential steps each launch small kernels that leave most of the chip idle, while the
attention layer is a few large matrix products: its wall time barely grows with T until the chip
is full, and it overtakes the recurrent layers in wall time.

    python benchmarks/rnn_vs_attention_gpu.py --json gpu.json --plot gpu.png          # a GPU
    python benchmarks/rnn_vs_attention_gpu.py --device cpu --lengths 16 64 --repeats 2  # a check

Prints one line per length and, at the end, the whole result as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

try:
    import attention_lab  # noqa: F401
except ImportError:  # run from a checkout without installing: use ../src
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from attention_lab.experiments.sequential import measure, summarize

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device, help=f"default: {default_device}")
    parser.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=None,
        help="sequence lengths T (default: 64 ... 16384 on a GPU, 16 ... 256 on a CPU)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--num-heads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    parser.add_argument("--plot", type=Path, default=None, help="write the figure here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device: expected an available device, got {args.device!r} (no CUDA)")
    if args.lengths is None:
        on_gpu = args.device.startswith("cuda")
        args.lengths = [2**k for k in (range(6, 15) if on_gpu else range(4, 9))]
    if min(args.lengths) < 1 or args.repeats < 1:
        parser.error(f"--lengths and --repeats: expected >= 1, got {args.lengths}, {args.repeats}")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        torch.backends.cuda.matmul.allow_tf32 = False  # the same arithmetic as the CPU run
    else:
        name = "cpu"
    stats = measure(
        args.lengths,
        batch_size=args.batch_size,
        d_model=args.d_model,
        num_heads=args.num_heads,
        repeats=args.repeats,
        seed=args.seed,
        device=device,
        dtype=DTYPES[args.dtype],
    )
    result = summarize(
        args.lengths,
        stats,
        batch_size=args.batch_size,
        d_model=args.d_model,
        num_heads=args.num_heads,
        repeats=args.repeats,
        device=f"{name} ({args.dtype})",
        seed=args.seed,
    )
    print(
        f"{result.device}: B={args.batch_size}, D={args.d_model}, H={args.num_heads}, "
        f"forward + backward, median of {args.repeats}"
    )
    print(f"{'T':>6} {'RNN ms':>9} {'LSTM ms':>9} {'attn ms':>9} {'LSTM/attn':>9}")
    for i, T in enumerate(result.lengths):
        rnn, lstm, attn = (
            1e3 * s[i] for s in (result.rnn_seconds, result.lstm_seconds, result.attention_seconds)
        )
        print(f"{T:>6} {rnn:>9.3f} {lstm:>9.3f} {attn:>9.3f} {lstm / attn:>9.2f}")
    data = result.to_dict()
    print(json.dumps(data))
    if args.json is not None:
        result.to_json(args.json)
    if args.plot is not None:
        result.plot().savefig(args.plot, dpi=120, bbox_inches="tight")
    return data


if __name__ == "__main__":
    main()
