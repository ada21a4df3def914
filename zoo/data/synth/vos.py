"""ZooSynth-VOS: objects moving over a textured scene, annotated with a DAVIS palette mask on every frame.

What one sequence contains (all drawn from one ``np.random.Generator``):

- 2-4 objects (people, balls, cars), all visible in frame 0 (DAVIS semi-supervised protocol: first-frame
  masks define the objects), moving on smooth bouncing paths, occluding each other by depth;
- a pillar in front of everything, placed on object 1's straight path so that object 1 disappears behind
  it for several frames mid-sequence and re-appears (what memory-based propagation has to survive);
- every object's colours drift smoothly in CIE Lab a/b (``lab_amplitude``), so colour alone is not a
  constant cue (DMP reconstructs Lab channels);
- an optional camera pan.

Masks are the label map of the rendered frame: object k's visible pixels have label k (0 = background).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zoo.data.synth.config import VOSConfig
from zoo.data.synth.objects import (
    MovingObject,
    bouncing_path,
    default_height,
    drifted,
    lab_drift,
    random_look,
)
from zoo.data.synth.scene import NoiseBank, Occluder, draw_occluder, make_background, pan_offsets
from zoo.data.synth.sprites import PERSON, draw_sprite, random_color

Emit = Callable[[int, np.ndarray, np.ndarray], None]


def _crossing_object(rng: np.random.Generator, cfg: VOSConfig, pan: int) -> tuple[MovingObject, Occluder]:
    """Object 1: a person on a straight horizontal path behind a pillar that hides it mid-sequence."""
    W, H, T = cfg.width, cfg.height, cfg.length
    look = random_look(rng, PERSON)
    h = float(rng.uniform(0.28, 0.36) * H)
    w = look.aspect * h
    hidden = max(3, T // 8)  # frames fully behind the pillar
    speed = max(2.0, 2.2 * w / (T - hidden))  # far enough from the pillar to be fully visible in frame 0
    pillar_w = w + speed * hidden
    direction = 1.0 if rng.random() < 0.5 else -1.0
    centre = W / 2 + pan / 2 + rng.uniform(-0.1, 0.1) * W  # canvas x of the pillar
    t = np.arange(T, dtype=np.float64)
    x = centre + direction * speed * (t - T / 2)
    y = np.full(T, rng.uniform(0.6, 0.9) * H)
    feet = np.stack([x, y], 1)
    # walking phase advances with the distance covered (one stride cycle per ~2.2 body heights)
    obj = MovingObject(look, feet, np.full(T, h), 2 * np.pi * speed * t / (2.2 * h),
                       lab_drift(rng, T, cfg.lab_amplitude))
    grey = random_color(rng, (0.0, 0.15), (0.35, 0.6))
    pillar = Occluder((centre - pillar_w / 2, -1.0, centre + pillar_w / 2, H + 1.0), grey)
    return obj, pillar


def simulate_vos(rng: np.random.Generator, cfg: VOSConfig) -> tuple[np.ndarray, np.ndarray, list[MovingObject],
                                                                     Occluder]:
    """Draw one scene: (background canvas, crop offsets (T,), objects, foreground pillar)."""
    W, H, T = cfg.width, cfg.height, cfg.length
    pan = int(rng.integers(0, cfg.pan_px + 1)) if cfg.pan_px > 0 else 0
    background = make_background(rng, W + pan, H, float(rng.uniform(0.3, 0.5)))
    offsets = pan_offsets(rng, T, pan)
    first, pillar = _crossing_object(rng, cfg, pan)
    objects = [first]
    n = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    pillar_x = 0.5 * (pillar.box[0] + pillar.box[2])
    for k in range(1, n):
        look = random_look(rng)
        h = default_height(rng, look, H)
        half = 0.5 * look.aspect * h
        # start in its own horizontal slot, away from the pillar, so every object is visible in frame 0
        slot = (k + rng.uniform(0.2, 0.8)) / n
        x0 = offsets[0] + half + slot * (W - 2 * half)
        if abs(x0 - pillar_x) < half + 0.5 * (pillar.box[2] - pillar.box[0]):
            x0 = pillar_x + np.sign(x0 - pillar_x + 1e-6) * (half + pillar.box[2] - pillar.box[0])
        start = np.array([x0, rng.uniform(0.55, 0.95) * H])
        feet = bouncing_path(rng, T, start, float(rng.uniform(0.8, 3.0)),
                             (half, W + pan - half), (0.5 * H + 0.5 * h * 0.2, H - 1.0))
        objects.append(MovingObject(look, feet, h * np.exp(0.05 * np.sin(np.linspace(0, 3, T))),
                                    rng.uniform(0, 2 * np.pi) + 0.3 * np.arange(T),
                                    lab_drift(rng, T, cfg.lab_amplitude)))
    return background, offsets, objects, pillar


def render_vos(rng: np.random.Generator, cfg: VOSConfig, noise_sigma: float, emit: Emit) -> None:
    """Simulate and render one sequence, calling ``emit(t, rgb (H,W,3) uint8, labels (H,W) uint8)`` with
    0-based ``t`` for every frame."""
    background, offsets, objects, pillar = simulate_vos(rng, cfg)
    W, H = cfg.width, cfg.height
    noise = NoiseBank(rng, H, W, noise_sigma)
    for t in range(cfg.length):
        off = int(offsets[t])
        frame = background[:, off:off + W].copy()
        labels = np.zeros((H, W), np.int32)
        order = np.argsort([o.feet[t, 1] for o in objects], kind="stable")
        for k in order:
            obj = objects[k]
            draw_sprite(frame, labels, int(k) + 1, drifted(obj.look, obj.drift[t]), obj.box(t, off),
                        float(obj.phase[t]))
        draw_occluder(frame, labels, pillar, off)
        emit(t, noise.finish(rng, frame), labels.astype(np.uint8))
