"""Evaluating trained classifiers: the numbers, as tidy tables.

Tables are pandas DataFrames: they print well in notebooks and go straight into
results files. The figures that show these numbers live in ``helpers.plots``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def evaluate(model, splits: Mapping[str, tuple], *, batch_size: int = 512) -> pd.DataFrame:
    """Loss and accuracy of a compiled model on each named split.

    ``splits`` maps a name to ``(x, y)``, e.g. ``{"train": (x_train, y_train),
    "test": (x_test, y_test)}``. Returns one row per split with the columns
    ``model``, ``split``, ``images``, ``loss``, ``accuracy``. The model must have
    been compiled with an ``"accuracy"`` metric.
    """
    rows = []
    for split, (x, y) in splits.items():
        scores = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        accuracy = next((v for k, v in scores.items() if k.endswith("accuracy")), None)
        if accuracy is None:
            raise ValueError(f"compile {model.name!r} with metrics=['accuracy'] to evaluate it")
        rows.append(
            {"model": model.name, "split": split, "images": len(x),
             "loss": float(scores["loss"]), "accuracy": float(accuracy)}
        )
    return pd.DataFrame(rows)


def per_class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class, plus their averages (scikit-learn).

    - precision of class k: of the images *predicted* k, the fraction that are k;
    - recall of class k: of the images that *are* k, the fraction predicted k;
    - F1: their harmonic mean, high only when both are high;
    - support: how many images of class k there are.

    The rows after the classes are scikit-learn's ``classification_report``:
    ``accuracy`` (the fraction of all images classified correctly, in every
    column), ``macro avg`` (every class counts the same) and ``weighted avg``
    (classes weighted by their support).
    """
    from sklearn.metrics import classification_report

    report = classification_report(
        y_true, y_pred, labels=np.arange(len(class_names)),
        target_names=[str(name) for name in class_names], output_dict=True, zero_division=0,
    )
    accuracy = report.pop("accuracy", float(np.mean(np.asarray(y_true) == np.asarray(y_pred))))
    table = pd.DataFrame(report).T.rename(columns={"f1-score": "f1"})
    table.loc["accuracy"] = [accuracy, accuracy, accuracy, table.loc["macro avg", "support"]]
    order = [str(name) for name in class_names] + ["accuracy", "macro avg", "weighted avg"]
    table = table.loc[order]
    table["support"] = table["support"].astype(int)
    table.index.name = "class"
    return table


def comparison_row(model, run, scores: pd.DataFrame) -> dict:
    """One row of a model comparison table: parameters, time and accuracies.

    ``run`` is the :class:`~helpers.training.TrainingRun` of the model and
    ``scores`` the table :func:`evaluate` returned for it (with ``train`` and
    ``test`` splits). Collect rows in a list and make a DataFrame of them.
    """
    accuracy = scores.set_index("split")["accuracy"]
    return {
        "model": model.name,
        "parameters": int(model.count_params()),
        "epochs": run.epochs,
        "seconds_per_epoch": round(run.seconds_per_epoch, 1),
        "train_seconds": round(run.total_seconds, 1),
        "train_accuracy": float(accuracy.get("train", np.nan)),
        "test_accuracy": float(accuracy.get("test", np.nan)),
    }


def most_confident_errors(
    probabilities: np.ndarray, y_true: np.ndarray, count: int = 10
) -> np.ndarray:
    """Indices of the wrong predictions the model was most sure of, most sure first."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


# ------------------------------------------------------------ experiments: mean and spread over seeds (notebook 04)


def summarize_grid(runs: pd.DataFrame, metric: str = "val_accuracy") -> pd.DataFrame:
    """Mean and spread of ``metric`` over seeds for each variant: the table a comparison ends with.

    ``runs`` is :attr:`helpers.GridRuns.runs` (one row per variant and seed). Returns one
    row per variant, in the order of ``runs``, indexed by variant: the variant's knobs,
    ``seeds``, ``mean``, ``std`` (the sample standard deviation over seeds: the spread;
    0 with a single seed, where no spread can be measured), ``min``, ``max`` and
    ``seconds`` (mean wall time per run).
    """
    order = list(dict.fromkeys(runs["variant"]))
    fixed = {"comparison", "variant", "seed", "epochs", "seconds", "seconds_per_epoch",
             "train_accuracy", "val_loss", "val_accuracy", metric}
    knobs = [c for c in runs.columns if c not in fixed]
    grouped = runs.groupby("variant", sort=False)
    table = grouped[metric].agg(seeds="count", mean="mean", std="std", min="min", max="max")
    table["std"] = table["std"].fillna(0.0)
    table["seconds"] = grouped["seconds"].mean()
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

    ``effect`` is the best mean minus the worst mean, ``spread`` the mean seed-to-seed
    standard deviation of the comparison's variants, ``ratio`` the effect divided by
    the spread, and ``verdict`` the :func:`noise_verdict` of best against worst.
    Sorted by ratio, largest first: the choices to get right come first.
    """
    rows = []
    for name, summary in summaries.items():
        best, worst = summary["mean"].idxmax(), summary["mean"].idxmin()
        effect, noise = difference_noise(summary, best, worst)
        spread = float(summary["std"].mean())
        rows.append({"comparison": name, "best": best, "worst": worst, "best_mean": float(summary.loc[best, "mean"]),
                     "effect": effect, "spread": spread,
                     "ratio": effect / spread if spread > 0 else float("inf"),
                     "verdict": noise_verdict(effect, noise)})
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
    from .training import _no_retracing_warnings

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=loss)
    with _no_retracing_warnings():
        model.train_on_batch(x, y)
    rows = [{"depth": depth, "layer": layer.name,
             "gradient_norm": float(np.linalg.norm(old - keras.ops.convert_to_numpy(layer.kernel)))}
            for depth, (layer, old) in enumerate(zip(kernels, before), start=1)]
    model.set_weights(saved)
    return pd.DataFrame(rows)
