"""Runtime bookkeeping shared by every notebook: versions, seeding and quick mode.

Keras is imported inside the functions, not at module level, so that
``import helpers`` stays fast and the data tools work without a deep-learning
backend installed.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import TypeVar

# TensorFlow 2.21 leaves its oneDNN CPU kernels off on some CPUs (this course's test
# machine among them); with them on, convolutional networks train about twice as fast
# on the CPU, and seeded runs stay bit-identical. The variable only takes effect if it
# is set before TensorFlow is imported, which is why notebooks import helpers first.
# An explicit TF_ENABLE_ONEDNN_OPTS=0 in the environment still wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

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


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the active Keras backend in one call.

    With the TensorFlow backend it also turns on TensorFlow's op determinism, so
    that a re-run on the same machine gives bit-identical weights. Other machines,
    thread counts or library versions still change the last digits.
    """
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def gpu_names() -> list[str]:
    """Names of the accelerators the active Keras backend can use (empty on CPU)."""
    import keras

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


def describe_environment() -> dict[str, str]:
    """Print and return the versions and hardware a notebook runs on.

    Printing this at the top of every notebook makes results comparable: a number
    measured on a GPU with the JAX backend is not expected to match one measured on
    a laptop CPU with TensorFlow.
    """
    import keras
    import numpy as np

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
    gpus = gpu_names()
    info["gpu"] = ", ".join(gpus) if gpus else "none (running on the CPU)"
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}} : {value}")
    return info
