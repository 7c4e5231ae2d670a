"""Check the course where students run it: Colab's runtimes, and Keras's JAX backend.

Most students open the notebooks in Google Colab, whose Python and libraries we do not
choose. Each check rebuilds such a runtime from Colab's own package list (a pip
constraints file of ``name==version`` lines in ``../shared/colab/``, or the folder
``--colab-dir`` / ``COURSE_COLAB_DIR`` names) and runs the course in it:

=================  ==========================================================================
check              what runs
=================  ==========================================================================
``colab-current``  Python 3.13 and Colab's current versions: the install check, then the
                   whole suite (``pytest``, as ``./course test``: unit tests and every
                   notebook under nbval in quick mode)
``colab-oldest``   Python 3.11 and the oldest runtime students can still pick: the
                   install check, then the whole suite
``jax``            the whole suite with ``KERAS_BACKEND=jax`` on the CPU, in the
                   ``colab-current`` environment (Colab ships jax); the few unit tests of
                   TensorFlow-only code are skipped there, with a reason that says so
``main``           (only when named) the course's own ``.venv``: the whole suite,
                   exactly what ``./course test`` runs
=================  ==========================================================================

"The whole suite" in Colab's runtimes leaves out two markers, deselected with
``-m "not full_plan and not browser"`` (``COLAB_DESELECTED``): the ``BUDGET="full"`` quick
runs, and the browser test (``tests/test_browser.py``), which needs JupyterLab and
Playwright; both run in ``.venv`` (``./course test``, ``main``). Deselected tests are not
counted; every summary line counts the tests that ran: passed, failed and skipped.

The install check installs the course the way a notebook's Colab setup cell does
(``pip install <the course>``, here from a copy of the checkout's files instead of the
repository URL) and fails if pip would upgrade, downgrade or reinstall any package
that Colab already has: in Colab that replaces a library the runtime was built with,
and a library already imported by the kernel needs a restart. It asks pip first
(``pip install --dry-run --report``) and only installs when nothing would change.

Environments live in ``.compat/<runtime>/`` (ignored by git) and are reused while
the Python version, the constraints file and the package list are unchanged and no
installed package has drifted from Colab's version (``--fresh`` rebuilds them). Every
check prints one summary line; the command exits 1 if any check failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from helpers.environment import distribution_key

from .runner import REPO_ROOT, CourseError

#: The distribution the course installs (pyproject's ``name``): the one package a
#: course install is expected to add to a Colab runtime.
COURSE_PACKAGE = "dl-course-helpers"
COMPAT_DIR = REPO_ROOT / ".compat"
COLAB_DIR_VARIABLE = "COURSE_COLAB_DIR"
DEFAULT_COLAB_DIR = REPO_ROOT.parent / "shared" / "colab"
#: What the course touches, installed at Colab's versions (with their dependencies, all
#: under Colab's constraints, after Colab's pip) to stand in for a Colab runtime. Anything
#: else the course install would take from Colab's list is added at Colab's version
#: before the install is judged.
RUNTIME_PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "matplotlib", "tqdm",
                    "ipykernel", "pydot")
#: What the tests need beyond the course (installed after the course, Colab's versions
#: where Colab lists them).
TEST_TOOLS = ("pytest", "nbval", "papermill", "nbformat")
STAMP_FILE = ".course-compat-stamp"


@dataclass(frozen=True)
class Runtime:
    """A Colab runtime to rebuild: its Python version and package list."""

    name: str
    python: str
    constraints: str  # file name in the Colab folder
    packages: tuple[str, ...] = RUNTIME_PACKAGES


@dataclass(frozen=True)
class Check:
    """One line of the report: an environment, a Keras backend and the tests run there."""

    name: str
    runtime: Runtime | None  # None: the course's own environment (the running interpreter)
    backend: str
    pytest_args: tuple[str, ...]
    description: str


COLAB_CURRENT = Runtime("colab-current", "3.13", "constraints-current-py313.txt",
                        RUNTIME_PACKAGES + ("jax", "jaxlib"))
COLAB_OLDEST = Runtime("colab-oldest", "3.11", "constraints-2025.07-py311.txt")
#: What the checks in Colab's runtimes leave out, by marker (pytest deselects it: not run, not
#: counted as skipped): the BUDGET="full" quick runs (slow; run in main), and the browser test,
#: which needs JupyterLab and Playwright, installed in .venv but not in Colab's runtimes.
COLAB_DESELECTED = ("-m", "not full_plan and not browser")
ONLY_IN_MAIN = "(the BUDGET=\"full\" quick runs and the browser test only in main)"
CHECKS = {
    check.name: check for check in (
        Check("main", None, "tensorflow", (), "the course's own environment: the whole suite, as ./course test"),
        Check("colab-current", COLAB_CURRENT, "tensorflow", COLAB_DESELECTED,
              f"Colab's current runtime (Python 3.13): install check, then the whole suite {ONLY_IN_MAIN}"),
        Check("colab-oldest", COLAB_OLDEST, "tensorflow", COLAB_DESELECTED,
              f"the oldest Colab runtime (Python 3.11): install check, then the whole suite {ONLY_IN_MAIN}"),
        Check("jax", COLAB_CURRENT, "jax", COLAB_DESELECTED,
              f"the whole suite with KERAS_BACKEND=jax (CPU), in the colab-current environment {ONLY_IN_MAIN}"),
    )
}
DEFAULT_CHECKS = ("colab-current", "colab-oldest", "jax")


# ------------------------------------------------------------------ pure logic


def parse_constraints(text: str, source: str = "constraints") -> dict[str, str]:
    """``{normalized name: version}`` from a pip constraints file of ``name==version`` lines.

    Blank lines and comments are skipped, environment markers (``; python_version...``)
    ignored. Anything else (a range, a URL, an option) is an error naming the line:
    the check compares exact versions, so a vague line must not pass silently.
    """
    pins: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s=]+)", line)
        if not match:
            raise CourseError(f"{source}, line {number}: expected name==version, got {raw.strip()!r}")
        pins[distribution_key(match[1])] = match[2]
    return pins


@dataclass(frozen=True)
class Change:
    """A package Colab already has that the course install would replace."""

    name: str
    colab: str
    new: str

    @property
    def kind(self) -> str:
        """``upgrade``, ``downgrade``, ``reinstall`` (the same version over Colab's) or ``replace``."""
        try:
            colab, new = Version(self.colab), Version(self.new)
        except InvalidVersion:
            return "reinstall" if self.colab == self.new else "replace"
        return "upgrade" if new > colab else "downgrade" if new < colab else "reinstall"

    def __str__(self) -> str:
        if self.kind == "reinstall":
            return f"{self.name} {self.colab} (reinstalled over Colab's)"
        return f"{self.name} {self.colab} -> {self.new} ({self.kind})"


def drift(installed: Mapping[str, str], colab: Mapping[str, str]) -> list[str]:
    """Installed packages that Colab has at another version (``name installed (Colab: version)``).

    A stand-in runtime must have none: a package changed by hand or by an earlier
    experiment would hide the very change the install check looks for.
    """
    return [f"{name} {version} (Colab: {colab[name]})" for name, version in sorted(installed.items())
            if name in colab and colab[name] != version]


def report_installs(report: Mapping) -> dict[str, str]:
    """``{normalized name: version}`` of what a ``pip install --dry-run --report`` would install."""
    return {distribution_key(item["metadata"]["name"]): item["metadata"]["version"] for item in report.get("install", [])}


def judge_install(report: Mapping, colab: Mapping[str, str]) -> list[Change]:
    """What a course install (a pip report) would do to the packages Colab already has.

    Every package the report would install and Colab lists is a change, whatever its
    version: an upgrade or downgrade replaces Colab's build, and even the same version
    is a reinstall over it. The course's own package is expected, and a package Colab
    does not have is simply added.
    """
    return [Change(name, colab[name], version) for name, version in sorted(report_installs(report).items())
            if name in colab and name != COURSE_PACKAGE]


@dataclass
class Result:
    """What one check found, for its summary line."""

    name: str
    backend: str
    python: str = "?"
    tensorflow: str = "-"
    keras: str = "-"
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the check got as far as the tests and none failed."""
        return self.problem is None and self.failed == 0 and self.passed > 0


def summary_line(result: Result) -> str:
    """One line per environment: verdict, versions, backend, tests passed, failed and skipped, seconds (CI greps it).

    Skips are always shown (``0 skipped`` too) so that a module skipped where it should run (a
    missing tool, an unexpected backend) is seen in the summary; the reasons are in pytest's
    report above it (``-rs``). Tests the check deselects (``COLAB_DESELECTED``) are not counted.
    """
    verdict = "ok" if result.ok else f"FAILED ({result.problem or f'{result.failed} failed'})"
    failed = f", {result.failed} failed" if result.failed else ""
    counts = f"{result.passed} passed{failed}, {result.skipped} skipped"  # skips always shown, 0 too
    return (f"compat {result.name}: {verdict} - Python {result.python}, TensorFlow {result.tensorflow}, "
            f"Keras {result.keras}, backend {result.backend}, {counts}, {result.seconds:.0f} s")


def junit_counts(path: Path) -> tuple[int, int, int]:
    """``(passed, failed, skipped)`` from a pytest ``--junit-xml`` report; errors count as failures."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    passed = failed = skipped = 0
    for suite in suites:
        tests, failures, errors, skips = (int(suite.get(key, 0))
                                          for key in ("tests", "failures", "errors", "skipped"))
        failed += failures + errors
        skipped += skips
        passed += tests - failures - errors - skips
    return passed, failed, skipped


def select_checks(names: Sequence[str]) -> list[Check]:
    """The checks named (default: ``DEFAULT_CHECKS``), in the order given, each once."""
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise CourseError(f"unknown check {', '.join(map(repr, unknown))}; choose from {', '.join(CHECKS)}")
    return [CHECKS[name] for name in dict.fromkeys(names or DEFAULT_CHECKS)]


# ------------------------------------------------------------------ environments


def colab_dir(given: Path | None = None) -> Path:
    """The folder of Colab's constraints files: ``--colab-dir``, ``COURSE_COLAB_DIR`` or ``../shared/colab``."""
    folder = given or Path(os.environ.get(COLAB_DIR_VARIABLE) or DEFAULT_COLAB_DIR)
    if not folder.is_dir():
        raise CourseError(f"no Colab constraints folder at {folder}: set {COLAB_DIR_VARIABLE} or pass --colab-dir")
    return folder


def find_python(version: str) -> Path:
    """An interpreter of ``version`` (``3.13``): ``python3.13`` on PATH, else the newest pyenv one."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = pyenv_root.glob(f"versions/{version}.*/bin/python")
    candidates += [str(path) for path in sorted(installed, key=lambda p: _version_key(p.parent.parent.name),
                                                reverse=True)]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return Path(candidate)
    raise CourseError(f"no Python {version} found (python{version} on PATH, or pyenv's "
                      f"{pyenv_root}/versions/{version}.*): install one, e.g. `pyenv install {version}`")


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in text.split("."))


def _pip(python: Path, *args: str, what: str) -> None:
    """Run pip in an environment; a failure is a CourseError saying what was being installed."""
    command = [str(python), "-m", "pip", "--disable-pip-version-check", *args]
    if subprocess.run(command).returncode != 0:
        raise CourseError(f"pip could not {what} (see pip's messages above)")


def installed_packages(python: Path) -> dict[str, str]:
    """``{normalized name: version}`` of everything installed in an environment."""
    listing = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "list", "--format=json"],
                             capture_output=True, text=True, check=True).stdout
    return {distribution_key(item["name"]): item["version"] for item in json.loads(listing)}


def prepare_runtime(runtime: Runtime, constraints: Path, colab: Mapping[str, str], fresh: bool) -> Path:
    """A virtual environment standing in for ``runtime``; returns its python.

    Created with the runtime's Python version, Colab's pip, and ``runtime.packages``
    installed under Colab's constraints (so at Colab's versions, with their
    dependencies). Reused while
    its stamp (Python, constraints file, package list) is unchanged and nothing in it
    has drifted from Colab's versions.
    """
    base = find_python(runtime.python)
    where = COMPAT_DIR / runtime.name
    python = where / "bin" / "python"
    missing = [name for name in runtime.packages if distribution_key(name) not in colab]
    if missing:
        raise CourseError(f"{constraints.name} lists no {', '.join(missing)}: is it Colab's package list?")
    version = subprocess.run([str(base), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    stamp = hashlib.sha256(json.dumps([version, constraints.read_text(), runtime.packages]).encode()).hexdigest()
    stamp_file = where / STAMP_FILE
    if not fresh and python.exists() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        changed = drift(installed_packages(python), colab)
        if not changed:
            print(f"compat {runtime.name}: reusing {where} (Python {version}; --fresh rebuilds it)", flush=True)
            return python
        print(f"compat {runtime.name}: rebuilding {where}: {', '.join(changed)}", flush=True)
    shutil.rmtree(where, ignore_errors=True)
    print(f"compat {runtime.name}: creating {where} with Python {version} and Colab's "
          f"{', '.join(runtime.packages)} ({constraints.name})", flush=True)
    COMPAT_DIR.mkdir(exist_ok=True)
    if subprocess.run([str(base), "-m", "venv", str(where)]).returncode != 0:
        raise CourseError(f"could not create a virtual environment with {base}")
    _pip(python, "install", "-q", "-c", str(constraints), "pip", what="install Colab's pip")
    _pip(python, "install", "-q", "-c", str(constraints), *runtime.packages,
         what=f"install Colab's {runtime.name} packages")
    stamp_file.write_text(stamp)
    return python


def course_source(destination: Path) -> Path:
    """A copy of the checkout as a clone of it would be (the files git tracks or would track).

    Colab installs from the repository URL, i.e. a clone; copying keeps pip's build
    files out of the checkout and local data, environments and runs out of the build.
    """
    listing = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, text=True)
    if listing.returncode != 0:
        raise CourseError(f"cannot list the course's files with git: {listing.stderr.strip()}")
    for name in filter(None, listing.stdout.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not part of it
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def check_course_install(python: Path, source: Path, constraints: Path, colab: Mapping[str, str]) -> list[Change]:
    """What installing the course (``pip install <source>``) would change in the runtime.

    A package that the install would take from Colab's list but that this stand-in
    runtime lacks (Colab has it; we install only what the course touches) is first
    added at Colab's version, and pip is asked again: the verdict is then the one the
    real Colab runtime would get.
    """
    added: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        report_file = Path(scratch) / "report.json"
        while True:
            _pip(python, "install", "-q", "--dry-run", "--report", str(report_file), str(source),
                 what="resolve the course's install (dry run)")
            would_install = report_installs(json.loads(report_file.read_text()))
            present = installed_packages(python)
            absent = sorted(name for name in would_install
                            if name in colab and name not in present and name != COURSE_PACKAGE)
            if not absent:
                return judge_install(json.loads(report_file.read_text()), colab)
            if added.issuperset(absent):
                raise CourseError(f"pip still wants {', '.join(absent)} after Colab's version was installed")
            added.update(absent)
            print(f"compat: adding Colab's {', '.join(f'{n}=={colab[n]}' for n in absent)}, which the course "
                  "install needs, to the stand-in runtime", flush=True)
            _pip(python, "install", "-q", "-c", str(constraints), *(f"{n}=={colab[n]}" for n in absent),
                 what="add Colab's versions of what the course needs")


def environment_versions(python: Path) -> dict[str, str]:
    """Python, TensorFlow and Keras versions of an environment (read from metadata, nothing imported)."""
    code = ("import importlib.metadata as m, json, platform\n"
            "def v(name):\n"
            "    try: return m.version(name)\n"
            "    except m.PackageNotFoundError: return '-'\n"
            "print(json.dumps({'python': platform.python_version(), 'tensorflow': v('tensorflow'), "
            "'keras': v('keras')}))")
    return json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)


def run_tests(python: Path, check: Check, result: Result) -> None:
    """Run pytest from the repository root in ``python``'s environment; record the counts in ``result``.

    The environment's ``bin`` leads PATH (as if activated) and ``KERAS_BACKEND`` is set
    to the check's backend, for this process and the notebook kernels nbval starts.
    """
    environment = {**os.environ, "KERAS_BACKEND": check.backend}
    if check.runtime is not None:
        environment["VIRTUAL_ENV"] = str(python.parent.parent)
        environment["PATH"] = f"{python.parent}{os.pathsep}{environment.get('PATH', '')}"
    if check.backend == "jax":
        environment["JAX_PLATFORMS"] = "cpu"
    with tempfile.TemporaryDirectory() as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [str(python), "-m", "pytest", *check.pytest_args, f"--junit-xml={junit}"]
        print(f"compat {check.name}: KERAS_BACKEND={check.backend} {' '.join(command[1:-1])}", flush=True)
        status = subprocess.run(command, cwd=REPO_ROOT, env=environment).returncode
        if junit.is_file():
            result.passed, result.failed, result.skipped = junit_counts(junit)
        if status != 0 and not result.failed:
            result.problem = f"pytest exited with status {status}"
        elif not result.passed and not result.failed:
            result.problem = "no test ran"


@dataclass
class Session:
    """The environments prepared in one ``./course compat`` command, each at most once.

    ``colab`` is the folder of Colab's constraints files as given (``None``: the
    default, see ``colab_dir``); it is looked for only when a Colab runtime is needed.
    """

    colab: Path | None = None
    fresh: bool = False
    prepared: dict[str, Path | CourseError] = field(default_factory=dict)
    built: dict[str, Path] = field(default_factory=dict)  # runtimes built, even if the course failed there

    def environment(self, runtime: Runtime) -> Path:
        """The runtime's python with the course and test tools installed, after the install check.

        Raises CourseError when the course install would change Colab's packages (or
        anything else fails); a second check on the same runtime gets the same error.
        """
        if runtime.name not in self.prepared:
            try:
                self.prepared[runtime.name] = self._prepare(runtime)
            except CourseError as error:
                self.prepared[runtime.name] = error
        prepared = self.prepared[runtime.name]
        if isinstance(prepared, CourseError):
            raise prepared
        return prepared

    def _prepare(self, runtime: Runtime) -> Path:
        folder = colab_dir(self.colab)
        constraints = folder / runtime.constraints
        if not constraints.is_file():
            raise CourseError(f"no {constraints.name} in {folder}")
        colab = parse_constraints(constraints.read_text(), str(constraints))
        started = time.monotonic()
        python = self.built[runtime.name] = prepare_runtime(runtime, constraints, colab, self.fresh)
        _log_step(runtime.name, "runtime ready", started)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="course-source-") as scratch:
            source = course_source(Path(scratch))
            changes = check_course_install(python, source, constraints, colab)
            if changes:
                raise CourseError("installing the course would change Colab's " + "; ".join(map(str, changes)))
            print(f"compat {runtime.name}: install check passed (pip would change none of Colab's packages)",
                  flush=True)
            _pip(python, "install", "-q", str(source), what="install the course")
        _pip(python, "install", "-q", "-c", str(constraints), *TEST_TOOLS, what="install the test tools")
        _log_step(runtime.name, "course and test tools installed", started)
        return python


def _log_step(name: str, what: str, started: float) -> None:
    print(f"compat {name}: {what} in {time.monotonic() - started:.0f} s", flush=True)


def _record_versions(result: Result, python: Path) -> None:
    versions = environment_versions(python)
    result.python, result.tensorflow, result.keras = (versions[key] for key in ("python", "tensorflow", "keras"))


def run_check(check: Check, session: Session) -> Result:
    """Prepare the check's environment, run its tests, and say how it went (never raises CourseError)."""
    result = Result(check.name, check.backend)
    started = time.monotonic()
    try:
        python = Path(sys.executable) if check.runtime is None else session.environment(check.runtime)
        _record_versions(result, python)
        run_tests(python, check, result)
    except CourseError as error:
        result.problem = str(error)
        built = session.built.get(check.runtime.name) if check.runtime else None
        if built and result.python == "?":  # the runtime's versions, although the course failed there
            _record_versions(result, built)
    except subprocess.CalledProcessError as error:
        result.problem = f"{' '.join(map(str, error.cmd[:3]))}... exited with status {error.returncode}"
    result.seconds = time.monotonic() - started
    print(summary_line(result), flush=True)
    return result


def run_compat(names: Sequence[str], colab: Path | None = None, fresh: bool = False) -> int:
    """``./course compat [CHECK...]``: run the checks; print every summary line again at the end.

    Returns 0 when every check passed, 1 otherwise.
    """
    checks = select_checks(names)
    session = Session(colab, fresh)
    results = [run_check(check, session) for check in checks]
    print("\n".join(["", "compat summary:", *map(summary_line, results)]), flush=True)
    return 0 if all(result.ok for result in results) else 1


def describe_checks(checks: Iterable[Check] = CHECKS.values()) -> str:
    """The checks and what each runs, for ``--help``."""
    return "\n".join(f"  {check.name:<14} {check.description}" for check in checks)
