"""The execution settings (helpers.execution) and the fused BatchNormalization.

The fused layer must be Keras's BatchNormalization computed faster: same outputs in
training and inference, same gradients, same moving statistics, same variables (a
model saved with one loads with the other), and bit-identical reruns with a seed.
"""

import numpy as np
import pytest

import helpers
from helpers import execution

keras = helpers.environment._import_keras()
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason=f"TensorFlow-only code (its fused kernel) under KERAS_BACKEND="
                                            f"{keras.backend.backend()}, where Keras's own code runs")


def pair(momentum=0.9, shape=(16, 7, 7, 5)):
    """A Keras and a fused BatchNormalization with the same, non-trivial weights."""
    rng = np.random.default_rng(0)
    plain = keras.layers.BatchNormalization(momentum=momentum)
    fused = execution.FusedBatchNormalization(momentum=momentum)
    plain.build(shape)
    fused.build(shape)
    weights = [rng.normal(1.0, 0.3, w.shape).astype("float32") if i != 3 else rng.uniform(0.5, 2.0, w.shape)
               .astype("float32") for i, w in enumerate(plain.get_weights())]
    plain.set_weights(weights)
    fused.set_weights(weights)
    return plain, fused


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@tensorflow_only
def test_fused_batch_norm_computes_what_keras_computes_in_training_and_inference():
    plain, fused = pair()
    rng = np.random.default_rng(1)
    for step, training in enumerate([True, True, False, True, False]):
        x = rng.normal(3.0, 2.0, (16, 7, 7, 5)).astype("float32")
        np.testing.assert_allclose(numpy(fused(x, training=training)), numpy(plain(x, training=training)),
                                   atol=2e-5, err_msg=f"step {step}, training={training}")
        for got, want in zip(fused.get_weights(), plain.get_weights()):  # moving statistics updated alike
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The moving statistics did move, towards the batches' mean 3 and variance 4.
    assert np.all(plain.moving_mean.numpy() > 1.0)


@tensorflow_only
def test_fused_batch_norm_has_keras_gradients():
    import tensorflow as tf

    plain, fused = pair()
    x = tf.constant(np.random.default_rng(2).normal(size=(16, 7, 7, 5)).astype("float32"))
    weight = tf.range(1.0, 6.0)
    gradients = []
    for layer in (plain, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) ** 2 * weight)
        gradients.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for got, want in zip(gradients[1], gradients[0]):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-3, atol=1e-3 * float(tf.reduce_max(tf.abs(want))))


def test_fused_batch_norm_leaves_other_inputs_to_keras():
    plain, fused = pair(shape=(8, 12))
    x = np.random.default_rng(3).normal(size=(8, 12)).astype("float32")
    np.testing.assert_array_equal(numpy(fused(x, training=True)), numpy(plain(x, training=True)))


@tensorflow_only
@pytest.mark.parametrize("saved_with", ["fused", "keras"])
def test_a_model_saved_with_one_batch_norm_loads_with_the_other(tmp_path, saved_with):
    def build(layer_class):
        return keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(4, 3), layer_class(momentum=0.8, name="bn"),
                                 keras.layers.Flatten(), keras.layers.Dense(2)])

    fused_class, keras_class = execution.FusedBatchNormalization, keras.layers.BatchNormalization
    source = build(fused_class if saved_with == "fused" else keras_class)
    x = np.random.default_rng(4).normal(size=(5, 6, 6, 3)).astype("float32")
    source(x, training=True)  # moves the statistics away from their initial values
    path = tmp_path / "model.keras"
    source.save(path)
    other = keras_class if saved_with == "fused" else fused_class
    loaded = build(other)
    loaded.set_weights(source.get_weights())  # the same variables, in the same order and shapes
    assert type(loaded.layers[1]) is other
    for training in (False, True):
        np.testing.assert_allclose(numpy(loaded(x, training=training)), numpy(source(x, training=training)),
                                   atol=1e-5)
    assert keras.saving.load_model(path).layers[1].__class__ is source.layers[1].__class__  # and back as it was


def test_keras_defaults_switch(monkeypatch, capsys):
    monkeypatch.setenv(execution.KERAS_DEFAULTS_VARIABLE, "1")
    execution.execution_settings.cache_clear()
    try:
        settings = execution.use_execution_settings()
        assert settings == execution.keras_defaults(settings.reason)
        assert settings.compile_options == {"steps_per_execution": 1, "jit_compile": "auto"}
        assert type(execution.batch_normalization()) is keras.layers.BatchNormalization
        assert "COURSE_KERAS_DEFAULTS=1" in capsys.readouterr().out
    finally:
        monkeypatch.delenv(execution.KERAS_DEFAULTS_VARIABLE)
        execution.execution_settings.cache_clear()


@tensorflow_only
@pytest.mark.parametrize(("flags", "precision"), [({"avx2", "fma"}, "float32"),
                                                  ({"avx2", "avx512f", "avx512_bf16"}, "mixed_bfloat16"),
                                                  ({"avx2", "amx_bf16", "amx_tile"}, "mixed_bfloat16")])
def test_tensorflow_on_the_cpu_gets_the_measured_settings(monkeypatch, flags, precision):
    monkeypatch.setattr(helpers.environment, "gpu_names", lambda: [])
    monkeypatch.setattr(execution, "cpu_flags", lambda: flags)
    monkeypatch.delenv(execution.KERAS_DEFAULTS_VARIABLE, raising=False)
    execution.execution_settings.cache_clear()
    try:
        settings = execution.execution_settings()
        assert settings.compile_options == {"steps_per_execution": 16, "jit_compile": False}
        assert settings.precision == precision and settings.fused_batch_norm
        assert type(execution.batch_normalization(momentum=0.9)) is execution.FusedBatchNormalization
        assert settings.record()["steps_per_execution"] == 16
        assert ("(output layers in float32)" in settings.summary()) == (precision != "float32")
    finally:
        execution.execution_settings.cache_clear()


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_under_mixed_precision_a_model_needs_its_output_in_float32(mixed_bfloat16):
    def model(**output_options):
        return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(3, activation="softmax", name="probabilities", **output_options)])

    low = model()
    assert low.layers[0].compute_dtype == "bfloat16"
    with pytest.raises(ValueError, match="'probabilities'.*dtype=\"float32\""):
        execution.check_output_precision(low)
    low.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="bfloat16"):  # helpers.train refuses it before any training
        helpers.train(low, np.zeros((4, 4), "float32"), np.zeros(4, int), epochs=1, verbose=0)
    execution.check_output_precision(model(dtype="float32"))  # no error
    for build in (helpers.dense_textbook, helpers.dense_512, helpers.keras_io_convnet, helpers.report_final,
                  helpers.course_convnet, helpers.fashion_convnet):
        built = build()
        execution.check_output_precision(built)
        assert built.layers[0].compute_dtype == "bfloat16"  # the rest follows the policy


@tensorflow_only
def test_fused_batch_norm_under_mixed_bfloat16_matches_keras_within_bfloat16_rounding(mixed_bfloat16):
    x = np.random.default_rng(7).normal(3.0, 2.0, (16, 7, 7, 5)).astype("float32")
    fused = execution.FusedBatchNormalization(momentum=0.9)
    plain = keras.layers.BatchNormalization(momentum=0.9)
    for training in (True, False):
        fused_out, plain_out = (np.asarray(layer(x, training=training), "float32") for layer in (fused, plain))
        assert fused.compute_dtype == "bfloat16" and fused_out.dtype == np.float32
        np.testing.assert_allclose(fused_out, plain_out, rtol=0.02, atol=0.02)  # bfloat16 keeps about 3 digits
    np.testing.assert_allclose(np.asarray(fused.moving_mean), np.asarray(plain.moving_mean), rtol=0.01)
    np.testing.assert_allclose(np.asarray(fused.moving_variance), np.asarray(plain.moving_variance), rtol=0.02)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_seeded_training_with_the_course_settings_repeats_bit_for_bit(precision):
    if precision != "float32" and not (keras.backend.backend() == "tensorflow" and execution.native_bfloat16()):
        pytest.skip("the course chooses bfloat16 only on TensorFlow with a CPU that computes it natively")
    rng = np.random.default_rng(5)
    x = rng.random((300, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    options = execution.execution_settings().compile_options
    weights = []
    keras.mixed_precision.set_global_policy(precision)
    try:
        for _ in range(2):
            helpers.set_seed(11)
            model = helpers.course_convnet()
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", **options)
            model.fit(x, y, epochs=2, batch_size=32, verbose=0)  # 10 steps: one execution of 16 and a short one
            weights.append(model.get_weights())
    finally:  # later tests build under Keras's default policy
        keras.mixed_precision.set_global_policy("float32")
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


def test_steps_per_execution_keeps_epoch_callbacks_and_the_time_limit():
    """Early stopping and per-epoch callbacks see every epoch; a batch callback still stops a run."""
    x = np.random.default_rng(6).random((640, 784), dtype=np.float32)
    y = np.zeros(640, dtype=int)
    helpers.set_seed(0)
    model = helpers.dense_512()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=16)
    timer = helpers.epoch_timer()
    model.fit(x, y, epochs=3, batch_size=32, callbacks=[timer], verbose=0)
    assert len(timer.epoch_seconds) == 3
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
    history = model.fit(x, y, epochs=10, batch_size=32, callbacks=[stopper], verbose=0)
    assert len(history.history["loss"]) == 2  # stops after the first epoch that does not improve by 10
    stop_now = helpers.time_limit(0.0)
    history = model.fit(x, y, epochs=5, batch_size=32, callbacks=[stop_now], verbose=0)
    assert len(history.history["loss"]) == 1  # stopped within the first epoch
