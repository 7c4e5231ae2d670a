"""Parameter checks: every problem reported at once, with names and allowed values."""

from pathlib import Path

import pytest

import helpers
from helpers import ParameterError


def rules():
    return dict(
        DATASET=helpers.choice("mnist", "fashion_mnist"),
        EPOCHS=helpers.integer(1, 200),
        LEARNING_RATE=helpers.number(0, 1),
        AUGMENT=helpers.boolean(),
        RESULTS_DIR=helpers.text(),
        BATCH_SIZES=helpers.list_of(helpers.integer(1, 4096)),
    )


GOOD = dict(DATASET="mnist", EPOCHS=3, LEARNING_RATE=0.01, AUGMENT=False, RESULTS_DIR="results",
            BATCH_SIZES=[32, 128])


def test_good_parameters_are_returned_and_printed(capsys):
    namespace = dict(GOOD, np=object(), helpers=helpers, In=[], _private=1)
    assert helpers.check_parameters(namespace, **rules()) == GOOD
    assert "Parameters: DATASET='mnist', EPOCHS=3" in capsys.readouterr().out


def test_every_problem_is_listed_with_allowed_values():
    namespace = dict(GOOD, DATASET="cifar10", EPOCHS="3", LEARNING_RATE=True, BATCH_SIZES=[])
    with pytest.raises(ParameterError) as error:
        helpers.check_parameters(namespace, **rules())
    message = str(error.value)
    assert "DATASET = 'cifar10' (str): expected one of 'mnist', 'fashion_mnist'" in message
    assert "EPOCHS = '3' (str): expected an integer from 1 to 200 (a string: papermill's -r" in message
    assert message.count("pass numbers with -p") == 1  # only where a number was meant
    assert "LEARNING_RATE = True (bool): expected a number from 0 to 1" in message
    assert "BATCH_SIZES = []" in message
    assert "Allowed parameters and values:" in message


@pytest.mark.parametrize("name, value", [("EPOCHS", 0), ("EPOCHS", 201), ("EPOCHS", 2.0),
                                         ("LEARNING_RATE", 1.5), ("RESULTS_DIR", " "),
                                         ("AUGMENT", 1), ("BATCH_SIZES", [32, "64"])])
def test_out_of_range_or_wrong_type_is_rejected(name, value):
    with pytest.raises(ParameterError, match=name):
        helpers.check_parameters(dict(GOOD, **{name: value}), **rules())


def test_unknown_upper_case_name_is_a_typo_with_a_suggestion():
    with pytest.raises(ParameterError, match="EPOCH: unknown parameter; did you mean EPOCHS"):
        helpers.check_parameters(dict(GOOD, EPOCH=3), **rules())


def test_missing_parameter_is_reported():
    namespace = dict(GOOD)
    del namespace["EPOCHS"]
    with pytest.raises(ParameterError, match="EPOCHS: missing"):
        helpers.check_parameters(namespace, **rules())


def test_choice_distinguishes_types():
    rule = helpers.choice(32, 64)
    assert rule.accepts(32) and not rule.accepts("32") and not rule.accepts(32.0)


def test_optional_accepts_none_or_the_rule():
    rule = helpers.optional(helpers.integer(1, 200))
    assert rule.accepts(None) and rule.accepts(15) and not rule.accepts(0) and not rule.accepts("15")
    assert rule.description == "None or an integer from 1 to 200"


def test_results_dir_must_be_a_folder_the_notebook_can_write(tmp_path):
    rule = dict(RESULTS_DIR=helpers.writable_folder())
    a_file = tmp_path / "taken"
    a_file.write_text("a student's file")
    assert helpers.check_parameters({"RESULTS_DIR": str(tmp_path / "new" / "deeper")}, **rule)
    for bad, reason in [(a_file, "exists and is not a folder"),
                        (a_file / "inside", "is a file, so no folder can be made inside it")]:
        with pytest.raises(ParameterError) as error:
            helpers.check_parameters({"RESULTS_DIR": str(bad)}, **rule)
        assert f"RESULTS_DIR = {str(bad)!r} (str): expected a folder this notebook can write into" in str(error.value)
        assert reason in str(error.value)
    assert a_file.read_text() == "a student's file"


def test_read_only_results_dir_is_refused(tmp_path, monkeypatch):
    import os

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root may write into any folder (CI runs as root): deny it as a student's OS would
        real_access = os.access
        monkeypatch.setattr(helpers.params.os, "access", lambda path, mode: (
            not mode & os.W_OK if Path(path) == locked else real_access(path, mode)))
    with pytest.raises(ParameterError, match="may not write into"):
        helpers.check_parameters({"RESULTS_DIR": str(locked / "results")}, RESULTS_DIR=helpers.writable_folder())
    assert not (locked / "results").exists()


def test_parse_literal_reads_python_literals_else_keeps_the_string():
    assert helpers.parse_literal("15") == 15 and helpers.parse_literal("0.1") == 0.1
    assert helpers.parse_literal("[16, 32]") == [16, 32] and helpers.parse_literal("None") is None
    assert helpers.parse_literal("fashion_mnist") == "fashion_mnist"
