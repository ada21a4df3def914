"""FineTrack training throughput: one process against a DDP group of two CPU processes (scaling ratio).

Each row is a real ``python -m zoo.train recipe=finetrack`` run (ZooSynth default, SGS batches of one group of
``data.group_size`` frames per rank and step) for ``--steps`` optimiser steps with the
:class:`~zoo.callbacks.throughput.TrainThroughput` callback: frames consumed by all ranks after
``--warmup`` steps over the wall time of the slowest rank, and the peak resident memory of each rank's main
process. Tracking evaluation and checkpoint selection are switched off (they are not training).

Rows: 1 process x T threads for T in ``--threads`` (the single-process peers) and ``trainer=ddp_cpu``
(2 processes over gloo, ``--ddp-threads`` threads each). On a 2-core machine the fair pair is "1 process x 2
threads" vs "2 processes x 1 thread": the same cores, split by data instead of inside each operator.
Prints a table (median of ``--repeats`` runs, ratio to each single-process row); never asserts a timing.

    python benchmarks/finetrack_ddp.py [--steps 24] [--warmup 3] [--repeats 1] [--threads 1 2] [--ddp-threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def train_run(out: Path, trainer: str, threads: int, steps: int, warmup: int, extra: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env.pop("ZOO_RUN_DIR", None)
    cmd = [
        sys.executable, "-m", "zoo.train", "recipe=finetrack", f"trainer={trainer}",
        f"trainer.max_steps={steps}", "callbacks.tracking_eval=null", "checkpoint.monitor=null",
        "progress=none", f"run_dir={out}",
        "+callbacks.throughput._target_=zoo.callbacks.throughput.TrainThroughput",
        f"+callbacks.throughput.warmup_steps={warmup}", *extra,
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads((out / "throughput.json").read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24, help="optimiser steps per rank")
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of the timing")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="single-process rows")
    parser.add_argument("--ddp-threads", type=int, default=1, help="torch threads per DDP rank")
    parser.add_argument("overrides", nargs="*", help="extra zoo.train overrides, e.g. data.group_size=4")
    args = parser.parse_args(argv)

    rows: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        setups = [(f"1 process x {t} thread(s)", "cpu", t) for t in args.threads]
        setups.append((f"DDP 2 processes x {args.ddp_threads} thread(s)", "ddp_cpu", args.ddp_threads))
        for label, trainer, threads in setups:
            runs = []
            for r in range(args.repeats):
                out = Path(tmp) / f"{trainer}-{threads}-{r}"
                runs.append(train_run(out, trainer, threads, args.steps, args.warmup, args.overrides))
                print(f"{label}: run {r + 1}/{args.repeats}: {runs[-1]['frames_per_s']:.2f} frames/s", flush=True)
            fps = statistics.median(x["frames_per_s"] for x in runs)
            rows.append((label, {**runs[0], "frames_per_s": fps}))

    singles = [(label, r["frames_per_s"]) for label, r in rows if r["world_size"] == 1]
    head = "| run | ranks | frames/s (all ranks) | frames/s per rank | peak RSS per rank (MiB) |"
    head += "".join(f" ratio to {label} |" for label, _ in singles)
    print("\n" + head)
    print("|" + "---|" * (5 + len(singles)))
    for label, r in rows:
        cells = [label, str(r["world_size"]), f"{r['frames_per_s']:.2f}", f"{r['frames_per_s'] / r['world_size']:.2f}",
                 " / ".join(f"{m:.0f}" for m in r["peak_rss_mib"])]
        cells += [f"{r['frames_per_s'] / fps:.2f}x" for _, fps in singles]
        print("| " + " | ".join(cells) + " |")
    print(f"\n{args.steps} steps per rank, the first {args.warmup} untimed, median of {args.repeats}; "
          f"{os.cpu_count()} CPUs visible.")


if __name__ == "__main__":
    main()
