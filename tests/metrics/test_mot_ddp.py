"""MOTMetrics under DDP: sequences spread over 2 gloo ranks give the single-process (TrackEval) combine."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.metrics.mot_synthetic import synthetic_sequence
from zoo.metrics.mot import combine, sequence_results, sequence_stats
from zoo.metrics.synced import CLEARMetric, HOTAMetric, MOTMetrics

REPO = Path(__file__).resolve().parents[2]
NUM_SEQUENCES = 9  # odd: the ranks get 5 and 4 sequences


def _stats(seeds):
    return [sequence_stats(*synthetic_sequence(s)[:2], synthetic_sequence(s)[2]) for s in seeds]


def _assert_same(ours: dict, ref: dict, tol: float = 1e-9) -> None:
    assert set(ref) <= set(ours)
    for k, v in ref.items():
        got = np.asarray(ours[k], dtype=np.float64)
        if isinstance(v, (int, np.integer)) or (isinstance(v, np.ndarray) and v.dtype.kind == "i"):
            assert np.array_equal(got, np.asarray(v)), k
        else:
            assert np.all(np.abs(got - np.asarray(v, dtype=np.float64)) <= tol), k


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.ddp
def test_two_gloo_ranks_equal_one_process(tmp_path):
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(rank), WORLD_SIZE="2",
                   LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")  # fmt: skip
        cmd = [sys.executable, "-m", "tests.metrics.mot_ddp_worker", str(tmp_path), str(NUM_SEQUENCES)]
        procs.append(
            subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    outs = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        outs.append(out.decode(errors="replace"))
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-3000:] for o in outs)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r.pop("_sequences_local") for r in ranks] == [5, 4]
    ref = combine(_stats(range(NUM_SEQUENCES)))
    for r in ranks:
        _assert_same(r, ref)
    assert ranks[0] == ranks[1]
    # a sanity check that the split matters: one rank's own sequences give other numbers
    assert combine(_stats(range(0, NUM_SEQUENCES, 2)))["CLR_TP"] != ref["CLR_TP"]


def test_metric_states_reproduce_combine_in_one_process():
    stats = _stats(range(6))
    m = MOTMetrics()
    for s in stats:
        m.update(s)
    _assert_same(m.compute(), combine(stats))
    assert all(t.dtype == torch.float64 for t in (m.count, m.hota, m.clear, m.identity))
    m.reset()
    m.update(stats[0])
    _assert_same(m.compute(), combine(stats[:1]))


def test_family_metrics_and_missing_statistics():
    stats = _stats(range(3))
    h = HOTAMetric()
    for s in stats:
        h.update(s)
    out = h.compute()
    assert "HOTA" in out and "MOTA" not in out and "IDF1" not in out and "GT_Dets" in out
    _assert_same(out, {k: v for k, v in combine(stats).items() if k in out})
    only_hota = sequence_stats(*synthetic_sequence(0)[:2], synthetic_sequence(0)[2], metrics=("HOTA",))
    with pytest.raises(ValueError, match="CLEAR"):
        CLEARMetric().update(only_hota)
    with pytest.raises(ValueError, match="no CLEAR statistics"):
        combine([only_hota])
    assert abs(combine([only_hota], metrics=("HOTA",))["HOTA"] - sequence_results(only_hota)["HOTA"]) < 1e-12
