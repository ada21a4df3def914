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


# zoo.evaluate and zoo.train --help still list the registry, which imports the methods (issue 14, open).
@pytest.mark.parametrize("module", ["zoo.leaderboard", "zoo.publish", "zoo.demo"])
def test_help_imports_no_model_stack(module: str, tmp_path: Path) -> None:
    names, proc = _imported([module, "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not names & {"lightning", "timm"}, f"{module} --help imported {sorted(names & {'lightning', 'timm'})}"


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
