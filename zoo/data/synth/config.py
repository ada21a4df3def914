"""ZooSynth configuration: one frozen dataclass per task, grouped in :class:`SynthConfig`, and the presets.

Changing any field changes the dataset fingerprint (see :mod:`zoo.data.synth.store`), so a cached dataset
generated with other settings is never reused silently. Bump :data:`GENERATOR_VERSION` whenever the
generator code changes what it writes for the same config and seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GENERATOR_VERSION = "1.6"


@dataclass(frozen=True)
class MOTConfig:
    """Multi-object tracking sequences (MOTChallenge layout).

    Attributes:
        train_seqs, val_seqs: number of sequences per split.
        length: frames per sequence.
        width, height: frame size in pixels.
        fps: frame rate written to ``seqinfo.ini`` (speeds below are per frame).
        min_people, max_people: identities per sequence (all who appear at some point), drawn uniformly
            (1.5: 11-21 over 160 frames keeps about as many walkers in view per frame as 1.4's 10-20 over 120).
        static_objects: at most this many ``consider=0`` distractor-class objects (class 7 static person,
            class 8 mannequin) per sequence, as MOT17 annotates them.
        group_share: probability that a spawned walker brings 1-2 companions walking with it.
        crossing_pairs: head-on pairs at nearly the same depth, meeting inside the view; the two of a pair
            are siblings (identities differing in exactly one part), so only that part tells them apart.
        bounce_share: probability that a crossing pair turns back at the meeting point instead of passing
            (a constant-velocity motion model then predicts each onto the other: the swap trap).
        lookalike_share: probability that the second walker of a crossing pair, and the first companion of a
            group, wears the first one's look with the torso and legs colours exchanged instead of its own
            sibling look: the same colours in another arrangement, which a pooled (global) appearance feature
            barely separates and a per-part feature does. Drawn from a spawned generator, so trajectories,
            camera and the random stream do not depend on it; only the look-alike's silhouette follows its
            model's (a hat is wider than hair), which moves a few visibilities and hence detections.
        shake_share: share of sequences with camera jerks (a handheld camera re-framing).
        shakes: at most this many jerks per shaking sequence (at least one).
        shake_frac: (min, max) size of one jerk as a fraction of the frame width; the view stays displaced
            afterwards, so a motion model's predictions miss for a frame or two.
        pan_share: share of sequences with a horizontal camera pan (0 disables the pan).
        pan_px: how far the crop window travels over the wider background, in pixels.
        det_jitter: std of detection box edge noise, as a fraction of box width/height.
        det_miss: miss rate of fully visible people (misses rise to 1 as visibility falls below 0.15).
        det_low_share: share of visible people detected with a low score in [0.1, 0.6].
        det_fp_rate: mean number of false-positive detections per frame (Poisson).
        long_occlusions: advertising columns per sequence (wide, tall occluders, always inside the view),
            each with one walker who walks up behind it and stands there fully hidden (generator 1.5).
        occlusion_frames: (min, max) frames that walker stands hidden behind its column; with its walk in
            and out of cover the identity is invisible (visibility 0, no detections) a few frames longer.
        column_width: (min, max) column width in person heights at the column's depth (a person is 0.42
            heights wide, so at least 0.5).
        reentries: walkers per sequence who walk out of the view at a border and come back through the same
            border later, at another depth and speed, with the same identity and look (generator 1.5).
        reentry_gap: (min, max) frames between leaving the view and coming back (no gt rows in between).

    The long-gap events (``long_occlusions``, ``reentries``) turn solo walkers into event walkers and draw
    from a spawned generator, so every other walker, the camera and the scene's random stream are those of a
    sequence without them. An event is placed only where it fits: its walker is in view for at least 15
    frames before and after its gap, so sequences shorter than ``2 * 15 + min gap`` frames have none
    (the ``tiny`` preset). Gaps longer than the online trackers' lost-track buffer (ByteTrack's 30 frames at
    30 fps, 10 frames at ZooSynth's 10 fps; SORT's 1) are what offline and long-term association are for.
    """

    train_seqs: int = 6
    val_seqs: int = 3
    length: int = 160
    width: int = 480
    height: int = 270
    fps: int = 10
    min_people: int = 11
    max_people: int = 21
    static_objects: int = 2
    group_share: float = 0.35
    crossing_pairs: int = 2
    bounce_share: float = 0.5
    lookalike_share: float = 1.0
    shake_share: float = 0.5
    shakes: int = 3
    shake_frac: tuple[float, float] = (0.05, 0.09)
    pan_share: float = 0.5
    pan_px: int = 120
    det_jitter: float = 0.04
    det_miss: float = 0.04
    det_low_share: float = 0.15
    det_fp_rate: float = 0.8
    long_occlusions: int = 1
    occlusion_frames: tuple[int, int] = (35, 55)
    column_width: tuple[float, float] = (0.55, 0.75)
    reentries: int = 2
    reentry_gap: tuple[int, int] = (35, 60)

    def __post_init__(self) -> None:
        # the scene events' settings fail here, naming the field, not later inside numpy's sampling
        if self.crossing_pairs < 0 or self.shakes < 0:
            raise ValueError(f"MOTConfig: crossing_pairs and shakes must be >= 0, got {self.crossing_pairs}, "
                             f"{self.shakes}")
        for name in ("long_occlusions", "reentries"):
            if getattr(self, name) < 0:
                raise ValueError(f"MOTConfig: {name} must be >= 0, got {getattr(self, name)}")
        for name in ("occlusion_frames", "reentry_gap"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"MOTConfig: {name} must be (min, max) frames with 1 <= min <= max, got "
                                 f"{getattr(self, name)}")
        lo, hi = self.column_width
        if not 0.5 <= lo <= hi:
            raise ValueError(f"MOTConfig: column_width must be (min, max) person heights with 0.5 <= min <= max "
                             f"(a person must fit behind it), got {self.column_width}")
        for name in ("bounce_share", "lookalike_share", "shake_share", "pan_share", "group_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"MOTConfig: {name} must be a probability in [0, 1], got {getattr(self, name)}")
        lo, hi = self.shake_frac
        if not 0.0 <= lo <= hi < 0.5:
            raise ValueError(f"MOTConfig: shake_frac must be (min, max) with 0 <= min <= max < 0.5 of the frame "
                             f"width, got {self.shake_frac}")


@dataclass(frozen=True)
class VOSConfig:
    """Video object segmentation sequences (DAVIS 2017 layout, palette PNG for every frame).

    Attributes:
        min_objects, max_objects: annotated objects per sequence (all visible in frame 0).
        lab_amplitude: amplitude of the smooth drift of every object colour in Lab a/b (Lab units).
        pan_px: maximum camera pan over the sequence, in pixels (drawn per sequence in [0, pan_px]).
    """

    train_seqs: int = 8
    val_seqs: int = 4
    length: int = 40
    width: int = 480
    height: int = 270
    min_objects: int = 2
    max_objects: int = 4
    lab_amplitude: float = 14.0
    pan_px: int = 40


@dataclass(frozen=True)
class SOTConfig:
    """Single-object tracking sequences (GOT-10k layout plus per-frame target masks).

    Attributes:
        min_target: the target box's shorter side never falls below this (pixels).
        min_distractors, max_distractors: similar-looking objects per sequence.
    """

    train_seqs: int = 8
    val_seqs: int = 4
    length: int = 80
    width: int = 480
    height: int = 270
    fps: int = 10
    min_target: int = 64
    min_distractors: int = 1
    max_distractors: int = 3


@dataclass(frozen=True)
class KPConfig:
    """Keypoint propagation clips (JHMDB layout: PNG frames and ``joint_positions.mat``), generator 1.6.

    One annotated person per clip (as in JHMDB) walking with scissoring legs over a textured scene, with its
    15 JHMDB joints on the drawn body parts; a joint hidden by an occluder or outside the frame is marked
    invisible (``visibility`` in the ``.mat``). Every joint is visible in frame 0.

    Attributes:
        train_seqs, val_seqs: clips per split.
        length: frames per clip (JHMDB clips have 15-40).
        width, height: frame size in pixels (JHMDB's 320x240).
        person_height: (min, max) height of the annotated person as a fraction of the frame height.
        speed: (min, max) walking speed in person heights per frame (toward the far side of the frame).
        zoom: the person's height changes by a factor up to exp(+-zoom) over the clip (walking toward or
            away).
        pillar_share: probability of a narrow pillar in front, on the person's path (hides some joints while
            the person passes it).
        pillar_width: (min, max) pillar width in person heights (a person is 0.4 wide: a pillar hides an arm,
            a leg or the middle, not all of it).
        min_distractors, max_distractors: other people, balls or cars per clip, each crossing the person in
            front of it (``front_share``) or behind.
        front_share: probability that a distractor passes in front (hiding joints while it crosses).
        lab_amplitude: amplitude of the smooth drift of every colour in Lab a/b (as ``VOSConfig``).
        pan_px: maximum camera pan over the clip, in pixels.
    """

    train_seqs: int = 4
    val_seqs: int = 8
    length: int = 40
    width: int = 320
    height: int = 240
    person_height: tuple[float, float] = (0.5, 0.72)
    speed: tuple[float, float] = (0.005, 0.02)
    zoom: float = 0.15
    pillar_share: float = 0.75
    pillar_width: tuple[float, float] = (0.06, 0.14)
    min_distractors: int = 1
    max_distractors: int = 2
    front_share: float = 0.6
    lab_amplitude: float = 10.0
    pan_px: int = 32

    def __post_init__(self) -> None:
        for name in ("person_height", "speed", "pillar_width"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo <= hi:
                raise ValueError(f"KPConfig: {name} must be (min, max) with 0 < min <= max, got {getattr(self, name)}")
        if self.person_height[1] > 0.9:
            raise ValueError(f"KPConfig: person_height must stay <= 0.9 of the frame (the person starts in full "
                             f"view), got {self.person_height}")
        if not 0 <= self.min_distractors <= self.max_distractors:
            raise ValueError(f"KPConfig: need 0 <= min_distractors <= max_distractors, got "
                             f"{self.min_distractors}, {self.max_distractors}")
        for name in ("pillar_share", "front_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"KPConfig: {name} must be a probability in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class SynthConfig:
    """Everything that determines a ZooSynth dataset besides the seed.

    Attributes:
        mot, vos, sot, kp: per-task settings (``kp``: the keypoint clips, generator 1.6).
        jpeg_quality: quality of every written JPEG frame (OpenCV scale 0-100).
        noise_sigma: std of the per-frame sensor noise added to rendered frames (8-bit units).
    """

    mot: MOTConfig = field(default_factory=MOTConfig)
    vos: VOSConfig = field(default_factory=VOSConfig)
    sot: SOTConfig = field(default_factory=SOTConfig)
    kp: KPConfig = field(default_factory=KPConfig)
    jpeg_quality: int = 90
    noise_sigma: float = 2.5


PRESETS: dict[str, SynthConfig] = {
    # For tests: two short sequences per task and split, small frames; generates in a few seconds.
    "tiny": SynthConfig(
        mot=MOTConfig(train_seqs=2, val_seqs=2, length=24, width=240, height=136, min_people=6,
                      max_people=9, pan_px=40),
        vos=VOSConfig(train_seqs=2, val_seqs=2, length=16, width=240, height=136, pan_px=12),
        sot=SOTConfig(train_seqs=2, val_seqs=2, length=16, width=256, height=200),
        kp=KPConfig(train_seqs=1, val_seqs=2, length=12, width=160, height=120, pan_px=12),
    ),
    # The embedded CPU benchmark.
    "default": SynthConfig(),
}
