"""Notebook 05's helpers: NumPy augmentation batches, the accuracy-cost frontier, occlusion maps."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import helpers


def test_transformed_batches_give_every_image_once_per_epoch_and_leave_the_data_alone():
    x = np.arange(10, dtype="float32").reshape(10, 1, 1, 1)
    y = np.arange(10)
    original = x.copy()

    def add_100_in_place(images, rng):
        assert isinstance(rng, np.random.Generator)
        images += 100  # a transform may change its batch in place: it gets a copy
        return images

    batches = helpers.transformed_batches(x, y, add_100_in_place, batch_size=4, seed=3)
    assert len(batches) == 3
    epoch = [batches[i] for i in range(len(batches))]
    images = np.concatenate([b[0] for b in epoch]).ravel()
    labels = np.concatenate([b[1] for b in epoch])
    assert sorted(labels.tolist()) == list(range(10))
    assert np.array_equal(images, labels + 100)  # transformed, each with its own label
    assert np.array_equal(x, original)  # the training set itself is untouched
    again = helpers.transformed_batches(x, y, add_100_in_place, batch_size=4, seed=3)
    assert np.array_equal(np.concatenate([again[i][1] for i in range(3)]), labels)  # same seed, same order


def test_frontier_joins_only_points_that_nothing_cheaper_beats():
    table = pd.DataFrame({"model": ["a", "b", "c", "d"], "seconds": [10, 20, 40, 80],
                          "accuracy": [0.80, 0.78, 0.90, 0.85]})
    fig = helpers.plot_frontier(table, x="seconds", y="accuracy", label="model", title="t", xlabel="s",
                                ylabel="acc", reference=0.93, reference_label="to beat")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    frontier = [line for line in ax.get_lines() if line.get_label().startswith("frontier")][0]
    assert frontier.get_xdata().tolist() == [10, 40]  # b is slower than a and worse; d slower than c and worse
    assert ax.get_xscale() == "log" and "axis starts at" in ax.get_ylabel()
    plt.close(fig)


def test_occlusion_maps_share_one_symmetric_scale_with_a_colour_bar():
    images = np.random.default_rng(0).random((3, 28, 28, 1))
    maps = np.zeros((3, 28, 28))
    maps[0, 5, 5], maps[2, 9, 9] = 0.4, -0.7
    fig = helpers.plot_occlusion_maps(images, maps, ["one", "two", "three"])
    heat = [ax.get_images()[-1] for ax in fig.axes[3:6]]
    assert all(image.get_clim() == (-0.7, 0.7) for image in heat)  # symmetric around 0, the largest |drop|
    assert len(fig.axes) == 7  # 2 rows of 3 and the colour bar
    plt.close(fig)
    shared = helpers.plot_occlusion_maps(images, maps, ["one", "two", "three"], limit=2.0)
    assert shared.axes[3].get_images()[-1].get_clim() == (-2.0, 2.0)  # a scale shared with another figure
    plt.close(shared)
