"""Real multi-process training (trainer=ddp_cpu: 2 processes, gloo, script relaunch) on ZooSynth tiny,
and exact mid-epoch resumption through the resumable SGS loader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
import torch

from ..conftest import plumbing_env


def _records(trace: Path) -> list[dict]:
    return [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []


@pytest.mark.ddp
def test_ddp_cpu_fit_two_processes(tmp_path):
    trace, run_dir = tmp_path / "trace.jsonl", tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "zoo.train", "recipe=plumbing_mot", "trainer=ddp_cpu", "progress=none",
         f"run_dir={run_dir}", "+callbacks.throughput._target_=zoo.callbacks.throughput.TrainThroughput",
         "+callbacks.throughput.warmup_steps=1"],
        cwd=tmp_path, env=plumbing_env(ZOO_PLUMBING_TRACE=str(trace)), capture_output=True, text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    records = _records(trace)
    assert {r["rank"] for r in records} == {0, 1}
    for epoch in (0, 1):
        per_rank = defaultdict(list)
        for r in records:
            if r["epoch"] == epoch:
                per_rank[r["rank"]].append(r)
        assert len(per_rank[0]) == len(per_rank[1]) > 0  # equal batch counts: no rank waits at a collective
        seen = {rank: {tuple(s) for rec in recs for s in rec["samples"]} for rank, recs in per_rank.items()}
        assert not seen[0] & seen[1], "ranks trained on the same frames in one epoch"
        for rec in per_rank[0] + per_rank[1]:  # every batch is one group: consecutive frames of one video
            videos = {v for v, _ in rec["samples"]}
            frames = [f for _, f in rec["samples"]]
            assert len(videos) == 1 and frames == list(range(frames[0], frames[0] + len(frames)))
    # rank 0 alone writes the run's files (no model card: the plumbing module is not a registered method)
    assert (run_dir / "config.yaml").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    rows = (run_dir / "logs" / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step") and len(rows) > 1
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "checkpoints", "config.yaml", "logs", "throughput.json", "training.json"
    ]
    # the throughput callback counts every frame of both ranks after the first (warm-up) step of the fit
    speed = json.loads((run_dir / "throughput.json").read_text())
    timed = [r for r in records if r["step"] >= 1]
    assert speed["world_size"] == 2 and len(speed["peak_rss_mib"]) == 2 and min(speed["peak_rss_mib"]) > 50
    assert speed["frames"] == sum(len(r["samples"]) for r in timed)
    assert speed["steps"] == len(timed) // 2 and speed["frames_per_s"] == pytest.approx(
        speed["frames"] / speed["wall_s"]
    )


def test_resume_mid_epoch_replays_exactly_the_remaining_groups(tmp_path):
    """Kill a run after some steps of epoch 1, resume it: the samples seen after resuming are exactly the
    uninterrupted run's remaining samples (the SGS order and position are restored)."""
    common = ["recipe=plumbing_mot", "progress=none", "checkpoint.every_n_train_steps=1"]
    ref_trace = tmp_path / "ref.jsonl"
    ref = subprocess.run([sys.executable, "-m", "zoo.train", *common, f"run_dir={tmp_path / 'ref'}"],
                         cwd=tmp_path, env=plumbing_env(ZOO_PLUMBING_TRACE=str(ref_trace)),
                         capture_output=True, text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr[-3000:]
    reference = _records(ref_trace)
    steps_per_epoch = sum(1 for r in reference if r["epoch"] == 0)
    kill_after = steps_per_epoch + max(1, steps_per_epoch // 2)  # mid-way through epoch 1

    trace, run_dir = tmp_path / "killed.jsonl", tmp_path / "killed"
    env = plumbing_env(ZOO_PLUMBING_TRACE=str(trace))
    proc = subprocess.Popen([sys.executable, "-m", "zoo.train", *common, f"run_dir={run_dir}"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while len(_records(trace)) < kill_after:
        if proc.poll() is not None:
            pytest.fail("run finished before it could be killed: " + proc.stderr.read().decode()[-2000:])
        if time.time() > deadline:
            proc.kill()
            pytest.fail("run too slow")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert steps_per_epoch < saved < 2 * steps_per_epoch
    killed_records = len(_records(trace))
    resumed = subprocess.run([sys.executable, "-m", "zoo.train", f"resume={run_dir}", "progress=none"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _records(trace)[killed_records:]
    expected = [r for r in reference if r["step"] >= saved]
    assert [(r["step"], r["samples"]) for r in after] == [(r["step"], r["samples"]) for r in expected]
