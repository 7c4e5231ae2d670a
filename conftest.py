"""Suite-wide pytest settings (a root conftest, so they apply to notebooks/ too).

Kernels started by nbval inherit this process's environment, which is how the
notebooks learn that they run under test:

- ``COURSE_QUICK=1``: notebooks shrink data and epochs (an explicit
  ``COURSE_QUICK=0`` runs them full);
- ``COURSE_RESULTS_DIR``: every notebook writes its results file and saved
  models into a temporary folder, never over a student's ``notebooks/results/``;
- ``COURSE_DATA_MIRROR``: a relative mirror path is made absolute here, because
  notebook kernels run in ``notebooks/``, not where the command was typed.

TensorFlow's C++ logging is silenced by ``helpers`` itself (see
``helpers/environment.py``), the same way in tests, runs and a student's browser.
"""

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("COURSE_QUICK", "1")
if os.environ.get("COURSE_DATA_MIRROR"):
    os.environ["COURSE_DATA_MIRROR"] = str(Path(os.environ["COURSE_DATA_MIRROR"]).expanduser().resolve())
_RESULTS_DIR = tempfile.mkdtemp(prefix="course-test-results-")
os.environ["COURSE_RESULTS_DIR"] = _RESULTS_DIR

SANITIZE_FILE = Path(__file__).parent / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # nbval resolves this path from the current directory: give it an absolute one.
    if hasattr(config.option, "nbval_sanitize_with") and not config.option.nbval_sanitize_with:
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)


def pytest_collection_modifyitems(session, config, items):
    # A checked cell compares what it prints, not its warnings: a warning from a GPU
    # machine or a newer library (stderr) must not fail a checked fact.
    for item in items:
        notebook = item.parent
        if hasattr(notebook, "skip_compare") and "stderr" not in notebook.skip_compare:
            notebook.skip_compare = (*notebook.skip_compare, "stderr")


def pytest_unconfigure(config):
    shutil.rmtree(_RESULTS_DIR, ignore_errors=True)
