"""Suite-wide pytest settings (a root conftest, so they apply to notebooks/ too).

Kernels started by nbval inherit this process's environment, which is how the
notebooks learn that they run under test.
"""

import os
from pathlib import Path

# Quick mode: notebooks shrink data and epochs (an explicit COURSE_QUICK=0 runs them full).
os.environ.setdefault("COURSE_QUICK", "1")
# Keep TensorFlow's C++ start-up chatter out of test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SANITIZE_FILE = Path(__file__).parent / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # nbval resolves this path from the current directory: give it an absolute one.
    if hasattr(config.option, "nbval_sanitize_with") and not config.option.nbval_sanitize_with:
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
