"""Hand-made clips for the SUSHI / KFE+IFF tests: people walking in straight lines with noisy identity
features, some detections missing, optional false positives."""

from __future__ import annotations

import numpy as np
import torch

from zoo.methods.kfe_iff.model import Clip, fixed_slots


def walkers(
    seed: int = 0,
    frames: int = 32,
    people: int = 6,
    dim: int = 16,
    miss: float = 0.1,
    noise: float = 0.1,
    false_positives: int = 0,
    gap: tuple[int, int] | None = None,
) -> Clip:
    """A clip of ``people`` walkers over ``frames`` frames (1-based, starting at 1), each with its own
    feature prototype; ``gap=(a, b)`` hides walker 0 in frames a..b."""
    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(people, dim))
    fr, bx, gt, ft = [], [], [], []
    for k in range(people):
        x0, y0 = rng.uniform(0, 400), rng.uniform(50, 200)
        vx, vy = rng.uniform(-3, 3), rng.uniform(-0.5, 0.5)
        for t in range(1, frames + 1):
            if rng.random() < miss:
                continue
            if gap is not None and k == 0 and gap[0] <= t <= gap[1]:
                continue
            x, y = x0 + vx * t, y0 + vy * t
            fr.append(t)
            bx.append([x, y, x + 30, y + 80])
            gt.append(k)
            ft.append(protos[k] + noise * rng.normal(size=dim))
    for _ in range(false_positives):
        t = int(rng.integers(1, frames + 1))
        x, y = rng.uniform(0, 400), rng.uniform(50, 200)
        fr.append(t)
        bx.append([x, y, x + 30, y + 80])
        gt.append(-1)
        ft.append(rng.normal(size=dim))
    order = np.argsort(np.asarray(fr), kind="stable")
    frames_a = np.asarray(fr, np.int64)[order]
    feat = torch.tensor(np.asarray(ft)[order], dtype=torch.float32)
    return Clip(frames_a, np.asarray(bx, np.float64)[order], feat, fixed_slots(frames_a, 1), 10.0, 1, frames,
                np.asarray(gt, np.int64)[order])
