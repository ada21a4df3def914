"""One leaderboard row per ``results.json``: the normalised schema, the main metrics of each task, dedup.

A row (:class:`Entry`) holds what every table, chart and the README need, the same for all tasks::

    {task, benchmark, split, method, model, revision, ref, model_ref, metrics{...}, main_metric, fps, params,
     hardware{...}, hardware_summary, evaluator{name, version, conventions}, date, origin, source,
     zoo_version, git_sha}

``metrics`` keeps only the task's main metrics (:data:`TASK_METRICS`) that the results report, as stored in
``results.json``: ratios as fractions (HOTA 0.75), counts as integers (IDSW). Tables print percentages.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAIN_PRIORITY",
    "TASK_METRICS",
    "TASK_TITLES",
    "Dropped",
    "Entry",
    "MetricSpec",
    "columns",
    "dedupe",
    "format_fps",
    "format_metric",
    "format_params",
    "data_mix",
    "data_mix_text",
    "group_entries",
    "main_metric",
    "normalise",
    "parse_date",
    "sort_entries",
]


@dataclass(frozen=True)
class MetricSpec:
    """A leaderboard metric.

    Attributes:
        key: name in ``results.json`` ``metrics``.
        label: column title.
        kind: ``ratio`` (a fraction, printed in percent) or ``count`` (an integer).
        higher_is_better: sort direction of the leaderboard (IDSW: lower is better).
        lower_bound: smallest valid value of a ratio (MOTA can be negative: unbounded).
    """

    key: str
    label: str
    kind: str = "ratio"
    higher_is_better: bool = True
    lower_bound: float | None = 0.0


#: main metrics of each task, in column order (only those a benchmark reports are shown)
TASK_METRICS: dict[str, tuple[MetricSpec, ...]] = {
    "mot": (
        MetricSpec("HOTA", "HOTA"),
        MetricSpec("AssA", "AssA"),
        MetricSpec("DetA", "DetA"),
        MetricSpec("IDF1", "IDF1"),
        MetricSpec("MOTA", "MOTA", lower_bound=None),
        MetricSpec("IDSW", "IDSW", kind="count", higher_is_better=False),
    ),
    "vos": (
        MetricSpec("J&F-Mean", "J&F"),
        MetricSpec("J-Mean", "J-Mean"),
        MetricSpec("F-Mean", "F-Mean"),
        MetricSpec("PCK@0.1", "PCK@0.1"),
        MetricSpec("PCK@0.2", "PCK@0.2"),
    ),
    "sot": (
        MetricSpec("success_auc", "Success AUC"),
        MetricSpec("precision_20", "Prec@20"),
        MetricSpec("norm_precision", "Norm. Prec"),
        MetricSpec("AO", "AO"),
        MetricSpec("SR0.5", "SR0.5"),
    ),
}
#: the metric a table is sorted by: the first of these that the table's rows report (GOT-10k ranks by AO,
#: OTB/LaSOT/TrackingNet by success AUC, DAVIS by J&F, JHMDB by PCK@0.1)
MAIN_PRIORITY: dict[str, tuple[str, ...]] = {
    "mot": ("HOTA", "MOTA", "IDF1"),
    "vos": ("J&F-Mean", "PCK@0.1", "PCK@0.2"),
    "sot": ("AO", "success_auc", "precision_20"),
}
TASK_TITLES = {"mot": "Multi-object tracking (MOT)", "vos": "Video object segmentation (VOS)",
               "sot": "Single-object tracking (SOT)"}  # fmt: skip
_SPECS = {task: {s.key: s for s in specs} for task, specs in TASK_METRICS.items()}
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def parse_date(text: Any) -> _dt.datetime | None:
    """``created`` (ISO 8601) as an aware UTC datetime; None when missing or unparsable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


@dataclass
class Entry:
    """One leaderboard row (see the module docstring).

    Attributes:
        model: Hub repo id, run directory, checkpoint path, or the method name for registered baselines.
        revision: what pins the model: the Hub commit, the results' ``revision``, or None.
        ref: the revision as the user named it (Hub branch/tag), for display; None means ``revision``.
        metrics: main metric key -> fraction (ratios) or int (counts); metrics the results lack are absent.
        origin: ``run`` (a local results.json), ``hub`` (downloaded) or ``evaluate`` (evaluated now).
        source: the file or Hub repo the row was read from.
    """

    task: str
    benchmark: str
    split: str | None
    method: str
    model: str
    revision: str | None
    metrics: dict[str, float | int]
    fps: float | None
    params: int | None
    hardware: dict[str, Any]
    evaluator: dict[str, Any]
    created: str | None
    origin: str
    source: str
    ref: str | None = None
    zoo_version: str | None = None
    git_sha: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_ref(self) -> str:
        """``model@revision`` as shown in tables (the Hub ref the user named, else a short commit)."""
        rev = self.ref or self.revision
        if not rev:
            return self.model
        return f"{self.model}@{rev[:7] if _is_sha(rev) else rev}"

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Dedup key: the same model (id@revision) on the same task, benchmark and split."""
        return (self.model, self.revision or "", self.task, self.benchmark, self.split or "")

    @property
    def uid(self) -> str:
        """A stable id for the row (HTML ``data-entry``, JSON ``id``)."""
        rev = f"@{self.revision}" if self.revision else ""
        return f"{self.task}/{self.benchmark}/{self.split or '-'}/{self.model}{rev}"

    @property
    def date(self) -> _dt.datetime | None:
        return parse_date(self.created)

    @property
    def data(self) -> str | None:
        """The generated data the row was evaluated on (``evaluator.conventions.data``, e.g. ``ZooSynth 1.5
        (preset default, seed 0)``); None for real benchmarks and for results written before it was recorded."""
        value = (self.evaluator.get("conventions") or {}).get("data")
        return None if value is None else str(value)

    @property
    def hardware_summary(self) -> str:
        return hardware_summary(self.hardware)

    def to_json(self) -> dict[str, Any]:
        """The row as plain JSON (leaderboard.json)."""
        return {
            "id": self.uid,
            "task": self.task,
            "benchmark": self.benchmark,
            "split": self.split,
            "method": self.method,
            "model": self.model,
            "revision": self.revision,
            "ref": self.ref,
            "model_ref": self.model_ref,
            "metrics": dict(self.metrics),
            "fps": self.fps,
            "params": self.params,
            "hardware": dict(self.hardware),
            "hardware_summary": self.hardware_summary,
            "evaluator": dict(self.evaluator),
            "date": self.created,
            "origin": self.origin,
            "source": self.source,
            "zoo_version": self.zoo_version,
            "git_sha": self.git_sha,
        }


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def hardware_summary(hw: Mapping[str, Any]) -> str:
    """``NVIDIA H100 80GB HBM3 x8`` or ``CPU: AMD EPYC 7B13 (2 threads)``; ``-`` when unknown."""
    if not hw:
        return "-"
    world = int(hw.get("world_size") or 1)
    times = f" x{world}" if world > 1 else ""
    if hw.get("gpu"):
        return f"{hw['gpu']}{times}"
    cpu = str(hw.get("cpu") or "").replace("(R)", "").replace("(TM)", "").split(" CPU @")[0].strip()
    cpu = " ".join(cpu.split()) or "unknown"
    count = f" ({hw['cpu_count']} threads)" if hw.get("cpu_count") else ""
    device = str(hw.get("device") or "cpu")
    prefix = "CPU" if device == "cpu" else device
    return f"{prefix}: {cpu}{count}{times}"


def _metric_value(spec: MetricSpec, value: Any, where: str) -> float | int | None:
    """A stored metric checked against its kind; None for a missing/NaN value (JSON null)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: metric {spec.key} is {value!r}, not a number")
    if spec.kind == "count":
        if float(value) != int(value) or value < 0:
            raise ValueError(f"{where}: metric {spec.key} is a count, got {value!r}")
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        return None
    if value > 1.0 + 1e-9 or (spec.lower_bound is not None and value < spec.lower_bound - 1e-9):
        raise ValueError(
            f"{where}: metric {spec.key} = {value!r} is not a fraction (results.json stores ratios as "
            "fractions, e.g. HOTA 0.75, not 75)"
        )
    return value


def normalise(
    doc: Mapping[str, Any],
    *,
    source: str,
    origin: str,
    model: str | None = None,
    revision: str | None = None,
    ref: str | None = None,
) -> Entry:
    """The leaderboard row of one ``results.json`` document.

    Args:
        doc: the document (:data:`zoo.tasks.results.SCHEMA_KEYS`).
        source: where it was read from (file path or ``hf-hub:ORG/NAME@REV``), named in errors.
        origin: ``run``, ``hub`` or ``evaluate``.
        model, revision, ref: identity overrides (Hub repo id and commit, a run directory); default the
            document's ``model_id``/``revision``, else its ``method`` (registered baselines).

    Raises:
        ValueError: unknown task, no benchmark, a metric that is not a number or not a fraction, or none of
            the task's main metrics (an unscored split).
    """
    task = str(doc.get("task") or "")
    if task not in TASK_METRICS:
        raise ValueError(f"{source}: task {doc.get('task')!r} is not one of {sorted(TASK_METRICS)}")
    benchmark = doc.get("benchmark")
    if not benchmark:
        raise ValueError(f"{source}: results.json names no benchmark")
    raw = doc.get("metrics") or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{source}: metrics must be an object, got {type(raw).__name__}")
    metrics: dict[str, float | int] = {}
    for spec in TASK_METRICS[task]:
        value = _metric_value(spec, raw.get(spec.key), source)
        if value is not None:
            metrics[spec.key] = value
    if not metrics:
        raise ValueError(
            f"{source}: none of the {task} main metrics ({', '.join(s.key for s in TASK_METRICS[task])}) "
            "are reported (an unscored split has raw results only)"
        )
    method = str(doc.get("method") or "unknown")
    fps = doc.get("fps")
    params = doc.get("params")
    evaluator = doc.get("evaluator") if isinstance(doc.get("evaluator"), Mapping) else {}
    hardware = doc.get("hardware") if isinstance(doc.get("hardware"), Mapping) else {}
    model = str(model or doc.get("model_id") or method)
    # MOT scores on other detections (gt oracle boxes, a detector's files) are another row, never the
    # public-detection one: the model label carries them, so the dedup key does too
    detections = (evaluator.get("conventions") or {}).get("detections")
    if detections not in (None, "public"):
        model = f"{model} [detections: {detections}]"
    return Entry(
        task=task,
        benchmark=str(benchmark),
        split=None if doc.get("split") is None else str(doc["split"]),
        method=method,
        model=model,
        revision=revision or (None if doc.get("revision") is None else str(doc["revision"])),
        metrics=metrics,
        fps=float(fps) if isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0 else None,
        params=int(params) if isinstance(params, int) and not isinstance(params, bool) else None,
        hardware=dict(hardware),
        evaluator={"name": evaluator.get("name"), "version": evaluator.get("version"),
                   "conventions": dict(evaluator.get("conventions") or {})},
        created=doc.get("created") if isinstance(doc.get("created"), str) else None,
        origin=origin,
        source=source,
        ref=ref,
        zoo_version=doc.get("zoo_version"),
        git_sha=doc.get("git_sha"),
    )  # fmt: skip


@dataclass(frozen=True)
class Dropped:
    """An entry that a newer evaluation of the same model, benchmark and split replaced."""

    entry: Entry
    kept: Entry

    def message(self) -> str:
        return (
            f"{self.entry.model_ref} on {self.entry.benchmark}/{self.entry.split or '-'}: kept the newest "
            f"({self.kept.created or 'undated'}, {self.kept.source}), dropped "
            f"{self.entry.created or 'undated'} ({self.entry.source})"
        )


def _newness(entry: Entry) -> tuple[_dt.datetime, int]:
    # ties (same second) go to the shallower file: a run's results.json is written after its epoch copies
    return entry.date or _EPOCH, -entry.source.count("/")


def dedupe(entries: Iterable[Entry]) -> tuple[list[Entry], list[Dropped]]:
    """Keep the newest entry (``created``) per model id@revision, task, benchmark and split.

    Returns:
        (kept entries in first-seen order, the dropped ones with the entry that replaced each).
    """
    best: dict[tuple[str, ...], Entry] = {}
    order: list[tuple[str, ...]] = []
    losers: list[Entry] = []
    for entry in entries:
        key = entry.key
        if key not in best:
            best[key] = entry
            order.append(key)
        elif _newness(entry) > _newness(best[key]):
            losers.append(best[key])
            best[key] = entry
        else:
            losers.append(entry)
    dropped = [Dropped(e, best[e.key]) for e in losers]
    return [best[k] for k in order], dropped


def main_metric(task: str, entries: Sequence[Entry]) -> str:
    """The metric a table of ``entries`` is sorted by (first of :data:`MAIN_PRIORITY` that any reports)."""
    for key in MAIN_PRIORITY[task]:
        if any(key in e.metrics for e in entries):
            return key
    for spec in TASK_METRICS[task]:
        if any(spec.key in e.metrics for e in entries):
            return spec.key
    raise ValueError(f"no {task} main metric in these entries")


def columns(task: str, entries: Sequence[Entry]) -> list[MetricSpec]:
    """The metric columns of a table: its main metric first, then the others reported, in task order."""
    main = main_metric(task, entries)
    present = [s for s in TASK_METRICS[task] if any(s.key in e.metrics for e in entries)]
    return [_SPECS[task][main]] + [s for s in present if s.key != main]


def sort_entries(task: str, entries: Sequence[Entry]) -> list[Entry]:
    """Entries best first by the table's main metric (missing values last), ties by model name."""
    key = main_metric(task, entries)
    sign = -1.0 if _SPECS[task][key].higher_is_better else 1.0

    def order(e: Entry) -> tuple[int, float, str]:
        value = e.metrics.get(key)
        return (1, 0.0, e.model_ref) if value is None else (0, sign * float(value), e.model_ref)

    return sorted(entries, key=order)


def data_mix(entries: Iterable[Entry]) -> dict[str, list[str]]:
    """For a table whose rows were evaluated on different generated data (two ZooSynth generator versions,
    say): data -> the models evaluated on it (``"not recorded"`` for results that predate the record).
    Empty when all rows agree, which includes every real benchmark (none records generated data)."""
    groups: dict[str, list[str]] = {}
    for e in entries:
        groups.setdefault(e.data or "not recorded", []).append(e.model_ref)
    return groups if len(groups) > 1 else {}


def data_mix_text(entries: Iterable[Entry]) -> str | None:
    """:func:`data_mix` as one line (``ZooSynth 1.4 (...): a, b; ZooSynth 1.3 (...): c``); None when the rows
    agree."""
    mix = data_mix(entries)
    return "; ".join(f"{data}: {', '.join(models)}" for data, models in mix.items()) if mix else None


def group_entries(entries: Iterable[Entry]) -> dict[tuple[str, str], list[Entry]]:
    """``(task, benchmark)`` -> sorted entries, tasks in ``mot, vos, sot`` order, benchmarks alphabetical."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in entries:
        groups.setdefault((e.task, e.benchmark), []).append(e)
    tasks = list(TASK_METRICS)
    ordered = sorted(groups, key=lambda k: (tasks.index(k[0]), k[1]))
    return {k: sort_entries(k[0], groups[k]) for k in ordered}


def format_metric(spec: MetricSpec, value: Any) -> str:
    """Ratios in percent with 2 decimals (75.27), counts as integers, missing as ``-``."""
    if value is None:
        return "-"
    if spec.kind == "count":
        return str(int(value))
    return f"{100.0 * float(value):.2f}"


def format_fps(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_params(value: int | None) -> str:
    """Parameter counts: ``0``, ``950``, ``12.3K``, ``3.21M``; ``-`` when unknown."""
    if value is None:
        return "-"
    if value < 1000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1e3:.1f}K"
    if value < 1_000_000_000:
        return f"{value / 1e6:.2f}M"
    return f"{value / 1e9:.2f}B"
