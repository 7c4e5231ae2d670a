"""Training budgets: how long a notebook trains, forecast on this device before it starts.

A training notebook can run several *plans*: its full settings (the sources' own where it
reproduces them), a CPU budget that fits a lesson on a 2-core laptop, and (for
:func:`planned_budget`) the plans in between, each one step closer to the full settings.
Before any training the notebook times a few steps of every distinct model it trains (:func:`measure_costs`), forecasts
every plan from its list of :class:`Runs`, and ``BUDGET="auto"`` picks the most faithful
plan whose forecast fits the notebook's ``MAX_MINUTES``. The results file records the
forecast next to the seconds the run then took.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

#: The values of a notebook's ``BUDGET`` parameter.
BUDGET_CHOICES = ("auto", "full", "cpu")
#: The range a notebook's ``MAX_MINUTES`` parameter accepts (use with ``helpers.number``).
MAX_MINUTES_RANGE = (1, 24 * 60)


@dataclass(frozen=True)
class TrainingBudget:
    """How long a notebook trains, resolved for this machine: see :func:`planned_budget`.

    ``values`` maps each training-length parameter (``EPOCHS``, ...) to the value
    this run uses and ``origins`` says where each came from. Index it like a dict:
    ``budget["EPOCHS"]``. ``forecasts`` holds the forecast seconds of every plan
    (empty without a forecast); ``forecast_seconds`` is the chosen plan's.
    """

    name: str  # "full", "cpu", the name of a plan in between, or "quick"
    reason: str
    values: dict[str, int | float]
    origins: dict[str, str]
    forecasts: dict[str, float] = field(default_factory=dict)
    forecast_seconds: float | None = None
    forecast_seconds_to_results: float | None = None
    max_minutes: float | None = None
    spent_seconds: float | None = None
    cut_from_full: dict[str, tuple[int | float, int | float]] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def __getitem__(self, key: str) -> int | float:
        return self.values[key]

    def elapsed_seconds(self) -> float:
        """Seconds since the budget was resolved: the training (and all else) run after the forecast."""
        return time.perf_counter() - self.started

    def record(self) -> dict[str, object]:
        """What the results file keeps of the budget (see :func:`helpers.save_results`).

        With a forecast, ``measured_seconds`` is the wall time from the forecast to this
        call (the results file): training, evaluations and figures, against
        ``forecast_seconds_to_results``, which forecasts the training of that span.
        """
        record: dict[str, object] = {"budget": self.name, "reason": self.reason,
                                     "values": dict(self.values), "origins": dict(self.origins)}
        if self.forecasts:
            record.update({
                "max_minutes": self.max_minutes,
                **({} if self.spent_seconds is None else {"spent_seconds_before_forecast": self.spent_seconds}),
                "forecast_seconds": self.forecast_seconds,
                "forecast_seconds_to_results": self.forecast_seconds_to_results,
                "measured_seconds": round(self.elapsed_seconds(), 1),
                "forecasts": dict(self.forecasts),
                "cut_from_full": {name: list(pair) for name, pair in self.cut_from_full.items()},
            })
        return record


def _check_budget_name(budget: str) -> None:
    if budget not in BUDGET_CHOICES:
        raise ValueError(f"BUDGET = {budget!r}: expected one of {', '.join(map(repr, BUDGET_CHOICES))}")


def _resolve(settings: Mapping[str, int | float], label: str, given: Mapping[str, int | float | None],
             ) -> tuple[dict[str, int | float], dict[str, str]]:
    """The values of one plan with the explicitly given parameters winning, and where each came from."""
    values: dict[str, int | float] = {}
    origins: dict[str, str] = {}
    for name in settings:
        if given[name] is not None:
            values[name], origins[name] = given[name], "given explicitly"
        else:
            values[name], origins[name] = settings[name], label
    return values, origins


def _print_values(values: Mapping[str, int | float], origins: Mapping[str, str],
                  full: Mapping[str, int | float]) -> None:
    width = max(map(len, values))
    for name, value in values.items():
        note = "" if full[name] == value else f"; the full settings: {full[name]}"
        print(f"  {name:<{width}} = {value!r:<6} {origins[name]}{note}")


# ------------------------------------------------------------ forecasts

@dataclass(frozen=True)
class Runs:
    """``count`` training runs of one model: one line of a notebook's plan, for its forecast.

    ``model`` names an entry of the costs that :func:`measure_costs` measured (a model at
    its batch size). Each run trains ``epochs`` epochs on ``images`` images, or, with
    ``seconds``, for that many seconds (a time budget); ``validation_images`` are scored
    after every epoch, ``evaluation_images`` once after training. ``after_results``
    marks runs after the results file (a notebook's exercises): forecast, not measured.
    """

    model: str
    images: int = 0
    epochs: int = 0
    count: int = 1
    validation_images: int = 0
    evaluation_images: int = 0
    seconds: float | None = None
    after_results: bool = False


def _two_figures(seconds: float) -> float:
    """``seconds`` rounded to 2 significant figures: a forecast that does not flicker between runs."""
    if seconds <= 0:
        return 0.0
    return round(seconds, 1 - math.floor(math.log10(seconds)))


@dataclass(frozen=True)
class StepCost:
    """What one model costs at one batch size on this device, measured by :func:`measure_cost`.

    ``step``: seconds per training step once compiled; ``epoch``: fixed seconds per
    epoch (the data iterator, callbacks); ``new_model``: the seconds a new model's
    first ``fit`` and first evaluation add (building, tracing, compiling);
    ``scored_image``: seconds per image scored (validation or evaluation).
    """

    batch_size: int
    step: float
    epoch: float
    new_model: float
    scored_image: float

    def seconds(self, runs: Runs) -> float:
        """The forecast seconds of ``runs`` with this cost."""
        scored = runs.evaluation_images + runs.epochs * runs.validation_images
        if runs.seconds is not None:
            training = runs.seconds
        else:
            training = runs.epochs * (math.ceil(runs.images / self.batch_size) * self.step + self.epoch)
        return runs.count * (self.new_model + training + scored * self.scored_image)


def measure_cost(build: Callable[[], object], x, y, batch_size: int, *, steps: int = 16,
                 min_seconds: float = 0.25) -> StepCost:
    """Time a few training steps of the compiled model ``build()`` returns, at ``batch_size``.

    The new model trains epochs of two executions of ``steps`` steps (``steps`` should be
    the model's ``steps_per_execution``, or a multiple of it). The first execution builds
    and traces; the time between the two batch ends of an epoch gives the seconds per
    step. A model whose second execution took ``min_seconds`` stops there (its fixed
    costs per epoch are small beside its steps); a lighter one trains more epochs (up
    to six, until their second executions add up to ``min_seconds``), and the rest of
    those epochs gives the fixed seconds per epoch. Then it scores up to 2,048 images
    twice (the first also traces). ``x`` needs ``2 * steps * batch_size`` images (they
    are repeated when there are fewer). Each figure is rounded to 2 significant figures.
    """
    import keras
    import numpy as np

    from .training import no_retracing_warnings

    need = 2 * steps * batch_size
    if len(x) < need:
        repeats = math.ceil(need / len(x))
        x, y = np.concatenate([x] * repeats), np.concatenate([y] * repeats)

    class Clock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epochs: list[float] = []
            self.executions: list[float] = []  # the second execution of each epoch

        def on_epoch_begin(self, epoch, logs=None):
            self.begin, self.batch_ends = time.perf_counter(), []

        def on_train_batch_end(self, batch, logs=None):
            self.batch_ends.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self.begin)
            self.executions.append(self.batch_ends[-1] - self.batch_ends[0])
            if sum(self.executions) >= min_seconds:
                self.model.stop_training = True

    model = build()
    clock = Clock()
    with no_retracing_warnings():
        start = time.perf_counter()
        model.fit(x[:need], y[:need], batch_size=batch_size, epochs=6, verbose=0, shuffle=False, callbacks=[clock])
        fit_seconds = time.perf_counter() - start
        scored = min(len(x), 2048)
        start = time.perf_counter()
        model.evaluate(x[:scored], y[:scored], batch_size=1024, verbose=0)
        first_score = time.perf_counter() - start
        start = time.perf_counter()
        model.evaluate(x[:scored], y[:scored], batch_size=1024, verbose=0)
        score = time.perf_counter() - start
    step = sum(clock.executions) / (steps * len(clock.executions))
    later = clock.epochs[1:]
    epoch = max(sum(later) / len(later) - 2 * steps * step, 0.0) if later else 0.0
    new_model = fit_seconds - len(clock.epochs) * (2 * steps * step + epoch) + max(first_score - score, 0.0)
    return StepCost(batch_size, _two_figures(step), _two_figures(epoch), _two_figures(max(new_model, 0.0)),
                    _two_figures(score / scored))


def measure_costs(probes: Mapping[str, tuple[Callable[[], object], object, object, int]]) -> dict[str, StepCost]:
    """:func:`measure_cost` for every ``name: (build, x, y, batch_size)``, with one line of progress each.

    Each model trains epochs of 32 steps (2 executions of 16 steps, or of ``steps_per_execution`` where larger).
    Quick mode (tests only) times the first and the last model and gives the others the first one's cost.
    """
    from .environment import in_quick_mode
    from .execution import execution_settings

    steps = max(16, execution_settings().steps_per_execution)
    print(f"Timing {len(probes)} models at their batch sizes, with the execution settings above:")
    costs = {}
    start = time.perf_counter()
    names = list(probes)
    timed = names if not in_quick_mode() or len(names) <= 2 else [names[0], names[-1]]
    for name, (build, x, y, batch_size) in probes.items():
        if name not in timed:  # quick mode (tests only): the code runs, the numbers mean nothing
            costs[name] = replace(costs[timed[0]], batch_size=batch_size)
            print(f"  {name}: not timed in quick mode, assumed to cost what {timed[0]} did")
            continue
        costs[name] = cost = measure_cost(build, x, y, batch_size, steps=steps)
        print(f"  timed {name} at batch {batch_size}: {1000 * cost.step:.3g} ms per step, "
              f"{cost.new_model:.2g} s per new model", flush=True)
    print(f"  ({len(costs)} models timed in {time.perf_counter() - start:.0f} s)")
    return costs


def forecast_seconds(runs: Sequence[Runs], costs: Mapping[str, StepCost], *, to_results: bool = False) -> float:
    """The forecast seconds of a plan's ``runs`` (``to_results``: only those before the results file)."""
    unknown = sorted({r.model for r in runs} - set(costs))
    if unknown:
        raise ValueError(f"the plan trains {', '.join(unknown)}, which measure_costs did not time")
    return sum(costs[r.model].seconds(r) for r in runs if not (to_results and r.after_results))


def minutes_and_seconds(seconds: float) -> str:
    """``"14 min"``, ``"2 h 10 min"`` or ``"45 s"``: a duration as a reader reads it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def planned_budget(
    budget: str,
    max_minutes: float,
    *,
    cpu: Mapping[str, int | float],
    steps: Sequence[tuple[str, Mapping[str, int | float]]],
    quick: Mapping[str, int | float],
    given: Mapping[str, int | float | None],
    plan: Callable[[Mapping[str, int | float]], Sequence[Runs]],
    costs: Mapping[str, StepCost],
    device: str | None = None,
    spent_seconds: float | None = None,
) -> TrainingBudget:
    """Forecast every plan of a notebook on this device, choose one, print it and return it.

    The plans: ``cpu`` (the CPU budget), then ``cpu`` with the first of ``steps``
    applied, with the first two, ..., up to all of them, which must give the full
    settings (the sources'; no steps: the CPU budget is the full settings). Each step is ``(what it adds, {parameter: value})``, in the
    order of what matters most for the notebook's lessons. ``plan(values)`` lists the
    :class:`Runs` a plan trains; ``costs`` come from :func:`measure_costs`.

    ``budget`` is the notebook's ``BUDGET``: ``"auto"`` picks the last (most faithful)
    plan whose forecast fits ``max_minutes`` (never less than the CPU budget, which runs
    anyway, saying so, when even it does not fit); ``"full"`` and ``"cpu"`` force one.
    ``given`` holds the notebook's own length parameters: a value that is not ``None``
    wins in every plan and in quick mode. Quick mode (``COURSE_QUICK=1``, tests only)
    keeps the chosen plan's structure and caps the lengths named in ``quick`` (a value
    becomes ``min(plan's value, quick's)``), so the code of every plan runs in minutes.
    The forecast rounds each measured cost to 2 significant figures, so a plan near
    the limit is chosen the same way run after run on one machine; ``BUDGET="cpu"``
    fixes the plan exactly.

    ``spent_seconds``: what the notebook has already run before the forecast (its
    setup, data, the timing; :func:`helpers.seconds_since_setup`). MAX_MINUTES then
    bounds the whole notebook: a plan fits when its forecast fits the minutes left.
    ``None`` (the older notebooks): MAX_MINUTES bounds what runs after the forecast.
    """
    from .environment import device_description, in_quick_mode

    _check_budget_name(budget)
    device = device or device_description()
    low, high = MAX_MINUTES_RANGE
    if not low <= max_minutes <= high:
        raise ValueError(f"MAX_MINUTES = {max_minutes!r}: expected a number of minutes from {low} to {high}")
    if spent_seconds is not None and not spent_seconds >= 0:
        raise ValueError(f"spent_seconds = {spent_seconds!r}: expected the seconds already run, 0 or more")
    names = set(cpu)
    if set(given) != names or not set(quick) <= names:
        raise ValueError("cpu and given must name the same training-length parameters, and quick only those")
    plans: dict[str, dict[str, int | float]] = {"cpu": dict(cpu)}
    current = dict(cpu)
    for index, (what, changes) in enumerate(steps):
        if not set(changes) <= names:
            raise ValueError(f"step {what!r} changes {sorted(set(changes) - names)}, not training-length parameters")
        current = {**current, **changes}
        plans["full" if index == len(steps) - 1 else f"cpu+{index + 1}"] = dict(current)
    if not steps:  # the CPU budget is the full settings
        plans["full"] = dict(cpu)
    full = plans["full"]
    labels = {"cpu": "the CPU budget", "full": "the full settings"}
    labels.update({f"cpu+{i + 1}": f"the CPU budget + steps 1-{i + 1}" for i in range(len(steps) - 1)})

    spent = round(spent_seconds) if spent_seconds is not None else 0
    limit = 60 * max_minutes - spent  # what the plan may take
    within = f"MAX_MINUTES={max_minutes:g}" + (f" ({spent} s already spent)" if spent_seconds is not None else "")
    beyond = f"more than {within}" + (" leaves" if spent_seconds is not None else "")
    resolved = {name: _resolve(settings, labels[name], given) for name, settings in plans.items()}
    forecasts = {name: round(forecast_seconds(plan(values), costs)) for name, (values, _) in resolved.items()}
    if budget == "auto":
        fitting = [name for name in plans if forecasts[name] <= limit]
        chosen = fitting[-1] if fitting else "cpu"
        if chosen == "full":
            reason = f'BUDGET="auto": the full settings fit {within} on {device}'
        elif fitting:
            reason = (f'BUDGET="auto": the most faithful plan that fits {within} on {device} '
                      f"(the full settings: about {minutes_and_seconds(forecasts['full'])})")
        else:
            reason = (f'BUDGET="auto", but even the CPU budget takes about {minutes_and_seconds(forecasts["cpu"])} '
                      f"on {device}, {beyond}: it runs anyway, longer than asked")
    else:
        chosen, reason = budget, f'BUDGET="{budget}" was asked for'
        if forecasts[chosen] > limit:
            reason += (f"; its forecast, about {minutes_and_seconds(forecasts[chosen])}, is {beyond}")
    values, origins = resolved[chosen]
    forecast, to_results = forecasts[chosen], round(forecast_seconds(plan(values), costs, to_results=True))
    cut = {name: (values[name], full[name]) for name in values if values[name] != full[name]}

    if spent_seconds is None:
        print(f"Forecast on {device} (from the timed steps above; MAX_MINUTES={max_minutes:g}):")
    else:
        print(f"Forecast on {device} (from the timed steps above; MAX_MINUTES={max_minutes:g}, of which "
              f"{minutes_and_seconds(spent)} ran before this forecast, so a plan may take {minutes_and_seconds(limit)}):")
    for index, name in enumerate(plans):
        added = "" if index == 0 else f" + {steps[index - 1][0]}" if steps else " (the same as cpu)"
        mark = "->" if name == chosen else "  "
        print(f" {mark} {name:<6} about {minutes_and_seconds(forecasts[name]):>9}{added}")
    if in_quick_mode():
        reason = f"quick mode (COURSE_QUICK=1, for tests only) with the plan of {chosen}: {reason}"
        values = dict(values)
        for name, cap in quick.items():
            if given[name] is None and cap < values[name]:
                values[name], origins[name] = cap, "quick mode"
        chosen = "quick"
        forecast = round(forecast_seconds(plan(values), costs))
        to_results = round(forecast_seconds(plan(values), costs, to_results=True))
    print(f"Training budget: {chosen} ({reason})")
    _print_values(values, origins, full)
    if cut:
        print("  cut from the full settings: " + ", ".join(f"{n} {v} instead of {f}" for n, (v, f) in cut.items()))
    return TrainingBudget(chosen, reason, values, dict(origins), forecasts=forecasts, forecast_seconds=forecast,
                          forecast_seconds_to_results=to_results, max_minutes=max_minutes,
                          spent_seconds=None if spent_seconds is None else spent, cut_from_full=cut)
