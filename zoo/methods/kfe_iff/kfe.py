"""KFE: key-frame segmentation of a video by tabular Q-learning, label-free, per video.

The paper gives the ingredients (states are frames, two actions, a reward from the cosine similarity of a
segment's first and last frame features, constants delta and xi, segment length bounds u and n) but not
the exact formulation. Reconstruction (every choice a config key, listed in the model card):

- frame descriptor ``phi_t``: the mean of the L2-normalised appearance vectors of frame t's detections,
  L2-normalised; an empty frame inherits the previous frame's (the first non-empty one for leading frames);
- state: ``(t, bucket(length of the open segment))`` with ``length_buckets`` buckets over [1, n];
- actions: ``cut`` (frame t starts a new segment; illegal while the open segment is shorter than u) and
  ``extend`` (t joins the open segment; illegal when it already has n frames);
- reward, when a segment [s, e] closes: ``delta * cos(phi_s, phi_e) - xi`` (``reward="threshold"``:
  ``+delta`` if ``cos >= xi`` else ``-delta``); 0 otherwise; the last segment closes at the video's end;
- epsilon-greedy episodes (epsilon decays linearly from ``epsilon_start`` to ``epsilon_end``), Q-learning
  update with learning rate ``lr`` and discount ``discount``; inference is the greedy rollout.

Everything is deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["KFEConfig", "frame_descriptors", "key_frame_segments", "segments_to_slots"]

CUT, EXTEND = 0, 1
_CHUNK_ROWS = 8192  # detections normalised at a time by frame_descriptors


@dataclass(frozen=True)
class KFEConfig:
    """KFE settings (see the module docstring). ``min_len`` is u, ``max_len`` is n."""

    delta: float = 1.0
    xi: float = 0.5
    min_len: int = 8
    max_len: int = 512
    lr: float = 0.1
    discount: float = 0.9
    epsilon_start: float = 0.3
    epsilon_end: float = 0.01
    episodes: int = 200
    length_buckets: int = 16
    reward: str = "linear"
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(f"KFE needs 1 <= min_len (u) <= max_len (n), got u={self.min_len}, n={self.max_len}")
        if self.reward not in ("linear", "threshold"):
            raise ValueError(f"KFE reward must be 'linear' or 'threshold', got {self.reward!r}")
        if self.episodes < 0 or self.length_buckets < 1:
            raise ValueError("KFE episodes must be >= 0 and length_buckets >= 1")

    def to_dict(self) -> dict:
        return asdict(self)


def frame_descriptors(frames: np.ndarray, feats: np.ndarray, start: int, length: int) -> np.ndarray:
    """(length, D) float64 unit descriptors of frames ``start .. start + length - 1``.

    Args:
        frames: (N,) 1-based frame of each detection; feats: (N, D) appearance vectors.
    """
    d = feats.shape[1] if np.ndim(feats) == 2 else 1
    rel_all = np.asarray(frames, np.int64) - start
    sums = np.zeros((length, d))
    count = np.zeros(length, np.int64)
    # in chunks of rows: a float64 copy of a whole long sequence's (N, D) features would be the tracker's
    # largest allocation (10,000 frames x 30 detections x 64-d: 150 MB); row order, and so the sums, unchanged
    for lo in range(0, len(rel_all), _CHUNK_ROWS):
        chunk = np.asarray(feats[lo : lo + _CHUNK_ROWS], np.float64).reshape(-1, d)
        unit = chunk / np.maximum(np.linalg.norm(chunk, axis=1, keepdims=True), 1e-12)
        rel = rel_all[lo : lo + _CHUNK_ROWS]
        ok = (rel >= 0) & (rel < length)
        np.add.at(sums, rel[ok], unit[ok])
        count += np.bincount(rel[ok], minlength=length)
    have = count > 0
    out = np.zeros((length, d))
    out[have] = sums[have] / count[have, None]
    out[have] /= np.maximum(np.linalg.norm(out[have], axis=1, keepdims=True), 1e-12)
    if not have.any():
        return out
    # empty frames inherit the previous non-empty one (leading empties: the first non-empty)
    idx = np.where(have, np.arange(length), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.flatnonzero(have)[0])
    return out[idx]


def _bucket(length: np.ndarray | int, cfg: KFEConfig) -> np.ndarray | int:
    return np.minimum((np.asarray(length) - 1) * cfg.length_buckets // cfg.max_len, cfg.length_buckets - 1)


def _reward(cos: float, cfg: KFEConfig) -> float:
    if cfg.reward == "threshold":
        return cfg.delta if cos >= cfg.xi else -cfg.delta
    return cfg.delta * cos - cfg.xi


def _legal(length: int, cfg: KFEConfig) -> tuple[bool, bool]:
    """(cut allowed, extend allowed) with an open segment of ``length`` frames."""
    return length >= cfg.min_len, length < cfg.max_len


def _rollout(q: np.ndarray, phi: np.ndarray, cfg: KFEConfig, rng: np.random.Generator | None,
             epsilon: float) -> list[int]:
    """One pass over the video; updates ``q`` when ``rng`` is given (training), else greedy. Returns the
    segment start frames (0-based, first is 0)."""
    t_len = phi.shape[0]
    starts = [0]
    seg_start, length = 0, 1
    for t in range(1, t_len):
        cut_ok, ext_ok = _legal(length, cfg)
        if cut_ok and not ext_ok:
            forced = CUT
        elif ext_ok and not cut_ok:
            forced = EXTEND
        else:
            forced = None
        b = int(_bucket(length, cfg))
        if forced is not None:
            action = forced
        elif rng is not None and rng.random() < epsilon:
            action = int(rng.integers(2))
        else:
            action = CUT if q[t, b, CUT] > q[t, b, EXTEND] else EXTEND
        if action == CUT:
            reward = _reward(float(phi[seg_start] @ phi[t - 1]), cfg)
            next_len = 1
            seg_start = t
            starts.append(t)
        else:
            reward = 0.0
            next_len = length + 1
        if rng is not None:
            if t + 1 < t_len:
                c2, e2 = _legal(next_len, cfg)
                b2 = int(_bucket(next_len, cfg))
                nxt = max(q[t + 1, b2, a] for a, ok in ((CUT, c2), (EXTEND, e2)) if ok)
            else:
                # the video ends: the open segment closes now, a terminal reward
                reward += _reward(float(phi[seg_start] @ phi[t_len - 1]), cfg)
                nxt = 0.0
            q[t, b, action] += cfg.lr * (reward + cfg.discount * nxt - q[t, b, action])
        length = next_len
    return starts


def key_frame_segments(phi: np.ndarray, cfg: KFEConfig) -> np.ndarray:
    """(K, 2) int64 ``[start, end]`` (0-based, inclusive) segments of a video of ``len(phi)`` frames.

    Every segment has ``min_len <= length <= max_len`` frames except possibly the last, which may be
    shorter than ``min_len`` when the video ends (a video shorter than u is one segment).
    """
    phi = np.asarray(phi, np.float64)
    t_len = phi.shape[0]
    if t_len == 0:
        return np.zeros((0, 2), np.int64)
    q = np.zeros((t_len, cfg.length_buckets, 2))
    rng = np.random.default_rng(cfg.seed)
    for ep in range(cfg.episodes):
        frac = ep / max(1, cfg.episodes - 1)
        eps = cfg.epsilon_start + (cfg.epsilon_end - cfg.epsilon_start) * frac
        _rollout(q, phi, cfg, rng, eps)
    starts = np.asarray(_rollout(q, phi, cfg, None, 0.0), np.int64)
    ends = np.append(starts[1:] - 1, t_len - 1)
    return np.stack([starts, ends], axis=1)


def segments_to_slots(segments: np.ndarray, frames: np.ndarray, start: int) -> np.ndarray:
    """(N,) index of the segment holding each detection (``frames`` 1-based, segments 0-based relative to
    ``start``)."""
    rel = np.asarray(frames, np.int64) - start
    return (np.searchsorted(segments[:, 0], rel, side="right") - 1).astype(np.int64)
