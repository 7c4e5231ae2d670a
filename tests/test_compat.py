"""``./course compat``'s logic, without installing anything: it runs in milliseconds.

The checks themselves (building Colab's runtimes, installing, running the suite
there) take minutes and need PyPI: ``.ci/run`` runs them. What is tested here is
what decides their verdicts: reading Colab's package lists, judging what a course
install would change, counting test results, and the summary line CI prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_tools import cli, compat
from course_tools.compat import Change, Result, judge_install, parse_constraints, summary_line
from course_tools.runner import CourseError

COLAB = {"numpy": "2.1.3", "keras": "3.13.2", "tqdm": "4.67.3", "ml-dtypes": "0.6.0", "requests": "2.32.4"}


def report(*installs: tuple[str, str]) -> dict:
    """A pip ``--report`` as pip writes it, trimmed to what the check reads."""
    return {"version": "1", "install": [{"metadata": {"name": name, "version": version}, "requested": False}
                                        for name, version in installs]}


# ------------------------------------------------------------------ Colab's package lists


def test_constraints_are_read_with_pip_normalized_names():
    text = "# Colab, 2025\nabsl-py==1.4.0\n\nml_dtypes==0.6.0\nPygments==2.21.0  # a comment\n" \
           "jupyter.client==7.4.9 ; python_version >= '3.8'\nuvicorn[standard]==0.34.0\n"
    assert parse_constraints(text) == {"absl-py": "1.4.0", "ml-dtypes": "0.6.0", "pygments": "2.21.0",
                                       "jupyter-client": "7.4.9", "uvicorn": "0.34.0"}


@pytest.mark.parametrize("line", ["numpy>=2.0", "numpy", "git+https://example.org/x.git", "-r other.txt"])
def test_a_line_that_is_not_an_exact_pin_is_an_error_naming_it(line):
    with pytest.raises(CourseError, match=re.escape(f"colab.txt, line 2: expected name==version, got '{line}'")):
        parse_constraints(f"keras==3.8.0\n{line}\n", "colab.txt")


def colab_lists() -> Path | None:
    """Colab's package lists where ``./course compat`` would look for them, if they are there."""
    try:
        return compat.colab_dir()
    except CourseError:
        return None


@pytest.mark.skipif(colab_lists() is None, reason="no Colab package lists (../shared/colab, COURSE_COLAB_DIR)")
@pytest.mark.parametrize("runtime", [compat.COLAB_CURRENT, compat.COLAB_OLDEST], ids=lambda r: r.name)
def test_colabs_own_lists_parse_and_hold_every_runtime_package(runtime):
    pins = parse_constraints((colab_lists() / runtime.constraints).read_text())
    assert set(runtime.packages) <= set(pins)


# ------------------------------------------------------------------ judging a course install


def test_upgrade_downgrade_and_reinstall_over_colab_are_named_with_both_versions():
    changes = judge_install(report(("numpy", "2.3.1"), ("keras", "3.8.0"), ("tqdm", "4.67.3")), COLAB)
    assert [(c.name, c.colab, c.new, c.kind) for c in changes] == [
        ("keras", "3.13.2", "3.8.0", "downgrade"),
        ("numpy", "2.1.3", "2.3.1", "upgrade"),
        ("tqdm", "4.67.3", "4.67.3", "reinstall"),
    ]
    assert [str(c) for c in changes] == ["keras 3.13.2 -> 3.8.0 (downgrade)", "numpy 2.1.3 -> 2.3.1 (upgrade)",
                                         "tqdm 4.67.3 (reinstalled over Colab's)"]


def test_the_course_package_and_packages_colab_lacks_are_allowed():
    assert judge_install(report(("dl_course_helpers", "0.1.0"), ("nbval", "0.11.0")), COLAB) == []
    assert judge_install(report(), COLAB) == []


def test_report_names_are_compared_as_pip_compares_them():
    (change,) = judge_install(report(("ML_Dtypes", "0.5.1")), COLAB)
    assert str(change) == "ml-dtypes 0.6.0 -> 0.5.1 (downgrade)"


def test_a_stand_in_runtime_that_drifted_from_colab_is_named():
    installed = {"numpy": "2.3.1", "keras": "3.13.2", "nbval": "0.11.0"}
    assert compat.drift(installed, COLAB) == ["numpy 2.3.1 (Colab: 2.1.3)"]


def test_versions_that_do_not_parse_are_still_a_change():
    assert Change("odd", "build-7", "build-8").kind == "replace"
    assert Change("odd", "build-7", "build-7").kind == "reinstall"


def test_what_colab_has_but_the_stand_in_runtime_lacks_is_added_before_judging(monkeypatch, tmp_path):
    """A course dependency Colab has is judged against Colab's version, not against pip's newest."""
    installed = {"numpy": "2.1.3"}
    reports = iter([report(("dl-course-helpers", "0.1.0"), ("requests", "2.33.0"), ("brand-new", "1.0")),
                    report(("dl-course-helpers", "0.1.0"), ("brand-new", "1.0"))])
    added = []

    def fake_pip(python, *args, what):
        if "--dry-run" in args:
            Path(args[args.index("--report") + 1]).write_text(json.dumps(next(reports)))
        else:
            added.append(args[-1])
            installed["requests"] = "2.32.4"

    monkeypatch.setattr(compat, "_pip", fake_pip)
    monkeypatch.setattr(compat, "installed_packages", lambda python: dict(installed))
    assert compat.check_course_install(Path("python"), tmp_path, tmp_path / "c.txt", COLAB) == []
    assert added == ["requests==2.32.4"]


def test_a_package_pip_keeps_asking_for_is_an_error_not_a_loop(monkeypatch, tmp_path):
    def fake_pip(python, *args, what):
        if "--dry-run" in args:
            Path(args[args.index("--report") + 1]).write_text(json.dumps(report(("requests", "2.33.0"))))

    monkeypatch.setattr(compat, "_pip", fake_pip)
    monkeypatch.setattr(compat, "installed_packages", lambda python: {})
    with pytest.raises(CourseError, match="pip still wants requests after Colab's version was installed"):
        compat.check_course_install(Path("python"), tmp_path, tmp_path / "c.txt", COLAB)


# ------------------------------------------------------------------ results and the summary line


def test_summary_line_of_a_passing_check():
    result = Result("colab-current", "tensorflow", python="3.13.0", tensorflow="2.20.0", keras="3.13.2",
                    passed=278, skipped=3, seconds=412.4)
    assert result.ok
    assert summary_line(result) == ("compat colab-current: ok - Python 3.13.0, TensorFlow 2.20.0, Keras 3.13.2, "
                                    "backend tensorflow, 278 passed, 3 skipped, 412 s")


def test_summary_line_says_why_a_check_failed():
    failed_tests = Result("jax", "jax", python="3.13.0", tensorflow="2.20.0", keras="3.13.2", passed=80, failed=2,
                          seconds=99.6)
    assert summary_line(failed_tests) == ("compat jax: FAILED (2 failed) - Python 3.13.0, TensorFlow 2.20.0, "
                                          "Keras 3.13.2, backend jax, 80 passed, 2 failed, 0 skipped, 100 s")
    refused = Result("colab-oldest", "tensorflow", problem="installing the course would change Colab's "
                                                           "numpy 2.0.2 -> 2.3.1 (upgrade)")
    assert not refused.ok
    assert summary_line(refused).startswith("compat colab-oldest: FAILED (installing the course would change "
                                            "Colab's numpy 2.0.2 -> 2.3.1 (upgrade)) - Python ?, TensorFlow -")
    assert not Result("main", "tensorflow").ok, "a check that ran no test did not pass"


def test_the_colab_checks_deselect_the_browser_test_and_say_so():
    # the browser test needs JupyterLab and Playwright, which Colab's runtimes lack: deselected there,
    # not skipped (tests/test_browser.py checks that COLAB_DESELECTED leaves nothing to skip or fail)
    assert compat.CHECKS["main"].pytest_args == ()  # main runs everything, the browser test included
    for name in ("colab-current", "colab-oldest", "jax"):
        check = compat.CHECKS[name]
        assert check.pytest_args == compat.COLAB_DESELECTED
        assert "browser test" in check.description and "only in main" in check.description
    assert "playwright" not in compat.TEST_TOOLS and "jupyterlab" not in compat.TEST_TOOLS


def test_junit_counts_skipped_tests_as_neither_passed_nor_failed(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="9" failures="1" '
                     'errors="2" skipped="1"></testsuite></testsuites>')
    assert compat.junit_counts(junit) == (5, 3, 1)


# ------------------------------------------------------------------ choosing checks and interpreters


def test_checks_default_to_all_three_and_keep_the_order_given():
    assert [c.name for c in compat.select_checks([])] == ["colab-current", "colab-oldest", "jax"]
    assert [c.name for c in compat.select_checks(["jax", "main", "jax"])] == ["jax", "main"]
    # documentation, kept on purpose: the README and .ci/run say the jax check runs in colab-current's environment
    assert compat.CHECKS["jax"].runtime is compat.CHECKS["colab-current"].runtime


def test_an_unknown_check_is_refused_with_the_choices(capsys):
    assert cli.main(["compat", "colab-newest"]) == 2
    assert capsys.readouterr().err == ("course: unknown check 'colab-newest'; choose from main, colab-current, "
                                       "colab-oldest, jax\n")


def fake_python(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def test_the_newest_pyenv_interpreter_of_a_version_is_found(tmp_path, monkeypatch):
    for patch in ("3.99.2", "3.99.10"):
        fake_python(tmp_path / "versions" / patch / "bin" / "python", "3.99")
    fake_python(tmp_path / "versions" / "3.98.1" / "bin" / "python", "3.98")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert compat.find_python("3.99") == tmp_path / "versions" / "3.99.10" / "bin" / "python"
    with pytest.raises(CourseError, match=r"no Python 3\.97 found .* `pyenv install 3\.97`"):
        compat.find_python("3.97")


def test_a_missing_colab_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(compat.COLAB_DIR_VARIABLE, str(tmp_path / "nowhere"))
    with pytest.raises(CourseError, match=f"no Colab constraints folder at {tmp_path / 'nowhere'}"):
        compat.colab_dir()


def test_a_runtime_that_failed_to_prepare_fails_every_check_on_it_once(monkeypatch):
    calls = []

    def failing(self, runtime):
        calls.append(runtime.name)
        raise CourseError("installing the course would change Colab's keras 3.8.0 -> 3.15.1 (upgrade)")

    monkeypatch.setattr(compat.Session, "_prepare", failing)
    session = compat.Session()
    for _ in range(2):
        with pytest.raises(CourseError, match="keras 3.8.0 -> 3.15.1"):
            session.environment(compat.COLAB_CURRENT)
    assert calls == ["colab-current"]


def test_the_course_is_installed_from_what_a_clone_would_hold(tmp_path):
    source = compat.course_source(tmp_path)
    assert (source / "pyproject.toml").read_bytes() == (compat.REPO_ROOT / "pyproject.toml").read_bytes()
    assert (source / "helpers" / "__init__.py").is_file()
    assert not (source / ".venv").exists() and not (source / ".compat").exists()
    assert not any((source / "data_cache").glob("*/*.gz"))
