"""Figures of the images themselves: grids of digits and garments, class means and counts,
maps on a diverging scale (kernels, feature maps, occlusion maps), augmented samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure



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
