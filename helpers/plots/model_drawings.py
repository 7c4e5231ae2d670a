"""Drawings of a model's layers: Keras's ``plot_model`` where Graphviz is installed, otherwise
a matplotlib drawing of the layer stack with the same shapes.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..models import _shape_text, layer_table


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
