"""One rank of the 2-process DDP check run by ``test_mot_ddp.py`` (plain ``torch.distributed``, gloo).

Usage: ``RANK=r WORLD_SIZE=n MASTER_ADDR=... MASTER_PORT=... python -m tests.metrics.mot_ddp_worker OUT N``.
Rank r evaluates synthetic sequences r, r + n, r + 2n, ... < N (a sequence is never split), feeds their
statistics to :class:`zoo.metrics.synced.MOTMetrics`, and writes the synced ``compute()`` to ``OUT/rank<r>.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch.distributed as dist

from tests.metrics.mot_synthetic import synthetic_sequence
from zoo.metrics.mot import sequence_stats
from zoo.metrics.synced import MOTMetrics


def jsonable(results: dict) -> dict:
    out = {}
    for k, v in results.items():
        if isinstance(v, np.ndarray):
            out[k] = v.tolist()
        elif isinstance(v, (np.integer, int)):
            out[k] = int(v)
        else:
            out[k] = float(v)
    return out


def main(out_dir: str, num_sequences: int) -> None:
    dist.init_process_group("gloo")  # env:// rendezvous from RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT
    rank, world = dist.get_rank(), dist.get_world_size()
    metric = MOTMetrics()
    for seed in range(rank, num_sequences, world):
        gt, tr, n = synthetic_sequence(seed)
        metric.update(sequence_stats(gt, tr, n, benchmark="MOT17"))
    local = int(metric.sequences.item())
    results = jsonable(metric.compute())
    results["_sequences_local"] = local
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(results))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
