"""Whole sequences per rank, and the merge that gives rank 0 (every rank, in fact) the full result.

Evaluation is sharded by sequence (a video is never split): each rank runs the tracker on its sequences
(:func:`zoo.core.balance.assign_longest_first`: balanced by frame count, deterministic), writes their raw
result files and keeps per-sequence sufficient statistics. The statistics of all ranks are then gathered
(``torch.distributed.all_gather_object``) and reduced in benchmark order by the same functional code a single
process uses, so the merged metrics equal the single-process ones exactly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.core.balance import assign_longest_first

__all__ = ["Gather", "SequenceRecord", "dist_world", "gather_records", "process_group", "shard_indices"]


@dataclass
class SequenceRecord:
    """One evaluated sequence, as a rank reports it for the merge (picklable).

    Attributes:
        index: position of the sequence in the benchmark's order (the merge sorts by it).
        name: sequence name.
        frames: frames the tracker processed.
        seconds: seconds inside tracker calls (None when scoring existing results).
        payload: the task's per-sequence sufficient statistics (None when the split has no ground truth).
        per_sequence: that sequence's own metrics, for ``results.json``'s ``per_sequence``.
    """

    index: int
    name: str
    frames: int
    seconds: float | None
    payload: Any
    per_sequence: dict[str, Any]


#: gather(local records) -> records of every rank, one list per rank
Gather = Callable[[list[SequenceRecord]], list[list[SequenceRecord]]]


def process_group() -> Any:
    """``torch.distributed`` when a process group is initialised, else None. Never imports torch:
    re-scoring runs without it, and no group can exist before torch is imported."""
    dist = sys.modules.get("torch.distributed")
    return dist if dist is not None and dist.is_available() and dist.is_initialized() else None


def dist_world(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """``(rank, world_size)``: the given values, else ``torch.distributed``'s when initialised, else (0, 1)."""
    if rank is None or world_size is None:
        dist = process_group()
        if dist is not None:
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
    rank = 0 if rank is None else int(rank)
    world_size = 1 if world_size is None else int(world_size)
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    return rank, world_size


def shard_indices(frame_counts: Sequence[int], rank: int, world_size: int) -> list[int]:
    """Indices of the sequences rank ``rank`` evaluates (increasing), whole sequences balanced by frames."""
    return np.flatnonzero(assign_longest_first(frame_counts, world_size) == rank).tolist()


def _all_gather_object(records: list[SequenceRecord]) -> list[list[SequenceRecord]]:
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, records)
    return out


def gather_records(
    records: list[SequenceRecord], world_size: int, gather: Gather | None = None
) -> list[SequenceRecord]:
    """Every rank's records, in benchmark order.

    Args:
        records: this rank's records.
        world_size: number of ranks.
        gather: custom exchange (tests, or a launcher without ``torch.distributed``); default
            ``all_gather_object`` on the initialised process group.

    Raises:
        RuntimeError: ``world_size > 1`` without an initialised process group or a ``gather``.
        ValueError: two ranks evaluated the same sequence.
    """
    if world_size == 1 and gather is None:
        parts = [records]
    elif gather is not None:
        parts = gather(records)
    else:
        if process_group() is None:
            raise RuntimeError(
                f"world_size={world_size} but torch.distributed is not initialised: initialise the process "
                "group (torchrun / Lightning DDP) or pass gather="
            )
        parts = _all_gather_object(records)
    merged = sorted((r for part in parts for r in part), key=lambda r: r.index)
    seen = [r.index for r in merged]
    if len(set(seen)) != len(seen):
        dup = next(r.name for i, r in enumerate(merged) if seen.count(r.index) > 1)
        raise ValueError(f"sequence {dup!r} was evaluated by more than one rank")
    return merged
