"""ZooSynth-SOT: one target among similar-looking distractors, in the GOT-10k layout with target masks.

What one sequence contains (all drawn from one ``np.random.Generator``):

- the target: a person, ball or car sized so that its tight box keeps its shorter side >= ``min_target``
  pixels in every frame (the classic OpenCV trackers fail on small targets);
- 1-3 distractors whose look differs from the target's in one part only (a "sibling" look), moving on
  their own paths and passing in front of or behind the target (partial occlusion, GOT-10k cover levels);
- a slow zoom of the target (+-10 %) and an optional pillar it may pass behind.

Per frame: the tight amodal target box, visible ratio -> ``cover`` (0 fully hidden .. 8 fully visible),
``absence`` (nothing visible), ``cut_by_image`` (the box leaves the frame) and the visible target mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from zoo.data.synth.config import SOTConfig
from zoo.data.synth.objects import MovingObject, bouncing_path, random_look, tight_ratio
from zoo.data.synth.scene import NoiseBank, Occluder, draw_occluder, make_background
from zoo.data.synth.sprites import KIND_NAMES, PERSON, draw_sprite, random_color, sibling_look

Emit = Callable[[int, np.ndarray, np.ndarray], None]


@dataclass
class SOTAnnotation:
    """Per-frame annotation of the target.

    Attributes:
        boxes: (T, 4) float64 tight amodal ``xyxy`` boxes.
        visible: (T,) float64 visible fraction of the silhouette in [0, 1].
        cut: (T,) bool, the silhouette extends beyond the frame.
        kind: the target's kind name (``person``, ``ball``, ``car``).
    """

    boxes: np.ndarray
    visible: np.ndarray
    cut: np.ndarray
    kind: str

    @property
    def cover(self) -> np.ndarray:
        """GOT-10k cover level 0..8: 0 = fully occluded, 8 = fully visible (ceil of 8 x visible ratio)."""
        return np.clip(np.ceil(8 * self.visible - 1e-9), 0, 8).astype(np.int64)


def simulate_sot(rng: np.random.Generator, cfg: SOTConfig) -> tuple[np.ndarray, list[MovingObject],
                                                                     Occluder | None]:
    """Draw one scene: (background, objects (target first), optional pillar)."""
    W, H, T = cfg.width, cfg.height, cfg.length
    background = make_background(rng, W, H, float(rng.uniform(0.25, 0.45)))
    # Size the target so its TIGHT box keeps its shorter side >= min_target (+2 px for pixel rounding)
    # through the zoom (x0.9 at the smallest); a look too narrow to fit the frame that way is redrawn.
    for _ in range(100):
        look = random_look(rng)
        ratio = max(tight_ratio(look), 0.3)
        h = (cfg.min_target + 2) * float(rng.uniform(1.05, 1.3)) / ratio / 0.9 / min(1.0, look.aspect)
        if h * 1.1 <= 0.9 * H and look.aspect * h * 1.1 <= 0.9 * W:
            break
    else:
        raise ValueError(f"SOT frames of {W}x{H} are too small for targets of min side {cfg.min_target}")
    half = 0.5 * look.aspect * h * 1.1
    target_feet = bouncing_path(rng, T, np.array([rng.uniform(half, W - half), rng.uniform(h * 1.1, H)]),
                                float(rng.uniform(1.0, 3.5)), (half, W - half), (h * 1.1, H - 1.0))
    zoom = 1.0 + 0.1 * np.sin(np.linspace(0, rng.uniform(1, 4), T) + rng.uniform(0, 6))
    phase = rng.uniform(0, 2 * np.pi) + 0.25 * np.arange(T)
    objects = [MovingObject(look, target_feet, h * zoom, phase, np.zeros((T, 2)))]
    palettes = [] if look.kind == PERSON else None  # persons: a fresh part; others: a shifted colour
    for _ in range(int(rng.integers(cfg.min_distractors, cfg.max_distractors + 1))):
        d_look = sibling_look(rng, look, palettes)
        dh = float(np.clip(h * rng.uniform(0.75, 1.15), 8, 0.95 * H))
        dhalf = 0.5 * d_look.aspect * dh
        feet = bouncing_path(rng, T, np.array([rng.uniform(dhalf, W - dhalf), rng.uniform(dh, H)]),
                             float(rng.uniform(1.0, 4.0)), (dhalf, W - dhalf), (min(dh, H - 1.0), H - 1.0))
        objects.append(MovingObject(d_look, feet, np.full(T, dh), rng.uniform(0, 6) + 0.25 * np.arange(T),
                                    np.zeros((T, 2))))
    pillar = None
    if rng.random() < 0.5:
        px = rng.uniform(0.2, 0.8) * W
        pw = rng.uniform(0.3, 0.8) * min(look.aspect * h, W / 4)  # narrower than the target: partial cover
        pillar = Occluder((px - pw / 2, -1.0, px + pw / 2, H + 1.0), random_color(rng, (0.0, 0.2), (0.3, 0.6)))
    return background, objects, pillar


def render_sot(rng: np.random.Generator, cfg: SOTConfig, noise_sigma: float, emit: Emit) -> SOTAnnotation:
    """Simulate and render one sequence, calling ``emit(t, rgb (H,W,3) uint8, target_mask (H,W) uint8)``
    with 0-based ``t``; returns the target's annotation."""
    background, objects, pillar = simulate_sot(rng, cfg)
    W, H, T = cfg.width, cfg.height, cfg.length
    noise = NoiseBank(rng, H, W, noise_sigma)
    boxes = np.zeros((T, 4))
    visible = np.zeros(T)
    cut = np.zeros(T, bool)
    for t in range(T):
        frame = background.copy()
        labels = np.zeros((H, W), np.int32)
        order = np.argsort([o.feet[t, 1] for o in objects], kind="stable")
        area = 0
        for k in order:
            obj = objects[k]
            a, tight = draw_sprite(frame, labels, int(k) + 1, obj.look, obj.box(t), float(obj.phase[t]))
            if k == 0:
                area, boxes[t] = a, tight if tight is not None else obj.box(t)
        if pillar is not None:
            draw_occluder(frame, labels, pillar, 0)
        mask = labels == 1
        visible[t] = mask.sum() / area if area else 0.0
        b = boxes[t]
        cut[t] = b[0] < 0 or b[1] < 0 or b[2] > W or b[3] > H
        emit(t, noise.finish(rng, frame), mask.astype(np.uint8))
    return SOTAnnotation(boxes, np.round(visible, 4), cut, KIND_NAMES[objects[0].look.kind])
