"""Re-scoring runs at command speed: ``zoo.evaluate results=DIR`` imports neither Lightning, timm nor torch
(measured with ``python -X importtime``), ``workers=N`` gives the single-process numbers, and the CLIs'
``--help`` answers without the model stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.core.parallel import parallel_map
from zoo.data.formats.errors import FormatError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"
needs_data = pytest.mark.skipif(not (DATA / "seqmaps" / "MOT17-train.txt").is_file(), reason="no MOT17 data")
HEAVY = ("lightning", "timm", "torch", "torchvision", "torchmetrics")


def _imported(args: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return names, proc


@needs_data
def test_rescoring_imports_no_model_stack_and_workers_agree(tmp_path: Path) -> None:
    docs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        names, proc = _imported(
            ["zoo.evaluate", f"results={DATA / 'tracker' / 'data'}", "data=mot17",
             f"data.root={DATA / 'gt' / 'MOT17-train'}", "max_sequences=3", "progress=false", f"out={out}",
             f"workers={workers}"], tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert not names & set(HEAVY), f"re-scoring imported {sorted(names & set(HEAVY))}"
        docs.append(json.loads((out / "results.json").read_text())["metrics"])
    assert docs[0] == docs[1]
    # Gathering a board from those results (no evaluate=/train=) needs no model stack either.
    (tmp_path / "lb.yaml").write_text(f"runs: ['{tmp_path}/w1/results.json']\nhub: []\n")
    names, proc = _imported(["zoo.leaderboard", "config=lb.yaml", "out=board", "png=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not names & set(HEAVY), f"zoo.leaderboard imported {sorted(names & set(HEAVY))}"
    assert "HOTA" in (tmp_path / "board" / "leaderboard.md").read_text()


# --help lists trackers from the registry's static catalogue, so no CLI imports torch, OpenCV or a method.
@pytest.mark.parametrize(
    "module", ["zoo.evaluate", "zoo.train", "zoo.leaderboard", "zoo.publish", "zoo.demo", "zoo.precompute"]
)
def test_help_imports_no_model_stack(module: str, tmp_path: Path) -> None:
    names, proc = _imported([module, "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    heavy = names & {*HEAVY, "cv2", "scipy"} | {n for n in names if n.startswith(("zoo.methods", "zoo.trackers"))}
    assert not heavy, f"{module} --help imported {sorted(heavy)}"
    if module in ("zoo.evaluate", "zoo.train"):
        assert "finetrack" in proc.stdout and "csrt" in proc.stdout


def _square(i: int, x: int) -> int:
    return i * 1000 + x * x


def test_parallel_map_equals_serial_and_keeps_order() -> None:
    items = list(range(7))
    seen: list[int] = []
    offset = 5  # a closure: workers inherit it through fork instead of pickling
    got = parallel_map(lambda i, x: _square(i, x) + offset, items, 3, order=[6, 5, 4, 3, 2, 1, 0],
                       on_result=lambda i, _: seen.append(i))  # fmt: skip
    assert got == [_square(i, x) + offset for i, x in enumerate(items)]
    assert sorted(seen) == items


def _fail(i: int, path: str) -> None:
    if i == 2:
        raise FormatError(path, "column 3 is 'x', not a finite number", line=7)


def test_parallel_map_reraises_the_workers_format_error() -> None:
    with pytest.raises(FormatError, match=r"b\.txt, line 7: column 3") as info:
        parallel_map(_fail, ["a.txt", "a.txt", "b.txt", "a.txt"], 2)
    assert info.value.line == 7 and info.value.path == Path("b.txt")


def test_parallel_map_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        parallel_map(_square, [1, 2], 0)
    with pytest.raises(ValueError, match="permutation"):
        parallel_map(_square, [1, 2], 2, order=[0, 0])
