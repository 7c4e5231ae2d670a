"""Compare a run's results with the committed reference results of the full runs.

``reference/<notebook>.json`` holds each notebook's results file from the full run
whose outputs are stored in the notebook (the format every notebook writes, see
``helpers.results``). ``./course compare RUN_DIR`` finds every results file under
RUN_DIR and checks it against the reference of the same notebook:

=====================  ==========================================================
result name            check
=====================  ==========================================================
``parameters_*``       exact: a model's parameter count is a fact, not a measurement
``*_std``              reported: a spread over a few seeds is itself noisy
``*accuracy*_mean``,   a mean over seeds with its spread ``<same>_std`` beside it:
``*_acc_mean``         within 3 per-seed standard deviations (the larger of the two
                       files' spreads), never less than the accuracy tolerance
other ``*accuracy*``   within an absolute tolerance (default 0.01, one point)
``*seconds*``          the ratio new/reference, flagged outside [0.5, 2]; never a failure
anything else          reported
=====================  ==========================================================

Each key gets its own tolerance: notebook 04's grid of variants, whose seed-to-seed
spread is often larger than one point, is checked at what its own seeds measured
rather than escaping the check. Three per-seed standard deviations is wider than
three standard errors of a difference of two means over n >= 2 seeds
(3 * std * sqrt(2 / n)), on purpose: a spread measured on 3 seeds is itself uncertain.

Runs that cannot be compared meaningfully are refused (unless ``--force``): a
quick-mode run against a full reference, and a run whose resolved training budget
differs from the reference's (fewer epochs give lower accuracies by design).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.results import load_results

from .runner import REPO_ROOT, CourseError, format_value, left_aligned

REFERENCE_DIR = REPO_ROOT / "reference"
MISSING = object()  # a result that one of the two files does not have
SEED_SPREADS = 3  # how many per-seed standard deviations a mean over seeds may move


@dataclass(frozen=True)
class Tolerances:
    """How far a new result may be from the reference before it counts as a regression."""

    accuracy: float = 0.01  # absolute, on fractions: 0.01 is one percentage point
    time_ratio: tuple[float, float] = (0.5, 2.0)  # new/reference outside this range is flagged


@dataclass(frozen=True)
class Comparison:
    """One result of one notebook, new against reference, and what the check made of it."""

    result: str
    reference: object
    new: object
    difference: str
    verdict: str
    failed: bool = False


def read_record(path: Path) -> dict:
    """One results file, or a CourseError naming it when it cannot be read."""
    try:
        return load_results(path)
    except (OSError, ValueError) as error:  # ValueError: broken JSON or encoding
        raise CourseError(f"cannot read {path}: {error}") from error


def find_results(root: Path) -> list[tuple[Path, dict]]:
    """The notebooks' results files under ``root`` (searched recursively; or ``root`` itself).

    A JSON file counts when it has the keys ``notebook`` and ``results``.
    """
    if not root.exists():
        raise CourseError(f"{root} does not exist")
    paths = [root] if root.is_file() else sorted(root.rglob("*.json"))
    records = [(path, read_record(path)) for path in paths]
    found = [(path, record) for path, record in records if _is_results(record)]
    if not found:
        raise CourseError(f"no results files (JSON with 'notebook' and 'results') under {root}")
    return found


def _is_results(record: object) -> bool:
    return isinstance(record, dict) and {"notebook", "results"} <= record.keys()


def _mode(record: dict) -> str:
    return "quick mode" if record.get("quick_mode") else "a full run"


def _budget(record: dict) -> dict | None:
    """The resolved training lengths (``EPOCHS``...), None for a notebook that does not train."""
    return (record.get("training") or {}).get("values")


def refusal_reasons(new: dict, reference: dict) -> list[str]:
    """Why ``new`` cannot be compared with ``reference`` (empty when it can)."""
    reasons = []
    if bool(new.get("quick_mode")) != bool(reference.get("quick_mode")):
        reasons.append(f"the run is {_mode(new)} but the reference is {_mode(reference)}")
    if _budget(new) != _budget(reference):
        changes = "; ".join(mapping_differences(_budget(reference) or {}, _budget(new) or {}))
        reasons.append("the run's training budget differs from the reference's "
                       f"({changes or 'not recorded'})")
    return reasons


def mapping_differences(reference: dict, new: dict) -> list[str]:
    """``key: reference -> new`` for every key whose value differs (or is missing on one side)."""
    lines = []
    for key in dict.fromkeys([*reference, *new]):
        old, value = reference.get(key, "(none)"), new.get(key, "(none)")
        if old != value:
            lines.append(f"{key}: {old} -> {value}")
    return lines


def _environment(record: dict) -> dict:
    return {"keras_backend": record.get("keras_backend"), **(record.get("environment") or {})}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_kind(name: str) -> str:
    """How a result is checked, from its name: ``exact``, ``accuracy``, ``time`` or ``report``."""
    if name.startswith("parameters_"):
        return "exact"
    if name.endswith("_std"):
        return "report"
    if "accuracy" in name or name.endswith("_acc_mean"):
        return "accuracy"
    if "seconds" in name:
        return "time"
    return "report"


def accuracy_tolerance(name: str, reference: dict, new: dict, tolerances: Tolerances) -> tuple[float, str]:
    """The tolerance for one accuracy and where it comes from (``reference``/``new``: the results).

    A mean over seeds whose spread ``<name without _mean>_std`` is recorded gets
    ``SEED_SPREADS`` times the larger of the two spreads, at least ``tolerances.accuracy``.
    """
    spread_name = name.removesuffix("_mean") + "_std"
    if not name.endswith("_mean") or spread_name not in reference:
        return tolerances.accuracy, ""
    spreads = [value for value in (reference.get(spread_name), new.get(spread_name)) if _is_number(value)]
    seeds_tolerance = SEED_SPREADS * max(spreads, default=0.0)
    if seeds_tolerance <= tolerances.accuracy:
        return tolerances.accuracy, ""
    return seeds_tolerance, f"{SEED_SPREADS} x its seeds' spread"


def compare_value(name: str, reference: object, new: object, tolerances: Tolerances,
                  accuracy: tuple[float, str] | None = None) -> Comparison:
    """Check one result against its reference value, as its name says (see the module doc).

    ``accuracy``: this result's tolerance and its origin, from ``accuracy_tolerance``
    (default: ``tolerances.accuracy``).
    """
    kind = check_kind(name)
    tolerance, origin = accuracy or (tolerances.accuracy, "")
    if reference is MISSING:
        return Comparison(name, "", new, "", "info: not in the reference")
    if new is MISSING:
        strict = kind in ("exact", "accuracy")
        verdict = f"{'FAIL' if strict else 'info'}: missing in the run"
        return Comparison(name, reference, "", "", verdict, strict)
    numbers = _is_number(reference) and _is_number(new)
    if kind == "accuracy" and numbers:
        difference = new - reference
        within = abs(difference) <= tolerance * (1 + 1e-9)
        if origin:
            verdict = f"ok (within {tolerance:.4f}: {origin})" if within else (
                f"FAIL: off by more than {tolerance:.4f} ({origin})")
        else:
            verdict = "ok" if within else f"FAIL: off by more than {tolerance}"
        return Comparison(name, reference, new, f"{difference:+.4f}", verdict, not within)
    if kind == "time" and numbers and reference > 0:
        ratio = new / reference
        low, high = tolerances.time_ratio
        verdict = "ok" if low <= ratio <= high else f"flag: outside x{low:g} to x{high:g}"
        return Comparison(name, reference, new, f"x{ratio:.2f}", verdict)
    difference = f"{new - reference:+g}" if numbers else ("" if new == reference else "differs")
    if kind in ("exact", "accuracy"):
        same = new == reference
        return Comparison(name, reference, new, difference, "ok" if same else "FAIL: must match", not same)
    return Comparison(name, reference, new, difference, "info")


def compare_records(new: dict, reference: dict, tolerances: Tolerances) -> list[Comparison]:
    """Every result of either file, in the reference's order, then those only the run has."""
    old, values = reference["results"], new["results"]
    return [
        compare_value(name, old.get(name, MISSING), values.get(name, MISSING), tolerances,
                      accuracy_tolerance(name, old, values, tolerances))
        for name in dict.fromkeys([*old, *values])
    ]


def comparison_table(comparisons: list[Comparison]) -> str:
    """The comparisons as a text table: result, reference, new, difference, verdict."""
    frame = pd.DataFrame(
        [(c.result, format_value(c.reference), format_value(c.new), c.difference, c.verdict)
         for c in comparisons],
        columns=["result", "reference", "new", "difference", "verdict"],
    )
    return left_aligned(frame)


def _differences_block(title: str, lines: list[str]) -> str:
    return f"{title}: none" if not lines else f"{title}:\n" + "\n".join(f"  {line}" for line in lines)


def compare_runs(
    run_dir: Path,
    reference_dir: Path = REFERENCE_DIR,
    tolerances: Tolerances = Tolerances(),
    force: bool = False,
) -> int:
    """Compare every results file under ``run_dir`` with its reference; print what was found.

    Returns 1 when an exact or accuracy check failed, 0 otherwise. Raises CourseError
    (nothing to compare, or runs that cannot be compared without ``force``).
    """
    if not reference_dir.is_dir():
        raise CourseError(f"no reference folder {reference_dir}")
    pairs, unmatched = [], []
    for path, new in find_results(run_dir):
        reference_path = reference_dir / f"{new['notebook']}.json"
        if reference_path.is_file():
            pairs.append((path, new, reference_path, read_record(reference_path)))
        else:
            unmatched.append(f"{path}: no reference {reference_path}")
    if not pairs:
        raise CourseError("nothing to compare:\n  " + "\n  ".join(unmatched))
    refused = {path: refusal_reasons(new, ref) for path, new, _, ref in pairs}
    if any(refused.values()) and not force:
        lines = [f"  {path}: {reason}" for path, reasons in refused.items() for reason in reasons]
        raise CourseError("these runs cannot be compared with the reference:\n" + "\n".join(lines)
                          + "\n(--force compares them anyway)")
    failures = flagged = 0
    for path, new, reference_path, reference in pairs:
        comparisons = compare_records(new, reference, tolerances)
        failures += sum(c.failed for c in comparisons)
        flagged += sum(c.verdict.startswith("flag") for c in comparisons)
        print(f"\n{new['notebook']}: {path}\n  against {reference_path}")
        for reason in refused[path]:
            print(f"  compared anyway (--force): {reason}")
        print(comparison_table(comparisons))
        print(_differences_block("environment differences",
                                 mapping_differences(_environment(reference), _environment(new))))
        parameters = mapping_differences(reference.get("parameters", {}), new.get("parameters", {}))
        print(_differences_block("parameter differences",
                                 [line for line in parameters if not line.startswith("RESULTS_DIR:")]))
    for line in unmatched:
        print(f"\nnot compared: {line}")
    verdict = f"{failures} check(s) failed" if failures else "all exact and accuracy checks passed"
    print(f"\n{verdict}, {flagged} time(s) flagged (accuracy tolerance {tolerances.accuracy}, "
          f"time ratio {tolerances.time_ratio[0]:g} to {tolerances.time_ratio[1]:g}).")
    return 1 if failures else 0
