"""The JAX workaround of ``helpers.environment._jax_training_without_donation``: still working, still needed.

On the CPU, jaxlib 0.7 and 0.8 compute wrong results from jitted functions whose input
buffers are donated, and Keras's JAX trainer donates the model's state to every step.
``helpers`` replaces the private ``keras.src.backend.jax.trainer.jit`` for the whole
process by one that drops ``donate_argnums``. These tests fail loudly when that
replacement stops reaching Keras's steps, when a jaxlib outside the known range shows
the bug, and when no supported Colab runtime ships a broken jaxlib any more (then the
workaround goes). The JAX tests run where jax is installed (``./course compat jax``).
"""

import re

import numpy as np
import pytest

import helpers
from course_tools import compat
from helpers import environment


def _release(version: str) -> tuple[int, int]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def test_a_supported_colab_runtime_still_ships_a_jaxlib_with_broken_donation():
    try:
        folder = compat.colab_dir()
    except compat.CourseError as error:
        pytest.skip(str(error))
    first, fixed = environment._JAXLIB_BROKEN_CPU_DONATION
    shipped = {runtime.name: compat.parse_constraints((folder / runtime.constraints).read_text()).get("jaxlib")
               for runtime in (compat.COLAB_CURRENT, compat.COLAB_OLDEST)}
    broken = [name for name, version in shipped.items() if version and first <= _release(version) < fixed]
    assert broken, (f"no supported Colab runtime ships a jaxlib in {first}-{fixed} ({shipped}): the donation "
                    "workaround is no longer needed; remove _jax_training_without_donation and raise the jax floor")


def _three_sgd_steps(donate: bool) -> np.ndarray:
    """Three jitted SGD steps of a small tanh network whose weights are (or are not) donated to each step."""
    import jax
    import jax.numpy as jnp

    def step(weights, x, y):
        def loss(w):
            return jnp.mean((jnp.tanh(x @ w[0]) @ w[1] - y) ** 2)

        return [w - 0.1 * g for w, g in zip(weights, jax.grad(loss)(weights))]

    rng = np.random.default_rng(0)
    x, y = jnp.asarray(rng.normal(size=(64, 8)), "float32"), jnp.asarray(rng.normal(size=(64, 4)), "float32")
    weights = [jnp.asarray(rng.normal(size=shape), "float32") for shape in ((8, 16), (16, 4))]
    compiled = jax.jit(step, donate_argnums=(0,) if donate else ())
    for _ in range(3):
        weights = compiled(weights, x, y)
    return np.concatenate([np.asarray(w).ravel() for w in weights])


def test_a_jaxlib_whose_donation_computes_wrongly_here_is_in_the_workaround_range():
    jax = pytest.importorskip("jax", reason="jax is not installed: the check runs in ./course compat jax")
    import jaxlib

    if jax.default_backend() != "cpu":
        pytest.skip("the bug is in jaxlib's CPU backend; jax runs on " + jax.default_backend())
    difference = float(np.abs(_three_sgd_steps(donate=True) - _three_sgd_steps(donate=False)).max())
    first, fixed = environment._JAXLIB_BROKEN_CPU_DONATION
    if difference > 1e-6:  # agreement proves nothing: the bug does not show on every CPU
        assert first <= _release(jaxlib.__version__) < fixed, (
            f"jaxlib {jaxlib.__version__} computes wrongly with donated buffers on this CPU (off by {difference:.1e}), "
            f"outside _JAXLIB_BROKEN_CPU_DONATION {first}-{fixed}: widen the range")


def test_keras_jax_steps_are_compiled_without_donation_and_compute_as_eager_ones(monkeypatch):
    keras = helpers.environment._import_keras()
    if keras.backend.backend() != "jax":
        pytest.skip("Keras runs on " + keras.backend.backend() + ": the check runs with KERAS_BACKEND=jax")
    import jax
    from keras.src.backend.jax import trainer

    if jax.default_backend() != "cpu":
        pytest.skip("the workaround is for jaxlib's CPU backend; jax runs on " + jax.default_backend())
    donations = []

    def recording_jit(function, **options):  # stands for jax.jit: records what Keras asks to donate
        donations.append({name: value for name, value in options.items() if name.startswith("donate")})
        return jax.jit(function, **options)

    monkeypatch.setattr(trainer, "jit", recording_jit)
    monkeypatch.setattr(environment, "_JAXLIB_BROKEN_CPU_DONATION", ((0, 0), (10**6, 0)))  # on this jaxlib too
    assert environment._jax_training_without_donation()

    def weights_after_three_steps(jit_compile: bool) -> np.ndarray:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"),
                                  keras.layers.Dense(4, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      jit_compile=jit_compile)
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(96, 8)).astype("float32"), rng.integers(0, 4, 96)
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        return np.concatenate([w.ravel() for w in model.get_weights()])

    compiled, eager = weights_after_three_steps(True), weights_after_three_steps(False)
    assert donations, "Keras's JAX trainer no longer compiles its steps with trainer.jit: the workaround misses them"
    assert all(not asked for asked in donations), f"a step was still compiled with donation: {donations}"
    assert np.allclose(compiled, eager, atol=1e-5), "compiled training steps differ from eager ones"
