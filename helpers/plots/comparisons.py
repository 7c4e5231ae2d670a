"""Figures that compare configurations: means over seeds with one standard deviation (bars,
lines against a knob, learning curves with a band), and accuracy against cost.

The numbers come from ``helpers.experiments`` (:func:`helpers.summarize_grid`,
:class:`helpers.GridRuns`) or, for :func:`plot_mean_and_spread`, from one row per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter


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


def plot_comparison(
    summary,
    *,
    title: str,
    ylabel: str = "validation accuracy",
    x: str | None = None,
    group: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    bottom: float | Literal["auto"] | None = "auto",
) -> Figure:
    """A summary of :func:`helpers.summarize_grid` drawn with error bars of one standard deviation over seeds.

    Without ``x``: one bar per variant. With ``x`` (a numeric knob column such as
    ``learning_rate``): the mean against that knob, one line per value of ``group``
    if given (e.g. the optimizer), with a tick at every value of the knob; ``log_x``
    for knobs spanning orders of magnitude (``log_y`` for values that do, such as
    gradient norms). The value axis starts at ``bottom``, and the axis label says where
    unless it is 0: ``"auto"`` (the default) starts it just below the lowest error bar,
    at a multiple of 0.05, so that differences of a point or two can be seen; ``None``
    at 0 (on a log axis: where matplotlib puts it).
    """
    fig, ax = plt.subplots(figsize=(7.5 if x else max(5.0, 0.75 * len(summary) + 1.5), 3.4))
    if x is None:
        positions = np.arange(len(summary))
        ax.bar(positions, summary["mean"], yerr=summary["std"], capsize=4, color="tab:blue", alpha=0.8)
        labels = [str(v) for v in summary.index]
        crowded = len(labels) > 5 or max(map(len, labels), default=0) > 9  # wider than a bar's 0.75 inch
        ax.set_xticks(positions, labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")
    else:
        groups = summary.groupby(group, sort=False) if group else [(None, summary)]
        for name, part in groups:
            part = part.sort_values(x)
            ax.errorbar(part[x], part["mean"], yerr=part["std"], fmt="o-", capsize=3, markersize=4,
                        label=None if name is None else str(name))
        ax.set_xlabel(x + (" (log scale)" if log_x else ""))
        if log_x:
            ax.set_xscale("log")
        knob_values = sorted(set(summary[x]))
        if len(knob_values) <= 12:  # a tick at every value tried (16, 32, ... 512), none between
            ax.set_xticks(knob_values, [f"{v:g}" for v in knob_values])
            ax.xaxis.set_minor_formatter(NullFormatter())
        if group:
            ax.legend(fontsize=8, ncol=2)
    if log_y:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
        ylabel += " (log scale)"
    if log_y:  # a log axis cannot start at 0: matplotlib places it unless told
        start = None if bottom in ("auto", None) else float(bottom)
    else:
        start = _axis_start(summary, bottom)
    if start is not None:
        ax.set_ylim(bottom=start)
        if start != 0:
            ylabel += f" (axis starts at {start:g})"
    ax.set_ylabel(ylabel)
    ax.set_title(title + "\nmean over seeds, error bars: one standard deviation", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _axis_start(summary, bottom: float | Literal["auto"] | None) -> float:
    """Where the value axis of :func:`plot_comparison` starts: ``bottom``, 0, or for "auto"
    a multiple of 0.05 a little below the lowest error bar (0 when that is 0.05 or less)."""
    if bottom is None:
        return 0.0
    if bottom != "auto":
        return float(bottom)
    low = float((summary["mean"] - summary["std"].fillna(0)).min())
    high = float((summary["mean"] + summary["std"].fillna(0)).max())
    start = np.floor((low - 0.1 * (high - low)) / 0.05) * 0.05
    return round(float(start), 2) if start > 0.05 else 0.0


def _plain_log_labels(axis: Axis) -> None:
    """Label a log axis with plain numbers (0.01, 3, 200), not powers of ten (3×10⁰); its minor
    ticks (2, 3, ... 9 times a power of ten) only where the axis spans less than two decades,
    where there would otherwise be one label or none."""

    def minor(value: float, _position: int) -> str:
        low, high = sorted(axis.get_view_interval())
        return f"{value:g}" if low > 0 and high / low < 100 else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
    ax.set_ylabel(metric + (" (log scale)" if log_y else ""))
    if log_y:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
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
