"""Quick mode, seeding and results files."""

import json

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


def test_set_seed_makes_keras_and_numpy_repeatable():
    import keras

    draws = []
    for _ in range(2):
        helpers.set_seed(7)
        draws.append((np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))))
    assert np.array_equal(draws[0][0], draws[1][0]) and np.array_equal(draws[0][1], draws[1][1])


def test_save_results_writes_flat_json_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
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
    assert helpers.load_results(path) == record
    assert [p.name for p in path.parent.iterdir()] == ["99_example.json"]  # no temp file left


@pytest.mark.parametrize("value, error", [({"a": 1}, TypeError), (float("nan"), ValueError),
                                          ([0.1, 0.2], TypeError)])
def test_save_results_refuses_values_that_are_not_one_number(tmp_path, value, error):
    with pytest.raises(error, match="bad"):
        helpers.save_results("99_example", {"bad": value}, results_dir=tmp_path, parameters={})
