"""TrackingEvaluation: the training callback that scores the model as a tracker on the validation benchmark.

Every ``every_n_epochs`` epochs (and after the last one) it calls ``pl_module.tracker()``, takes the data
module's ``eval_sequences(split)``, and runs the task's benchmark runner (:mod:`zoo.tasks`) on them: whole
sequences sharded over the DDP ranks, raw results written to ``<run_dir>/results/epoch_XXX/``, metrics merged
over all ranks. The task's headline metrics are logged as ``<prefix>/<metric>`` (MOT: HOTA, AssA, IDF1,
MOTA; VOS: J&F-Mean, J-Mean, F-Mean or PCK@0.1/0.2; SOT: AO... or success_auc...), so a checkpoint callback
can monitor them (``checkpoint.monitor=val/HOTA``). At the end of fit rank 0 writes ``<run_dir>/results.json``
(the last evaluation).

When the trainer runs a validation loop the evaluation happens at the end of the validation epoch (before
checkpoints are chosen); otherwise at the end of the training epoch. The model is put in eval mode and run
without gradients, then restored.

It also records ``checkpoint["zoo"]["method"]`` (the module's registry name) in every checkpoint, the contract
``python -m zoo.evaluate model=CKPT`` relies on, unless the module already set it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from zoo.tasks._common import count_parameters
from zoo.tasks.benchmarks import runner, select_sequences, task_of
from zoo.tasks.results import RESULTS_FILE, BenchmarkResult, write_results_json

__all__ = ["TrackingEvaluation"]


def _registry_name(module: Any) -> str | None:
    from zoo.registry import specs

    for spec in specs():
        if spec.cls is type(module):
            return spec.name
    return None


class TrackingEvaluation(Callback):
    """Evaluate ``pl_module.tracker()`` on the data module's evaluation sequences during training.

    Args:
        every_n_epochs: evaluate after every N-th epoch (the last epoch is always evaluated).
        split: evaluation split (default: the data module's ``val_split``).
        max_sequences: evaluate only the first N sequences (quick feedback on large benchmarks).
        detections: MOT detections (``public``, ``gt`` or a folder; see :func:`zoo.tasks.mot.run_benchmark`).
        prefix: logged metric names are ``<prefix>/<metric>``.
        results_subdir: raw results go to ``<run_dir>/<results_subdir>/epoch_XXX/``.
    """

    def __init__(
        self,
        every_n_epochs: int = 1,
        split: str | None = None,
        max_sequences: int | None = None,
        detections: str = "public",
        prefix: str = "val",
        results_subdir: str = "results",
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = int(every_n_epochs)
        self.split = split
        self.max_sequences = max_sequences
        self.detections = detections
        self.prefix = prefix
        self.results_subdir = results_subdir
        self.last_result: BenchmarkResult | None = None
        self._last_epoch: int | None = None
        self._world_size = 1

    # ------------------------------------------------------------------------------------------ hooks
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._maybe_evaluate(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._maybe_evaluate(trainer, pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.last_result is not None and trainer.is_global_zero:
            doc = self.last_result.to_json(device=str(pl_module.device), world_size=self._world_size)
            write_results_json(Path(trainer.default_root_dir) / RESULTS_FILE, doc)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        name = _registry_name(pl_module)
        if name is not None:
            checkpoint.setdefault("zoo", {}).setdefault("method", name)

    # ------------------------------------------------------------------------------------------- work
    def _due(self, trainer: L.Trainer) -> bool:
        epoch = trainer.current_epoch
        if self._last_epoch == epoch:
            return False
        last = trainer.max_epochs is not None and trainer.max_epochs > 0 and epoch + 1 >= trainer.max_epochs
        return (epoch + 1) % self.every_n_epochs == 0 or last

    def _maybe_evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._due(trainer):
            return
        self._last_epoch = trainer.current_epoch
        result = self.evaluate(trainer, pl_module)
        for key in result.main_metrics:
            value = result.metrics.get(key)
            if isinstance(value, (int, float)):
                pl_module.log(f"{self.prefix}/{key}", float(value), sync_dist=True)

    def evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule) -> BenchmarkResult:
        """Run the benchmark now (all ranks take part) and return the merged result."""
        datamodule = trainer.datamodule
        if datamodule is None or not callable(getattr(datamodule, "eval_sequences", None)):
            raise RuntimeError(
                "TrackingEvaluation needs a data module with eval_sequences(split) (zoo.data.modules); "
                f"got {type(datamodule).__name__}"
            )
        if not callable(getattr(pl_module, "tracker", None)):
            raise RuntimeError(f"{type(pl_module).__name__} has no tracker() method to evaluate")
        bench = str(datamodule.benchmark)
        task = task_of(bench)
        split = self.split or getattr(datamodule, "val_split", None)
        sequences = select_sequences(datamodule.eval_sequences(split), None, self.max_sequences)
        out = Path(trainer.default_root_dir) / self.results_subdir / f"epoch_{trainer.current_epoch:03d}"
        meta = {
            "method": _registry_name(pl_module) or type(pl_module).__name__,
            "params": count_parameters(pl_module),
        }
        kwargs = {"detections": self.detections} if task == "mot" else {}
        self._world_size = trainer.world_size
        was_training = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad():
                result = runner(task).run_benchmark(
                    pl_module.tracker(), sequences, out, benchmark=bench, split=split, rank=trainer.global_rank,
                    world_size=trainer.world_size, progress=False, meta=meta, device=str(pl_module.device), **kwargs,
                )  # fmt: skip
        finally:
            pl_module.train(was_training)
        self.last_result = result
        return result
