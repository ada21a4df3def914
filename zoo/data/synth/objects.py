"""Moving objects shared by the VOS and SOT generators: looks, sizes, smooth bouncing paths, Lab drift.

An object is a sprite (person, ball or car look from :mod:`zoo.data.synth.sprites`) whose nominal box is
given by its bottom centre ``feet`` (x, y) and its height per frame; the depth order of a frame is the order
of ``feet`` y (nearer = lower in the image = drawn later).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from zoo.data.synth.sprites import (
    BLOB,
    PERSON,
    PERSON_ASPECT,
    VEHICLE,
    Look,
    draw_sprite,
    object_look,
    person_look,
    person_palettes,
)


@dataclass
class MovingObject:
    """One object over T frames.

    Attributes:
        look: appearance at frame 0 (colours drift over time, see :func:`drifted`).
        feet: (T, 2) float64 bottom-centre (x, y) in canvas pixels.
        heights: (T,) float64 sprite height in pixels.
        phase: (T,) float64 animation phase in radians.
        drift: (T, 2) float64 offset of every colour in Lab (a, b) at each frame.
    """

    look: Look
    feet: np.ndarray
    heights: np.ndarray
    phase: np.ndarray
    drift: np.ndarray

    def box(self, t: int, x_offset: float = 0.0) -> np.ndarray:
        """Nominal ``xyxy`` (4,) box at frame ``t`` in a crop starting at canvas x ``x_offset``."""
        x, y = self.feet[t, 0] - x_offset, self.feet[t, 1]
        h = self.heights[t]
        half = 0.5 * self.look.aspect * h
        return np.array([x - half, y - h, x + half, y], np.float64)


def random_look(rng: np.random.Generator, kind: int | None = None) -> Look:
    """A person, ball or car look (``kind`` None: drawn uniformly)."""
    kind = int(rng.choice([PERSON, BLOB, VEHICLE])) if kind is None else kind
    if kind == PERSON:
        palettes = person_palettes(rng, (3, 3, 3))
        return person_look(palettes, rng.integers(0, 3, 3))
    return object_look(rng, kind)


def tight_ratio(look: Look, phases: int = 8) -> float:
    """Smallest ratio of the tight silhouette box to the nominal box, per side, over animation phases.

    Used to size objects so their tight (annotated) box keeps a minimum side length.
    """
    h = 200.0
    w = look.aspect * h
    box = np.array([50.0, 20.0, 50.0 + w, 20.0 + h])
    worst = 1.0
    for phase in np.linspace(0.0, 2 * np.pi, phases, endpoint=False):
        canvas = np.zeros((260, int(w) + 120, 3), np.float32)
        labels = np.zeros(canvas.shape[:2], np.int32)
        _, tight = draw_sprite(canvas, labels, 1, look, box, float(phase))
        if tight is None:
            return 0.0
        worst = min(worst, (tight[2] - tight[0]) / w, (tight[3] - tight[1]) / h)
    return float(worst)


def bouncing_path(rng: np.random.Generator, length: int, start: np.ndarray, speed: float,
                  x_range: tuple[float, float], y_range: tuple[float, float]) -> np.ndarray:
    """(T, 2) smooth path from ``start`` with a slowly turning heading, reflected at the range borders."""
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0.0, 0.08, length))
    vel = speed * np.stack([np.cos(heading), 0.35 * np.sin(heading)], 1)
    lo = np.array([x_range[0], y_range[0]])
    hi = np.array([x_range[1], y_range[1]])
    pos = np.empty((length, 2))
    p = np.clip(np.asarray(start, np.float64), lo, hi)
    flip = np.ones(2)
    for t in range(length):  # reflection depends on the previous position; T is small (<= ~100)
        pos[t] = p
        p = p + flip * vel[t]
        out = (p < lo) | (p > hi)
        flip[out] *= -1
        p = np.where(p < lo, 2 * lo - p, np.where(p > hi, 2 * hi - p, p))
        p = np.clip(p, lo, hi)
    return pos


def lab_drift(rng: np.random.Generator, length: int, amplitude: float) -> np.ndarray:
    """(T, 2) smooth Lab (a, b) offsets of amplitude ``amplitude``: one slow rotation around the colour."""
    period = rng.uniform(0.8, 2.0) * length
    phi = rng.uniform(0, 2 * np.pi)
    t = np.arange(length)
    return amplitude * np.stack([np.sin(2 * np.pi * t / period + phi), np.cos(2 * np.pi * t / period + phi)], 1)


def drifted(look: Look, ab: np.ndarray) -> Look:
    """``look`` with every colour moved by (a, b) in CIE Lab (L kept), clipped to the RGB gamut."""
    rgb = look.colors.reshape(1, -1, 3) / 255.0
    lab = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 1:] += np.asarray(ab, np.float32)
    back = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB).clip(0.0, 1.0) * 255.0
    return look.with_colors(back.reshape(look.colors.shape))


def default_height(rng: np.random.Generator, look: Look, frame_h: int) -> float:
    """A plausible sprite height for a look: people tall, cars flat."""
    if look.kind == PERSON:
        return float(rng.uniform(0.3, 0.55) * frame_h)
    if look.kind == VEHICLE:
        return float(rng.uniform(0.18, 0.3) * frame_h)
    return float(rng.uniform(0.2, 0.35) * frame_h)


__all__ = ["MovingObject", "PERSON_ASPECT", "bouncing_path", "default_height", "drifted", "lab_drift",
           "random_look", "tight_ratio"]
