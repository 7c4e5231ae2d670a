"""The linter passes: ruff (configured in ``pyproject.toml``) over the Python files and the notebooks' code cells.

It catches what a run in quick mode can miss: an undefined name on a branch that the
tests never take (the full budget, a GPU, another backend), an unused import, a syntax
error in a helper that no test imports. Fix what it reports, or run ``ruff check --fix``.
The rules are ruff's defaults; the notebooks' setup cell may import ``helpers`` after
Colab's pip install (E402).
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ruff", reason="ruff is not installed: the linter runs in the course's .venv (./course test)")

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_in_the_code_and_the_notebooks():
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, f"ruff check found problems:\n{lint.stdout}{lint.stderr}"
    assert "All checks passed" in lint.stdout


def test_ruff_lints_the_notebooks_too():
    listed = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--show-files", "."],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    notebooks = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks and all(name in listed for name in notebooks)
    assert "helpers/training.py" in listed.replace("\\", "/")
