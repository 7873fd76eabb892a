"""Run by `torchrun --nproc_per_node=2` from test_ddp.py: train a few steps, save this rank's state.

Usage: torchrun --nproc_per_node=2 ddp_worker.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from attention_lab.training import distributed, train

sys.path.insert(0, str(Path(__file__).parent))
from lab33_ddp_setup import STEPS, make_run


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    with distributed() as info:
        model, task, config = make_run()
        result = train(model, task, config, collate=task.collate, progress=False)
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(
            {"state": state, "history": result.history, "world_size": info.world_size},
            out_dir / f"rank{info.rank}.pt",
        )
        assert result.steps == STEPS
        del model, result  # free DDP state before the process group goes


if __name__ == "__main__":
    main(Path(sys.argv[1]))
