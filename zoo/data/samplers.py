"""Batch samplers for training (Shuffle-Group Sampling and its random-frame ablation) and the sequence
sharder for evaluation, plus the resumable DataLoader that carries sampler state into Lightning checkpoints.

Index space. A training dataset over V videos with ``frame_counts[v]`` frames numbers its frames globally:
frame ``f`` of video ``v`` (0-based) has dataset index ``offsets[v] + f`` with ``offsets`` the exclusive
cumulative sum of ``frame_counts``. Batch samplers yield ``list[int]`` of such indices (one batch each),
so they plug into ``DataLoader(batch_sampler=...)`` and datasets may receive a whole batch at once through
``__getitems__`` (one augmentation draw per clip).

DDP. The samplers shard by themselves (``num_replicas``/``rank`` default to the initialised
``torch.distributed`` group), so Trainer presets set ``use_distributed_sampler: false``. Every rank computes
the same permutation from ``(seed, epoch)``; rank ``r`` takes every ``num_replicas``-th group, so groups on
different ranks are disjoint and every rank runs the same number of batches (no rank waits in a collective).

Resuming. Lightning 2.6 stores ``state_dict()`` of every train DataLoader that has ``state_dict`` and
``load_state_dict`` (``lightning.fabric.utilities.types._Stateful``) under ``loops.fit_loop.combined_loader``
in the checkpoint, and calls ``load_state_dict`` on the freshly built loader before creating its iterator.
Only the main process knows how many batches were actually consumed (workers prefetch), so
:class:`ResumableDataLoader` counts delivered batches and the sampler skips them after a restore.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Sampler

from zoo.core.balance import assign_longest_first

EvenBatches = Literal["drop", "pad"]
SAMPLERS = ("sgs", "random")


def _world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """Resolve (num_replicas, rank), defaulting to the initialised process group (else a single process)."""
    initialised = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if initialised else 1
    if rank is None:
        rank = dist.get_rank() if initialised else 0
    if num_replicas < 1:
        raise ValueError(f"num_replicas must be >= 1, got {num_replicas}")
    if not 0 <= rank < num_replicas:
        raise ValueError(f"rank must be in [0, {num_replicas}), got {rank}")
    return int(num_replicas), int(rank)


def _check_counts(frame_counts: Sequence[int]) -> np.ndarray:
    counts = np.asarray(frame_counts, dtype=np.int64).reshape(-1)
    if counts.size == 0:
        raise ValueError("frame_counts is empty: there are no videos to sample from")
    if (counts < 0).any():
        raise ValueError(f"frame_counts must be >= 0, got {counts.tolist()}")
    return counts


def build_groups(frame_counts: Sequence[int], group_size: int, drop_last: bool = True) -> np.ndarray:
    """Split every video into non-overlapping runs of ``group_size`` consecutive frames.

    Args:
        frame_counts: (V,) number of frames of each video.
        group_size: frames per group (B in FineTrack's SGS).
        drop_last: drop each video's tail shorter than ``group_size``; if False it becomes a shorter group.

    Returns:
        (G, 3) int64 rows ``(video, start, length)``: frames ``start .. start + length - 1`` (0-based) of
        ``video``; ordered by video, then start.
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    counts = _check_counts(frame_counts)
    full = counts // group_size
    tail = counts % group_size
    per_video = full + ((tail > 0) & (not drop_last))
    video = np.repeat(np.arange(counts.size, dtype=np.int64), per_video)
    # position of each group within its video, 0..per_video[v]-1, computed without a Python loop
    first = np.cumsum(per_video) - per_video
    k = np.arange(video.size, dtype=np.int64) - np.repeat(first, per_video)
    start = k * group_size
    length = np.minimum(group_size, counts[video] - start)
    return np.stack([video, start, length], axis=1)


class GroupOrder(Sampler[int]):
    """The group ids one rank visits in one epoch (the sampler Lightning calls ``set_epoch`` on).

    Lightning's ``_set_sampler_epoch`` reaches ``dataloader.batch_sampler.sampler``; keeping the epoch here
    makes :class:`ShuffleGroupSampler` follow Lightning's epoch counter without a callback.

    Args:
        num_groups: G, groups to order.
        chunk: groups per batch; the epoch's order is cut to a multiple of ``chunk * num_replicas``.
        shuffle: permute groups with ``default_rng([seed, epoch])`` (same on every rank), else keep order.
        seed: base seed shared by all ranks.
        even_batches: ``"drop"`` the last ``G mod (chunk * num_replicas)`` groups of the permutation (groups
            stay disjoint across ranks; the dropped ones change every epoch when shuffling), or ``"pad"`` by
            repeating the permutation's first groups (every group is visited; at most
            ``chunk * num_replicas - 1`` groups run twice).
        num_replicas, rank: DDP world; default to ``torch.distributed`` when initialised.
    """

    def __init__(
        self,
        num_groups: int,
        chunk: int = 1,
        *,
        shuffle: bool = True,
        seed: int = 0,
        even_batches: EvenBatches = "drop",
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if even_batches not in ("drop", "pad"):
            raise ValueError(f"even_batches must be 'drop' or 'pad', got {even_batches!r}")
        if chunk < 1:
            raise ValueError(f"groups per batch must be >= 1, got {chunk}")
        self.num_groups = int(num_groups)
        self.chunk = int(chunk)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.even_batches = even_batches
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.epoch = 0
        per_step = self.chunk * self.num_replicas
        if even_batches == "drop":
            self.num_batches = self.num_groups // per_step
        else:
            self.num_batches = -(-self.num_groups // per_step)
        if self.num_batches == 0:
            raise ValueError(
                f"{self.num_groups} groups cannot give one batch of {self.chunk} group(s) to each of "
                f"{self.num_replicas} rank(s); use fewer groups per batch, a smaller group size, more videos "
                "or even_batches='pad'"
            )

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch`` (called by Lightning at the start of every epoch)."""
        self.epoch = int(epoch)

    def epoch_order(self, epoch: int | None = None) -> np.ndarray:
        """(num_batches * chunk,) int64 group ids of this rank for ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else int(epoch)
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_groups)
        else:
            order = np.arange(self.num_groups, dtype=np.int64)
        used = self.num_batches * self.chunk * self.num_replicas
        # np.resize repeats from the start when `used` exceeds G ("pad") and truncates otherwise ("drop")
        order = np.resize(order, used)
        return order[self.rank :: self.num_replicas].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_order().tolist())

    def __len__(self) -> int:
        return self.num_batches * self.chunk


class ShuffleGroupSampler(Sampler[list[int]]):
    """Shuffle-Group Sampling (FineTrack): batches of consecutive frames, group order shuffled per epoch.

    Each video is cut into groups of ``group_size`` consecutive frames (:func:`build_groups`); a batch is
    ``groups_per_batch`` groups (FineTrack: one), so identities repeat across the batch's frames and
    batch-hard triplets find positives. Use as ``DataLoader(dataset, batch_sampler=...)``.

    Args:
        frame_counts: (V,) frames per video, in the dataset's video order.
        group_size: B, consecutive frames per group.
        groups_per_batch: groups concatenated into one batch.
        shuffle: shuffle the group order every epoch (False keeps video/time order: useful for debugging).
        seed: base seed; the order of epoch e is a function of (seed, e) only.
        drop_last: drop each video's tail shorter than ``group_size`` (else a shorter group).
        even_batches: ``"drop"`` (default, disjoint groups) or ``"pad"``; see :class:`GroupOrder`.
        num_replicas, rank: DDP world; default to ``torch.distributed`` when initialised.

    Attributes:
        groups: (G, 3) int64 ``(video, start, length)`` rows.
        offsets: (V,) int64 dataset index of each video's first frame.
        sampler: the :class:`GroupOrder` of this rank (holds the epoch).
    """

    def __init__(
        self,
        frame_counts: Sequence[int],
        group_size: int,
        *,
        groups_per_batch: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = True,
        even_batches: EvenBatches = "drop",
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        counts = _check_counts(frame_counts)
        self.frame_counts = counts
        self.group_size = int(group_size)
        self.groups = build_groups(counts, group_size, drop_last)
        if len(self.groups) == 0:
            raise ValueError(
                f"no group of {group_size} consecutive frames: every video is shorter "
                f"(frame counts {counts.tolist()[:10]}...); lower group_size or set drop_last=False"
            )
        self.offsets = np.cumsum(counts) - counts
        self.sampler = GroupOrder(
            len(self.groups),
            groups_per_batch,
            shuffle=shuffle,
            seed=seed,
            even_batches=even_batches,
            num_replicas=num_replicas,
            rank=rank,
        )
        # epoch whose first `_skip` batches were consumed before a restore
        self._skip_epoch: int | None = None
        self._skip = 0
        self._active: tuple[int, int] | None = None  # (epoch, first batch) of the running iteration
        self._yielded = 0

    # -- epoch / DDP -----------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    @property
    def num_replicas(self) -> int:
        return self.sampler.num_replicas

    @property
    def rank(self) -> int:
        return self.sampler.rank

    @property
    def seed(self) -> int:
        return self.sampler.seed

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch``; a pending resume offset survives only for its own epoch."""
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        """Batches per epoch on this rank (the full epoch, also right after a mid-epoch restore)."""
        return self.sampler.num_batches

    def group_indices(self, group: int) -> np.ndarray:
        """(length,) int64 dataset indices of the frames of ``group``, in temporal order."""
        video, start, length = self.groups[group]
        return self.offsets[video] + start + np.arange(length, dtype=np.int64)

    def epoch_batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of this rank for ``epoch`` (default: current), ignoring any resume offset."""
        order = self.sampler.epoch_order(epoch).reshape(-1, self.sampler.chunk)
        return [np.concatenate([self.group_indices(g) for g in row]).tolist() for row in order]

    def __iter__(self) -> Iterator[list[int]]:
        # not a generator: the epoch and resume offset are fixed (and the state updated) at iter() time,
        # so state_dict() right after iter() already describes the new iteration. The pending skip is
        # cleared only once a batch is drawn: DataLoader calls iter() twice when it starts workers.
        epoch = self.epoch
        start = self._skip if self._skip_epoch == epoch else 0
        self._active, self._yielded = (epoch, start), start
        order = self.sampler.epoch_order(epoch).reshape(-1, self.sampler.chunk)
        return self._batches(order, start)

    def _batches(self, order: np.ndarray, start: int) -> Iterator[list[int]]:
        self._skip_epoch, self._skip = None, 0
        for b in range(start, len(order)):
            batch = np.concatenate([self.group_indices(g) for g in order[b]]).tolist()
            self._yielded = b + 1
            yield batch

    # -- resume ----------------------------------------------------------------------------------------
    def _fingerprint(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "num_replicas": self.num_replicas,
            "num_batches": len(self),
            "num_groups": len(self.groups),
        }

    def state_for(self, epoch: int, batches_done: int) -> dict[str, Any]:
        """The state of a run that has consumed ``batches_done`` batches of ``epoch``."""
        return {"epoch": int(epoch), "batches_done": int(batches_done), **self._fingerprint()}

    def state_dict(self) -> dict[str, Any]:
        """Epoch and batches this sampler has yielded in it (a pending restore if none yet).

        With DataLoader workers the sampler runs ahead of training; :class:`ResumableDataLoader` reports
        the batches actually delivered instead.
        """
        if self._active is not None:
            return self.state_for(self._active[0], self._yielded)
        if self._skip_epoch is not None:
            return self.state_for(self._skip_epoch, self._skip)
        return self.state_for(self.epoch, 0)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``: the next iteration yields exactly the batches of its epoch not yet done.

        A finished epoch resumes at the start of the next one. If the seed, world size or group table
        changed, the old order cannot be continued: the saved epoch restarts from its first batch (warned).
        """
        epoch, done = int(state["epoch"]), int(state["batches_done"])
        mismatch = {k: (state.get(k), v) for k, v in self._fingerprint().items() if state.get(k) != v}
        if mismatch:
            warnings.warn(
                f"sampler state does not match this sampler (saved, now): {mismatch}; "
                f"restarting epoch {epoch} from its first batch",
                stacklevel=2,
            )
            done = 0
        if done >= len(self):
            epoch, done = epoch + 1, 0
        self.set_epoch(epoch)
        self._skip_epoch, self._skip = epoch, done
        self._active, self._yielded = None, done


class RandomFrameSampler(ShuffleGroupSampler):
    """SGS ablation: each batch holds ``batch_size`` frames drawn at random from all videos.

    The same DDP, epoch and resume behaviour as :class:`ShuffleGroupSampler` (it is SGS with groups of one
    frame), and about the same number of frames per batch, so only the grouping differs.
    """

    def __init__(
        self,
        frame_counts: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        even_batches: EvenBatches = "drop",
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(
            frame_counts,
            1,
            groups_per_batch=batch_size,
            shuffle=shuffle,
            seed=seed,
            drop_last=True,
            even_batches=even_batches,
            num_replicas=num_replicas,
            rank=rank,
        )


def make_batch_sampler(
    name: str,
    frame_counts: Sequence[int],
    group_size: int,
    *,
    groups_per_batch: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    even_batches: EvenBatches = "drop",
    num_replicas: int | None = None,
    rank: int | None = None,
) -> ShuffleGroupSampler:
    """Build the training batch sampler by name: ``"sgs"`` or ``"random"`` (same frames per batch)."""
    if name == "sgs":
        return ShuffleGroupSampler(
            frame_counts,
            group_size,
            groups_per_batch=groups_per_batch,
            shuffle=shuffle,
            seed=seed,
            even_batches=even_batches,
            num_replicas=num_replicas,
            rank=rank,
        )
    if name == "random":
        return RandomFrameSampler(
            frame_counts,
            group_size * groups_per_batch,
            shuffle=shuffle,
            seed=seed,
            even_batches=even_batches,
            num_replicas=num_replicas,
            rank=rank,
        )
    raise ValueError(f"unknown sampler {name!r}; choose one of {SAMPLERS}")


class ResumableDataLoader(DataLoader):
    """A DataLoader over a :class:`ShuffleGroupSampler` batch sampler whose state Lightning checkpoints.

    ``state_dict()`` reports the epoch and the number of batches this loader has delivered in it (not the
    sampler's count, which runs ahead by the workers' prefetch); ``load_state_dict()`` makes the next
    iteration deliver exactly the batches of that epoch not delivered yet. ``len()`` stays the full epoch,
    as Lightning expects after a mid-epoch restore.
    """

    def __init__(self, dataset: Any, batch_sampler: ShuffleGroupSampler, **kwargs: Any) -> None:
        if not isinstance(batch_sampler, ShuffleGroupSampler):
            raise TypeError(
                f"batch_sampler must be a ShuffleGroupSampler, got {type(batch_sampler).__name__}"
            )
        super().__init__(dataset, batch_sampler=batch_sampler, **kwargs)
        self._live: tuple[int, int] | None = None  # (epoch, first batch) of the current iteration
        self._delivered = 0

    def __iter__(self) -> Iterator[Any]:
        sampler: ShuffleGroupSampler = self.batch_sampler  # type: ignore[assignment]
        self._live, self._delivered = None, 0
        for batch in super().__iter__():
            if self._live is None:
                # the sampler's iteration has started by the time its first batch arrives
                self._live = sampler._active if sampler._active is not None else (sampler.epoch, 0)
            self._delivered += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        sampler: ShuffleGroupSampler = self.batch_sampler  # type: ignore[assignment]
        if self._live is None:
            return sampler.state_dict()
        epoch, start = self._live
        return sampler.state_for(epoch, start + self._delivered)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batch_sampler.load_state_dict(state)  # type: ignore[union-attr]
        self._live, self._delivered = None, 0


class SequenceShardSampler(Sampler[int]):
    """Whole sequences per rank for evaluation, balanced by frame count; a video is never split.

    Greedy longest-processing-time: sequences in decreasing frame count (ties: lower index first) each go
    to the currently least-loaded rank (ties: lower rank). The result is deterministic and
    ``max load - min load <= longest sequence``. Yields this rank's sequence indices in increasing order.

    Args:
        frame_counts: (S,) frames of each sequence.
        num_replicas, rank: DDP world; default to ``torch.distributed`` when initialised.
    """

    def __init__(
        self, frame_counts: Sequence[int], num_replicas: int | None = None, rank: int | None = None
    ) -> None:
        counts = np.asarray(frame_counts, dtype=np.int64).reshape(-1)
        if (counts < 0).any():
            raise ValueError(f"frame_counts must be >= 0, got {counts.tolist()}")
        self.frame_counts = counts
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.assignment = self.assign(counts, self.num_replicas)
        self.indices = np.flatnonzero(self.assignment == self.rank)

    @staticmethod
    def assign(frame_counts: np.ndarray, num_replicas: int) -> np.ndarray:
        """(S,) int64 rank of every sequence under the greedy longest-first rule."""
        return assign_longest_first(frame_counts, num_replicas)

    def loads(self) -> np.ndarray:
        """(num_replicas,) int64 frames assigned to each rank."""
        return np.bincount(self.assignment, weights=self.frame_counts, minlength=self.num_replicas).astype(
            np.int64
        )

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices.tolist())

    def __len__(self) -> int:
        return int(self.indices.size)


def seed_from_torch() -> int:
    """A 63-bit seed drawn from torch's global generator.

    DataLoader seeds that generator per worker and per epoch (and ``lightning.seed_everything`` seeds the
    main process), so augmentation seeded this way differs across workers and epochs yet reproduces
    under a fixed global seed.
    """
    return int(torch.randint(0, 2**62, (1,)).item())
