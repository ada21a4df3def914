"""Shared SFTrack++ test settings: the CPU recipe shrunk to seconds on ZooSynth tiny."""

from __future__ import annotations

#: ``recipe=sftrack`` on ZooSynth tiny in seconds: two fast trackers, 24x32 frames, 3-frame windows
TINY_SFTRACK = [
    "recipe=sftrack",
    "data.synth_preset=tiny",
    "model.trackers=[kcf,mosse]",
    "data.image_size=[24,32]",
    "data.window=3",
    "model.window=3",
    "data.batch_size=2",
    "data.num_workers=0",
    "model.feat2seg_widths=[4,8]",
    "model.seg2box_widths=[2,4]",
    "model.gt_box_steps=1",
    "trainer.max_epochs=1",
    "phases.seg2box.trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "phases.feat2seg.data.batch_size=4",
    "phases.feat2seg.trainer.limit_train_batches=2",
    "callbacks.tracking_eval.every_n_epochs=1",
]
