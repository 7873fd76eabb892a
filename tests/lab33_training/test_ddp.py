"""DistributedDataParallel: 2 gloo processes on CPU train exactly like one process on the same
global batch, and `attention-lab train` runs unchanged under torchrun."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lab33_ddp_setup import STEPS, make_run

from attention_lab.training import train

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    env.pop("WORLD_SIZE", None)
    command = [
        str(BIN / "torchrun"), "--nproc_per_node=2", "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}", *args,
    ]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def ddp_ranks(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    done = _torchrun(str(HERE / "ddp_worker.py"), str(out), cwd=out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]


def test_both_ranks_hold_identical_parameters(ddp_ranks):
    first, second = (rank["state"] for rank in ddp_ranks)
    assert ddp_ranks[0]["world_size"] == 2
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_ddp_matches_one_process_on_the_same_global_batch(ddp_ranks):
    torch.set_num_threads(1)
    model, task, config = make_run()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    single = train(model, task, config, collate=task.collate, progress=False)
    ddp_loss = [h["loss"] for h in ddp_ranks[0]["history"]]
    one_loss = [h["loss"] for h in single.history]
    assert len(one_loss) == len(ddp_loss) == STEPS
    torch.testing.assert_close(torch.tensor(ddp_loss), torch.tensor(one_loss), rtol=1e-5, atol=1e-6)
    ddp_tokens = [h["accuracy"] for h in ddp_ranks[0]["history"]]
    assert ddp_tokens == pytest.approx([h["accuracy"] for h in single.history])
    compared = 0
    for name, value in model.state_dict().items():
        if name.endswith("W_k.bias"):
            # softmax ignores a constant added to a row of scores, so the key bias has an exactly
            # zero gradient; Adam divides its round-off (~1e-9) by sqrt(v) + eps and turns it into
            # steps of size ~lr, different in every summation order. Nothing to compare there.
            continue
        torch.testing.assert_close(ddp_ranks[0]["state"][name], value, rtol=1e-4, atol=1e-5)
        compared += 1
        if name.endswith("weight"):
            assert not torch.equal(value, initial[name]), f"{name} never moved"
    assert compared > 20


@pytest.mark.skipif(
    shutil.which("torchrun", path=str(BIN)) is None, reason="torchrun not installed"
)
def test_cli_train_runs_under_torchrun_and_saves_once(tmp_path):
    checkpoint = tmp_path / "ddp.pt"
    done = _torchrun(
        "--no-python", str(BIN / "attention-lab"), "train", "--steps", "3", "--max-number", "99",
        "--batch-size", "8", "--checkpoint", str(checkpoint), "--no-progress", "--threads", "1",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("on 2 processes") == 1  # rank 0 alone reports
    assert done.stdout.count("saved ") == 1
    state = torch.load(checkpoint, weights_only=True)
    assert state["step"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp.pt"]  # no stray temporaries
