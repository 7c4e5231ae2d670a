"""Figures of what a classifier predicts: confusion matrices, one image's probabilities,
grids of right and wrong predictions, the most confident mistakes, confidence histograms,
and how a student's drawings were read (notebook 07).

Right is green and wrong is red in every one of them (``RIGHT_COLOR``, ``WRONG_COLOR``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..evaluation import most_confident_errors
from .images import show_images

RIGHT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"


def _slanted(class_names: Sequence[str]) -> bool:
    """Whether class names along an x axis are written slanted: when one is longer than 2 characters."""
    return len(max(map(str, class_names), key=len)) > 2


def plot_confusion_matrices(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], *, title: str | None = None
) -> Figure:
    """The confusion matrix twice: raw counts, and normalized so that each row sums to 1.

    Row = true class, column = predicted class. The diagonal holds the correct
    predictions. In the normalized matrix the diagonal is each class's recall.
    """
    from sklearn.metrics import confusion_matrix

    labels = np.arange(len(class_names))
    raw = confusion_matrix(y_true, y_pred, labels=labels)
    normalized = raw / np.maximum(raw.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.42 * len(class_names) + 1.2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size))
    for ax, matrix, fmt, heading in (
        (axes[0], raw, "d", "counts"),
        (axes[1], normalized, ".2f", "normalized by row (recall on the diagonal)"),
    ):
        # a log-like colour scale for counts, so that small off-diagonal errors show
        shown = np.log1p(matrix) if fmt == "d" else np.sqrt(matrix)
        ax.imshow(shown, cmap="Blues")
        threshold = shown.max() / 2
        for i in labels:
            for j in labels:
                value = matrix[i, j]
                if value == 0 or (fmt != "d" and value < 0.005):  # would print as .00
                    continue
                text = format(value, fmt) if fmt == "d" else f"{value:.2f}".lstrip("0")
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] > threshold else "black")
        slanted = _slanted(class_names)
        ax.set_xticks(labels, class_names, rotation=45 if slanted else 0, ha="right" if slanted else "center",
                      fontsize=8)
        ax.set_yticks(labels, class_names, fontsize=8)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(heading, fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_prediction(
    image: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    *,
    true_label: int | None = None,
) -> Figure:
    """One image next to the bar chart of the probabilities the model gives each class.

    The predicted class's bar is green when it is right and red when it is wrong;
    the true class's bar is outlined.
    """
    image = np.asarray(image)
    probabilities = np.asarray(probabilities, dtype=float)
    side = int(round(math.sqrt(image.size)))
    predicted = int(np.argmax(probabilities))
    fig, (ax_image, ax_bars) = plt.subplots(
        1, 2, figsize=(8, 2.6), gridspec_kw={"width_ratios": [1, 2.4]}
    )
    ax_image.imshow(image.reshape(side, side), cmap="binary")
    ax_image.axis("off")
    right = true_label is None or predicted == true_label
    heading = f"predicted {class_names[predicted]} ({probabilities[predicted]:.1%})"
    if true_label is not None:
        heading += f"\ntrue {class_names[true_label]}"
    ax_image.set_title(heading, fontsize=9, color=RIGHT_COLOR if right else WRONG_COLOR)
    positions = np.arange(len(class_names))
    colors = ["lightgray"] * len(class_names)
    colors[predicted] = RIGHT_COLOR if right else WRONG_COLOR
    bars = ax_bars.bar(positions, probabilities, color=colors)
    if true_label is not None:
        bars[true_label].set_edgecolor("black")
        bars[true_label].set_linewidth(1.5)
    ax_bars.set_ylim(0, 1.05)
    ax_bars.set_xticks(positions, class_names, fontsize=8, rotation=45 if _slanted(class_names) else 0)
    ax_bars.set_ylabel("probability")
    ax_bars.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_prediction_grid(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    *,
    count: int = 30,
    ncols: int = 10,
    suptitle: str | None = None,
) -> Figure:
    """The first ``count`` images titled "predicted (true)", green when right, red when wrong."""
    count = min(count, len(images))
    y_true = np.asarray(y_true)[:count]
    y_pred = np.asarray(y_pred)[:count]
    titles = [
        f"{class_names[p]}" if p == t else f"{class_names[p]} ({class_names[t]})"
        for p, t in zip(y_pred, y_true)
    ]
    colors = [RIGHT_COLOR if p == t else WRONG_COLOR for p, t in zip(y_pred, y_true)]
    wrong = int(np.sum(y_pred != y_true))
    heading = suptitle or f"{count} test images: {wrong} wrong (red: predicted (true))"
    return show_images(images[:count], titles, ncols=ncols, title_colors=colors, suptitle=heading)


def plot_confident_errors(
    images: np.ndarray,
    probabilities: np.ndarray,
    y_true: np.ndarray,
    class_names: Sequence[str],
    *,
    count: int = 10,
    ncols: int = 10,
    suptitle: str | None = None,
) -> Figure:
    """The wrong predictions the model was most sure of: "predicted p% (true)"."""
    probabilities = np.asarray(probabilities)
    indices = most_confident_errors(probabilities, y_true, count)
    if len(indices) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no wrong predictions", ha="center", va="center")
        return fig
    predicted = probabilities.argmax(axis=1)
    titles = [
        f"{class_names[predicted[i]]} {probabilities[i, predicted[i]]:.0%}\n(true {class_names[y_true[i]]})"
        for i in indices
    ]
    heading = suptitle or f"the {len(indices)} most confident mistakes"
    return show_images(np.asarray(images)[indices], titles, ncols=min(ncols, len(indices)),
                       title_colors=[WRONG_COLOR] * len(indices), size=1.3, suptitle=heading)


def plot_drawing_readings(drawings: dict[str, np.ndarray], readings: dict) -> Figure:
    """For each drawing: the canvas, the drawing only shrunk to 28x28, and the MNIST-style 28x28, with readings.

    ``drawings`` maps a name to a canvas image (ink high), ``readings`` the same names
    to :class:`helpers.drawing.Reading` objects. Shown as MNIST is, white on black; a
    title is green when the reading is the digit the name starts with, red otherwise.
    """
    names = list(drawings)
    fig, axes = plt.subplots(3, len(names), figsize=(1.9 * len(names), 6.4), squeeze=False)
    row_labels = ["drawn (280x280)", "only shrunk (28x28)", "preprocessed (28x28)"]
    for column, name in enumerate(names):
        reading = readings[name]
        expected = name[0]
        for row, (image, digit, probability) in enumerate([
            (drawings[name], None, None),
            (reading.naive, reading.naive_digit, reading.naive_probabilities.max()),
            (reading.processed, reading.digit, reading.confidence),
        ]):
            ax = axes[row, column]
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if digit is None:
                ax.set_title(name, fontsize=9)
            else:
                uncertain = row == 2 and reading.uncertain
                label = f"read as {digit} ({probability:.0%})" + ("\nuncertain" if uncertain else "")
                color = RIGHT_COLOR if str(digit) == expected else WRONG_COLOR
                ax.set_title(label, fontsize=9, color=color)
            if column == 0:
                ax.set_ylabel(row_labels[row], fontsize=9)
    fig.tight_layout()
    return fig


def plot_confidence(top_probabilities: np.ndarray, right: np.ndarray, threshold: float) -> Figure:
    """Histograms of the top probability for right and wrong predictions, with the "uncertain" threshold.

    The y axis is logarithmic: right predictions outnumber wrong ones by far.
    """
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bins = np.linspace(0.0, 1.0, 41)
    ax.hist(top_probabilities[right], bins=bins, color=RIGHT_COLOR, alpha=0.6, label=f"read right ({right.sum():,})")
    ax.hist(top_probabilities[~right], bins=bins, color=WRONG_COLOR, alpha=0.8,
            label=f"read wrong ({(~right).sum():,})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("top probability (the model's confidence)")
    ax.set_ylabel("validation images (log scale)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
