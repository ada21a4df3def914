"""``python -m zoo.data.synth [--preset default] [--root DIR] [--seed 0] [--preview OUT_DIR] [--verify]``"""

from __future__ import annotations

import argparse
import sys
import time

from zoo.data.synth import PRESETS, ensure_synth, render_preview


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.data.synth",
                                     description="Generate ZooSynth (cached) and optionally render previews.")
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS))
    parser.add_argument("--root", default=None, help="cache folder (default: $ZOO_DATA or ~/.cache/zoo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verify", action="store_true", help="recompute the content hash of a cached copy")
    parser.add_argument("--preview", default=None, metavar="OUT_DIR", help="write one preview video per task")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    path = ensure_synth(args.preset, args.root, args.seed, verify=args.verify, progress=True)
    print(f"ZooSynth {args.preset} (seed {args.seed}) ready in {time.perf_counter() - start:.1f} s: {path}")
    if args.preview:
        for task, video in render_preview(path, args.preview).items():
            print(f"  preview {task}: {video}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
