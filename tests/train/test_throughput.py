"""TrainThroughput: frame counting, warm-up exclusion and the JSON it writes (one process; the DDP test in
test_ddp.py checks the two-rank sum)."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch

from zoo.callbacks.throughput import TrainThroughput, batch_frames


def test_batch_frames():
    assert batch_frames({"image": torch.zeros(8, 3, 4, 4)}) == 8
    assert batch_frames({"frames": torch.zeros(2, 5, 3, 4, 4)}) == 10  # clips: B * T frames
    assert batch_frames((torch.zeros(6, 2), torch.zeros(6))) == 6
    assert batch_frames([1, 2, 3]) == 3


class _Images(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 20

    def __getitem__(self, i: int) -> dict:
        return {"image": torch.full((3, 4, 4), float(i))}


class _Net(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return (batch["image"].mean() * self.w) ** 2

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_counts_frames_after_warmup_and_writes_json(tmp_path):
    cb = TrainThroughput(warmup_steps=2)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[cb],
                        default_root_dir=str(tmp_path))
    trainer.fit(_Net(), torch.utils.data.DataLoader(_Images(), batch_size=3))  # 7 batches: 3 x 6 + 2
    r = cb.result
    assert r["steps"] == 5 and r["frames"] == 3 * 4 + 2 and r["world_size"] == 1
    assert r["frames_per_s"] == pytest.approx(r["frames"] / r["wall_s"]) and r["peak_cuda_mib"] is None
    assert json.loads((tmp_path / "throughput.json").read_text()) == r


def test_rejects_negative_warmup():
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainThroughput(warmup_steps=-1)
