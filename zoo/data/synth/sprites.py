"""Sprites of the ZooSynth scene simulator: appearances ("looks") and their vectorised rendering.

Three sprite kinds share one drawing routine:

- ``PERSON``: head / torso / legs, with the 15 JHMDB joints on the drawn parts (:func:`person_joints`).
  Each part's look (two colours + a texture pattern) comes from a small
  per-part palette, so identities built by :func:`make_identities` often share two of their three parts and
  only one part tells them apart (what FineTrack's part features are for).
- ``BLOB``: a textured ellipse with a marking (VOS/SOT objects).
- ``VEHICLE``: body, windowed cabin and wheels (VOS/SOT objects).

Geometry is expressed in units of the sprite height ``h`` around the bottom centre, so textures scale with
the sprite. Rendering fills only the sprite's bounding slice with numpy masks (no per-pixel loops) and
writes the sprite's label into a label map, which gives occlusion (depth order = drawing order),
visibility fractions and masks for free.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace

import numpy as np

PERSON, BLOB, VEHICLE = 0, 1, 2
KIND_NAMES = {PERSON: "person", BLOB: "ball", VEHICLE: "car"}
# Box width / height of each kind's silhouette (blobs draw theirs per look).
PERSON_ASPECT = 0.4
VEHICLE_ASPECT = 1.8

_SKIN = np.array([[236, 200, 170], [214, 170, 130], [170, 120, 85], [120, 80, 55], [245, 215, 190]], np.float32)
_HAIR = np.array([[30, 22, 18], [90, 60, 35], [200, 170, 110], [150, 150, 150], [120, 40, 25]], np.float32)


@dataclass(frozen=True)
class Look:
    """Appearance of one sprite.

    Attributes:
        kind: ``PERSON``, ``BLOB`` or ``VEHICLE``.
        colors: (3, 2, 3) float32 RGB in [0, 255]: per part (person: head/torso/legs), primary and secondary
            colour. Person heads use primary = skin, secondary = hair or hat.
        patterns: (3,) texture pattern id per part (meaning depends on kind and part).
        periods: (3,) texture period per part, in units of the sprite height.
        aspect: silhouette width / height.
    """

    kind: int
    colors: np.ndarray
    patterns: tuple[int, int, int]
    periods: tuple[float, float, float]
    aspect: float

    def with_colors(self, colors: np.ndarray) -> Look:
        """The same look with other (3, 2, 3) colours (e.g. after a Lab drift)."""
        return replace(self, colors=np.asarray(colors, np.float32))


def random_color(rng: np.random.Generator, sat: tuple[float, float] = (0.35, 0.9),
                 val: tuple[float, float] = (0.3, 0.95)) -> np.ndarray:
    """One RGB colour (3,) float32 in [0, 255] with uniform hue and the given HSV ranges."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val))
    return np.array([r, g, b], np.float32) * 255.0


def _distinct(rng: np.random.Generator, draw, taken: list[np.ndarray], min_dist: float = 60.0) -> np.ndarray:
    # Rejection sampling with a bounded number of tries keeps palettes varied yet always terminates.
    best, best_d = None, -1.0
    for _ in range(24):
        c = draw()
        d = min((float(np.linalg.norm(c - t)) for t in taken), default=1e9)
        if d >= min_dist:
            return c
        if d > best_d:
            best, best_d = c, d
    return best


@dataclass(frozen=True)
class PartEntry:
    """One palette entry of one person part: primary colour, secondary colour, pattern, period."""

    primary: np.ndarray
    secondary: np.ndarray
    pattern: int
    period: float


def person_palettes(rng: np.random.Generator, sizes: tuple[int, int, int]) -> list[list[PartEntry]]:
    """Per-part palettes (head, torso, legs) with ``sizes`` entries each, drawn from ``rng``."""
    heads: list[PartEntry] = []
    for _ in range(sizes[0]):
        pattern = int(rng.integers(0, 3))  # 0 short hair, 1 hat, 2 long hair
        skin = _SKIN[rng.integers(len(_SKIN))] + rng.normal(0, 6, 3).astype(np.float32)
        if pattern == 1:
            top = _distinct(rng, lambda: random_color(rng), [h.secondary for h in heads])
        else:
            top = _HAIR[rng.integers(len(_HAIR))] + rng.normal(0, 8, 3).astype(np.float32)
        heads.append(PartEntry(skin, top, pattern, 0.0))
    torsos: list[PartEntry] = []
    for _ in range(sizes[1]):
        primary = _distinct(rng, lambda: random_color(rng), [t.primary for t in torsos], 80.0)
        secondary = _distinct(rng, lambda: random_color(rng), [primary], 90.0)
        torsos.append(PartEntry(primary, secondary, int(rng.integers(0, 5)), float(rng.uniform(0.035, 0.07))))
    legs: list[PartEntry] = []
    for _ in range(sizes[2]):
        primary = _distinct(rng, lambda: random_color(rng, (0.1, 0.7), (0.15, 0.75)), [g.primary for g in legs])
        shoes = random_color(rng, (0.0, 0.5), (0.05, 0.5))
        legs.append(PartEntry(primary, shoes, int(rng.integers(0, 3)), 0.0))
    return [heads, torsos, legs]


def person_look(palettes: list[list[PartEntry]], parts: np.ndarray) -> Look:
    """The look of the identity whose part indices into ``palettes`` are ``parts`` (3,) int."""
    entries = [palettes[k][int(parts[k])] for k in range(3)]
    colors = np.stack([np.stack([e.primary, e.secondary]) for e in entries]).clip(0, 255).astype(np.float32)
    return Look(PERSON, colors, tuple(e.pattern for e in entries), tuple(e.period for e in entries),
                PERSON_ASPECT)


def make_identities(rng: np.random.Generator, n: int, sizes: tuple[int, int, int]) -> np.ndarray:
    """``n`` distinct identities as (n, 3) int64 part indices (head, torso, legs).

    Identities come in families: a random base plus 1-3 members that each differ from the base in exactly
    one part, so many pairs share exactly two parts (and siblings of one family share at least one).
    """
    capacity = sizes[0] * sizes[1] * sizes[2]
    if n > capacity:
        raise ValueError(f"{n} identities do not fit palettes of sizes {sizes} ({capacity} combinations)")
    out: list[tuple[int, int, int]] = []
    used: set[tuple[int, int, int]] = set()
    while len(out) < n:
        base = tuple(int(rng.integers(s)) for s in sizes)
        if base in used:
            continue
        out.append(base)
        used.add(base)
        for _ in range(int(rng.integers(1, 4))):
            if len(out) >= n:
                break
            part = int(rng.integers(3))
            member = list(base)
            member[part] = int(rng.integers(sizes[part]))
            member_t = (member[0], member[1], member[2])
            if member_t not in used:
                out.append(member_t)
                used.add(member_t)
    return np.array(out, np.int64)


def sibling_look(rng: np.random.Generator, look: Look, palettes: list[list[PartEntry]] | None = None) -> Look:
    """A look that differs from ``look`` in one part only (a similar-looking distractor).

    Persons get one part replaced by a freshly drawn entry; other kinds get one part's colours shifted.
    """
    colors = look.colors.copy()
    patterns = list(look.patterns)
    part = int(rng.integers(3))
    if look.kind == PERSON and palettes is not None:
        fresh = person_palettes(rng, (1, 1, 1))[part][0]
        colors[part] = np.stack([fresh.primary, fresh.secondary]).clip(0, 255)
        patterns[part] = fresh.pattern
    else:
        colors[part] = _distinct(rng, lambda: random_color(rng), [colors[part, 0]], 70.0)[None].repeat(2, 0)
        colors[part, 1] *= 0.6
    return replace(look, colors=colors.astype(np.float32), patterns=tuple(patterns))


def part_swapped_look(look: Look, min_dist: float = 60.0) -> Look | None:
    """``look`` with the torso and legs colours exchanged: the same colours in another arrangement.

    A look-alike that pooled colour statistics barely tell from ``look`` (only the torso/legs area ratio
    differs), while the torso or legs alone does. ``None`` when the two primaries are closer than
    ``min_dist`` (RGB distance): the exchange would then make a twin nothing can tell apart.
    """
    if float(np.linalg.norm(look.colors[1, 0] - look.colors[2, 0])) < min_dist:
        return None
    return look.with_colors(look.colors[[0, 2, 1]])


def object_look(rng: np.random.Generator, kind: int) -> Look:
    """A random look of a non-person kind (``BLOB`` or ``VEHICLE``)."""
    c0 = random_color(rng)
    c1 = _distinct(rng, lambda: random_color(rng), [c0], 90.0)
    c2 = _distinct(rng, lambda: random_color(rng), [c0, c1], 70.0)
    if kind == VEHICLE:
        glass = np.array([60, 80, 100], np.float32) + rng.normal(0, 10, 3).astype(np.float32)
        tyre = np.array([25, 25, 28], np.float32)
        colors = np.stack([[c0, c1], [glass, c0 * 0.8], [tyre, np.full(3, 170, np.float32)]])
        aspect = float(rng.uniform(1.6, 2.0))
    else:
        colors = np.stack([[c0, c1], [c2, c2 * 0.5], [c1 * 0.5, c0]])
        aspect = float(rng.uniform(0.75, 1.35))
    return Look(kind, colors.clip(0, 255).astype(np.float32), (int(rng.integers(0, 4)), 0, 0),
                (float(rng.uniform(0.08, 0.16)), 0.0, 0.0), aspect)


# ---------------------------------------------------------------------------------------------- rendering

def _band(coords: np.ndarray, lo: float, hi: float) -> slice:
    """Index range of the sorted 1-D ``coords`` with lo <= c < hi (sprites are drawn band by band)."""
    return slice(int(np.searchsorted(coords, lo)), int(np.searchsorted(coords, hi)))


def _person_index(u: np.ndarray, v: np.ndarray, look: Look, phase: float) -> np.ndarray:
    """(R, C) uint8 colour index into the person LUT (0 = outside the silhouette).

    LUT entries: 1 skin, 2 hair/hat, 3 torso primary, 4 torso secondary, 5 legs, 6 shoes/leg stripe.
    Each body part only touches its own row band, which keeps the work proportional to its area.
    """
    uu, vv = u[0], v[:, 0]
    idx = np.zeros((vv.size, uu.size), np.uint8)
    # Torso (with its texture) and sleeves.
    rs, cs = _band(vv, 0.19, 0.6), _band(uu, -0.2, 0.2)
    tu, tv = uu[cs][None, :], vv[rs][:, None]
    block = idx[rs, cs]
    p, per = look.patterns[1], max(look.periods[1], 1e-3)
    if p == 1:
        sec = (np.floor(tv / per) % 2).astype(bool) & (np.abs(tu) <= 0.15)
    elif p == 2:
        sec = (np.floor((tu + 1.0) / per) % 2).astype(bool) & (tv >= 0)
    elif p == 3:
        sec = ((np.floor(tv / per) + np.floor((tu + 1.0) / per)) % 2).astype(bool)
    elif p == 4:
        sec = (np.abs(tu) < 0.04) & (tv >= 0)
    else:
        sec = np.zeros(block.shape, bool)
    torso = np.abs(tu) <= 0.15
    block[:] = np.where(torso, np.where(sec, 4, 3), 0)
    arms = (np.abs(tu) > 0.15) & (tv >= 0.21) & (tv < 0.54)
    block[arms] = 3
    # Legs with a walking shear.
    rs, cs = _band(vv, 0.6, 1.0), _band(uu, -0.21, 0.21)
    lu, lv = uu[cs][None, :], vv[rs][:, None]
    shear = 0.05 * np.sin(phase) * np.clip((lv - 0.6) / 0.4, 0.0, 1.0)
    legs = (np.abs(lu + 0.075 - shear) <= 0.065) | (np.abs(lu - 0.075 + shear) <= 0.065)
    block = idx[rs, cs]
    lp = look.patterns[2]
    if lp == 1:
        fill = np.where(lv >= 0.8, 1, 5)
    elif lp == 2:
        fill = np.where(np.abs(lu) > 0.11, 6, 5)
    else:
        fill = np.full((1, 1), 5)
    fill = np.where(lv >= 0.96, 6, fill)
    block[:] = np.where(legs, fill, 0)
    # Head over the top of the torso band: skin with hair or a hat.
    rs, cs = _band(vv, 0.0, 0.21), _band(uu, -0.15, 0.15)
    hu, hv = uu[cs][None, :], vv[rs][:, None]
    head = (hu / 0.105) ** 2 + ((hv - 0.105) / 0.1) ** 2 <= 1.0
    hp = look.patterns[0]
    if hp == 0:
        top = hv < 0.07
    elif hp == 1:
        top = (hv < 0.06) | ((np.abs(hu) <= 0.14) & (hv >= 0.05) & (hv < 0.07))
        head = head | ((np.abs(hu) <= 0.14) & (hv >= 0.05) & (hv < 0.07))
    else:
        top = (hv < 0.08) | ((np.abs(hu) > 0.07) & (hv < 0.2))
    block = idx[rs, cs]
    np.copyto(block, np.where(top, 2, 1).astype(np.uint8), where=head)
    return idx


# The 15 JHMDB puppet joints (its order, zoo.data.formats.jhmdb.JOINT_NAMES) on the drawn person, in sprite
# units (u across from the centre, v down from the top, both in heights). The sprite faces the camera, so its
# right side is the image's left (u < 0). Each joint sits mid-part of what _person_index draws: face inside
# the head ellipse (centre v 0.105, radii 0.105 x 0.1) below any hair or hat, neck where head meets torso,
# belly mid-torso (|u| <= 0.15, v 0.19-0.6), shoulders / elbows / wrists down the middle of the sleeves
# (0.15 < |u| < 0.2, v 0.21-0.54), hips / knees / ankles down the middle of each leg (centres +-0.075, half
# width 0.065, v 0.6-1.0; shoes from 0.96), which follow the legs' walking shear.
_JOINT_UV = np.array([
    (0.0, 0.2), (0.0, 0.45), (0.0, 0.12),            # neck, belly, face
    (-0.175, 0.24), (0.175, 0.24),                   # right, left shoulder
    (-0.075, 0.63), (0.075, 0.63),                   # right, left hip
    (-0.175, 0.375), (0.175, 0.375),                 # right, left elbow
    (-0.075, 0.8), (0.075, 0.8),                     # right, left knee
    (-0.175, 0.51), (0.175, 0.51),                   # right, left wrist
    (-0.075, 0.94), (0.075, 0.94),                   # right, left ankle
])  # fmt: skip
_RIGHT_LEG, _LEFT_LEG = np.array([5, 9, 13]), np.array([6, 10, 14])


def person_joints(box: np.ndarray, phase: float = 0.0) -> np.ndarray:
    """The 15 JHMDB joints of a person sprite drawn by :func:`draw_sprite` with ``box`` and ``phase``.

    Returns:
        (15, 2) float64 (x, y) in 0-based pixel-index coordinates (the centre of pixel (r, c) is (c, r), as
        JHMDB's ``pos_img`` - 1): the pixel holding joint j is ``floor((x, y) + 0.5)``, a pixel of the
        sprite's silhouette when nothing covers it (sprites at least 20 pixels tall).
    """
    x0, y0, x1, y1 = (float(b) for b in box)
    h = y1 - y0
    uv = _JOINT_UV.copy()
    # the walking shear of _person_index: 0.05 sin(phase) x clip((v - 0.6) / 0.4, 0, 1), each leg inwards
    shear = 0.05 * np.sin(phase) * np.clip((uv[_RIGHT_LEG, 1] - 0.6) / 0.4, 0.0, 1.0)
    uv[_RIGHT_LEG, 0] += shear
    uv[_LEFT_LEG, 0] -= shear
    xc = 0.5 * (x0 + x1)
    return np.stack([xc + uv[:, 0] * h - 0.5, y0 + uv[:, 1] * h - 0.5], 1)


def _blob_index(u: np.ndarray, v: np.ndarray, look: Look, phase: float) -> np.ndarray:
    a = look.aspect
    # A slow breathing deformation (VOS/SOT masks change shape, not only position).
    rx = 0.5 * a * (1.0 - 0.04 * (1.0 + np.sin(phase)))
    ry = 0.5 * (1.0 - 0.04 * (1.0 - np.sin(phase)))
    x, y = u, v - 0.5
    body = (x / rx) ** 2 + (y / ry) ** 2 <= 1.0
    idx = np.zeros(body.shape, np.uint8)
    idx[body] = 1
    per = max(look.periods[0], 1e-3)
    pat = look.patterns[0]
    if pat == 0:
        sec = ((np.floor(x / per) + np.floor(y / per)) % 2).astype(bool)
    elif pat == 1:
        sec = (np.floor((x + y) / per) % 2).astype(bool)
    elif pat == 2:
        sec = (np.floor(np.sqrt(x**2 + y**2) / per) % 2).astype(bool)
    else:
        cx, cy = (np.mod(x, 2 * per) - per), (np.mod(y, 2 * per) - per)
        sec = cx**2 + cy**2 < (0.45 * per) ** 2
    idx[body & sec] = 2
    mark = ((x - 0.2 * a) / (0.12 * a)) ** 2 + ((y + 0.18) / 0.1) ** 2 <= 1.0
    idx[body & mark] = 3
    return idx


def _vehicle_index(u: np.ndarray, v: np.ndarray, look: Look, phase: float) -> np.ndarray:
    a = look.aspect
    x = u / a  # in [-0.5, 0.5] across the silhouette
    shape = np.broadcast_shapes(u.shape, v.shape)
    idx = np.zeros(shape, np.uint8)
    body = (np.abs(x) <= 0.5) & (v >= 0.35) & (v < 0.85)
    cabin = (np.abs(x + 0.05) <= 0.3 - 0.25 * (0.35 - v)) & (v >= 0.0) & (v < 0.35)
    idx[body] = 1
    idx[body & (v >= 0.55) & (v < 0.62)] = 2  # side stripe
    idx[cabin] = 3
    idx[cabin & (v >= 0.08) & (np.abs(x + 0.05) <= 0.24 - 0.25 * (0.35 - v)) & (np.abs(x + 0.05) > 0.015)] = 4
    for wx in (-0.3, 0.3):
        d2 = ((x - wx) * a / 0.16) ** 2 + ((v - 0.84) / 0.16) ** 2
        wheel = d2 <= 1.0
        idx[wheel] = 5
        # Rotating hub mark so wheels show motion.
        ang = np.arctan2(v - 0.84, (x - wx) * a) + phase
        idx[wheel & (d2 <= 0.35) & (np.cos(2 * ang) > 0.6)] = 6
    return idx


def _lut(look: Look) -> np.ndarray:
    c = look.colors
    return np.concatenate([np.zeros((1, 3), np.float32), c.reshape(6, 3)], 0)


def draw_sprite(frame: np.ndarray, labels: np.ndarray, value: int, look: Look, box: np.ndarray,
                phase: float = 0.0) -> tuple[int, np.ndarray | None]:
    """Draw one sprite in place, on top of what is there.

    Args:
        frame: (H, W, 3) float32 RGB canvas in [0, 255], modified in place.
        labels: (H, W) integer label map, modified in place: the sprite's pixels get ``value``.
        value: label written for the sprite's pixels.
        look: the sprite's appearance.
        box: nominal ``xyxy`` box (4,) in pixels; the silhouette is drawn to fit it (height = y1 - y0,
            horizontally centred at (x0 + x1) / 2; the width follows the look's aspect).
        phase: animation phase in radians (walking legs, blob breathing, wheel rotation).

    Returns:
        (area, tight): the silhouette's pixel count including pixels outside the frame, and its tight
        ``xyxy`` box (4,) float64 in pixels (None when the silhouette is empty).
    """
    x0, y0, x1, y1 = (float(b) for b in box)
    h = y1 - y0
    if h < 2:
        return 0, None
    xc = 0.5 * (x0 + x1)
    half = 0.5 * look.aspect * h + 1
    c0, c1 = int(np.floor(xc - half)), int(np.ceil(xc + half))
    r0, r1 = int(np.floor(y0)), int(np.ceil(y1))
    u = ((np.arange(c0, c1, dtype=np.float32) + 0.5 - xc) / h)[None, :]
    v = ((np.arange(r0, r1, dtype=np.float32) + 0.5 - y0) / h)[:, None]
    if look.kind == PERSON:
        idx = _person_index(u, v, look, phase)
    elif look.kind == VEHICLE:
        idx = _vehicle_index(u, v, look, phase)
    else:
        idx = _blob_index(u, v, look, phase)
    sil = idx > 0
    area = int(sil.sum())
    if area == 0:
        return 0, None
    rows, cols = np.flatnonzero(sil.any(1)), np.flatnonzero(sil.any(0))
    tight = np.array([c0 + cols[0], r0 + rows[0], c0 + cols[-1] + 1, r0 + rows[-1] + 1], np.float64)
    H, W = labels.shape
    fr0, fr1, fc0, fc1 = max(r0, 0), min(r1, H), max(c0, 0), min(c1, W)
    if fr0 >= fr1 or fc0 >= fc1:
        return area, tight
    sub = idx[fr0 - r0:fr1 - r0, fc0 - c0:fc1 - c0]
    m = sub > 0
    # Soft horizontal shading gives sprites some volume (and image gradients to track).
    shade = 1.0 - 0.25 * np.clip(np.abs(u[0, fc0 - c0:fc1 - c0]) / (0.5 * look.aspect), 0, 1) ** 2
    colour = _lut(look)[sub] * shade[None, :, None]
    np.copyto(frame[fr0:fr1, fc0:fc1], colour, where=m[..., None])
    np.copyto(labels[fr0:fr1, fc0:fc1], value, where=m)
    return area, tight
