"""TrackingEvaluation inside a real Lightning fit: metrics logged (and usable by ModelCheckpoint), raw results
per epoch, results.json at the end, checkpoints that ``zoo.evaluate model=CKPT`` can load back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from tests.tasks.fixtures import write_mot_split
from zoo import registry
from zoo.callbacks.tracking_eval import TrackingEvaluation
from zoo.data.formats import motchallenge
from zoo.tasks import mot
from zoo.trackers.byte import ByteTrack

NAME = "tiny_eval_test"


class TinyTracking(L.LightningModule):
    """One parameter, a trivial loss; its tracker is ByteTrack with a threshold from the hyper-parameters."""

    def __init__(self, track_thresh: float = 0.6) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.tracker_calls = 0

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return ((self.w - batch[0].mean()) ** 2).sum()

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self.log("val/loss", ((self.w - batch[0].mean()) ** 2).sum())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def tracker(self) -> ByteTrack:
        self.tracker_calls += 1
        return ByteTrack(track_thresh=self.hparams.track_thresh, min_box_area=0, max_aspect_ratio=None)


class EvalData(L.LightningDataModule):
    """The data module surface the callback uses: benchmark, val_split, eval_sequences(split)."""

    benchmark = "synth_mot"
    val_split = "train"

    def __init__(self, split_dir: Path, validate: bool) -> None:
        super().__init__()
        self.seqs = motchallenge.load_split(split_dir)
        self.validate = validate
        if validate:
            self.val_dataloader = self._loader  # type: ignore[method-assign]

    def eval_sequences(self, split: str | None = None) -> list:
        return self.seqs

    def _loader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.ones(4, 1)), batch_size=2)

    def train_dataloader(self) -> DataLoader:
        return self._loader()


@pytest.fixture
def registered():
    registry.register(NAME, task="mot")(TinyTracking)
    yield NAME
    registry._REGISTRY.pop(NAME, None)


@pytest.mark.parametrize("validate", [True, False])
def test_callback_logs_writes_and_checkpoints(tmp_path: Path, registered: str, validate: bool) -> None:
    split = write_mot_split(tmp_path / "bench", ("hand-01", "hand-02"))
    data = EvalData(split, validate)
    model = TinyTracking(track_thresh=0.3)
    ckpt = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=tmp_path / "run" / "checkpoints", monitor="val/HOTA", mode="max"
    )
    trainer = L.Trainer(
        max_epochs=2, accelerator="cpu", devices=1, default_root_dir=tmp_path / "run",
        logger=L.pytorch.loggers.CSVLogger(tmp_path / "run", name="logs"), callbacks=[TrackingEvaluation(), ckpt],
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=1 if validate else 0,
    )  # fmt: skip
    trainer.fit(model, datamodule=data)
    assert (
        model.tracker_calls == 2
    )  # once per epoch, even with a validation loop (and not in the sanity check)
    direct = mot.run_benchmark(model.tracker(), data.seqs, None, benchmark="synth_mot", progress=False)
    assert trainer.callback_metrics["val/HOTA"].item() == pytest.approx(direct.metrics["HOTA"], abs=1e-6)
    assert trainer.callback_metrics["val/IDF1"].item() == pytest.approx(direct.metrics["IDF1"], abs=1e-6)
    for epoch in (0, 1):
        folder = tmp_path / "run" / "results" / f"epoch_{epoch:03d}"
        assert sorted(p.name for p in folder.glob("*.txt")) == ["hand-01.txt", "hand-02.txt"]
    doc = json.loads((tmp_path / "run" / "results.json").read_text())
    assert doc["method"] == NAME and doc["params"] == 1 and doc["metrics"]["HOTA"] == direct.metrics["HOTA"]
    rows = list(csv.DictReader((Path(trainer.logger.log_dir) / "metrics.csv").open()))
    assert sum(1 for r in rows if r.get("val/HOTA")) == 2
    # the best checkpoint was chosen by the logged metric and records the method for zoo.evaluate
    best = Path(ckpt.best_model_path)
    assert best.is_file()
    saved = torch.load(best, map_location="cpu", weights_only=True)
    assert saved["zoo"]["method"] == NAME

    from zoo.evaluate import build_trackers

    (entry,) = build_trackers(str(best), "mot")
    tracker = entry.factory()
    assert isinstance(tracker, ByteTrack) and tracker.track_thresh == 0.3
    assert entry.meta["method"] == NAME and entry.meta["params"] == 1


def test_callback_rejects_a_module_without_tracker(tmp_path: Path) -> None:
    split = write_mot_split(tmp_path / "bench")

    class NoTracker(TinyTracking):
        tracker = None  # type: ignore[assignment]

    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", devices=1, default_root_dir=tmp_path, logger=False,
        callbacks=[TrackingEvaluation()], enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="no tracker\\(\\) method"):
        trainer.fit(NoTracker(), datamodule=EvalData(split, False))
    with pytest.raises(ValueError, match="every_n_epochs"):
        TrackingEvaluation(every_n_epochs=0)
