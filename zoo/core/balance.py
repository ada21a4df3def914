"""Whole sequences to ranks, balanced by frame count: the one rule evaluation sharding and the DDP
evaluation sampler (:class:`zoo.data.samplers.SequenceShardSampler`) share (numpy only, so re-scoring can
shard without importing torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["assign_longest_first"]


def assign_longest_first(frame_counts: Sequence[int] | np.ndarray, num_replicas: int) -> np.ndarray:
    """(S,) int64 rank of every sequence under greedy longest-processing-time: sequences in decreasing frame
    count (ties: lower index first) each go to the currently least-loaded rank (ties: lower rank).
    Deterministic, and ``max load - min load <= longest sequence``.

    Raises:
        ValueError: a negative frame count or ``num_replicas < 1``.
    """
    counts = np.asarray(frame_counts, dtype=np.int64).reshape(-1)
    if (counts < 0).any():
        raise ValueError(f"frame_counts must be >= 0, got {counts.tolist()}")
    if int(num_replicas) < 1:
        raise ValueError(f"num_replicas must be >= 1, got {num_replicas}")
    order = np.lexsort((np.arange(counts.size), -counts))
    load = np.zeros(int(num_replicas), dtype=np.int64)
    owner = np.empty(counts.size, dtype=np.int64)
    for s in order:  # S sequences, a few hundred at most: a heap buys nothing here
        r = int(np.argmin(load))  # argmin returns the lowest rank among ties
        owner[s] = r
        load[r] += counts[s]
    return owner
