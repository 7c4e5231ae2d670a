"""The headless course runner: parameter parsing, planning and a real run."""

import csv

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers import course


def test_values_are_read_as_python_literals_else_strings():
    assert course.parse_value("15") == 15
    assert course.parse_value("0.1") == 0.1
    assert course.parse_value("[16, 32]") == [16, 32]
    assert course.parse_value("True") is True
    assert course.parse_value("fashion_mnist") == "fashion_mnist"


def test_each_multiplies_runs_and_p_applies_to_all():
    grid = course.parameter_grid(["EPOCHS=3"], ["DATASET=mnist,fashion_mnist", "SEED=1,2"])
    assert len(grid) == 4
    assert grid[0] == {"EPOCHS": 3, "DATASET": "mnist", "SEED": 1}
    assert {g["DATASET"] for g in grid} == {"mnist", "fashion_mnist"}


def test_malformed_assignment_is_an_error():
    with pytest.raises(course.CourseError, match="NAME=VALUE"):
        course.parameter_grid(["EPOCHS"], [])


def test_notebooks_are_selected_by_number_or_stem():
    first = course.find_notebooks(["01"])
    assert [nb.stem for nb in first] == ["01_data_exploration"]
    assert course.find_notebooks(["01_data_exploration"]) == first
    with pytest.raises(course.CourseError, match="no notebook matches '77'"):
        course.find_notebooks(["77"])


def test_unknown_parameter_fails_before_anything_runs():
    notebooks = course.find_notebooks(["01"])
    with pytest.raises(course.CourseError, match="(?s)unknown parameter.*EPOCH.*01_data_exploration: DATASET"):
        course.plan_runs(notebooks, course.parameter_grid(["EPOCH=3"], []))


def write_tiny_notebook(folder):
    """A two-parameter notebook that validates its input and records one result."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('WORD = "abc"\nRESULTS_DIR = "results"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        new_code_cell("import helpers"),
        params,
        new_code_cell('params = helpers.check_parameters(globals(), WORD=helpers.choice("abc", "hello"),'
                      " RESULTS_DIR=helpers.text())"),
        new_code_cell('helpers.save_results("01_tiny", {"word_length": len(WORD)},'
                      " results_dir=RESULTS_DIR, parameters=params)"),
    ]
    nbformat.write(nb, folder / "01_tiny.ipynb")


def test_a_run_executes_each_variant_and_prints_the_results_table(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_tiny_notebook(notebooks)
    code = course.main(["--notebook-dir", str(notebooks), "run", "--quick", "--output",
                        str(tmp_path / "runs"), "--each", "WORD=abc,hello,nope"])
    out = capsys.readouterr().out
    assert code == 1  # the "nope" run fails its parameter check
    assert "ParameterError" in out and "WORD = 'nope'" in out
    table = out.split("Recorded results")[1]
    assert "WORD-abc" in table and "WORD-hello" in table and "FAILED" in table
    assert "word_length" in table
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-quick")
    executed = sorted(p.name for p in run_dir.glob("*.ipynb"))
    assert executed == ["01_tiny__WORD-abc.ipynb", "01_tiny__WORD-hello.ipynb", "01_tiny__WORD-nope.ipynb"]
    rows = list(csv.DictReader(open(run_dir / "summary.csv")))
    lengths = {r["run"]: r["value"] for r in rows if r["result"] == "word_length"}
    assert lengths == {"WORD-abc": "3", "WORD-hello": "5"}
