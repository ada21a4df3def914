"""Hand-made ``results.json`` documents (the full schema of :mod:`zoo.tasks.results`) for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.tasks.results import write_results_json

EVALUATORS = {
    "mot": {
        "name": "TrackEval",
        "version": "1.3.0",
        "conventions": {"benchmark": "ZooSynth", "detections": "public", "hota_alphas": "0.05:0.95:0.05"},
    },
    "vos": {
        "name": "DAVIS-2017 evaluation (davis2017-evaluation)",
        "version": "2017",
        "conventions": {"protocol": "davis2017-semi-supervised", "void": "background"},
    },
    "sot": {"name": "got10k toolkit", "version": "0.1.3", "conventions": {"ao": "got10k: frame 1 dropped"}},
}
HARDWARE = {
    "device": "cpu",
    "cpu": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
    "cpu_count": 2,
    "gpu": None,
    "world_size": 1,
    "python": "3.11.2",
}


def results_doc(
    task: str,
    benchmark: str,
    method: str,
    metrics: dict[str, Any],
    *,
    model_id: str | None = None,
    revision: str | None = None,
    split: str | None = "val",
    created: str = "2026-01-01T00:00:00+00:00",
    fps: float | None = 100.0,
    params: int | None = 0,
    hardware: dict[str, Any] | None = None,
    evaluator: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete results.json document (metrics as fractions, as the runners write them)."""
    return {
        "method": method,
        "model_id": model_id,
        "revision": revision,
        "task": task,
        "benchmark": benchmark,
        "split": split,
        "metrics": metrics,
        "per_sequence": {"seq_000": {**metrics, "frames": 10}},
        "fps": fps,
        "params": params,
        "hardware": hardware or HARDWARE,
        "evaluator": evaluator or EVALUATORS[task],
        "zoo_version": "0.1.0",
        "git_sha": None,
        "created": created,
    }


def write_doc(folder: Path, doc: dict[str, Any], name: str = "results.json") -> Path:
    """Write ``doc`` as ``folder/name`` (through the real results writer, which checks the schema)."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_results_json(folder / name, doc)


def mot(method: str, hota: float, **kw: Any) -> dict[str, Any]:
    """A MOT results document with consistent HOTA/AssA/DetA/IDF1/MOTA/IDSW values."""
    metrics = {
        "HOTA": hota,
        "AssA": hota - 0.05,
        "DetA": hota + 0.05,
        "IDF1": hota + 0.02,
        "MOTA": hota + 0.1,
        "IDSW": int(round(100 * (1 - hota))),
        "LocA": 0.8,
    }
    return results_doc("mot", kw.pop("benchmark", "synth_mot"), method, metrics, **kw)


def vos(method: str, jf: float, **kw: Any) -> dict[str, Any]:
    metrics = {"J&F-Mean": jf, "J-Mean": jf - 0.02, "F-Mean": jf + 0.02, "J-Recall": 0.5}
    return results_doc("vos", kw.pop("benchmark", "synth_vos"), method, metrics, **kw)


def sot(method: str, ao: float, **kw: Any) -> dict[str, Any]:
    metrics = {
        "AO": ao,
        "SR0.5": ao + 0.1,
        "SR0.75": ao - 0.2,
        "success_auc": ao + 0.01,
        "precision_20": ao + 0.05,
    }
    return results_doc("sot", kw.pop("benchmark", "synth_sot"), method, metrics, **kw)
