"""ZooSynth: the procedural benchmark that is the zoo's embedded default.

One scene simulator (textured backgrounds, three-part people whose identities share parts, balls and cars,
crossings, groups, occlusion, entries/exits, camera pan) writes MOT, VOS, SOT and keypoint benchmarks in the
MOTChallenge, DAVIS-2017, GOT-10k and JHMDB formats, so every reader, runner and metric is exercised exactly
as on the real benchmarks. Deterministic by seed; generated on first use into ``$ZOO_DATA`` (default
``~/.cache/zoo``) with a manifest and a content hash (:func:`ensure_synth`).

    python -m zoo.data.synth --preset default --preview outputs/preview
"""

from zoo.data.synth.config import (
    GENERATOR_VERSION,
    PRESETS,
    KPConfig,
    MOTConfig,
    SOTConfig,
    SynthConfig,
    VOSConfig,
)
from zoo.data.synth.preview import render_preview
from zoo.data.synth.store import (
    content_hash,
    data_root,
    dataset_dir,
    ensure_synth,
    fingerprint,
    generate,
    generated_by,
)

__all__ = [
    "GENERATOR_VERSION", "KPConfig", "MOTConfig", "PRESETS", "SOTConfig", "SynthConfig", "VOSConfig",
    "content_hash",
    "data_root", "dataset_dir", "ensure_synth", "fingerprint", "generate", "generated_by", "render_preview",
]
