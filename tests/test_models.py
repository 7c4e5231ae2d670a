"""The shared model builders build exactly the models their notebooks write out.

A notebook writes out the model it teaches; ``helpers.models`` keeps a builder
only for models that later notebooks train again. This file is the one place
that keeps each pair in sync, and it checks the parameter counts against the
sources (``../shared/SOURCES.md``).
"""

import ast
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import models

ROOT = Path(__file__).resolve().parent.parent

# builder -> (notebook that writes the model out, variable it is assigned to, parameters)
WRITTEN_OUT = {
    models.dense_textbook: ("02_dense_network", "textbook", 7_960),  # source 003, verified count
    models.dense_512: ("02_dense_network", "dense", 407_050),  # source 004
    models.keras_io_convnet: ("03_convolutional_network", "keras_io", 34_826),  # keras.io, 004, 001
    models.report_final: ("03_convolutional_network", "final", 911_664),  # source 000's final model
    models.course_convnet: ("03_convolutional_network", "course", 225_706),  # this course
}


def model_from_notebook(stem: str, variable: str):
    """Run the notebook's statement ``<variable> = keras.Sequential(...)`` on its own."""
    import keras

    notebook = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code" or "keras.Sequential" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and [getattr(t, "id", None) for t in statement.targets] == [variable]
                and isinstance(statement.value, ast.Call)
                and ast.unparse(statement.value.func) == "keras.Sequential"
            ):
                namespace = {"keras": keras}
                exec(compile(ast.Module([statement], []), f"{stem}.ipynb", "exec"), namespace)
                return namespace[variable]
    raise AssertionError(f"{stem}.ipynb has no `{variable} = keras.Sequential(...)` statement")


@pytest.mark.parametrize("builder", list(WRITTEN_OUT), ids=lambda b: b.__name__)
def test_builder_builds_the_model_its_notebook_writes_out(builder):
    stem, variable, parameters = WRITTEN_OUT[builder]
    written, built = model_from_notebook(stem, variable), builder()
    assert built.name == written.name == builder.__name__
    assert [layer.get_config() for layer in built.layers] == [layer.get_config() for layer in written.layers]
    assert built.count_params() == written.count_params() == parameters


@pytest.mark.parametrize("builder", list(WRITTEN_OUT), ids=lambda b: b.__name__)
def test_builder_gives_a_fresh_uncompiled_model_with_stable_names(builder):
    import keras

    model = builder()
    assert model.compiled is False  # compiling is part of each lesson
    shape = (784,) if builder.__name__.startswith("dense") else (28, 28, 1)
    assert tuple(model.inputs[0].shape) == (None, *shape)
    probabilities = keras.ops.convert_to_numpy(model(np.zeros((2, *shape), "float32"), training=False))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # explicit names: building it again gives the same summary (auto names would count up)
    assert [layer.name for layer in builder().layers] == [layer.name for layer in model.layers]
    assert builder(num_classes=3).output_shape == (None, 3)


def test_every_builder_is_checked_against_its_notebook():
    public = [getattr(models, name) for name in dir(models) if not name.startswith("_")]
    builders = [f for f in public if callable(f) and getattr(f, "__module__", "") == models.__name__
                and f.__name__ not in ("layer_table",)]
    assert set(builders) == set(WRITTEN_OUT)

