"""A tiny trainable MOT "method" and its data for the Hub tests (never registered in zoo/ itself).

``conftest.py`` registers :class:`TinyTrackerModule` as ``zoo_test_tiny`` for the test session and removes it
afterwards. The recipe ``recipes/hub_tiny.yaml`` trains it through the real ``zoo.train.run``, with
:class:`WriteTinyResults` standing in for the evaluation callback (a schema-valid ``results.json`` and raw
MOTChallenge files) and the real :class:`zoo.callbacks.model_card.ModelCardCallback`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import zoo
from zoo.tasks.protocols import Detections, Tracks

METHOD = "zoo_test_tiny"
#: per-sequence metrics WriteTinyResults stores (fractions and counts, as zoo.tasks.mot reports them)
PER_SEQUENCE = {
    "val-seq0": {"HOTA": 0.5, "DetA": 0.6, "AssA": 0.42, "LocA": 0.8, "IDF1": 0.55, "MOTA": 0.6, "IDSW": 3,
                 "Frag": 2, "MT": 1, "ML": 0, "frames": 10},
    "val-seq1": {"HOTA": 0.7, "DetA": 0.72, "AssA": 0.68, "LocA": 0.84, "IDF1": 0.75, "MOTA": 0.7, "IDSW": 1,
                 "Frag": 1, "MT": 2, "ML": 0, "frames": 11},
}
METRICS = {"HOTA": 0.6125, "DetA": 0.66, "AssA": 0.5684, "LocA": 0.82, "IDF1": 0.6543, "MOTA": 0.65, "IDSW": 4,
           "Frag": 3, "MT": 3, "ML": 0, "HOTA(0)": 0.7}


class TinyTracker:
    """MOT protocol: every detection scoring at least ``score_thresh`` is a track, numbered in order."""

    def __init__(self, module: TinyTrackerModule) -> None:
        self.module = module
        self.score_thresh = float(module.hparams.score_thresh)

    def reset(self, seq_info: Any) -> None:
        self.frames = 0

    def step(self, frame: np.ndarray, detections: Detections) -> Tracks:
        self.frames += 1
        keep = detections.scores >= self.score_thresh
        n = int(keep.sum())
        return Tracks(np.arange(1, n + 1, dtype=np.int64), detections.boxes[keep], detections.scores[keep])


class TinyTrackerModule(L.LightningModule):
    """Linear embedding + BatchNorm (a buffer too), regression loss; ``tracker()`` gives a TinyTracker."""

    def __init__(self, dim: int = 4, hidden: int = 8, score_thresh: float = 0.3, lr: float = 0.05,
                 pretrained: bool = False) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.embed = torch.nn.Linear(dim, hidden)
        self.norm = torch.nn.BatchNorm1d(hidden)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.embed(x))).squeeze(-1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"method": METHOD, "task": "mot", "version": zoo.__version__}

    def tracker(self) -> TinyTracker:
        return TinyTracker(self)

    def tracker_config(self) -> dict[str, Any]:
        return {"score_thresh": float(self.hparams.score_thresh)}

    def input_contract(self) -> dict[str, Any]:
        return {"image_size": [64, 112], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                "detections": "public det.txt"}


@dataclass
class TinySequence:
    name: str
    frames: int

    def __len__(self) -> int:
        return self.frames


class TinyTrackingData(L.LightningDataModule):
    """Random regression batches; ``sequences(split)`` names a fixed set of sequences (for the manifest)."""

    def __init__(self, n: int = 32, dim: int = 4, batch_size: int = 8, benchmark: str = "synth_mot",
                 train_split: str = "train", val_split: str = "val", synth_preset: str = "tiny") -> None:
        super().__init__()
        self.n, self.dim, self.batch_size = n, dim, batch_size
        self.benchmark, self.train_split, self.val_split, self.synth_preset = (benchmark, train_split, val_split,
                                                                               synth_preset)

    def sequences(self, split: str) -> list[TinySequence]:
        count = 3 if split == self.train_split else 2
        return [TinySequence(f"{split}-seq{i}", 10 + i) for i in range(count)]

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(self.n, self.dim, generator=g)
        return DataLoader(TensorDataset(x, x.sum(1)), batch_size=self.batch_size)


class WriteTinyResults(L.Callback):
    """Writes ``results.json`` (the zoo.tasks.results schema) and raw results at the end of the fit."""

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from zoo.tasks.results import BenchmarkResult, write_results_json

        run_dir = Path(trainer.default_root_dir)
        raw = run_dir / "results"
        raw.mkdir(parents=True, exist_ok=True)
        for name in PER_SEQUENCE:
            (raw / f"{name}.txt").write_text("1,1,10.0,20.0,30.0,40.0,0.9,-1,-1,-1\n")
        result = BenchmarkResult(
            task="mot", benchmark="synth_mot", split="val", metrics=dict(METRICS), per_sequence=PER_SEQUENCE,
            num_frames=21, tracker_seconds=0.5,
            evaluator={"name": "TrackEval", "version": "1.3.0", "conventions": {"summary": "test"}},
            out_dir=raw, meta={"method": METHOD, "params": sum(p.numel() for p in pl_module.parameters())},
        )
        write_results_json(run_dir / "results.json", result.to_json())
