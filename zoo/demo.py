"""``python -m zoo.demo`` (what ``make demo`` runs): the main job on the embedded ZooSynth benchmark.

1. generate ZooSynth (default preset; cached in ``$ZOO_DATA``) and render a preview of one sequence per
   task with its ground truth drawn;
2. evaluate every registered baseline on each task's ZooSynth val split and print one table per task;
3. train FineTrack (``recipe=finetrack``, a few minutes per epoch on 2 CPU cores), evaluate its last
   checkpoint on ZooSynth-MOT val and print it beside the MOT baselines. A finished run in the output folder
   is reused, an interrupted one resumed; ``--no-train`` skips this step.

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
    parser.add_argument("--no-train", dest="train", action="store_false", help="skip training FineTrack")
    parser.add_argument("--train-override", action="append", default=[], metavar="KEY=VALUE",
                        help="extra zoo.train override for the FineTrack run (repeatable)")
    args = parser.parse_args(argv)
    from zoo.viz.tables import make_console

    console = make_console()  # 200 columns when piped, so the wide metric tables stay readable in logs
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
    if args.train:
        console.rule("[bold]5. FineTrack: train recipe=finetrack, evaluate against the MOT baselines")
        train_and_compare(out, args.preset, args.train_override, console)
    console.rule("[bold]done")
    console.print(f"Everything is under {out}")
    return 0


def train_and_compare(out: Path, preset: str, overrides: list[str], console: Console) -> Path:
    """Train ``recipe=finetrack`` into ``out/finetrack`` (reused when finished, resumed when interrupted) and
    print its last checkpoint's ZooSynth-MOT val scores beside the baselines of ``out/baselines_mot``.

    Training runs in a child ``python -m zoo.train`` (exactly what a user would type); the evaluation uses
    ``last.ckpt``, not the checkpoint the recipe selects by val HOTA, so the val numbers are not tuned on val.
    Returns the run directory.
    """
    import os
    import subprocess

    from zoo.evaluate import evaluate, load_config

    run_dir = out / "finetrack"
    last = run_dir / "checkpoints" / "last.ckpt"
    finished = (run_dir / "training.json").is_file() and last.is_file()
    if finished:
        console.print(f"FineTrack run already finished: {run_dir} (delete it to train again)")
    else:
        cmd = [sys.executable, "-m", "zoo.train"]
        cmd += [f"resume={run_dir}"] if last.is_file() else [
            "recipe=finetrack", f"run_dir={run_dir}", f"data.synth_preset={preset}", *overrides
        ]
        console.print("$ " + " ".join(cmd[1:]).replace("-m ", "python -m ", 1), highlight=False, markup=False)
        start = time.perf_counter()
        env = {**os.environ}
        env.pop("ZOO_RUN_DIR", None)  # never inherit another run's directory
        subprocess.run(cmd, check=True, env=env)
        console.print(f"trained in {time.perf_counter() - start:.0f} s")
    baselines = sorted(p for p in (out / "baselines_mot").glob("*/results.json"))
    cfg = load_config([
        "data=synth_mot", f"data.synth_preset={preset}", f"model='{last}'", f"out='{run_dir / 'eval_val'}'",
        "compare=[" + ",".join(f"'{p}'" for p in baselines) + "]",
    ])  # fmt: skip
    evaluate(cfg, console)
    return run_dir


if __name__ == "__main__":
    sys.exit(main())
