"""The quick-mode reference: what CI's quick runs score, and how far that may move.

CI runs every notebook in quick mode only (``./course test``: little data, few
epochs), so its accuracies are low by design, and a floor such as "above 0.3" says
only that a model learns at all. A quick run is deterministic on one kind of
machine, but another CPU, library version or Keras backend moves its accuracies
about as much as another seed does. So the reference is recorded from several quick
runs: the notebook's defaults (what the suite runs) and at least three other
values of ``SEED``. ``reference/quick/<notebook>.json`` keeps, per Keras backend:

==============  ===============================================================
``results``     each accuracy's value at the defaults, its values at the other
                seeds, and its tolerance: the largest of 3 standard deviations
                over all the seeds, 1.5 times the largest distance of another
                seed from the default, and ``MIN_TOLERANCE``; an accuracy that
                no other seed moved (the nearest-centroid baselines, 04's all-zero
                initialization) gets ``UNMEASURED_TOLERANCE``, as its noise on
                another machine was not measured. Any other accuracy must move with
                ``SEED`` in quick mode (06's augmentation runs once used their own
                fixed seeds there: 0.05 held on one machine, and CI's Colab
                runtime on another CPU scored 0.15 higher)
``mean``        the same for the mean of all those accuracies (a change in
                shared code moves many of them at once, beyond the mean's
                noise, which is smaller than each one's)
==============  ===============================================================

An accuracy whose tolerance is over ``MAX_TOLERANCE`` is too noisy in quick mode to
see a regression of about 10 points; it is recorded but not checked. ``tests/test_quick_reference.py`` compares every notebook the suite ran with
its reference (``check_record``); ``./course quick-reference RUN_DIR...`` records it
(``record_reference``).
"""

from __future__ import annotations

import ast
import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .reference import REFERENCE_DIR, find_results
from .runner import CourseError, NOTEBOOK_DIR, notebook_parameters

QUICK_REFERENCE_DIR = REFERENCE_DIR / "quick"
MIN_TOLERANCE = 0.02  # two points: below this, a quick run's few hundred test images cannot tell
UNMEASURED_TOLERANCE = 0.05  # for an accuracy the seed does not move: half the regression to catch
MAX_TOLERANCE = 0.08  # above this, a 10-point regression of that one accuracy could pass unseen
MIN_OTHER_SEEDS = 3


def accuracies(record: Mapping) -> dict[str, float]:
    """The accuracies a results file records: names with ``accuracy`` or ``_acc_``, spreads left out."""
    return {
        name: float(value) for name, value in record["results"].items()
        if ("accuracy" in name or "_acc_" in name) and "std" not in name
        and isinstance(value, int | float) and not isinstance(value, bool)
    }


def tolerance(default: float, others: Sequence[float]) -> float:
    """How far a quick run's value may be from ``default``, given the values at other seeds."""
    if all(value == default for value in others):
        return UNMEASURED_TOLERANCE
    spread = 3 * statistics.stdev([default, *others])
    farthest = 1.5 * max(abs(value - default) for value in others)
    return math.ceil(round(max(MIN_TOLERANCE, spread, farthest) * 200, 6)) / 200  # up to the next 0.005


def _entry(default: float, others: Sequence[float]) -> dict:
    allowed = tolerance(default, others)
    return {"value": round(default, 6), "other_seeds": [round(value, 6) for value in others],
            "tolerance": allowed, "checked": allowed <= MAX_TOLERANCE}


def reference_entry(default: Mapping, others: Sequence[Mapping]) -> dict:
    """One backend's reference from the defaults' results file and those of other seeds.

    Only the accuracies every run recorded count (a name with the seed in it, like
    ``..._seed_42``, exists in one run only).
    """
    values = [accuracies(record) for record in (default, *others)]
    names = [name for name in values[0] if all(name in run for run in values[1:])]
    if not names:
        raise CourseError(f"{default['notebook']}: no accuracy that every run recorded")
    results = {name: _entry(values[0][name], [run[name] for run in values[1:]]) for name in names}
    means = [statistics.fmean(run[name] for name in names) for run in values]
    return {
        "seeds": [record["parameters"].get("SEED") for record in (default, *others)],
        "created": default.get("created"),
        "environment": default.get("environment", {}),
        "results": results,
        "mean": _entry(means[0], means[1:]),
    }


def check_record(record: Mapping, reference: Mapping) -> list[str]:
    """What is wrong with a quick run's results against the notebook's quick reference (nothing: [])."""
    notebook, backend = record["notebook"], record.get("keras_backend")
    if not record.get("quick_mode"):
        return [f"{notebook}: not a quick-mode run (the quick reference holds quick runs only)"]
    if backend not in reference:
        return [f"{notebook}: no quick reference for Keras backend {backend!r} (recorded: "
                f"{', '.join(sorted(reference)) or 'none'}); record one with ./course quick-reference"]
    expected, values = reference[backend], accuracies(record)
    problems = []
    for name, entry in expected["results"].items():
        if name not in values:
            problems.append(f"{notebook}: {name} missing from the run")
        elif entry["checked"] and abs(values[name] - entry["value"]) > entry["tolerance"]:
            problems.append(f"{notebook}: {name} = {values[name]:.4f}, reference {entry['value']:.4f} "
                            f"± {entry['tolerance']:.3f}")
    names = [name for name in expected["results"] if name in values]
    if names:
        mean, entry = statistics.fmean(values[name] for name in names), expected["mean"]
        if abs(mean - entry["value"]) > entry["tolerance"]:
            problems.append(f"{notebook}: mean of its {len(names)} accuracies = {mean:.4f}, reference "
                            f"{entry['value']:.4f} ± {entry['tolerance']:.3f}")
    return problems


def _default_seed(notebook: str, notebook_dir: Path) -> object:
    return ast.literal_eval(notebook_parameters(notebook_dir / f"{notebook}.ipynb")["SEED"]["default"])


def group_runs(records: Iterable[Mapping], notebook_dir: Path = NOTEBOOK_DIR) -> dict[tuple[str, str], tuple]:
    """Quick runs by (notebook, backend): the defaults' record and the other seeds' records."""
    groups: dict[tuple[str, str], list[Mapping]] = {}
    for record in records:
        if not record.get("quick_mode"):
            raise CourseError(f"{record['notebook']}: a run without quick mode (record quick runs only)")
        groups.setdefault((record["notebook"], record.get("keras_backend")), []).append(record)
    paired = {}
    for (notebook, backend), runs in sorted(groups.items()):
        seed = _default_seed(notebook, notebook_dir)
        defaults = [run for run in runs if run["parameters"].get("SEED") == seed]
        others = [run for run in runs if run["parameters"].get("SEED") != seed]
        if len(defaults) != 1 or len({run["parameters"].get("SEED") for run in others}) < MIN_OTHER_SEEDS:
            raise CourseError(f"{notebook} ({backend}): need one run at the default SEED={seed} and runs at "
                              f"{MIN_OTHER_SEEDS} other seeds; found {len(defaults)} and "
                              f"{sorted(run['parameters'].get('SEED') for run in others)}")
        paired[notebook, backend] = (defaults[0], others)
    return paired


def record_reference(run_dirs: Sequence[Path], reference_dir: Path = QUICK_REFERENCE_DIR) -> int:
    """``./course quick-reference RUN_DIR...``: write each notebook's quick reference from its runs.

    A backend's entry is replaced; the other backends' entries of the file are kept.
    """
    records = [record for run_dir in run_dirs for _, record in find_results(run_dir)]
    if not records:
        raise CourseError("no results files under " + ", ".join(map(str, run_dirs)))
    reference_dir.mkdir(parents=True, exist_ok=True)
    for (notebook, backend), (default, others) in group_runs(records).items():
        path = reference_dir / f"{notebook}.json"
        stored = json.loads(path.read_text()) if path.is_file() else {}
        stored[backend] = entry = reference_entry(default, others)
        path.write_text(json.dumps(dict(sorted(stored.items())), indent=2) + "\n")
        checked = [name for name, item in entry["results"].items() if item["checked"]]
        print(f"{path}: {backend}, {len(entry['results'])} accuracies ({len(checked)} checked one by one), "
              f"mean {entry['mean']['value']:.4f} ± {entry['mean']['tolerance']:.3f}, seeds {entry['seeds']}")
    return 0


def load_reference(notebook: str, reference_dir: Path = QUICK_REFERENCE_DIR) -> dict | None:
    """The notebook's quick reference, or None if it has none."""
    path = reference_dir / f"{notebook}.json"
    return json.loads(path.read_text()) if path.is_file() else None
