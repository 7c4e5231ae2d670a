"""Builders for the models the course reproduces from its sources, and the one it adds.

Each builder returns a fresh, *uncompiled* ``keras.Sequential`` with explicit model
and layer names (so that ``model.summary()`` prints the same table on every run)
and says in its docstring which source it comes from and which result it
reproduces. Compiling stays in the notebooks: the loss, optimizer and metric are
part of the lesson.

Only ``keras`` is used (no ``tf.*``), so the builders work under the TensorFlow,
JAX and PyTorch backends of Keras 3. Keras is imported inside the functions so that
``import helpers`` stays fast.

Parameter counts (asserted in the unit tests and in the notebooks):

=========================  ==========  =========================================
builder                    parameters  source
=========================  ==========  =========================================
dense_textbook             7,960       Spanish Keras textbook, chapter 5
dense_512                  407,050     MNIST report 2
keras_io_convnet           34,826      keras.io "Simple MNIST convnet"
report_model1              46,922      MNIST report 1, model1 (our reconstruction)
report_model2              35,338      MNIST report 1, model2 (our reconstruction)
report_model3              844,170     MNIST report 1, model3 (our reconstruction)
report_final               911,664     MNIST report 1, final model
report_final_leaky         911,664     MNIST report 1, LeakyReLU variant
course_convnet             225,706     this course (beats the sources' 0.9924)
=========================  ==========  =========================================
"""

from __future__ import annotations

from collections.abc import Callable

#: Parameter counts stated by the sources (or implied by the layers they list).
SOURCE_PARAMETER_COUNTS = {
    "dense_textbook": 7_960,
    "dense_512": 407_050,
    "keras_io_convnet": 34_826,
    "report_final": 911_664,
    "report_final_leaky": 911_664,
}

IMAGE_SHAPE = (28, 28, 1)
FLAT_SHAPE = (784,)


def _keras():
    import keras

    return keras


def dense_textbook(num_classes: int = 10):
    """The Spanish Keras textbook's first network (chapter 5): 7,960 parameters.

    784 pixels -> Dense(10, sigmoid) -> Dense(10, softmax). The book trains it with
    plain SGD for 5 epochs, batch 100, and reports about 0.87-0.90 MNIST test
    accuracy (0.746 on Fashion-MNIST with SGD, 0.837 with Adam). Notebook 02
    reproduces that with SGD at learning rate 0.1 (Keras's default 0.01 gives ~0.72).
    Parameters: 784 * 10 + 10 = 7,850 in the hidden layer, 10 * 10 + 10 = 110 in
    the output layer. Input: flattened images of shape (784,).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=FLAT_SHAPE, name="pixels"),
            layers.Dense(10, activation="sigmoid", name="hidden"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="dense_textbook",
    )


def dense_512(num_classes: int = 10):
    """MNIST report 2's dense network: 407,050 parameters.

    784 pixels -> Dense(512, relu) -> Dense(10, softmax), trained with RMSprop,
    15 epochs, batch 128; the report gives 0.9825 test accuracy (0.9998 train:
    it overfits). Parameters: 784 * 512 + 512 = 401,920 plus 512 * 10 + 10 = 5,130.
    Input: flattened images of shape (784,).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=FLAT_SHAPE, name="pixels"),
            layers.Dense(512, activation="relu", name="hidden"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="dense_512",
    )


def keras_io_convnet(num_classes: int = 10):
    """The keras.io "Simple MNIST convnet" (used by MNIST report 2 and Fashion report 1).

    Conv32 3x3 -> MaxPool -> Conv64 3x3 -> MaxPool -> Flatten -> Dropout 0.5 ->
    Dense 10: 34,826 parameters. With Adam, 15 epochs, batch 128 and a 10%
    validation split the sources report 0.9918 MNIST test accuracy (keras.io:
    about 0.992); Fashion-MNIST 0.9018 after 15 epochs. Input: (28, 28, 1).
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
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="keras_io_convnet",
    )


def report_model1(num_classes: int = 10):
    """MNIST report 1, "model1" (0.9796 reported): OUR RECONSTRUCTION, 46,922 parameters.

    The report gives only its accuracy. We rebuild the first step towards the
    report's final model as its first block alone: Conv32 5x5 -> MaxPool ->
    Flatten -> Dense 10 (Adam, batch 128).
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            layers.Conv2D(32, 5, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Flatten(name="flatten"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="report_model1",
    )


def report_model2(num_classes: int = 10):
    """MNIST report 1, "model2" (0.9897 reported): OUR RECONSTRUCTION, 35,338 parameters.

    The report gives only its accuracy. Second step towards the final model: the
    second convolution block is added: Conv32 5x5 -> MaxPool -> Conv64 3x3 ->
    MaxPool -> Flatten -> Dense 10. The extra block *lowers* the parameter count
    because the flattened features shrink from 4,608 to 1,600.
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
            layers.Flatten(name="flatten"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="report_model2",
    )


def report_model3(num_classes: int = 10):
    """MNIST report 1, "model3" (0.9910 reported): OUR RECONSTRUCTION, 844,170 parameters.

    The report gives only its accuracy. Third step towards the final model: a
    hidden Dense(512) classifier on top of the two convolution blocks, still
    without dropout: Conv32 5x5 -> MaxPool -> Conv64 3x3 -> MaxPool -> Flatten ->
    Dense 512 -> Dense 10.
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
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", name="dense512"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="report_model3",
    )


def report_final(num_classes: int = 10, *, leaky: bool = False):
    """MNIST report 1's final model: 911,664 parameters, 0.9924 MNIST test accuracy.

    Conv32 5x5 -> MaxPool -> Conv64 3x3 -> MaxPool -> Dropout 0.2 -> Flatten ->
    Dense 512 -> Dense 128 -> Dense 50 -> Dropout 0.5 -> Dense 10, trained with
    Adam, 15 epochs, batch 128. It is the best MNIST result of all the sources
    (0.9924; the same net reached 0.9043 on Fashion-MNIST). With ``leaky=True``
    every ReLU becomes a LeakyReLU layer (see :func:`report_final_leaky`).
    Parameters: 832 + 18,496 + 819,712 + 65,664 + 6,450 + 510 = 911,664.
    """
    keras = _keras()
    layers = keras.layers

    def act(name: str) -> list:
        return [layers.LeakyReLU(negative_slope=0.1, name=f"{name}_leaky")] if leaky else []

    activation = None if leaky else "relu"
    stack = [
        keras.Input(shape=IMAGE_SHAPE, name="image"),
        layers.Conv2D(32, 5, activation=activation, name="conv1"),
        *act("conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(64, 3, activation=activation, name="conv2"),
        *act("conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Dropout(0.2, name="dropout1"),
        layers.Flatten(name="flatten"),
        layers.Dense(512, activation=activation, name="dense512"),
        *act("dense512"),
        layers.Dense(128, activation=activation, name="dense128"),
        *act("dense128"),
        layers.Dense(50, activation=activation, name="dense50"),
        *act("dense50"),
        layers.Dropout(0.5, name="dropout2"),
        layers.Dense(num_classes, activation="softmax", name="output"),
    ]
    return keras.Sequential(stack, name="report_final_leaky" if leaky else "report_final")


def report_final_leaky(num_classes: int = 10):
    """MNIST report 1's LeakyReLU variant of the final model (0.9880 reported): 911,664 parameters.

    The same layers as :func:`report_final` with LeakyReLU (slope 0.1; the report
    does not state its slope) in place of every ReLU. Activation layers have no
    weights, so the parameter count does not change.
    """
    return report_final(num_classes, leaky=True)


def course_convnet(num_classes: int = 10):
    """This course's convnet: beats the sources' best MNIST result (0.9924), 225,706 parameters.

    The keras.io convnet's two convolution blocks with BatchNormalization (momentum
    0.9) after each convolution, and a Dense(128) + BatchNormalization hidden layer
    between two Dropout(0.3) layers:
    Conv32 3x3 -> BN -> ReLU -> MaxPool -> Conv64 3x3 -> BN -> ReLU -> MaxPool ->
    Flatten -> Dropout 0.3 -> Dense 128 -> BN -> ReLU -> Dropout 0.3 -> Dense 10.
    Notebook 03 trains it with AdamW (weight decay 1e-4), a cosine-decayed learning
    rate (peak 0.003), batch 128 and random shifts of up to 2 pixels (data
    augmentation, :func:`helpers.shifted_batches`) for 8 epochs: about 0.995 MNIST
    test accuracy (0.9953 after 10 epochs in our measurements) in 7 to 8 minutes on a
    2-core CPU. Layers followed by BN have no bias (BN's shift replaces it); the
    count includes BN's 448 non-trainable running statistics.
    """
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            layers.Conv2D(32, 3, use_bias=False, name="conv1"),
            layers.BatchNormalization(momentum=0.9, name="conv1_bn"),
            layers.Activation("relu", name="conv1_relu"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, use_bias=False, name="conv2"),
            layers.BatchNormalization(momentum=0.9, name="conv2_bn"),
            layers.Activation("relu", name="conv2_relu"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.3, name="dropout1"),
            layers.Dense(128, use_bias=False, name="dense128"),
            layers.BatchNormalization(momentum=0.9, name="dense128_bn"),
            layers.Activation("relu", name="dense128_relu"),
            layers.Dropout(0.3, name="dropout2"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="course_convnet",
    )


#: Every builder by model name, in the order the course teaches them.
BUILDERS: dict[str, Callable] = {
    "dense_textbook": dense_textbook,
    "dense_512": dense_512,
    "keras_io_convnet": keras_io_convnet,
    "report_model1": report_model1,
    "report_model2": report_model2,
    "report_model3": report_model3,
    "report_final": report_final,
    "report_final_leaky": report_final_leaky,
    "course_convnet": course_convnet,
}


def build_model(name: str, **kwargs):
    """Build a model by its name in :data:`BUILDERS` (``build_model("dense_512")``)."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(BUILDERS)}") from None
    return builder(**kwargs)
