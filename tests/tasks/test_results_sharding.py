"""results.json helpers, shard assignment, and a real 2-process gloo run of the evaluate CLI under torchrun."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.tasks.fixtures import write_mot_split
from zoo.data.formats import motchallenge
from zoo.tasks import mot
from zoo.tasks.results import SCHEMA_KEYS, jsonable, read_results_json, write_results_json
from zoo.tasks.sharding import shard_indices
from zoo.trackers.byte import ByteTrack

REPO = Path(__file__).resolve().parents[2]


def test_jsonable_converts_numpy_torch_and_non_finite() -> None:
    doc = jsonable({"a": np.float32(0.5), "b": np.arange(3), "c": float("nan"), "d": torch.tensor([1.5, math.inf]),
                    "e": (np.int64(4), Path("/x")), "f": np.bool_(True)})  # fmt: skip
    assert doc == {"a": 0.5, "b": [0, 1, 2], "c": None, "d": [1.5, None], "e": [4, "/x"], "f": True}
    assert isinstance(doc["e"][0], int)
    with pytest.raises(TypeError, match="cannot store a object"):
        jsonable({"x": object()})


def test_results_json_write_read_and_schema(tmp_path: Path) -> None:
    doc = {k: None for k in SCHEMA_KEYS} | {"metrics": {"HOTA": np.float64(0.5)}}
    path = write_results_json(tmp_path / "r" / "results.json", doc)
    assert read_results_json(path)["metrics"] == {"HOTA": 0.5}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temp file left behind
    with pytest.raises(ValueError, match=r"lacks the keys \['fps'\]"):
        write_results_json(tmp_path / "bad.json", {k: None for k in SCHEMA_KEYS if k != "fps"})
    (tmp_path / "old.json").write_text(json.dumps({"method": "x"}))
    with pytest.raises(ValueError, match="old.json: results.json lacks the keys"):
        read_results_json(tmp_path / "old.json")


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_shards_are_whole_disjoint_and_balanced(world: int) -> None:
    counts = [100, 7, 55, 55, 30, 1, 80]
    shards = [shard_indices(counts, r, world) for r in range(world)]
    flat = sorted(i for s in shards for i in s)
    assert flat == list(range(len(counts)))
    loads = [sum(counts[i] for i in s) for s in shards]
    assert max(loads) - min(loads) <= max(counts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.ddp
def test_torchrun_two_process_gloo_evaluation_equals_one_process(tmp_path: Path) -> None:
    root = tmp_path / "dance"
    write_mot_split(root, ("a", "b", "c"))
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
        "-m", "zoo.evaluate", "model=bytetrack", "data=dancetrack", f"data.root={root}", "data.val_split=train",
        f"out={out}", "progress=false",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("COMBINED") == 1  # only rank 0 prints
    doc = json.loads((out / "results.json").read_text())
    assert doc["hardware"]["world_size"] == 2
    assert sorted(p.name for p in out.glob("*.txt")) == ["a.txt", "b.txt", "c.txt"]
    single = mot.run_benchmark(
        ByteTrack(), motchallenge.load_split(root / "train"), None, benchmark="dancetrack", progress=False
    )
    assert doc["metrics"] == jsonable(single.metrics)
