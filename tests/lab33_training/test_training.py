"""The training loop: loss, schedule, data order across ranks, checkpoints and exact resume."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from lab33_ddp_setup import make_run

import attention_lab.training.loop as loop
from attention_lab.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from attention_lab.nn.multihead import FusedMultiHeadAttention, MultiHeadAttention
from attention_lab.tasks.numbers import NumberTranslation
from attention_lab.training import (
    DistInfo,
    StepOutput,
    TrainConfig,
    batch_indices,
    lr_lambda,
    seq2seq_loss,
    train,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_seq2seq_loss_is_the_masked_token_cross_entropy():
    model, task, _ = make_run()
    batch = task.batch(range(8))
    out = seq2seq_loss(model, batch)
    # reference: run the model with explicit masks and average over real tokens by hand
    B, _S = batch.src.shape
    T = batch.tgt_in.shape[1]
    src_mask = (batch.src != 0)[:, None, None, :]
    tgt_mask = (batch.tgt_in != 0)[:, None, None, :] & torch.ones(T, T, dtype=torch.bool).tril()
    with torch.no_grad():
        logits = model(batch.src, batch.tgt_in, src_mask, tgt_mask).double()
    log_probs = logits.log_softmax(-1)
    total, count = 0.0, 0
    for b in range(B):
        for t in range(T):
            label = int(batch.tgt_out[b, t])
            if label != 0:
                total -= float(log_probs[b, t, label])
                count += 1
    assert out.tokens == count == batch.num_tokens
    assert out.loss_sum.item() == pytest.approx(total, rel=1e-5)
    assert 0 <= out.correct <= count
    smoothed = seq2seq_loss(model, batch, label_smoothing=0.1)
    assert smoothed.loss_sum.item() > out.loss_sum.item()


def test_noam_schedule_is_equation_3_of_the_paper():
    config = TrainConfig(schedule="noam", lr=1.0, warmup=4000, steps=100_000)
    factor = lr_lambda(config, d_model=512)
    for step in (1, 100, 3999, 4000, 4001, 50_000):
        expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
        assert factor(step - 1) == pytest.approx(expected)
    peak = max(factor(s) for s in range(0, 8000, 50))
    assert peak == pytest.approx(factor(3999), rel=1e-3)


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    config = TrainConfig(schedule="cosine", warmup=10, steps=110, min_lr_ratio=0.1)
    factor = lr_lambda(config, d_model=64)
    assert factor(0) == pytest.approx(0.1)
    assert factor(9) == pytest.approx(1.0)
    assert factor(59) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert factor(109) == pytest.approx(0.1)
    values = [factor(s) for s in range(9, 110)]
    assert all(a >= b for a, b in itertools.pairwise(values))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps: expected an int >= 1, got 0"),
        ({"batch_size": 2.5}, "batch_size: expected an int >= 1, got 2.5"),
        ({"lr": -1.0}, "lr: expected a positive float, got -1.0"),
        ({"schedule": "linear"}, "schedule: expected one of .*got 'linear'"),
        ({"label_smoothing": 1.0}, r"label_smoothing: expected a float in \[0, 1\), got 1.0"),
    ],
)
def test_train_config_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_ranks_split_the_global_batch_and_resume_skips_seen_batches():
    task = NumberTranslation(99, test_size=10, valid_size=5)
    one = batch_indices(task, 8, seed=1, info=DistInfo())
    ranks = [batch_indices(task, 4, seed=1, info=DistInfo(r, 2, r)) for r in range(2)]
    for _ in range(25):  # crosses epoch boundaries (85 samples, 10 batches of 8 an epoch)
        assert sorted(next(one)) == sorted(next(ranks[0]) + next(ranks[1]))
    straight = batch_indices(task, 8, seed=1, info=DistInfo())
    seen = [next(straight) for _ in range(23)]
    resumed = batch_indices(task, 8, seed=1, info=DistInfo(), start_step=13)
    assert [next(resumed) for _ in range(10)] == seen[13:]
    with pytest.raises(ValueError, match="batch_size: expected at most 85 samples per process"):
        next(batch_indices(task, 100, seed=0, info=DistInfo()))


def test_training_reduces_the_loss():
    model, task, config = make_run()
    config = TrainConfig(steps=40, batch_size=32, lr=3e-3, warmup=5, log_every=5)
    result = train(model, task, config, collate=task.collate, progress=False)
    assert result.steps == 40 and len(result.history) == 8
    assert result.history[-1]["loss"] < 0.6 * result.history[0]["loss"]
    order = batch_indices(task, 32, seed=config.seed, info=DistInfo())
    assert result.tokens == sum(task.batch(next(order)).num_tokens for _ in range(40))
    assert result.tokens_per_second > 0 and result.cpu_seconds > 0


def test_resume_continues_exactly(tmp_path):
    model, task, config = make_run()
    config = TrainConfig(steps=6, batch_size=16, lr=3e-3, warmup=2, log_every=1, eval_every=3)
    train(model, task, config, collate=task.collate, progress=False)

    # the same run, interrupted after step 3 (its checkpoint saved), then resumed to step 6
    first, _, _ = make_run()
    train(
        first, task, config, collate=task.collate, progress=False, checkpoint=tmp_path / "a.pt",
        evaluate=lambda m: {}, stop_when=lambda metrics: True,
    )  # fmt: skip
    assert load_checkpoint(tmp_path / "a.pt")["step"] == 3
    resumed, _, _ = make_run()
    result = train(
        resumed, task, config, collate=task.collate, progress=False, resume=tmp_path / "a.pt"
    )
    assert result.steps == 6 and [h["step"] for h in result.history] == [1, 2, 3, 4, 5, 6]
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_checkpoint_every_saves_during_training(tmp_path, monkeypatch):
    model, task, _ = make_run()
    config = TrainConfig(steps=4, batch_size=8, warmup=1, checkpoint_every=2)
    saved = []
    original = loop.save_checkpoint
    monkeypatch.setattr(
        loop,
        "save_checkpoint",
        lambda path, state: saved.append(state["step"]) or original(path, state),
    )
    train(model, task, config, collate=task.collate, progress=False, checkpoint=tmp_path / "c.pt")
    assert saved == [2, 4]


def test_stop_when_ends_training_early():
    model, task, _ = make_run()
    config = TrainConfig(steps=50, batch_size=8, eval_every=3, warmup=1)
    calls = []

    def evaluate(m):
        calls.append(m.training)
        return {"calls": float(len(calls))}

    result = train(
        model, task, config, collate=task.collate, progress=False, evaluate=evaluate,
        stop_when=lambda metrics: metrics["calls"] >= 2,
    )  # fmt: skip
    assert result.steps == 6
    assert calls == [False, False, False]  # evaluated in eval mode; once more at the end
    assert result.metrics == {"calls": 3.0}


def test_checkpoint_holds_what_resume_needs(tmp_path):
    model, task, config = make_run()
    config = TrainConfig(steps=2, batch_size=8, warmup=1)
    train(model, task, config, collate=task.collate, progress=False, checkpoint=tmp_path / "c.pt",
          meta={"kind": "test", "note": [1, 2]})  # fmt: skip
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["step"] == 2 and state["kind"] == "test" and state["note"] == [1, 2]
    assert state["train_config"]["batch_size"] == 8
    assert {"model", "optimizer", "scheduler", "history", "rng"} <= state.keys()
    assert not (tmp_path / "c.pt.tmp").exists()


def test_missing_checkpoint(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"checkpoint: expected a file .* 'nope.pt' does not exist"
    ):
        load_checkpoint("nope.pt")


def test_directory_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint: expected a file, got the directory"):
        load_checkpoint(tmp_path)


def test_corrupt_checkpoint(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(error.value) == (
        f"checkpoint: {str(path)!r} is not a checkpoint written by attention-lab (it could not be "
        "read as one: it is a text file)"
    )


def _numpy_pickle(path):
    import numpy as np

    torch.save({"weights": np.zeros(3)}, path)  # a numpy array: not loadable with weights_only


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda path: path.write_text("hello\n"), "it is a text file"),
        (lambda path: path.write_bytes(b""), "the file is empty"),
        (
            lambda path: path.write_bytes(bytes(range(128, 256)) * 2),
            "it is not in the file format torch.save writes",
        ),
        (_numpy_pickle, "it holds a Python object (numpy."),
    ],
)
def test_unreadable_checkpoints_say_why_without_torchs_advice(tmp_path, write, reason):
    path = tmp_path / "x.pt"
    write(path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert message.startswith(
        f"checkpoint: {str(path)!r} is not a checkpoint written by attention-lab (it could not be read as one: {reason}"
    )
    assert "weights_only" not in message and "KeyError" not in message and "\n" not in message


def test_a_checkpoint_cut_short_is_called_damaged(tmp_path):
    whole, cut = tmp_path / "whole.pt", tmp_path / "cut.pt"
    save_checkpoint(whole, {"step": 1, "model": {"w": torch.zeros(1000)}})
    cut.write_bytes(whole.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="the file is incomplete or damaged"):
        load_checkpoint(cut)


def test_checkpoint_paths_must_be_paths():
    for call in (lambda: load_checkpoint(None), lambda: save_checkpoint(None, {"step": 1})):
        with pytest.raises(
            TypeError, match="^checkpoint: expected a path to a checkpoint file, got None$"
        ):
            call()


def test_save_checkpoint_into_a_directory_leaves_nothing_behind(tmp_path):
    target = tmp_path / "model.pt"
    target.mkdir()
    with pytest.raises(
        IsADirectoryError, match="checkpoint: expected a file to write, got the directory"
    ):
        save_checkpoint(target, {"step": 1, "model": {"w": torch.zeros(500_000)}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    assert list(target.iterdir()) == []


def test_a_failed_save_removes_its_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(path, {"step": 1, "model": {}})
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("attention_lab.files.os.replace", failing_replace)
    with pytest.raises(OSError, match="No space left on device"):
        save_checkpoint(path, {"step": 2, "model": {"w": torch.zeros(500_000)}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no model.pt.tmp
    assert path.read_bytes() == before


def test_foreign_checkpoint(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="expected an attention-lab checkpoint .* got None"):
        load_checkpoint(path)


def test_untrained_checkpoint(tmp_path):
    path = tmp_path / "fresh.pt"
    save_checkpoint(path, {"step": 0, "model": {}})
    with pytest.raises(CheckpointError, match="holds an untrained model \\(0 training steps\\)"):
        load_checkpoint(path)
    assert load_checkpoint(path, require_trained=False)["step"] == 0


def test_resume_from_a_different_model(tmp_path):
    model, task, config = make_run()
    config = TrainConfig(steps=1, batch_size=8, warmup=1)
    train(model, task, config, collate=task.collate, progress=False, checkpoint=tmp_path / "c.pt")
    other = torch.nn.Sequential(torch.nn.Linear(3, 3))
    other.config = model.config
    with pytest.raises(CheckpointError, match="resume: checkpoint .* does not match this model"):
        train(other, task, config, collate=task.collate, progress=False, resume=tmp_path / "c.pt")


def test_global_batch_must_split_evenly_and_fit_the_data():
    model, task, _ = make_run()
    with pytest.raises(ValueError, match="batch_size: expected at most"):
        train(
            model,
            task,
            TrainConfig(steps=1, batch_size=10_000),
            collate=task.collate,
            progress=False,
        )


def test_cross_entropy_reference_is_torchs():
    # the hand loop above agrees with torch's own masked mean on the same logits
    logits = torch.randn(2, 3, 5, dtype=torch.float64)
    labels = torch.tensor([[1, 2, 0], [3, 0, 0]])
    manual = (
        -(
            logits.log_softmax(-1)[0, 0, 1]
            + logits.log_softmax(-1)[0, 1, 2]
            + logits.log_softmax(-1)[1, 0, 3]
        )
        / 3
    )
    torch.testing.assert_close(
        F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=0), manual
    )


def test_progress_false_prints_nothing(capsys):
    model, task, _ = make_run()
    train(
        model,
        task,
        TrainConfig(steps=2, batch_size=8, warmup=1),
        collate=task.collate,
        progress=False,
    )
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def _attention_kinds(model: torch.nn.Module) -> set[type]:
    kinds = (MultiHeadAttention, FusedMultiHeadAttention)
    return {type(m) for m in model.modules() if isinstance(m, kinds)}


def test_fast_attention_while_training_and_readable_after_even_when_a_step_raises():
    model, task, _ = make_run()
    seen = []

    def failing_loss(m, batch):
        seen.append(_attention_kinds(m))
        raise RuntimeError("out of memory (simulated)")

    config = TrainConfig(steps=2, batch_size=8, warmup=1)
    with pytest.raises(RuntimeError, match="simulated"):
        train(model, task, config, collate=task.collate, loss_fn=failing_loss, progress=False)
    assert seen == [{FusedMultiHeadAttention}]  # fused inside the step
    assert _attention_kinds(model) == {MultiHeadAttention}  # readable again after the raise


def test_the_loop_trains_any_model_with_its_own_loss():
    """No Transformer needed: a linear regression, its loss and its batches."""
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    data = [(x[i], y[i]) for i in range(64)]

    class Batch:
        def __init__(self, items):
            self.x = torch.stack([a for a, _ in items])
            self.y = torch.stack([b for _, b in items])

        def to(self, device):
            return self

    def squared_error(m, batch):
        loss = ((m(batch.x).squeeze(-1) - batch.y) ** 2).sum()
        return StepOutput(loss, len(batch.y), 0)

    model = torch.nn.Linear(3, 1)
    config = TrainConfig(steps=200, batch_size=16, lr=0.05, warmup=1, schedule="constant")
    result = train(model, data, config, collate=Batch, loss_fn=squared_error, progress=False)
    assert result.history[-1]["loss"] < 1e-3 < result.history[0]["loss"]


def test_the_noam_schedule_needs_the_model_width():
    config = TrainConfig(schedule="noam", warmup=10, steps=20)
    with pytest.raises(ValueError, match="d_model: the 'noam' schedule .* got None"):
        lr_lambda(config)
    model, task, _ = make_run()
    with pytest.raises(ValueError, match="d_model: the 'noam' schedule"):
        train(model, task, dataclasses.replace(config, batch_size=8), collate=task.collate)
    result = train(
        model, task, dataclasses.replace(config, batch_size=8, steps=2), collate=task.collate,
        d_model=32, progress=False,
    )  # fmt: skip
    # after 2 optimizer steps the schedule stands at step 3 of Eq. 3, times config.lr
    expected = config.lr * 32**-0.5 * min(3**-0.5, 3 * 10**-1.5)
    assert result.history[-1]["lr"] == pytest.approx(expected, rel=1e-12)
