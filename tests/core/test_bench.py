"""The benchmarks' mechanics (never their timings: those are measured by `attention-lab bench`)."""

from attention_lab import TransformerConfig
from attention_lab.bench import (
    bench_multihead,
    bench_training_step,
    check_same_training,
    compare,
    training_flops,
)


def test_both_sides_of_the_training_benchmark_compute_the_same_thing():
    assert check_same_training() < 1e-5


def test_compare_interleaves_and_reports_ratios():
    calls = []
    c = compare("x", lambda: calls.append("a"), lambda: calls.append("b"), repeats=4, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert c.ratio_min <= c.ratio_median <= c.ratio_max and c.repeats == 4


def test_benchmarks_run_at_tiny_sizes():
    comparisons = bench_multihead(B=1, T=8, d_model=16, num_heads=2, repeats=1)
    assert len(comparisons) == 3 and all(c.ours_seconds > 0 for c in comparisons)
    config = TransformerConfig(
        src_vocab_size=30,
        tgt_vocab_size=30,
        d_model=16,
        num_heads=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=32,
        dropout=0.0,
    )
    step, mfu = bench_training_step(config, B=2, S=5, T=4, repeats=1)
    assert step.target == 1.0 and 0 < mfu["fraction_of_matmul_rate"]


def test_flop_count_matches_a_hand_count():
    """One encoder and one decoder layer, D=2, d_ff=4, V=3, S=T=1, B=1, counted by hand."""
    config = TransformerConfig(
        src_vocab_size=3,
        tgt_vocab_size=3,
        d_model=2,
        num_heads=1,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=4,
    )
    enc = 2 * 4 * 4 + 2 * 2 * 2 * 4 + 4 * 2  # projections, feed-forward, scores+sum
    dec = 2 * 4 * 4 + (2 * 2 * 4 + 2 * 2 * 4) + 2 * 2 * 2 * 4 + 4 * 2 + 4 * 2
    out = 2 * 2 * 3
    assert training_flops(config, 1, 1, 1) == 3 * (enc + dec + out)
