"""Quick mode, seeding and results files."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import helpers


def test_quick_follows_the_environment_variable(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert helpers.in_quick_mode() and helpers.quick(15, 1) == 1
    for off in ("0", "", "no"):
        monkeypatch.setenv("COURSE_QUICK", off)
        assert not helpers.in_quick_mode() and helpers.quick(15, 1) == 15
    monkeypatch.delenv("COURSE_QUICK")
    assert helpers.quick(15, 1) == 15


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_results_record_the_training_budget(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_RESULTS_DIR", raising=False)
    monkeypatch.setattr("helpers.environment.gpu_names", lambda: [])
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    cost = helpers.StepCost(batch_size=100, step=0.01, epoch=0.0, new_model=1.0, scored_image=0.0)
    budget = helpers.planned_budget("cpu", 10, cpu=dict(EPOCHS=1), steps=[("15 epochs", dict(EPOCHS=15))],
                                    quick=dict(EPOCHS=1), given=dict(EPOCHS=None), costs={"net": cost},
                                    plan=lambda plan: [helpers.Runs("net", images=1000, epochs=plan["EPOCHS"])])
    path = helpers.save_results("99_example", {}, results_dir=tmp_path, parameters={"EPOCHS": None},
                                budget=budget)
    record = helpers.load_results(path)
    assert record["parameters"] == {"EPOCHS": None}
    assert record["training"]["values"] == budget.values and record["training"]["budget"] == budget.name
    assert record["training"]["forecasts"] == {"cpu": 1, "full": 2} and record["training"]["forecast_seconds"] == 1


def test_test_suite_redirects_results_away_from_the_students_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "redirected"))
    assert helpers.results_folder("results") == tmp_path / "redirected"
    assert (tmp_path / "redirected").is_dir() and not (tmp_path / "results").exists()
    monkeypatch.delenv("COURSE_RESULTS_DIR")
    assert helpers.results_folder(tmp_path / "mine") == tmp_path / "mine"


def test_tensorflow_start_up_notices_are_dropped_and_everything_else_kept():
    from helpers.environment import without_start_up_noise

    captured = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796061725.288588    3710 cudart_stub.cc:31] Could not find cuda drivers on your machine\n"
        "I0000 00:00:1796061725.396303    3710 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with flags.\n"
        "\n"
        "ImportError: libcudnn.so.9: cannot open shared object file\n"
    )
    assert without_start_up_noise(captured) == "ImportError: libcudnn.so.9: cannot open shared object file"


def test_tensorflow_is_configured_when_keras_is_first_imported_and_starts_quietly():
    import subprocess
    import sys

    names = list(helpers.environment.TENSORFLOW_ENVIRONMENT)
    code = (f"import helpers, os, sys; before = [os.environ.get(n, '-') for n in {names!r}]; "
            "helpers.environment._import_keras(); "
            f"print(*before, *[os.environ[n] for n in {names!r}], 'tensorflow' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in names}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    with_tensorflow = env.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
    assert out.stdout.split() == ["-", "-", "1", "3", str(with_tensorflow)]  # import helpers changes nothing
    # no start-up noise; the one line allowed is the notice of a GPU that TensorFlow cannot use
    assert all(line.startswith("helpers: this machine has an NVIDIA GPU") for line in out.stderr.splitlines())


def test_an_explicit_tensorflow_setting_wins(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    helpers.environment.configure_tensorflow_environment()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


class _FakeTensorFlow:
    """Just what the GPU notice asks TensorFlow: its version, build and GPUs."""

    __version__ = "2.99"

    def __init__(self, gpus, cuda=True):
        self.config = type("config", (), {"list_physical_devices": staticmethod(lambda kind: list(gpus))})
        self.test = type("test", (), {"is_built_with_cuda": staticmethod(lambda: cuda)})


def test_an_installed_gpu_that_tensorflow_cannot_use_is_named_in_one_line(monkeypatch, capsys):
    say = helpers.environment._say_if_the_gpu_is_unused
    monkeypatch.setattr(helpers.environment, "_nvidia_gpu_installed", lambda: False)
    say(_FakeTensorFlow([]))  # a CPU-only machine: nothing to say
    monkeypatch.setattr(helpers.environment, "_nvidia_gpu_installed", lambda: True)
    say(_FakeTensorFlow(["/physical_device:GPU:0"]))  # the GPU is used
    assert capsys.readouterr() == ("", "")
    say(_FakeTensorFlow([]))
    say(_FakeTensorFlow([], cuda=False))
    out, err = capsys.readouterr()
    first, second = err.splitlines()
    assert not out and "cannot use it" in first and "TF_CPP_MIN_LOG_LEVEL=0" in first
    assert "built without CUDA" in second and "built without CUDA" not in first


def test_set_seed_makes_keras_and_numpy_repeatable():
    import keras

    draws = []
    for _ in range(2):
        helpers.set_seed(7)
        draws.append((np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))))
    assert np.array_equal(draws[0][0], draws[1][0]) and np.array_equal(draws[0][1], draws[1][1])


def test_set_seed_repeats_the_random_layers_the_notebooks_use():
    # augmentation (notebooks 05, 06) and Dropout draw from their own SeedGenerator, made from
    # Python's random module when no seed is given: set_seed must cover those too
    import keras

    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    outputs = []
    for _ in range(2):
        helpers.set_seed(7)
        layers = [keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"), keras.layers.RandomRotation(0.1),
                  keras.layers.RandomZoom(0.2), keras.layers.RandomFlip("horizontal"), keras.layers.Dropout(0.5)]
        outputs.append([keras.ops.convert_to_numpy(layer(images, training=True)) for layer in layers])
    for first, second in zip(*outputs):
        assert np.array_equal(first, second)
    assert not np.array_equal(outputs[0][0], images)  # the layers did change the images


def test_the_seed_generator_shim_is_still_needed_at_the_keras_floor():
    """helpers.set_seed resets Keras's global SeedGenerator itself only for Keras releases without the fix.

    keras-team/keras#21874 (merged in December 2025) made set_random_seed reset it. When the
    course's Keras floor is raised to 3.13 or later, this test fails: check that the floor's
    release has the fix (``_keras_resets_global_seed_generator``), then delete the shim and this test.
    """
    import re

    floor = re.search(r'"keras>=([\d.]+)"', (Path(__file__).parent.parent / "pyproject.toml").read_text()).group(1)
    assert tuple(int(part) for part in floor.split(".")[:2]) < (3, 13), f"keras>={floor}: remove the shim"


def test_save_results_writes_flat_json_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.delenv("COURSE_RESULTS_DIR", raising=False)
    path = helpers.save_results(
        "99_example",
        {"test_accuracy": np.float32(0.5), "epochs_run": np.int64(3), "model": "dense"},
        results_dir=tmp_path / "out",
        parameters={"EPOCHS": 3, "BATCH_SIZES": [16, 32]},
    )
    assert path == tmp_path / "out" / "99_example.json"
    record = json.loads(path.read_text())
    assert record["results"] == {"test_accuracy": 0.5, "epochs_run": 3, "model": "dense"}
    assert record["parameters"] == {"EPOCHS": 3, "BATCH_SIZES": [16, 32]}
    assert record["quick_mode"] is True and record["keras_backend"]
    assert record["environment"]["keras"] and record["environment"]["gpu"]
    assert "training" not in record  # only notebooks that train record a budget
    assert helpers.load_results(path) == record
    assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # like any other output, not 0600
    assert [p.name for p in path.parent.iterdir()] == ["99_example.json"]  # no temp file left


def test_save_results_prints_only_what_show_names_and_counts_the_rest(tmp_path, capsys):
    results = {"final__a": 0.5, "final__b": 0.25, "sweep__x": 0.125, "notebook_seconds": 12.0}
    path = helpers.save_results("99_example", results, results_dir=tmp_path, parameters={},
                                show=["final__", "notebook_"])
    printed = capsys.readouterr().out
    assert "final__a" in printed and "final__b" in printed and "notebook_seconds" in printed
    assert "sweep__x" not in printed and "and 1 more in the file" in printed
    assert helpers.load_results(path)["results"] == results  # everything is saved
    helpers.save_results("99_example", results, results_dir=tmp_path, parameters={}, show="final__a")
    printed = capsys.readouterr().out
    assert "final__a" in printed and "final__b" not in printed and "and 3 more" in printed  # a string is one prefix
    helpers.save_results("99_example", results, results_dir=tmp_path, parameters={})
    assert "sweep__x" in capsys.readouterr().out  # without show, everything


@pytest.mark.parametrize("value, error", [({"a": 1}, TypeError), (float("nan"), ValueError),
                                          ([0.1, 0.2], TypeError)])
def test_save_results_refuses_values_that_are_not_one_number(tmp_path, value, error):
    with pytest.raises(error, match="bad"):
        helpers.save_results("99_example", {"bad": value}, results_dir=tmp_path, parameters={})


def test_check_restart_stops_only_for_an_imported_package_that_the_install_changed():
    helpers.check_restart({"NumPy": np.__version__, "not-installed": "1.0"})  # nothing in use changed
    with pytest.raises(RuntimeError) as error:
        helpers.check_restart({"numpy": "1.0"})
    assert str(error.value) == ("Restart the session (Runtime > Restart session), then run this cell again: "
                                f"the install changed numpy 1.0 -> {np.__version__}, already imported.")


def test_device_description_names_the_cpu_and_its_cores_without_a_gpu(monkeypatch):
    monkeypatch.setattr("helpers.environment.gpu_names", lambda: [])
    description = helpers.device_description()
    assert description.startswith("CPU ") and description.endswith(f"{os.cpu_count()} cores, no GPU")
    assert len(description) > len(f"CPU , {os.cpu_count()} cores, no GPU")  # a model name or the architecture


def _fake_backend(monkeypatch, backend: str, **modules) -> None:
    """Keras reports ``backend`` and the backend's library is ``modules`` (fakes: no GPU here)."""
    import sys
    from types import SimpleNamespace

    keras = SimpleNamespace(backend=SimpleNamespace(backend=lambda: backend))
    monkeypatch.setattr(helpers.environment, "_import_keras", lambda: keras)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def test_device_description_names_the_gpu_models_tensorflow_reports(monkeypatch):
    from types import SimpleNamespace

    gpus = [SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(2)]
    details = {gpus[0].name: {"device_name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0)},
               gpus[1].name: {}}  # a device TensorFlow has no details for
    config = SimpleNamespace(list_physical_devices=lambda kind: gpus if kind == "GPU" else [],
                             experimental=SimpleNamespace(get_device_details=lambda device: details[device.name]))
    _fake_backend(monkeypatch, "tensorflow", tensorflow=SimpleNamespace(config=config))
    assert helpers.environment.gpu_names() == ["/physical_device:GPU:0", "/physical_device:GPU:1"]
    assert helpers.device_description() == "NVIDIA H100 80GB HBM3, GPU"


def test_device_description_names_the_gpu_models_jax_reports(monkeypatch):
    from types import SimpleNamespace

    devices = [SimpleNamespace(platform="gpu", device_kind="NVIDIA H200"),
               SimpleNamespace(platform="cpu", device_kind="cpu")]
    jax = SimpleNamespace(devices=lambda: devices)
    _fake_backend(monkeypatch, "jax", jax=jax)
    assert len(helpers.environment.gpu_names()) == 1  # the CPU device is not an accelerator
    assert helpers.device_description() == "NVIDIA H200"


def test_device_description_names_the_gpus_of_another_backend(monkeypatch):
    from types import SimpleNamespace

    cuda = SimpleNamespace(device_count=lambda: 2, get_device_name=lambda i: ["NVIDIA A100", "NVIDIA T4"][i])
    _fake_backend(monkeypatch, "torch", torch=SimpleNamespace(cuda=cuda))
    assert helpers.environment.gpu_names() == ["NVIDIA A100", "NVIDIA T4"]
    assert helpers.device_description() == "NVIDIA A100, NVIDIA T4"
