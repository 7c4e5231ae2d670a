"""Run the course notebooks headless and tabulate the results they record.

``./course run`` executes the numbered notebooks with papermill into a new folder
under ``runs/``, then prints one table per notebook (a row per recorded result, a
column per run) and writes every value to ``summary.csv``::

    ./course run --quick                          # every notebook, small and fast
    ./course run 01 --each DATASET=mnist,fashion_mnist
    ./course run 03 -p EPOCHS=15 -p BATCH_SIZE=256
    ./course params 03                            # what an instructor can change

Everything that can be checked without running (notebook names, parameter names,
where results will go) is checked before the first notebook starts; a notebook
checks its parameter values itself, before any training.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from helpers.data import CACHE_ENV_VAR, MIRROR_ENV_VAR
from helpers.environment import QUICK_MODE_VARIABLE, configure_tensorflow_environment, in_quick_mode
from helpers.params import parse_literal
from helpers.results import RESULTS_ENV_VAR, load_results

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
RUNS_DIR = REPO_ROOT / "runs"
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
#: Set by ``./course`` to the directory the command was typed in (the script itself
#: changes to the repository root); relative paths on the command line start there.
CALLER_DIR_VARIABLE = "COURSE_CALLER_DIR"
#: The exit status of a run stopped by Ctrl-C, as shells report it (128 + SIGINT).
INTERRUPTED_STATUS = 130
SUMMARY_COLUMNS = ["notebook", "run", "result", "value"]


class CourseError(Exception):
    """A request the tools cannot carry out (unknown notebook or parameter, missing folder)."""


@dataclass
class Run:
    """One execution of one notebook with one set of parameters.

    ``results_dir`` is where the notebook writes its results file: the folder asked
    for with ``RESULTS_DIR``, or (``None`` until executed) one the runner picks inside
    the run folder. ``results_before`` identifies the results file that was already
    there when the run started, so that an older file is never taken for this run's.
    """

    notebook: Path
    parameters: dict[str, object]
    label: str
    results_dir: Path | None = None
    output: Path | None = None
    quick: bool = False
    seconds: float = 0.0
    error: str | None = None
    results_before: tuple[int, int] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The run's column in the results table."""
        return self.label or "default"

    @property
    def results_file(self) -> Path:
        """The file the notebook writes (``<RESULTS_DIR>/<stem>.json``, see helpers.results)."""
        return self.results_dir / f"{self.notebook.stem}.json"

    def described(self) -> str:
        """The notebook and its parameters, as the log names this run."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items()) or "defaults"
        return f"{self.notebook.name} ({shown})"


def caller_path(text: str | os.PathLike[str]) -> Path:
    """A path typed on the command line, made absolute from the directory it was typed in."""
    base = Path(os.environ.get(CALLER_DIR_VARIABLE) or os.getcwd())
    return Path(os.path.normpath(base / Path(text).expanduser()))


def find_notebooks(selection: Sequence[str] = (), folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks (``NN_name.ipynb``) in ``folder``, optionally only those selected.

    A selection item matches a notebook by its number (``01``) or its file stem.
    Finding none at all is an error: a wrong folder must not look like a successful run.
    """
    notebooks = sorted(Path(folder).glob(NOTEBOOK_PATTERN))
    if not notebooks:
        why = "" if Path(folder).is_dir() else " (no such folder)"
        raise CourseError(f"no course notebooks ({NOTEBOOK_PATTERN}) in {folder}{why}")
    if not selection:
        return notebooks
    chosen: list[Path] = []
    for item in selection:
        matches = [nb for nb in notebooks if nb.stem == item or nb.stem.split("_")[0] == item]
        if not matches:
            names = ", ".join(nb.stem for nb in notebooks)
            raise CourseError(f"no notebook matches {item!r}; the notebooks are: {names}")
        chosen += [nb for nb in matches if nb not in chosen]
    return chosen


def _split_assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CourseError(f"{option} expects NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parameter_grid(fixed: Sequence[str], each: Sequence[str]) -> list[dict[str, object]]:
    """All parameter combinations: ``-p`` values apply to every run, ``--each`` multiplies runs.

    Values are read as Python literals (``15``, ``0.1``, ``[16, 32]``), else kept as text.
    """
    base = {name: parse_literal(value) for name, value in (_split_assignment(t, "-p") for t in fixed)}
    sweeps = []
    for text in each:
        name, values = _split_assignment(text, "--each")
        sweeps.append([(name, parse_literal(value.strip())) for value in values.split(",")])
    return [dict(base, **dict(combo)) for combo in itertools.product(*sweeps)]


def notebook_parameters(notebook: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell (via papermill)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def plan_runs(notebooks: Sequence[Path], grid: Sequence[dict[str, object]]) -> list[Run]:
    """Pair notebooks with parameter sets; a notebook only gets the parameters it declares.

    A parameter that no selected notebook declares is an error, raised before
    anything runs (papermill itself would only log a warning). So is a
    ``RESULTS_DIR`` shared by two runs of one notebook: the second would overwrite
    the first one's results.
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
        seen: list[dict[str, object]] = []
        for combo in grid:
            own = {name: value for name, value in combo.items() if name in declared[notebook]}
            if own not in seen:
                seen.append(own)
                runs.append(_planned_run(notebook, own))
    _check_results_files_differ(runs)
    return runs


def _planned_run(notebook: Path, parameters: dict[str, object]) -> Run:
    """A run whose ``RESULTS_DIR``, if given, is made absolute: the kernel starts elsewhere."""
    label = "__".join(f"{name}-{value}" for name, value in parameters.items())
    if "RESULTS_DIR" not in parameters:
        return Run(notebook, parameters, label)
    folder = caller_path(str(parameters["RESULTS_DIR"]))
    return Run(notebook, dict(parameters, RESULTS_DIR=str(folder)), label, results_dir=folder)


def _check_results_files_differ(runs: Sequence[Run]) -> None:
    """Refuse two runs that would write the same results file (a RESULTS_DIR given twice)."""
    targets: dict[Path, Run] = {}
    for run in runs:
        if run.results_dir is None:
            continue
        earlier = targets.setdefault(run.results_file, run)
        if earlier is not run:
            raise CourseError(
                f"the runs {earlier.name} and {run.name} of {run.notebook.stem} would both write "
                f"{run.results_file}; give each run its own folder (--each RESULTS_DIR=a,b) "
                "or leave RESULTS_DIR to the runner"
            )


def prepare_kernel_environment(quick: bool) -> bool:
    """Set up the environment every kernel inherits; return whether quick mode is on.

    Quick mode comes from ``--quick`` or from ``COURSE_QUICK`` already set. Data
    folders given as relative paths are made absolute (kernels start in the notebooks'
    folder), and the test suite's results redirection is dropped: the runner places
    each run's results itself. TensorFlow's start-up variables (quiet C++ logging,
    oneDNN on; ``helpers.environment.TENSORFLOW_ENVIRONMENT``) are set where unset, so
    that every kernel starts TensorFlow with them, whatever it imports first.
    """
    configure_tensorflow_environment()
    if quick:
        os.environ[QUICK_MODE_VARIABLE] = "1"
    for variable in (MIRROR_ENV_VAR, CACHE_ENV_VAR):
        if os.environ.get(variable):
            os.environ[variable] = str(caller_path(os.environ[variable]))
    os.environ.pop(RESULTS_ENV_VAR, None)
    return in_quick_mode()


def make_run_dir(parent: Path, quick: bool, now: datetime | None = None) -> Path:
    """Create a new folder ``<parent>/<date>-<time>[-N][-quick]`` for one ``./course run``.

    Two runs started in the same second get ``-2``, ``-3``...: creating the folder
    is the atomic test, so concurrent runs never share one.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    mode = "-quick" if quick else ""
    parent.mkdir(parents=True, exist_ok=True)
    attempt = 1
    while True:
        folder = parent / (stamp + (f"-{attempt}" if attempt > 1 else "") + mode)
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            attempt += 1


def _file_state(path: Path) -> tuple[int, int] | None:
    """What identifies one version of a file (a new atomic write changes it), or None."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def run_notebook(notebook: Path, output: Path, parameters: dict[str, object]) -> str | None:
    """Execute ``notebook`` into ``output`` with papermill; return its error, None on success.

    A Ctrl-C (KeyboardInterrupt, also when the kernel reports one) is passed on.
    """
    import papermill

    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=True,  # one line per notebook; the cells' own output stays in it
            # The kernel process's own log, not the notebook's: it warns once per kernel
            # that its local sockets are unencrypted, and prints a traceback when Ctrl-C
            # shuts it down in the middle of a cell. A cell's errors reach us either way.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except papermill.PapermillExecutionError as error:
        if error.ename == "KeyboardInterrupt":
            raise KeyboardInterrupt from error
        return f"{error.ename}: {error.evalue}"
    except Exception as error:  # a kernel that died, a notebook that cannot be read...
        return f"{type(error).__name__}: {error}"
    return None


def execute(run: Run, run_dir: Path) -> None:
    """Execute one run into ``run_dir``; record and print its time and any error.

    A Ctrl-C is passed on: the caller stops the whole run there.
    """
    suffix = f"__{run.label}" if run.label else ""
    safe_suffix = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in suffix)
    run.output = run_dir / f"{run.notebook.stem}{safe_suffix}.ipynb"
    run.results_dir = run.results_dir or run_dir / "results" / run.name
    run.results_before = _file_state(run.results_file)
    print(f"\n=== {run.described()}", flush=True)
    start = time.perf_counter()
    try:
        run.error = run_notebook(run.notebook, run.output,
                                 dict(run.parameters, RESULTS_DIR=str(run.results_dir)))
    finally:
        run.seconds = time.perf_counter() - start
    status = "FAILED" if run.error else "ok"
    print(f"    {status} in {run.seconds:.1f} s -> {run.output}", flush=True)
    if "RESULTS_DIR" in run.parameters:
        print(f"    results -> {run.results_file}", flush=True)
    if run.error:
        print("    " + run.error.replace("\n", "\n    "), flush=True)


def recorded(run: Run) -> dict | None:
    """The results file this run wrote, or None (failed before saving; an older file is not it)."""
    state = _file_state(run.results_file)
    if state is None or state == run.results_before:
        return None
    return load_results(run.results_file)


def results_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Every run's values, one row each: notebook, run, result, value.

    Each run starts with its status, its mode and its duration, then the results it
    recorded. The mode is "quick" for a quick-mode run (what the results file says,
    else what the runner asked for), else the training budget the notebook resolved
    ("full", "cpu" or a plan in between; "full" for a notebook that trains nothing). A
    notebook that forecast its plan adds the forecast and the measured seconds from the
    forecast to its results file.
    """
    rows = []
    for run in runs:
        record = recorded(run) or {}
        quick = record.get("quick_mode", run.quick)
        training = record.get("training", {})
        mode = "quick" if quick else training.get("budget", "full")
        values = {"status": "FAILED" if run.error else "ok", "mode": mode, "run_seconds": round(run.seconds, 3)}
        if "forecast_seconds_to_results" in training:
            values["forecast_seconds"] = training["forecast_seconds_to_results"]
            values["measured_seconds"] = training["measured_seconds"]
        values.update(record.get("results", {}))
        rows += [(run.notebook.stem, run.name, key, value) for key, value in values.items()]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def format_value(value: object) -> str:
    """A value as a table shows it: 4 decimals below 10, 1 above; empty for a missing one."""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)


def results_table(frame: pd.DataFrame) -> str:
    """One table per notebook: a row per result, a column per run, in the order recorded."""
    blocks = []
    for notebook, group in frame.groupby("notebook", sort=False):
        table = (
            group.assign(value=group["value"].map(format_value))
            .pivot(index="result", columns="run", values="value")
            .reindex(index=group["result"].unique(), columns=group["run"].unique())
            .fillna("")
            .rename_axis(index="result", columns=None)
            .reset_index()
        )
        blocks.append(f"{notebook}\n{left_aligned(table)}")
    return "\n\n".join(blocks)


def left_aligned(table: pd.DataFrame) -> str:
    """``table`` as text with every column left-aligned: names and numbers read in columns."""
    columns = [[str(name), *table[name].astype(str)] for name in table.columns]
    widths = [max(map(len, column)) for column in columns]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in zip(*columns))


def write_summary(frame: pd.DataFrame, run_dir: Path) -> Path:
    """Write every run's values as ``summary.csv`` (notebook, run, result, value)."""
    path = run_dir / "summary.csv"
    frame.to_csv(path, index=False)
    return path


def execute_all(runs: Sequence[Run], run_dir: Path) -> tuple[list[Run], Run | None]:
    """Execute the runs in turn; return those that finished and the one Ctrl-C stopped, if any."""
    finished: list[Run] = []
    for run in runs:
        try:
            execute(run, run_dir)
        except KeyboardInterrupt:
            return finished, run
        finished.append(run)
    return finished, None


def report(runs: Sequence[Run], run_dir: Path) -> None:
    """Print the results table of the finished runs and write their summary.csv."""
    frame = results_frame(runs)
    print("\nRecorded results\n================")
    print(results_table(frame) if runs else "(no run finished)")
    summary = write_summary(frame, run_dir)
    print(f"\nExecuted notebooks: {run_dir}\nAll results as CSV: {summary}")
    failed = [run for run in runs if run.error]
    if failed:
        print(f"\n{len(failed)} run(s) failed: " + ", ".join(r.output.name for r in failed))


def run_course(
    selection: Sequence[str],
    *,
    notebook_dir: Path = NOTEBOOK_DIR,
    fixed: Sequence[str] = (),
    each: Sequence[str] = (),
    quick: bool = False,
    runs_dir: Path = RUNS_DIR,
) -> int:
    """Execute the selected notebooks and print their results.

    Returns 0 when every run succeeded, 1 when one failed, 130 when Ctrl-C stopped
    the run (the finished runs are still tabulated and saved).
    """
    runs = plan_runs(find_notebooks(selection, notebook_dir), parameter_grid(fixed, each))
    quick = prepare_kernel_environment(quick)
    for run in runs:
        run.quick = quick
    run_dir = make_run_dir(runs_dir, quick)
    mode = "quick mode off (each notebook's BUDGET decides how long it trains)"
    if quick:
        mode = f"quick mode ({QUICK_MODE_VARIABLE}={os.environ[QUICK_MODE_VARIABLE]}: small data, few epochs)"
    print(f"Running {len(runs)} notebook run(s), {mode}, into {run_dir}")
    finished, interrupted = execute_all(runs, run_dir)
    report(finished, run_dir)
    if interrupted:
        left = len(runs) - len(finished) - 1
        print(f"\nInterrupted (Ctrl-C) during {interrupted.described()}; "
              f"its partial notebook: {interrupted.output}; {left} run(s) not started.")
        return INTERRUPTED_STATUS
    return 1 if any(run.error for run in finished) else 0


def show_parameters(selection: Sequence[str], notebook_dir: Path = NOTEBOOK_DIR) -> int:
    """Print each selected notebook's parameters with their defaults and comments."""
    for notebook in find_notebooks(selection, notebook_dir):
        print(notebook.stem)
        for name, info in notebook_parameters(notebook).items():
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"  {name}: {info['inferred_type_name']} = {info['default']}{help_text}")
    return 0
