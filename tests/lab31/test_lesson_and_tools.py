"""The Topic 3.1 lesson's structure and live code, the diagrams, and the GPU benchmark script."""

import importlib.util
import json
import re
from pathlib import Path

import jupytext
import matplotlib.pyplot as plt
import pytest
import torch

from attention_lab import rnn_step
from attention_lab.course.lessons import LESSONS_DIR
from attention_lab.experiments import rnn_gradients
from attention_lab.objectives import topics
from attention_lab.viz import draw_gradient_flow, draw_rnn_unrolled

ROOT = Path(__file__).resolve().parents[2]
LESSON = LESSONS_DIR / "01_why_transformers.py"


@pytest.fixture(scope="module")
def lesson():
    return jupytext.read(LESSON)


def _markdown(cell) -> str:
    return cell.source if cell.cell_type == "markdown" else ""


def test_lesson_opens_with_title_duration_and_the_syllabus_objectives(lesson):
    first = _markdown(lesson.cells[0])
    topic = next(t for t in topics() if t.id == "3.1")
    assert first.startswith("# 3.1 The Need for Transformers")
    assert topic.duration in first
    flat = " ".join(first.split())
    for objective in topic.objectives:
        assert objective.text in flat, objective.id


def test_lesson_serves_every_objective_with_a_section_and_a_hands_on_item(lesson):
    text = "\n".join(_markdown(cell) for cell in lesson.cells)
    served = {i for line in re.findall(r"<!-- serves: ([\d. ]+) -->", text) for i in line.split()}
    hands_on = {
        i for line in re.findall(r"<!-- hands-on: ([\d. ]+) -->", text) for i in line.split()
    }
    expected = {f"3.1.{k}" for k in range(1, 6)}
    assert served == expected
    assert hands_on == expected
    assert "## Key takeaways" in _markdown(lesson.cells[-1])


def test_solution_markers_are_paired(lesson):
    for cell in lesson.cells:
        if cell.cell_type == "code":
            assert cell.source.count("# BEGIN SOLUTION") == cell.source.count("# END SOLUTION")


def test_lesson_rnn_step_exercise_equals_the_library(lesson):
    cell = next(c for c in lesson.cells if c.cell_type == "code" and "def my_rnn_step" in c.source)
    namespace = {"torch": torch}
    exec(cell.source, namespace)
    torch.manual_seed(0)
    x_t, h = torch.randn(3, 4), torch.randn(3, 5)
    W_ih, W_hh, b = torch.randn(5, 4), torch.randn(5, 5), torch.randn(5)
    torch.testing.assert_close(
        namespace["my_rnn_step"](x_t, h, W_ih, W_hh, b), rnn_step(x_t, h, W_ih, W_hh, b)
    )


def test_diagrams_draw_and_check_their_arguments():
    for fig in (draw_rnn_unrolled(steps=3), draw_gradient_flow(steps=4, spectral_norm=1.2)):
        ax = fig.axes[0]
        assert len(ax.patches) > 6 and len(ax.texts) > 6
        plt.close(fig)
    with pytest.raises(
        ValueError, match=r"steps: expected an int in \[2, 12\] \(to fit a figure\), got 40"
    ):
        draw_rnn_unrolled(steps=40)
    with pytest.raises(TypeError, match="steps: expected an int, got float"):
        draw_gradient_flow(steps=4.0)
    with pytest.raises(ValueError, match=r"spectral_norm: expected a float in \(0, 3\], got -1"):
        draw_gradient_flow(spectral_norm=-1)


def test_gradient_flow_arrows_thin_with_distance():
    fig = draw_gradient_flow(steps=5, spectral_norm=0.5)
    red = [
        p.get_linewidth()
        for p in fig.axes[0].patches
        if p.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
    ]
    plt.close(fig)
    chain = red[:4]  # the RNN's backward arrows, left to right: the farthest first
    assert chain == sorted(chain)
    assert chain[0] < chain[-1]


def test_measure_gradients_checks_kind_and_setting():
    with pytest.raises(ValueError, match="kind: expected 'rnn', 'lstm' or 'attention', got 'gru'"):
        rnn_gradients.measure_gradients("gru", 1.0)
    with pytest.raises(
        TypeError,
        match=r"setting: expected a float \(the spectral norm of W_hh\) for kind='rnn', got None",
    ):
        rnn_gradients.measure_gradients("rnn")
    norms = rnn_gradients.measure_gradients(
        "lstm", 1.0, max_distance=5, hidden_size=4, batch_size=2
    )
    assert len(norms) == 5 and all(n > 0 for n in norms)


def _benchmark_module():
    path = ROOT / "benchmarks" / "rnn_vs_attention_gpu.py"
    spec = importlib.util.spec_from_file_location("rnn_vs_attention_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_script_runs_on_cpu_with_a_small_size(tmp_path, capsys):
    bench = _benchmark_module()
    out = tmp_path / "bench.json"
    argv = [
        "--device",
        "cpu",
        "--lengths",
        "8",
        "16",
        "--repeats",
        "1",
        "--d-model",
        "16",
        "--num-heads",
        "2",
        "--batch-size",
        "2",
        "--json",
        str(out),
        "--plot",
        str(tmp_path / "b.png"),
    ]
    data = bench.main(argv)
    assert json.loads(out.read_text()) == data
    assert data["lengths"] == [8, 16] and data["rnn_sequential_steps"] == [8, 16]
    assert data["attention_sequential_steps"] == [1, 1]
    assert data["device"] == "cpu (float32)"
    assert "LSTM/attn" in capsys.readouterr().out
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_gpu_benchmark_refuses_cuda_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SystemExit):
        _benchmark_module().parse_args(["--device", "cuda"])
