"""Every course notebook follows the shared conventions and rejects bad parameters.

nbval executes the notebooks themselves (see pyproject's testpaths); these tests
check what nbval cannot: structure, stored outputs and papermill parameter errors.
"""

import re
from pathlib import Path

import nbformat
import papermill
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The repository URL lives in pyproject.toml; notebooks and README must use that one.
REPOSITORY = re.search(r'^Repository = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "01_data_exploration.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_course_conventions(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert f"colab.research.google.com/github/{REPOSITORY.removeprefix('https://github.com/')}" \
           f"/blob/main/notebooks/{path.name}" in cells[0].source
    code = code_cells(path)
    setup = code[0].source
    assert f'%pip install -q "git+{REPOSITORY}"' in setup and "helpers.describe_environment()" in setup
    tagged = [i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    check = code[tagged[0] + 1].source
    assert "helpers.check_parameters(\n    globals()," in check or "helpers.check_parameters(globals()," in check
    assert "helpers.set_seed(SEED)" in check
    declared = re.findall(r"^([A-Z][A-Z0-9_]*)\s*[:=]", code[tagged[0]].source, flags=re.M)
    assert {"SEED", "RESULTS_DIR"} <= set(declared)
    assert all(f"{name}=" in check for name in declared), "every parameter has a rule"
    assert any(f'helpers.save_results(\n    "{path.stem}"' in c.source
               or f'helpers.save_results("{path.stem}"' in c.source for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_come_from_one_clean_run(path):
    code = [c for c in code_cells(path) if c.source.strip()]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run the notebook top to bottom on a fresh kernel"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert path.stat().st_size < 3_000_000


def run_with(path, tmp_path, **parameters):
    output = tmp_path / f"{path.stem}.out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(path), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(path.parent), progress_bar=False)
    executed = [c for c in code_cells(output) if c.execution_count is not None]
    return error.value, executed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_unknown_parameter_stops_the_notebook_before_any_work(path, tmp_path):
    error, executed = run_with(path, tmp_path, NOT_A_PARAMETER=1)
    assert error.ename == "ParameterError"
    assert "NOT_A_PARAMETER: unknown parameter" in error.evalue
    assert "helpers.check_parameters" in executed[-1].source  # nothing ran after the check


def test_bad_dataset_names_the_parameter_and_the_allowed_values(tmp_path):
    error, _ = run_with(NOTEBOOKS[0], tmp_path, DATASET="cifar10")
    assert error.ename == "ParameterError"
    assert "DATASET = 'cifar10' (str): expected one of 'mnist', 'fashion_mnist'" in error.evalue


def test_readme_links_the_same_repository_and_every_notebook():
    readme = (ROOT / "README.md").read_text()
    colab = f"colab.research.google.com/github/{REPOSITORY.removeprefix('https://github.com/')}/blob/main/"
    assert colab in readme
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README's notebook list misses {path.name}"
