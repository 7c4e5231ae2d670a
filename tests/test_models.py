"""The model builders reproduce the sources' architectures, parameter counts included."""

import numpy as np
import pytest

import helpers
from helpers import models

EXPECTED_PARAMETERS = {
    "dense_textbook": 7_960,
    "dense_512": 407_050,
    "keras_io_convnet": 34_826,
    "report_model1": 46_922,
    "report_model2": 35_338,
    "report_model3": 844_170,
    "report_final": 911_664,
    "report_final_leaky": 911_664,
    "course_convnet": 225_706,
}


def test_every_builder_has_a_checked_parameter_count():
    assert set(EXPECTED_PARAMETERS) == set(models.BUILDERS)
    for name, count in models.SOURCE_PARAMETER_COUNTS.items():
        assert EXPECTED_PARAMETERS[name] == count


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_parameter_count_names_and_output(name):
    import keras

    model = helpers.build_model(name)
    assert model.name == name
    assert model.count_params() == EXPECTED_PARAMETERS[name]
    assert model.compiled is False  # compiling is part of each lesson
    shape = (784,) if name.startswith("dense") else (28, 28, 1)
    assert tuple(model.inputs[0].shape) == (None, *shape)
    assert model.output_shape == (None, 10)
    probabilities = keras.ops.convert_to_numpy(model(np.zeros((2, *shape), "float32"), training=False))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # explicit names: building it again gives the same summary (auto names would count up)
    again = helpers.build_model(name)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]


def test_every_builder_docstring_names_its_source_and_result():
    for name, builder in models.BUILDERS.items():
        doc = builder.__doc__ or ""
        assert f"{EXPECTED_PARAMETERS[name]:,}" in doc, name
        assert any(word in doc for word in ("textbook", "report", "keras.io", "course")), name


def test_the_report_progression_is_labelled_as_a_reconstruction():
    for builder in (models.report_model1, models.report_model2, models.report_model3):
        assert "OUR RECONSTRUCTION" in builder.__doc__


def test_leaky_variant_differs_only_in_its_activations():
    relu, leaky = models.report_final(), models.report_final_leaky()
    kinds = [type(layer).__name__ for layer in leaky.layers]
    assert kinds.count("LeakyReLU") == 5
    assert [l.name for l in relu.layers] == [l.name for l in leaky.layers if type(l).__name__ != "LeakyReLU"]


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ValueError, match="dense_textbook"):
        helpers.build_model("resnet")
