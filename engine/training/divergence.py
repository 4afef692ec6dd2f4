"""When a run has diverged, and how that is said: a loss that is not finite, or one that has exploded.

A loss EXPLODED_LOSS_FACTOR times that of guessing at chance (the cross-entropy ln C for C classes) has
exploded rather than merely spiked: e.g. Adam at learning rate 10 "completing" with validation loss 1.4e7.
Such a run is stopped and rolled back like one whose loss became NaN.
"""

from __future__ import annotations

import math

EXPLODED_LOSS_FACTOR = 100.0


class Diverged(Exception):
    """Raised inside the training loop; `what` names the quantity ("training loss", "weights")."""

    def __init__(self, value: float, what: str) -> None:
        super().__init__(what)
        self.value, self.what = value, what


def chance_loss(num_classes: int) -> float:
    return math.log(max(num_classes, 2))


def exploded_loss_limit(num_classes: int) -> float:
    """The loss above which a run has diverged."""
    return EXPLODED_LOSS_FACTOR * chance_loss(num_classes)


def has_diverged(loss: float, num_classes: int) -> bool:
    return not math.isfinite(loss) or loss > exploded_loss_limit(num_classes)


def divergence_message(exc: Diverged, *, step: int, rolled_back_to: int, learning_rate: float,
                       num_classes: int) -> str:
    """What happened, what to do, and where the weights are now; one paragraph for the outcome line."""
    if math.isfinite(exc.value):
        what = (f"the {exc.what} grew to {exc.value:.3g} at step {step}, over {EXPLODED_LOSS_FACTOR:g} times "
                f"the {chance_loss(num_classes):.2f} of guessing")
        kept = "the last state kept before it"
    else:
        value = "NaN" if math.isnan(exc.value) else "infinite"
        what, kept = f"the {exc.what} became {value} at step {step}", "the last state with finite values"
    lr = learning_rate
    return (f"training diverged: {what}. The learning rate {lr:g} is probably too high; try {lr / 10:g}. "
            f"The weights were rolled back to step {rolled_back_to}, {kept}.")
