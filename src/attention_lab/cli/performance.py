"""`attention-lab bench`: our code against torch's own, timed side by side in one run."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from attention_lab.cli._extras import require
from attention_lab.cli._paths import output_file


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def bench(
    json_path: Path | None = typer.Option(
        None, "--json", callback=output_file, help="Write every number measured here."
    ),
    quick: bool = typer.Option(False, "--quick", help="Fewer repeats (noisier, about a minute)."),
    threads: int = typer.Option(1, "--threads", min=1, help="torch CPU threads."),
    translation: bool = typer.Option(
        False, "--translation", help="Also time the translator to 99% held-out exact match."
    ),
    course: bool = typer.Option(
        False, "--course", help="Also time a cold and a warm course build."
    ),
) -> None:
    """Time our attention and training step against torch's, interleaved, median of ratios."""
    import torch

    from attention_lab import bench as b

    torch.set_num_threads(threads)
    console = Console()
    repeats = 7 if quick else 21
    results: dict = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} thread(s), torch {torch.__version__}",
    }
    with console.status("checking both sides compute the same thing..."):
        results["same_training_max_abs_diff"] = b.check_same_training()
    with console.status("multi-head attention forward+backward..."):
        comparisons = b.bench_multihead(repeats=repeats)
    with console.status("training step..."):
        step, mfu = b.bench_training_step(repeats=max(5, repeats // 2))
    comparisons.append(step)
    results["comparisons"] = [c.to_dict() for c in comparisons]
    results["flop_rate"] = mfu

    table = Table(
        title=f"ours / torch (median of {repeats} interleaved pairs; < 1 means ours is faster)"
    )
    for column in ("comparison", "median", "min", "max", "target", "met"):
        table.add_column(column)
    for c in comparisons:
        met = "" if c.met is None else ("[green]yes[/green]" if c.met else "[red]no[/red]")
        target = "" if c.target is None else f"<= {c.target:.2f}"
        table.add_row(
            c.name, f"{c.ratio_median:.3f}", f"{c.ratio_min:.3f}", f"{c.ratio_max:.3f}", target, met
        )
    console.print(table)
    console.print(f"settings: {comparisons[0].settings}; training: {step.settings}")
    console.print(
        f"training step: {mfu['achieved_flops_per_second'] / 1e9:.1f} GFLOP/s = "
        f"{100 * mfu['fraction_of_matmul_rate']:.0f}% of this machine's matmul rate "
        f"({mfu['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s, measured now); nn.Transformer: "
        f"{100 * mfu['torch_fraction_of_matmul_rate']:.0f}%"
    )
    console.print(
        f"both sides agree after 3 SGD steps to {results['same_training_max_abs_diff']:.1e}"
    )
    if translation:
        with console.status("training the number translator (quick settings)..."):
            results["translation"] = t = b.bench_translation()
        console.print(
            f"translation: {t['exact_match']:.1%} held-out exact match after {t['steps']} steps in "
            f"{t['seconds']:.1f} s ({t['cpu_seconds']:.1f} s CPU), peak memory "
            f"{t['peak_memory_mb']:.0f} MB; target {t['target']}: {'met' if t['met'] else 'MISSED'}"
        )
    if course:
        require("course", "bench --course")
        from attention_lab.assessment.bank import load_questions
        from attention_lab.course.bench import bench_course_build
        from attention_lab.course.coverage import quiz_questions

        with console.status("building the course twice (cold, then warm)..."):
            questions = quiz_questions(load_questions())
            results["course_build"] = c = bench_course_build(questions=questions)
        console.print(
            f"course build: cold {c['cold_seconds']:.0f} s, warm {c['warm_seconds']:.1f} s; "
            f"target {c['target']}: {'met' if c['met'] else 'MISSED'}"
        )
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"wrote {json_path}", markup=False, highlight=False)
