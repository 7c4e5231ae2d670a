"""The instructors' tools: the runner, the reference comparison and the ./course script.

Most tests replace papermill's execution by a fake that writes a results file, so
they take milliseconds; two run a tiny real notebook end to end. The script's tests
use a stub interpreter in a fake environment (COURSE_VENV) and never install anything.
"""

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_tools import cli, runner

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "course"


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """Each test starts from the same environment: full mode, no data or results redirection."""
    for variable in ("COURSE_QUICK", "COURSE_DATA_MIRROR", "COURSE_DATA_CACHE",
                     "COURSE_RESULTS_DIR", runner.CALLER_DIR_VARIABLE):
        monkeypatch.delenv(variable, raising=False)


# ------------------------------------------------------------------ planning


def test_each_multiplies_runs_and_p_applies_to_all():
    grid = runner.parameter_grid(["EPOCHS=3"], ["DATASET=mnist,fashion_mnist", "SEED=1,2"])
    assert len(grid) == 4
    assert grid[0] == {"EPOCHS": 3, "DATASET": "mnist", "SEED": 1}
    assert {g["DATASET"] for g in grid} == {"mnist", "fashion_mnist"}


def test_values_are_read_as_python_literals_else_text():
    (combo,) = runner.parameter_grid(["RATE=0.1", "SIZES=[16, 32]", "FLAG=True", "NAME=fashion_mnist"], [])
    assert combo == {"RATE": 0.1, "SIZES": [16, 32], "FLAG": True, "NAME": "fashion_mnist"}


def test_malformed_assignment_is_an_error():
    with pytest.raises(runner.CourseError, match="NAME=VALUE"):
        runner.parameter_grid(["EPOCHS"], [])


def test_notebooks_are_selected_by_number_or_stem():
    first = runner.find_notebooks(["01"])
    assert [nb.stem for nb in first] == ["01_data_exploration"]
    assert runner.find_notebooks(["01_data_exploration"]) == first
    with pytest.raises(runner.CourseError, match="no notebook matches '77'"):
        runner.find_notebooks(["77"])


@pytest.mark.parametrize("command", ["run", "params"])
@pytest.mark.parametrize("folder_exists", [True, False])
def test_no_notebooks_is_an_error_naming_the_folder(tmp_path, capsys, command, folder_exists):
    folder = tmp_path / "notebooks"
    if folder_exists:
        folder.mkdir()
    assert cli.main([command, "--notebook-dir", str(folder), "--output", str(tmp_path / "runs")]
                    if command == "run" else [command, "--notebook-dir", str(folder)]) == 2
    error = capsys.readouterr().err
    assert f"no course notebooks ([0-9][0-9]_*.ipynb) in {folder}" in error
    assert ("no such folder" in error) is not folder_exists
    assert not (tmp_path / "runs").exists()


def test_unknown_parameter_fails_before_anything_runs():
    notebooks = runner.find_notebooks(["01"])
    with pytest.raises(runner.CourseError, match="(?s)unknown parameter.*EPOCH.*01_data_exploration: DATASET"):
        runner.plan_runs(notebooks, runner.parameter_grid(["EPOCH=3"], []))


def test_two_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    now = datetime(2026, 1, 2, 3, 4, 5)
    (tmp_path / "20260102-030405-quick").mkdir()  # another run took this second's name
    second = runner.make_run_dir(tmp_path, quick=True, now=now)
    third = runner.make_run_dir(tmp_path, quick=True, now=now)
    assert second.name == "20260102-030405-2-quick"
    assert third.name == "20260102-030405-3-quick"
    assert runner.make_run_dir(tmp_path, quick=False, now=now).name == "20260102-030405"


def test_relative_data_folders_are_made_absolute_and_results_redirection_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.CALLER_DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_MIRROR", "usb/datasets")
    monkeypatch.setenv("COURSE_DATA_CACHE", "/abs/cache")
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "tests"))
    assert runner.prepare_kernel_environment(quick=False) is False
    assert os.environ["COURSE_DATA_MIRROR"] == str(tmp_path / "usb" / "datasets")
    assert os.environ["COURSE_DATA_CACHE"] == "/abs/cache"
    assert "COURSE_RESULTS_DIR" not in os.environ


def test_kernels_inherit_tensorflow_start_up_settings_and_an_explicit_value_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))  # dropped by the call, restored afterwards
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    runner.prepare_kernel_environment(quick=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


# ------------------------------------------------------------------ running (papermill faked)


def write_tiny_notebook(folder: Path) -> None:
    """A two-parameter notebook that validates its input and records one result."""
    folder.mkdir(exist_ok=True)
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


def fake_notebook(behaviour):
    """A ``run_notebook`` that does ``behaviour(parameters)``, then writes the results file.

    ``behaviour`` returns the file's ``quick_mode``, or an error text for a run that
    failed before saving results; it may also raise, as a Ctrl-C does.
    """

    def run_notebook(notebook, output, parameters):
        outcome = behaviour(parameters)
        if isinstance(outcome, str):
            return outcome
        folder = Path(parameters["RESULTS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        record = {"notebook": notebook.stem, "quick_mode": outcome,
                  "results": {"word_length": len(parameters.get("WORD", "abc"))}}
        (folder / f"{notebook.stem}.json").write_text(json.dumps(record))
        return None

    return run_notebook


def run_tiny(tmp_path, *arguments):
    write_tiny_notebook(tmp_path / "notebooks")
    return cli.main(["run", "--notebook-dir", str(tmp_path / "notebooks"),
                     "--output", str(tmp_path / "runs"), *arguments])


def test_ctrl_c_keeps_the_finished_runs_and_exits_130(tmp_path, monkeypatch, capsys):
    def behaviour(parameters):
        if parameters["WORD"] == "hello":
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(runner, "run_notebook", fake_notebook(behaviour))
    assert run_tiny(tmp_path, "--each", "WORD=abc,hello,xyz") == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    table = captured.out.split("Recorded results")[1]
    assert "WORD-abc" in table and "WORD-hello" not in table.split("Executed notebooks")[0]
    (line,) = [line for line in captured.out.splitlines() if line.startswith("Interrupted")]
    assert "01_tiny.ipynb (WORD='hello')" in line and "1 run(s) not started" in line
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = pd.read_csv(run_dir / "summary.csv", dtype=str)
    assert set(summary["run"]) == {"WORD-abc"}
    assert summary.query("result == 'word_length'")["value"].tolist() == ["3"]


def test_a_results_file_from_quick_mode_is_labelled_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "run_notebook", fake_notebook(lambda parameters: True))
    assert run_tiny(tmp_path) == 0
    out = capsys.readouterr().out
    assert "quick mode off" in out  # what the runner asked for...
    assert re.search(r"^mode\s+quick\s*$", out, re.MULTILINE)  # ...and what the file says


def test_results_dir_shared_by_two_runs_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "run_notebook", fake_notebook(pytest.fail))
    code = run_tiny(tmp_path, "-p", f"RESULTS_DIR={tmp_path / 'mine'}", "--each", "WORD=abc,hello")
    assert code == 2
    assert "would both write" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_an_older_results_file_is_not_taken_for_a_failed_run(tmp_path, monkeypatch, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "01_tiny.json").write_text('{"notebook": "01_tiny", "results": {"word_length": 99}}')

    monkeypatch.setattr(runner, "run_notebook", fake_notebook(lambda parameters: "ParameterError: bad"))
    assert run_tiny(tmp_path, "-p", f"RESULTS_DIR={mine}") == 1
    table = capsys.readouterr().out.split("Recorded results")[1]
    assert "FAILED" in table and "word_length" not in table


# ------------------------------------------------------------------ running (real notebooks)


def test_a_run_executes_each_variant_and_prints_the_results_table(tmp_path, capsys):
    code = run_tiny(tmp_path, "--quick", "--each", "WORD=abc,hello,nope")
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
    summary = pd.read_csv(run_dir / "summary.csv", dtype=str)
    lengths = summary.query("result == 'word_length'").set_index("run")["value"].to_dict()
    assert lengths == {"WORD-abc": "3", "WORD-hello": "5"}


def test_results_dir_and_quick_mode_from_the_environment_are_honoured(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_QUICK", "1")  # set outside, no --quick
    monkeypatch.setenv(runner.CALLER_DIR_VARIABLE, str(tmp_path))
    assert run_tiny(tmp_path, "-p", "RESULTS_DIR=my results", "-p", "WORD=hello") == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "my results" / "01_tiny.json").read_text())
    assert record["results"] == {"word_length": 5} and record["quick_mode"] is True
    assert "quick mode" in out.splitlines()[0]
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-quick")
    table = out.split("Recorded results")[1]
    assert re.search(r"^mode\s+quick\s*$", table, re.MULTILINE)
    assert re.search(r"^word_length\s+5\s*$", table, re.MULTILINE)


# ------------------------------------------------------------------ compare


def results_record(**changes):
    record = {
        "notebook": "02_dense_network", "keras_backend": "tensorflow", "quick_mode": False,
        "created": "2026-01-01T00:00:00+00:00", "parameters": {"EPOCHS": None, "RESULTS_DIR": "results"},
        "results": {"test_accuracy_dense_512": 0.9812, "parameters_dense_512": 407050,
                    "train_seconds_dense_512": 40.0, "best_val_loss_epoch_dense_512": 9},
        "environment": {"keras": "3.12.0", "keras_backend": "tensorflow", "gpu": "none (running on the CPU)"},
        "training": {"budget": "cpu", "reason": "no GPU", "values": {"EPOCHS": 15}, "origins": {}},
    }
    for key, value in changes.items():
        record[key] = {**record[key], **value} if isinstance(value, dict) else value
    return record


def compare(tmp_path, new, *options):
    (tmp_path / "reference").mkdir(exist_ok=True)
    (tmp_path / "reference" / "02_dense_network.json").write_text(json.dumps(results_record()))
    run = tmp_path / "run" / "results" / "default"
    run.mkdir(parents=True, exist_ok=True)
    (run / "02_dense_network.json").write_text(json.dumps(new))
    (run / "unrelated.json").write_text('{"history": []}')
    return cli.main(["compare", str(tmp_path / "run"), "--reference", str(tmp_path / "reference"), *options])


def row(out, result):
    (line,) = [line for line in out.splitlines() if line.startswith(result + " ")]
    return line.split()


def test_compare_accepts_a_run_within_tolerances(tmp_path, capsys):
    new = results_record(results={"test_accuracy_dense_512": 0.9752, "train_seconds_dense_512": 100.0,
                                  "best_val_loss_epoch_dense_512": 7},
                         environment={"keras": "3.13.0", "gpu": "NVIDIA H200"},
                         parameters={"RESULTS_DIR": "/elsewhere"})
    assert compare(tmp_path, new) == 0
    out = capsys.readouterr().out
    assert row(out, "test_accuracy_dense_512")[1:] == ["0.9812", "0.9752", "-0.0060", "ok"]
    assert row(out, "parameters_dense_512")[-1] == "ok"
    assert row(out, "train_seconds_dense_512")[3:] == ["x2.50", "flag:", "outside", "x0.5", "to", "x2"]
    assert row(out, "best_val_loss_epoch_dense_512")[3:] == ["-2", "info"]
    assert "keras: 3.12.0 -> 3.13.0" in out and "gpu: none (running on the CPU) -> NVIDIA H200" in out
    assert "parameter differences: none" in out
    assert "all exact and accuracy checks passed, 1 time(s) flagged" in out


@pytest.mark.parametrize("changed, options", [
    ({"test_accuracy_dense_512": 0.9700}, []),
    ({"test_accuracy_dense_512": 0.9790}, ["--accuracy-tolerance", "0.001"]),
    ({"parameters_dense_512": 407051}, []),
])
def test_compare_fails_an_exact_or_accuracy_regression(tmp_path, capsys, changed, options):
    assert compare(tmp_path, results_record(results=changed), *options) == 1
    assert "1 check(s) failed" in capsys.readouterr().out


def test_compare_fails_an_accuracy_missing_from_the_run(tmp_path, capsys):
    new = results_record()
    del new["results"]["test_accuracy_dense_512"]
    assert compare(tmp_path, new) == 1
    assert " ".join(row(capsys.readouterr().out, "test_accuracy_dense_512")[2:]) == "FAIL: missing in the run"


def test_compare_checks_a_mean_over_seeds_within_three_of_its_spreads(tmp_path, capsys):
    """04's grid names its means ``*_acc_mean``: they are checked, at the spread their seeds measured."""
    grid = {"lr__a__val_acc_mean": 0.80, "lr__a__val_acc_std": 0.02,  # 3 x 0.02 = 0.06 > 0.01
            "lr__b__val_acc_mean": 0.80, "lr__b__val_acc_std": 0.001,  # 3 x 0.001 < 0.01: 0.01
            "test_accuracy_mean": 0.90, "test_accuracy_std": 0.004}
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "02_dense_network.json").write_text(json.dumps(results_record(results=grid)))

    def run(**moved):
        new = results_record(results={**grid, **moved})
        return cli.main(["compare", str(_results_file(tmp_path, new)), "--reference", str(tmp_path / "reference")])

    assert run(**{"lr__a__val_acc_mean": 0.745, "lr__b__val_acc_mean": 0.791, "test_accuracy_mean": 0.889,
                  "test_accuracy_std": 0.05}) == 0  # the run's own larger spread counts too: 3 x 0.05
    out = capsys.readouterr().out
    assert " ".join(row(out, "lr__a__val_acc_mean")[3:]) == "-0.0550 ok (within 0.0600: 3 x its seeds' spread)"
    assert row(out, "lr__b__val_acc_mean")[3:] == ["-0.0090", "ok"]
    assert row(out, "test_accuracy_std")[3:] == ["+0.046", "info"]
    assert run(**{"lr__a__val_acc_mean": 0.735, "lr__b__val_acc_mean": 0.789}) == 1
    out = capsys.readouterr().out
    assert " ".join(row(out, "lr__a__val_acc_mean")[4:]) == "FAIL: off by more than 0.0600 (3 x its seeds' spread)"
    assert " ".join(row(out, "lr__b__val_acc_mean")[4:]) == "FAIL: off by more than 0.01"
    assert "2 check(s) failed" in out


def _results_file(tmp_path, record):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("changes, reason", [
    ({"quick_mode": True}, "the run is quick mode but the reference is a full run"),
    ({"training": {"values": {"EPOCHS": 3}}},
     "the run's training budget differs from the reference's (EPOCHS: 15 -> 3)"),
])
def test_compare_refuses_runs_that_cannot_be_compared_unless_forced(tmp_path, capsys, changes, reason):
    assert compare(tmp_path, results_record(**changes)) == 2
    assert reason in capsys.readouterr().err
    assert compare(tmp_path, results_record(**changes), "--force") == 0
    assert f"compared anyway (--force): {reason}" in capsys.readouterr().out


def test_compare_without_anything_to_compare_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["compare", str(tmp_path / "empty"), "--reference", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"no results files (JSON with 'notebook' and 'results') under {tmp_path / 'empty'}" in error
    assert compare(tmp_path, results_record(notebook="09_other")) == 2
    assert "no reference" in capsys.readouterr().err
    assert cli.main(["compare", str(tmp_path / "run"), "--reference", str(tmp_path / "nope")]) == 2
    assert "no reference folder" in capsys.readouterr().err


def test_compare_refuses_an_empty_time_ratio_range(tmp_path, capsys):
    assert compare(tmp_path, results_record(), "--time-ratio", "2", "0.5") == 2
    assert "LOW must be below HIGH" in capsys.readouterr().err


def test_format_hands_its_arguments_to_notebook_format(tmp_path, monkeypatch):
    from course_tools import notebook_format

    seen = []
    monkeypatch.setattr(notebook_format, "main", lambda argv: seen.append((argv, os.getcwd())) or 1)
    monkeypatch.setenv(runner.CALLER_DIR_VARIABLE, str(tmp_path))
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["format", "--check", "a.ipynb"]) == 1
    assert seen == [(["--check", "a.ipynb"], str(tmp_path))]


# ------------------------------------------------------------------ the ./course script


def course(*arguments, cwd=REPO_ROOT, **environment):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHON", "COURSE_VENV")}
    return subprocess.run([str(SCRIPT), *arguments], cwd=cwd, env={**env, **environment},
                          capture_output=True, text=True, timeout=60)


def fake_venv(tmp_path, pip_status=0, version_check="exec"):
    """A COURSE_VENV whose bin/python runs the real interpreter, except for pip and course_tools.

    ``pip`` answers ``pip_status``; ``-m course_tools`` prints what it was given.
    ``version_check="fail"`` makes every other call fail (a python that does not run).
    """
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    other = f'exec "{sys.executable}" "$@"' if version_check == "exec" else "exit 127"
    (venv / "bin" / "python").write_text(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then exit {pip_status}; fi
if [ "$1" = "-m" ] && [ "$2" = "course_tools" ]; then
    shift 2; echo "course_tools $*"; echo "mirror=$COURSE_DATA_MIRROR"; echo "cwd=$(pwd)"; exit 0
fi
{other}
""")
    (venv / "bin" / "python").chmod(0o755)
    return venv


def test_help_lists_every_command_the_script_dispatches():
    result = course("--help")
    assert result.returncode == 0
    listed = re.findall(r"^  \./course ([\w-]+)", result.stdout, re.MULTILINE)
    dispatched = re.search(r"^    ([\w|-]+)\)\n\s+shift; ensure_environment\n\s+exec .*course_tools",
                           SCRIPT.read_text(), re.MULTILINE).group(1).split("|")
    assert sorted(listed) == sorted([*dispatched, "test"]) == ["bench", "compare", "compat", "format", "params",
                                                           "quick-reference", "run", "test"]
    assert result.stdout.startswith("The course's eight commands.")


def test_an_unknown_command_is_named_and_the_help_printed():
    result = course("rnu")
    assert result.returncode == 2
    assert result.stderr.startswith("course: unknown command 'rnu'\n")
    assert "./course compare" in result.stderr


@pytest.mark.parametrize("pip_status, version_check, problem", [
    (0, "fail", "its python does not run"),
    (1, "exec", "it has no working pip"),
])
def test_a_broken_environment_is_reported_with_the_fix(tmp_path, pip_status, version_check, problem):
    venv = fake_venv(tmp_path, pip_status, version_check)
    result = course("params", COURSE_VENV=str(venv))
    assert result.returncode == 2
    assert f"the environment in {venv} is broken ({problem})" in result.stderr
    assert f"rm -rf {venv}" in result.stderr


def test_python_differing_from_the_environment_is_not_silently_ignored(tmp_path):
    venv = fake_venv(tmp_path)
    other = tmp_path / "python2.9"
    other.write_text("#!/bin/sh\necho 2.9\n")
    other.chmod(0o755)
    result = course("params", COURSE_VENV=str(venv), PYTHON=str(other))
    assert result.returncode == 2
    assert f"PYTHON={other} is Python 2.9, but the environment in {venv} has Python" in result.stderr
    assert "or set COURSE_VENV" in result.stderr


def executable(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("version, accepted", [("3.10", False), ("3.11", True), ("3.13", True), ("3.14", False)])
def test_a_new_environment_needs_python_3_11_to_3_13(tmp_path, version, accepted):
    # the real interpreter, reporting another version; creating the venv fails (it is not the point here)
    major, minor = version.split(".")
    python = executable(tmp_path / f"python{version}", f"""[ "$1" = -c ] || exit 1
exec "{sys.executable}" -c "import sys; sys.version_info = ({major}, {minor}, 0); exec(sys.argv[1])" "$2"
""")
    result = course("params", COURSE_VENV=str(tmp_path / "venv"), PYTHON=str(python))
    assert result.returncode == 2 and not (tmp_path / "venv").exists()
    if accepted:
        assert f"Creating the course environment in {tmp_path / 'venv'} with Python {version}" in result.stdout
        assert "could not create a virtual environment" in result.stderr
    else:
        assert f"course: needs Python 3.11 to 3.13; '{python}' is Python {version}." in result.stderr


@pytest.mark.parametrize("machine, python_machine, message", [
    ("x86_64", "x86_64", "TensorFlow publishes no wheels for macOS on Intel (x86_64)"),
    ("arm64", "x86_64", "is an x86_64 (Intel) Python, running under Rosetta"),
    ("arm64", "arm64", None),  # Apple Silicon: on to the Python version check
])
def test_an_intel_mac_is_told_before_any_environment_is_made(tmp_path, machine, python_machine, message):
    bin_dir = tmp_path / "bin"
    executable(bin_dir / "uname", f'case "$1" in -m) echo {machine} ;; *) echo Darwin ;; esac\n')
    # this python answers the platform question only, and does not run otherwise
    python = executable(tmp_path / "python3", f'case "$*" in *platform*) echo {python_machine} ;; *) exit 1 ;; esac\n')
    result = course("params", COURSE_VENV=str(tmp_path / "venv"), PYTHON=str(python),
                    PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert result.returncode == 2 and not (tmp_path / "venv").exists()
    assert "Creating the course environment" not in result.stdout
    if message:
        assert result.stderr.startswith(f"course: {message}" if machine == "x86_64" else f"course: '{python}' {message}")
        assert ("Google Colab" in result.stderr) == (machine == "x86_64")
    else:
        assert "TensorFlow" not in result.stderr and "needs Python 3.11 to 3.13" in result.stderr


def test_requirements_install_once_and_paths_start_where_the_command_was_typed(tmp_path):
    venv = fake_venv(tmp_path)
    first = course("run", "01", cwd=tmp_path, COURSE_VENV="venv", COURSE_DATA_MIRROR="usb/data")
    assert first.returncode == 0, first.stderr
    assert "Installing the course requirements" in first.stdout
    assert f"course_tools run 01\nmirror={tmp_path}/usb/data\ncwd={REPO_ROOT}\n" in first.stdout
    again = course("compare", "runs/x", COURSE_VENV=str(venv))
    assert again.returncode == 0 and "Installing" not in again.stdout
    assert "course_tools compare runs/x" in again.stdout
