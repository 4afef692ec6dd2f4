"""What the training loop offers its users besides `fit()`: the hooks it calls, and the error of a run that
cannot start. Apart from engine/training/trainer.py so that callbacks (run folder writer, history, the CLI's progress)
need not import the loop itself."""

from __future__ import annotations

from engine.events import BatchEnded, EpochEnded, SnapshotTaken, TrainingFinished


class TrainingSetupError(ValueError):
    """Training cannot start (incompatible dataset, unavailable device, bad weights); one clear sentence."""


class Callback:
    """Hooks called on the training thread, in order; override the ones you need. Keep them quick.

    A callback whose on_snapshot reads only the gradient norms and probabilities (the run folder's writer
    saves the model's own state dict) sets `reads_layer_tensors = False`: when no callback reads them, a
    snapshot skips copying every layer's activations and filters off the device.
    """

    reads_layer_tensors = True

    def on_batch_end(self, event: BatchEnded) -> None: ...

    def on_epoch_end(self, event: EpochEnded) -> None: ...

    def on_snapshot(self, event: SnapshotTaken) -> None: ...

    def on_train_end(self, event: TrainingFinished) -> None: ...
