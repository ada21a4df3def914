"""Shared DMP test settings: the CPU recipe shrunk to seconds on ZooSynth tiny."""

from __future__ import annotations

#: ``recipe=dmp`` overrides: 32x32 crops of 4-frame clips, a 16-d encoder at 1/8 width, inference at 64x96.
TINY_DMP = [
    "recipe=dmp",
    "data.synth_preset=tiny",
    "data.image_size=[32,32]",
    "data.clip_len=4",
    "data.batch_size=2",
    "data.num_workers=0",
    "model.channels=[8,16,16,16]",
    "model.stem_width=8",
    "model.embed_dim=16",
    "model.train_radius=2",
    "model.input_size=[64,96]",
]
