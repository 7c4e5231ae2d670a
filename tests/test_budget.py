"""Training budgets: the plans a notebook can train, forecast from measured costs.

The forecast tests use hand-made costs (``helpers.StepCost``), so the choice of a plan is
checked exactly; one test times a tiny real model to check that measuring works at all.
"""

import time

import numpy as np
import pytest

import helpers


# ------------------------------------------------------------ plans and their forecast

def cost(step=0.01, new_model=1.0, batch_size=100, epoch=0.0, scored_image=0.0):
    return helpers.StepCost(batch_size=batch_size, step=step, epoch=epoch, new_model=new_model,
                            scored_image=scored_image)


def test_a_forecast_adds_up_each_line_of_the_plan():
    costs = {"net": cost(step=0.01, new_model=2.0, epoch=0.5, scored_image=0.001)}
    runs = [helpers.Runs("net", images=1000, epochs=3, count=2, validation_images=100, evaluation_images=500)]
    # per run: 2 s new model + 3 x (10 steps x 0.01 + 0.5) + (500 + 3 x 100) x 0.001
    assert helpers.forecast_seconds(runs, costs) == pytest.approx(2 * (2.0 + 3 * 0.6 + 0.8))
    timed = [helpers.Runs("net", seconds=30.0, count=3)]  # a time budget: its seconds, whatever the epochs
    assert helpers.forecast_seconds(timed, costs) == pytest.approx(3 * 32.0)
    later = runs + [helpers.Runs("net", images=1000, epochs=1, after_results=True)]
    assert helpers.forecast_seconds(later, costs, to_results=True) == helpers.forecast_seconds(runs, costs)
    with pytest.raises(ValueError, match="the plan trains other, which measure_costs did not time"):
        helpers.forecast_seconds([helpers.Runs("other", images=10, epochs=1)], costs)


LADDER = dict(
    cpu=dict(IMAGES=1_000, EPOCHS=2, SEEDS=1),
    steps=[("more images", dict(IMAGES=10_000)), ("more epochs", dict(EPOCHS=10)), ("3 seeds", dict(SEEDS=3))],
    quick=dict(IMAGES=100, EPOCHS=1),
)


def ladder_plan(values):
    return [helpers.Runs("net", images=values["IMAGES"], epochs=values["EPOCHS"], count=values["SEEDS"])]


def planned(budget="auto", max_minutes=10.0, step=0.6, given=None, **more):
    given = {name: None for name in LADDER["cpu"]} | (given or {})
    return helpers.planned_budget(budget, max_minutes, **LADDER, given=given, plan=ladder_plan,
                                  costs={"net": cost(step=step, new_model=60.0)}, device="a test machine", **more)


@pytest.fixture
def not_quick(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK", raising=False)


def test_auto_picks_the_most_faithful_plan_that_fits(not_quick, capsys):
    # 0.6 s per step of 100 images, 60 s per new model: cpu 60 + 2 x 10 x 0.6 = 72 s; +1 (10,000 images):
    # 60 + 2 x 100 x 0.6 = 180 s; +2 (10 epochs): 60 + 10 x 100 x 0.6 = 660 s; full (3 seeds): 1,980 s
    budget = planned(max_minutes=20)
    assert budget.name == "cpu+2" and budget.values == {"IMAGES": 10_000, "EPOCHS": 10, "SEEDS": 1}
    assert budget.forecasts == {"cpu": 72, "cpu+1": 180, "cpu+2": 660, "full": 1980}
    assert budget.forecast_seconds == 660 and budget.cut_from_full == {"SEEDS": (1, 3)}
    out = capsys.readouterr().out
    assert "-> cpu+2  about    11 min + more epochs" in out
    assert "cut from the full settings: SEEDS 1 instead of 3" in out
    assert planned(max_minutes=40).name == "full"
    record = planned(max_minutes=40).record()
    assert record["forecast_seconds"] == 1980 and record["max_minutes"] == 40 and record["cut_from_full"] == {}
    assert 0 <= record["measured_seconds"] < 5


def test_even_the_cpu_budget_runs_when_nothing_fits_and_says_so(not_quick):
    budget = planned(max_minutes=1, step=10.0)  # 10 s per step: the CPU budget alone takes 260 s
    assert budget.name == "cpu" and budget.values == LADDER["cpu"]
    assert "even the CPU budget takes about 4 min on a test machine, more than MAX_MINUTES=1: it runs anyway" \
        in budget.reason
    fits = planned("full", max_minutes=40)
    assert fits.name == "full" and fits.reason == 'BUDGET="full" was asked for'  # it fits: nothing to add
    forced = planned("full", max_minutes=40, step=10.0)
    assert forced.name == "full" and 'BUDGET="full" was asked for; its forecast, about 8 h 23 min, is more' \
        in forced.reason


def test_seconds_already_spent_count_against_max_minutes(not_quick, capsys):
    # cpu+2 (660 s) fits 20 minutes alone, not with 600 s already spent: cpu+1 (180 s) does
    budget = planned(max_minutes=20, spent_seconds=600.4)
    assert budget.name == "cpu+1" and budget.spent_seconds == 600
    assert "fits MAX_MINUTES=20 (600 s already spent)" in budget.reason
    assert "MAX_MINUTES=20, of which 10 min ran before this forecast, so a plan may take 10 min" \
        in capsys.readouterr().out
    assert budget.record()["spent_seconds_before_forecast"] == 600
    assert "spent_seconds_before_forecast" not in planned(max_minutes=20).record()  # not counted: not recorded
    late = planned(max_minutes=1, spent_seconds=90)  # the minute is gone before the forecast
    assert late.name == "cpu" and "more than MAX_MINUTES=1 (90 s already spent) leaves: it runs anyway" in late.reason
    with pytest.raises(ValueError, match="spent_seconds = -1: expected the seconds already run"):
        planned(spent_seconds=-1)
    before = time.perf_counter()
    helpers.describe_environment()  # the setup cell's call starts the clock
    assert 0 <= helpers.seconds_since_setup() <= time.perf_counter() - before


def test_explicit_lengths_win_in_every_plan_and_in_quick_mode(not_quick, monkeypatch):
    budget = planned(given={"SEEDS": 2}, max_minutes=1)
    assert budget.values["SEEDS"] == 2 and budget.origins["SEEDS"] == "given explicitly"
    assert budget.forecasts["cpu"] == 144  # the forecast is of what will run: 2 seeds
    monkeypatch.setenv("COURSE_QUICK", "1")
    quick = planned("full", given={"EPOCHS": 3})
    # quick mode keeps the plan's structure (3 seeds) and caps the lengths it names
    assert quick.name == "quick" and quick.values == {"IMAGES": 100, "EPOCHS": 3, "SEEDS": 3}
    assert quick.origins == {"IMAGES": "quick mode", "EPOCHS": "given explicitly", "SEEDS": "the full settings"}
    assert "with the plan of full" in quick.reason
    capped = helpers.planned_budget("cpu", 10, cpu=dict(SEEDS=1, EPOCHS=5), steps=[("more", dict(SEEDS=5))],
                                    quick=dict(SEEDS=2, EPOCHS=1), given=dict(SEEDS=None, EPOCHS=None),
                                    plan=lambda v: [], costs={}, device="a test machine")
    assert capped.values == {"SEEDS": 1, "EPOCHS": 1}  # a cap never adds a second seed to a one-seed plan


def test_bad_budget_settings_fail_with_what_to_do(not_quick):
    with pytest.raises(ValueError, match="MAX_MINUTES = 0: expected a number of minutes from 1 to 1440"):
        planned(max_minutes=0)
    with pytest.raises(ValueError, match="BUDGET = 'gpu'"):
        planned("gpu")
    with pytest.raises(ValueError, match="step 'typo' changes \\['EPOCH'\\]"):
        helpers.planned_budget("auto", 10, cpu=LADDER["cpu"], steps=[("typo", dict(EPOCH=3))], quick={},
                               given=dict.fromkeys(LADDER["cpu"]), plan=ladder_plan, costs={"net": cost()})


def test_measuring_a_small_model_gives_costs_a_forecast_can_use(not_quick):
    import keras

    def build():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **helpers.execution_settings().compile_options)
        return model

    rng = np.random.default_rng(0)
    x, y = rng.random((100, 8), dtype="float32"), rng.integers(0, 4, 100)  # fewer than 2 x 16 x 8: repeated
    costs = helpers.measure_costs({"tiny": (build, x, y, 8)})
    measured = costs["tiny"]
    assert measured.batch_size == 8 and measured.step > 0 and measured.new_model > 0 and measured.scored_image > 0
    assert float(f"{measured.step:.2g}") == measured.step  # 2 significant figures: the same plan run after run
    assert helpers.forecast_seconds([helpers.Runs("tiny", images=80, epochs=2)], costs) > measured.new_model
