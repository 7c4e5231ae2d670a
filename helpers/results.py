"""Recording each notebook's key results so that runs can be compared.

Every notebook ends by writing ``<RESULTS_DIR>/<notebook stem>.json``::

    {"notebook": "02_dense_network", "keras_backend": "tensorflow", "quick_mode": false,
     "created": "2026-11-22T12:00:00+00:00", "parameters": {"EPOCHS": 15, ...},
     "results": {"test_accuracy_dense_512": 0.9812, "train_seconds_dense_512": 41.3, ...}}

``results`` is flat: one name per number, accuracies as fractions (0.98, not 98)
and durations in seconds, so the course runner can put runs side by side. The
file also records the run's ``environment`` (library versions, backend, GPU or
CPU) and, for training notebooks, its resolved ``training`` budget.

Under the test suite ``COURSE_RESULTS_DIR`` redirects every notebook's results
and saved models to a temporary folder, so a test run never overwrites the
results of a student's own full run.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from numbers import Integral, Real
from pathlib import Path

from ._files import write_atomically
from .environment import environment_info, in_quick_mode

RESULTS_ENV_VAR = "COURSE_RESULTS_DIR"

Scalar = float | int | str | bool | None


def _plain(name: str, value: object) -> Scalar:
    """Turn NumPy scalars into plain Python values; refuse nested or non-finite ones."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        if not math.isfinite(float(value)):
            raise ValueError(f"result {name!r} is {value}; only finite numbers can be recorded")
        return float(value)
    if hasattr(value, "item"):  # a NumPy scalar or 0-d array
        return _plain(name, value.item())
    raise TypeError(
        f"result {name!r} is a {type(value).__name__}; record one number, string or bool per key"
    )


def results_folder(results_dir: str | os.PathLike[str]) -> Path:
    """The folder for this run's results file and saved models, created if missing.

    It is ``results_dir`` (the notebook's ``RESULTS_DIR``), except under the test
    suite, which sets ``COURSE_RESULTS_DIR`` to a temporary folder: a test run never
    touches a student's results.
    """
    redirected = os.environ.get(RESULTS_ENV_VAR)
    folder = Path(redirected) if redirected else Path(results_dir)
    folder = folder.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_results(
    notebook: str,
    results: Mapping[str, object],
    *,
    results_dir: str | os.PathLike[str],
    parameters: Mapping[str, object],
    budget=None,
    show: Sequence[str] | None = None,
) -> Path:
    """Write the results of one notebook run to ``<results_dir>/<notebook>.json``.

    The file is written atomically (a half-written file never replaces a good one)
    and also records the parameters, the environment (versions, backend, device),
    whether quick mode was on, the execution settings training used
    (:func:`helpers.execution_settings`) and, given the notebook's
    :class:`~helpers.budget.TrainingBudget`, the training lengths it resolved.
    ``results_dir`` goes through :func:`results_folder`. Returns the path written.

    It prints every result, or with ``show`` (prefixes of result names) only those
    whose names start with one of them, and how many more the file holds: a notebook
    that saves hundreds of numbers ends on its summary, not on a wall of them.
    """
    environment = environment_info()
    record = {
        "notebook": notebook,
        "keras_backend": environment["keras_backend"],
        "quick_mode": in_quick_mode(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": {
            name: [_plain(name, item) for item in value] if isinstance(value, (list, tuple))
            else _plain(name, value)
            for name, value in parameters.items()
        },
        "results": {name: _plain(name, value) for name, value in results.items()},
        "environment": environment,
    }
    if budget is not None:
        record["training"] = budget.record()
    from .execution import execution_settings

    record["execution"] = execution_settings().record()
    path = write_atomically(results_folder(results_dir) / f"{notebook}.json",
                            json.dumps(record, indent=2) + "\n")
    prefixes = (show,) if isinstance(show, str) else tuple(show or ())
    printed = {name: value for name, value in record["results"].items()
               if show is None or name.startswith(prefixes)}
    width = max(map(len, printed), default=0)
    print(f"Saved {len(record['results'])} results to {path}")
    for name, value in printed.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"  {name:<{width}}  {shown}")
    if len(printed) < len(record["results"]):
        print(f"  ... and {len(record['results']) - len(printed)} more in the file (helpers.load_results(path))")
    return path


def load_results(path: str | os.PathLike[str]) -> dict:
    """Read one results file written by :func:`save_results`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
