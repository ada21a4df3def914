"""Property and integration tests for zoo.data.samplers (SGS, random ablation, resume, sequence sharding)."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from lightning.fabric.utilities.data import _set_sampler_epoch
from lightning.fabric.utilities.types import _Stateful
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import Dataset

from zoo.data.samplers import (
    RandomFrameSampler,
    ResumableDataLoader,
    SequenceShardSampler,
    ShuffleGroupSampler,
    build_groups,
    make_batch_sampler,
)

counts_st = st.lists(st.integers(0, 40), min_size=1, max_size=8)
FAST = settings(max_examples=40, deadline=None, database=None)  # no .hypothesis/ folder in the repo


def _video_of(counts: list[int]) -> np.ndarray:
    """(N,) video id of every global frame index, built independently of the sampler."""
    return np.concatenate([np.full(n, v) for v, n in enumerate(counts)] + [np.zeros(0, int)])


def _all_ranks(counts, b, world, **kw) -> list[list[list[int]]]:
    return [list(ShuffleGroupSampler(counts, b, num_replicas=world, rank=r, **kw)) for r in range(world)]


def test_build_groups_hand_fixture():
    got = build_groups([5, 3, 0, 8], 3)
    assert got.tolist() == [[0, 0, 3], [1, 0, 3], [3, 0, 3], [3, 3, 3]]
    got = build_groups([5, 3, 0, 8], 3, drop_last=False)
    assert got.tolist() == [[0, 0, 3], [0, 3, 2], [1, 0, 3], [3, 0, 3], [3, 3, 3], [3, 6, 2]]
    with pytest.raises(ValueError, match="group_size"):
        build_groups([4], 0)


def test_group_indices_are_global_frame_indices():
    s = ShuffleGroupSampler([4, 6], 3, shuffle=False, num_replicas=1, rank=0)
    # video 0 frames 0..2 -> 0..2; video 1 frames 0..2 -> 4..6, 3..5 -> 7..9
    assert list(s) == [[0, 1, 2], [4, 5, 6], [7, 8, 9]]


@FAST
@given(
    counts=counts_st,
    b=st.integers(1, 5),
    world=st.integers(1, 4),
    k=st.integers(1, 3),
    seed=st.integers(0, 99),
)
def test_sgs_disjoint_consecutive_equal_counts(counts, b, world, k, seed):
    n_groups = int(sum(n // b for n in counts))
    if n_groups < world * k:
        with pytest.raises(ValueError, match="group"):
            ShuffleGroupSampler(counts, b, groups_per_batch=k, num_replicas=world, rank=0)
        return
    ranks = _all_ranks(counts, b, world, groups_per_batch=k, seed=seed)
    assert len({len(r) for r in ranks}) == 1, "every rank must run the same number of batches"
    assert all(len(r) == n_groups // (world * k) for r in ranks)
    video = _video_of(counts)
    flat = [i for r in ranks for batch in r for i in batch]
    assert len(flat) == len(set(flat)), "ranks must not share frames"
    for r in ranks:
        for batch in r:
            assert len(batch) == b * k
            for g in range(k):
                run = batch[g * b : (g + 1) * b]
                assert np.all(np.diff(run) == 1) and len(set(video[run])) == 1, "a group is one video's run"
    # coverage: fewer than world * k groups dropped
    assert n_groups - len(flat) // b < world * k


@FAST
@given(counts=counts_st, b=st.integers(1, 4), world=st.integers(1, 4), seed=st.integers(0, 99))
def test_sgs_pad_covers_everything(counts, b, world, seed):
    n_groups = int(sum(n // b for n in counts))
    if n_groups == 0:
        return
    ranks = _all_ranks(counts, b, world, seed=seed, even_batches="pad")
    assert len({len(r) for r in ranks}) == 1
    flat = [i for r in ranks for batch in r for i in batch]
    full = {i for n_off, n in zip(np.cumsum([0] + counts), counts) for i in range(n_off, n_off + n // b * b)}
    assert set(flat) == full
    assert len(flat) // b - n_groups < world


@FAST
@given(counts=st.lists(st.integers(10, 30), min_size=2, max_size=5), seed=st.integers(0, 10**6))
def test_sgs_determinism_and_epochs(counts, seed):
    a = ShuffleGroupSampler(counts, 2, seed=seed, num_replicas=1, rank=0)
    b = ShuffleGroupSampler(counts, 2, seed=seed, num_replicas=1, rank=0)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    second = list(a)
    assert first != second, "the group order must change between epochs"
    assert sorted(map(tuple, first)) == sorted(map(tuple, second)), "same groups, other order"
    c = ShuffleGroupSampler(counts, 2, seed=seed + 1, num_replicas=1, rank=0)
    assert list(c) != first


@FAST
@given(
    counts=st.lists(st.integers(0, 30), min_size=1, max_size=6),
    world=st.integers(1, 3),
    seed=st.integers(0, 99),
    epoch=st.integers(0, 5),
    data=st.data(),
)
def test_sgs_resume_mid_epoch_equals_tail(counts, world, seed, epoch, data):
    if sum(n // 2 for n in counts) < world:
        return
    for rank in range(world):
        s = ShuffleGroupSampler(counts, 2, seed=seed, num_replicas=world, rank=rank)
        s.set_epoch(epoch)
        full = list(s)
        k = data.draw(st.integers(0, len(full)))
        it = iter(s)
        head = [next(it) for _ in range(k)]
        state = s.state_dict()
        fresh = ShuffleGroupSampler(counts, 2, seed=seed, num_replicas=world, rank=rank)
        fresh.load_state_dict(state)
        tail = list(fresh)
        if k < len(full):
            assert head + tail == full
        else:  # a finished epoch resumes at the start of the next one
            assert tail == s.epoch_batches(epoch + 1)
        # the pending skip is consumed once: the following iteration is the whole epoch again
        assert len(list(fresh)) == len(full)


def test_resume_with_other_world_size_restarts_epoch():
    s = ShuffleGroupSampler([20, 20], 2, seed=3, num_replicas=2, rank=0)
    s.set_epoch(4)
    it = iter(s)
    next(it)
    state = s.state_dict()
    other = ShuffleGroupSampler([20, 20], 2, seed=3, num_replicas=1, rank=0)
    with pytest.warns(UserWarning, match="restarting epoch 4"):
        other.load_state_dict(state)
    assert list(other) == other.epoch_batches(4)


def test_random_sampler_ablation():
    counts = [30, 30, 30]
    s = make_batch_sampler("random", counts, 4, seed=0, num_replicas=1, rank=0)
    assert isinstance(s, RandomFrameSampler)
    batches = list(s)
    assert len(batches) == 90 // 4 and all(len(x) == 4 for x in batches)
    flat = [i for x in batches for i in x]
    assert len(set(flat)) == len(flat)
    # random frames: almost no batch is a run of consecutive frames (SGS batches all are)
    runs = sum(np.all(np.diff(x) == 1) for x in batches)
    assert runs <= 1
    sgs = make_batch_sampler("sgs", counts, 4, seed=0, num_replicas=1, rank=0)
    assert all(np.all(np.diff(x) == 1) for x in sgs)
    with pytest.raises(ValueError, match="unknown sampler"):
        make_batch_sampler("nope", counts, 4)


def test_lightning_sets_epoch_and_sees_stateful_loader():
    s = ShuffleGroupSampler([10, 10], 2, num_replicas=1, rank=0)
    dl = ResumableDataLoader(list(range(20)), s)
    _set_sampler_epoch(dl, 3)
    assert s.epoch == 3
    assert isinstance(dl, _Stateful)
    assert len(dl) == 10


class _Index(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


@pytest.mark.parametrize("persistent", [False, True])
def test_resumable_loader_with_workers_counts_delivered_batches(persistent):
    counts = [13, 9, 17]
    mk = lambda: ShuffleGroupSampler(counts, 3, seed=5, num_replicas=1, rank=0)  # noqa: E731
    kw = {"num_workers": 2, "persistent_workers": persistent}
    dl = ResumableDataLoader(_Index(sum(counts)), mk(), **kw)
    full = [b.tolist() for b in dl]
    dl.batch_sampler.set_epoch(1)
    full1 = [b.tolist() for b in dl]
    assert sorted(full1) == sorted(full) and full1 != full
    dl2 = ResumableDataLoader(_Index(sum(counts)), mk(), **kw)
    it = iter(dl2)
    head = [next(it).tolist() for _ in range(4)]  # workers have prefetched more than 4 by now
    state = dl2.state_dict()
    assert state["batches_done"] == 4
    del it
    dl3 = ResumableDataLoader(_Index(sum(counts)), mk(), **kw)
    dl3.load_state_dict(state)
    assert head + [b.tolist() for b in dl3] == full
    dl3.batch_sampler.set_epoch(1)  # the next epoch runs whole again
    assert [b.tolist() for b in dl3] == full1


class _Recorder(L.LightningModule):
    def __init__(self, counts: list[int]) -> None:
        super().__init__()
        self.counts = counts
        self.w = torch.nn.Parameter(torch.ones(1))
        self.seen: list[list[int]] = []

    def train_dataloader(self):
        sampler = ShuffleGroupSampler(self.counts, 2, seed=7, num_replicas=1, rank=0)
        return ResumableDataLoader(_Index(sum(self.counts)), sampler, num_workers=2)

    def training_step(self, batch, batch_idx):
        self.seen.append(batch.tolist())
        return (self.w**2).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def _trainer(tmp_path, **kw) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        default_root_dir=tmp_path,
        **kw,
    )


@pytest.mark.filterwarnings("ignore:.*LeafSpec")
def test_lightning_run_follows_the_epoch_orders(tmp_path):
    counts = [4, 6]
    ref = _Recorder(counts)
    _trainer(tmp_path, max_epochs=3, enable_checkpointing=False).fit(ref)
    expect = ShuffleGroupSampler(counts, 2, seed=7, num_replicas=1, rank=0)
    assert ref.seen == [b for e in range(3) for b in expect.epoch_batches(e)]


@pytest.mark.filterwarnings("ignore:Be aware that when using")
@pytest.mark.filterwarnings("ignore:.*LeafSpec")
@pytest.mark.parametrize("stop", [2, 5, 7])  # mid-epoch 0, end of epoch 0 (5 batches), mid-epoch 1
def test_lightning_resume_continues_with_the_remaining_batches(tmp_path, stop):
    counts = [4, 6]  # 5 groups of 2 frames -> 5 batches per epoch
    ref = _Recorder(counts)
    ref.seen = [
        ShuffleGroupSampler(counts, 2, seed=7, num_replicas=1, rank=0).epoch_batches(e) for e in range(3)
    ]
    ref.seen = [b for epoch in ref.seen for b in epoch]  # what an uninterrupted 3-epoch run trains on
    assert len(ref.seen) == 15

    first = _Recorder(counts)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", every_n_train_steps=stop, save_top_k=-1)
    _trainer(tmp_path / "a", max_epochs=3, max_steps=stop, callbacks=[ckpt]).fit(first)
    path = next((tmp_path / "ck").glob(f"*step={stop}.ckpt"))
    saved = torch.load(path, weights_only=False)["loops"]["fit_loop"]["state_dict"]["combined_loader"]
    assert saved[0]["batches_done"] == stop % 5 or saved[0]["batches_done"] == 5

    second = _Recorder(counts)
    _trainer(tmp_path / "b", max_epochs=3, enable_checkpointing=False).fit(second, ckpt_path=path)
    assert first.seen + second.seen == ref.seen


def test_sequence_shard_hand_fixture():
    counts = [10, 9, 8, 1, 1]
    # longest first: 10 -> r0, 9 -> r1, 8 -> r1 (9 < 10), 1 -> r0, 1 -> r0
    assert SequenceShardSampler.assign(np.array(counts), 2).tolist() == [0, 1, 1, 0, 0]
    s0 = SequenceShardSampler(counts, 2, 0)
    assert list(s0) == [0, 3, 4] and s0.loads().tolist() == [12, 17]
    assert list(SequenceShardSampler(counts, 2, 1)) == [1, 2]


@FAST
@given(counts=st.lists(st.integers(0, 500), min_size=0, max_size=30), world=st.integers(1, 6))
def test_sequence_shard_partition_and_balance(counts, world):
    shards = [list(SequenceShardSampler(counts, world, r)) for r in range(world)]
    flat = sorted(i for s in shards for i in s)
    assert flat == list(range(len(counts))), "every sequence on exactly one rank"
    loads = [sum(counts[i] for i in s) for s in shards]
    if counts:
        assert max(loads) <= min(loads) + max(counts)
    assert shards == [list(SequenceShardSampler(counts, world, r)) for r in range(world)]


def test_world_arguments_are_checked():
    with pytest.raises(ValueError, match="rank"):
        SequenceShardSampler([1, 2], 2, 2)
    with pytest.raises(ValueError, match="frame_counts is empty"):
        ShuffleGroupSampler([], 2)


def test_world_defaults_to_the_initialised_process_group(monkeypatch):
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda: 3)
    monkeypatch.setattr(dist, "get_rank", lambda: 2)
    s = ShuffleGroupSampler([30, 30], 2, seed=1)
    assert (s.num_replicas, s.rank) == (3, 2)
    assert list(s) == list(ShuffleGroupSampler([30, 30], 2, seed=1, num_replicas=3, rank=2))
    assert SequenceShardSampler([5, 4, 3]).rank == 2
