"""A 10,000-frame sequence runs in bounded memory: the tracker holds one clip's graphs at a time plus (N,)
arrays for the sequence, so a fresh process's peak RSS barely moves from 1,000 to 10,000 frames (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SPEED = Path(__file__).resolve().parents[2] / "benchmarks" / "kfe_iff_speed.py"


def _peak_mib(method: str, length: int, density: int) -> tuple[float, int]:
    out = subprocess.run([sys.executable, str(SPEED), "--probe", method, str(length), str(density)],
                         check=True, capture_output=True, text=True, timeout=900).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return float(doc["peak_mib"]), int(doc["rows"])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sushi", "kfe_iff"])
def test_ten_thousand_frames_in_bounded_memory(method: str) -> None:
    short, short_rows = _peak_mib(method, 1000, 8)
    long, long_rows = _peak_mib(method, 10000, 8)
    assert long_rows > 8 * short_rows  # ten times the frames really were tracked
    assert long <= 1.1 * short, f"{method}: peak {long:.0f} MiB at 10,000 frames vs {short:.0f} MiB at 1,000"
