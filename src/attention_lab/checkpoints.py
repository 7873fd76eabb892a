"""Checkpoint files: written whole or not at all, read back with a clear error for every way a
file can be wrong.

A checkpoint is a ``torch.save`` file of plain data and tensors (model, optimizer and schedule
state, step, history, and what rebuilds the model), tagged with :data:`CHECKPOINT_FORMAT`. It is
read with ``weights_only=True``: a file holding anything else is refused, never executed. When a
file cannot be read, its first bytes say why (empty, cut short, a zip that torch did not write,
a text file, a pickled object) instead of torch's advice to turn the safety check off.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from attention_lab.files import atomic_file

CHECKPOINT_FORMAT = "attention-lab-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: not one of ours, corrupt, incompatible or untrained."""


def check_path(
    value: object, name: str = "checkpoint", what: str = "a path to a checkpoint file"
) -> Path:
    """``value`` as a Path; TypeError naming ``name`` unless it is a str or os.PathLike."""
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        got = "None" if value is None else f"{type(value).__name__} {value!r:.60}"
        raise TypeError(f"{name}: expected {what}, got {got}")
    return Path(value)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (:func:`attention_lab.files.atomic_file`).

    On any failure the temporary file is removed and an existing file at ``path`` is left as it
    was; the error is raised again.
    """
    path = check_path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"checkpoint: expected a file to write, got the directory {str(path)!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as file:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, file)


def load_checkpoint(path: str | Path, *, require_trained: bool = True) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, with a clear error for every way it
    can fail.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: nothing at ``path``.
        CheckpointError: a directory, not readable, not a torch file, not an attention-lab
            checkpoint, or (with ``require_trained``) a model trained for 0 steps.
    """
    path = check_path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"checkpoint: expected a file written by `attention-lab train` or "
            f"`attention-lab run translation --checkpoint`, but {str(path)!r} does not exist"
        )
    if path.is_dir():
        raise CheckpointError(f"checkpoint: expected a file, got the directory {str(path)!r}")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as error:
        raise CheckpointError(f"checkpoint: cannot read {str(path)!r}: {error.strerror}") from None
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(
            f"checkpoint: {str(path)!r} is not a checkpoint written by attention-lab (it could "
            f"not be read as one: {unreadable_reason(path, error)})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"checkpoint: expected an attention-lab checkpoint (format {CHECKPOINT_FORMAT!r}) in "
            f"{str(path)!r}, got {found!r}"
        )
    if require_trained and int(state.get("step", 0)) <= 0:
        raise CheckpointError(
            f"checkpoint: {str(path)!r} holds an untrained model (0 training steps); train it "
            "first, e.g. `attention-lab train --checkpoint FILE`"
        )
    return state


def unreadable_reason(path: Path, error: Exception) -> str:
    """Why ``torch.load(path, weights_only=True)`` failed, in a few words, from the error and the
    file's first bytes (torch's own message advises turning ``weights_only`` off, which would run
    any code the file holds)."""
    try:
        with open(path, "rb") as file:
            head = file.read(512)
    except OSError as read_error:
        return read_error.strerror or type(read_error).__name__
    message = str(error)
    if "GLOBAL " in message:  # a pickled Python object other than tensors and plain data
        name = message.split("GLOBAL ", 1)[1].split()[0]
        return f"it holds a Python object ({name}) that checkpoints never contain"
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04"):  # a zip archive, the container torch.save writes
        if "central directory" in message:
            return (
                "the file is incomplete or damaged, e.g. cut short while it was written or copied"
            )
        return "it is a zip archive, but not one written by torch.save"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c.isspace() for c in text):
        return "it is a text file"
    return "it is not in the file format torch.save writes"
