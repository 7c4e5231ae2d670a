"""Training: one ``fit`` call with a clock.

:func:`train` calls ``model.fit`` with ``verbose=2`` (one line per epoch: readable
in stored notebook outputs and logs, unlike progress bars) and returns a
:class:`TrainingRun` holding the history, the seconds each epoch took and the
total time. The first epoch is usually the slowest: it includes tracing and
compiling the model's computation graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .execution import check_output_precision


def _epoch_timer_class():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Records the wall-clock seconds of every epoch (validation included)."""

        def __init__(self) -> None:
            super().__init__()
            self.epoch_seconds: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.perf_counter() - self._start)

    return EpochTimer


def epoch_timer():
    """A Keras callback that records the seconds of each epoch in ``.epoch_seconds``."""
    return _epoch_timer_class()()


@dataclass
class TrainingRun:
    """What one call to :func:`train` produced.

    ``history`` maps each metric name (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``, ...) to one value per epoch; ``epoch_seconds`` has one
    duration per epoch; ``total_seconds`` is the wall time of the whole ``fit``.
    """

    name: str
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    total_seconds: float
    batch_size: int
    train_images: int

    @property
    def epochs(self) -> int:
        """How many epochs ran (fewer than asked if a callback stopped training early)."""
        return len(self.epoch_seconds)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean seconds per epoch, leaving out the first epoch when there are others.

        The first epoch also pays for tracing and compiling the model, so the later
        epochs say better what one more epoch costs.
        """
        later = self.epoch_seconds[1:] or self.epoch_seconds
        return float(sum(later) / len(later))

    def best_epoch(self, metric: str = "val_loss") -> int:
        """The 1-based epoch with the best ``metric`` (lowest loss or highest accuracy)."""
        values = self.history[metric]
        pick = min if "loss" in metric else max
        return 1 + values.index(pick(values))


def train(
    model,
    x,
    y,
    *,
    epochs: int,
    batch_size: int = 128,
    validation_split: float | None = None,
    validation_data: tuple | None = None,
    callbacks: Sequence = (),
    shuffle: bool = True,
    verbose: int = 2,
) -> TrainingRun:
    """Fit a compiled model and time it; return a :class:`TrainingRun`.

    Give either ``validation_split`` (Keras holds out the *last* fraction of
    ``x``/``y``, before shuffling) or ``validation_data=(x_val, y_val)``, or
    neither. ``x`` may also be a dataset of batches (such as
    :func:`helpers.shifted_batches`) with ``y=None``; ``batch_size`` is then the dataset's.
    ``verbose=2`` prints one line per epoch.
    """
    if validation_split is not None and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")
    if not getattr(model, "compiled", False):
        raise ValueError(f"compile model {model.name!r} before training it")
    check_output_precision(model)
    timer = epoch_timer()
    start = time.perf_counter()
    arrays = y is not None
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size if arrays else None,
        validation_split=validation_split or 0.0,
        validation_data=validation_data,
        callbacks=[timer, *callbacks],
        shuffle=shuffle,
        verbose=verbose,
    )
    total = time.perf_counter() - start
    held_out = int(len(x) * validation_split) if validation_split else 0
    images = len(x) - held_out if arrays else getattr(x, "num_images", len(x) * batch_size)
    run = TrainingRun(
        name=model.name,
        history={name: [float(v) for v in values] for name, values in history.history.items()},
        epoch_seconds=list(timer.epoch_seconds),
        total_seconds=total,
        batch_size=batch_size,
        train_images=images,
    )
    if run.epochs > 1:
        print(
            f"{run.name}: {run.epochs} epochs in {total:.1f} s (first epoch {run.epoch_seconds[0]:.1f} s, "
            f"then {run.seconds_per_epoch:.1f} s per epoch)"
        )
    else:
        print(f"{run.name}: {run.epochs} epoch in {total:.1f} s")
    return run


@contextmanager
def no_retracing_warnings():
    """Silence TensorFlow's "excessive retracing" warning while models are built and trained one after another.

    Training many small models in a row (a grid of configurations, timed steps, a probe)
    traces new functions for every model by design; the warning would only alarm.
    """
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
