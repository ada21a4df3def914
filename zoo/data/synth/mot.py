"""ZooSynth-MOT: a street scene of walking people, rendered with ground truth and public detections.

What one sequence contains (all drawn from one ``np.random.Generator``):

- walkers (class 1, consider 1) whose identities come in part-sharing families (see
  :func:`zoo.data.synth.sprites.make_identities`); some walk in groups (family members side by side, so
  identities differing in one part walk next to each other), pairs of siblings (identities differing in
  exactly one part) are set on head-on crossings at nearly the same depth, and some pairs turn back where
  they meet instead of passing (motion alone then predicts each onto the other), others stop for a while,
  drift in depth, enter and leave at the borders;
- look-alikes: the second of a crossing pair and the first companion of a group may wear the first one's
  colours with torso and legs exchanged (:func:`zoo.data.synth.sprites.part_swapped_look`), so that only
  where each colour sits tells them apart;
- up to ``static_objects`` consider-0 objects as MOT17 annotates them: class 7 (static person) and class 8
  (distractor: a grey mannequin that detectors fire on);
- pillars, depth-sorted with the people;
- long identity gaps (generator 1.5), longer than an online tracker's lost-track buffer: ``long_occlusions``
  walkers walk up behind a wide advertising column (always inside the view) and stand there fully hidden
  for ``occlusion_frames`` before walking on, and ``reentries`` walkers walk out of the view at a border and
  come back through the same border ``reentry_gap`` frames later, at another depth and speed, with the same
  identity (ground-truth id) and look. These events draw from a spawned generator and take over walkers
  outside the crossing pairs (solo walkers first), so the rest of the scene is what it is without them;
- an optional horizontal camera pan (a crop window sweeping over a wider background) and optional camera
  jerks (the window jumps a few percent of the frame width and stays there).

Visibility (gt column 9) is the fraction of the sprite's silhouette pixels that end up on screen: pixels
hidden by nearer sprites or pillars, or outside the frame, count as invisible. Boxes are tight boxes of the
full (amodal) silhouette and may extend past the frame, as in MOT17. A person on screen but fully hidden
(behind a pillar, a column or nearer people) keeps its ground-truth rows with visibility 0 (and gets no
detections); a person whose silhouette is entirely outside the frame has no rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.data.synth.config import MOTConfig
from zoo.data.synth.scene import (
    NoiseBank,
    Occluder,
    draw_occluder,
    make_background,
    pan_offsets,
    shake_offsets,
)
from zoo.data.synth.sprites import (
    PERSON,
    PERSON_ASPECT,
    Look,
    draw_sprite,
    make_identities,
    part_swapped_look,
    person_look,
    person_palettes,
)
from zoo.data.types import MOTRows

STATIC_PERSON, DISTRACTOR = 7, 8
#: frames a long-gap event's walker is entirely inside the view (and clear of its column) at least, before and
#: after its gap
EVENT_MARGIN = 15


@dataclass(frozen=True)
class GapEvent:
    """A long identity gap planned by the generator (1.5).

    Attributes:
        obj: object index (ground-truth id ``obj + 1``).
        kind: ``"occlusion"`` (stands fully hidden behind an advertising column) or ``"reentry"`` (walks out
            of the view and comes back through the same border).
        start, end: 0-based frames ``start .. end - 1`` of the gap: standing behind the column (hidden a few
            frames longer, walking into and out of cover), or out of the view (no ground-truth rows).
    """

    obj: int
    kind: str
    start: int
    end: int


@dataclass
class MOTScene:
    """A simulated MOT scene before rendering (world coordinates: the wide background canvas).

    Attributes:
        width, height: frame size in pixels; length: number of frames T.
        horizon: wall/ground boundary as a fraction of the height.
        background: (height, width + pan range, 3) float32 RGB canvas.
        offsets: (T,) int64 x of the crop window on the canvas per frame.
        looks: per object (N of them) appearance.
        parts: (N, 3) int64 palette indices (head, torso, legs) of the identity; -1 rows for mannequins.
            A look-alike's look is not its row's: see ``lookalike_of``.
        lookalike_of: (N,) int64 index of the object whose look this one wears with torso and legs colours
            exchanged, -1 for everyone else.
        classes: (N,) int64 MOT class (1 walker, 7 static person, 8 distractor).
        feet: (N, T, 2) float64 bottom-centre position (x, y) per frame.
        heights: (N, T) float64 sprite height in pixels.
        phase: (N, T) float64 walking phase in radians.
        alive: (N, T) bool, the object exists in the world at that frame.
        occluders: static pillars, then the advertising columns of the long occlusions.
        events: the long-gap events (long occlusions, re-entries), one per event walker.
    """

    width: int
    height: int
    length: int
    horizon: float
    background: np.ndarray
    offsets: np.ndarray
    looks: list[Look]
    parts: np.ndarray
    lookalike_of: np.ndarray
    classes: np.ndarray
    feet: np.ndarray
    heights: np.ndarray
    phase: np.ndarray
    alive: np.ndarray
    occluders: list[Occluder]
    events: list[GapEvent]


class _Ground:
    """The walkable band of the image and its height-by-depth rule (closer = lower = taller)."""

    def __init__(self, height: int, horizon: float) -> None:
        self.y_far = (horizon + 0.12) * height
        self.y_near = 1.02 * height
        self.h_far, self.h_near = 0.24 * height, 0.6 * height

    def person_height(self, y: np.ndarray | float) -> np.ndarray:
        frac = (np.asarray(y, np.float64) - self.y_far) / (self.y_near - self.y_far)
        return self.h_far + np.clip(frac, 0.0, 1.0) * (self.h_near - self.h_far)


def simulate_mot(rng: np.random.Generator, cfg: MOTConfig) -> MOTScene:
    """Draw one MOT scene (trajectories, looks, camera) from ``rng``."""
    W, H, T = cfg.width, cfg.height, cfg.length
    pan = cfg.pan_px if (cfg.pan_share > 0 and rng.random() < cfg.pan_share) else 0
    shaking = cfg.shake_share > 0 and rng.random() < cfg.shake_share
    jump_px = (round(cfg.shake_frac[0] * W), round(cfg.shake_frac[1] * W)) if shaking else (0, 0)
    margin = jump_px[1]  # room on both sides of the pan range for the jerks
    canvas_w = W + pan + 2 * margin
    horizon = float(rng.uniform(0.28, 0.4))
    ground = _Ground(H, horizon)
    background = make_background(rng, canvas_w, H, horizon)
    offsets = pan_offsets(rng, T, pan) + margin + shake_offsets(rng, T, cfg.shakes if shaking else 0, jump_px)

    n_people = int(rng.integers(cfg.min_people, cfg.max_people + 1))
    # Small palettes so identities share parts; sized so that n_people still fit comfortably.
    sizes = (int(rng.integers(3, 5)), int(rng.integers(4, 6)), int(rng.integers(3, 5)))
    palettes = person_palettes(rng, sizes)
    n_pairs = min(cfg.crossing_pairs, n_people // 4)
    parts = sibling_pairs_first(make_identities(rng, n_people, sizes), n_pairs)

    feet = np.zeros((n_people, T, 2))
    alive = np.zeros((n_people, T), bool)
    moving = np.ones((n_people, T), bool)

    def walker(i: int, t0: int, x0: float, y0: float, vx: float, vy: float, turn: int | None = None,
               drift: float = 0.04, gen: np.random.Generator = rng, resume: bool = False) -> None:
        # Depth drift follows a clipped random walk so paths bend; speeds scale with apparent size.
        # ``turn``: from that frame on the walker heads back the way it came. ``gen``: the generator of the
        # drift. ``resume``: a later segment of the same walker (frames before t0 are left as they are).
        vys = vy + np.cumsum(gen.normal(0.0, drift, T - t0))
        ys = np.clip(y0 + np.cumsum(vys), ground.y_far, ground.y_near)
        hs = ground.person_height(ys)
        heading = np.ones(T - t0)
        if turn is not None:
            heading[max(turn - t0, 0):] = -1.0
        vxs = vx * hs * moving[i, t0:] * heading
        xs = x0 + np.concatenate([[0.0], np.cumsum(vxs[:-1])])
        feet[i, t0:, 0], feet[i, t0:, 1] = xs, ys
        if not resume:
            feet[i, :t0] = feet[i, t0]
        gone = (xs < -0.6 * hs) | (xs > canvas_w + 0.6 * hs)
        # Once a walker has left the canvas it stays gone (a new identity would be a new walker).
        entered = np.maximum.accumulate(~gone)
        alive[i, t0:] = ~(gone & entered)

    def spawn_x(t0: int, direction: int, y: float) -> float:
        h = float(ground.person_height(y))
        if t0 == 0 and rng.random() < 0.75:
            return float(offsets[0] + rng.uniform(0.05, 0.95) * W)
        edge = offsets[t0] - 0.25 * h if direction > 0 else offsets[t0] + W + 0.25 * h
        return float(edge)

    i = 0
    twins: list[tuple[int, int]] = []  # (model, look-alike candidate)
    solo: list[int] = []  # walkers outside pairs and groups: the long-gap events' first candidates
    grouped: list[int] = []  # group members: the next ones
    # Sibling pairs on a head-on course at nearly the same depth (little depth drift), meeting inside the
    # view; a bouncing pair stops short of each other (0.05-0.15 heights each side of the meeting point) and
    # both walk back from the meeting frame on.
    for _ in range(n_pairs):
        tc = int(rng.uniform(0.25, 0.7) * T)
        xm = float(offsets[tc] + rng.uniform(0.3, 0.7) * W)
        yc = float(rng.uniform(ground.y_far + 0.2 * (ground.y_near - ground.y_far), ground.y_near - 10))
        bounce = rng.random() < cfg.bounce_share
        gap = float(rng.uniform(0.05, 0.15)) if bounce else 0.0
        for direction in (1, -1):
            y = yc + direction * rng.uniform(3, 8)
            speed = float(rng.uniform(0.035, 0.06))
            h = float(ground.person_height(y))
            meet = xm - direction * gap * h
            walker(i, 0, meet - direction * speed * h * tc, y, direction * speed, 0.0, tc if bounce else None, 0.01)
            i += 1
        twins.append((i - 2, i - 1))
    while i < n_people:
        t0 = 0 if rng.random() < 0.55 else int(rng.integers(1, max(2, T - 10)))
        direction = 1 if rng.random() < 0.5 else -1
        y = float(rng.uniform(ground.y_far, ground.y_near))
        speed = float(rng.uniform(0.03, 0.07))
        vy = float(rng.uniform(-0.6, 0.6)) if rng.random() < 0.25 else 0.0
        if rng.random() < 0.15:  # stop for a while (standing people still count as walkers)
            a = int(rng.integers(0, T))
            moving[i, a:a + int(rng.integers(8, 30))] = False
        group = 1
        if rng.random() < cfg.group_share and n_people - i >= 2:
            group = min(int(rng.integers(2, 4)), n_people - i)
        x = spawn_x(t0, direction, y)
        h = float(ground.person_height(y))
        for g in range(group):
            # Companions walk side by side: small depth offset, so one partly hides the other.
            dx = 0.0 if g == 0 else float(rng.uniform(-0.6, 0.6)) * h
            dy = 0.0 if g == 0 else float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.1)) * h
            if g:
                moving[i] = moving[i - g]
            walker(i, t0, x + dx, y + dy, direction * speed, vy)
            if g == 1:
                twins.append((i - 1, i))
            (solo if group == 1 else grouped).append(i)
            i += 1

    # Spawned generators (neither draws from the scene's stream): looks of the look-alikes, and the long-gap
    # events, which replace the trajectories of some walkers.
    look_rng, event_rng = rng.spawn(2)
    columns, events = _long_gap_events(event_rng, cfg, ground, offsets, solo, grouped, walker, feet, alive,
                                       moving)

    heights = ground.person_height(feet[..., 1])
    step = np.abs(np.diff(feet[..., 0], axis=1, prepend=feet[:, :1, 0])) / np.maximum(heights, 1)
    phase = np.cumsum(step * 2.0 * np.pi * 1.6, axis=1) + rng.uniform(0, 2 * np.pi, (n_people, 1))
    looks = [person_look(palettes, p) for p in parts]
    # A spawned generator: the look-alike draws leave the scene's stream (trajectories, camera, render noise,
    # detection draws) untouched; a look-alike's silhouette is its model's (hat or hair), nothing else changes.
    lookalike_of = np.full(n_people, -1, np.int64)
    for a, b in twins:
        twin = part_swapped_look(looks[a]) if look_rng.random() < cfg.lookalike_share else None
        if twin is not None:
            looks[b], lookalike_of[b] = twin, a
    classes = np.ones(n_people, np.int64)

    # Consider-0 objects: standing people (class 7) and mannequins (class 8).
    n_static = int(rng.integers(0, cfg.static_objects + 1))
    s_feet, s_h, s_looks, s_cls, s_parts = [], [], [], [], []
    for _ in range(n_static):
        y = float(rng.uniform(ground.y_far, ground.y_far + 0.6 * (ground.y_near - ground.y_far)))
        x = float(rng.uniform(0.05, 0.95) * canvas_w)
        cls = STATIC_PERSON if rng.random() < 0.6 else DISTRACTOR
        if cls == STATIC_PERSON:
            look = person_look(palettes, np.array([rng.integers(s) for s in sizes]))
        else:
            grey = np.float32(rng.uniform(150, 220))
            colors = np.full((3, 2, 3), grey, np.float32)
            colors[:, 1] *= 0.8
            look = Look(PERSON, colors, (0, 0, 0), (0.0, 0.05, 0.0), PERSON_ASPECT)
        s_feet.append((x, y))
        s_h.append(float(ground.person_height(y)))
        s_looks.append(look)
        s_cls.append(cls)
        s_parts.append([-1, -1, -1])
    if n_static:
        feet = np.concatenate([feet, np.repeat(np.array(s_feet)[:, None], T, 1)])
        heights = np.concatenate([heights, np.repeat(np.array(s_h)[:, None], T, 1)])
        phase = np.concatenate([phase, np.zeros((n_static, T))])
        alive = np.concatenate([alive, np.ones((n_static, T), bool)])
        looks += s_looks
        classes = np.concatenate([classes, np.array(s_cls, np.int64)])
        parts = np.concatenate([parts, np.array(s_parts, np.int64)])
        lookalike_of = np.concatenate([lookalike_of, np.full(n_static, -1, np.int64)])

    occluders = []
    for _ in range(int(rng.integers(0, 3))):
        y_bottom = float(rng.uniform(ground.y_far, ground.y_near))
        w = float(ground.person_height(y_bottom)) * rng.uniform(0.12, 0.25)
        x = float(rng.uniform(0.1, 0.9) * canvas_w)
        colour = np.array(rng.uniform(60, 200, 3), np.float32)
        occluders.append(Occluder((x - w / 2, 0.0, x + w / 2, y_bottom), colour))
    occluders += columns
    return MOTScene(W, H, T, horizon, background, offsets, looks, parts, lookalike_of, classes, feet, heights,
                    phase, alive, occluders, events)


def _on_view(x: np.ndarray, h: np.ndarray, offsets: np.ndarray, width: int, inside: bool = False) -> np.ndarray:
    """Whether a person with feet x ``x`` (world) and height ``h`` overlaps the crop window (as in
    :func:`render_mot`: silhouette half-width ``0.5 * PERSON_ASPECT * h`` plus 2 pixels), or with
    ``inside`` lies entirely inside it."""
    half = 0.5 * PERSON_ASPECT * h + 2
    rel = x - offsets
    if inside:
        return (rel - half >= 0) & (rel + half <= width)
    return (rel + half > 0) & (rel - half < width)


def _long_gap_events(gen: np.random.Generator, cfg: MOTConfig, ground: _Ground, offsets: np.ndarray,
                     solo: list[int], grouped: list[int], walker, feet: np.ndarray, alive: np.ndarray,
                     moving: np.ndarray) -> tuple[list[Occluder], list[GapEvent]]:
    """Long occlusions behind advertising columns and re-entries, on walkers drawn from ``solo`` first, then
    from ``grouped`` (a group member who walks off on its own; crossing pairs are never used).

    Each event replaces its walker's trajectory (through ``walker``, drawing only from ``gen``) and is kept
    only if its walker is entirely inside the view (and clear of its column) on at least ``EVENT_MARGIN``
    frames before and after the gap (up to 10 tries;
    otherwise the walker's trajectory is restored and the event dropped). Returns the columns (occluders)
    and the events.
    """
    T, W, M = cfg.length, cfg.width, EVENT_MARGIN
    columns: list[Occluder] = []
    events: list[GapEvent] = []
    candidates = [int(k) for pool in (solo, grouped) for k in gen.permutation(np.array(pool, np.int64))]
    band = ground.y_near - ground.y_far
    safe = (float(offsets.max()), float(offsets.min()) + W)  # world x range inside the view on every frame

    def attempt(i: int, place) -> bool:
        saved = feet[i].copy(), alive[i].copy(), moving[i].copy()
        for _ in range(10):
            if place(i):
                return True
            feet[i], alive[i], moving[i] = saved
        return False

    def hide(i: int) -> bool:
        lo, hi = cfg.occlusion_frames[0], min(cfg.occlusion_frames[1], T - 2 * M - 1)
        y_b = float(gen.uniform(ground.y_far + 0.25 * band, ground.y_far + 0.75 * band))
        hc = float(ground.person_height(y_b))
        wc = float(gen.uniform(*cfg.column_width)) * hc
        x_lo, x_hi = safe[0] + 0.5 * wc, safe[1] - 0.5 * wc
        if x_lo >= x_hi:
            return False
        xc = float(gen.uniform(x_lo, x_hi))
        if any(c.box[0] - 0.5 * wc < xc < c.box[2] + 0.5 * wc for c in columns):
            return False  # columns stand apart
        top = y_b - float(gen.uniform(1.25, 1.5)) * hc  # taller than the person behind it
        colour = np.array(gen.uniform(60, 220, 3), np.float32)
        stand = int(gen.integers(lo, hi + 1))
        direction = 1 if gen.random() < 0.5 else -1
        speed = float(gen.uniform(0.03, 0.06))
        y = y_b - float(gen.uniform(2.0, 6.0))  # just behind the column, at a fixed depth
        h = float(ground.person_height(y))
        # frames from the column's centre to clear of it
        lead = int(np.ceil((0.5 * wc + 0.5 * PERSON_ASPECT * h + 2) / (speed * h))) + 1
        if M + lead >= T - stand - M - lead:
            return False
        t_a = int(gen.integers(M + lead, T - stand - M - lead))  # arrives behind the column's centre
        moving[i] = True
        moving[i, t_a:t_a + stand] = False  # stands at the centre on frames t_a .. t_a + stand
        walker(i, 0, xc - direction * speed * h * t_a, y, direction * speed, 0.0, drift=0.0, gen=gen)
        x = feet[i, :, 0]
        clear = np.abs(x - xc) - 0.5 * PERSON_ASPECT * h - 2 >= 0.5 * wc  # no pixel behind the column
        seen = alive[i] & _on_view(x, np.full(T, h), offsets, W, inside=True) & clear
        if seen[:t_a].sum() < M or seen[t_a + stand + 1:].sum() < M:
            return False
        columns.append(Occluder((xc - 0.5 * wc, top, xc + 0.5 * wc, y_b), colour))
        events.append(GapEvent(i, "occlusion", t_a, t_a + stand + 1))
        return True

    def reenter(i: int) -> bool:
        lo, hi = cfg.reentry_gap[0], min(cfg.reentry_gap[1], T - 2 * M - 1)
        gap = int(gen.integers(lo, hi + 1))
        side = 1 if gen.random() < 0.5 else -1  # the border it leaves and comes back through

        def edge(t: int, h: float) -> float:  # world x just outside that border at frame t
            return float(offsets[t] - 0.25 * h if side < 0 else offsets[t] + W + 0.25 * h)

        y = float(gen.uniform(ground.y_far, ground.y_near))
        h, speed = float(ground.person_height(y)), float(gen.uniform(0.03, 0.07))
        lead = int(np.ceil((0.25 + 0.5 * PERSON_ASPECT + 2 / h) / speed)) + 1  # entirely inside -> outside
        if M + lead >= T - gap - M - lead:
            return False
        t_plan = int(gen.integers(M + lead, T - gap - M - lead))  # planned exit frame
        moving[i] = True
        walker(i, 0, edge(t_plan, h) - side * speed * h * t_plan, y, side * speed, 0.0, gen=gen)
        on = alive[i] & _on_view(feet[i, :, 0], ground.person_height(feet[i, :, 1]), offsets, W)
        if not on.any():
            return False
        t_out = int(np.argmax(on))
        t_out += int(np.argmin(on[t_out:])) if not on[t_out:].all() else T - t_out
        while t_out < T and on[t_out:t_out + gap].any():  # a camera jerk brings it back: leave later
            t_out += int(np.flatnonzero(on[t_out:t_out + gap])[-1]) + 1
        t_back = t_out + gap
        inside = alive[i] & _on_view(feet[i, :, 0], ground.person_height(feet[i, :, 1]), offsets, W, True)
        if inside[:t_out].sum() < M or t_back + M > T:
            return False
        y = float(gen.uniform(ground.y_far, ground.y_near))
        h, speed = float(ground.person_height(y)), float(gen.uniform(0.03, 0.07))
        walker(i, t_back, edge(t_back, h), y, -side * speed, 0.0, gen=gen, resume=True)
        hs = ground.person_height(feet[i, :, 1])
        on = alive[i] & _on_view(feet[i, :, 0], hs, offsets, W)
        inside = alive[i] & _on_view(feet[i, :, 0], hs, offsets, W, inside=True)
        if on[t_out:t_back].any() or inside[t_back:].sum() < M:
            return False
        events.append(GapEvent(i, "reentry", t_out, t_back))
        return True

    if min(cfg.occlusion_frames[1], T - 2 * M - 1) >= cfg.occlusion_frames[0]:
        for _ in range(cfg.long_occlusions):
            if candidates and attempt(candidates[0], hide):
                candidates.pop(0)
    if min(cfg.reentry_gap[1], T - 2 * M - 1) >= cfg.reentry_gap[0]:
        for _ in range(cfg.reentries):
            if candidates and attempt(candidates[0], reenter):
                candidates.pop(0)
    return columns, events


def sibling_pairs_first(parts: np.ndarray, n_pairs: int) -> np.ndarray:
    """``parts`` (N, 3) reordered so rows (0, 1), (2, 3), ... are disjoint sibling pairs (exactly two
    parts in common), as many as exist up to ``n_pairs``; the other rows follow in their order."""
    taken: list[int] = []
    for a in range(len(parts)):
        if len(taken) >= 2 * n_pairs:
            break
        if a in taken:
            continue
        for b in range(a + 1, len(parts)):
            if b not in taken and int((parts[a] == parts[b]).sum()) == 2:
                taken += [a, b]
                break
    rest = [k for k in range(len(parts)) if k not in taken]
    return parts[taken + rest]


@dataclass
class MOTRender:
    """Per-row annotation of a rendered scene (one row per object per frame it is on screen).

    Attributes:
        frames: (N,) int64 1-based frame; objects: (N,) int64 object index into the scene (id = index + 1).
        boxes: (N, 4) float64 tight amodal ``xyxy`` box; visible_boxes: (N, 4) tight box of the visible
            pixels (NaN when nothing is visible); visibility: (N,) float64 in [0, 1].
    """

    frames: np.ndarray
    objects: np.ndarray
    boxes: np.ndarray
    visible_boxes: np.ndarray
    visibility: np.ndarray


def render_mot(rng: np.random.Generator, scene: MOTScene, noise_sigma: float, emit) -> MOTRender:
    """Render every frame in depth order, calling ``emit(t, rgb_uint8)`` (t 1-based) for each frame."""
    W, H = scene.width, scene.height
    rows: list[tuple] = []
    noise = NoiseBank(rng, H, W, noise_sigma)
    for t in range(scene.length):
        off = int(scene.offsets[t])
        frame = scene.background[:, off:off + W].copy()
        labels = np.zeros((H, W), np.int32)
        x, y = scene.feet[:, t, 0] - off, scene.feet[:, t, 1]
        h = scene.heights[:, t]
        half = 0.5 * PERSON_ASPECT * h + 2
        on = scene.alive[:, t] & (x + half > 0) & (x - half < W) & (y - h < H)
        # Depth order: farther (smaller feet y) first; pillars sort by their bottom edge among sprites.
        items = [(float(y[i]), 0, i) for i in np.flatnonzero(on)]
        items += [(occ.box[3], 1, k) for k, occ in enumerate(scene.occluders)]
        items.sort()
        drawn: dict[int, tuple[int, np.ndarray]] = {}
        for _, kind, k in items:
            if kind == 1:
                draw_occluder(frame, labels, scene.occluders[k], off)
                continue
            box = np.array([x[k] - 0.5 * PERSON_ASPECT * h[k], y[k] - h[k], x[k] + 0.5 * PERSON_ASPECT * h[k], y[k]])
            area, tight = draw_sprite(frame, labels, k + 1, scene.looks[k], box, float(scene.phase[k, t]))
            if tight is not None:
                drawn[k] = (area, tight)
        for k in sorted(drawn):
            area, tight = drawn[k]
            c0, r0 = max(int(tight[0]), 0), max(int(tight[1]), 0)
            c1, r1 = min(int(tight[2]), W), min(int(tight[3]), H)
            if c0 >= c1 or r0 >= r1:
                continue  # silhouette entirely off screen
            mine = labels[r0:r1, c0:c1] == k + 1
            visible = int(np.count_nonzero(mine))
            vbox = np.full(4, np.nan)
            if visible:
                rr, cc = np.flatnonzero(mine.any(1)), np.flatnonzero(mine.any(0))
                vbox = np.array([c0 + cc[0], r0 + rr[0], c0 + cc[-1] + 1, r0 + rr[-1] + 1], np.float64)
            rows.append((t + 1, k, tight, vbox, visible / area))
        emit(t + 1, noise.finish(rng, frame))
    if not rows:
        z = np.zeros(0)
        return MOTRender(z.astype(np.int64), z.astype(np.int64), np.zeros((0, 4)), np.zeros((0, 4)), z)
    return MOTRender(
        frames=np.array([r[0] for r in rows], np.int64),
        objects=np.array([r[1] for r in rows], np.int64),
        boxes=np.stack([r[2] for r in rows]),
        visible_boxes=np.stack([r[3] for r in rows]),
        visibility=np.array([r[4] for r in rows], np.float64),
    )


def gt_rows(scene: MOTScene, render: MOTRender) -> MOTRows:
    """MOTChallenge ground truth: walkers class 1 consider 1; static objects consider 0 (as MOT17)."""
    classes = scene.classes[render.objects]
    return MOTRows(
        frames=render.frames.copy(),
        ids=render.objects + 1,
        boxes=render.boxes.copy(),
        scores=(classes == 1).astype(np.float64),
        classes=classes,
        visibility=np.round(render.visibility, 4),
    )


def detection_rows(rng: np.random.Generator, scene: MOTScene, render: MOTRender, cfg: MOTConfig) -> MOTRows:
    """Noisy public detections derived from the rendered ground truth.

    - detection probability falls from ``1 - det_miss`` (visibility >= 0.5) to 0 (visibility <= 0.15);
    - partly hidden people are detected around their visible part (box halfway between the amodal and the
      visible box), all boxes get edge jitter and are clipped to the frame;
    - scores: clearly visible people mostly in [0.6, 0.98]; a ``det_low_share`` of them and most partly
      hidden ones in [0.1, 0.6] (what ByteTrack's second association stage recovers); mannequins medium;
    - false positives: Poisson(``det_fp_rate``) per frame, person-shaped boxes on the ground band, mostly
      low scores.
    """
    W, H = scene.width, scene.height
    vis = render.visibility
    p_det = (1.0 - cfg.det_miss) * np.clip((vis - 0.15) / 0.35, 0.0, 1.0)
    keep = rng.random(len(vis)) < p_det
    boxes = render.boxes.copy()
    partial = keep & (vis < 0.9)
    vb = render.visible_boxes
    boxes[partial] = 0.5 * boxes[partial] + 0.5 * vb[partial]
    wh = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1)
    boxes += rng.normal(0.0, cfg.det_jitter, boxes.shape) * np.tile(wh, 2)
    low = (rng.random(len(vis)) < cfg.det_low_share) | ((vis < 0.6) & (rng.random(len(vis)) < 0.7))
    scores = np.where(low, rng.uniform(0.1, 0.6, len(vis)), 0.6 + 0.38 * rng.beta(5.0, 2.0, len(vis)))
    classes = scene.classes[render.objects]
    scores = np.where(classes == DISTRACTOR, rng.uniform(0.3, 0.8, len(vis)), scores)
    frames, boxes, scores = render.frames[keep], boxes[keep], scores[keep]

    n_fp = rng.poisson(cfg.det_fp_rate, scene.length)
    fp_frames = np.repeat(np.arange(1, scene.length + 1), n_fp)
    m = len(fp_frames)
    ground = _Ground(H, scene.horizon)
    fy = rng.uniform(ground.y_far, H, m)
    fh = ground.person_height(fy) * rng.uniform(0.6, 1.2, m)
    fw = fh * rng.uniform(0.3, 0.6, m)
    fx = rng.uniform(0, W, m)
    fp_boxes = np.stack([fx - fw / 2, fy - fh, fx + fw / 2, fy], 1)
    fp_scores = np.where(rng.random(m) < 0.1, rng.uniform(0.6, 0.8, m), rng.uniform(0.1, 0.55, m))

    frames = np.concatenate([frames, fp_frames])
    boxes = np.concatenate([boxes, fp_boxes])
    scores = np.concatenate([scores, fp_scores])
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, W)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, H)
    ok = (boxes[:, 2] - boxes[:, 0] >= 4) & (boxes[:, 3] - boxes[:, 1] >= 8)
    order = np.lexsort((-scores[ok], frames[ok]))
    n = int(ok.sum())
    return MOTRows(
        frames=frames[ok][order],
        ids=np.full(n, -1, np.int64),
        boxes=np.round(boxes[ok][order], 2),
        scores=np.round(scores[ok][order], 4),
        classes=np.full(n, -1, np.int64),
        visibility=np.full(n, -1.0),
    )
