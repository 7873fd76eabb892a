"""benchmarks/gpu.py runs on a GPU machine; its parts are checked here on the CPU at toy sizes."""

import importlib.util
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_correctness_section_compares_against_float64():
    errors = _load().correctness(torch.device("cpu"))
    assert errors["readable_fp32_max_abs_err"] < 1e-4
    assert errors["fast_fp32_max_abs_err"] < 1e-4
    assert errors["readable_bf16_max_abs_err"] < 0.05 * errors["logit_scale"]


def test_rnn_and_attention_sections_run_at_toy_sizes():
    gpu = _load()
    rnn = gpu.rnn_vs_attention(torch.device("cpu"), small=True)
    assert rnn["lengths"] == [16, 32] and len(rnn["attention_seconds"]) == 2
    rows = gpu.attention_scaling(torch.device("cpu"), small=True)
    assert [row["T"] for row in rows] == [64, 128]
    assert all(row["naive_ms"] > 0 and row["fast_ms"] > 0 for row in rows)


def test_training_step_section_times_both_models_eager_and_compiled():
    # aot_eager traces exactly what inductor would (fullgraph for ours) without minutes of codegen
    step = _load().training_step(torch.device("cpu"), small=True, compile_backend="aot_eager")
    assert not [key for key in step if key.endswith("_error")], step
    for name in ("ours", "nn.Transformer", "ours_compiled", "nn.Transformer_compiled"):
        assert step[f"{name}_ms_per_step"] > 0
        assert step[f"{name}_fraction_of_matmul_rate"] > 0
    assert step["compiled_speedup_over_compiled_nn_transformer"] > 0
