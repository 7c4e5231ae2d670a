"""Every course notebook follows the shared conventions and rejects bad parameters.

nbval executes the notebooks themselves (see pyproject's testpaths); these tests
check what nbval cannot: structure, parameters as papermill sees them, stored
outputs, and papermill parameter errors. Cells are read with ``ast``, so a
convention holds for the code, not for a substring of it.
"""

import ast
import json
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


def parse(source: str) -> ast.Module:
    """A cell's code as a syntax tree (IPython's %magic and !shell lines read as ``pass``)."""
    lines = [re.sub(r"^(\s*)[%!].*", r"\1pass", line) for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def calls(tree: ast.AST, function: str) -> list[ast.Call]:
    """Every call of ``function`` (e.g. ``"helpers.save_results"``) in ``tree``."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == function]


def parameters_and_check(path):
    code = code_cells(path)
    tagged = [i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return code, code[tagged[0]], code[tagged[0] + 1]


def declared_parameters(cell) -> dict[str, ast.AST]:
    """Names the parameters cell assigns (with or without a type hint), with their values."""
    names = {}
    for statement in parse(cell.source).body:
        if isinstance(statement, ast.AnnAssign):
            names[statement.target.id] = statement.value
        elif isinstance(statement, ast.Assign):
            names.update({target.id: statement.value for target in statement.targets})
        else:
            raise AssertionError(f"the parameters cell holds only assignments, not {ast.unparse(statement)!r}")
    return names


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "01_data_exploration.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_title_badge_and_setup_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert f"colab.research.google.com/github/{REPOSITORY.removeprefix('https://github.com/')}" \
           f"/blob/main/notebooks/{path.name}" in cells[0].source
    setup = code_cells(path)[0].source
    assert f'%pip install -q "git+{REPOSITORY}"' in setup
    tree = parse(setup)
    assert any(isinstance(n, ast.Import) and [a.name for a in n.names] == ["helpers"] for n in tree.body)
    # the setup cell stops with a clear message if `import helpers` found a student's own helpers.py
    guard = [n for n in tree.body if isinstance(n, ast.If) and "IS_COURSE_PACKAGE" in ast.unparse(n.test)]
    assert guard and isinstance(guard[0].body[0], ast.Raise)
    assert calls(tree, "helpers.describe_environment")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_is_checked_and_visible_to_papermill(path):
    _, parameters, check = parameters_and_check(path)
    declared = declared_parameters(parameters)
    assert {"SEED", "RESULTS_DIR"} <= set(declared)
    tree = parse(check.source)
    (check_call,) = calls(tree, "helpers.check_parameters")
    assert ast.unparse(check_call.args[0]) == "globals()"
    rules = {keyword.arg: ast.unparse(keyword.value) for keyword in check_call.keywords}
    assert set(rules) == set(declared), "every parameter has exactly one rule"
    assert rules["RESULTS_DIR"] == "helpers.writable_folder()"
    assert [ast.unparse(c.args[0]) for c in calls(tree, "helpers.set_seed")] == ["SEED"]
    # papermill drops a line it cannot parse (e.g. a comment with "=" in it) without failing
    assert set(papermill.inspect_notebook(str(path))) == set(declared)
    for name, value in declared.items():
        if isinstance(value, ast.Constant) and value.value is None:
            assert rules[name].startswith("helpers.optional("), f"{name} may be None"


def planned_budget_cell(code) -> int | None:
    """The index of the code cell that chooses the plan with a forecast, if the notebook has one."""
    found = [i for i, c in enumerate(code) if calls(parse(c.source), "helpers.planned_budget")]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_training_lengths_come_from_one_budget(path):
    code, parameters, check = parameters_and_check(path)
    declared = declared_parameters(parameters)
    if "BUDGET" not in declared:
        assert not any("fit(" in c.source for c in code), "a notebook that trains has a BUDGET"
        return
    assert ast.unparse(declared["BUDGET"]) == "'auto'"
    lengths = [name for name, value in declared.items() if isinstance(value, ast.Constant) and value.value is None]
    planned = planned_budget_cell(code)  # a forecast chooses the plan: nothing the plan decides trains before it
    assert planned is not None, "a training notebook chooses its plan with helpers.planned_budget"
    (budget_call,) = calls(parse(code[planned].source), "helpers.planned_budget")
    assert [ast.unparse(a) for a in budget_call.args] == ["BUDGET", "MAX_MINUTES"] and "MAX_MINUTES" in declared
    settings = {k.arg: k.value for k in budget_call.keywords}
    assert set(settings) - {"spent_seconds"} == {"cpu", "steps", "quick", "given", "plan", "costs"}
    assert {k.arg for k in settings["cpu"].keywords} == set(lengths)
    assert {k.arg for k in settings["quick"].keywords} <= set(lengths)
    assert not any('budget["' in c.source for c in code[:planned])
    assert ast.unparse(budget_call.args[0]) == "BUDGET"
    given = {k.arg: ast.unparse(k.value) for k in settings["given"].keywords}
    assert given == {name: name for name in lengths}, "given= passes each training-length parameter"
    assert not any(calls(parse(c.source), "helpers.quick") and re.search(r"quick\(\w*EPOCHS", c.source)
                   for c in code), "epochs come from the budget, not from helpers.quick"


FORECAST_NOTEBOOKS = [p for p in NOTEBOOKS if planned_budget_cell(code_cells(p)) is not None]


@pytest.mark.full_plan
@pytest.mark.parametrize("path", FORECAST_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_full_plan_runs_in_quick_mode(path, tmp_path, monkeypatch):
    """BUDGET="full" keeps the full plan's structure (widths, seeds, callbacks) in quick mode: its code runs in CI."""
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))  # the kernel inherits it
    output = tmp_path / f"{path.stem}.full.ipynb"
    papermill.execute_notebook(str(path), str(output), parameters={"BUDGET": "full"},
                               kernel_name="python3", cwd=str(path.parent), progress_bar=False)
    training = json.loads((tmp_path / f"{path.stem}.json").read_text())["training"]
    assert training["budget"] == "quick" and 'BUDGET="full" was asked for' in training["reason"]
    assert training["forecasts"]["full"] >= training["forecasts"]["cpu"] > 0  # 02: the CPU budget is the full plan


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_are_saved_under_the_notebook_name(path):
    code, parameters, _ = parameters_and_check(path)
    saves = [call for c in code for call in calls(parse(c.source), "helpers.save_results")]
    assert len(saves) == 1
    keywords = {k.arg: ast.unparse(k.value) for k in saves[0].keywords}
    assert ast.literal_eval(saves[0].args[0]) == path.stem
    assert keywords["results_dir"] == "results_dir" and keywords["parameters"] == "params"
    if "BUDGET" in declared_parameters(parameters):
        assert keywords["budget"] == "budget"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_come_from_one_clean_full_run(path):
    code = [c for c in code_cells(path) if c.source.strip()]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run the notebook top to bottom on a fresh kernel"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    setup_output = "".join(o.get("text", "") for o in code[0].outputs)
    assert re.search(r"quick_mode\s*: off", setup_output), "stored outputs come from a run without quick mode"
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


def test_results_dir_naming_a_file_fails_before_training(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a student's notes")
    notebook = next(p for p in NOTEBOOKS if p.stem.startswith("02"))
    error, executed = run_with(notebook, tmp_path, RESULTS_DIR=str(a_file), BUDGET="gpu")
    assert error.ename == "ParameterError"
    assert f"RESULTS_DIR = {str(a_file)!r} (str): expected a folder" in error.evalue
    assert "BUDGET = 'gpu' (str): expected one of 'auto', 'full', 'cpu'" in error.evalue
    assert "helpers.check_parameters" in executed[-1].source
    assert a_file.read_text() == "a student's notes"


def test_readme_links_the_same_repository_and_every_notebook():
    readme = (ROOT / "README.md").read_text()
    colab = f"colab.research.google.com/github/{REPOSITORY.removeprefix('https://github.com/')}/blob/main/"
    assert colab in readme
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README's notebook list misses {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_training_uses_the_execution_settings(path):
    """Each compile passes the device's execution options and BatchNormalization comes from the helper."""
    code = code_cells(path)
    compiles = [call for cell in code for call in ast.walk(parse(cell.source))
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "compile"
                and (call.args or call.keywords)]
    if not compiles:
        return
    assert calls(parse(code[0].source), "helpers.use_execution_settings"), "the setup cell says what was chosen"
    for call in compiles:
        passed = [ast.unparse(k.value) for k in call.keywords if k.arg is None]
        explicit = {k.arg for k in call.keywords} & {"steps_per_execution", "jit_compile"}
        timed_variants = passed == ["options"] and any("execution_variants" in cell.source for cell in code)
        assert passed == ["execution.compile_options"] or explicit or timed_variants, f"{ast.unparse(call)[:80]}..."
    for cell in code:
        assert "layers.BatchNormalization(" not in cell.source.replace("L.BatchNormalization(", "layers.BatchNormalization("), \
            "build BatchNormalization with helpers.batch_normalization"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_softmax_output_computes_in_float32(path):
    """Under mixed_bfloat16 (chosen where the CPU computes it natively) a softmax must stay in float32.

    helpers.train refuses such a model at run time, but only on a CPU that chooses bfloat16;
    this check holds on every machine.
    """
    for cell in code_cells(path):
        for call in ast.walk(parse(cell.source)):
            if not (isinstance(call, ast.Call) and ast.unparse(call.func).split(".")[-1] == "Dense"):
                continue
            options = {keyword.arg: keyword.value for keyword in call.keywords}
            if "softmax" in ast.unparse(options.get("activation", ast.Constant(None))):
                assert ast.unparse(options.get("dtype", ast.Constant(None))) == "'float32'", \
                    f"{path.name}: give {ast.unparse(call)[:70]}... dtype=\"float32\""
