"""Static parts of a ZooSynth scene: textured backgrounds, foreground occluders, camera pan and noise.

A background is a canvas wider than the frame (by the pan range); each frame is a crop of it at an
integer horizontal offset, so a moving crop window is a camera pan with no resampling. All drawing is
vectorised numpy on whole arrays or slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from zoo.data.synth.sprites import random_color


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """(h, w) float32 low-frequency noise in about [-1, 1]: a coarse random grid upsampled bicubically."""
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    grid = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def make_background(rng: np.random.Generator, width: int, height: int, horizon: float) -> np.ndarray:
    """A street-like textured background.

    Args:
        width, height: canvas size in pixels.
        horizon: y of the wall/ground boundary as a fraction of the height.

    Returns:
        (height, width, 3) float32 RGB in [0, 255].
    """
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    hy = int(horizon * height)
    canvas = np.empty((height, width, 3), np.float32)
    # Ground: paving with a tile grid and a vertical brightness ramp.
    ground = random_color(rng, (0.05, 0.3), (0.35, 0.65))
    tile = float(rng.uniform(18, 34))
    joints = ((np.mod(xs + 0.5 * tile * (np.floor(ys / tile) % 2), tile) < 1.5)
              | (np.mod(ys, tile) < 1.5))
    ramp = 0.85 + 0.25 * (ys - hy) / max(1, height - hy)
    canvas[:] = ground * ramp[..., None]
    canvas[joints] *= 0.8
    # Wall: a row of building facades with window grids.
    x = 0
    while x < width:
        bw = int(rng.integers(60, 160))
        facade = random_color(rng, (0.1, 0.6), (0.35, 0.85))
        window = random_color(rng, (0.0, 0.4), (0.1, 0.5))
        sl = slice(x, min(width, x + bw))
        canvas[:hy, sl] = facade
        wx, wy = float(rng.uniform(14, 26)), float(rng.uniform(14, 26))
        lx = np.arange(sl.stop - sl.start, dtype=np.float32)[None, :]
        win = (np.mod(lx, wx) > 0.35 * wx) & (np.mod(ys[:hy], wy) > 0.4 * wy) & (lx > 4) & (lx < bw - 4)
        block = canvas[:hy, sl]
        block[win] = window
        x += bw
    canvas[max(0, hy - 3):hy + 2] *= 0.6  # kerb line
    # Dirt / light variation at two scales plus fine grain.
    canvas += 18.0 * _smooth_noise(rng, height, width, 48)[..., None]
    canvas += 8.0 * _smooth_noise(rng, height, width, 8)[..., None]
    canvas += rng.normal(0.0, 4.0, (height, width, 1)).astype(np.float32)
    return np.clip(canvas, 0, 255)


@dataclass(frozen=True)
class Occluder:
    """A static pillar or post, depth-sorted with the sprites by its bottom edge (``box[3]``).

    Attributes:
        box: ``xyxy`` (4,) in canvas (world) pixels.
        color: (3,) float32 RGB.
    """

    box: tuple[float, float, float, float]
    color: np.ndarray


def draw_occluder(frame: np.ndarray, labels: np.ndarray, occ: Occluder, offset: int, value: int = 0) -> None:
    """Draw one occluder (world coordinates) into a frame whose crop starts at world x ``offset``.

    Pixels it covers get label ``value`` (background), so they count as occlusion of what lies behind.
    """
    H, W = labels.shape
    x0, y0, x1, y1 = occ.box
    c0, c1 = max(0, int(round(x0)) - offset), min(W, int(round(x1)) - offset)
    r0, r1 = max(0, int(round(y0))), min(H, int(round(y1)))
    if c0 >= c1 or r0 >= r1:
        return
    u = np.linspace(-1.0, 1.0, c1 - c0 + 2, dtype=np.float32)[1:-1]
    # Cylindrical shading plus horizontal bands: a pillar, not a flat rectangle.
    shade = 1.0 - 0.35 * u**2
    bands = 1.0 - 0.12 * (np.mod(np.arange(r0, r1), 24) < 3)[:, None]
    frame[r0:r1, c0:c1] = occ.color * (shade[None, :] * bands)[..., None]
    labels[r0:r1, c0:c1] = value


def pan_offsets(rng: np.random.Generator, length: int, pan_px: int) -> np.ndarray:
    """(length,) int64 crop offsets: a smooth ease-in/ease-out sweep over ``pan_px`` pixels (either way)."""
    if pan_px <= 0:
        return np.zeros(length, np.int64)
    t = np.linspace(0.0, 1.0, length)
    sweep = 0.5 - 0.5 * np.cos(np.pi * t)
    if rng.random() < 0.5:
        sweep = 1.0 - sweep
    return np.round(sweep * pan_px).astype(np.int64)


def shake_offsets(rng: np.random.Generator, length: int, shakes: int, jump_px: tuple[int, int]) -> np.ndarray:
    """(length,) int64 camera jerks: 1..``shakes`` sudden jumps of the crop window, each of
    ``jump_px[0]..jump_px[1]`` pixels either way, held afterwards (a handheld camera re-framing).

    The displacement stays within ``[-jump_px[1], jump_px[1]]`` (a jump that would leave it goes the other
    way), so a canvas ``2 * jump_px[1]`` wider than the view always has room.
    """
    out = np.zeros(length, np.int64)
    if shakes <= 0 or length < 3 or jump_px[1] <= 0:
        return out
    n = int(rng.integers(1, shakes + 1))
    frames = np.sort(rng.choice(np.arange(1, length - 1), size=min(n, length - 2), replace=False))
    shift = 0
    for t in frames:
        jump = int(rng.integers(jump_px[0], jump_px[1] + 1)) * (1 if rng.random() < 0.5 else -1)
        if abs(shift + jump) > jump_px[1]:
            jump = -jump
        shift += jump
        out[t:] = shift
    return out


class NoiseBank:
    """Per-frame sensor noise without drawing a full noise image per frame.

    A few noise fields are drawn once per sequence; each frame adds a randomly chosen field at a random
    sub-offset, so consecutive frames get (nearly) independent noise at a fraction of the cost.
    """

    def __init__(self, rng: np.random.Generator, height: int, width: int, sigma: float, fields: int = 6,
                 margin: int = 16) -> None:
        self.sigma, self.height, self.width, self.margin = sigma, height, width, margin
        shape = (fields, height + margin, width + margin, 3)
        self.fields = rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma) if sigma > 0 else None

    def finish(self, rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
        """Add noise to (H, W, 3) float32 ``frame`` (in place) and return it as uint8 RGB."""
        if self.fields is not None:
            k, dy, dx = (int(v) for v in rng.integers(0, (len(self.fields), self.margin, self.margin)))
            frame += self.fields[k, dy:dy + self.height, dx:dx + self.width]
        frame += 0.5  # round to nearest in the uint8 cast
        np.clip(frame, 0, 255, out=frame)
        return frame.astype(np.uint8)
