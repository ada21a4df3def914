"""ZooSynth-MOT scene events that make appearance matter: sibling crossings that pass or turn back, camera
jerks (generator 1.3), part-swapped look-alikes (generator 1.4), and long identity gaps (generator 1.5: long
occlusions behind advertising columns, people leaving the view and coming back)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zoo.data.synth.config import PRESETS, MOTConfig
from zoo.data.synth.mot import EVENT_MARGIN, gt_rows, render_mot, sibling_pairs_first, simulate_mot
from zoo.data.synth.scene import shake_offsets
from zoo.data.synth.sprites import PERSON, PERSON_ASPECT, Look, make_identities, part_swapped_look

SMALL = MOTConfig(length=60, width=320, height=180, min_people=8, max_people=10, static_objects=0, pan_share=0.0)


@pytest.mark.parametrize("seed", range(20))
def test_shake_offsets_jump_and_hold_within_the_margin(seed):
    rng = np.random.default_rng(seed)
    out = shake_offsets(rng, 50, 3, (10, 18))
    steps = np.diff(out, prepend=0)
    jumps = steps[steps != 0]
    assert 1 <= len(jumps) <= 3  # at least one jerk, held until the next one
    assert out[0] == 0 and (np.abs(jumps) >= 10).all() and (np.abs(jumps) <= 18).all()
    assert np.abs(out).max() <= 18  # the canvas margin always has room


def test_no_shakes_is_zero():
    assert not shake_offsets(np.random.default_rng(0), 30, 0, (5, 9)).any()


def test_sibling_pairs_come_first():
    parts = make_identities(np.random.default_rng(3), 12, (3, 4, 3))
    out = sibling_pairs_first(parts, 2)
    assert sorted(map(tuple, out.tolist())) == sorted(map(tuple, parts.tolist()))  # a permutation
    for a in (0, 2):
        assert int((out[a] == out[a + 1]).sum()) == 2  # the pair differs in exactly one part


def _pair_tracks(scene, k: int):
    """x of the two walkers of crossing pair ``k`` and their mean height, over the frames both are alive."""
    a, b = 2 * k, 2 * k + 1
    both = scene.alive[a] & scene.alive[b]
    return scene.feet[a, both, 0], scene.feet[b, both, 0], scene.heights[[a, b]][:, both].mean()


@pytest.mark.parametrize("seed", range(6))
def test_crossing_siblings_pass_or_turn_back(seed):
    passing = simulate_mot(np.random.default_rng(seed), dataclasses.replace(SMALL, bounce_share=0.0))
    bouncing = simulate_mot(np.random.default_rng(seed), dataclasses.replace(SMALL, bounce_share=1.0))
    for scene in (passing, bouncing):
        for k in range(2):
            a, b = 2 * k, 2 * k + 1
            assert int((scene.parts[a] == scene.parts[b]).sum()) == 2  # siblings
            dx = np.where(scene.alive[a] & scene.alive[b], np.abs(scene.feet[a, :, 0] - scene.feet[b, :, 0]), np.inf)
            t = int(dx.argmin())  # where they meet: nearly the same depth, so one hides the other
            assert abs(scene.feet[a, t, 1] - scene.feet[b, t, 1]) < 0.3 * scene.heights[a, t]
    for k in range(2):
        xa, xb, h = _pair_tracks(passing, k)
        assert np.sign(xa[0] - xb[0]) != np.sign(xa[-1] - xb[-1])  # they pass each other
        xa, xb, h = _pair_tracks(bouncing, k)
        gap = xb - xa
        assert (gap > 0).all() and gap.min() < 0.35 * h  # they meet face to face and never pass
        va, vb = np.diff(xa), np.diff(xb)
        assert (va > 0).any() and (va < 0).any() and (vb > 0).any() and (vb < 0).any()  # both turn back


def test_shaking_camera_stays_on_the_canvas():
    cfg = dataclasses.replace(SMALL, shake_share=1.0, pan_share=1.0, pan_px=40)
    for seed in range(5):
        scene = simulate_mot(np.random.default_rng(seed), cfg)
        assert scene.offsets.min() >= 0 and scene.offsets.max() + cfg.width <= scene.background.shape[1]
        jumps = np.abs(np.diff(scene.offsets))
        assert jumps.max() >= cfg.shake_frac[0] * cfg.width - 1  # a jerk, not the smooth pan (<= ~2 px/frame)


@pytest.mark.parametrize(
    "field, value",
    [("shake_frac", (0.09, 0.05)), ("shake_frac", (0.1, 0.6)), ("bounce_share", 1.5), ("crossing_pairs", -1),
     ("shakes", -2), ("lookalike_share", -0.1), ("long_occlusions", -1), ("reentries", -2),
     ("occlusion_frames", (40, 30)), ("reentry_gap", (0, 10)), ("column_width", (0.3, 0.6))],
)
def test_bad_scene_settings_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(SMALL, **{field: value})


@pytest.mark.parametrize("seed", range(6))
def test_lookalikes_wear_their_models_colours_rearranged(seed):
    scene = simulate_mot(np.random.default_rng(seed), SMALL)
    pairs = [(int(a), b) for b, a in enumerate(scene.lookalike_of) if a >= 0]
    assert pairs, "every scene has crossing pairs, so look-alikes"
    for a, b in pairs:
        model, twin = scene.looks[a].colors, scene.looks[b].colors
        np.testing.assert_array_equal(twin[0], model[0])  # same head
        np.testing.assert_array_equal(twin[1], model[2])  # torso wears the legs' colours
        np.testing.assert_array_equal(twin[2], model[1])  # and the legs the torso's
        assert scene.looks[b].patterns == scene.looks[a].patterns
    crossing = {(2 * k, 2 * k + 1) for k in range(min(SMALL.crossing_pairs, len(scene.parts) // 4))}
    # A crossing pair's second walker is a look-alike unless its model's torso and legs look alike already.
    for a, b in crossing:
        close = np.linalg.norm(scene.looks[a].colors[1, 0] - scene.looks[a].colors[2, 0]) < 60
        assert (scene.lookalike_of[b] == a) != close


@pytest.mark.parametrize("seed", range(4))
def test_lookalikes_leave_trajectories_and_stream_alone(seed):
    """The look-alike draws come from a spawned generator: trajectories, camera and the stream are equal."""
    runs = []
    for share in (0.0, 0.5, 1.0):
        rng = np.random.default_rng(seed)
        scene = simulate_mot(rng, dataclasses.replace(SMALL, lookalike_share=share))
        runs.append((scene, rng.random()))
    (none, after0), (half, after_half), (full, after1) = runs
    assert (none.lookalike_of == -1).all() and (full.lookalike_of >= 0).sum() >= (half.lookalike_of >= 0).sum()
    assert after0 == after_half == after1
    for scene in (half, full):
        np.testing.assert_array_equal(scene.feet, none.feet)
        np.testing.assert_array_equal(scene.alive, none.alive)
        np.testing.assert_array_equal(scene.offsets, none.offsets)


def test_part_swap_refuses_a_twin_nothing_could_tell_apart():
    colors = np.zeros((3, 2, 3), np.float32)
    colors[1, 0], colors[2, 0] = (200, 40, 40), (40, 40, 200)
    look = Look(PERSON, colors, (0, 1, 0), (0.0, 0.05, 0.0), PERSON_ASPECT)
    swapped = part_swapped_look(look)
    assert swapped is not None and np.array_equal(swapped.colors[1, 0], (40, 40, 200))
    colors[2, 0] = (190, 50, 45)  # legs nearly the torso's colour: exchanging them changes nothing visible
    assert part_swapped_look(look.with_colors(colors)) is None


# ------------------------------------------------------------------------------- long identity gaps (1.5)
# Small and short enough to render in a fraction of a second, long enough for gaps beyond a 30-frame buffer.
GAPS = MOTConfig(length=100, width=320, height=180, min_people=8, max_people=10, static_objects=0,
                 long_occlusions=1, occlusion_frames=(34, 40), reentries=2, reentry_gap=(35, 45))


def _render(cfg: MOTConfig, seed: int, keep_frames: bool = False):
    rng = np.random.default_rng(seed)
    scene = simulate_mot(rng, cfg)
    frames: dict[int, np.ndarray] = {}

    def emit(t, rgb):
        if keep_frames:
            frames[t] = rgb

    render = render_mot(rng, scene, 2.5, emit)
    return scene, render, gt_rows(scene, render), frames


def _longest_gap(frames: np.ndarray) -> tuple[int, int, int]:
    """(length, last frame before, first frame after) of the longest run of missing frames in ``frames``."""
    f = np.unique(frames)
    k = int(np.argmax(np.diff(f)))
    return int(f[k + 1] - f[k] - 1), int(f[k]), int(f[k + 1])


@pytest.mark.parametrize("seed", range(3))
def test_long_gaps_beyond_the_online_buffer_come_back_with_the_same_id(seed):
    scene, render, gt, _ = _render(GAPS, seed)
    kinds = sorted(e.kind for e in scene.events)
    assert kinds == ["occlusion", "reentry", "reentry"]
    walkers = (gt.classes == 1) & (gt.scores == 1)
    for e in scene.events:
        mine = walkers & (gt.ids == e.obj + 1)
        seen = mine & (gt.visibility >= 0.1)
        length, before, after = _longest_gap(gt.frames[seen])
        assert length > 30  # longer than ByteTrack's 30-frame buffer (10 frames at ZooSynth's 10 fps)
        # entirely inside the frame on EVENT_MARGIN frames each side of the gap, under the same id
        box = gt.boxes[mine]
        inside = gt.frames[mine][(box[:, 0] >= 0) & (box[:, 2] <= GAPS.width)]
        assert (inside <= before).sum() >= EVENT_MARGIN and (inside >= after).sum() >= EVENT_MARGIN
        during = gt.frames[mine]
        gap_frames = (during > e.start) & (during <= e.end)  # 1-based frames of the planned gap
        if e.kind == "reentry":
            assert not gap_frames.any()  # out of the view: no ground-truth rows at all
            assert before <= e.start and after > e.end
        else:
            assert gap_frames.sum() == e.end - e.start  # in view, behind the column: rows with visibility 0
            assert (gt.visibility[mine][gap_frames] == 0).all()
    # the MOT17 convention for everyone: a row's silhouette overlaps the frame
    assert (render.boxes[:, 2] > 0).all() and (render.boxes[:, 0] < GAPS.width).all()


def test_gap_walkers_are_not_detected_while_hidden():
    from zoo.core.boxes import box_iou
    from zoo.data.synth.mot import detection_rows

    rng = np.random.default_rng(4)
    scene = simulate_mot(rng, GAPS)
    render = render_mot(rng, scene, 2.5, lambda t, rgb: None)
    det = detection_rows(rng, scene, render, GAPS)
    occ = next(e for e in scene.events if e.kind == "occlusion")
    rows = np.flatnonzero((render.objects == occ.obj) & (render.visibility == 0))
    assert len(rows) >= occ.end - occ.start
    others = render.objects != occ.obj
    for r in rows:
        t = render.frames[r]
        d = det.boxes[det.frames == t]
        if len(d):
            # a detection on the hidden walker's box would be one no visible person explains
            best_other = box_iou(d, render.boxes[others & (render.frames == t)]).max(1) if others.any() else 0
            hits = box_iou(d, render.boxes[r:r + 1])[:, 0] > 0.7
            assert not (hits & (best_other < 0.3)).any()


def test_reentering_walkers_keep_their_look():
    """The same identity is drawn with the same look before leaving and after coming back."""
    checked = 0
    for seed in range(3):
        scene, render, gt, frames = _render(GAPS, seed, keep_frames=True)
        for e in (e for e in scene.events if e.kind == "reentry"):
            full = np.flatnonzero((render.objects == e.obj) & (render.visibility == 1.0))
            before, after = full[render.frames[full] <= e.start], full[render.frames[full] > e.end]
            if not len(before) or not len(after):
                continue
            colours = []
            for r in (before[-1], after[0]):
                x0, y0, x1, y1 = render.boxes[r]
                xc, h = 0.5 * (x0 + x1), y1 - y0
                torso = frames[int(render.frames[r])][int(y0 + 0.25 * h):int(y0 + 0.5 * h),
                                                      int(xc - 0.08 * h):int(xc + 0.08 * h) + 1]
                colours.append(torso.reshape(-1, 3).astype(np.float64).mean(0))
            assert np.linalg.norm(colours[0] - colours[1]) < 25
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("seed", range(4))
def test_long_gap_events_leave_the_rest_of_the_scene_alone(seed):
    """The events draw from a spawned generator and only replace their own walkers' trajectories."""
    runs = []
    for cfg in (dataclasses.replace(GAPS, long_occlusions=0, reentries=0), GAPS):
        rng = np.random.default_rng(seed)
        runs.append((simulate_mot(rng, cfg), rng.random()))
    (plain, after_plain), (events, after_events) = runs
    assert not plain.events and len(events.events) == 3 and after_plain == after_events
    taken = sorted(e.obj for e in events.events)
    assert len(set(taken)) == 3 and min(taken) >= 2 * min(GAPS.crossing_pairs, len(plain.parts) // 4)
    rest = np.setdiff1d(np.arange(len(plain.classes)), taken)
    np.testing.assert_array_equal(events.feet[rest], plain.feet[rest])
    np.testing.assert_array_equal(events.alive[rest], plain.alive[rest])
    np.testing.assert_array_equal(events.offsets, plain.offsets)
    np.testing.assert_array_equal(events.lookalike_of, plain.lookalike_of)
    assert len(events.occluders) == len(plain.occluders) + 1  # the advertising column


def test_long_gaps_deterministic_and_where_they_fit():
    a, b = simulate_mot(np.random.default_rng(7), GAPS), simulate_mot(np.random.default_rng(7), GAPS)
    assert a.events == b.events
    np.testing.assert_array_equal(a.feet, b.feet)
    assert simulate_mot(np.random.default_rng(8), GAPS).events != a.events
    # the tiny preset's 24 frames hold no gap with 15 frames in view on both sides: none is placed
    assert not simulate_mot(np.random.default_rng(0), PRESETS["tiny"].mot).events
    for seed in range(3):  # the default preset gets all of them
        scene = simulate_mot(np.random.default_rng(seed), PRESETS["default"].mot)
        assert sorted(e.kind for e in scene.events) == ["occlusion", "reentry", "reentry"]
        for e in scene.events:
            lo = (PRESETS["default"].mot.reentry_gap if e.kind == "reentry" else PRESETS["default"].mot.occlusion_frames)[0]
            assert e.end - e.start >= lo
