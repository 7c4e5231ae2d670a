"""Evaluating trained classifiers: the numbers, as tidy tables.

Tables are pandas DataFrames: they print well in notebooks and go straight into
results files. The figures that show these numbers live in ``helpers.plots``; the
comparison of configurations over seeds (mean, spread, noise) is ``helpers.experiments``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer


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


def _flatten(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(len(images), -1)


def nearest_centroid(images: np.ndarray, labels: np.ndarray) -> Pipeline:
    """The course's yardstick: label an image with the class whose mean image is closest.

    scikit-learn's ``NearestCentroid`` fitted on the flattened ``images`` (any shape per
    image), behind a flattening step, so ``.score(x, y)`` and ``.predict(x)`` take images
    as the networks do; ``[-1].centroids_`` holds the ten mean images. Notebook 01 writes the
    same classifier out in NumPy (it is the lesson there) and checks that both agree.

    Pixels that are 0 in every image of a class (the corners) make scikit-learn warn of a
    zero within-class spread; that spread matters only for its optional shrinkage, which is
    not used, so the warning is silenced here.
    """
    model = Pipeline([("flatten", FunctionTransformer(_flatten)), ("nearest_centroid", NearestCentroid())])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*zero standard deviation", category=UserWarning)
        return model.fit(images, labels)


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
