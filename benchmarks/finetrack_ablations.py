"""FineTrack on ZooSynth-MOT val: the paper's ablations as recipe overrides, beside ByteTrack and SORT.

Each variant is ``python -m zoo.train recipe=finetrack <override>`` (the recipe's full schedule) into
``<out>/<variant>``; its score is the run's ``results.json``, which the training's TrackingEvaluation callback
writes from the LAST epoch's weights (no checkpoint is picked by its val score). Finished runs are reused,
so the script can be stopped and restarted. The baselines run on the same val split and public detections.

    python benchmarks/finetrack_ablations.py [--out outputs/ablations] [--only k6 k1 ...] [--threads N]
        [--jobs 2] [-- extra zoo.train overrides applied to every variant]

Variants (the issue's list; each line is what to type to rerun it):

    k6        recipe=finetrack                      K = 6 parts, L_div (gamma = 2), SGS (the paper)
    k1        recipe=finetrack model.num_parts=1    one part mask + global feature, no L_div pairs
    no_div    recipe=finetrack model.gamma=0        without the diversity loss
    random    recipe=finetrack data.sampler=random  random frames instead of Shuffle-Group Sampling

``--jobs 2`` trains two variants at a time (each with ``--threads`` torch threads, default cores // jobs).
Prints a markdown table; never asserts a score.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

VARIANTS: dict[str, tuple[str, list[str]]] = {
    "k6": ("FineTrack (K=6, L_div, SGS)", []),
    "k1": ("K=1", ["model.num_parts=1"]),
    "no_div": ("without L_div (gamma=0)", ["model.gamma=0"]),
    "random": ("random sampling (no SGS)", ["data.sampler=random"]),
}
COLUMNS = ("HOTA", "AssA", "DetA", "IDF1", "MOTA", "IDSW")


def _command(run_dir: Path, overrides: list[str], extra: list[str]) -> list[str]:
    if (run_dir / "checkpoints" / "last.ckpt").is_file():
        return [sys.executable, "-m", "zoo.train", f"resume={run_dir}", "progress=none"]
    return [sys.executable, "-m", "zoo.train", "recipe=finetrack", f"run_dir={run_dir}", "progress=none",
            *overrides, *extra]


def train_variants(names: list[str], out: Path, extra: list[str], jobs: int, threads: int) -> None:
    """Train the unfinished variants, ``jobs`` at a time; logs go to ``<out>/<name>.log``."""
    todo = [n for n in names if not (out / n / "results.json").is_file()]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env.pop("ZOO_RUN_DIR", None)
    running: list[tuple[str, subprocess.Popen, float]] = []
    while todo or running:
        while todo and len(running) < jobs:
            name = todo.pop(0)
            cmd = _command(out / name, VARIANTS[name][1], extra)
            print(f"[ablations] {name}: python {' '.join(cmd[1:])}", flush=True)
            log = (out / f"{name}.log").open("a")
            running.append((name, subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), time.time()))
        time.sleep(2.0)
        for item in list(running):
            name, proc, start = item
            if proc.poll() is not None:
                running.remove(item)
                if proc.returncode != 0:
                    raise SystemExit(f"[ablations] {name} failed ({proc.returncode}); see {out / (name + '.log')}")
                print(f"[ablations] {name}: trained in {time.time() - start:.0f} s", flush=True)


def _quiet_console():
    from rich.console import Console

    return Console(file=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def _metrics(doc: dict) -> dict:
    m = doc["metrics"]
    return {k: (100.0 * m[k] if k != "IDSW" else int(m[k])) for k in COLUMNS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="outputs/ablations", type=Path)
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--jobs", type=int, default=1, help="variants trained at the same time")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default cores // jobs)")
    parser.add_argument("extra", nargs="*", help="zoo.train overrides for every variant (after --)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    train_variants(args.only, args.out, args.extra, args.jobs, threads)

    rows = []
    for name in args.only:
        doc = json.loads((args.out / name / "results.json").read_text())
        label, overrides = VARIANTS[name]
        rows.append((label, " ".join(["recipe=finetrack", *overrides]), _metrics(doc)))
    from zoo.evaluate import evaluate_baselines

    for r in evaluate_baselines("mot", progress=False, console=_quiet_console(), out=args.out / "baselines"):
        doc = json.loads(((r.out_dir or args.out) / "results.json").read_text())
        rows.append((f"{doc.get('method')} (baseline)", "", _metrics(doc)))
    print("\n| variant | override | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---:|" * len(COLUMNS))
    for label, override, m in rows:
        cells = [f"{m[k]:.2f}" if k != "IDSW" else str(m[k]) for k in COLUMNS]
        print(f"| {label} | {f'`{override}`' if override else ''} | " + " | ".join(cells) + " |")
    print(f"\nZooSynth-MOT val, public detections; last-epoch weights; runs under {args.out}")


if __name__ == "__main__":
    main()
