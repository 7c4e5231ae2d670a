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


def show_signed_maps(
    maps: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    size: float = 1.3,
    suptitle: str | None = None,
    value_label: str = "value",
) -> Figure:
    """Draw 2-D arrays that can be negative (kernels, pre-activation maps) on one shared scale.

    ``maps`` is (n, height, width). Every panel uses the same symmetric diverging scale,
    from minus to plus the largest absolute value of all maps, with a colour bar: red
    is positive, blue negative, white zero. One shared scale is what makes the panels
    comparable; a scale per panel (as ``show_images`` uses) would make a weak filter
    look as strong as the strongest.
    """
    maps = np.asarray(maps, dtype="float64")
    if maps.ndim != 3:
        raise ValueError(f"show_signed_maps needs an array of 2-D maps (n, height, width); got shape {maps.shape}")
    count = len(maps)
    limit = float(np.abs(maps).max()) or 1.0
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 1.2, size * nrows * 1.15 + 0.4), squeeze=False)
    shown = None
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        shown = ax.imshow(maps[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=8)
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.85, label=value_label)
    if suptitle:
        fig.suptitle(suptitle)
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
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_augmented_samples(rows: dict[str, np.ndarray], *, title: str | None = None) -> Figure:
    """A grid of images: one row per augmentation pipeline (its name on the left), same images per column.

    ``rows`` maps a name (``"original"``, ``"light"``, ...) to images of shape
    (n, height, width) or (n, height, width, 1), the same n images in each row, so
    that each column shows what the pipelines do to one image.
    """
    count = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), count, figsize=(1.1 * count + 1.2, 1.15 * len(rows)), squeeze=False)
    for row_axes, (name, images) in zip(axes, rows.items()):
        for ax, image in zip(row_axes, images):
            ax.imshow(np.asarray(image).squeeze(), cmap="binary", vmin=0, vmax=1)
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
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
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_mean_and_spread(table, *, value: str, group: str, bars: str, ylabel: str,
                         bottom: float | None = None) -> Figure:
    """Grouped bars of the mean of ``value`` over seeds, with error bars of one standard deviation.

    ``table`` has one row per run (one seed of one configuration); ``group`` names the
    column of the groups along the x axis (e.g. the dataset), ``bars`` the column whose
    values become side-by-side bars (e.g. the augmentation). Where ``bottom`` is given
    the value axis starts there, and the axis label says so.
    """
    stats = table.groupby([group, bars], sort=False)[value].agg(["mean", "std"]).reset_index()
    groups = list(dict.fromkeys(stats[group]))
    names = list(dict.fromkeys(stats[bars]))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups) * len(names) / 2), 3.4))
    for i, name in enumerate(names):
        part = stats[stats[bars] == name].set_index(group).reindex(groups)
        positions = np.arange(len(groups)) + (i - (len(names) - 1) / 2) * width
        ax.bar(positions, part["mean"], width, yerr=part["std"].fillna(0), capsize=3, label=name)
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups)
    if bottom is not None:
        ax.set_ylim(bottom=bottom)
        ylabel += f" (axis starts at {bottom})"
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------ experiments: mean and spread over seeds (notebook 04)


def plot_comparison(
    summary,
    *,
    title: str,
    ylabel: str = "validation accuracy",
    x: str | None = None,
    group: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    bottom: float | None = None,
) -> Figure:
    """A summary of :func:`helpers.summarize_grid` drawn with error bars of one standard deviation over seeds.

    Without ``x``: one bar per variant. With ``x`` (a numeric knob column such as
    ``learning_rate``): the mean against that knob, one line per value of ``group``
    if given (e.g. the optimizer); ``log_x`` for knobs spanning orders of magnitude
    (``log_y`` for values that do, such as gradient norms).
    Where ``bottom`` is given the value axis starts there, and the axis label says so.
    """
    fig, ax = plt.subplots(figsize=(7.5 if x else max(5.0, 0.75 * len(summary) + 1.5), 3.4))
    if x is None:
        positions = np.arange(len(summary))
        ax.bar(positions, summary["mean"], yerr=summary["std"], capsize=4, color="tab:blue", alpha=0.8)
        ax.set_xticks(positions, [str(v) for v in summary.index], rotation=30 if len(summary) > 5 else 0,
                      ha="right" if len(summary) > 5 else "center")
    else:
        groups = summary.groupby(group, sort=False) if group else [(None, summary)]
        for name, part in groups:
            part = part.sort_values(x)
            ax.errorbar(part[x], part["mean"], yerr=part["std"], fmt="o-", capsize=3, markersize=4,
                        label=None if name is None else str(name))
        ax.set_xlabel(x + (" (log scale)" if log_x else ""))
        if log_x:
            ax.set_xscale("log")
        if group:
            ax.legend(fontsize=8, ncol=2)
    if log_y:
        ax.set_yscale("log")
        ylabel += " (log scale)"
    if bottom is not None:
        ax.set_ylim(bottom=bottom)
        ylabel += f" (axis starts at {bottom})"
    ax.set_ylabel(ylabel)
    ax.set_title(title + "\nmean over seeds, error bars: one standard deviation", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_grid_curves(grid, variants: Sequence[str], *, metric: str = "loss", title: str = "",
                     log_y: bool = False) -> Figure:
    """Per-epoch ``metric`` of chosen variants of a :class:`helpers.GridRuns`, overlaid.

    One line per variant (the mean over its seeds) and a band of one standard
    deviation around it: learning curves with their noise.
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for name in variants:
        curves = [h[metric] for (variant, _), h in grid.histories.items() if variant == name and metric in h]
        length = min(map(len, curves))
        values = np.array([c[:length] for c in curves], dtype=float)
        epochs = np.arange(1, length + 1)
        mean = values.mean(axis=0)
        std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(length)
        ax.plot(epochs, mean, "o-", markersize=3, label=f"{name} ({len(values)} seeds)")
        ax.fill_between(epochs, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric + (" (log scale)" if log_y else ""))
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title + "\nmean over seeds, band: one standard deviation", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_frontier(table, *, x: str, y: str, label: str, title: str, xlabel: str, ylabel: str,
                  reference: float | None = None, reference_label: str = "") -> Figure:
    """Accuracy against cost: one point per row of ``table``, the best-so-far frontier joined by a line.

    A point is on the frontier when no cheaper row (smaller ``x``) has a higher ``y``:
    those are the designs worth their cost. ``x`` is drawn on a log axis (costs span
    orders of magnitude); the ``y`` axis says where it starts. ``reference`` draws a
    horizontal line (a result to beat).
    """
    data = table.sort_values(x)
    frontier = data[data[y] >= data[y].cummax()]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.scatter(data[x], data[y], color="tab:gray", zorder=2)
    ax.plot(frontier[x], frontier[y], "o-", color="tab:blue", zorder=3, label="frontier: nothing cheaper is better")
    for _, row in data.iterrows():
        ax.annotate(str(row[label]), (row[x], row[y]), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if reference is not None:
        ax.axhline(reference, color="tab:red", linestyle="--", linewidth=1, label=reference_label)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel + " (log scale)")
    ax.set_ylabel(f"{ylabel} (axis starts at {ax.get_ylim()[0]:.2f})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_occlusion_maps(images: np.ndarray, maps: np.ndarray, titles: Sequence[str], *,
                        suptitle: str | None = None, limit: float | None = None,
                        value_label: str = "drop in log-probability") -> Figure:
    """Each image above its occlusion map, on one symmetric diverging scale with a colour bar.

    ``maps[i]`` holds, for every pixel, how much the model's belief in the class in
    question *drops* when a patch around that pixel is hidden (``value_label`` says in
    what: probability or log-probability): red means the pixel supported the answer,
    blue that hiding it made the answer more likely. The scale runs from ``-limit`` to
    ``limit`` (default: the largest absolute value), so that two figures can share it.
    """
    count = len(images)
    limit = float(limit if limit is not None else np.abs(maps).max()) or 1.0
    fig, axes = plt.subplots(2, count, figsize=(1.9 * count + 1.0, 4.3), squeeze=False)
    shown = None
    for i in range(count):
        axes[0, i].imshow(np.asarray(images[i]).squeeze(), cmap="binary", vmin=0, vmax=1)
        axes[0, i].set_title(titles[i], fontsize=8)
        axes[1, i].imshow(np.asarray(images[i]).squeeze(), cmap="gray_r", vmin=0, vmax=1, alpha=0.35)
        shown = axes[1, i].imshow(maps[i], cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.8)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel(value_label.replace(" ", "\n", 1) + "\nwhen hidden", fontsize=8)
    fig.colorbar(shown, ax=axes[1, :].tolist(), shrink=0.9, label=value_label)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig
