"""Store course notebooks without volatile metadata, so that a one-line edit is a one-line diff.

Executing a notebook with nbclient or papermill writes run-specific data into it:
execution timestamps in every code cell (``metadata.execution``), papermill's own
bookkeeping (``metadata.papermill``, an injected-parameters cell) and sometimes new
cell ids. Committed as is, every re-execution rewrites every cell of the file. This
module removes that data and keeps cell ids stable, in the spirit of tensorflow/docs'
``nbfmt`` and ``nbdev_clean``; it writes exactly what Jupyter writes, so opening and
saving a formatted notebook in JupyterLab changes nothing.

What stays: outputs, execution counts (nbval compares against them), tags such as
``parameters``, and everything else Jupyter itself stores.

Usage::

    python -m course_tools.notebook_format [--check] [--previous-from-git REV] [PATHS...]

``volatile_problems`` lists what must not be in a stored notebook (including
TensorFlow's C++ log lines in outputs, which formatting cannot fix: re-executing can).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from helpers._files import write_atomically

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_GLOB = "notebooks/[0-9][0-9]_*.ipynb"

# Cell metadata that records a run or an editor's view state rather than content:
# nbclient's timestamps, papermill's status, classic Jupyter's and Colab's UI state,
# the ExecuteTime extension.
VOLATILE_CELL_METADATA = (
    "execution", "papermill", "collapsed", "scrolled", "ExecuteTime", "colab", "outputId", "executionInfo",
)
# Notebook metadata of the same kind: papermill's run record, widget state, Colab's
# provenance. ``language_info.version`` (the kernel's Python version) is handled apart.
VOLATILE_NOTEBOOK_METADATA = ("papermill", "widgets", "colab")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
INJECTED_PARAMETERS_TAG = "injected-parameters"

FUZZY_MATCH_MIN_RATIO = 0.6
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's schema for cell ids

# TensorFlow's C++ core logs straight to stderr; in a stored output these lines are
# noise with a timestamp and a process id, so they differ on every run.
TENSORFLOW_LOG_LINE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d"  # absl's prefix: I0000 00:00:1732..., E0000 00:00:...
    r"|oneDNN custom operations are on"
    r"|Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|cuda_executor"
    r"|cpu_feature_guard"
    r"|All log messages before absl::InitializeLog\(\)"
    r"|Unable to register cu(?:DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning"
)


def read_notebook(text: str) -> NotebookNode:
    """Parse a stored notebook as it is, converted to nbformat 4 if older.

    ``nbformat.reads`` is not used because its validation silently replaces missing
    or duplicate cell ids with random ones, which would hide exactly the problems
    that ``format_notebook`` fixes deterministically and ``volatile_problems`` reports.
    """
    nb = nbformat.from_dict(json.loads(text))
    return nbformat.convert(nb, 4) if nb.get("nbformat") != 4 else nb


def format_notebook(nb: NotebookNode, *, previous: NotebookNode | None = None) -> NotebookNode:
    """Return a cleaned copy of ``nb``; ``nb`` itself is left unchanged.

    * Removes the volatile cell metadata listed in ``VOLATILE_CELL_METADATA`` and
      empty ``tags`` lists; other tags (``parameters``) stay.
    * Removes the notebook metadata in ``VOLATILE_NOTEBOOK_METADATA`` and
      ``language_info.version`` (the rest of ``language_info`` stays), and sets
      ``kernelspec`` to the course's one Python 3 kernel.
    * Removes papermill's injected-parameters cell: it holds the values of one run,
      and a stored notebook must run with its own defaults. The execution counts of
      the cells after it move down by one, so the stored notebook still reads as one
      top-to-bottom run of its own cells (the values that run used are in its
      outputs: every notebook prints its parameters).
    * Strips trailing whitespace from every source line and trailing newlines from
      every source, as Jupyter stores sources. (Markdown hard line breaks written as
      two trailing spaces are lost: write a backslash or ``<br>`` instead.)
    * Keeps outputs, their metadata (image sizes and the like, stable from run to
      run) and execution counts: nbval compares them. Volatile text in outputs, such
      as TensorFlow's log lines, is for ``volatile_problems`` to report and for a
      re-execution to fix, not for a formatter to edit.
    * Keeps cell ids stable, see ``_assign_ids``. Notebooks older than nbformat 4.5
      are marked 4.5, the first version with cell ids.
    """
    nb = copy.deepcopy(nb)
    injected_counts = [cell.get("execution_count") for cell in nb.cells
                       if INJECTED_PARAMETERS_TAG in cell.metadata.get("tags", [])]
    nb.cells = [cell for cell in nb.cells if INJECTED_PARAMETERS_TAG not in cell.metadata.get("tags", [])]
    for removed in (count for count in injected_counts if count is not None):
        for cell in nb.cells:
            if cell.get("execution_count") is not None and cell.execution_count > removed:
                cell.execution_count -= 1
    for cell in nb.cells:
        cell.source = _clean_source(cell.source)
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]

    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata.language_info.pop("version", None)
    nb.metadata.kernelspec = nbformat.from_dict(KERNELSPEC)

    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    previous_cells = None
    if previous is not None:
        previous_cells = [cell for cell in previous.cells
                          if INJECTED_PARAMETERS_TAG not in cell.metadata.get("tags", [])]
    _assign_ids(nb.cells, previous_cells)
    return nb


def _text(value: str | list[str]) -> str:
    """Sources and output texts are strings once read by nbformat, lists in raw JSON."""
    return "".join(value) if isinstance(value, list) else value


def _clean_source(source: str | list[str]) -> str:
    return "\n".join(line.rstrip() for line in _text(source).split("\n")).rstrip("\n")


def _assign_ids(cells: list[NotebookNode], previous: list[NotebookNode] | None) -> None:
    """Give every cell a valid id, unique in the notebook, that survives re-execution and edits.

    With ``previous`` (the notebook as committed before it was re-executed or edited),
    each cell takes the id of the previous cell it matches: first an identical source
    (the k-th of several equal sources matches the k-th), then, cell by cell in
    order, the unmatched previous cell whose source is most similar (difflib ratio
    above ``FUZZY_MATCH_MIN_RATIO``). Cells that match nothing are new: they get
    an id derived from their source and position. Without ``previous``, a cell keeps
    its own id when that is valid and not already taken by an earlier cell.
    """
    if previous is None:
        ids: list[str | None] = [cell.get("id") for cell in cells]
    else:
        matches = _match_cells([_clean_source(cell.source) for cell in cells],
                               [_clean_source(cell.source) for cell in previous])
        ids = [previous[j].get("id") if j is not None else None for j in matches]

    kept: set[str] = set()
    for i, cell_id in enumerate(ids):
        if isinstance(cell_id, str) and CELL_ID.match(cell_id) and cell_id not in kept:
            kept.add(cell_id)
        else:
            ids[i] = None
    for i, cell in enumerate(cells):
        cell.id = ids[i] if ids[i] is not None else _new_id(cell.source, i, kept)


def _match_cells(sources: list[str], previous: list[str]) -> list[int | None]:
    """For each source, the index of the previous source it matches, or None (see ``_assign_ids``)."""
    matches: list[int | None] = [None] * len(sources)
    unmatched_previous: dict[str, list[int]] = defaultdict(list)
    for j, source in enumerate(previous):
        unmatched_previous[source].append(j)
    for i, source in enumerate(sources):
        if unmatched_previous[source]:
            matches[i] = unmatched_previous[source].pop(0)

    free = sorted(j for js in unmatched_previous.values() for j in js)
    for i, source in enumerate(sources):
        if matches[i] is not None:
            continue
        best, best_ratio = None, FUZZY_MATCH_MIN_RATIO
        for j in free:
            matcher = difflib.SequenceMatcher(None, source, previous[j], autojunk=False)
            if matcher.real_quick_ratio() > best_ratio and matcher.quick_ratio() > best_ratio:
                ratio = matcher.ratio()
                if ratio > best_ratio:
                    best, best_ratio = j, ratio
        if best is not None:
            matches[i] = best
            free.remove(best)
    return matches


def _new_id(source: str, position: int, taken: set[str]) -> str:
    """A deterministic 8-hex-digit id from a cell's source and position, not in ``taken`` (which it joins)."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"{position}\0{salt}\0{source}".encode()).hexdigest()[:8]
        if digest not in taken:
            taken.add(digest)
            return digest
        salt += 1


def format_file(path: str | os.PathLike[str], *, previous_text: str | None = None, check: bool = False) -> bool:
    """Format the notebook at ``path`` in place; True when it changed (or, with ``check``, would change).

    ``previous_text`` is the committed version of the file, whose cell ids are kept
    (see ``format_notebook``). The file is written as ``nbformat.write`` writes it
    (what Jupyter's save does: sorted keys, one-space indent, a final newline), through
    a temporary file and ``os.replace`` so that an interrupted run never leaves half a
    notebook. With ``check`` nothing is written.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8")
    previous = read_notebook(previous_text) if previous_text is not None else None
    formatted = format_notebook(read_notebook(text), previous=previous)
    nbformat.validate(formatted)  # never write a notebook that Jupyter would refuse
    new_text = nbformat.writes(formatted)
    if not new_text.endswith("\n"):
        new_text += "\n"
    if new_text == text:
        return False
    if not check:
        write_atomically(path, new_text, mode=path.stat().st_mode & 0o7777)
    return True


def volatile_problems(nb: NotebookNode) -> list[str]:
    """Everything in a stored notebook that would differ from run to run, one line per problem.

    Reports volatile metadata (timestamps, papermill's and Colab's records,
    ``language_info.version``), missing, invalid or duplicate cell ids, an
    injected-parameters cell, error outputs, and TensorFlow C++ log lines in stream
    output or ``text/plain`` data. Each line names the cell (index and id) and
    quotes the first offending line. Read the notebook with ``read_notebook``:
    ``nbformat.read`` would already have replaced bad ids with random ones.
    """
    problems = []
    for key in VOLATILE_NOTEBOOK_METADATA:
        if key in nb.metadata:
            problems.append(f"notebook: volatile metadata.{key}: {_excerpt(nb.metadata[key])}")
    if "version" in nb.metadata.get("language_info", {}):
        problems.append(f"notebook: volatile metadata.language_info.version: "
                        f"{_excerpt(nb.metadata.language_info.version)}")

    first_index_of_id: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        where = f"cell {index} (id {cell_id})"
        if not isinstance(cell_id, str) or not CELL_ID.match(cell_id):
            problems.append(f"{where}: missing or invalid cell id")
        elif cell_id in first_index_of_id:
            problems.append(f"{where}: duplicate cell id, also on cell {first_index_of_id[cell_id]}")
        else:
            first_index_of_id[cell_id] = index
        if INJECTED_PARAMETERS_TAG in cell.metadata.get("tags", []):
            problems.append(f"{where}: papermill's injected-parameters cell: {_first_line(cell.source)}")
        for key in VOLATILE_CELL_METADATA:
            if key in cell.metadata:
                problems.append(f"{where}: volatile metadata.{key}: {_excerpt(cell.metadata[key])}")
        for number, output in enumerate(cell.get("outputs", [])):
            problems.extend(f"{where}, output {number}: {problem}" for problem in _output_problems(output))
    return problems


def _output_problems(output: NotebookNode) -> list[str]:
    if output.output_type == "error":
        return [f"error output: {output.get('ename')}: {_first_line(output.get('evalue', ''))}"]
    if output.output_type == "stream":
        kind, text = output.get("name", "stream"), output.get("text", "")
    else:
        kind, text = "text/plain", output.get("data", {}).get("text/plain", "")
    line = next((line for line in _text(text).splitlines() if TENSORFLOW_LOG_LINE.search(line)), None)
    return [] if line is None else [f"TensorFlow log line in {kind}: {line!r}"]


def _first_line(text: str | list[str]) -> str:
    lines = _text(text).strip().splitlines()
    return repr(lines[0] if lines else "")


def _excerpt(value: Any, width: int = 100) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _committed_text(path: Path, revision: str) -> str | None:
    """The file's text at ``revision`` in its git repository, or None when git does not have it there."""
    result = subprocess.run(["git", "-C", str(path.parent), "show", f"{revision}:./{path.name}"],
                            capture_output=True)
    return result.stdout.decode("utf-8") if result.returncode == 0 else None


def _is_revision(revision: str) -> bool:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                            capture_output=True)
    return result.returncode == 0


def _shown(path: Path) -> Path:
    """``path`` relative to the current directory when it lies below it, for shorter messages."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def main(argv: list[str] | None = None) -> int:
    """Command line: format notebooks in place, or with ``--check`` list those that are not formatted.

    Returns 0 when all is well, 1 when ``--check`` found an unformatted notebook,
    2 on a usage error (a missing file, an unknown git revision).
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.notebook_format",
        description="Remove volatile metadata (execution timestamps, papermill records) from notebooks "
                    "and keep their cell ids stable. Without PATHS: every " + NOTEBOOK_GLOB + ".",
    )
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list the notebooks that are not formatted and exit with 1 if any")
    parser.add_argument("--previous-from-git", metavar="REV",
                        help="keep the cell ids of each notebook's version at git revision REV (e.g. HEAD); "
                             "notebooks that git does not have there are formatted without")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATHS")
    args = parser.parse_args(argv)

    paths = args.paths or sorted(ROOT.glob(NOTEBOOK_GLOB))
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        print(f"notebook_format: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.previous_from_git is not None and not _is_revision(args.previous_from_git):
        print(f"notebook_format: {args.previous_from_git!r} is not a git revision", file=sys.stderr)
        return 2

    unformatted = []
    for path in paths:
        previous_text = _committed_text(path, args.previous_from_git) if args.previous_from_git else None
        if format_file(path, previous_text=previous_text, check=args.check):
            unformatted.append(path)
            shown = _shown(path)
            print(f"{shown}: not formatted" if args.check else f"formatted {shown}")
    if args.check and unformatted:
        print("Run `python -m course_tools.notebook_format` to format them.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
