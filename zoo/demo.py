"""``python -m zoo.demo`` (what ``make demo`` runs): the main job on the embedded ZooSynth benchmark.

1. generate ZooSynth (default preset; cached in ``$ZOO_DATA``) and render a preview of one sequence per
   task with its ground truth drawn;
2. evaluate every registered baseline on each task's ZooSynth val split and print one table per task.

Everything goes under ``outputs/demo/`` (``--out DIR`` moves it); paths are printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="outputs/demo", help="output directory (default: outputs/demo)")
    parser.add_argument("--preset", default="default", help="ZooSynth preset: tiny or default")
    args = parser.parse_args(argv)
    console = Console()
    out = Path(args.out).resolve()

    from zoo.data.synth import ensure_synth, render_preview

    console.rule("[bold]1. ZooSynth")
    start = time.perf_counter()
    root = ensure_synth(args.preset)
    console.print(f"ZooSynth [bold]{args.preset}[/] ready in {time.perf_counter() - start:.1f} s: {root}")
    previews = render_preview(root, out / "preview")
    for task, path in previews.items():
        console.print(f"  preview {task}: {path}")

    from zoo.evaluate import evaluate_baselines

    for number, task in enumerate(("mot", "vos", "sot"), start=2):
        console.rule(f"[bold]{number}. {task.upper()} baselines on ZooSynth-{task.upper()} (val)")
        evaluate_baselines(task, preset=args.preset, out=out / f"baselines_{task}", console=console)
    console.rule("[bold]done")
    console.print(f"Everything is under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
