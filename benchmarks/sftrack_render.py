"""One frame of SFTrack++ laid open: the base trackers' boxes, their channel maps S_i, the combined S_m,
the spectrally refined map X, NN_seg2box's box mask and the final box, as one PNG.

    python benchmarks/sftrack_render.py CKPT [--sequence 2] [--frame 40] [--out docs/img/sftrack_channels.png]

Base-tracker boxes come from the cache (``zoo.trackers.cache``; filled on a miss). Frames are ZooSynth-SOT val.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from zoo.core.video import read_image
from zoo.data.modules import SOTDataModule
from zoo.methods.sftrack import SFTrackModule
from zoo.methods.sftrack.model import mask_to_box
from zoo.trackers.cache import tracker_outputs

COLOURS = [
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
]


def _panel(img: np.ndarray, title: str, scale: int) -> np.ndarray:
    big = cv2.resize(img, (img.shape[1] * scale, img.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    bar = np.full((18, big.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, big], 0)


def _heat(x: torch.Tensor) -> np.ndarray:
    v = (x.clamp(0, 1).numpy() * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(v, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)


def _box(img: np.ndarray, box: np.ndarray, colour, width: int = 1) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), colour, width)


def render(ckpt: str, sequence: int, frame: int, out: Path, scale: int = 2) -> dict[str, float]:
    module = SFTrackModule.load_from_checkpoint(ckpt, map_location="cpu", weights_only=True).eval()
    net, (h, w) = module.net, module.hparams.image_size
    seq = SOTDataModule().sequences("val")[sequence]
    chans = np.stack([tracker_outputs(s, seq).boxes for s in module.hparams.trackers], 1)
    window = int(module.hparams.window)
    frames = range(max(0, frame - window + 1), frame + 1)
    maps, rgb = [], None
    for t in frames:
        img = read_image(seq.frames[t])
        sc = np.array([w / img.shape[1], h / img.shape[0]] * 2)
        rgb = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
        with torch.no_grad():
            b = torch.from_numpy((chans[t] * sc).astype(np.float32))
            maps.append(torch.sigmoid(net.feat2seg_logits(x[None].expand(len(b), -1, -1, -1), b)))
    with torch.no_grad():
        out_maps = net.refine(torch.stack(maps)[None])
        refined, unary = out_maps["refined"][0, -1], out_maps["unary"][0, -1]
        boxprob = torch.sigmoid(net.seg2box_logits(refined[None]))[0]
    final = mask_to_box((boxprob > net.settings.box_threshold).numpy(), net.settings.box_mode)
    gt = seq.boxes[frame] * sc
    scene = rgb.copy()
    for k, b in enumerate(chans[frame] * sc):
        _box(scene, b, COLOURS[k % len(COLOURS)])
    _box(scene, gt, (255, 255, 255), 1)
    if final is not None:
        _box(scene, final, (255, 0, 0), 2)
    panels = [_panel(scene, f"t={frame}: GT white, SFTrack++ red", scale)]
    for k, name in enumerate(module.hparams.trackers):
        m = _heat(maps[-1][k])
        _box(m, chans[frame, k] * sc, COLOURS[k % len(COLOURS)])
        panels.append(_panel(m, f"S_{k + 1} {name}", scale))
    panels += [_panel(_heat(unary), "S_m combined", scale), _panel(_heat(refined), "X after Eq. 1", scale),
               _panel(_heat(boxprob), "seg2box", scale)]  # fmt: skip
    cols = 4
    blank = np.full_like(panels[0], 255)
    while len(panels) % cols:
        panels.append(blank)
    grid = np.concatenate([np.concatenate(panels[i : i + cols], 1) for i in range(0, len(panels), cols)], 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    from zoo.core.boxes import box_iou

    ious = {
        name: float(box_iou(chans[frame, k][None] * sc, gt[None])[0, 0])
        for k, name in enumerate(module.hparams.trackers)
    }
    ious["sftrack"] = 0.0 if final is None else float(box_iou(final[None], gt[None])[0, 0])
    return ious


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("--sequence", type=int, default=2)
    ap.add_argument("--frame", type=int, default=40)
    ap.add_argument("--out", type=Path, default=Path("docs/img/sftrack_channels.png"))
    args = ap.parse_args()
    ious = render(args.ckpt, args.sequence, args.frame, args.out)
    print(f"wrote {args.out}; IoU with GT: " + ", ".join(f"{k} {v:.2f}" for k, v in ious.items()))


if __name__ == "__main__":
    main()
