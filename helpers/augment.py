"""Data augmentation: input pipelines that show the network a changed image each epoch.

Augmentation makes more training examples out of the ones we have, by changes
that keep the label (a digit moved by two pixels is still the same digit).
Pipelines here are plain NumPy fed through ``keras.utils.PyDataset``, so they
work with every Keras backend and run on the CPU beside the training.
"""

from __future__ import annotations

import math

import numpy as np


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Move every image by its own random whole-pixel offset in ``-max_shift..max_shift``.

    ``images`` has shape (n, height, width, channels); the border that moves in is
    filled with zeros (the background of MNIST and Fashion-MNIST).
    """
    images = np.asarray(images)
    count, height, width = images.shape[:3]
    m = max_shift
    padded = np.pad(images, ((0, 0), (m, m), (m, m)) + ((0, 0),) * (images.ndim - 3))
    rows = rng.integers(0, 2 * m + 1, count)[:, None] + np.arange(height)[None, :]
    cols = rng.integers(0, 2 * m + 1, count)[:, None] + np.arange(width)[None, :]
    return padded[np.arange(count)[:, None, None], rows[:, :, None], cols[:, None, :]]


def shifted_batches(x, y, *, batch_size: int = 128, max_shift: int = 2, seed: int = 0):
    """Training batches with *data augmentation*: every image shifted at random, anew each epoch.

    Returns a ``keras.utils.PyDataset`` to pass to ``fit`` (or :func:`train`) in
    place of ``x`` and ``y``; it shuffles the images every epoch and moves each one
    by a random whole number of pixels, up to ``max_shift`` along each axis
    (``(2 * max_shift + 1) ** 2`` positions, the unshifted one among them), so over
    the epochs the network sees each image at several positions. It is plain NumPy,
    so it works with every Keras backend. Validation data must then be given
    explicitly (``validation_data``).
    """
    return _shuffled_batches(x, y, lambda images, rng: shift_images(images, max_shift, rng),
                             batch_size=batch_size, seed=seed)


def augmented_batches(x, y, augment, *, batch_size: int = 128, seed: int = 0):
    """Training batches passed through ``augment`` in the input pipeline, anew each epoch.

    ``augment`` is a Keras layer or model of random layers (``RandomTranslation``,
    ``RandomFlip``, ...), called with ``training=True`` on each NumPy batch before the
    batch reaches the model. This is the other place augmentation can live besides
    *inside* the model: notebook 06 times both and picks by measurement. Returns a
    ``keras.utils.PyDataset`` (shuffled every epoch) to pass to ``fit`` in place of
    ``x`` and ``y``; give validation data explicitly.
    """
    import keras

    return _shuffled_batches(x, y, lambda images, rng: keras.ops.convert_to_numpy(augment(images, training=True)),
                             batch_size=batch_size, seed=seed)


def transformed_batches(x, y, transform, *, batch_size: int = 128, seed: int = 0):
    """Training batches passed through a NumPy function ``transform(images, rng)``, anew each epoch.

    ``transform`` gets a batch of images (a copy: it may change it in place) and a
    ``numpy.random.Generator`` seeded with ``seed``, and returns the augmented batch.
    Why: an augmentation written in a few lines of NumPy (notebook 05's flips and
    erased patches) runs the same on every Keras backend and every Keras version.
    Returns a ``keras.utils.PyDataset`` (shuffled every epoch) to pass to ``fit`` in
    place of ``x`` and ``y``; give validation data explicitly.
    """
    return _shuffled_batches(x, y, lambda images, rng: transform(images.copy(), rng), batch_size=batch_size, seed=seed)


def _shuffled_batches(x, y, transform, *, batch_size: int, seed: int):
    """A ``keras.utils.PyDataset`` of ``(transform(images, rng), labels)`` batches, reshuffled every epoch.

    ``rng`` (seeded with ``seed``) draws the order of the images and is passed to
    ``transform`` for its own random choices.
    """
    import keras

    class ShuffledBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.x, self.y = np.asarray(x), np.asarray(y)
            self.num_images = len(self.x)
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(self.num_images)

        def __len__(self):
            return math.ceil(self.num_images / batch_size)

        def __getitem__(self, index):
            chosen = self.order[index * batch_size:(index + 1) * batch_size]
            return transform(self.x[chosen], self.rng), self.y[chosen]

        def on_epoch_end(self):
            self.order = self.rng.permutation(self.num_images)

    return ShuffledBatches()
