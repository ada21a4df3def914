"""A tiny LightningModule/DataModule pair that drives zoo.train's plumbing in tests.

Never registered in zoo.registry and never shipped: tests put this folder on PYTHONPATH and its recipes on
$ZOO_RECIPE_PATH.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset


class _Regression(Dataset):
    """y = x @ w + noise, fixed by seed; ``delay`` seconds per item make a run slow enough to kill."""

    def __init__(self, n: int, dim: int, seed: int, delay: float) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, dim, generator=g)
        w = torch.arange(1, dim + 1, dtype=torch.float32) / dim
        self.y = self.x @ w + 0.01 * torch.randn(n, generator=g)
        self.delay = delay

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.delay:
            time.sleep(self.delay)
        return self.x[i], self.y[i]


class TinyDataModule(L.LightningDataModule):
    def __init__(self, n: int = 64, dim: int = 4, batch_size: int = 8, seed: int = 0, delay: float = 0.0) -> None:
        super().__init__()
        self.n, self.dim, self.batch_size, self.seed, self.delay = n, dim, batch_size, seed, delay

    def train_dataloader(self) -> DataLoader:
        data = _Regression(self.n, self.dim, self.seed, self.delay)
        return DataLoader(data, batch_size=self.batch_size, shuffle=False)


class TinyRegressor(L.LightningModule):
    """Linear regression; appends (global_step, rank) of every step to ``$ZOO_PLUMBING_TRACE`` if set."""

    def __init__(self, dim: int = 4, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.linear = torch.nn.Linear(dim, 1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)
        self.log("train/loss", loss, prog_bar=True)
        trace = os.environ.get("ZOO_PLUMBING_TRACE")
        if trace:
            with Path(trace).open("a") as handle:
                handle.write(json.dumps({"step": int(self.global_step), "epoch": int(self.current_epoch),
                                         "batch": batch_idx, "rank": int(self.global_rank)}) + "\n")
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class TinyMOTCounter(L.LightningModule):
    """Counts the annotated people of each frame from pooled pixels: drives MOTDataModule batches (SGS
    groups) through real training, so DDP sampling and logging are exercised on ZooSynth.

    Appends the (rank, video, frame) of every sample it trains on to ``$ZOO_PLUMBING_TRACE`` if set.
    """

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.head = torch.nn.Linear(3 * 4 * 4, 1)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        images = batch["image"]  # (B, 3, H, W)
        pooled = torch.nn.functional.adaptive_avg_pool2d(images, 4).flatten(1)
        counts = torch.tensor([float(len(b)) for b in batch["boxes"]], device=images.device)
        loss = torch.nn.functional.mse_loss(self.head(pooled).squeeze(-1), counts)
        self.log("train/loss", loss, sync_dist=True, batch_size=images.shape[0])
        trace = os.environ.get("ZOO_PLUMBING_TRACE")
        if trace:
            frames = torch.as_tensor(batch["frame"]).tolist()
            videos = torch.as_tensor(batch["video"]).tolist()
            with Path(trace).open("a") as handle:
                handle.write(json.dumps({"rank": int(self.global_rank), "step": int(self.global_step),
                                         "epoch": int(self.current_epoch),
                                         "samples": list(zip(videos, frames))}) + "\n")
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
