"""One training call for every notebook: ``fit`` plus a clock.

:func:`train` calls ``model.fit`` with ``verbose=2`` (one line per epoch: readable
in stored notebook outputs and logs, unlike progress bars) and returns a
:class:`TrainingRun` holding the history, the seconds each epoch took and the
total time. The first epoch is usually the slowest: it includes tracing and
compiling the model's computation graph.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


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

    def final(self, metric: str) -> float:
        """The last epoch's value of ``metric`` (e.g. ``"val_accuracy"``)."""
        return float(self.history[metric][-1])

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
    :func:`shifted_batches`) with ``y=None``; ``batch_size`` is then the dataset's.
    ``verbose=2`` prints one line per epoch.
    """
    if validation_split is not None and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")
    if not getattr(model, "compiled", False):
        raise ValueError(f"compile model {model.name!r} before training it")
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


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Move every image by its own random whole-pixel offset in ``-max_shift..max_shift``.

    ``images`` has shape (n, height, width, channels); the border that moves in is
    filled with zeros (the background of MNIST and Fashion-MNIST).
    """
    images = np.asarray(images)
    count, height, width = images.shape[:3]
    m = max_shift
    padded = np.pad(images, ((0, 0), (m, m), (m, m)) + ((0, 0),) * (images.ndim - 3))
    rows = rng.integers(0, 2 * m + 1, count)[:, None] + np.arange(height)[None, :]
    cols = rng.integers(0, 2 * m + 1, count)[:, None] + np.arange(width)[None, :]
    return padded[np.arange(count)[:, None, None], rows[:, :, None], cols[:, None, :]]


def shifted_batches(x, y, *, batch_size: int = 128, max_shift: int = 2, seed: int = 0):
    """Training batches with *data augmentation*: every image shifted at random, anew each epoch.

    Returns a ``keras.utils.PyDataset`` to pass to ``fit`` (or :func:`train`) in
    place of ``x`` and ``y``; it shuffles the images every epoch and moves each one
    by up to ``max_shift`` pixels in both directions, so the network never sees
    exactly the same image twice. It is plain NumPy, so it works with every Keras
    backend. Validation data must then be given explicitly (``validation_data``).
    """
    import keras

    class ShiftedBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.x, self.y = np.asarray(x), np.asarray(y)
            self.num_images = len(self.x)
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(self.num_images)

        def __len__(self):
            return math.ceil(self.num_images / batch_size)

        def __getitem__(self, index):
            chosen = self.order[index * batch_size:(index + 1) * batch_size]
            return shift_images(self.x[chosen], max_shift, self.rng), self.y[chosen]

        def on_epoch_end(self):
            self.order = self.rng.permutation(self.num_images)

    return ShiftedBatches()
