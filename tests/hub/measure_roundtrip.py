"""Time the publish/load cycle against the local test Hub (prints a table; asserts nothing).

    python -m tests.hub.measure_roundtrip [--hidden 3000] [--repeat 3]

Trains the tests' tiny method through ``zoo.train.run`` (``--hidden`` sets the width: 3000 gives ~9 M
parameters, a 36 MB ``model.safetensors``), then times: export (weights, card, results, verification),
upload (create repo, LFS + commit, tag), first load (download into an empty cache), load from the warm cache
online (HEAD requests only) and offline (``HF_HUB_OFFLINE=1``), and load of the local export folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import huggingface_hub
    from huggingface_hub import constants

    import zoo
    from zoo import registry
    from zoo.config import compose
    from zoo.publish import export_run, upload
    from zoo.train import run

    from .hub_server import FakeHub
    from .tiny_method import METHOD, TinyTrackerModule

    registry.register(METHOD, task="mot", kind="method")(TinyTrackerModule)
    work = Path(tempfile.mkdtemp(prefix="zoo-hub-measure-"))
    os.environ["ZOO_RECIPE_PATH"] = str(Path(__file__).resolve().parent / "recipes")
    h = args.hidden
    cfg = compose(["recipe=hub_tiny", f"run_dir={work / 'run'}", f"model.dim={h}", f"model.hidden={h}",
                   f"+data.dim={h}"])
    run(cfg)

    hub = FakeHub()
    endpoint = hub.start()
    constants.ENDPOINT = endpoint
    constants.HUGGINGFACE_CO_URL_TEMPLATE = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    constants.HF_URL_HOSTS = constants.HF_URL_HOSTS | {"127.0.0.1"}
    constants.HF_HUB_OFFLINE = False
    constants.HF_TOKEN_PATH = str(work / "token")
    constants.AGENT_HARNESSES_PATH = str(work / "agents.json")
    os.environ["HF_TOKEN"] = hub.token
    huggingface_hub.close_session()

    rows: list[tuple[str, float]] = []

    def timed(label: str, fn, repeat: int = 1):
        times, out = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        rows.append((label, statistics.median(times)))
        return out

    export = timed("export (weights + card + results + verify)", lambda: export_run(work / "run", repo_id="org/m"))
    timed("upload (create repo, LFS, commit, tag)", lambda: upload(export.folder, "org/m", tag="v1"))
    constants.HF_HUB_CACHE = str(work / "cache")
    timed("first load from the Hub (download)", lambda: zoo.load("hf-hub:org/m@v1"))
    rows.append(("round trip export + upload + first load", sum(t for _, t in rows[-3:])))
    timed("load from cache, online (HEADs)", lambda: zoo.load("hf-hub:org/m@v1"), args.repeat)
    constants.HF_HUB_OFFLINE = True
    timed("load from cache, HF_HUB_OFFLINE=1", lambda: zoo.load("hf-hub:org/m@v1"), args.repeat)
    timed("load the local export folder", lambda: zoo.load(export.folder), args.repeat)
    hub.stop()

    size = export.config["weights"]["bytes"] / 1e6
    print(f"\nmodel: {export.config['weights']['numel']:,} tensor values, model.safetensors {size:.1f} MB")
    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"  {label:<{width}}  {seconds * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
