"""Suite-wide pytest settings (a root conftest, so they apply to notebooks/ too).

Kernels started by nbval inherit this process's environment, which is how the
notebooks learn that they run under test:

- ``COURSE_QUICK=1``: notebooks shrink data and epochs (an explicit
  ``COURSE_QUICK=0`` runs them full);
- ``COURSE_RESULTS_DIR``: every notebook writes its results file and saved
  models into a temporary folder, never over a student's ``notebooks/results/``;
- ``COURSE_DATA_MIRROR``: a relative mirror path is made absolute here, because
  notebook kernels run in ``notebooks/``, not where the command was typed.

After the notebooks, each one's quick results are compared with ``reference/quick/``
(tests/test_quick_reference.py; see ``_quick_reference_checks_last``).

TensorFlow's settings (oneDNN on, C++ start-up logging off) are set here for this
process, as ``helpers`` sets them when it first imports Keras and the runner for its
kernels (``helpers.environment.configure_tensorflow_environment``), so a test that
imports TensorFlow itself starts it the same way.
"""

import os
import shutil
import tempfile
from pathlib import Path

from helpers.environment import configure_tensorflow_environment

configure_tensorflow_environment()
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
    _quick_reference_checks_last(config, items)


def _quick_reference_checks_last(config, items):
    """Run tests/test_quick_reference.py's comparisons after the notebooks, for those that ran.

    A comparison reads the results file its notebook wrote under nbval in this session,
    so it runs after every notebook, and only for notebooks this session runs in quick mode.
    """
    executed = {item.path.stem for item in items if item.path.suffix == ".ipynb"}
    checks = [item for item in items if item.get_closest_marker("quick_reference")]
    quick = os.environ.get("COURSE_QUICK") == "1"
    kept = [item for item in checks if quick and item.callspec.params["notebook"] in executed]
    dropped = [item for item in checks if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if item not in checks] + kept


def pytest_unconfigure(config):
    shutil.rmtree(_RESULTS_DIR, ignore_errors=True)
