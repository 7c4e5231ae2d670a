"""The notebook formatter removes what changes from run to run and keeps what matters.

Unit tests work on small notebooks built with nbformat; the last test checks the
course's stored notebooks themselves: they must be formatted and free of volatile
data (timestamps, TensorFlow's C++ log lines, errors).
"""

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.notebook_format import (
    KERNELSPEC,
    format_file,
    format_notebook,
    main,
    read_notebook,
    volatile_problems,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

TIMESTAMPS = {
    "iopub.execute_input": "2026-11-22T13:47:03.814831Z",
    "iopub.status.busy": "2026-11-22T13:47:03.814396Z",
    "iopub.status.idle": "2026-11-22T13:47:11.087483Z",
    "shell.execute_reply": "2026-11-22T13:47:11.085521Z",
}
TF_LOG = ("I0000 00:00:1795355225.437623    5233 port.cc:153] oneDNN custom operations are on. "
          "You may see slightly different numerical results.\n")


def executed_notebook():
    """A notebook as papermill leaves it: timestamps, run records, a parameters cell, outputs."""
    nb = new_notebook()
    nb.metadata.kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.language_info = {"name": "python", "version": "3.11.7", "file_extension": ".py"}
    nb.metadata.papermill = {"duration": 12.5, "start_time": "2026-11-22T13:47:00", "parameters": {}}
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    params = new_code_cell("SEED = 1   \nEPOCHS = 3\n", execution_count=1)
    params.metadata.tags = ["parameters"]
    compute = new_code_cell("print(SEED + EPOCHS)\n\n", execution_count=2,
                            outputs=[new_output("stream", name="stdout", text="4\n")])
    result = new_code_cell("EPOCHS * 2", execution_count=3,
                           outputs=[new_output("execute_result", data={"text/plain": "6"}, execution_count=3)])
    nb.cells = [new_markdown_cell("# Title  \nSome text."), params, compute, result]
    for cell in nb.cells:
        cell.metadata.papermill = {"status": "completed", "duration": 0.01}
        if cell.cell_type == "code":
            cell.metadata.execution = dict(TIMESTAMPS)
    nb.cells[3].metadata.tags = []
    nb.cells[3].metadata.collapsed = False
    nb.cells[2].metadata.colab = {"base_uri": "https://localhost:8080/"}  # a cell once run in Colab
    nb.cells[2].metadata.outputId = "9f4c1e2a-0b1d-4e5f-8a7b-6c5d4e3f2a1b"
    nb.cells[2].metadata.executionInfo = {"status": "ok", "timestamp": 1732000000000}
    return nb


def test_volatile_metadata_goes_and_content_stays():
    nb = executed_notebook()
    original = copy.deepcopy(nb)
    clean = format_notebook(nb)

    assert nb == original, "format_notebook returns a copy and leaves its argument alone"
    assert volatile_problems(clean) == []
    assert clean.metadata.kernelspec == KERNELSPEC
    assert clean.metadata.language_info == {"name": "python", "file_extension": ".py"}
    assert "papermill" not in clean.metadata and "widgets" not in clean.metadata
    assert [cell.metadata for cell in clean.cells] == [{}, {"tags": ["parameters"]}, {}, {}]
    assert [cell.get("execution_count") for cell in clean.cells] == [None, 1, 2, 3]
    assert [cell.get("outputs") for cell in clean.cells] == [cell.get("outputs") for cell in original.cells]
    assert [cell.id for cell in clean.cells] == [cell.id for cell in original.cells]


def test_sources_lose_trailing_whitespace_and_the_final_newline():
    clean = format_notebook(executed_notebook())
    assert [cell.source for cell in clean.cells] == [
        "# Title\nSome text.", "SEED = 1\nEPOCHS = 3", "print(SEED + EPOCHS)", "EPOCHS * 2"]


def test_injected_parameters_cell_is_removed():
    nb = executed_notebook()
    injected = new_code_cell("# Parameters\nEPOCHS = 1", execution_count=2)
    injected.metadata.tags = ["injected-parameters"]
    nb.cells.insert(2, injected)
    for cell in nb.cells[3:]:  # papermill ran the injected cell second
        cell.execution_count += 1
    assert any("injected-parameters" in problem for problem in volatile_problems(nb))

    clean = format_notebook(nb)
    assert [cell.source for cell in clean.cells][1:3] == ["SEED = 1\nEPOCHS = 3", "print(SEED + EPOCHS)"]
    assert [cell.get("execution_count") for cell in clean.cells] == [None, 1, 2, 3]  # one run, no gap


def test_ids_survive_a_re_execution_that_changed_them_all():
    committed = format_notebook(executed_notebook())
    rerun = copy.deepcopy(committed)
    for number, cell in enumerate(rerun.cells):
        cell.id = f"fresh-{number}"
        cell.metadata.execution = dict(TIMESTAMPS)
    clean = format_notebook(rerun, previous=committed)
    assert [cell.id for cell in clean.cells] == [cell.id for cell in committed.cells]


def test_ids_survive_an_edit_a_move_and_an_insertion():
    committed = format_notebook(executed_notebook())
    edited = copy.deepcopy(committed)
    edited.cells[2].source = "print(SEED + EPOCHS)  # the total"  # edited: a fuzzy match
    edited.cells[1], edited.cells[3] = edited.cells[3], edited.cells[1]  # moved: exact matches
    edited.cells.insert(1, new_code_cell("import math"))  # new
    for cell in edited.cells:
        cell.id = "same-id"  # the worst case: ids that say nothing

    clean = format_notebook(edited, previous=committed)
    old = [cell.id for cell in committed.cells]
    new_id = clean.cells[1].id
    assert [cell.id for cell in clean.cells] == [old[0], new_id, old[3], old[2], old[1]]
    assert len(new_id) == 8 and int(new_id, 16) >= 0 and new_id not in old
    assert format_notebook(edited, previous=committed).cells[1].id == new_id, "new ids are deterministic"


def test_equal_sources_match_in_order_and_ids_stay_unique():
    committed = new_notebook(cells=[new_code_cell("x", id="first"), new_code_cell("x", id="second")])
    rerun = new_notebook(cells=[new_code_cell("x", id="a"), new_code_cell("y = 1", id="b"),
                                new_code_cell("x", id="c"), new_code_cell("x", id="d")])
    ids = [cell.id for cell in format_notebook(rerun, previous=committed).cells]
    assert ids[0] == "first" and ids[2] == "second"
    assert len(set(ids)) == 4


def test_missing_and_duplicate_ids_are_replaced_deterministically():
    nb = new_notebook()  # cells set afterwards: new_notebook(cells=...) would repair the ids itself
    nb.cells = [new_code_cell("a", id="dup"), new_code_cell("b", id="dup"), new_code_cell("c")]
    del nb.cells[2]["id"]
    problems = volatile_problems(nb)
    assert "cell 1 (id dup): duplicate cell id, also on cell 0" in problems
    assert "cell 2 (id None): missing or invalid cell id" in problems

    ids = [cell.id for cell in format_notebook(nb).cells]
    assert ids[0] == "dup" and len(set(ids)) == 3
    assert ids == [cell.id for cell in format_notebook(nb).cells]


def test_formatting_twice_changes_nothing(tmp_path):
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(executed_notebook(), path)
    assert format_file(path) is True
    once = path.read_text()
    assert format_file(path) is False
    assert format_file(path, previous_text=once) is False
    assert path.read_text() == once


def test_written_file_is_what_jupyter_writes(tmp_path):
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(executed_notebook(), path)
    format_file(path)
    resaved = tmp_path / "resaved.ipynb"
    nbformat.write(nbformat.read(path, as_version=4), resaved)  # what JupyterLab's save does
    assert path.read_bytes() == resaved.read_bytes()
    assert path.read_text().endswith("}\n") and path.read_text().startswith('{\n "cells": [\n  {\n')


def test_check_only_reports_and_the_cli_formats(tmp_path, capsys):
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(executed_notebook(), path)
    before = path.read_bytes()

    assert main(["--check", str(path)]) == 1
    assert path.read_bytes() == before
    assert "01_demo.ipynb: not formatted" in capsys.readouterr().out

    assert main([str(path)]) == 0
    assert main(["--check", str(path)]) == 0
    assert json.loads(path.read_text())["cells"][1]["metadata"] == {"tags": ["parameters"]}


def test_cli_rejects_a_missing_file(tmp_path):
    assert main(["--check", str(tmp_path / "nothing.ipynb")]) == 2


def test_problems_name_the_cell_and_the_first_offending_line():
    nb = format_notebook(executed_notebook())
    nb.cells[2].outputs.append(new_output("stream", name="stderr", text="loading\n" + TF_LOG))
    nb.cells[3].outputs.append(new_output("error", ename="ValueError", evalue="bad shape\nmore", traceback=[]))
    nb.cells[1].metadata.execution = dict(TIMESTAMPS)
    first, second, third = (f"cell {i} (id {nb.cells[i].id})" for i in (1, 2, 3))

    problems = volatile_problems(nb)
    assert len(problems) == 3
    assert problems[0].startswith(f"{first}: volatile metadata.execution: ")
    assert "2026-11-22T13:47:03.814831Z" in problems[0]
    assert problems[1] == f"{second}, output 1: TensorFlow log line in stderr: {TF_LOG.strip()!r}"
    assert problems[2] == f"{third}, output 1: error output: ValueError: 'bad shape'"


@pytest.mark.parametrize("text", [
    "E0000 00:00:1795355231.080868    5233 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)",
    "W0000 00:00:1732000000.000000  1 some_op.cc:1] anything",
    "2026-11-22 13:47:03.1: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "Could not find cuda drivers on your machine, GPU will not be used.",
    "Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN",
    "TF-TRT Warning: Could not find TensorRT",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
])
def test_tensorflow_log_lines_are_recognised_in_plain_text_too(text):
    nb = format_notebook(new_notebook(cells=[new_code_cell("x", execution_count=1, outputs=[
        new_output("display_data", data={"text/plain": f"ok\n{text}"})])]))
    assert volatile_problems(nb) == [f"cell 0 (id {nb.cells[0].id}), output 0: TensorFlow log line in text/plain: "
                                     f"{text!r}"]


def test_ordinary_output_is_not_a_problem():
    nb = format_notebook(new_notebook(cells=[new_code_cell("x", execution_count=1, outputs=[
        new_output("stream", name="stdout", text="Epoch 1/3\nI0 is not a log line\naccuracy: 0.98\n"),
        new_output("stream", name="stderr", text="UserWarning: something Python said\n")])]))
    assert volatile_problems(nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_formatted_and_has_no_volatile_data(path):
    problems = volatile_problems(read_notebook(path.read_text(encoding="utf-8")))
    assert problems == [], "\n".join(problems)
    assert format_file(path, check=True) is False, f"run: python -m course_tools.notebook_format {path.name}"
