"""Experiments: configurations compared over several seeds, and the probes they use (notebooks 04-06).

A comparison trains every configuration (*variant*) once per seed (:func:`train_grid`),
summarizes each variant by its mean and spread over the seeds (:func:`summarize_grid`), and
calls a difference real only when it is larger than its noise (:func:`compare_variants`,
:func:`effect_table`). The probes answer questions about a run without training it again:
where early stopping would have stopped (:func:`early_stopping_epochs`) and how much
gradient reaches each layer (:func:`gradient_norms`). The figures of a comparison live in
``helpers.plots.comparisons``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .environment import set_seed
from .execution import check_output_precision
from .training import epoch_timer, no_retracing_warnings

# ------------------------------------------------------------ training configurations over seeds


#: The knobs of a configuration that go to ``fit``; every other knob goes to the model builder.
FIT_KNOBS = ("batch_size", "epochs", "seconds")


def time_limit(seconds: float):
    """A Keras callback that stops training after the first batch that ends ``seconds`` after the start.

    Why: comparing batch sizes at equal *time* (not equal epochs) needs every run to
    stop when its time is up, wherever it is in an epoch.
    """
    import keras

    class TimeLimit(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.start >= seconds:
                self.model.stop_training = True

    return TimeLimit()


@dataclass
class GridRuns:
    """What :func:`train_grid` produced.

    ``runs`` is the tidy table: one row per (variant, seed) with the knobs of the
    variant and the run's ``epochs``, ``seconds``, ``seconds_per_epoch``,
    ``train_accuracy`` (last epoch), ``val_loss`` and ``val_accuracy`` (after training).
    ``histories`` maps ``(variant, seed)`` to the per-epoch history; ``models`` holds
    the trained models when :func:`train_grid` was asked to keep them.
    """

    runs: pd.DataFrame
    histories: dict[tuple[str, int], dict[str, list[float]]]
    models: dict[tuple[str, int], object]


def train_grid(
    build,
    variants: Mapping[str, Mapping[str, object]],
    data: tuple,
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    comparison: str = "",
    curves: bool = False,
    keep_models: bool = False,
) -> GridRuns:
    """Train every configuration of ``variants`` once per seed and return one tidy table.

    ``build(**knobs)`` is the notebook's model-building function: it returns a
    *compiled* model. ``variants`` maps a short name (it becomes part of result keys:
    lower case, no spaces) to the knobs that differ from the base configuration;
    ``batch_size``, ``epochs`` and ``seconds`` (a time budget, see :func:`time_limit`)
    go to ``fit``, every other knob to ``build``. ``data`` is ``(x_train, y_train,
    x_val, y_val)``, the same split for every run; the test set never enters here.

    Every run starts from ``helpers.set_seed(seed)``, so all variants of one seed
    start from the same random state (initial weights of equal shapes, batch order). The validation set is
    scored once after training; ``curves=True`` also scores it after every epoch
    (``val_loss`` and ``val_accuracy`` per epoch in ``histories``), which costs time.
    Prints one line per variant: mean and spread of the validation accuracy.
    """
    x_train, y_train, x_val, y_val = data
    rows: list[dict[str, object]] = []
    histories: dict[tuple[str, int], dict[str, list[float]]] = {}
    models: dict[tuple[str, int], object] = {}
    for name, knobs in variants.items():
        fit_knobs = {"batch_size": batch_size, "epochs": epochs, **{k: v for k, v in knobs.items() if k in FIT_KNOBS}}
        build_knobs = {k: v for k, v in knobs.items() if k not in FIT_KNOBS}
        seconds = fit_knobs.pop("seconds", None)
        if seconds is not None and "epochs" not in knobs:
            fit_knobs["epochs"] = 10_000  # the time budget decides
        accuracies = []
        for seed in seeds:
            set_seed(seed)
            model = build(**build_knobs)
            check_output_precision(model)
            timer = epoch_timer()
            callbacks = [timer] if seconds is None else [timer, time_limit(seconds)]
            start = time.perf_counter()
            with no_retracing_warnings():
                history = model.fit(
                    x_train, y_train, **fit_knobs, callbacks=callbacks, verbose=0,
                    validation_data=(x_val, y_val) if curves else None,
                )
                total = time.perf_counter() - start
                scores = model.evaluate(x_val, y_val, batch_size=1024, verbose=0, return_dict=True)
            val_accuracy = float(next(v for k, v in scores.items() if k.endswith("accuracy")))
            later = timer.epoch_seconds[1:] or timer.epoch_seconds
            history = {key: [float(v) for v in values] for key, values in history.history.items()}
            rows.append({
                "comparison": comparison, "variant": name, "seed": seed,
                **{k: v if isinstance(v, (int, float, str, bool)) else repr(v) for k, v in knobs.items()},
                "epochs": len(timer.epoch_seconds), "seconds": total,
                "seconds_per_epoch": float(np.mean(later)),
                "train_accuracy": history["accuracy"][-1] if "accuracy" in history else float("nan"),
                "val_loss": float(scores["loss"]), "val_accuracy": val_accuracy,
            })
            histories[(name, seed)] = history
            if keep_models:
                models[(name, seed)] = model
            accuracies.append(val_accuracy)
        spread = f" ± {np.std(accuracies, ddof=1):.4f}" if len(accuracies) > 1 else ""
        print(f"{comparison + ': ' if comparison else ''}{name}: validation accuracy "
              f"{np.mean(accuracies):.4f}{spread} over {len(accuracies)} seed(s)")
    return GridRuns(pd.DataFrame(rows), histories, models)


# ------------------------------------------------------------ mean and spread over seeds


def summarize_grid(runs: pd.DataFrame, metric: str = "val_accuracy") -> pd.DataFrame:
    """Mean and spread of ``metric`` over seeds for each variant: the table a comparison ends with.

    ``runs`` is :attr:`helpers.GridRuns.runs` (one row per variant and seed). Returns one
    row per variant, in the order of ``runs``, indexed by variant: the variant's knobs,
    ``seeds``, ``mean``, ``std`` (the sample standard deviation over seeds: the spread;
    0 with a single seed, where no spread can be measured), ``min``, ``max``,
    ``seconds`` (mean wall time per run) and ``per_seed`` (``{seed: metric}``, for
    paired comparisons such as :func:`seeds_won` on any subset of the rows).
    """
    order = list(dict.fromkeys(runs["variant"]))
    fixed = {"comparison", "variant", "seed", "epochs", "seconds", "seconds_per_epoch",
             "train_accuracy", "val_loss", "val_accuracy", metric}
    knobs = [c for c in runs.columns if c not in fixed]
    grouped = runs.groupby("variant", sort=False)
    table = grouped[metric].agg(seeds="count", mean="mean", std="std", min="min", max="max")
    table["std"] = table["std"].fillna(0.0)
    table["seconds"] = grouped["seconds"].mean()
    table["per_seed"] = pd.Series({variant: dict(zip(group["seed"], group[metric])) for variant, group in grouped})
    if knobs:
        table = grouped[knobs].first().join(table)
    return table.loc[order]


def difference_noise(summary: pd.DataFrame, a: str, b: str) -> tuple[float, float]:
    """The difference of two variants' means (a - b) and its noise: the standard error of that difference.

    The noise is sqrt(std_a**2 / n_a + std_b**2 / n_b): how much the difference of two
    means of n seeds moves from one set of seeds to another.
    """
    row_a, row_b = summary.loc[a], summary.loc[b]
    noise = float(np.sqrt(row_a["std"] ** 2 / row_a["seeds"] + row_b["std"] ** 2 / row_b["seeds"]))
    return float(row_a["mean"] - row_b["mean"]), noise


def noise_verdict(difference: float, noise: float) -> str:
    """Words for a difference of means against its noise (standard error of the difference).

    The rule of thumb: a difference more than twice its noise is "larger than the
    noise"; otherwise it is "within the noise" (with 3 seeds even that is a rough
    guide, not a proof). Zero noise means one seed: no spread was measured.
    """
    if noise == 0.0:
        return "no spread measured (one seed): cannot tell"
    return "larger than the noise" if abs(difference) > 2 * noise else "within the noise"


def seeds_won(summary: pd.DataFrame, variant: str) -> tuple[int, int]:
    """In how many seeds ``variant`` scored highest of the rows of ``summary``, and out of how many.

    Paired by seed: only the seeds that every row of ``summary`` trained count (all
    of them, when the variants share their seeds), and a tie for the highest counts as
    a win. A mean's winner that wins 5 seeds of 5 is the winner whatever the seed; one
    that wins 2 of 5 won on average, not run by run.
    """
    per_seed = list(summary["per_seed"])
    shared = sorted(set.intersection(*(set(scores) for scores in per_seed)))
    mine = summary.loc[variant, "per_seed"]
    won = sum(mine[seed] >= max(scores[seed] for scores in per_seed) for seed in shared)
    return int(won), len(shared)


def compare_variants(summary: pd.DataFrame, a: str, b: str, *, scale: float = 100.0, unit: str = "points") -> str:
    """One sentence comparing two variants of a summary: difference, noise and verdict.

    ``scale`` turns fractions into the ``unit`` printed (100: accuracy points), e.g.
    "adam vs rmsprop: difference +0.30 points, noise 0.40: within the noise".
    """
    difference, noise = difference_noise(summary, a, b)
    return (f"{a} vs {b}: difference {difference * scale:+.2f} {unit}, noise {noise * scale:.2f}: "
            f"{noise_verdict(difference, noise)}")


def effect_table(summaries: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Which choices mattered most: for each comparison, its best and worst variant, effect against spread.

    ``effect`` is the best mean minus the worst mean, ``noise`` its standard error (how
    far it would move with other seeds, :func:`difference_noise`), ``spread`` the mean
    seed-to-seed standard deviation of the comparison's variants (of one run, not of the
    effect), ``ratio`` the effect divided by the spread, and ``verdict`` the
    :func:`noise_verdict` of best against worst, ``won`` of ``seeds``: in how many of
    the shared seeds the best variant also scored highest (:func:`seeds_won`; where
    it won fewer than all, the winner depends on the seed). Sorted by ratio, largest
    first: the choices to get right come first.
    """
    rows = []
    for name, summary in summaries.items():
        best, worst = summary["mean"].idxmax(), summary["mean"].idxmin()
        effect, noise = difference_noise(summary, best, worst)
        spread = float(summary["std"].mean())
        won, seeds = seeds_won(summary, best)
        rows.append({"comparison": name, "best": best, "worst": worst, "best_mean": float(summary.loc[best, "mean"]),
                     "effect": effect, "noise": noise, "spread": spread,
                     "ratio": effect / spread if spread > 0 else float("inf"),
                     "verdict": noise_verdict(effect, noise), "won": won, "seeds": seeds})
    return pd.DataFrame(rows).sort_values("ratio", ascending=False, kind="stable").reset_index(drop=True)


def grid_results(comparison: str, summary: pd.DataFrame, *, metric: str = "val_acc") -> dict[str, float]:
    """Flat results-file entries for a summary: ``<comparison>__<variant>__<metric>_mean`` and ``_std``.

    :func:`helpers.save_results` records one number per key, so each variant's mean
    and spread become two keys.
    """
    results: dict[str, float] = {}
    for variant, row in summary.iterrows():
        results[f"{comparison}__{variant}__{metric}_mean"] = float(row["mean"])
        results[f"{comparison}__{variant}__{metric}_std"] = float(row["std"])
    return results


# ------------------------------------------------------------ probes: what a run would have done, what reaches a layer


def early_stopping_epochs(val_losses: Sequence[float], patience: int) -> tuple[int, int]:
    """Where ``keras.callbacks.EarlyStopping(patience=patience)`` would have stopped on these losses.

    Returns ``(stopped, best)``, both 1-based epochs: the epoch after which training
    would have stopped (the last epoch if it never stops) and the epoch with the lowest
    loss so far, whose weights ``restore_best_weights=True`` keeps. Same rule as Keras
    (``min_delta=0``): an epoch that does not improve on the best adds one to a counter,
    and training stops when the counter reaches ``patience``. Why: one long run answers
    "what would early stopping have chosen" for every patience, without re-training.
    """
    if patience < 1:
        raise ValueError(f"patience must be at least 1, got {patience}")
    best_value, best, wait = float("inf"), 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        wait += 1
        if value < best_value:
            best_value, best, wait = value, epoch, 0
        elif wait >= patience:
            return epoch, best
    return len(val_losses), best


def gradient_norms(model, x, y, *, loss: str = "sparse_categorical_crossentropy") -> pd.DataFrame:
    """The norm of the loss gradient of each layer's kernel on one batch, on any Keras backend.

    One step of plain SGD with learning rate 1 moves every weight by exactly minus its
    gradient, so the change of each kernel over one ``train_on_batch`` is the gradient:
    no ``tf.GradientTape`` or ``jax.grad`` needed. The model is recompiled (its optimizer
    replaced) and its weights are restored afterwards: pass a freshly built model to
    read the gradients at initialization. Returns one row per layer with a kernel:
    ``depth`` (1 = nearest the input), ``layer`` and ``gradient_norm``.
    """
    import keras

    saved = model.get_weights()
    kernels = [layer for layer in model.layers if hasattr(layer, "kernel")]
    before = [keras.ops.convert_to_numpy(layer.kernel) for layer in kernels]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=loss)
    with no_retracing_warnings():
        model.train_on_batch(x, y)
    rows = [{"depth": depth, "layer": layer.name,
             "gradient_norm": float(np.linalg.norm(old - keras.ops.convert_to_numpy(layer.kernel)))}
            for depth, (layer, old) in enumerate(zip(kernels, before), start=1)]
    model.set_weights(saved)
    return pd.DataFrame(rows)
