"""runner.py stands alone (stdlib + torch), and the grader's round trip through it works."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from attention_lab.exercises import EXERCISES, runner
from attention_lab.exercises.runner import (
    INPUT_COPY_PREFIX,
    BadReturnValueError,
    ParameterMismatchError,
    WrongTargetError,
    call_target,
)

RUNNER = Path(runner.__file__)


def test_runner_imports_only_stdlib_and_torch():
    tree = ast.parse(RUNNER.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules - {"torch", "__future__"} <= set(sys.stdlib_module_names), modules


def test_calls_are_json_and_outputs_safetensors_ready(tmp_path):
    for exercise in EXERCISES.values():
        for case in exercise.cases(0):
            assert json.loads(json.dumps(case.call)) == case.call
            outputs = call_target(_solution(exercise), case.call, case.inputs)
            save_file(outputs, tmp_path / "out.safetensors")  # contiguous, unshared, CPU
            assert set(load_file(tmp_path / "out.safetensors")) == set(outputs)


def _solution(exercise):
    from attention_lab.exercises import solutions

    return getattr(solutions, exercise.target)


CHILD = textwrap.dedent(
    """
    import json, sys
    sys.modules["attention_lab"] = None  # as in the grader's sandbox: the library is not importable
    sys.path.insert(0, sys.argv[1])
    from runner import call_target
    from safetensors.torch import load_file, save_file

    SUBMISSION = '''
    import math, torch
    def scaled_dot_product_attention(q, k, v, mask=None):
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
        return w @ v, w
    def attention_scores(q, k):
        return q @ k.transpose(-2, -1)
    def attention_weights(scores):
        raise ValueError("not like this")
    QKVProjection = 5
    '''
    namespace = {}
    exec(SUBMISSION, namespace)
    for job in json.load(open(sys.argv[2])):
        inputs = load_file(job["inputs"])
        try:
            outputs = call_target(namespace[job["target"]], job["call"], inputs)
            save_file(outputs, job["outputs"])
            job["error"] = None
        except Exception as error:
            job["error"] = f"{type(error).__name__}: {error}"
        json.dump(job, open(job["outputs"] + ".json", "w"))
    """
)


def test_round_trip_in_a_process_without_attention_lab(tmp_path):
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    shutil.copy(RUNNER, sandbox / "runner.py")
    (tmp_path / "child.py").write_text(CHILD)
    jobs, cases = [], []
    for exercise_id in (
        "scaled_dot_product_attention",
        "attention_scores",
        "softmax",
        "qkv_projection",
    ):
        exercise = EXERCISES[exercise_id]
        for n, case in enumerate(exercise.cases(7)):
            stem = str(tmp_path / f"{exercise_id}-{n}")
            save_file(case.inputs, stem + ".in.safetensors")
            jobs.append(
                {
                    "target": exercise.target,
                    "call": case.call,
                    "inputs": stem + ".in.safetensors",
                    "outputs": stem + ".out",
                }
            )
            cases.append((exercise, case))
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    subprocess.run(
        [
            sys.executable,
            "-I",
            str(tmp_path / "child.py"),
            str(sandbox),
            str(tmp_path / "jobs.json"),
        ],
        check=True,
        cwd=sandbox,
        timeout=120,
    )
    verdicts: dict[str, list] = {}
    for job, (exercise, case) in zip(jobs, cases):
        done = json.loads(Path(job["outputs"] + ".json").read_text())
        outputs = None if done["error"] else load_file(job["outputs"])
        verdicts.setdefault(exercise.id, []).append(exercise.judge(case, outputs, done["error"]))
    combined = {key: EXERCISES[key].combine(results) for key, results in verdicts.items()}
    assert combined["scaled_dot_product_attention"].diagnosis == "correct"
    assert combined["attention_scores"].diagnosis == "missing_scale"
    assert combined["softmax"].diagnosis == "raises_error"
    assert "ValueError: not like this" in combined["softmax"].message
    assert combined["qkv_projection"].diagnosis == "wrong_target_kind"
    assert combined["qkv_projection"].message.startswith(
        "QKVProjection: expected a class (an nn.Module subclass), got int 5."
    )


def test_inputs_are_copied_and_reported_after_the_call():
    def scale_in_place(q, k):
        q.mul_(2)
        return q @ k.transpose(-2, -1)

    q, k = torch.ones(2, 3), torch.ones(4, 3)
    call = {"kind": "function", "args": ["q", "k"], "outputs": ["scores"]}
    outputs = call_target(scale_in_place, call, {"q": q, "k": k})
    assert torch.equal(q, torch.ones(2, 3))  # the caller's tensor is untouched
    assert torch.equal(outputs[INPUT_COPY_PREFIX + "q"], torch.full((2, 3), 2.0))
    assert torch.equal(outputs[INPUT_COPY_PREFIX + "k"], k)


def test_bad_return_values_and_targets():
    call = {"kind": "function", "args": ["x"], "outputs": ["output", "weights"]}
    x = {"x": torch.ones(2)}
    with pytest.raises(
        BadReturnValueError,
        match=r"expected a tuple of 2 tensors \(output, weights\), got a tensor of shape \(2,\)",
    ):
        call_target(lambda x: x, call, x)
    with pytest.raises(BadReturnValueError, match="got a tuple of 3"):
        call_target(lambda x: (x, x, x), call, x)
    with pytest.raises(BadReturnValueError, match="got NoneType None for weights"):
        call_target(lambda x: (x, None), call, x)
    with pytest.raises(
        BadReturnValueError, match=r"expected one tensor \(output\), got a tuple of 2"
    ):
        call_target(lambda x: (x, x), {**call, "outputs": ["output"]}, x)
    with pytest.raises(TypeError, match="expected a function, got the class"):
        call_target(torch.nn.Linear, call, x)
    with pytest.raises(TypeError, match="expected a function, got int 3"):
        call_target(3, call, x)
    with pytest.raises(ValueError, match="call: expected kind 'function' or 'class', got 'method'"):
        call_target(len, {**call, "kind": "method"}, x)
    with pytest.raises(
        WrongTargetError,
        match=r"expected a class \(an nn.Module subclass\), got the function <lambda>",
    ):
        call_target(lambda: None, {"kind": "class", "args": [], "outputs": ["y"]}, {})
    with pytest.raises(WrongTargetError, match="expected a function, got the class Linear"):
        call_target(torch.nn.Linear, call, x)


def test_class_targets_load_the_case_weights_strictly():
    class Plain:
        def __init__(self, n):
            self.n = n

    call = {
        "kind": "class",
        "init": {"n": 2},
        "load_state": "w.",
        "method": "forward",
        "args": [],
        "outputs": ["y"],
    }
    with pytest.raises(
        WrongTargetError, match="got the class Plain, which does not subclass torch.nn.Module"
    ):
        call_target(Plain, call, {"w.weight": torch.ones(2, 2)})

    class Wrong(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.W = torch.nn.Linear(n, n)

    expected = r"expected parameters V.weight \(2, 2\), V.bias \(2,\); Wrong has W.weight \(2, 2\), W.bias \(2,\)"
    with pytest.raises(ParameterMismatchError, match=expected):
        call_target(Wrong, call, {"w.V.weight": torch.ones(2, 2), "w.V.bias": torch.ones(2)})


def test_judge_maps_runner_errors_to_diagnoses():
    exercise = EXERCISES["qkv_projection"]
    case = exercise.cases(0)[0]
    assert (
        exercise.judge(case, None, "NotImplementedError: your code here").diagnosis
        == "not_attempted"
    )
    assert (
        exercise.judge(case, None, "BadReturnValueError: expected a tuple").diagnosis
        == "wrong_return_type"
    )
    wrong = exercise.judge(
        case, None, "ParameterMismatchError: expected parameters W_q.weight (8, 8)"
    )
    assert wrong.diagnosis == "wrong_parameters" and "W_q.weight" in wrong.message
    raised = exercise.judge(case, None, "RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    assert raised.diagnosis == "raises_error" and "check every transpose" in raised.message
    kind = exercise.judge(case, None, "WrongTargetError: expected a class, got int 5")
    assert (kind.diagnosis, kind.message) == (
        "wrong_target_kind",
        "QKVProjection: expected a class, got int 5.",
    )


def test_tensor_subclasses_come_back_as_plain_tensors():
    class AlwaysClose(torch.Tensor):
        def __eq__(self, other):  # a result that claims to equal anything
            return torch.ones_like(torch.Tensor(self), dtype=torch.bool)

    call = {"kind": "function", "args": ["scores"], "outputs": ["weights"]}
    outputs = call_target(
        lambda s: torch.zeros(2, 3).as_subclass(AlwaysClose), call, {"scores": torch.ones(2, 3)}
    )
    assert type(outputs["weights"]) is torch.Tensor
