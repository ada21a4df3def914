"""ZooSynth-KP (generator 1.6): one person per clip with its 15 JHMDB joints, for keypoint propagation (PCK).

What one clip contains (all drawn from the clip's own ``np.random.Generator``, task index 3 in
:mod:`zoo.data.synth.store`, so the MOT, VOS and SOT tracks draw exactly what they drew before):

- the annotated person (label 1): a people sprite walking across a textured scene toward the far side of
  the frame, its legs scissoring with the walking phase, its size changing slowly (walking toward or away
  from the camera), its colours drifting in Lab; fully in view, with every joint visible, in frame 0;
- its joints (:func:`zoo.data.synth.sprites.person_joints`): placed on the drawn head, torso, sleeves and
  legs, so they move with the sprite and its legs' articulation;
- a narrow pillar in front of everything on the person's path (``pillar_share``), which hides an arm, a leg
  or the middle while the person passes it;
- 1-2 distractors (people, balls, cars) crossing the person in front of it or behind, clear of it in frame 0;
- an optional camera pan.

A joint is visible in a frame when the pixel holding it shows the person (label map, after every occluder is
drawn): hidden joints are the ones behind a pillar or a distractor, or outside the frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from zoo.data.synth.config import KPConfig
from zoo.data.synth.objects import MovingObject, default_height, drifted, lab_drift, random_look
from zoo.data.synth.scene import NoiseBank, Occluder, draw_occluder, make_background, pan_offsets
from zoo.data.synth.sprites import PERSON, draw_sprite, person_joints, random_color

Emit = Callable[[int, np.ndarray, np.ndarray], None]
#: label of the annotated person in the rendered label map (distractors get 2, 3, ...)
TARGET = 1


@dataclass
class KPScene:
    """One simulated clip: background canvas, crop offsets (T,), the person, distractors, pillar or None."""

    background: np.ndarray
    offsets: np.ndarray
    person: MovingObject
    distractors: list[MovingObject]
    pillar: Occluder | None


@dataclass
class KPAnnotation:
    """Joints of the annotated person: ``joints`` (T, 15, 2) float64 0-based pixel-index (x, y) (hidden
    joints too), ``visible`` (T, 15) bool."""

    joints: np.ndarray
    visible: np.ndarray


def _half_width(obj: MovingObject, t: int) -> float:
    return 0.5 * obj.look.aspect * float(obj.heights[t])


def simulate_kp(rng: np.random.Generator, cfg: KPConfig) -> KPScene:
    """Draw one clip's scene (no rendering)."""
    W, H, T = cfg.width, cfg.height, cfg.length
    offsets = pan_offsets(rng, T, int(rng.integers(0, cfg.pan_px + 1)))
    pan = int(offsets.max())
    background = make_background(rng, W + pan, H, float(rng.uniform(0.3, 0.5)))
    t = np.arange(T, dtype=np.float64)
    ramp = t / max(T - 1, 1)

    # the annotated person: in full view in frame 0, walking toward the far side of the frame
    look = random_look(rng, PERSON)
    h0 = float(rng.uniform(*cfg.person_height)) * H
    heights = h0 * np.exp(float(rng.uniform(-1.0, 1.0)) * cfg.zoom * ramp)
    feet_y0 = float(rng.uniform(min(h0 + 0.03 * H, 0.95 * H), 0.95 * H))
    feet_y = feet_y0 + 0.5 * (heights - h0)  # nearer: lower in the image
    start = float(rng.uniform(0.25, 0.4)) * W
    direction = 1.0
    if rng.random() < 0.5:
        start, direction = W - start, -1.0
    speed = float(rng.uniform(*cfg.speed)) * h0
    x = offsets[0] + start + direction * speed * t  # canvas x
    # one stride cycle per 0.8 heights walked, from a random phase
    phase = float(rng.uniform(0, 2 * np.pi)) + 2 * np.pi * speed * t / (0.8 * h0)
    person = MovingObject(
        look, np.stack([x, feet_y], 1), heights, phase, lab_drift(rng, T, cfg.lab_amplitude)
    )
    half0 = _half_width(person, 0)

    pillar = None
    if rng.random() < cfg.pillar_share:
        width = float(rng.uniform(*cfg.pillar_width)) * h0
        t_occ = int(rng.uniform(0.45, 0.85) * (T - 1))
        centre = x[t_occ] + float(rng.uniform(-0.15, 0.15)) * h0
        clear = half0 + 0.5 * width + 3.0  # never over the person in frame 0
        if direction * (centre - x[0]) < clear:
            centre = x[0] + direction * clear
        grey = random_color(rng, (0.0, 0.15), (0.35, 0.6))
        pillar = Occluder((centre - 0.5 * width, -1.0, centre + 0.5 * width, H + 1.0), grey)

    distractors = []
    for _ in range(int(rng.integers(cfg.min_distractors, cfg.max_distractors + 1))):
        d_look = random_look(rng)
        hd = default_height(rng, d_look, H)
        # nearer is lower in the image and (people) taller: in front just below the person's feet, so it
        # covers the body while it crosses; behind higher up and smaller
        if rng.random() < cfg.front_share:
            y = feet_y0 + float(rng.uniform(0.07, 0.15)) * H
            if d_look.kind == PERSON:
                hd = h0 * float(rng.uniform(1.0, 1.15))
        else:
            y = feet_y0 - float(rng.uniform(0.08, 0.25)) * H
            if d_look.kind == PERSON:
                hd = h0 * float(rng.uniform(0.6, 0.9))
        side = 1.0 if rng.random() < 0.5 else -1.0
        half_d = 0.5 * d_look.aspect * hd * 1.06  # its height breathes by up to 5 %
        xs = x[0] + side * (half0 + half_d + 3.0 + float(rng.uniform(0.0, 0.25)) * W)
        t_cross = max(1.0, float(rng.uniform(0.3, 0.8)) * (T - 1))
        velocity = (x[int(t_cross)] - xs) / t_cross  # meets the person about t_cross
        d_phase = float(rng.uniform(0, 2 * np.pi)) + (
            2 * np.pi * abs(velocity) * t / (0.8 * hd) if d_look.kind == PERSON else 0.3 * t
        )
        distractors.append(MovingObject(
            d_look, np.stack([xs + velocity * t, np.full(T, y)], 1),
            hd * np.exp(0.05 * np.sin(np.linspace(0, 3, T))), d_phase, lab_drift(rng, T, cfg.lab_amplitude),
        ))  # fmt: skip
    return KPScene(background, offsets, person, distractors, pillar)


def render_kp(rng: np.random.Generator, cfg: KPConfig, noise_sigma: float, emit: Emit) -> KPAnnotation:
    """Simulate and render one clip, calling ``emit(t, rgb (H, W, 3) uint8, labels (H, W) int32)`` for every
    0-based frame ``t`` (labels: 1 the person, 2... the distractors, 0 background and pillar); returns the
    person's joints and their visibility."""
    scene = simulate_kp(rng, cfg)
    W, H, T = cfg.width, cfg.height, cfg.length
    noise = NoiseBank(rng, H, W, noise_sigma)
    objects = [scene.person, *scene.distractors]
    joints = np.empty((T, 15, 2), np.float64)
    visible = np.zeros((T, 15), bool)
    for t in range(T):
        off = int(scene.offsets[t])
        frame = scene.background[:, off : off + W].copy()
        labels = np.zeros((H, W), np.int32)
        for k in np.argsort([o.feet[t, 1] for o in objects], kind="stable"):
            obj = objects[k]
            draw_sprite(
                frame,
                labels,
                int(k) + TARGET,
                drifted(obj.look, obj.drift[t]),
                obj.box(t, off),
                float(obj.phase[t]),
            )
        if scene.pillar is not None:
            draw_occluder(frame, labels, scene.pillar, off)
        person = scene.person
        joints[t] = person_joints(person.box(t, off), float(person.phase[t]))
        pix = np.floor(joints[t] + 0.5).astype(np.int64)
        inside = (pix[:, 0] >= 0) & (pix[:, 0] < W) & (pix[:, 1] >= 0) & (pix[:, 1] < H)
        visible[t, inside] = labels[pix[inside, 1], pix[inside, 0]] == TARGET
        emit(t, noise.finish(rng, frame), labels)
    return KPAnnotation(joints, visible)
