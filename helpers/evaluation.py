"""Evaluating trained classifiers: tidy tables of metrics and the plots that read them.

Tables are pandas DataFrames (they print well in notebooks and go straight into
results files). Plot functions return a matplotlib figure and never call
``plt.show()``: in a notebook write ``fig = helpers.plot_learning_curves(run)``.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .plots import RIGHT_COLOR, WRONG_COLOR, show_images

# --------------------------------------------------------------------------- tables


def evaluate(model, splits: Mapping[str, tuple], *, batch_size: int = 512) -> pd.DataFrame:
    """Loss and accuracy of a compiled model on each named split.

    ``splits`` maps a name to ``(x, y)``, e.g. ``{"train": (x_train, y_train),
    "test": (x_test, y_test)}``. Returns one row per split with the columns
    ``model``, ``split``, ``images``, ``loss``, ``accuracy``. The model must have
    been compiled with an ``"accuracy"`` metric.
    """
    rows = []
    for split, (x, y) in splits.items():
        scores = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        accuracy = next((v for k, v in scores.items() if k.endswith("accuracy")), None)
        if accuracy is None:
            raise ValueError(f"compile {model.name!r} with metrics=['accuracy'] to evaluate it")
        rows.append(
            {"model": model.name, "split": split, "images": len(x),
             "loss": float(scores["loss"]), "accuracy": float(accuracy)}
        )
    return pd.DataFrame(rows)


def per_class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class (scikit-learn), plus averages.

    - precision of class k: of the images *predicted* k, the fraction that are k;
    - recall of class k: of the images that *are* k, the fraction predicted k;
    - F1: their harmonic mean, high only when both are high;
    - support: how many images of class k there are.

    The last two rows are the macro average (every class counts the same) and the
    accuracy (the fraction of all images classified correctly).
    """
    from sklearn.metrics import precision_recall_fscore_support

    labels = np.arange(len(class_names))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    table = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index([str(name) for name in class_names], name="class"),
    )
    table.loc["macro avg"] = [precision.mean(), recall.mean(), f1.mean(), support.sum()]
    accuracy = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    table.loc["accuracy"] = [accuracy, accuracy, accuracy, support.sum()]
    table["support"] = table["support"].astype(int)
    return table


def comparison_row(model, run, scores: pd.DataFrame) -> dict:
    """One row of a model comparison table: parameters, time and accuracies.

    ``run`` is the :class:`~helpers.training.TrainingRun` of the model and
    ``scores`` the table :func:`evaluate` returned for it (with ``train`` and
    ``test`` splits). Collect rows in a list and make a DataFrame of them.
    """
    accuracy = scores.set_index("split")["accuracy"]
    return {
        "model": model.name,
        "parameters": int(model.count_params()),
        "epochs": run.epochs,
        "seconds_per_epoch": round(run.seconds_per_epoch, 1),
        "train_seconds": round(run.total_seconds, 1),
        "train_accuracy": float(accuracy.get("train", np.nan)),
        "test_accuracy": float(accuracy.get("test", np.nan)),
    }


def most_confident_errors(
    probabilities: np.ndarray, y_true: np.ndarray, count: int = 10
) -> np.ndarray:
    """Indices of the wrong predictions the model was most sure of, most sure first."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


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


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_table(model) -> pd.DataFrame:
    """The model's layers as a table: name, type, output shape, parameters and their arithmetic.

    The ``arithmetic`` column shows where the count of a Dense, Conv2D or
    BatchNormalization layer comes from (weights + biases), e.g. ``784*10 + 10``.
    """
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        params = int(layer.count_params())
        arithmetic = ""
        weights = [tuple(int(d) for d in w.shape) for w in layer.weights]
        if params and kind == "Dense":
            (n_in, n_out), *bias = weights
            arithmetic = f"{n_in}*{n_out}" + (f" + {n_out}" if bias else "")
        elif params and kind in ("Conv2D", "Conv1D"):
            kernel, *bias = weights
            *window, c_in, c_out = kernel
            arithmetic = "*".join(map(str, window)) + f"*{c_in}*{c_out}" + (f" + {c_out}" if bias else "")
        elif params and kind == "BatchNormalization":
            names = ", ".join(w.name.split("/")[-1] for w in layer.weights)
            arithmetic = f"{len(weights)}*{weights[0][0]} ({names})"
        try:
            shape = _shape_text(layer.output.shape)
        except (AttributeError, ValueError):
            shape = "?"
        rows.append({"layer": layer.name, "type": kind, "output shape": shape,
                     "parameters": params, "arithmetic": arithmetic})
    return pd.DataFrame(rows)


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
