"""KFE+IFF / SUSHI inference cost: time per frame split by stage, for growing sequence lengths and two
detection densities, beside ByteTrack on the same detections; peak memory; training throughput.

Synthetic walkers (straight lines, identity features, 10% misses) stand in for a detector: ZooSynth density
(~12 detections a frame) and MOT17 density (~30). Feature extraction is timed separately on real ZooSynth
frames (it is cached after the first run, so the tracker's steady-state cost excludes it). Stage timers wrap
the library functions in this process only. Prints a table; never fails on timings.

    python benchmarks/kfe_iff_speed.py [--lengths 100 1000 10000] [--repeats 3] [--device cpu|cuda] [--threads 1]
    python benchmarks/kfe_iff_speed.py --memory [--lengths 100 1000 10000]   # peak RSS per length, fresh processes
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections import defaultdict

import numpy as np
import torch

import zoo.methods.kfe_iff.model as model_mod
import zoo.methods.kfe_iff.tracker as tracker_mod
from zoo.data.types import SeqInfo
from zoo.methods.kfe_iff import KfeIffModule, SushiModule
from zoo.tasks.protocols import Detections

TIMES: dict[str, float] = defaultdict(float)


def _timed(name, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - t
    return wrapper


def _instrument() -> None:
    model_mod.build_edges = _timed("graph", model_mod.build_edges)
    model_mod.edge_features = _timed("graph", model_mod.edge_features)
    model_mod.merge_nodes = _timed("graph", model_mod.merge_nodes)
    model_mod.project_flow = _timed("projector", model_mod.project_flow)
    model_mod.MPN.forward = _timed("mpn", model_mod.MPN.forward)
    tracker_mod.key_frame_segments = _timed("kfe", tracker_mod.key_frame_segments)


def synthetic(length: int, per_frame: int, dim: int, seed: int = 0):
    """Detections of ``per_frame`` walkers alive at any time over ``length`` frames, with features."""
    rng = np.random.default_rng(seed)
    dets, feats = {}, []
    n_people = per_frame * max(1, length // 150)
    starts = rng.integers(1, max(2, length - 150), n_people)
    protos = rng.normal(size=(n_people, dim)).astype(np.float32)
    for t in range(1, length + 1):
        alive = np.flatnonzero((starts <= t) & (t < starts + 150))
        alive = alive[rng.random(alive.size) > 0.1]
        x = (alive * 37 % 1800) + 2.0 * (t - starts[alive])
        boxes = np.stack([x, np.full(alive.size, 300.0), x + 40, np.full(alive.size, 400.0)], 1)
        dets[t] = Detections(boxes, np.ones(alive.size))
        feats.append(protos[alive] + 0.1 * rng.normal(size=(alive.size, dim)).astype(np.float32))
    return dets, np.concatenate(feats) if feats else np.zeros((0, dim), np.float32)


class _Seq:
    def __init__(self, n):
        self.info = SeqInfo("SYN", "img1", 30.0, n, 1920, 1080, ".jpg")
        self.name, self.gt = "SYN", None


def bench_tracker(module, length, per_frame, repeats):
    dets, feats = synthetic(length, per_frame, module.net.feat_dim)
    tracker = module.tracker()
    tracker.sequence_features = lambda seq, rows: feats
    runs = []
    for _ in range(repeats):
        TIMES.clear()
        t = time.perf_counter()
        tracker.track_sequence(_Seq(length), dets)
        total = time.perf_counter() - t
        runs.append((total, dict(TIMES)))
    total = statistics.median(r[0] for r in runs)
    stages = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in ("kfe", "graph", "mpn", "projector")}
    return total, stages, sum(len(d) for d in dets.values())


def bench_bytetrack(length, per_frame, repeats):
    from zoo.registry import get_method

    dets, _ = synthetic(length, per_frame, 4)
    times = []
    for _ in range(repeats):
        tracker = get_method("bytetrack").cls()
        tracker.reset(_Seq(length).info)
        t = time.perf_counter()
        for f in range(1, length + 1):
            tracker.step(None, dets[f])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_features(repeats):
    """ms per frame of the default extractor on ZooSynth frames (what the cache saves on later runs)."""
    from zoo.appearance import build_extractor
    from zoo.data.formats import motchallenge
    from zoo.data.synth import ensure_synth
    from zoo.methods.kfe_iff.module import DEFAULT_APPEARANCE

    seq = motchallenge.load_split(ensure_synth("default") / "mot" / "val")[0]
    ex = build_extractor(dict(DEFAULT_APPEARANCE))
    from zoo.core.video import read_image

    frames = [(read_image(seq.image_path(t)), seq.det.frame(t).boxes) for t in range(1, 31)]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for img, boxes in frames:
            ex.extract(img, boxes)
        times.append((time.perf_counter() - t) / len(frames))
    return 1e3 * statistics.median(times), float(np.mean([len(b) for _, b in frames]))


def _cpu_methods(device: str = "cpu") -> dict:
    """The CPU recipes' sizes (5 levels, 32-frame clips, 64-d appearance), untrained."""
    app = {"kind": "timm", "model": "resnet18", "pretrained": False, "crop_size": [64, 32], "out_dim": 64}
    methods = {
        "sushi": SushiModule(appearance=app, hierarchy={"num_levels": 5}, tracker={"clip_len": 32}),
        "kfe_iff": KfeIffModule(appearance=app, hierarchy={"num_levels": 5}, tracker={"clip_len": 32},
                                kfe={"mode": "clip", "min_len": 8, "max_len": 32}),
    }
    for m in methods.values():
        m.to(device).eval()
    return methods


def probe_memory(method: str, length: int, per_frame: int) -> dict:
    """Memory of a fresh process that tracks one synthetic sequence, run through ``--probe METHOD LENGTH
    DENSITY`` so that every length starts from the same baseline: ``peak_mib`` (peak RSS), ``base_mib`` (RSS
    with the input and the model loaded, before tracking), ``detections`` and ``rows`` (output rows)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, __file__, "--probe", method, str(length), str(per_frame)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _probe(method: str, length: int, per_frame: int) -> None:
    import json

    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    module = _cpu_methods()[method]
    dets, feats = synthetic(length, per_frame, module.net.feat_dim)
    tracker = module.tracker()
    tracker.sequence_features = lambda seq, rows: feats
    # Resident memory once the input (detections + features) and the model are in place: what tracking adds
    # on top of it is the tracker's own footprint.
    with open("/proc/self/statm") as fh:
        base = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    rows = tracker.track_sequence(_Seq(length), dets)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = sum(len(d) for d in dets.values())
    print(json.dumps({"peak_mib": peak, "base_mib": base, "detections": n, "rows": len(rows)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 1000, 10000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: no spin-waiting on a "
                   "shared 2-core machine)")
    p.add_argument("--memory", action="store_true", help="only the peak-memory table: one fresh process per "
                   "method, density and length")
    p.add_argument("--probe", nargs=3, metavar=("METHOD", "LENGTH", "DENSITY"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        _probe(args.probe[0], int(args.probe[1]), int(args.probe[2]))
        return
    if args.memory:
        # Peak RSS, and what tracking adds above the loaded input (MiB, and bytes per detection): the
        # tracker's working set is one clip's graphs plus (N,) per-sequence arrays and the output rows.
        print("| method | density | frames | detections | peak MiB | input + model MiB | tracking adds MiB | "
              "B / detection |")
        print("|---|---|---|---|---|---|---|---|")
        for density in (12, 30):
            for name in ("sushi", "kfe_iff"):
                for n in args.lengths:
                    m = probe_memory(name, n, density)
                    extra = m["peak_mib"] - m["base_mib"]
                    print(f"| {name} | {density}/frame | {n} | {m['detections']} | {m['peak_mib']:.0f} | "
                          f"{m['base_mib']:.0f} | {extra:.0f} | {extra * 2**20 / max(m['detections'], 1):.0f} |",
                          flush=True)
        return
    torch.set_num_threads(args.threads)
    _instrument()
    torch.set_grad_enabled(False)
    methods = _cpu_methods(args.device)
    ms, dets = bench_features(args.repeats)
    print(f"appearance (resnet18, 64x32 crops): {ms:.1f} ms/frame at {dets:.1f} detections/frame (first run only: "
          "cached afterwards)\n")
    print("| method | density | frames | detections | ms/frame total | KFE | graph | MPN | projector | "
          "ByteTrack ms/frame | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for density in (12, 30):
        for length in args.lengths:
            bt = bench_bytetrack(length, density, args.repeats)
            for name, module in methods.items():
                total, st, n = bench_tracker(module, length, density, args.repeats)
                per = 1e3 / length
                print(f"| {name} | {density}/frame | {length} | {n} | {total * per:.2f} | {st['kfe'] * per:.2f} | "
                      f"{st['graph'] * per:.2f} | {st['mpn'] * per:.2f} | {st['projector'] * per:.2f} | "
                      f"{bt * per:.3f} | {total / bt:.0f}x |", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
