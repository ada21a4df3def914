"""VOS, SOT and PCK Metric classes under DDP: 2 gloo processes give the same numbers as one process.

The test launches this file twice as a script (ranks 0 and 1); sequences are dealt round-robin, so the
ranks hold 3 and 2 sequences and the gathered order differs from the single-process order.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zoo.core.boxes import xywh_to_xyxy
from zoo.metrics.sot import got10k_ao, lasot_ope, otb_ope
from zoo.metrics.synced import DAVISJF, JHMDBPCK, OTBOPE, GOT10kAO, LaSOTOPE
from zoo.metrics.vos import davis_summary, jf_sequence

N_SEQ = 5


def _data() -> dict:
    rng = np.random.default_rng(2024)
    vos = []
    for _ in range(N_SEQ):
        t, k = int(rng.integers(4, 9)), int(rng.integers(1, 4))
        gt = np.zeros((t, 24, 32), np.uint8)
        for obj in range(1, k + 1):
            y, x = rng.integers(0, 16), rng.integers(0, 24)
            gt[:, y : y + 8, x : x + 8] = obj
        pred = np.roll(gt, rng.integers(-2, 3, t)[0], axis=2)
        pred[rng.random(pred.shape) < 0.05] = 0
        gt[:, :2, :2] = 255
        vos.append((gt, pred))
    sot = []
    for _ in range(N_SEQ):
        t = int(rng.integers(6, 20))
        gt = np.concatenate([rng.uniform(0, 200, (t, 2)), rng.uniform(10, 80, (t, 2))], 1)
        pred = gt + rng.normal(0, 6, (t, 4))
        pred[:, 2:] = np.abs(pred[:, 2:])
        sot.append((xywh_to_xyxy(pred), xywh_to_xyxy(gt), rng.integers(0, 9, t), rng.random(t) > 0.1))
    kps = []
    for _ in range(N_SEQ):
        t = int(rng.integers(3, 8))
        gt = rng.uniform(0, 100, (t, 15, 2))
        pred = gt + rng.normal(0, 4, gt.shape)
        pred[rng.random((t, 15)) < 0.1, 0] = -1
        kps.append((pred, gt))
    return {"vos": vos, "sot": sot, "kps": kps}


def _metrics(indices: list[int]) -> dict[str, float]:
    """Every Metric class fed the sequences in ``indices``; compute() syncs when a process group is up."""
    data = _data()
    davis, otb, got = DAVISJF(), OTBOPE(), GOT10kAO()
    lasot_g, lasot_p = LaSOTOPE("got10k"), LaSOTOPE("pytracking")
    pck = JHMDBPCK()
    for i in indices:
        davis.update(*data["vos"][i])
        pred, gt, cover, visible = data["sot"][i]
        otb.update(pred, gt)
        got.update(pred, gt, (240, 200), cover)
        lasot_g.update(pred, gt, visible)
        lasot_p.update(pred, gt, visible)
        pck.update(*data["kps"][i])
    out = {}
    for name, metric in (
        ("davis", davis),
        ("otb", otb),
        ("got", got),
        ("lasot_g", lasot_g),
        ("lasot_p", lasot_p),
        ("pck", pck),
    ):
        for key, value in metric.compute().items():
            if value.ndim == 0:
                out[f"{name}/{key}"] = value.item()
    return out


def _worker(rank: int, port: int, out_path: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        res = _metrics([i for i in range(N_SEQ) if i % 2 == rank])
        if rank == 0:
            Path(out_path).write_text(json.dumps(res))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.ddp
# two fresh interpreters importing torch + torchmetrics: ~15-45 s on a shared 2-core box
def test_two_gloo_ranks_match_one_process(tmp_path):
    out = tmp_path / "ddp.json"
    port = _free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, str(rank), str(port), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for rank in range(2)
    ]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=240)[0].decode(errors="replace"))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("DDP workers timed out")
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    ddp = json.loads(out.read_text())
    single = _metrics(list(range(N_SEQ)))
    assert ddp.keys() == single.keys() and len(ddp) >= 20
    for key in single:
        assert ddp[key] == single[key] or (np.isnan(ddp[key]) and np.isnan(single[key])), key

    # and the Metric numbers are the functional API's
    data = _data()
    ref_vos = davis_summary([jf_sequence(*s) for s in data["vos"]])
    assert single["davis/J&F-Mean"] == ref_vos["J&F-Mean"]
    assert single["davis/num_objects"] == ref_vos["num_objects"]
    preds, gts = [s[0] for s in data["sot"]], [s[1] for s in data["sot"]]
    assert single["otb/success_auc"] == otb_ope(preds, gts)["success_auc"]
    assert single["got/AO"] == got10k_ao(preds, gts, [(240, 200)] * N_SEQ, [s[2] for s in data["sot"]])["AO"]
    vis = [s[3] for s in data["sot"]]
    assert single["lasot_p/norm_precision"] == lasot_ope(preds, gts, vis, "pytracking")["norm_precision"]


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
