"""Which generated dataset a file belongs to, read from its ``manifest.json``, without importing the
ZooSynth generator (re-scoring real or generated data records it in ``results.json``)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["generated_by"]


def generated_by(path: str | Path, levels: int = 6) -> str | None:
    """``ZooSynth 1.5 (preset default, seed 0)`` when ``path`` (a sequence folder or a frame) lies in a
    generated dataset, read from the ``manifest.json`` at most ``levels`` folders above it; None elsewhere
    (real benchmarks). Scores on two generator versions are not comparable: results and model cards say
    which one they were measured on."""
    for folder in list(Path(path).parents)[:levels]:
        manifest = folder / "manifest.json"
        if not manifest.is_file():
            continue
        try:
            doc = json.loads(manifest.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or "generator_version" not in doc:
            return None
        return f"ZooSynth {doc['generator_version']} (preset {doc.get('preset')}, seed {doc.get('seed')})"
    return None
