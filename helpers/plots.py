"""Plots of images and datasets, shared by all notebooks.

Each function draws one figure and returns it. In a notebook, assign the result
(``fig = helpers.show_images(...)``): Jupyter's inline backend then shows the
figure once, and no ``<Figure ...>`` text is printed under it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

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
