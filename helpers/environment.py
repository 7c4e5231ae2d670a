"""Runtime bookkeeping shared by every notebook: versions, devices, seeding and quick mode.

Keras is imported inside the functions, not at module level, so that
``import helpers`` stays fast, changes nothing in the process (not even its
environment variables) and the data tools work without a deep-learning backend
installed. Every function that needs Keras gets it from :func:`_import_keras`, the
one place where TensorFlow is configured (:func:`configure_tensorflow_environment`)
and first imported. That works because every notebook's setup cell calls
:func:`describe_environment` before the notebook's own ``import keras``
(``tests/test_notebooks.py`` checks the call): TensorFlow reads its settings once,
when it is imported.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TypeVar

#: The environment TensorFlow reads once, when it is imported: set by
#: :func:`configure_tensorflow_environment` where unset (an explicit value wins).
#:
#: - ``TF_ENABLE_ONEDNN_OPTS=1``: TensorFlow 2.21 leaves its oneDNN CPU kernels off on
#:   some CPUs (this course's test machine among them); with them on, convolutional
#:   networks train about twice as fast on the CPU, and seeded runs stay bit-identical.
#: - ``TF_CPP_MIN_LOG_LEVEL=3``: TensorFlow's C++ core writes log lines straight to the
#:   process's stderr, which Jupyter shows in red under the cell: "I0000 ... oneDNN custom
#:   operations are on", "Could not find cuda drivers", "failed call to cuInit", and during
#:   training "E0000 ... NodeDef mentions attribute use_unbounded_threadpool". None is a
#:   problem of the student's code, and students read red text as "I broke it". Level 3
#:   keeps only FATAL messages of the C++ core; Python errors (a failing cell's traceback,
#:   Keras's and TensorFlow's Python warnings) are not affected. The one C++ error a
#:   student needs, why an installed GPU cannot be used, is replaced by one line of
#:   :func:`_say_if_the_gpu_is_unused`.
TENSORFLOW_ENVIRONMENT = {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}

# Lines that TensorFlow's import writes to stderr whatever TF_CPP_MIN_LOG_LEVEL says
# (measured with TF 2.21): absl's pre-initialisation notice and the CUDA stub's
# "no GPU" notice. _import_keras drops exactly these and passes everything else on.
_IMPORT_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|oneDNN custom operations are on"
    r"|cpu_feature_guard\.cc"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|failed call to cuInit"
)

QUICK_MODE_VARIABLE = "COURSE_QUICK"
_TRUE_WORDS = {"1", "true", "yes", "on"}

T = TypeVar("T")


def in_quick_mode() -> bool:
    """True when ``COURSE_QUICK`` asks for a quick run (set by the test suite).

    Quick mode exists so that CI and instructors can check in a few minutes that
    every cell still runs: the same code paths execute on less data and fewer
    epochs. Full runs are the default.
    """
    return os.environ.get(QUICK_MODE_VARIABLE, "").strip().lower() in _TRUE_WORDS


def quick(full: T, quick_value: T) -> T:
    """Return ``quick_value`` in quick mode and ``full`` otherwise.

    This is the one place where notebooks shrink data sizes and epoch counts, e.g.
    ``epochs = helpers.quick(EPOCHS, 1)``.
    """
    return quick_value if in_quick_mode() else full


def configure_tensorflow_environment() -> None:
    """Set TensorFlow's start-up variables (:data:`TENSORFLOW_ENVIRONMENT`) where they are unset.

    They only take effect if set before TensorFlow is imported. :func:`_import_keras`
    calls this before it imports Keras (which may import TensorFlow, now or later), and
    ``./course run`` calls it for the environment its notebook kernels inherit. An
    explicit value in the environment wins, e.g. ``TF_CPP_MIN_LOG_LEVEL=0`` to see every
    line TensorFlow logs.
    """
    for name, value in TENSORFLOW_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def _import_keras():
    """Import Keras; with the TensorFlow backend, without TensorFlow's start-up log lines.

    The lines come from C++ straight to file descriptor 2, where Python's
    ``warnings`` and ``logging`` cannot reach them. So stderr is sent to a
    temporary file while TensorFlow is imported, then everything that is not one
    of the known start-up notices (``_IMPORT_NOISE``) is written back to stderr:
    a real problem during the import still shows.
    """
    configure_tensorflow_environment()
    wants_tensorflow = os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
    if wants_tensorflow and "tensorflow" not in sys.modules:
        _quietly_import_tensorflow()
    import keras

    if keras.backend.backend() == "jax":
        _jax_training_without_donation()
    from .execution import _fused_layer_class

    _fused_layer_class()  # registered, so that a saved model that uses it loads
    return keras


#: jaxlib releases whose CPU backend returns wrong results from a jitted function whose
#: input buffers are donated: [first, fixed). Measured with a three-step SGD loop:
#: 0.7.2 and 0.8.0 are off by about 1e-2 from the same loop without donation; 0.6.2,
#: 0.9.0 and 0.10.2 agree to 1e-8. Keras's JAX trainer donates the model's state to
#: every training step, so these releases train far worse on the CPU (Colab's jax
#: 0.7.2: 0.70 test accuracy instead of 0.86 for notebook 02's quick-mode network).
_JAXLIB_BROKEN_CPU_DONATION = ((0, 7), (0, 9))


def _jax_training_without_donation() -> bool:
    """On a jaxlib with broken CPU buffer donation, compile Keras's steps without donation.

    Keras has no public switch for this: its JAX trainer (Keras 3.9 and later) compiles
    every step with its module-level ``jit``, which is replaced by one that drops
    ``donate_argnums``. The steps compute the same, only without reusing their inputs'
    memory. Returns True when the workaround is needed (and active, or warned about).
    ``tests/test_jax_workaround.py`` fails when Keras's steps no longer reach the
    replacement, and when no supported Colab runtime ships a broken jaxlib any more.
    """
    import jax
    import jaxlib

    first, fixed = _JAXLIB_BROKEN_CPU_DONATION
    release = tuple(int(part) for part in re.findall(r"\d+", jaxlib.__version__)[:2])
    if not first <= release < fixed or jax.default_backend() != "cpu":
        return False
    from keras.src.backend.jax import trainer

    if not hasattr(trainer, "jit"):
        warnings.warn(f"jaxlib {jaxlib.__version__} trains wrongly on the CPU and this Keras offers no "
                      "workaround: use the TensorFlow backend, a GPU, or jax 0.9 or later.", stacklevel=2)
    elif not getattr(trainer.jit, "without_donation", False):
        compile_step = trainer.jit

        def jit_without_donation(function: Callable, donate_argnums: object = (), **options: object) -> Callable:
            return compile_step(function, **options)

        jit_without_donation.without_donation = True
        trainer.jit = jit_without_donation
    return True


def _quietly_import_tensorflow() -> None:
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        except ImportError:
            tf = None  # Keras reports a missing backend itself, with its own message
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
    kept = without_start_up_noise(text)
    if kept:
        print(kept, file=sys.stderr)
    if tf is not None:
        _say_if_the_gpu_is_unused(tf)


def _nvidia_gpu_installed() -> bool:
    """True when this machine has an NVIDIA GPU and its driver, whatever TensorFlow makes of it."""
    return (os.path.isdir("/proc/driver/nvidia/gpus") and bool(os.listdir("/proc/driver/nvidia/gpus"))
            or os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi") is not None)


def _say_if_the_gpu_is_unused(tf) -> None:
    """Print one line to stderr when the machine has a GPU that TensorFlow does not list.

    Then everything trains on the CPU, and the reason (a CUDA or cuDNN library that does
    not load, a driver too old for this TensorFlow) is one of the C++ error lines that
    ``TF_CPP_MIN_LOG_LEVEL=3`` hides: the line says how to see it. On a machine without
    an NVIDIA GPU nothing is asked and nothing printed.
    """
    if not _nvidia_gpu_installed() or tf.config.list_physical_devices("GPU"):
        return
    build = "" if tf.test.is_built_with_cuda() else " (this TensorFlow was built without CUDA)"
    print(f"helpers: this machine has an NVIDIA GPU, but TensorFlow {tf.__version__} cannot use it{build}, so "
          "everything runs on the CPU. To see why, restart the kernel and run %env TF_CPP_MIN_LOG_LEVEL=0 "
          "before the setup cell (in a shell: export TF_CPP_MIN_LOG_LEVEL=0).", file=sys.stderr)


def without_start_up_noise(text: str) -> str:
    """``text`` without TensorFlow's known start-up notices (``_IMPORT_NOISE``) and blank lines."""
    return "\n".join(line for line in text.splitlines() if line.strip() and not _IMPORT_NOISE.search(line))


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the active Keras backend in one call.

    Unseeded ``keras.random`` calls repeat too, on every Keras the course supports
    (see :func:`_reset_global_seed_generator`). With the TensorFlow backend it also
    turns on TensorFlow's op determinism, so
    that a re-run on the same machine gives bit-identical weights. Other machines,
    thread counts or library versions still change the last digits.
    """
    keras = _import_keras()
    keras.utils.set_random_seed(seed)
    _reset_global_seed_generator()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _keras_resets_global_seed_generator() -> bool:
    """True when ``keras.utils.set_random_seed`` also resets the generator of unseeded ``keras.random`` calls.

    Keras added that reset (keras-team/keras#21874) together with the constant
    ``GLOBAL_SEED_GENERATOR`` in ``keras.src.random.seed_generator``; Keras 3.8, the oldest
    Colab runtime's, has neither.
    """
    from keras.src.random import seed_generator

    return hasattr(seed_generator, "GLOBAL_SEED_GENERATOR")


def _reset_global_seed_generator() -> None:
    """On a Keras without the reset, drop the global SeedGenerator: it is re-made from the new seed.

    The one version shim of :func:`set_seed`; ``tests/test_environment_results.py`` fails
    once the course's Keras floor includes the fix, so that the shim is then removed.
    """
    if _keras_resets_global_seed_generator():
        return
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("global_seed_generator", None)


def gpu_names() -> list[str]:
    """Names of the accelerators the active Keras backend can use (empty on the CPU).

    Training budgets use it: the sources' full settings where there is a GPU.
    """
    keras = _import_keras()

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform != "cpu"]
    if backend == "torch":
        import torch

        count = torch.cuda.device_count()
        return [torch.cuda.get_device_name(i) for i in range(count)]
    return []


def device_description() -> str:
    """The hardware that trains, in words: the GPU's model, or the CPU's model and core count.

    Timings are only comparable with the machine next to them (source 004 printed
    its CPUs' clock rates next to its times); this is the line a timing table records.
    """
    keras = _import_keras()
    gpus = gpu_names()
    if gpus and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        details = [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]
        return ", ".join(detail.get("device_name", "GPU") for detail in details)
    if gpus and keras.backend.backend() == "jax":
        import jax

        return ", ".join(device.device_kind for device in jax.devices() if device.platform != "cpu")
    if gpus:
        return ", ".join(gpus)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass  # not Linux: keep platform's name
    return f"CPU {cpu}, {os.cpu_count()} cores, no GPU"


def environment_info() -> dict[str, str]:
    """The versions and hardware a notebook runs on, as a dict (results files record it)."""
    import numpy as np

    keras = _import_keras()
    info = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": np.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
        "colab": "yes" if "google.colab" in sys.modules else "no",
        "quick_mode": "on" if in_quick_mode() else "off",
    }
    if info["keras_backend"] == "tensorflow":
        import tensorflow as tf

        onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
        info["tensorflow"] = f"{tf.__version__} (TF_ENABLE_ONEDNN_OPTS={onednn})"
    elif info["keras_backend"] == "jax":
        import jax

        info["jax"] = jax.__version__
        if _jax_training_without_donation():
            info["jax"] += " (training steps without buffer donation: broken on the CPU in jaxlib 0.7-0.8)"
    gpus = gpu_names()
    info["gpu"] = ", ".join(gpus) if gpus else "none (running on the CPU)"
    return info


_setup_started = time.perf_counter()  # reset by describe_environment, the setup cell's call


def seconds_since_setup() -> float:
    """Seconds since the setup cell ran (its :func:`describe_environment`): what a notebook has spent so far.

    A forecast counts them against ``MAX_MINUTES`` (:func:`helpers.planned_budget`).
    """
    return time.perf_counter() - _setup_started


def describe_environment() -> dict[str, str]:
    """Print and return the versions and hardware a notebook runs on, and start its clock.

    Printing this at the top of every notebook makes results comparable: a number
    measured on a GPU with the JAX backend is not expected to match one measured on
    a laptop CPU with TensorFlow. The setup cell calls it, so :func:`seconds_since_setup`
    counts from there.
    """
    global _setup_started
    _setup_started = time.perf_counter()
    info = environment_info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}} : {value}")
    return info


def distribution_key(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``ml_dtypes`` is ``ml-dtypes``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_restart(before: Mapping[str, str]) -> None:
    """Stop with one line if an install changed a package that the kernel had already imported.

    ``before`` maps distribution names to versions, read by a notebook's setup cell
    before its ``%pip install``. Python keeps running the old code of a module it has
    imported, so a changed package would half-apply and fail later, far from the
    cause; a restart of the runtime loads the new version cleanly.
    """
    from importlib.metadata import distributions, packages_distributions

    normalized = distribution_key
    earlier = {normalized(name): version for name, version in before.items() if name}
    now = {normalized(dist.metadata["Name"]): dist.version for dist in distributions() if dist.metadata["Name"]}
    changed = {name for name, version in earlier.items() if now.get(name) != version}
    if not changed:
        return
    imported = {normalized(dist) for module, dists in packages_distributions().items()
                if module in sys.modules for dist in dists}
    if changed & imported:
        raise RuntimeError("Restart the session (Runtime > Restart session), then run this cell again: the install "
                           "changed " + ", ".join(f"{name} {earlier[name]} -> {now.get(name, 'removed')}"
                                                  for name in sorted(changed & imported)) + ", already imported.")
