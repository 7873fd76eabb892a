"""Shared fixtures: MiniLM loaded once per worker, offline, and a guard that forbids the network."""

from __future__ import annotations

import os
import socket

# before transformers or sentence-transformers are imported anywhere: never ask the hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest
import torch

# Sentences of different lengths, so a batch of them is padded: padding must change nothing.
SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "Hi",
    "A man is playing a guitar on a stage in front of a small crowd, and everybody sings along.",
    "Transformers replaced recurrent networks for most language tasks.",
    "Naïve café owners serve crème brûlée — unusual tokens, accents & punctuation!",
    "2 + 2 = 4",
]


@pytest.fixture(scope="session")
def minilm():
    torch.set_num_threads(1)
    from attention_lab import load_minilm

    return load_minilm()


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to a host other than 127.0.0.1/::1 raises; the test must not need one."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"network access blocked in tests: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield attempts
    assert attempts == [], f"the code tried to reach the network: {attempts}"
