"""Notebook 06's helpers: TensorBoard logs read back, the TensorBoard UI guard, augmentation batches, plots."""

import sys

import numpy as np
import pytest

import helpers
import helpers.tensorboard as tensorboard

helpers.environment.configure_tensorflow_environment()  # as a notebook's first Keras call does, before TensorFlow
tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorboard")  # tf.summary writes nothing without it


def test_read_tensorboard_log_reads_every_kind_back(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "train"))
    with writer.as_default():
        for step, value in enumerate([0.5, 0.25, 0.125]):
            tf.summary.scalar("epoch_loss", value, step=step)
        tf.summary.histogram("conv/kernel", np.arange(10.0), step=0)
        tf.summary.image("samples", np.zeros((1, 4, 4, 1), "float32"), step=2)
    writer.close()
    log = helpers.read_tensorboard_log(tmp_path)
    scalars = log[log["kind"] == "scalars"]
    assert scalars["run"].unique().tolist() == ["train"]
    assert scalars["tag"].unique().tolist() == ["epoch_loss"]
    assert scalars["step"].tolist() == [0, 1, 2]
    assert scalars["value"].tolist() == [0.5, 0.25, 0.125]
    kinds = dict(zip(log["tag"], log["kind"]))
    assert kinds["conv/kernel"] == "histograms" and kinds["samples"] == "images"
    assert log.loc[log["kind"] != "scalars", "value"].isna().all()


def test_read_tensorboard_log_matches_the_keras_callback(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.random.default_rng(0).normal(size=(64, 4)).astype("float32"), np.arange(64) % 3
    history = model.fit(x, y, epochs=3, validation_data=(x[:16], y[:16]), verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path), histogram_freq=1)]).history
    log = helpers.read_tensorboard_log(tmp_path)
    for run, prefix in (("train", ""), ("validation", "val_")):
        points = log[(log["run"] == run) & (log["tag"] == "epoch_loss")].sort_values("step")
        assert points["step"].tolist() == [0, 1, 2]
        assert np.allclose(points["value"], history[prefix + "loss"], atol=1e-6)
    assert (log["kind"] == "histograms").any()


def test_a_truncated_event_file_is_read_up_to_its_last_whole_record(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(5):
            tf.summary.scalar("x", float(step), step=step)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # a file still being written
    values = helpers.read_tensorboard_log(tmp_path)["value"].dropna().tolist()
    assert values == [0.0, 1.0, 2.0, 3.0]


def test_an_empty_log_folder_gives_an_empty_table(tmp_path):
    log = helpers.read_tensorboard_log(tmp_path)
    assert log.empty and list(log.columns) == ["run", "tag", "kind", "step", "value"]


def test_tensorboard_ui_is_refused_headless_and_offered_under_jupyter(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # (nbval imports it into pytest)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert helpers.tensorboard_ui_problem() == "not running in a notebook kernel"
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    monkeypatch.setattr(tensorboard, "_parent_command", lambda: "python -m papermill in.ipynb out.ipynb")
    assert "headless" in helpers.tensorboard_ui_problem()
    monkeypatch.setattr(tensorboard, "_parent_command", lambda: "/usr/bin/python3 /usr/local/bin/jupyter-lab")
    assert helpers.tensorboard_ui_problem() is None
    monkeypatch.setattr(tensorboard, "_parent_command", lambda: "python -m papermill in.ipynb out.ipynb")
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert helpers.tensorboard_ui_problem() is None


def test_tensorboard_ui_needs_the_tensorboard_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    assert "not installed" in helpers.tensorboard_ui_problem()


NO_PROC = ("import builtins; real_open = builtins.open\n"
           "def no_proc(path, *args, **kwargs):\n"
           "    if str(path).startswith('/proc/'):\n"
           "        raise FileNotFoundError(path)\n"
           "    return real_open(path, *args, **kwargs)\n"
           "builtins.open = no_proc\n")


@pytest.mark.parametrize("source", ["/proc", "ps"])
def test_the_parent_command_is_this_process_parent(source):
    # A child process asks for its parent's command line; the parent is this pytest process,
    # whose command line Python itself recorded (sys.orig_argv). "ps": as on macOS, without /proc.
    import inspect
    import shutil
    import subprocess

    if source == "ps" and shutil.which("ps") is None:
        pytest.fail("no ps on PATH: the fallback of _parent_command cannot be tested")
    code = ((NO_PROC if source == "ps" else "") + inspect.getsource(tensorboard._parent_command)
            + "print(_parent_command(), end='')\n")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == " ".join(sys.orig_argv)


def test_augmented_batches_augment_every_image_once_per_epoch():
    x = np.arange(10, dtype="float32").reshape(10, 1, 1, 1)
    y = np.arange(10)
    calls = []

    def plus_100(images, training=False):
        calls.append(training)
        return images + 100

    batches = helpers.augmented_batches(x, y, plus_100, batch_size=4, seed=1)
    assert len(batches) == 3 and batches.num_images == 10
    epoch = [batches[i] for i in range(len(batches))]
    images = np.concatenate([b[0] for b in epoch]).ravel()
    labels = np.concatenate([b[1] for b in epoch])
    assert sorted(labels.tolist()) == list(range(10))  # every image once
    assert np.array_equal(images, labels + 100)  # augmented, and still with its own label
    assert calls and all(calls)  # the layers ran in training mode
    first_order = labels.copy()
    batches.on_epoch_end()
    second = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert sorted(second.tolist()) == list(range(10)) and not np.array_equal(second, first_order)


def test_tensorboard_scalars_draw_one_line_per_run_in_epoch_order():
    import matplotlib.pyplot as plt
    import pandas as pd

    log = pd.DataFrame({"run": ["train", "train", "validation", "train"],
                        "tag": ["epoch_loss", "epoch_loss", "epoch_loss", "conv/kernel"],
                        "kind": ["scalars", "scalars", "scalars", "histograms"],
                        "step": [1, 0, 0, 0], "value": [0.5, 1.0, 0.8, np.nan]})
    fig = helpers.plot_tensorboard_scalars(log, ["epoch_loss"], title="log")
    (ax,) = fig.axes
    lines = {line.get_label(): (line.get_xdata().tolist(), line.get_ydata().tolist()) for line in ax.get_lines()}
    assert lines == {"train": ([1, 2], [1.0, 0.5]), "validation": ([1], [0.8])}  # step 0 is epoch 1
    assert ax.get_title() == "epoch_loss" and ax.get_xlabel() == "epoch" and fig.get_suptitle() == "log"
    assert ax.get_ylabel() == "loss"
    assert all(float(tick).is_integer() for tick in ax.get_xticks())  # whole epochs only
    plt.close(fig)


def test_augmented_samples_show_one_row_per_pipeline_with_its_name():
    import matplotlib.pyplot as plt

    fig = helpers.plot_augmented_samples({"original": np.zeros((3, 28, 28)), "shifted": np.ones((3, 28, 28, 1))})
    assert len(fig.axes) == 6
    rows = [fig.axes[:3], fig.axes[3:]]
    assert [row[0].get_ylabel() for row in rows] == ["original", "shifted"]
    for row, value in zip(rows, (0.0, 1.0), strict=True):
        for ax in row:
            (image,) = ax.get_images()
            assert image.get_array().shape == (28, 28) and np.all(image.get_array() == value)
    plt.close(fig)


def test_histories_overlay_one_line_per_run_and_log_scale_where_asked():
    import matplotlib.pyplot as plt

    histories = {"a": {"loss": [1.0, 0.5], "learning_rate": [1e-3, 5e-4]}, "b": {"loss": [0.8, 0.6, 0.4]}}
    fig = helpers.plot_histories(histories, ["loss", "learning_rate"], log_scale=["learning_rate"])
    loss, rate = fig.axes
    assert {line.get_label(): line.get_ydata().tolist() for line in loss.get_lines()} == {
        "a": [1.0, 0.5], "b": [0.8, 0.6, 0.4]}
    assert [line.get_label() for line in rate.get_lines()] == ["a"]  # b has no learning rate
    assert loss.get_title() == "loss" and loss.get_yscale() == "linear"
    assert rate.get_title() == "learning_rate (log scale)" and rate.get_yscale() == "log"
    assert rate.get_lines()[0].get_xdata().tolist() == [1, 2]
    assert (loss.get_ylabel(), rate.get_ylabel()) == ("loss", "learning_rate")
    assert all(float(tick).is_integer() for tick in loss.get_xticks())  # whole epochs only
    plt.close(fig)


def test_mean_and_spread_draw_the_mean_over_seeds_with_one_standard_deviation():
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.container import BarContainer

    table = pd.DataFrame({"dataset": ["m", "m", "f", "f"], "setting": ["a", "a", "a", "b"],
                          "acc": [0.9, 0.92, 0.8, 0.85]})
    fig = helpers.plot_mean_and_spread(table, value="acc", group="dataset", bars="setting", ylabel="accuracy",
                                       bottom=0.5)
    (ax,) = fig.axes
    a, b = [container for container in ax.containers if isinstance(container, BarContainer)]
    heights = [[bar.get_height() for bar in container.patches] for container in (a, b)]
    assert np.allclose(heights[0], [0.91, 0.8])  # setting a: mean of m's two seeds, f's one
    assert np.isnan(heights[1][0]) and heights[1][1] == pytest.approx(0.85)  # setting b ran on f only
    (_, caps, (error_lines,)) = a.errorbar.lines
    segments = error_lines.get_segments()
    assert segments[0][:, 1] == pytest.approx([0.91 - np.std([0.9, 0.92], ddof=1), 0.91 + np.std([0.9, 0.92], ddof=1)])
    assert segments[1][:, 1] == pytest.approx([0.8, 0.8])  # one seed: no spread drawn
    assert [t.get_text() for t in ax.get_xticklabels()] == ["m", "f"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_ylabel() == "accuracy (axis starts at 0.5)" and ax.get_ylim()[0] == 0.5
    plt.close(fig)
