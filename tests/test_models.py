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

import helpers
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
                namespace = {"keras": keras, "helpers": helpers}
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
    # fashion_convnet is a function in notebook 05, checked by the test below
    assert set(builders) == set(WRITTEN_OUT) | {models.fashion_convnet}



def test_fashion_convnet_is_the_network_notebook_05_writes_out():
    """helpers.fashion_convnet (timed by notebook 06 and ./course bench) is 05's build_course_network."""
    import keras

    notebook = nbformat.read(ROOT / "notebooks" / "05_fashion_mnist.ipynb", as_version=4)
    source = next(cell.source for cell in notebook.cells
                  if cell.cell_type == "code" and "def build_course_network" in cell.source)
    tree = ast.parse(source)
    definition = next(node for node in tree.body if isinstance(node, ast.FunctionDef)
                      and node.name == "build_course_network")
    namespace = {"keras": keras, "L": keras.layers, "helpers": helpers}
    exec(compile(ast.Module([definition], []), "05_fashion_mnist.ipynb", "exec"), namespace)
    for width in (16, 32):
        written, built = namespace["build_course_network"](width), models.fashion_convnet(width)
        assert written.name == built.name == f"course_net_w{width}"
        assert [type(layer) for layer in written.layers] == [type(layer) for layer in built.layers]
        assert ([{k: v for k, v in layer.get_config().items() if k != "name"} for layer in written.layers]
                == [{k: v for k, v in layer.get_config().items() if k != "name"} for layer in built.layers])
    assert models.fashion_convnet(16).count_params() == 219_162  # notebook 05's CPU-budget network
