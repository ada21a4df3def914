"""ZooSynth-MOT scene events that make appearance matter: sibling crossings that pass or turn back, camera
jerks (generator 1.3) and part-swapped look-alikes (generator 1.4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zoo.data.synth.config import MOTConfig
from zoo.data.synth.mot import sibling_pairs_first, simulate_mot
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
     ("shakes", -2), ("lookalike_share", -0.1)],
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
