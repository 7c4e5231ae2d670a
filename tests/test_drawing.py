"""helpers.drawing: strokes to pixels, MNIST-style preprocessing, and what the drawing pad shows."""

import numpy as np
import pytest

import helpers
from helpers import drawing


def centre_of_mass(image):
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def test_render_strokes_draws_a_round_pen_where_the_strokes_go():
    ink = helpers.render_strokes([[(40, 50), (240, 50)]], width=20)
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert ink[50, 140] == 1.0 and ink[50, 35] == 1.0  # on the line, and inside the round cap
    assert ink[50, 25] == 0.0 and ink[75, 140] == 0.0  # beyond the cap, beyond half the width
    dot = helpers.render_strokes([[(100, 100)]], width=10)
    assert dot[100, 100] == 1.0 and dot.sum() == pytest.approx(np.pi * 5**2, rel=0.05)  # a disc of the pen's width
    assert not drawing.has_ink(helpers.render_strokes([]))


def test_preprocessing_fits_the_digit_in_20x20_and_centres_its_mass():
    # a small, thin "1" far in the top-left corner of the canvas
    ink = helpers.render_strokes([[(30, 20), (30, 90)]], width=8)
    image = helpers.preprocess_drawing(ink)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() == 0.0 and image.max() == 1.0
    rows, columns = np.nonzero(image > 0)
    assert rows.max() - rows.min() + 1 == 20  # the longer side is scaled to 20 pixels
    assert columns.max() - columns.min() + 1 < 6  # the aspect ratio is kept: still a thin stroke
    assert centre_of_mass(image) == pytest.approx((14.0, 14.0), abs=0.5 + 1e-5)  # where MNIST puts it, by whole pixels


def test_preprocessing_gives_the_same_image_wherever_and_however_large_the_digit_is():
    seven = [[(75, 55), (205, 55), (115, 235)]]
    small_in_corner = [[(x * 0.4, y * 0.4) for x, y in seven[0]]]
    big = helpers.preprocess_drawing(helpers.render_strokes(seven, width=18))
    small = helpers.preprocess_drawing(helpers.render_strokes(small_in_corner, width=18 * 0.4))
    assert np.abs(big - small).mean() < 0.05
    # without the preprocessing the two are far apart: that is the lesson
    assert np.abs(helpers.naive_28x28(helpers.render_strokes(seven)) -
                  helpers.naive_28x28(helpers.render_strokes(small_in_corner))).mean() > 0.05


def test_an_empty_drawing_is_refused_with_the_pads_message():
    with pytest.raises(helpers.EmptyDrawingError, match="Draw a digit first"):
        helpers.preprocess_drawing(np.zeros((280, 280)))
    with pytest.raises(ValueError, match="2-D"):
        helpers.preprocess_drawing(np.ones((2, 28, 28)))


def test_naive_28x28_only_averages_blocks():
    ink = np.zeros((280, 280), dtype=np.float32)
    ink[:10, :10] = 1.0
    small = helpers.naive_28x28(ink)
    assert small[0, 0] == 1.0 and small.sum() == 1.0
    with pytest.raises(ValueError, match="multiple of 28"):
        helpers.naive_28x28(np.zeros((100, 100)))


class ReadsOneDigit:
    """A stand-in model: returns fixed probabilities whatever the image (enough for the bookkeeping)."""

    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities, dtype=np.float32)
        self.batches = []

    def __call__(self, batch, training=False):
        self.batches.append(np.asarray(batch))
        return np.tile(self.probabilities, (len(batch), 1))


def test_read_drawing_asks_about_the_preprocessed_and_the_only_shrunk_image():
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    model = ReadsOneDigit(probabilities)
    ink = helpers.render_strokes([[(75, 55), (205, 55), (115, 235)]])
    reading = helpers.read_drawing(model, ink, threshold=0.9)
    (batch,) = model.batches
    assert batch.shape == (2, 28, 28, 1) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0, :, :, 0], helpers.preprocess_drawing(ink))
    np.testing.assert_array_equal(batch[1, :, :, 0], helpers.naive_28x28(ink))
    assert reading.digit == 7 and reading.confidence == pytest.approx(0.82)
    assert reading.uncertain and "uncertain" in reading.summary()
    assert not helpers.read_drawing(model, ink, threshold=0.5).uncertain


def test_the_pad_shows_a_message_for_an_empty_canvas_and_a_prediction_otherwise():
    probabilities = np.full(10, 0.01)
    probabilities[1] = 0.91
    model = ReadsOneDigit(probabilities)
    assert drawing.pad_view(model, [], 0.5) == {"message": "Draw a digit first.", "digit": None}
    assert model.batches == []  # no prediction for nothing
    view = drawing.pad_view(model, [[(140, 45), (140, 235)]], 0.5)
    assert view["digit"] == 1 and not view["uncertain"]
    assert len(view["probabilities"]) == 10 and len(view["processed"]) == len(view["naive"]) == 784
    assert drawing.pad_view(model, [[(140, 45), (140, 235)]], 0.95)["uncertain"]


def test_the_pad_widget_reads_the_strokes_it_is_sent():
    pytest.importorskip("anywidget")
    probabilities = np.full(10, 0.01)
    probabilities[4] = 0.91
    pad = helpers.drawing_pad(ReadsOneDigit(probabilities), threshold=0.5)
    assert pad.view["message"] == "Draw a digit first."
    pad.strokes = [[[160, 45], [70, 170], [200, 170]], [[160, 45], [160, 240]]]  # what the browser sends
    assert pad.view["digit"] == 4
    pad.strokes = []
    assert pad.view["digit"] is None
    # where nothing renders widgets (nbval, papermill), the notebook shows this one line
    assert repr(pad).startswith("The drawing pad needs JupyterLab, Colab or VS Code")
    assert "fetch(" not in drawing._PAD_ESM and "http" not in drawing._PAD_ESM  # no network request from the page
