"""Models that more than one notebook trains, and tools to read any model's layers.

A notebook writes out the model it teaches, layer by layer: that is the lesson.
A builder lives here only when a *later* notebook trains the same model again
(notebook 05 takes the MNIST models to Fashion-MNIST, notebook 04 compares
training settings on them); ``tests/test_models.py`` checks that each builder
builds exactly the model its notebook writes out, parameter counts included.

Each builder returns a fresh, *uncompiled* ``keras.Sequential`` with explicit
model and layer names (so ``model.summary()`` prints the same table on every
run). Compiling stays in the notebooks: loss, optimizer and metric are part of
each lesson. Only ``keras`` is used (no ``tf.*``), so the builders work under
the TensorFlow, JAX and PyTorch backends. Keras is imported inside the
functions so that ``import helpers`` stays fast.
"""

from __future__ import annotations

import pandas as pd

IMAGE_SHAPE = (28, 28, 1)
FLAT_SHAPE = (784,)


def _keras():
    import keras

    return keras


def dense_textbook(num_classes: int = 10):
    """The Keras textbook's first network (Torres, chapter 5), written out in notebook 02.

    784 pixels -> Dense(10, sigmoid) -> Dense(10, softmax). The book trains it with
    SGD at Keras's default learning rate (0.01), ``fit``'s default batch size 32,
    5 epochs and no validation: MNIST test accuracy 0.8661; on Fashion-MNIST 0.7463
    with SGD and 0.8373 with Adam. Input: flattened images of shape (784,).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=FLAT_SHAPE, name="pixels"),
            layers.Dense(10, activation="sigmoid", name="hidden"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"),
        ],
        name="dense_textbook",
    )


def dense_512(num_classes: int = 10):
    """MNIST report 2's dense network (source 004), written out in notebook 02.

    784 pixels -> Dense(512, relu) -> Dense(10, softmax), trained with RMSprop,
    15 epochs, batch 128 and no validation. The report gives 0.9825 test accuracy,
    measured on test images it had divided by 225 instead of 255 (train 0.9998).
    Input: flattened images of shape (784,).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=FLAT_SHAPE, name="pixels"),
            layers.Dense(512, activation="relu", name="hidden"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"),
        ],
        name="dense_512",
    )


def keras_io_convnet(num_classes: int = 10):
    """The keras.io "Simple MNIST convnet" (sources 004 and 001), written out in notebook 03.

    Conv32 3x3 -> MaxPool -> Conv64 3x3 -> MaxPool -> Flatten -> Dropout 0.5 ->
    Dense 10, trained with Adam, 15 epochs, batch 128. Source 004 reports 0.9918
    MNIST test accuracy (no validation); source 001 trains it on Fashion-MNIST with
    a 10% validation split: 0.9018 validation accuracy after 15 epochs.
    Input: (28, 28, 1).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"),
        ],
        name="keras_io_convnet",
    )


def report_final(num_classes: int = 10):
    """MNIST report 1's final model (source 000), written out in notebook 03.

    Conv32 5x5 -> MaxPool -> Conv64 3x3 -> MaxPool -> Dropout 0.2 -> Flatten ->
    Dense 512 -> Dense 128 -> Dense 50 -> Dropout 0.5 -> Dense 10, trained with
    Adam, 15 epochs, batch 128. The report's 0.9924 MNIST test accuracy (the best
    MNIST result of the sources) was chosen while validating on the test set; the
    same network reached 0.9043 on Fashion-MNIST. Input: (28, 28, 1).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            layers.Conv2D(32, 5, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Dropout(0.2, name="dropout1"),
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", name="dense512"),
            layers.Dense(128, activation="relu", name="dense128"),
            layers.Dense(50, activation="relu", name="dense50"),
            layers.Dropout(0.5, name="dropout2"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"),
        ],
        name="report_final",
    )


def course_convnet(num_classes: int = 10):
    """This course's convnet, written out in notebook 03, where it beats the sources' 0.9924.

    The keras.io convnet's two convolution blocks with BatchNormalization (momentum
    0.9) after each convolution, and a Dense(128) + BatchNormalization hidden layer
    between two Dropout(0.3) layers:
    Conv32 3x3 -> BN -> ReLU -> MaxPool -> Conv64 3x3 -> BN -> ReLU -> MaxPool ->
    Flatten -> Dropout 0.3 -> Dense 128 -> BN -> ReLU -> Dropout 0.3 -> Dense 10.
    Layers followed by BN have no bias (BN's shift replaces it). Notebook 03 trains
    it with AdamW, a cosine-decayed learning rate and random shifts of up to 2 pixels
    (:func:`helpers.shifted_batches`). BatchNormalization comes from
    :func:`helpers.batch_normalization`. Input: (28, 28, 1).
    """
    from .execution import batch_normalization

    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            layers.Conv2D(32, 3, use_bias=False, name="conv1"),
            batch_normalization(momentum=0.9, name="conv1_bn"),
            layers.Activation("relu", name="conv1_relu"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, use_bias=False, name="conv2"),
            batch_normalization(momentum=0.9, name="conv2_bn"),
            layers.Activation("relu", name="conv2_relu"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.3, name="dropout1"),
            layers.Dense(128, use_bias=False, name="dense128"),
            batch_normalization(momentum=0.9, name="dense128_bn"),
            layers.Activation("relu", name="dense128_relu"),
            layers.Dropout(0.3, name="dropout2"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"),
        ],
        name="course_convnet",
    )


def fashion_convnet(width: int = 16, num_classes: int = 10, fused_batch_norm: bool | None = None):
    """Notebook 05's course network for Fashion-MNIST: a small VGG-style network of ``width`` filters.

    Two blocks of two 3x3 convolutions (``width``, then ``2 * width`` filters, "same"
    padding, each followed by BatchNormalization with momentum 0.9 and ReLU) and a
    max-pooling, then Flatten -> Dropout 0.3 -> Dense(8 * width) -> BN -> ReLU ->
    Dropout 0.3 -> Dense 10. Notebook 05 trains it (width 16 under the CPU budget, 64 at
    the full settings); notebook 06 and ``./course bench`` time it. BatchNormalization
    comes from :func:`helpers.batch_normalization` (TensorFlow's fused kernel where that
    measured faster; ``fused_batch_norm`` forces one or the other). Input: (28, 28, 1).
    """
    from .execution import batch_normalization

    keras = _keras()
    layers = keras.layers

    def block(filters: int) -> list:
        return [layers.Conv2D(filters, 3, padding="same", use_bias=False),
                batch_normalization(fused_batch_norm, momentum=0.9), layers.Activation("relu")]

    return keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE),
        *block(width), *block(width), layers.MaxPooling2D(2),
        *block(2 * width), *block(2 * width), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.3),
        layers.Dense(8 * width, use_bias=False), batch_normalization(fused_batch_norm, momentum=0.9),
        layers.Activation("relu"),
        layers.Dropout(0.3),
        layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ], name=f"course_net_w{width}")


# ------------------------------------------------------------ reading a model


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_table(model) -> pd.DataFrame:
    """The model's layers as a table: name, type, output shape, parameters and their arithmetic.

    The ``arithmetic`` column shows where the count of a Dense, Conv2D or
    BatchNormalization layer comes from (weights + biases), e.g. ``784*10 + 10``.
    The ``type`` of a BatchNormalization computed by TensorFlow's fused kernel
    (``helpers.FusedBatchNormalization``, see ``helpers.batch_normalization``) is
    ``BatchNormalization``: it is the same layer, so the table of a network reads the
    same on every backend and execution setting.
    """
    rows = []
    for layer in model.layers:
        kind = "BatchNormalization" if isinstance(layer, _keras().layers.BatchNormalization) else type(layer).__name__
        params = int(layer.count_params())
        arithmetic = ""
        weights = [tuple(int(d) for d in w.shape) for w in layer.weights]
        if params and kind == "Dense":
            (n_in, n_out), *bias = weights
            arithmetic = f"{n_in}*{n_out}" + (f" + {n_out}" if bias else "")
        elif params and kind in ("Conv2D", "Conv1D"):
            kernel, *bias = weights
            *window, c_in, c_out = kernel
            arithmetic = "*".join(map(str, window)) + f"*{c_in}*{c_out}" + (f" + {c_out}" if bias else "")
        elif params and kind == "BatchNormalization":
            names = ", ".join(w.name.split("/")[-1] for w in layer.weights)
            arithmetic = f"{len(weights)}*{weights[0][0]} ({names})"
        try:
            shape = _shape_text(layer.output.shape)
        except (AttributeError, ValueError):
            shape = "?"
        rows.append({"layer": layer.name, "type": kind, "output shape": shape,
                     "parameters": params, "arithmetic": arithmetic})
    return pd.DataFrame(rows)
