#!/usr/bin/env bash
# The numerically sensitive tests again, under the kernels other CPUs would get.
#
# torch picks its own vectorised kernels by CPU (ATEN_CPU_CAPABILITY=default|avx2|avx512), its
# matrix products come from MKL on x86 (MKL_ENABLE_INSTRUCTIONS, MKL_CBWR), numpy's from OpenBLAS
# (OPENBLAS_CORETYPE), and the thread count changes how sums are split. Each changes the order in
# which sums are added, so each can move a result by a few units of rounding: a tolerance that
# follows from the arithmetic (docs/numerics.md) holds under all of them. avx512 is forced only
# where the CPU has it (torch falls back silently otherwise, which would test nothing new).
# Every run first prints what it got and a fingerprint of a few float32 results: different
# fingerprints show that the setting really changed the kernels.
#
# Usage: bash scripts/test-kernels.sh [extra pytest arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

TESTS=(
    tests/core/test_attention.py
    tests/core/test_multihead.py
    tests/core/test_blocks_and_transformer.py
    tests/core/test_properties.py
    tests/core/test_cli_core.py
    tests/pretrained/test_pretrained_equality.py
    tests/pretrained/test_pretrained_bert.py
    tests/pretrained/test_pretrained_gpt.py
    tests/pretrained/test_pretrained_explorer_server.py
    tests/pretrained/test_pretrained_explorer_gpt.py
    tests/pretrained/test_pretrained_summaries.py
    tests/pretrained/test_pretrained_lesson.py
    tests/lab34/test_lab34_correct.py
    tests/lab34/test_lab34_diagnoses.py
    tests/lab34/test_lab34_lesson.py
    tests/lab32/test_handcalc.py
    tests/lab31/test_rnn.py
    tests/lab33/test_trace.py
    tests/lab33/test_masking.py
    tests/lab33/test_positional.py
)

# `make test` itself runs the native kernels with one thread. MKL ignores MKL_ENABLE_INSTRUCTIONS on
# some AMD CPUs (the fingerprint's matrix product then matches the native one), so it rides along
# with the avx2 run instead of taking a run of its own.
SETTINGS=(
    "ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 OPENBLAS_CORETYPE=Nehalem"
    "ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=SSE4_2 OMP_NUM_THREADS=2"
    "ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=2"
)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    SETTINGS+=("ATEN_CPU_CAPABILITY=avx512 OMP_NUM_THREADS=2")
else
    echo "note: this CPU has no AVX-512; ATEN_CPU_CAPABILITY=avx512 is not run here"
fi

fingerprint='
import os, hashlib, numpy as np, torch
torch.manual_seed(0)
a = torch.randn(300, 300)
results = [a @ a, torch.softmax(a, -1), torch.exp(a).sum(-1), torch.nn.functional.gelu(a)]
digest = hashlib.sha256(b"".join(r.numpy().tobytes() for r in results)).hexdigest()[:12]
n = np.random.default_rng(0).standard_normal((300, 300))
print(f"  torch capability {torch.backends.cpu.get_cpu_capability()}, MKL "
      f"{torch.backends.mkl.is_available()}, threads {torch.get_num_threads()}; "
      f"float32 fingerprint {digest}, numpy {hashlib.sha256((n @ n).tobytes()).hexdigest()[:12]}")
'

echo "== native (what make test ran)"
OMP_NUM_THREADS=1 .venv/bin/python -c "$fingerprint"
failed=()
for setting in "${SETTINGS[@]}"; do
    echo "== $setting"
    env $setting .venv/bin/python -c "$fingerprint"
    if ! env $setting bash scripts/run-tests.sh -q -m "not slow and not browser" \
        -k "not compiles" "${TESTS[@]}" "$@"; then
        failed+=("$setting")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    printf 'numerical tests failed under: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "numerical tests passed under all ${#SETTINGS[@]} kernel settings"
