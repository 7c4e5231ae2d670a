"""Figures of training over its epochs: learning curves of one run, chosen metrics of several
runs overlaid, and the scalars of a TensorBoard log read back from its event files.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_learning_curves(run_or_history, *, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training vs validation, side by side.

    Accepts a :class:`~helpers.training.TrainingRun`, a Keras ``History`` or a
    plain dict of lists. A validation curve that stops improving (or rises) while
    the training curve keeps improving is the signature of overfitting; the best
    validation epoch is marked.
    """
    history = getattr(run_or_history, "history", run_or_history)
    if hasattr(history, "history"):  # a keras History object
        history = history.history
    name = title or getattr(run_or_history, "name", None)
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        if metric not in history:
            ax.axis("off")
            continue
        ax.plot(epochs, history[metric], "o-", label=f"training {metric}", markersize=3)
        val = history.get(f"val_{metric}")
        if val is not None:
            ax.plot(epochs, val, "s-", label=f"validation {metric}", markersize=3)
            best = int(np.argmin(val) if metric == "loss" else np.argmax(val))
            ax.axvline(epochs[best], color="gray", linestyle=":", linewidth=1,
                       label=f"best validation (epoch {epochs[best]})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    if name:
        fig.suptitle(name)
    fig.tight_layout()
    return fig


def plot_histories(histories: dict[str, dict], metrics: Sequence[str], *, log_scale: Sequence[str] = ()) -> Figure:
    """Chosen metrics of several trainings per epoch, overlaid: one panel per metric, one line per run.

    ``histories`` maps a run's name to its history (a dict of lists, a Keras
    ``History`` or a :class:`~helpers.training.TrainingRun`); metrics named in
    ``log_scale`` (a learning rate, say) get a log axis.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for name, history in histories.items():
            history = getattr(history, "history", history)
            values = history.get(metric)
            if values is not None:
                ax.plot(np.arange(1, len(values) + 1), values, "o-", markersize=3, label=name)
        ax.set_title(metric + (" (log scale)" if metric in log_scale else ""))
        if metric in log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_tensorboard_scalars(log, tags: Sequence[str], *, title: str | None = None) -> Figure:
    """The scalar curves of a TensorBoard log read back from its event files, one panel per tag.

    ``log`` is the table of :func:`helpers.read_tensorboard_log`; each run (``train``,
    ``validation``, ...) is one line. Keras writes epoch values at step = epoch index
    (from 0), so the x axis shows step + 1 = the epoch. This is what the TensorBoard UI
    shows, drawn where there is no UI (headless runs, CI, stored outputs).
    """
    scalars = log[log["kind"] == "scalars"]
    fig, axes = plt.subplots(1, len(tags), figsize=(4.6 * len(tags), 3.2), squeeze=False)
    for ax, tag in zip(axes[0], tags):
        for run, points in scalars[scalars["tag"] == tag].groupby("run"):
            points = points.sort_values("step")
            ax.plot(points["step"] + 1, points["value"], "o-", markersize=3, label=run)
        ax.set_title(tag)
        ax.set_xlabel("epoch")
        ax.set_ylabel(tag.removeprefix("epoch_"))  # Keras's tags: epoch_loss, epoch_accuracy, ...
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
