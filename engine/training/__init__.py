"""The training loop and everything it runs: device, precision, optimisers, schedules, augmentation, early stopping, torchrun."""
