"""Run the course notebooks headless and compare their recorded results.

``./course run`` (or ``python -m helpers.course run``) executes the numbered
notebooks with papermill into a timestamped folder under ``runs/``, then prints
one table per notebook of the results each run recorded::

    ./course run --quick                          # every notebook, small and fast
    ./course run 01 --each DATASET=mnist,fashion_mnist
    ./course run 03 -p EPOCHS=15 -p BATCH_SIZE=256
    ./course params 03                            # what an instructor can change

A parameter is checked by the notebook itself before any training, so a bad
value fails that notebook at once with a message naming the parameter.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .environment import QUICK_MODE_VARIABLE
from .results import load_results

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
RUNS_DIR = REPO_ROOT / "runs"


class CourseError(Exception):
    """A request the runner cannot carry out (unknown notebook or parameter)."""


@dataclass
class Run:
    """One execution of one notebook with one set of parameters."""

    notebook: Path
    parameters: dict[str, object]
    label: str
    output: Path = field(init=False)
    results_dir: Path = field(init=False)
    seconds: float = 0.0
    error: str | None = None


def find_notebooks(selection: Sequence[str] = (), folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks (``NN_name.ipynb``) in ``folder``, optionally only those selected.

    A selection item matches a notebook by its number (``01``) or its file stem.
    """
    notebooks = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return notebooks
    chosen = []
    for item in selection:
        matches = [nb for nb in notebooks if nb.stem == item or nb.stem.split("_")[0] == item]
        if not matches:
            names = ", ".join(nb.stem for nb in notebooks)
            raise CourseError(f"no notebook matches {item!r}; the notebooks are: {names}")
        chosen += [nb for nb in matches if nb not in chosen]
    return chosen


def parse_value(text: str) -> object:
    """Read a command-line value as a Python literal (``15``, ``0.1``, ``[16, 32]``), else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _split_assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CourseError(f"{option} expects NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parameter_grid(fixed: Sequence[str], each: Sequence[str]) -> list[dict[str, object]]:
    """All parameter combinations: ``-p`` values apply to every run, ``--each`` multiplies runs."""
    base = dict(
        (name, parse_value(value)) for name, value in (_split_assignment(t, "-p") for t in fixed)
    )
    sweeps = []
    for text in each:
        name, values = _split_assignment(text, "--each")
        sweeps.append([(name, parse_value(value.strip())) for value in values.split(",")])
    return [dict(base, **dict(combo)) for combo in itertools.product(*sweeps)]


def notebook_parameters(notebook: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell (via papermill)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def plan_runs(notebooks: Sequence[Path], grid: Sequence[dict[str, object]]) -> list[Run]:
    """Pair notebooks with parameter sets; a notebook only gets the parameters it declares.

    A parameter that no selected notebook declares is an error, raised before
    anything runs (papermill itself would only log a warning).
    """
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    requested = {name for combo in grid for name in combo}
    unknown = sorted(n for n in requested if not any(n in params for params in declared.values()))
    if unknown:
        listing = "\n".join(f"  {nb.stem}: {', '.join(p) or '(none)'}" for nb, p in declared.items())
        raise CourseError(
            f"unknown parameter(s) {', '.join(unknown)}; the selected notebooks declare:\n{listing}"
        )
    runs: list[Run] = []
    for notebook in notebooks:
        seen = []
        for combo in grid:
            own = {name: value for name, value in combo.items() if name in declared[notebook]}
            if own in seen:
                continue
            seen.append(own)
            label = "__".join(f"{name}-{value}" for name, value in own.items())
            runs.append(Run(notebook, own, label))
    return runs


def execute(run: Run, run_dir: Path) -> None:
    """Execute one notebook with papermill; record its time and any error."""
    import papermill

    suffix = f"__{run.label}" if run.label else ""
    safe_suffix = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in suffix)
    run.output = run_dir / f"{run.notebook.stem}{safe_suffix}.ipynb"
    run.results_dir = run_dir / "results" / (run.label or "default")
    parameters = dict(run.parameters, RESULTS_DIR=str(run.results_dir))
    shown = ", ".join(f"{k}={v!r}" for k, v in run.parameters.items()) or "defaults"
    print(f"\n=== {run.notebook.name} ({shown})", flush=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(run.notebook),
            str(run.output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(run.notebook.parent),
            progress_bar=True,
        )
    except papermill.PapermillExecutionError as error:
        run.error = f"{error.ename}: {error.evalue}"
    except Exception as error:  # a kernel that died, a notebook that cannot be read...
        run.error = f"{type(error).__name__}: {error}"
    run.seconds = time.perf_counter() - start
    status = "FAILED" if run.error else "ok"
    print(f"    {status} in {run.seconds:.1f} s -> {run.output}", flush=True)
    if run.error:
        print("    " + run.error.replace("\n", "\n    "), flush=True)


def recorded_results(run: Run) -> dict[str, object]:
    """The results a run's notebook saved (empty if it failed before saving any)."""
    path = run.results_dir / f"{run.notebook.stem}.json"
    return load_results(path)["results"] if path.exists() else {}


def results_table(runs: Sequence[Run]) -> str:
    """One table per notebook: a row per recorded result, a column per run."""
    blocks = []
    for notebook, group in itertools.groupby(runs, key=lambda r: r.notebook):
        group = list(group)
        columns = {}
        for run in group:
            name = run.label or "default"
            columns[name] = {"status": "FAILED" if run.error else "ok",
                             "run_seconds": round(run.seconds, 1), **recorded_results(run)}
        keys = list(dict.fromkeys(key for values in columns.values() for key in values))
        header = ["result", *columns]
        rows = [[key, *(_format(columns[c].get(key, "")) for c in columns)] for key in keys]
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
        lines = [f"{notebook.stem}"]
        for row in [header, ["-" * w for w in widths], *rows]:
            lines.append("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_summary(runs: Sequence[Run], run_dir: Path) -> Path:
    """Write every run's results as one CSV (notebook, run, result, value) for later comparison."""
    import csv

    path = run_dir / "summary.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "run", "result", "value"])
        for run in runs:
            for key, value in {"run_seconds": round(run.seconds, 3), **recorded_results(run)}.items():
                writer.writerow([run.notebook.stem, run.label or "default", key, value])
    return path


def run_course(args: argparse.Namespace) -> int:
    """Execute the selected notebooks and print the results; 0 when all succeeded."""
    notebooks = find_notebooks(args.notebooks, args.notebook_dir)
    runs = plan_runs(notebooks, parameter_grid(args.p, args.each))
    if args.quick:
        os.environ[QUICK_MODE_VARIABLE] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # kernels inherit it: less start-up noise
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    run_dir = Path(args.output or RUNS_DIR) / stamp
    run_dir.mkdir(parents=True, exist_ok=False)
    mode = "quick mode (small data, few epochs)" if args.quick else "full runs"
    print(f"Running {len(runs)} notebook run(s), {mode}, into {run_dir}")
    for run in runs:
        execute(run, run_dir)
    print("\nRecorded results\n================")
    print(results_table(runs))
    summary = write_summary(runs, run_dir)
    print(f"\nExecuted notebooks: {run_dir}\nAll results as CSV: {summary}")
    failed = [run for run in runs if run.error]
    if failed:
        print(f"\n{len(failed)} run(s) failed: " + ", ".join(r.output.name for r in failed))
    return 1 if failed else 0


def show_parameters(args: argparse.Namespace) -> int:
    """Print each selected notebook's parameters with their defaults and comments."""
    for notebook in find_notebooks(args.notebooks, args.notebook_dir):
        print(notebook.stem)
        for name, info in notebook_parameters(notebook).items():
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"  {name}: {info['inferred_type_name']} = {info['default']}{help_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOK_DIR,
                        help="folder of the numbered notebooks (default: the course's notebooks/)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute notebooks headless and print their results")
    run.add_argument("notebooks", nargs="*", help="numbers or stems (default: all), e.g. 01 03")
    run.add_argument("--quick", action="store_true",
                     help=f"quick mode ({QUICK_MODE_VARIABLE}=1): small data and few epochs")
    run.add_argument("-p", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter in every notebook that has it (repeatable)")
    run.add_argument("--each", action="append", default=[], metavar="NAME=V1,V2",
                     help="run once per value (repeatable: runs every combination)")
    run.add_argument("--output", help="folder for run folders (default: runs/ in the repository)")
    run.set_defaults(handler=run_course)
    params = commands.add_parser("params", help="list the parameters of notebooks")
    params.add_argument("notebooks", nargs="*", help="numbers or stems (default: all)")
    params.set_defaults(handler=show_parameters)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CourseError as error:
        print(f"course: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
