"""``python -m zoo.precompute``: fill the base-tracker cache of an SOT benchmark.

Runs every named SOT baseline over every sequence of the chosen splits (in worker processes, with a progress
bar) and stores the per-frame boxes in :mod:`zoo.trackers.cache`, where ensemble methods (SFTrack++) read
them for training, evaluation and sweeps. Pairs already cached are skipped, so a second run is instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from zoo.config import ConfigError, compose_primary, presets

USAGE = """\
usage: python -m zoo.precompute [data=BENCHMARK] [trackers=[csrt,kcf,...]] [splits=[train,val]] [key=value ...]

Runs base single-object trackers once per sequence and caches their boxes for ensembles (SFTrack++).
Examples:
  python -m zoo.precompute                                   # all seven OpenCV trackers on ZooSynth-SOT
  python -m zoo.precompute data=got10k data.root=GOT10k splits=[train] workers=8
Keys: trackers, splits (null: data.train_split + data.val_split), cache_dir (null: $ZOO_DATA/trackers),
      workers (null: the machine's cores), progress.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in args):
        print(USAGE + f"\nbenchmarks: data={'|'.join(presets('data'))}")
        return 0
    try:
        cfg = compose_primary("precompute", args, groups=("data",))
        from hydra.utils import instantiate

        from zoo.data.formats.errors import FormatError
        from zoo.trackers.cache import TrackerSource, precompute

        dm = instantiate(cfg.data)
        if getattr(dm, "task", None) != "sot":
            raise ConfigError(
                f"zoo.precompute runs SOT trackers; data={cfg.data.benchmark} is not an SOT benchmark"
            )
        splits = (
            list(cfg.splits)
            if cfg.splits is not None
            else [s for s in (cfg.data.get("train_split"), cfg.data.get("val_split")) if s is not None]
        )
        sequences = [seq for split in splits for seq in dm.sequences(str(split))]
        sources = [TrackerSource(str(t)) for t in cfg.trackers]
        counts = precompute(sources, sequences, cfg.cache_dir, cfg.workers, progress=bool(cfg.progress))
    except (ConfigError, FormatError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{len(sources)} trackers x {len(sequences)} sequences ({', '.join(map(str, splits))}): "
        f"{counts['computed']} run now, {counts['cached']} already cached"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
