"""Evaluate a tracker on a benchmark, or score existing raw results: ``python -m zoo.evaluate key=value ...``.

Two modes, one code path (:mod:`zoo.tasks`), so every number agrees with training logs and the leaderboard:

- ``model=NAME|CHECKPOINT|hf-hub:ID|all data=BENCHMARK [out=DIR]``: run the tracker over the benchmark's sequences
  (Rich progress per sequence), write raw results in the benchmark's official format plus ``results.json``,
  print a per-sequence metrics table (``model=all``: every registered baseline of the task, one comparison
  table). Under ``torchrun`` the sequences are sharded across processes.
- ``results=DIR data=BENCHMARK data.root=GT_ROOT [out=DIR]``: score raw results without running anything
  (what TrackEval and the DAVIS/got10k scripts do). ``DIR`` holds one official-format file or folder per
  sequence; ``GT_ROOT`` holds the benchmark's annotation layout with or without images: the split folder
  itself, or the dataset root with ``split=train|val|test``; ``seqmap=FILE`` restricts the sequences;
  ``workers=N`` reads and scores sequences in N forked processes (default: every core). This mode imports
  neither torch, Lightning nor timm.

Checkpoint contract (``model=path/to/file.ckpt``): a Lightning checkpoint whose ``checkpoint["zoo"]["method"]``
is the registry name of a zoo method, ``checkpoint["hyper_parameters"]`` its ``__init__`` arguments
(``save_hyperparameters()``) and ``checkpoint["state_dict"]`` its weights. It is loaded with
``torch.load(weights_only=True)`` (nothing is unpickled), the module is rebuilt from the registry, the weights
loaded strictly, and ``module.tracker()`` evaluated. The method's task must be the benchmark's task.

Tracker settings (``+tracker.KEY=VALUE``, e.g. ``+tracker.oracle=true`` or ``+tracker.kfe=null`` for a graph
tracker, ``+tracker.track_thresh=0.5`` for ByteTrack): passed to the one tracker being evaluated
(``module.tracker(**settings)`` for a checkpoint or Hub model, the constructor for a baseline), checked before
anything runs, and named in ``results.json``'s ``model_id`` (``<model> [tracker: oracle=True]``) so that the
leaderboard keeps the variant as its own row.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from zoo.config import ConfigError, compose_primary, presets
from zoo.data.benchmarks import synth_benchmark_root
from zoo.data.formats.errors import FormatError
from zoo.tasks.benchmarks import load_ground_truth, runner, select_sequences, task_of
from zoo.tasks.results import RESULTS_FILE, BenchmarkResult, read_results_json
from zoo.tasks.sharding import process_group

__all__ = [
    "TrackerEntry",
    "build_trackers",
    "evaluate",
    "evaluate_baselines",
    "load_checkpoint_tracker",
    "load_hub_tracker",
    "load_config",
    "main",
]

USAGE = """\
usage: python -m zoo.evaluate model=NAME|CHECKPOINT|hf-hub:ID|all data=BENCHMARK [key=value ...]
       python -m zoo.evaluate results=DIR data=BENCHMARK data.root=GT_ROOT [key=value ...]

Runs a tracker over a benchmark (raw results in the official format + results.json + metrics table), or
scores existing raw results. Examples:
  python -m zoo.evaluate model=bytetrack data=synth_mot
  python -m zoo.evaluate model=all data=synth_sot out=outputs/sot_baselines
  python -m zoo.evaluate model=outputs/finetrack/2024-01-01_00-00-00/checkpoints/last.ckpt data=mot17
  python -m zoo.evaluate results=trackers/mine/data data=mot17 data.root=MOT17/train seqmap=MOT17-train.txt
  python -m zoo.evaluate model=sort data=synth_mot render=synth_mot_val_000
  python -m zoo.evaluate model=outputs/sushi/RUN/checkpoints/last.ckpt data=synth_mot +tracker.oracle=true
Keys: model, results, workers (results=: parallel readers), out, output_root, split, seqmap, max_sequences,
      detections (MOT: public|gt|DIR),
      device, progress, render (MOT sequence name), render_frames, plots (SOT), compare (other results),
      table_rows (console per-sequence rows, null: all), tracker (settings of the evaluated tracker: +tracker.KEY=VALUE).
Options:
  --help, -h        this message
  --cfg             print the composed config and exit
"""


def help_text() -> str:
    """Usage plus the registered trackers and the benchmark presets."""
    from zoo.registry import catalogue

    lines = [USAGE, "trackers (model=NAME):"]
    lines += [f"  {e.name:<14}{e.task:<5}{e.kind}" for e in catalogue()] or ["  (none registered)"]
    lines.append(f"\nbenchmarks: data={'|'.join(presets('data'))}")
    return "\n".join(lines)


def load_config(overrides: Sequence[str]) -> DictConfig:
    """Compose ``zoo/conf/evaluate.yaml`` with the overrides and check the mode.

    Raises:
        ConfigError: unknown key or preset, neither or both of model/results, bad values.
    """
    cfg = compose_primary("evaluate", overrides, groups=("data",))
    if (cfg.model is None) == (cfg.results is None):
        raise ConfigError(
            "give exactly one of model=NAME|CHECKPOINT|all (run a tracker) or results=DIR (score raw results)"
        )
    bench = str(cfg.data.get("benchmark"))
    try:
        task_of(bench)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if cfg.render is not None and task_of(bench) != "mot":
        raise ConfigError(f"render= draws MOT tracks; benchmark {bench!r} is a {task_of(bench)} benchmark")
    if cfg.max_sequences is not None and int(cfg.max_sequences) < 1:
        raise ConfigError(f"max_sequences must be >= 1, got {cfg.max_sequences}")
    return cfg


# ------------------------------------------------------------------------------------------ trackers
@dataclass
class TrackerEntry:
    """A tracker to evaluate: its name (sub-folder under ``out`` for ``model=all``), a factory and the
    results.json metadata (method, model_id, revision, params)."""

    name: str
    factory: Callable[[], Any]
    meta: dict[str, Any]


def load_checkpoint_tracker(path: str | os.PathLike, task: str, device: str = "cpu") -> TrackerEntry:
    """A tracker from a zoo method's Lightning checkpoint (see the module docstring for the contract).

    Raises:
        ConfigError: no ``zoo.method`` entry, an unknown method, or a method of another task.
    """
    import torch

    from zoo.registry import get_method

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError/RuntimeError/... for bad or unsafe files
        raise ConfigError(f"{path}: cannot load as a weights-only checkpoint: {error}") from None
    name = (ckpt.get("zoo") or {}).get("method") if isinstance(ckpt, dict) else None
    if not name:
        raise ConfigError(
            f"{path}: checkpoint['zoo']['method'] is missing; only checkpoints of zoo methods (registered "
            "LightningModules) can be evaluated"
        )
    try:
        spec = get_method(str(name))
    except KeyError as error:
        raise ConfigError(f"{path}: {error.args[0]}") from None
    if spec.task != task:
        raise ConfigError(
            f"{path}: method {spec.name!r} is a {spec.task} method; the benchmark is a {task} benchmark. "
            f"Name a {spec.task} benchmark: data=synth_{spec.task} (ZooSynth) or a real one"
        )
    module = spec.cls(**dict(ckpt.get("hyper_parameters") or {}))
    module.load_state_dict(ckpt["state_dict"], strict=True)
    module.eval().to(device)
    params = int(sum(p.numel() for p in module.parameters()))
    meta = {"method": spec.name, "model_id": str(path.resolve()), "revision": None, "params": params}
    return TrackerEntry(spec.name, module.tracker, meta)


def load_hub_tracker(model: str, task: str, device: str = "cpu") -> TrackerEntry:
    """A published tracker (``hf-hub:ORG/NAME[@REV]``) through :func:`zoo.hub.load_pretrained`.

    Raises:
        ConfigError: the Hub load fails (message from :mod:`zoo.hub`), or the tracker is of another task.
    """
    from zoo.hub import HubError, load_pretrained
    from zoo.tasks._common import count_parameters

    try:
        pre = load_pretrained(model, device=device)
    except HubError as error:
        raise ConfigError(str(error)) from None
    if pre.spec.task != task:
        raise ConfigError(f"{model} is a {pre.spec.task} tracker; the benchmark is a {task} benchmark")
    meta = {
        "method": pre.spec.name,
        "model_id": pre.model_id,
        "revision": pre.commit,
        "params": count_parameters(pre.module) if pre.module is not None else 0,
    }
    return TrackerEntry(pre.spec.name, pre.tracker, meta)


def build_trackers(model: str, task: str, device: str = "cpu",
                   settings: dict[str, Any] | None = None) -> list[TrackerEntry]:
    """The trackers ``model=`` names: ``all`` (every baseline of ``task``), a registry name, a checkpoint or
    ``hf-hub:ORG/NAME[@REV]``; ``settings`` (``tracker=``) configure that one tracker.

    Raises:
        ConfigError: unknown name, a trainable method without a checkpoint, a task mismatch, or settings the
            tracker refuses (or given with ``model=all``).
    """
    entries = _build_trackers(model, task, device)
    if not settings:
        return entries
    if model == "all":
        raise ConfigError("tracker settings (tracker.KEY=VALUE) configure one tracker; name it with model=NAME")
    return [with_settings(entry, settings) for entry in entries]


def with_settings(entry: TrackerEntry, settings: dict[str, Any]) -> TrackerEntry:
    """``entry`` whose factory passes ``settings`` to the tracker (built once here, so a bad key fails before
    anything runs) and whose ``model_id`` names them."""
    factory = functools.partial(entry.factory, **settings)
    try:
        factory()
    except (TypeError, ValueError) as error:
        raise ConfigError(f"tracker settings {settings} for {entry.name}: {error}") from None
    label = ", ".join(f"{k}={settings[k]}" for k in sorted(settings))
    meta = dict(entry.meta)
    meta["model_id"] = f"{meta.get('model_id') or entry.name} [tracker: {label}]"
    return TrackerEntry(entry.name, factory, meta)


def _build_trackers(model: str, task: str, device: str) -> list[TrackerEntry]:
    from zoo.registry import get_method, list_methods

    if model == "all":
        names = list_methods(task, kind="baseline")
        if not names:
            raise ConfigError(f"no registered {task} baselines")
        return [TrackerEntry(n, get_method(n).cls, {"method": n}) for n in names]
    if model.startswith("hf-hub:"):
        return [load_hub_tracker(model, task, device)]
    if model.endswith(".ckpt") or Path(model).expanduser().is_file():
        return [load_checkpoint_tracker(model, task, device)]
    try:
        spec = get_method(model)
    except KeyError:
        valid = list_methods(task)
        raise ConfigError(
            f"unknown model {model!r}: not a registered tracker nor a checkpoint file. {task} trackers: "
            f"{', '.join(valid) or '(none)'}; or model=all, model=path/to/checkpoint.ckpt, model=hf-hub:ORG/NAME"
        ) from None
    if spec.task != task:
        raise ConfigError(
            f"model {spec.name!r} is a {spec.task} tracker; the benchmark is a {task} benchmark"
        )
    if spec.kind == "method":
        raise ConfigError(
            f"{spec.name!r} is a trainable method: evaluate a trained checkpoint, model=path/to/checkpoint.ckpt "
            f"(train one with python -m zoo.train recipe={spec.default_recipe or spec.name})"
        )
    return [TrackerEntry(spec.name, spec.cls, {"method": spec.name})]


# -------------------------------------------------------------------------------------------- helpers
def _output_dir(cfg: DictConfig, bench: str) -> Path:
    """``out=``, else a new ``<output_root>/evaluate/<benchmark>/<timestamp>``; under DDP rank 0 chooses and
    every rank uses its choice."""
    if cfg.out is not None:
        return Path(str(cfg.out)).expanduser().resolve()
    from zoo.runs import RUN_DIR_ENV, choose_run_dir

    # a training run's ZOO_RUN_DIR (set in this process by zoo.train) must not capture the evaluation
    saved = os.environ.pop(RUN_DIR_ENV, None)
    try:
        chosen = [str(choose_run_dir(cfg.output_root, f"evaluate/{bench}", None))]
    finally:
        if saved is not None:
            os.environ[RUN_DIR_ENV] = saved
    dist = process_group()
    if dist is not None:
        dist.broadcast_object_list(chosen, src=0)
    return Path(chosen[0])


def _init_distributed(device: str) -> None:
    """Join the process group under torchrun (WORLD_SIZE > 1), so sequences are sharded across processes."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if str(device).startswith("cuda") else "gloo")


def _is_rank_zero() -> bool:
    dist = process_group()
    return dist is None or dist.get_rank() == 0


def _workers(value: Any) -> int:
    """``workers=``: None -> the cores this process may use; else an int >= 1."""
    from zoo.core.parallel import default_workers

    if value is None:
        return default_workers()
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or str(value).strip() != str(n):
        raise ConfigError(f"workers must be a whole number >= 1 (or null for every core), got {value!r}")
    return n


def _compare_docs(paths: Sequence[str]) -> list[dict[str, Any]]:
    docs = []
    for p in paths:
        path = Path(str(p)).expanduser()
        docs.append(read_results_json(path / RESULTS_FILE if path.is_dir() else path))
    return docs


def _report(results: list[BenchmarkResult], cfg: DictConfig, out: Path, console: Any) -> None:
    """Tables, SOT plots and the render (rank 0)."""
    from zoo.viz.tables import comparison_table, sequence_table

    extra = _compare_docs(list(cfg.compare or []))
    if len(results) == 1 and not extra:
        if results[0].scored:
            rows = cfg.get("table_rows")
            console.print(sequence_table(results[0], max_rows=None if rows is None else int(rows)))
        else:
            console.print(
                f"[zoo] {results[0].benchmark} split {results[0].split} has no ground truth: raw results only",
                markup=False,
                highlight=False,
            )
    else:
        scored = [r for r in results if r.scored] + extra
        if scored:
            console.print(comparison_table(scored))
    if results[0].task == "sot" and cfg.plots:
        from zoo.viz.sot_plots import plot_sot_curves

        curves = [r for r in results if r.scored] + [
            d for d in extra if "success_curve" in (d.get("metrics") or {})
        ]
        if curves:
            success, precision = plot_sot_curves(curves, out, benchmark=results[0].benchmark)
            console.print(f"[zoo] plots: {success}  {precision}", markup=False, highlight=False)


def _check_render(cfg: DictConfig, sequences: list[Any]) -> None:
    """Fail before any work when ``render=`` names a sequence that is not evaluated."""
    if cfg.render is not None and str(cfg.render) not in {s.name for s in sequences}:
        names = ", ".join(s.name for s in sequences)
        raise ConfigError(f"render={cfg.render}: no such sequence; evaluated: {names}")


def _render(
    cfg: DictConfig, sequences: list[Any], results_dirs: list[tuple[Path, Path]], bench: str, console: Any
) -> None:
    """Render ``cfg.render`` for each (results folder, output folder)."""
    from zoo.data.formats import motchallenge
    from zoo.tasks.mot import METRIC_BENCHMARK, benchmark_key, find_result_file
    from zoo.viz.mot_render import render_tracks

    name = str(cfg.render)
    seq = next(s for s in sequences if s.name == name)
    if seq.gt is None:  # re-scoring left ground truth to the scoring workers
        seq = dataclasses.replace(seq, gt=motchallenge.read_mot_file(seq.root / "gt" / "gt.txt", "gt", seq.info))
    for results_dir, out_dir in results_dirs:
        rows = motchallenge.read_mot_file(find_result_file(results_dir, name), "results", seq.info)
        path, totals = render_tracks(
            seq, rows, out_dir / f"render_{name}.mp4", benchmark=METRIC_BENCHMARK[benchmark_key(bench)],
            max_frames=cfg.render_frames,
        )  # fmt: skip
        console.print(f"[zoo] render: {path} ({totals})", markup=False, highlight=False)


# ------------------------------------------------------------------------------------------ evaluate
def evaluate(cfg: DictConfig, console: Any = None) -> list[BenchmarkResult]:
    """Run the evaluation described by a composed ``evaluate`` config; returns one result per tracker."""
    from zoo.viz.tables import make_console

    console = console or make_console()
    bench = str(cfg.data.benchmark)
    task = task_of(bench)
    split = None if cfg.split is None else str(cfg.split)
    split = split or (None if cfg.data.get("val_split") is None else str(cfg.data.val_split))
    device = str(cfg.device)
    # validate the model before creating folders or generating data
    raw = cfg.get("tracker")
    settings = OmegaConf.to_container(raw, resolve=True) if OmegaConf.is_config(raw) else dict(raw or {})
    if settings and cfg.results is not None:
        raise ConfigError("tracker settings apply to a tracker being run (model=...), not to results=DIR")
    entries = build_trackers(str(cfg.model), task, device, settings) if cfg.results is None else []
    _init_distributed(device)
    rank0 = _is_rank_zero()
    out = _output_dir(cfg, bench)
    if rank0:
        out.mkdir(parents=True, exist_ok=True)
        console.print(f"[zoo] output: {out}", markup=False, highlight=False)
    run = runner(task)
    seqmap = None if cfg.seqmap is None else str(cfg.seqmap)

    if cfg.results is not None:
        results_dir = Path(str(cfg.results)).expanduser()
        workers = _workers(cfg.get("workers"))
        root = cfg.data.get("root")
        if root is None:  # ZooSynth: generated on first use
            root = synth_benchmark_root(bench, str(cfg.data.get("synth_preset", "default")),
                                        cfg.data.get("synth_root"))  # fmt: skip
        sequences = select_sequences(
            load_ground_truth(bench, str(root), split, year=str(cfg.data.get("year", "2017")),
                              resolution=str(cfg.data.get("resolution", "480p")), workers=workers,
                              read_mot_gt=False),
            seqmap, cfg.max_sequences,
        )  # fmt: skip
        _check_render(cfg, sequences)
        result = run.score_results(
            results_dir, sequences, out, benchmark=bench, split=split, progress=bool(cfg.progress) and rank0,
            write_json=rank0, workers=workers,
        )  # fmt: skip
        results = [result]
        render_dirs = [(results_dir, out)]
    else:
        # Running trackers needs the data module and torch; re-scoring (above) imports neither.
        import torch
        from hydra.utils import instantiate

        datamodule = instantiate(cfg.data)
        sequences = select_sequences(datamodule.eval_sequences(split), seqmap, cfg.max_sequences)
        _check_render(cfg, sequences)
        kwargs: dict[str, Any] = {"detections": str(cfg.detections)} if task == "mot" else {}
        results, render_dirs = [], []
        with torch.no_grad():
            for entry in entries:
                target = out / entry.name if str(cfg.model) == "all" else out
                results.append(
                    run.run_benchmark(
                        entry.factory,
                        sequences,
                        target,
                        benchmark=bench,
                        split=split,
                        progress=bool(cfg.progress),
                        meta=entry.meta,
                        device=device,
                        **kwargs,
                    )  # fmt: skip
                )
                render_dirs.append((target, target))
    if rank0:
        _report(results, cfg, out, console)
        if cfg.render is not None:
            _render(cfg, sequences, render_dirs, bench, console)
        console.print(
            f"[zoo] results.json: {', '.join(str((r.out_dir or out) / RESULTS_FILE) for r in results)}",
            markup=False,
            highlight=False,
        )
    return results


def evaluate_baselines(
    task: str,
    *,
    preset: str = "default",
    out: str | os.PathLike | None = None,
    split: str | None = None,
    progress: bool = True,
    console: Any = None,
    synth_root: str | os.PathLike | None = None,
    overrides: Sequence[str] = (),
) -> list[BenchmarkResult]:
    """Evaluate every registered baseline of ``task`` on its ZooSynth benchmark and print one comparison
    table (what ``make demo`` shows).

    Args:
        task: ``mot``, ``vos`` or ``sot`` (benchmark ``synth_<task>``).
        preset: ZooSynth preset (``tiny``, ``default``).
        out: output folder (default a new ``outputs/evaluate/synth_<task>/<timestamp>``); one sub-folder per
            baseline with its raw results and results.json.
        split: ZooSynth split (default ``val``).
        progress: Rich progress display.
        console: Rich console for the table (default stdout).
        synth_root: ZooSynth cache folder (default ``$ZOO_DATA``).
        overrides: extra ``key=value`` settings of the evaluate config.
    """
    if task not in ("mot", "vos", "sot"):
        raise ValueError(f"task must be mot, vos or sot, got {task!r}")
    args = [
        f"data=synth_{task}",
        "model=all",
        f"data.synth_preset={preset}",
        f"progress={str(progress).lower()}",
    ]
    if out is not None:
        args.append(f"out={Path(out).resolve()}")
    if split is not None:
        args.append(f"split={split}")
    if synth_root is not None:
        args.append(f"+data.synth_root={Path(synth_root).resolve()}")
    return evaluate(load_config([*args, *overrides]), console)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m zoo.evaluate``; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in args):
        print(help_text())
        return 0
    show_cfg = "--cfg" in args
    args = [a for a in args if a != "--cfg"]
    bad = [a for a in args if a.startswith("-")]
    if bad:
        print(
            f"error: unknown option {bad[0]!r}; options are --help and --cfg, settings are key=value",
            file=sys.stderr,
        )
        return 2
    try:
        cfg = load_config(args)
        if show_cfg:
            print(OmegaConf.to_yaml(cfg))
            return 0
        evaluate(cfg)
    except (ConfigError, FormatError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
