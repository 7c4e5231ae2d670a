"""How Keras runs training on this device: steps per execution, XLA, precision, BatchNormalization.

The lesson writes ``compile`` and ``fit`` out; this module supplies the execution
options that make them fast here, decided once per process by rules that
``./course bench`` measured (README, "Training speed"):

- ``steps_per_execution=16``: Keras runs 16 training steps per call into the
  backend instead of one, which saves the fixed cost of each call (the 512-unit
  dense network: 2.6 -> 1.4 s per epoch on the course's 2-core AMD EPYC).
- ``jit_compile=False`` on TensorFlow: Keras turns XLA off anyway (with a warning)
  whenever TensorFlow's op determinism is on, which :func:`helpers.set_seed` turns on
  for bit-identical reruns.
- ``mixed_bfloat16`` on a CPU that computes bfloat16 itself (AVX512_BF16 or
  AMX-BF16): the layers compute in bfloat16 and keep their weights in float32; each
  network's output layer is written ``dtype="float32"``, so the softmax and the loss
  stay in float32. float32 everywhere else (TensorFlow emulates bfloat16 on other
  CPUs, many times slower).
- BatchNormalization through TensorFlow's fused kernel (:class:`FusedBatchNormalization`)
  on TensorFlow's CPU, where Keras 3's own layer (not fused on that backend) measured
  slower, and much slower together with ``steps_per_execution``.

``COURSE_KERAS_DEFAULTS=1`` restores Keras's defaults (one step per execution, XLA
"auto", Keras's BatchNormalization), so an instructor or the benchmark can compare
both in one run. Keras is imported inside the functions so that ``import helpers``
stays fast.
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass

#: Set to 1 (or true, yes, on) to train with Keras's default execution options.
KERAS_DEFAULTS_VARIABLE = "COURSE_KERAS_DEFAULTS"
_TRUE_WORDS = {"1", "true", "yes", "on"}

#: Steps per call into the backend where it measured faster (``./course bench``).
FAST_STEPS_PER_EXECUTION = 16


@dataclass(frozen=True)
class ExecutionSettings:
    """The execution options of every training run in this process.

    ``compile_options`` go to ``model.compile(..., **settings.compile_options)``;
    ``fused_batch_norm`` says which layer :func:`batch_normalization` builds.
    """

    steps_per_execution: int
    jit_compile: bool | str
    precision: str
    fused_batch_norm: bool
    reason: str

    @property
    def compile_options(self) -> dict[str, object]:
        """The keyword arguments of ``model.compile`` that set how training executes."""
        return {"steps_per_execution": self.steps_per_execution, "jit_compile": self.jit_compile}

    @property
    def is_keras_default(self) -> bool:
        return self == keras_defaults(self.reason)

    def summary(self) -> str:
        """One line: what was chosen and why."""
        norm = "TensorFlow's fused kernel" if self.fused_batch_norm else "Keras's layer"
        precision = self.precision if self.precision == "float32" else f"{self.precision} (output layers in float32)"
        return (f"Execution: steps_per_execution={self.steps_per_execution}, jit_compile={self.jit_compile!r}, "
                f"{precision}, BatchNormalization through {norm} ({self.reason})")

    def record(self) -> dict[str, object]:
        """What a results file keeps of the settings."""
        return asdict(self)


def keras_defaults(reason: str = "Keras's defaults") -> ExecutionSettings:
    """Keras's own execution options: one step per execution, XLA "auto", float32, Keras's BatchNormalization."""
    return ExecutionSettings(1, "auto", "float32", False, reason)


def wants_keras_defaults() -> bool:
    """True when ``COURSE_KERAS_DEFAULTS`` asks for Keras's default execution options."""
    return os.environ.get(KERAS_DEFAULTS_VARIABLE, "").strip().lower() in _TRUE_WORDS


@functools.cache
def execution_settings() -> ExecutionSettings:
    """The execution options for this process's Keras backend and device (decided once, then cached).

    Rules, each from a measurement (``./course bench``, README's speed table):

    - ``COURSE_KERAS_DEFAULTS=1``: Keras's defaults.
    - TensorFlow on the CPU: 16 steps per execution, no XLA (Keras turns it off under
      op determinism, which ``set_seed`` turns on) and the fused BatchNormalization
      kernel, together: that was the fastest or within the noise of it for every model
      measured. (16 steps per execution with *Keras's*
      BatchNormalization measured up to 1.7x slower than Keras's defaults on a
      BatchNormalization-heavy network, so the two go together.)
    - Precision on TensorFlow's CPU: ``mixed_bfloat16`` where the CPU computes bfloat16
      natively (AVX512_BF16 or AMX-BF16, read from the CPU's flags, never guessed):
      on an AMD EPYC with AVX512_BF16 it made the keras.io convnet 2.0x, 05's course
      network 1.4x (width 16) and 1.7x (width 32) and notebook 03's course convnet
      1.08x faster than float32 with the other settings the same
      (``docs/bench-amd-epyc-avx512bf16-2026-12-07.json``). float32 on every other
      CPU, where TensorFlow emulates bfloat16, many times slower.
    - A GPU, and the JAX and PyTorch backends: Keras's defaults, until measured.
    """
    if wants_keras_defaults():
        return keras_defaults(f"{KERAS_DEFAULTS_VARIABLE}=1 asks for Keras's defaults")
    from .environment import _import_keras, gpu_names

    keras = _import_keras()
    backend = keras.backend.backend()
    if backend != "tensorflow":
        return keras_defaults(f"the {backend} backend: Keras's defaults (./course bench has not measured it)")
    if gpu_names():
        return keras_defaults("TensorFlow on a GPU: Keras's defaults (./course bench has not measured a GPU yet)")
    if native_bfloat16():
        return ExecutionSettings(FAST_STEPS_PER_EXECUTION, False, "mixed_bfloat16", True,
                                 "TensorFlow on a CPU with native bfloat16: fewer calls per step, no XLA, "
                                 "fused BatchNormalization, bfloat16 arithmetic, as ./course bench measured")
    return ExecutionSettings(FAST_STEPS_PER_EXECUTION, False, "float32", True,
                             "TensorFlow on a CPU without native bfloat16: fewer calls per step, no XLA, "
                             "fused BatchNormalization, as ./course bench measured")


def cpu_flags() -> set[str]:
    """The CPU's instruction-set flags (Linux: /proc/cpuinfo; an empty set elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            line = next(line for line in handle if line.startswith("flags"))
    except (OSError, StopIteration):
        return set()
    return set(line.split(":", 1)[1].split())


def native_bfloat16() -> bool:
    """True where the CPU computes bfloat16 itself (AVX512_BF16 or AMX-BF16); TensorFlow emulates it elsewhere."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def use_execution_settings() -> ExecutionSettings:
    """Print the one line saying what this process trains with, and return the settings.

    A notebook's setup cell calls it. It sets Keras's global dtype policy to the
    chosen precision (every layer built afterwards follows it, except those given
    their own ``dtype``, such as the output layers written ``dtype="float32"``);
    ``model.compile(..., **execution.compile_options)`` and :func:`batch_normalization`
    then use the rest of what it chose.
    """
    settings = execution_settings()
    from .environment import _import_keras

    _import_keras().mixed_precision.set_global_policy(settings.precision)
    print(settings.summary())
    return settings


def check_output_precision(model) -> None:
    """Raise ``ValueError`` if ``model`` computes its outputs below float32.

    Under a mixed policy every layer computes in 16 bits unless it is given
    ``dtype="float32"``; a softmax in bfloat16 rounds every probability from
    1 - 2**-9 = 0.99805 up to exactly 1 (bfloat16 keeps 8 bits of significand), so
    the loss of those images and its gradient vanish. :func:`helpers.train` and
    :func:`helpers.train_grid` check every model before fitting it.
    """
    try:
        dtypes = [str(output.dtype) for output in model.outputs]
    except (AttributeError, ValueError):  # a Sequential model without an Input is built by fit: read its last layer
        dtypes = [model.layers[-1].compute_dtype] if model.layers else []
    low = [dtype for dtype in dtypes if dtype not in ("float32", "float64")]
    if low:
        name = model.layers[-1].name if model.layers else model.name
        raise ValueError(
            f"model {model.name!r} computes its output in {low[0]} under the {model.dtype_policy.name} "
            f"policy: give its output layer ({name!r}) dtype=\"float32\" (for example "
            f"keras.layers.Dense(10, activation=\"softmax\", dtype=\"float32\")), so that the softmax and the "
            f"loss keep full precision")


def batch_normalization(fused: bool | None = None, **options) -> object:
    """A BatchNormalization layer: :class:`FusedBatchNormalization` where it measured faster, else Keras's.

    Same arguments as ``keras.layers.BatchNormalization``, same maths and the same
    variables, so the choice changes speed, not what the network learns. ``fused``
    forces one or the other (notebook 06 times both); ``None`` follows
    :func:`execution_settings`.
    """
    import keras

    if execution_settings().fused_batch_norm if fused is None else fused:
        return _fused_layer_class()(**options)
    return keras.layers.BatchNormalization(**options)


def _fused_class():
    import keras

    @keras.saving.register_keras_serializable(package="helpers", name="FusedBatchNormalization")
    class FusedBatchNormalization(keras.layers.BatchNormalization):
        """``keras.layers.BatchNormalization`` computed by TensorFlow's fused kernel (``FusedBatchNormV3``).

        Keras 3 computes batch normalization on TensorFlow from separate operations
        (mean, variance, scale, shift, each a pass over the tensor and each with its
        own gradient); TensorFlow's fused kernel does the same in one pass forward and
        one backward. Same variables (gamma, beta, moving_mean, moving_variance), same
        normalisation by the *biased* batch variance, same moving-average update as
        Keras's layer, so weights move freely between the two: ``model.load_weights``
        of a network built with either layer (same layer names) loads a ``.weights.h5``
        file saved with the other, and a ``.keras`` file loads wherever ``helpers`` is imported. Used only for 4-D channels-last inputs on the
        TensorFlow backend without a mask; anything else goes to Keras's own code.
        """

        def _fusable(self, inputs, mask) -> bool:
            import keras

            return (keras.backend.backend() == "tensorflow" and mask is None and len(inputs.shape) == 4
                    and self.axis in (-1, 3) and not getattr(self, "renorm", False) and not self.synchronized
                    and self.scale and self.center)

        def call(self, inputs, training=None, mask=None):
            if not self._fusable(inputs, mask):
                return super().call(inputs, training=training, mask=mask)
            import tensorflow as tf

            x = tf.cast(inputs, "float32") if inputs.dtype == tf.float64 else inputs
            if training and self.trainable:
                outputs, mean, corrected_variance = tf.compat.v1.nn.fused_batch_norm(
                    x, self.gamma, self.beta, epsilon=self.epsilon, is_training=True)
                count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), "float32")
                # The kernel returns the batch variance with Bessel's correction; Keras
                # updates its moving variance with the biased one, as the normalisation uses.
                variance = corrected_variance * (count - 1.0) / tf.maximum(count, 1.0)
                self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
                self.moving_variance.assign(
                    self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
            else:
                outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                    x, self.gamma, self.beta, mean=self.moving_mean, variance=self.moving_variance,
                    epsilon=self.epsilon, is_training=False)
            return tf.cast(outputs, self.compute_dtype)

    return FusedBatchNormalization


def __getattr__(name: str):
    # The class subclasses a Keras layer, so it is made on first use: importing helpers
    # must not import Keras.
    if name == "FusedBatchNormalization":
        return _fused_layer_class()
    raise AttributeError(name)


@functools.cache
def _fused_layer_class():
    return _fused_class()
