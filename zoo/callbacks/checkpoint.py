"""``ModelCheckpoint`` whose ``last.ckpt`` is always the newest state of the run.

Lightning (2.5 and later, checked on 2.6.6) refreshes ``last.ckpt`` at the end of a training epoch only when a
top-k checkpoint was written at that step. With a monitored metric (the recipes keep the best ``val/HOTA``),
an epoch that is not the best therefore left ``last.ckpt`` at an older epoch: resuming a finished or
interrupted run replayed epochs, and "last-epoch weights" read from ``last.ckpt`` were not the last epoch's
(found in a 6-epoch FineTrack run whose ``last.ckpt`` held epoch 4). The step-based path
(``every_n_train_steps``) always saves ``last.ckpt`` and is left as it is.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

__all__ = ["LastAndBestCheckpoint"]


class LastAndBestCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that also writes ``last.ckpt`` at every due epoch end (every ``every_n_epochs``
    epochs and after the final epoch), whether or not the epoch entered the top k.

    Arguments are ``ModelCheckpoint``'s; ``save_last`` must be true for the extra saves to happen.
    """

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        # _should_skip_saving_checkpoint is also true when the parent has just saved at this step
        if (
            self.save_last
            and self._epoch_due(trainer)
            and not self._should_skip_saving_checkpoint(trainer)
            and self._should_save_on_train_epoch_end(trainer)
        ):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    @property
    def state_key(self) -> str:
        """The plain ``ModelCheckpoint``'s key: checkpoints written before this class existed resume with their
        best score and ``last.ckpt`` path (a new key would drop them, and the version counter would then
        write ``last-v1.ckpt`` beside the old ``last.ckpt``)."""
        key = super().state_key
        return ModelCheckpoint.__qualname__ + key[len(type(self).__qualname__) :]

    def _epoch_due(self, trainer: L.Trainer) -> bool:
        if self._every_n_epochs < 1:
            return False
        epoch = trainer.current_epoch + 1
        final = trainer.max_epochs is not None and trainer.max_epochs > 0 and epoch >= trainer.max_epochs
        return epoch % self._every_n_epochs == 0 or final
