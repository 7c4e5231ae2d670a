"""The training call, the metrics tables and the drawings, on tiny hand-made data."""

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import helpers


def tiny_model():
    import keras

    model = keras.Sequential(
        [keras.Input(shape=(4,), name="x"), keras.layers.Dense(3, activation="softmax", name="out")],
        name="tiny",
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def tiny_data(n=40):
    rng = np.random.default_rng(0)
    return rng.random((n, 4), dtype="float32"), rng.integers(0, 3, n)


def test_train_records_history_and_one_time_per_epoch(capsys):
    helpers.set_seed(0)
    x, y = tiny_data()
    run = helpers.train(tiny_model(), x, y, epochs=3, batch_size=8, validation_split=0.25)
    assert isinstance(run, helpers.TrainingRun)
    assert run.name == "tiny" and run.epochs == 3 and len(run.epoch_seconds) == 3
    assert all(seconds > 0 for seconds in run.epoch_seconds)
    assert run.total_seconds >= sum(run.epoch_seconds) * 0.99
    assert run.seconds_per_epoch == pytest.approx(np.mean(run.epoch_seconds[1:]))
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in run.history.values())
    assert run.train_images == 30 and run.batch_size == 8
    assert run.best_epoch("val_loss") == 1 + int(np.argmin(run.history["val_loss"]))
    printed = capsys.readouterr().out
    assert printed.count("Epoch ") == 3 and "tiny: 3 epochs in" in printed  # verbose=2: a line per epoch


def test_best_epoch_is_the_first_epoch_with_the_lowest_loss_or_highest_accuracy():
    history = {"val_loss": [0.9, 0.4, 0.6, 0.4], "val_accuracy": [0.5, 0.7, 0.9, 0.8], "loss": [3.0, 2.0, 1.0, 0.5]}
    run = helpers.TrainingRun("hand-made", history, epoch_seconds=[1.0] * 4, total_seconds=4.0, batch_size=8,
                              train_images=32)
    assert run.best_epoch() == 2  # val_loss; the tie at epoch 4 goes to the earlier epoch
    assert run.best_epoch("val_accuracy") == 3
    assert run.best_epoch("loss") == 4


def test_train_refuses_ambiguous_validation_and_uncompiled_models():
    import keras

    x, y = tiny_data()
    with pytest.raises(ValueError, match="not both"):
        helpers.train(tiny_model(), x, y, epochs=1, validation_split=0.1, validation_data=(x, y))
    bare = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)], name="bare")
    with pytest.raises(ValueError, match="compile"):
        helpers.train(bare, x, y, epochs=1)


def test_nearest_centroid_labels_images_by_the_closest_class_mean_silently():
    # two classes of 2x2 images; the corner pixel is 0 in every image (scikit-learn warns of that)
    images = np.array([[[0, 1], [1, 1]], [[0, 3], [3, 3]], [[0, 9], [9, 9]], [[0, 11], [11, 11]]], dtype=float)
    labels = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = helpers.nearest_centroid(images, labels)
    np.testing.assert_array_equal(model[-1].centroids_, [[0, 2, 2, 2], [0, 10, 10, 10]])
    queries = np.array([[[0, 5], [5, 5]], [[0, 7], [7, 7]], [[0, 6], [6, 5]]], dtype=float)
    # squared distances to the means: 27 vs 75; 75 vs 27; 41 vs 57 (a pixel off by one)
    np.testing.assert_array_equal(model.predict(queries), [0, 1, 0])
    assert model.score(queries, np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_per_class_metrics_on_a_hand_made_example():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 0])
    table = helpers.per_class_metrics(y_true, y_pred, ["a", "b", "c"])
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    assert list(table.index) == ["a", "b", "c", "accuracy", "macro avg", "weighted avg"]
    # class a: predicted 4 times, 3 right -> precision 3/4; 4 true a, 3 found -> recall 3/4
    assert table.loc["a", "precision"] == pytest.approx(3 / 4)
    assert table.loc["a", "recall"] == pytest.approx(3 / 4)
    assert table.loc["b", "precision"] == pytest.approx(2 / 3) and table.loc["b", "recall"] == 1.0
    assert table.loc["b", "f1"] == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert table.loc["c", "precision"] == 1.0 and table.loc["c", "recall"] == 0.5
    assert table["support"].tolist() == [4, 2, 2, 8, 8, 8]
    assert table.loc["accuracy", "precision"] == pytest.approx(6 / 8)
    assert table.loc["macro avg", "recall"] == pytest.approx((3 / 4 + 1 + 0.5) / 3)
    assert table.loc["weighted avg", "recall"] == pytest.approx(6 / 8)  # support-weighted recall = accuracy


def test_evaluate_and_comparison_row():
    helpers.set_seed(0)
    x, y = tiny_data()
    model = tiny_model()
    run = helpers.train(model, x, y, epochs=2, batch_size=8, verbose=0)
    scores = helpers.evaluate(model, {"train": (x, y), "test": (x[:10], y[:10])})
    assert list(scores.columns) == ["model", "split", "images", "loss", "accuracy"]
    assert scores["split"].tolist() == ["train", "test"] and scores["images"].tolist() == [40, 10]
    predicted = np.asarray(model.predict(x, verbose=0)).argmax(axis=1)
    assert scores.loc[0, "accuracy"] == pytest.approx(np.mean(predicted == y))
    row = helpers.comparison_row(model, run, scores)
    assert row["model"] == "tiny" and row["parameters"] == 15 and row["epochs"] == 2
    assert row["test_accuracy"] == scores.loc[1, "accuracy"]
    assert pd.DataFrame([row]).shape == (1, 7)


def test_most_confident_errors_orders_wrong_predictions_by_confidence():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95]])
    y_true = np.array([0, 0, 1, 0])  # rows 1, 2, 3 are wrong, with confidence 0.8, 0.6, 0.95
    assert helpers.most_confident_errors(probabilities, y_true, 5).tolist() == [3, 1, 2]
    assert helpers.most_confident_errors(probabilities, y_true, 1).tolist() == [3]


def titles(fig) -> list[str]:
    """The titles of a figure's panels that show an image, in grid order."""
    return [ax.get_title() for ax in fig.axes if ax.get_images()]


def test_learning_curves_draw_both_curves_and_mark_the_best_validation_epoch():
    import matplotlib.pyplot as plt

    history = {"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 0.8, 0.9],
               "val_loss": [0.9, 0.7, 0.8], "val_accuracy": [0.6, 0.7, 0.75]}
    fig = helpers.plot_learning_curves(history, title="t")
    assert fig.get_suptitle() == "t"
    for ax, metric, best in zip(fig.axes, ("loss", "accuracy"), (2, 3), strict=True):
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == metric
        training, validation, marker = ax.get_lines()
        assert training.get_label() == f"training {metric}" and training.get_ydata().tolist() == history[metric]
        assert validation.get_ydata().tolist() == history[f"val_{metric}"]
        assert training.get_xdata().tolist() == [1, 2, 3]
        assert marker.get_label() == f"best validation (epoch {best})" and marker.get_xdata()[0] == best
    plt.close(fig)


def test_confusion_matrices_put_the_true_class_on_rows_and_the_predicted_on_columns():
    import matplotlib.pyplot as plt

    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0])  # one a read as b, the only c read as a
    fig = helpers.plot_confusion_matrices(y_true, y_pred, ["a", "b", "c"], title="tiny")
    counts, normalized = fig.axes
    # ax.text(x=column, y=row): read each number back at (row, column)
    cells = [{(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
             for ax in (counts, normalized)]
    assert cells[0] == {(0, 0): "2", (0, 1): "1", (1, 1): "2", (2, 0): "1"}  # zeros are left blank
    assert cells[1] == {(0, 0): ".67", (0, 1): ".33", (1, 1): "1.00", (2, 0): "1.00"}  # each row sums to 1
    for ax in (counts, normalized):
        assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert counts.get_title() == "counts" and normalized.get_title().startswith("normalized by row")
    assert fig.get_suptitle() == "tiny"
    plt.close(fig)


def test_prediction_shows_the_probabilities_and_colours_a_wrong_guess_red():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    image = np.zeros((28, 28), dtype="uint8")
    probabilities = np.array([0.1, 0.6, 0.3])
    fig = helpers.plot_prediction(image, probabilities, ["a", "b", "c"], true_label=2)
    ax_image, ax_bars = fig.axes
    assert ax_image.get_title() == "predicted b (60.0%)\ntrue c"
    assert ax_image.title.get_color() == "tab:red"
    bars = ax_bars.patches
    assert [bar.get_height() for bar in bars] == [0.1, 0.6, 0.3]
    assert bars[1].get_facecolor() == to_rgba("tab:red") and bars[0].get_facecolor() == to_rgba("lightgray")
    assert bars[2].get_edgecolor() == to_rgba("black")  # the true class, outlined
    assert ax_bars.get_ylabel() == "probability"
    plt.close(fig)
    fig = helpers.plot_prediction(image, probabilities, ["a", "b", "c"], true_label=1)
    assert fig.axes[0].title.get_color() == "tab:green" and fig.axes[1].patches[1].get_facecolor() == to_rgba("tab:green")
    plt.close(fig)


def test_prediction_grid_titles_each_image_predicted_and_true_when_wrong():
    import matplotlib.pyplot as plt

    images = np.zeros((5, 28, 28), dtype="uint8")
    fig = helpers.plot_prediction_grid(images, [0, 1, 2, 0, 1], [0, 2, 2, 1, 1], ["a", "b", "c"], count=4, ncols=3)
    assert titles(fig) == ["a", "c (b)", "c", "b (a)"]  # only the first 4 images
    colours = [ax.title.get_color() for ax in fig.axes if ax.get_images()]
    assert colours == ["tab:green", "tab:red", "tab:green", "tab:red"]
    assert fig.get_suptitle() == "4 test images: 2 wrong (red: predicted (true))"
    plt.close(fig)


def test_confident_errors_show_the_wrong_predictions_most_sure_first():
    import matplotlib.pyplot as plt

    images = np.zeros((4, 28, 28), dtype="uint8")
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95]])
    y_true = np.array([0, 0, 1, 0])  # rows 1, 2, 3 are wrong, with confidence 0.8, 0.6, 0.95
    fig = helpers.plot_confident_errors(images, probabilities, y_true, ["a", "b"], count=2)
    assert titles(fig) == ["b 95%\n(true a)", "b 80%\n(true a)"]
    assert fig.get_suptitle() == "the 2 most confident mistakes"
    plt.close(fig)
    none_wrong = helpers.plot_confident_errors(images[:1], probabilities[:1], y_true[:1], ["a", "b"])
    assert [t.get_text() for t in none_wrong.axes[0].texts] == ["no wrong predictions"]
    plt.close(none_wrong)


def test_class_counts_draw_each_class_count_per_split():
    import matplotlib.pyplot as plt

    fig = helpers.plot_class_counts(np.array([0, 0, 0, 2]), np.array([1, 1]), ["a", "b", "c"])
    train, test = fig.axes
    assert [bar.get_height() for bar in train.patches] == [3, 0, 1]
    assert [bar.get_height() for bar in test.patches] == [0, 2, 0]
    assert train.get_title().startswith("train: 4 images") and test.get_title().startswith("test: 2 images")
    assert train.get_lines()[0].get_ydata()[0] == pytest.approx(4 / 3)  # the equal share
    plt.close(fig)


def test_class_means_show_the_mean_image_of_each_class():
    import matplotlib.pyplot as plt

    images = np.stack([np.full((28, 28), value, dtype="float32") for value in (0.0, 2.0, 5.0, 7.0)])
    fig = helpers.show_class_means(images, np.array([0, 0, 1, 1]), ["a", "b"])
    assert titles(fig) == ["a", "b"]
    assert [float(ax.get_images()[0].get_array().mean()) for ax in fig.axes] == [1.0, 6.0]
    plt.close(fig)


def test_signed_maps_share_one_symmetric_scale_with_a_colour_bar():
    import matplotlib.pyplot as plt

    maps = np.zeros((5, 3, 3))
    maps[1, 0, 0], maps[4, 2, 2] = 0.2, -0.5
    fig = helpers.show_signed_maps(maps, [f"filter {i}" for i in range(5)], ncols=4, value_label="weight")
    shown = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(shown) == 5  # one panel per map; the sixth to eighth cells of the 2 x 4 grid stay empty
    assert all(image.get_clim() == (-0.5, 0.5) for image in shown)  # one scale, symmetric around 0
    assert any(ax.get_ylabel() == "weight" for ax in fig.axes)  # the colour bar, labelled
    plt.close(fig)
    with pytest.raises(ValueError, match="2-D maps"):
        helpers.show_signed_maps(np.zeros((3, 3)))


def test_layer_table_shows_the_parameter_arithmetic():
    table = helpers.layer_table(helpers.dense_textbook())
    assert table["parameters"].tolist() == [7850, 110]
    assert table["arithmetic"].tolist() == ["784*10 + 10", "10*10 + 10"]
    conv = helpers.layer_table(helpers.keras_io_convnet()).set_index("layer")
    assert conv.loc["conv1", "arithmetic"] == "3*3*1*32 + 32"
    assert conv.loc["conv2", "output shape"] == "(None, 11, 11, 64)"
    assert conv["parameters"].sum() == 34_826


@pytest.mark.parametrize("fused", [True, False])
def test_layer_table_reads_the_same_with_either_batch_normalization(fused):
    # helpers' fused layer is a BatchNormalization: the table (checked by nbval in notebook
    # 03) must not depend on the backend or the execution settings
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              helpers.batch_normalization(fused=fused)])
    table = helpers.layer_table(model)
    assert table["type"].tolist() == ["Conv2D", "BatchNormalization"]
    assert table["arithmetic"].iloc[1] == "4*4 (gamma, beta, moving_mean, moving_variance)"


def test_draw_model_falls_back_without_graphviz():
    import matplotlib.pyplot as plt

    model = helpers.keras_io_convnet()
    fig = helpers.draw_model(model, use_graphviz=False)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_text()]
    assert len(texts) == len(model.layers) + 1  # one box per layer plus the input
    assert any("conv2: Conv2D" in t and "18,496 params" in t for t in texts)
    assert "34,826 parameters" in fig.axes[0].get_title()
    plt.close("all")


def test_draw_model_with_graphviz_smoke(capsys):
    # a smoke test: with Graphviz it draws its picture (not read back here), without it the
    # layer stack; either way a figure comes back and nothing raises
    import matplotlib.pyplot as plt

    model = helpers.keras_io_convnet()
    fig = helpers.draw_model(model, use_graphviz=True)
    assert isinstance(fig, Figure)
    if not helpers.can_plot_model():
        assert "drawing the layer stack instead" in capsys.readouterr().out
    plt.close("all")


def test_shift_images_moves_each_image_within_the_limit():
    images = np.zeros((50, 28, 28, 1), dtype="float32")
    images[:, 10:18, 10:18, 0] = 1.0  # an 8x8 square in the middle
    shifted = helpers.shift_images(images, 2, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    assert np.all(shifted.sum(axis=(1, 2, 3)) == 64)  # nothing falls off: the border is empty
    rows = [np.flatnonzero(image[:, :, 0].any(axis=1))[0] - 10 for image in shifted]
    cols = [np.flatnonzero(image[:, :, 0].any(axis=0))[0] - 10 for image in shifted]
    assert set(rows) == set(cols) == {-2, -1, 0, 1, 2}  # every offset occurs, none beyond 2


def test_shifted_batches_cover_every_image_once_per_epoch():
    x = np.zeros((10, 28, 28, 1), dtype="float32")
    y = np.arange(10)
    data = helpers.shifted_batches(x, y, batch_size=4, max_shift=1, seed=0)
    assert len(data) == 3 and data.num_images == 10
    for _ in range(2):
        labels = np.concatenate([data[i][1] for i in range(len(data))])
        assert sorted(labels) == list(range(10))
        data.on_epoch_end()
    assert data[0][0].shape == (4, 28, 28, 1)


def test_train_accepts_a_dataset_of_batches():
    import keras

    model = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")],
        name="flat",
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 28, 28, 1), dtype="float32"), rng.integers(0, 3, 20)
    data = helpers.shifted_batches(x, y, batch_size=8, seed=0)
    run = helpers.train(model, data, None, epochs=2, batch_size=8, validation_data=(x[:5], y[:5]), verbose=0)
    assert run.epochs == 2 and run.train_images == 20 and "val_accuracy" in run.history
