"""``last.ckpt`` holds the newest epoch even when that epoch is not the best by the monitored metric."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from zoo.callbacks.checkpoint import LastAndBestCheckpoint


class Falling(L.LightningModule):
    """One weight; logs a ``val/score`` that falls every epoch, so only the first due epoch is the best."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        return (self.w - batch[0]).pow(2).mean()

    def on_train_epoch_end(self) -> None:
        self.log("val/score", 1.0 - 0.1 * self.current_epoch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.ones(4, 1)), batch_size=2)


def _fit(tmp_path: Path, epochs: int, every: int) -> tuple[LastAndBestCheckpoint, Path]:
    ckpt = LastAndBestCheckpoint(dirpath=tmp_path, monitor="val/score", mode="max", save_top_k=1, save_last=True,
                                 every_n_epochs=every, filename="best-{epoch:03d}", auto_insert_metric_name=False)  # fmt: skip
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, callbacks=[ckpt],
                        enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(Falling())
    return ckpt, tmp_path / "last.ckpt"


@pytest.mark.parametrize("epochs, every, best_epoch", [(4, 2, 1), (3, 2, 1), (3, 1, 0)])
def test_last_is_the_final_epoch_and_best_is_kept(tmp_path: Path, epochs: int, every: int, best_epoch: int):
    ckpt, last = _fit(tmp_path, epochs, every)
    saved = torch.load(last, map_location="cpu", weights_only=True)
    assert saved["epoch"] == epochs - 1  # the final epoch, although it is not the best
    assert saved["global_step"] == 2 * epochs
    best = torch.load(ckpt.best_model_path, map_location="cpu", weights_only=True)
    assert best["epoch"] == best_epoch and Path(ckpt.best_model_path).name == f"best-{best_epoch:03d}.ckpt"
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == sorted([f"best-{best_epoch:03d}.ckpt", "last.ckpt"])


def test_resuming_a_plain_model_checkpoint_keeps_its_state(tmp_path: Path):
    """Checkpoints written with Lightning's ModelCheckpoint (earlier zoo versions) restore into ours: same
    state key, so the best score and last.ckpt path carry over and no ``last-v1.ckpt`` appears."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    kwargs = dict(dirpath=tmp_path, monitor="val/score", mode="max", save_top_k=1, save_last=True,
                  every_n_epochs=2, filename="best-{epoch:03d}", auto_insert_metric_name=False)  # fmt: skip
    assert LastAndBestCheckpoint(**kwargs).state_key == ModelCheckpoint(**kwargs).state_key
    plain = ModelCheckpoint(**kwargs)
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", devices=1, logger=False, callbacks=[plain],
                        enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(Falling())
    ours = LastAndBestCheckpoint(**kwargs)
    trainer = L.Trainer(max_epochs=4, accelerator="cpu", devices=1, logger=False, callbacks=[ours],
                        enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(Falling(), ckpt_path=tmp_path / "last.ckpt")
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == ["best-001.ckpt", "last.ckpt"]
    assert torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)["epoch"] == 3
    assert ours.best_model_score.item() == pytest.approx(0.9)  # epoch 1's score, restored
