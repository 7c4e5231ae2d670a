"""Training: one ``fit`` call with a clock, TensorBoard logs read back,
and configurations trained over seeds (:func:`train_grid`, notebook 04).

:func:`train` calls ``model.fit`` with ``verbose=2`` (one line per epoch: readable
in stored notebook outputs and logs, unlike progress bars) and returns a
:class:`TrainingRun` holding the history, the seconds each epoch took and the
total time. The first epoch is usually the slowest: it includes tracing and
compiling the model's computation graph.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is made, not with helpers
    import pandas as pd



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


# ------------------------------------------------------------ TensorBoard: read the logs back

def _tfrecords(path) -> list[bytes]:
    """The records of one TFRecord file (TensorBoard's event file format), without CRC checks."""
    import struct

    records = []
    with open(path, "rb") as file:
        while header := file.read(12):  # uint64 length + uint32 CRC of the length
            if len(header) < 12:
                break
            (length,) = struct.unpack("<Q", header[:8])
            data = file.read(length)
            file.read(4)  # CRC of the data
            if len(data) < length:  # a file still being written ends mid-record
                break
            records.append(data)
    return records


def read_tensorboard_log(log_dir) -> pd.DataFrame:
    """Every value in the TensorBoard event files under ``log_dir``, as one table.

    One row per logged value: ``run`` (the sub-folder, e.g. ``train`` or ``validation``
    for Keras's ``TensorBoard`` callback), ``tag`` (``epoch_loss``, ...), ``kind`` (the
    TensorBoard dashboard it belongs to: ``scalars``, ``histograms``, ``images``, ``text``,
    ``graph``), ``step`` (Keras writes epoch values at step = epoch index, from 0) and
    ``value`` (the number for scalars, NaN for the other kinds).

    Why: headless runs and CI have no TensorBoard UI; reading the files back lets a
    notebook plot and check what was logged. It needs TensorFlow installed (its
    protocol buffers), as writing the logs does, whatever the Keras backend.
    """
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    root = Path(log_dir)
    rows = []
    for path in sorted(root.rglob("events.out.tfevents.*")):
        run = path.parent.relative_to(root).as_posix()
        for record in _tfrecords(path):
            event = event_pb2.Event.FromString(record)
            if event.graph_def:
                rows.append((run, "graph", "graph", event.step, np.nan))
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    rows.append((run, value.tag, "scalars", event.step, float(value.simple_value)))
                    continue
                kind = value.metadata.plugin_data.plugin_name or "tensor"
                number = float(tf.make_ndarray(value.tensor)) if kind == "scalars" else np.nan
                rows.append((run, value.tag, kind, event.step, number))
    return pd.DataFrame(rows, columns=["run", "tag", "kind", "step", "value"])


def _parent_command() -> str:
    """The command line of the process that started this one ('' when it cannot be read)."""
    import os
    import subprocess

    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        pass
    try:
        return subprocess.run(["ps", "-o", "command=", "-p", str(parent)], capture_output=True,
                              text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def tensorboard_ui_problem() -> str | None:
    """Why the ``%tensorboard`` notebook magic cannot show its UI here, or None when it can.

    The magic starts a TensorBoard server and embeds its page in the notebook: that
    needs the ``tensorboard`` package and a browser looking at the notebook (Colab, or
    a kernel started by Jupyter). In a headless run (papermill, nbval, ``./course run``)
    it would start a server that nobody sees and that outlives the run, so notebooks
    print one line instead. Unknown front ends count as headless: a skipped UI costs a
    line, a stray server costs a port.
    """
    import importlib.util
    import sys

    if importlib.util.find_spec("tensorboard") is None:
        return "the tensorboard package is not installed (pip install tensorboard)"
    if "google.colab" in sys.modules:
        return None
    if "ipykernel" not in sys.modules:
        return "not running in a notebook kernel"
    parent = _parent_command()
    if "jupyter" in parent and "nbconvert" not in parent:
        return None
    return "no notebook front end was found (a headless run: papermill, nbval or a script)"


# ------------------------------------------------------------ experiments: configurations over seeds (notebook 04)


#: The knobs of a configuration that go to ``fit``; every other knob goes to the model builder.
FIT_KNOBS = ("batch_size", "epochs", "seconds")


def time_limit(seconds: float):
    """A Keras callback that stops training after the first batch that ends ``seconds`` after the start.

    Why: comparing batch sizes at equal *time* (not equal epochs) needs every run to
    stop when its time is up, wherever it is in an epoch.
    """
    import keras

    class TimeLimit(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.start >= seconds:
                self.model.stop_training = True

    return TimeLimit()


def early_stopping_epochs(val_losses: Sequence[float], patience: int) -> tuple[int, int]:
    """Where ``keras.callbacks.EarlyStopping(patience=patience)`` would have stopped on these losses.

    Returns ``(stopped, best)``, both 1-based epochs: the epoch after which training
    would have stopped (the last epoch if it never stops) and the epoch with the lowest
    loss so far, whose weights ``restore_best_weights=True`` keeps. Same rule as Keras
    (``min_delta=0``): an epoch that does not improve on the best adds one to a counter,
    and training stops when the counter reaches ``patience``. Why: one long run answers
    "what would early stopping have chosen" for every patience, without re-training.
    """
    if patience < 1:
        raise ValueError(f"patience must be at least 1, got {patience}")
    best_value, best, wait = float("inf"), 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        wait += 1
        if value < best_value:
            best_value, best, wait = value, epoch, 0
        elif wait >= patience:
            return epoch, best
    return len(val_losses), best


@contextmanager
def _no_retracing_warnings():
    """Silence TensorFlow's "excessive retracing" warning: a grid traces new functions for every run by design."""
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass
class GridRuns:
    """What :func:`train_grid` produced.

    ``runs`` is the tidy table: one row per (variant, seed) with the knobs of the
    variant and the run's ``epochs``, ``seconds``, ``seconds_per_epoch``,
    ``train_accuracy`` (last epoch), ``val_loss`` and ``val_accuracy`` (after training).
    ``histories`` maps ``(variant, seed)`` to the per-epoch history; ``models`` holds
    the trained models when :func:`train_grid` was asked to keep them.
    """

    runs: pd.DataFrame
    histories: dict[tuple[str, int], dict[str, list[float]]]
    models: dict[tuple[str, int], object]


def train_grid(
    build,
    variants: Mapping[str, Mapping[str, object]],
    data: tuple,
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    comparison: str = "",
    curves: bool = False,
    keep_models: bool = False,
) -> GridRuns:
    """Train every configuration of ``variants`` once per seed and return one tidy table.

    ``build(**knobs)`` is the notebook's model-building function: it returns a
    *compiled* model. ``variants`` maps a short name (it becomes part of result keys:
    lower case, no spaces) to the knobs that differ from the base configuration;
    ``batch_size``, ``epochs`` and ``seconds`` (a time budget, see :func:`time_limit`)
    go to ``fit``, every other knob to ``build``. ``data`` is ``(x_train, y_train,
    x_val, y_val)``, the same split for every run; the test set never enters here.

    Every run starts from ``helpers.set_seed(seed)``, so all variants of one seed
    start from the same random state (initial weights of equal shapes, batch order). The validation set is
    scored once after training; ``curves=True`` also scores it after every epoch
    (``val_loss`` and ``val_accuracy`` per epoch in ``histories``), which costs time.
    Prints one line per variant: mean and spread of the validation accuracy.
    """
    import numpy as np
    import pandas as pd

    from .environment import set_seed

    x_train, y_train, x_val, y_val = data
    rows: list[dict[str, object]] = []
    histories: dict[tuple[str, int], dict[str, list[float]]] = {}
    models: dict[tuple[str, int], object] = {}
    for name, knobs in variants.items():
        fit_knobs = {"batch_size": batch_size, "epochs": epochs, **{k: v for k, v in knobs.items() if k in FIT_KNOBS}}
        build_knobs = {k: v for k, v in knobs.items() if k not in FIT_KNOBS}
        seconds = fit_knobs.pop("seconds", None)
        if seconds is not None and "epochs" not in knobs:
            fit_knobs["epochs"] = 10_000  # the time budget decides
        accuracies = []
        for seed in seeds:
            set_seed(seed)
            model = build(**build_knobs)
            timer = epoch_timer()
            callbacks = [timer] if seconds is None else [timer, time_limit(seconds)]
            start = time.perf_counter()
            with _no_retracing_warnings():
                history = model.fit(
                    x_train, y_train, **fit_knobs, callbacks=callbacks, verbose=0,
                    validation_data=(x_val, y_val) if curves else None,
                )
                total = time.perf_counter() - start
                scores = model.evaluate(x_val, y_val, batch_size=1024, verbose=0, return_dict=True)
            val_accuracy = float(next(v for k, v in scores.items() if k.endswith("accuracy")))
            later = timer.epoch_seconds[1:] or timer.epoch_seconds
            history = {key: [float(v) for v in values] for key, values in history.history.items()}
            rows.append({
                "comparison": comparison, "variant": name, "seed": seed,
                **{k: v if isinstance(v, (int, float, str, bool)) else repr(v) for k, v in knobs.items()},
                "epochs": len(timer.epoch_seconds), "seconds": total,
                "seconds_per_epoch": float(np.mean(later)),
                "train_accuracy": history["accuracy"][-1] if "accuracy" in history else float("nan"),
                "val_loss": float(scores["loss"]), "val_accuracy": val_accuracy,
            })
            histories[(name, seed)] = history
            if keep_models:
                models[(name, seed)] = model
            accuracies.append(val_accuracy)
        spread = f" ± {np.std(accuracies, ddof=1):.4f}" if len(accuracies) > 1 else ""
        print(f"{comparison + ': ' if comparison else ''}{name}: validation accuracy "
              f"{np.mean(accuracies):.4f}{spread} over {len(accuracies)} seed(s)")
    return GridRuns(pd.DataFrame(rows), histories, models)
