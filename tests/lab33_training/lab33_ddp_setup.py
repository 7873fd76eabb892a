"""The small run that test_ddp.py trains both in one process and in 2 gloo processes."""

from __future__ import annotations

import torch

from attention_lab import Transformer, TransformerConfig
from attention_lab.tasks.numbers import NumberTranslation, Tokenizer
from attention_lab.training import TrainConfig

STEPS = 4
GLOBAL_BATCH = 16


def make_run() -> tuple[Transformer, NumberTranslation, TrainConfig]:
    torch.manual_seed(0)
    vocab = len(Tokenizer())
    model = Transformer(
        TransformerConfig(
            src_vocab_size=vocab, tgt_vocab_size=vocab, d_model=32, num_heads=2,
            num_encoder_layers=1, num_decoder_layers=1, d_ff=64, dropout=0.0, max_len=32,
        )
    )  # fmt: skip
    task = NumberTranslation(999, "both", test_size=50, valid_size=50, seed=0)
    config = TrainConfig(steps=STEPS, batch_size=GLOBAL_BATCH, lr=3e-3, warmup=2, log_every=1)
    return model, task, config
