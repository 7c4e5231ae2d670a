"""Every figure of the course: images, datasets, learning curves, predictions, models.

One rule: a function that draws returns a matplotlib ``Figure`` and lives here.
It never calls ``plt.show()``; in a notebook assign the result
(``fig = helpers.plot_learning_curves(run)``): Jupyter's inline backend then shows
the figure once, and no ``<Figure ...>`` text is printed under it. The numbers a
figure shows are computed elsewhere (``evaluation``, ``training``) or by sklearn.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .evaluation import most_confident_errors
from .models import _shape_text, layer_table

RIGHT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"


def show_images(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 10,
    title_colors: Sequence[str] | None = None,
    size: float = 1.2,
    suptitle: str | None = None,
) -> Figure:
    """Draw a grid of grayscale images, optionally with a (coloured) title each.

    ``images`` may be (n, 28, 28), (n, 28, 28, 1) or flattened (n, 784): the
    grid only needs to know that each image is square. ``title_colors`` colours
    each title, e.g. green for right and red for wrong predictions.
    """
    images = np.asarray(images)
    count = len(images)
    side = int(round(np.sqrt(images[0].size)))
    if side * side != images[0].size:
        raise ValueError(f"show_images needs square images; got {images[0].shape}")
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        ax.imshow(images[index].reshape(side, side), cmap="binary")
        if titles is not None:
            color = title_colors[index] if title_colors is not None else "black"
            ax.set_title(str(titles[index]), fontsize=8, color=color)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_class_counts(
    y_train: np.ndarray, y_test: np.ndarray, class_names: Sequence[str]
) -> Figure:
    """Bar charts of how many images each class has, train and test side by side.

    A balanced dataset has bars of about equal height: then accuracy is a fair
    summary and a random split keeps every class represented.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    positions = np.arange(len(class_names))
    for ax, labels, split in zip(axes, (y_train, y_test), ("train", "test")):
        counts = np.bincount(labels, minlength=len(class_names))
        bars = ax.bar(positions, counts, color="tab:blue")
        ax.bar_label(bars, fontsize=7)
        ax.axhline(len(labels) / len(class_names), color="gray", linestyle="--", linewidth=1)
        ax.set_xticks(positions, class_names, rotation=45, ha="right")
        ax.set_title(f"{split}: {len(labels):,} images (dashed line: equal shares)")
        ax.set_ylabel("images")
    fig.tight_layout()
    return fig


def show_class_means(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> Figure:
    """Draw the average image of each class: what a 'typical' example looks like."""
    means = np.stack([images[labels == k].mean(axis=0) for k in range(len(class_names))])
    return show_images(means, list(class_names), ncols=len(class_names), size=1.3,
                       suptitle="mean image per class")


# --------------------------------------------------------------------------- plots


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
        ax.set_xticks(labels, class_names, rotation=45 if len(max(map(str, class_names), key=len)) > 2 else 0,
                      ha="right" if len(max(map(str, class_names), key=len)) > 2 else "center", fontsize=8)
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
    ax_bars.set_xticks(positions, class_names, fontsize=8,
                       rotation=45 if len(max(map(str, class_names), key=len)) > 2 else 0)
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


# --------------------------------------------------------------------- model drawing


_LAYER_COLORS = {
    "Conv2D": "#8ecae6", "MaxPooling2D": "#ffb703", "Dense": "#90be6d", "Dropout": "#dddddd",
    "Flatten": "#f4a261", "BatchNormalization": "#cdb4db", "Activation": "#f1faee",
    "LeakyReLU": "#f1faee",
}


def _draw_layer_stack(model, title: str | None = None) -> Figure:
    """Matplotlib drawing of a sequential model: one box per layer, top to bottom."""
    table = layer_table(model)
    input_shape = _shape_text(model.inputs[0].shape) if getattr(model, "inputs", None) else "?"
    boxes = [("Input", "input", input_shape, 0)] + list(
        zip(table["type"], table["layer"], table["output shape"], table["parameters"])
    )
    height = 0.42 * len(boxes) + 0.6
    fig, ax = plt.subplots(figsize=(5.6, height))
    ax.set_xlim(0, 1)
    ax.set_ylim(len(boxes) - 0.4, -0.8)
    ax.axis("off")
    for row, (kind, name, shape, params) in enumerate(boxes):
        ax.add_patch(plt.Rectangle((0.08, row - 0.3), 0.84, 0.6, facecolor=_LAYER_COLORS.get(kind, "#ffffff"),
                                   edgecolor="black", linewidth=0.8))
        label = f"{name}: {kind}   out {shape}" + (f"   {params:,} params" if params else "")
        ax.text(0.5, row, label, ha="center", va="center", fontsize=7.5, family="monospace")
        if row:
            ax.annotate("", xy=(0.5, row - 0.3), xytext=(0.5, row - 0.7),
                        arrowprops={"arrowstyle": "->", "linewidth": 0.8})
    ax.set_title(title or f"{model.name}: {model.count_params():,} parameters", fontsize=10)
    fig.tight_layout()
    return fig


def can_plot_model() -> bool:
    """True when ``keras.utils.plot_model`` can work: pydot and Graphviz's ``dot`` exist."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def draw_model(model, *, use_graphviz: bool | None = None, dpi: int = 72) -> Figure:
    """A drawing of the model's layers, with shapes, returned as a matplotlib figure.

    Uses ``keras.utils.plot_model`` when pydot and the Graphviz program ``dot``
    are installed (``use_graphviz=None`` decides by itself). Otherwise, or if that
    fails, it falls back to a matplotlib drawing of the layer stack, which shows
    the same structure for sequential models.
    """
    if use_graphviz is None:
        use_graphviz = can_plot_model()
    if use_graphviz:
        import keras

        try:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.png")
                keras.utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True,
                                       show_layer_activations=True, dpi=dpi)
                with open(path, "rb") as handle:
                    picture = plt.imread(io.BytesIO(handle.read()), format="png")
            height, width = picture.shape[:2]
            fig, ax = plt.subplots(figsize=(width / dpi, height / dpi))
            ax.imshow(picture)
            ax.axis("off")
            fig.tight_layout()
            return fig
        except Exception as error:  # noqa: BLE001 - any failure means: draw it ourselves
            print(f"plot_model failed ({type(error).__name__}: {error}); drawing the layer stack instead")
    return _draw_layer_stack(model)
