"""Recording each notebook's key results so that runs can be compared.

Every notebook ends by writing ``<RESULTS_DIR>/<notebook stem>.json``::

    {"notebook": "02_dense_network", "keras_backend": "tensorflow", "quick_mode": false,
     "created": "2026-11-22T12:00:00+00:00", "parameters": {"EPOCHS": 15, ...},
     "results": {"test_accuracy_dense_512": 0.9812, "train_seconds_dense_512": 41.3, ...}}

``results`` is flat: one name per number, accuracies as fractions (0.98, not 98)
and durations in seconds, so the course runner can put runs side by side.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from numbers import Integral, Real
from pathlib import Path

from .environment import in_quick_mode

Scalar = float | int | str | bool


def _plain(name: str, value: object) -> Scalar:
    """Turn NumPy scalars into plain Python values; refuse nested or non-finite ones."""
    if isinstance(value, bool | str):
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


def save_results(
    notebook: str,
    results: Mapping[str, object],
    *,
    results_dir: str | os.PathLike[str],
    parameters: Mapping[str, object],
) -> Path:
    """Write the results of one notebook run to ``<results_dir>/<notebook>.json``.

    The file is written atomically (a half-written file never replaces a good one)
    and also records the parameters, the Keras backend and whether quick mode was on.
    Returns the path written.
    """
    import keras

    record = {
        "notebook": notebook,
        "keras_backend": keras.backend.backend(),
        "quick_mode": in_quick_mode(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": {
            name: [_plain(name, item) for item in value] if isinstance(value, (list, tuple))
            else _plain(name, value)
            for name, value in parameters.items()
        },
        "results": {name: _plain(name, value) for name, value in results.items()},
    }
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as handle:
        json.dump(record, handle, indent=2)
        handle.write("\n")
    os.replace(handle.name, path)
    width = max(map(len, record["results"]), default=0)
    print(f"Saved {len(record['results'])} results to {path}")
    for name, value in record["results"].items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"  {name:<{width}}  {shown}")
    return path


def load_results(path: str | os.PathLike[str]) -> dict:
    """Read one results file written by :func:`save_results`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
