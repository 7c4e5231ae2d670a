"""What a student sees: every course notebook run in JupyterLab in a real (headless) browser.

nbval executes the notebooks but renders nothing, and TensorFlow's C++ logging goes
around it (see ../shared/NOTEBOOK_TESTING.md). Here each notebook is opened in
JupyterLab in headless Chromium, driven by Playwright, and run with Run > Run All
Cells in quick mode, as a student would; JupyterLab saves it, and the saved file
holds what the student saw. Any error output or any stderr output (red in JupyterLab)
fails the test, naming the notebook, the cell and its first line. The
draw-a-digit notebook's pad is also drawn on with the mouse.

It works on copies of the notebooks in a temporary folder; the kernels get
``COURSE_QUICK=1``, ``COURSE_DATA_MIRROR`` and the suite's temporary
``COURSE_RESULTS_DIR`` (root conftest.py), so nothing in the repository or in
``notebooks/results/`` changes. The server and its kernels are stopped at the end,
also after a failure. A failing notebook's screenshot and saved copy go to
``COURSE_TEST_ARTIFACTS`` (default ``runs/browser-test/``, ignored by git).

Chromium comes from the system (``apt-get install chromium``), not from Playwright's
download, which needs general internet access; ``COURSE_CHROMIUM`` names another
binary. Without Chromium, or without Playwright, JupyterLab or anywidget, the notebooks'
tests are skipped with one line, unless ``COURSE_REQUIRE_BROWSER=1`` (set by CI), which
turns the skip into a failure. ``./course compat`` deselects the module (``-m "not browser"``):
Colab's runtimes have no JupyterLab or Playwright, and the browser test runs in ``.venv``.

Run it alone: ``./course test -m browser`` (``-k 01`` for one notebook).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", ROOT / "runs" / "browser-test"))
RUN_ALL_TIMEOUT_S = 600  # one notebook's Run All in quick mode: under a minute here
SERVER_START_TIMEOUT_S = 90
DRAWN_DIGITS = {  # strokes on the pad's 280x280 canvas, as a student might draw them
    "1": [[(140, 45), (140, 235)]],
    "0": [[(140 + 55 * math.cos(step * math.pi / 10), 140 + 85 * math.sin(step * math.pi / 10)) for step in range(21)]],
    "7": [[(75, 55), (205, 55), (115, 235)]],
}

pytestmark = pytest.mark.browser


def chromium_path() -> str | None:
    """The Chromium binary to drive: ``COURSE_CHROMIUM``, else Debian's ``chromium`` on PATH."""
    given = os.environ.get("COURSE_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_requirement() -> str | None:
    """Why the browser test cannot run here: no Chromium, or a package it needs is missing (None: it can)."""
    if CHROMIUM is None:
        return ("no Chromium found (install it with `apt-get install chromium`, "
                "or set COURSE_CHROMIUM to a Chromium binary)")
    for module in ("playwright", "jupyterlab", "anywidget"):
        try:
            importlib.import_module(module)
        except ImportError:
            return f"{module} is not installed (pip install -r requirements.txt)"
    return None


CHROMIUM = chromium_path()
MISSING = missing_requirement()
if MISSING is None:
    from playwright.sync_api import Page, sync_playwright


def require_browser() -> None:
    """Skip where the browser test cannot run; fail instead under ``COURSE_REQUIRE_BROWSER=1`` (CI).

    Checked when a test first needs the server or the browser, not at import: the compat
    checks deselect this module (``-m "not browser"``) in environments without JupyterLab
    and Playwright, and a deselected test must neither fail nor count as a skip.
    """
    if MISSING is None:
        return
    message = f"browser test: {MISSING}"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; COURSE_REQUIRE_BROWSER=1 asks for the browser test", pytrace=False)
    pytest.skip(message)


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab server on a free local port with a token, serving copies of the notebooks."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.notebooks = folder / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.notebooks, ignore=shutil.ignore_patterns("results", "logs", "*.keras"))
        self.port, self.token = free_port(), secrets.token_hex(16)
        environment = dict(os.environ)
        environment.update({
            "COURSE_QUICK": "1",  # the root conftest set these for nbval; the kernels need them too
            "COURSE_RESULTS_DIR": os.environ["COURSE_RESULTS_DIR"],
            # JupyterLab's own settings, workspaces and runtime files stay in the temporary folder
            "JUPYTER_CONFIG_DIR": str(folder / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        })
        # no "Would you like to get notified about official Jupyter news?" toast over the notebook
        news = folder / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.notebooks}",
                   "--ServerApp.port_retries=0"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log = open(folder / "jupyterlab.log", "w")
        self.process = subprocess.Popen(command, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait_until_ready()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start: see {self.log.name}")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s: see {self.log.name}")

    def kernel_of(self, notebook: str) -> dict | None:
        for session in self.api("sessions"):
            if session["path"] == notebook:
                return session["kernel"]
        return None

    def shut_down_kernels(self) -> None:
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        try:
            self.shut_down_kernels()
        except OSError:
            pass  # the server is already gone; the signal below still runs
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    server = Lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox"] if os.geteuid() == 0 else [])
        try:
            yield chromium
        finally:
            chromium.close()


# ------------------------------------------------------------------ what the saved notebook holds


def problems_in(path: Path) -> list[str]:
    """Every error or stderr output in a saved notebook, and the code cells that did not run.

    Each problem names the cell (its number among all cells, counting from 1) and the
    first line of the cell's code and of the output.
    """
    problems, not_run = [], []
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells, start=1):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        code = cell.source.strip().splitlines()[0]
        where = f"{path.name}, cell {number} ({code!r})"
        if cell.execution_count is None:
            not_run.append(number)
        for output in cell.outputs:
            if output.output_type == "error":
                problems.append(f"{where}: error {output.ename}: {(str(output.evalue).splitlines() or [''])[0]}")
            elif output.output_type == "stream" and output.name == "stderr":
                first = next((line for line in output.text.splitlines() if line.strip()), "")
                problems.append(f"{where}: stderr (red in JupyterLab): {first!r}")
    if not_run:
        problems.append(f"{path.name}: {len(not_run)} code cell(s) did not run, from cell {not_run[0]}")
    return problems


def test_problems_name_the_notebook_cell_and_first_line(tmp_path):
    """The checker itself: a broken cell and a stderr line are both reported (a test that can fail)."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", execution_count=1),
        nbformat.v4.new_code_cell("import sys\nprint('careful', file=sys.stderr)", execution_count=2,
                                  outputs=[nbformat.v4.new_output("stream", name="stderr", text="careful\n")]),
        nbformat.v4.new_code_cell("1 / 0", execution_count=3, outputs=[nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]),
        nbformat.v4.new_code_cell("print('never ran')"),
    ])
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(notebook, path)
    assert problems_in(path) == [
        "99_broken.ipynb, cell 2 ('import sys'): stderr (red in JupyterLab): 'careful'",
        "99_broken.ipynb, cell 3 ('1 / 0'): error ZeroDivisionError: division by zero",
        "99_broken.ipynb: 1 code cell(s) did not run, from cell 4",
    ]


# ------------------------------------------------------------------ driving JupyterLab

VISIBLE = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def wait_for_kernel(lab: Lab, notebook: str, state: str = "idle", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernel = lab.kernel_of(notebook)
        if kernel and kernel["execution_state"] == state:
            return
        time.sleep(0.5)
    raise AssertionError(f"{notebook}: the kernel was not {state} within {timeout:.0f} s")


def run_all_cells(page: Page, lab: Lab, notebook: str) -> None:
    """Run > Run All Cells, then wait until no cell is queued or running and the kernel is idle."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    quiet_since = None
    while time.monotonic() < deadline:
        busy = page.locator(f"{VISIBLE} .jp-InputPrompt", has_text="[*]").count()
        kernel = lab.kernel_of(notebook)
        if busy == 0 and kernel and kernel["execution_state"] == "idle":
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 3:  # idle for 3 s: Run All has finished
                return
        else:
            quiet_since = None
        time.sleep(0.5)
    raise AssertionError(f"{notebook}: Run All Cells did not finish within {RUN_ALL_TIMEOUT_S} s")


def save(page: Page, path: Path) -> None:
    """Save with Ctrl+S and wait until the file on disk has changed."""
    before = path.stat().st_mtime_ns
    page.locator(f"{VISIBLE} .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: JupyterLab did not save the notebook within 30 s")
        time.sleep(0.2)
    time.sleep(0.5)  # let the write finish


def draw(page: Page, canvas, strokes) -> None:
    box = canvas.bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=6)
        page.mouse.up()


def check_drawing_pad(page: Page, notebook: str) -> None:
    """Draw digits on the pad with the mouse: each must be read right; an empty pad asks for a digit."""
    pad = page.locator(f"{VISIBLE} .digit-pad")
    assert pad.count() == 1, f"{notebook}: the drawing pad did not render"
    pad.scroll_into_view_if_needed()
    canvas, clear = pad.locator("canvas.pad"), pad.locator("button.clear")
    message, prediction = pad.locator(".digit-pad-message"), pad.locator(".digit-pad-prediction")
    assert message.inner_text() == "Draw a digit first." and prediction.inner_text() == "", \
        f"{notebook}: the empty pad shows {message.inner_text()!r} / {prediction.inner_text()!r}"
    for digit, strokes in DRAWN_DIGITS.items():
        clear.click()
        draw(page, canvas, strokes)
        deadline = time.monotonic() + 20
        while prediction.get_attribute("data-digit") != digit and time.monotonic() < deadline:
            time.sleep(0.2)
        shown = prediction.get_attribute("data-digit")
        assert shown == digit, f"{notebook}: drew a {digit}, the pad reads {shown!r} ({message.inner_text()!r})"
        if digit == "7":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pad.screenshot(path=str(ARTIFACTS / "draw_a_digit.png"))
    clear.click()
    deadline = time.monotonic() + 20
    while message.inner_text() != "Draw a digit first." and time.monotonic() < deadline:
        time.sleep(0.2)
    assert message.inner_text() == "Draw a digit first." and prediction.inner_text() == "", \
        f"{notebook}: after Clear the pad shows {message.inner_text()!r} / {prediction.inner_text()!r}"


def has_drawing_pad(path: Path) -> bool:
    return any("helpers.drawing_pad(" in cell.source for cell in nbformat.read(path, as_version=4).cells)


@pytest.mark.parametrize(("required", "selection", "outcome"), [
    ("1", "colab", "deselected"),  # ./course compat in Colab's runtimes, under CI's COURSE_REQUIRE_BROWSER=1
    ("1", "one notebook", "failed"),  # CI: a missing package fails, it does not skip
    ("", "one notebook", "skipped"),  # a student's machine: one line says what is missing
])
def test_missing_playwright_fails_where_required_and_is_deselected_by_compat(tmp_path, required, selection, outcome):
    from course_tools.compat import COLAB_DESELECTED

    (tmp_path / "playwright.py").write_text("raise ImportError('hidden by the test')\n")  # as if not installed
    environment = {**os.environ, "COURSE_REQUIRE_BROWSER": required,
                   "COURSE_CHROMIUM": sys.executable,  # any file: the test is about the packages, not Chromium
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    chosen = list(COLAB_DESELECTED) if selection == "colab" else ["-k", NOTEBOOKS[0].stem]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", str(Path(__file__)), *chosen],
                         cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    last = run.stdout.strip().splitlines()[-1]
    if outcome == "deselected":
        assert run.returncode == 5 and re.fullmatch(r"\d+ deselected in .*", last), run.stdout  # 5: no test ran
    elif outcome == "failed":
        assert run.returncode == 1 and "1 error" in last, run.stdout
        assert "playwright is not installed" in run.stdout and "COURSE_REQUIRE_BROWSER=1" in run.stdout
    else:
        assert run.returncode == 0 and "1 skipped" in last and "playwright is not installed" in run.stdout


def test_the_drawing_pad_demo_is_among_the_notebooks():
    assert any(map(has_drawing_pad, NOTEBOOKS)), "no notebook calls helpers.drawing_pad: the pad is not tested"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_run_all_cells_in_jupyterlab_shows_no_error_and_no_stderr(notebook, lab, browser):
    started = time.monotonic()
    copy = lab.notebooks / notebook.name
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(lab.url(f"lab/tree/{notebook.name}") + "&reset", wait_until="domcontentloaded")
        page.locator(f"{VISIBLE} .jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
        wait_for_kernel(lab, notebook.name)
        run_all_cells(page, lab, notebook.name)
        save(page, copy)
        problems = problems_in(copy)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
        if has_drawing_pad(notebook):
            check_drawing_pad(page, notebook.name)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        red = page.locator(f"{VISIBLE} [data-mime-type='application/vnd.jupyter.stderr']")
        if red.count():  # show the first error or stderr output (tracebacks are rendered as stderr too)
            red.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}.png"), full_page=True)
        shutil.copy(copy, ARTIFACTS / f"{notebook.stem}.saved.ipynb")
        raise
    finally:
        page.close()
        kernel = lab.kernel_of(notebook.name)
        if kernel:
            lab.api(f"kernels/{kernel['id']}", method="DELETE")
        print(f"{notebook.name}: {time.monotonic() - started:.0f} s in JupyterLab")
