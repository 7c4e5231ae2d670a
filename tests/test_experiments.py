"""Notebook 04's experiment helpers: a grid of configurations over seeds, its tidy table and its plots."""

import numpy as np
import pandas as pd
import pytest

import helpers


def tiny_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4), dtype="float32")
    y = (x[:, 0] > 0.5).astype("int64")  # learnable: one feature decides the class
    return x, y


def build_tiny(units=4, learning_rate=0.05):
    import keras

    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def grid_data():
    x, y = tiny_data(48)
    return x[:32], y[:32], x[32:], y[32:]


def runs_table():
    """A hand-made runs table: two variants, three seeds each (and a knob column)."""
    return pd.DataFrame({
        "comparison": "c", "variant": ["b"] * 3 + ["a"] * 3, "seed": [0, 1, 2] * 2,
        "learning_rate": [0.1] * 3 + [0.01] * 3,
        "epochs": 1, "seconds": [1.0, 2.0, 3.0, 1.0, 1.0, 1.0], "seconds_per_epoch": 1.0,
        "train_accuracy": 0.9, "val_loss": 0.3,
        "val_accuracy": [0.80, 0.82, 0.84, 0.70, 0.70, 0.73],
    })


# ------------------------------------------------------------------ early stopping


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    losses = [1.0, 0.9, 0.95, 0.97, 0.8]
    assert helpers.early_stopping_epochs(losses, patience=2) == (4, 2)
    assert helpers.early_stopping_epochs(losses, patience=3) == (5, 5)  # epoch 5 improves in time
    assert helpers.early_stopping_epochs([0.5, 0.6], patience=1) == (2, 1)
    assert helpers.early_stopping_epochs([0.5], patience=5) == (1, 1)


def test_early_stopping_matches_keras_on_a_real_run():
    import keras

    x, y = tiny_data(64)
    helpers.set_seed(0)
    model = build_tiny(learning_rate=0.5)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    history = model.fit(x[:48], y[:48], validation_data=(x[48:], y[48:]), epochs=40, verbose=0, callbacks=[stopper])
    losses = history.history["val_loss"]
    helpers.set_seed(0)
    full = build_tiny(learning_rate=0.5).fit(x[:48], y[:48], validation_data=(x[48:], y[48:]), epochs=40, verbose=0)
    stopped, best = helpers.early_stopping_epochs(full.history["val_loss"], patience=2)
    assert stopped == len(losses)  # where Keras stopped (40 if it never did)
    assert best == 1 + int(np.argmin(losses))


def test_early_stopping_rejects_a_patience_below_one():
    with pytest.raises(ValueError, match="patience"):
        helpers.early_stopping_epochs([1.0], patience=0)


# ------------------------------------------------------------------ tables and verdicts


def test_summarize_grid_gives_mean_and_spread_per_variant_in_order():
    summary = helpers.summarize_grid(runs_table())
    assert list(summary.index) == ["b", "a"]
    assert summary.loc["b", "mean"] == pytest.approx(0.82)
    assert summary.loc["b", "std"] == pytest.approx(0.02)  # sample standard deviation (ddof=1)
    assert summary.loc["a", "min"] == pytest.approx(0.70) and summary.loc["a", "max"] == pytest.approx(0.73)
    assert summary.loc["b", "seconds"] == pytest.approx(2.0)
    assert (summary["seeds"] == 3).all()
    assert summary.loc["a", "learning_rate"] == 0.01  # the knobs travel with the variant


def test_one_seed_has_zero_spread_and_the_verdict_says_it_cannot_tell():
    summary = helpers.summarize_grid(runs_table().query("seed == 0"))
    assert (summary["std"] == 0.0).all()
    assert "cannot tell" in helpers.compare_variants(summary, "b", "a")


def test_difference_noise_and_verdicts():
    summary = helpers.summarize_grid(runs_table())
    difference, noise = helpers.difference_noise(summary, "b", "a")
    std_a = np.std([0.70, 0.70, 0.73], ddof=1)
    assert difference == pytest.approx(0.82 - np.mean([0.70, 0.70, 0.73]))
    assert noise == pytest.approx(np.sqrt(0.02 ** 2 / 3 + std_a ** 2 / 3))
    assert helpers.noise_verdict(0.10, 0.02) == "larger than the noise"
    assert helpers.noise_verdict(-0.05, 0.02) == "larger than the noise"
    assert helpers.noise_verdict(0.03, 0.02) == "within the noise"
    sentence = helpers.compare_variants(summary, "b", "a")
    assert sentence.startswith("b vs a: difference +") and sentence.endswith("larger than the noise")
    assert f"{100 * difference:+.2f} points" in sentence


def test_effect_table_ranks_comparisons_by_effect_against_spread():
    strong = helpers.summarize_grid(runs_table())
    weak_runs = runs_table().assign(val_accuracy=[0.80, 0.82, 0.84, 0.79, 0.83, 0.81])
    weak = helpers.summarize_grid(weak_runs)
    table = helpers.effect_table({"weak": weak, "strong": strong})
    assert list(table["comparison"]) == ["strong", "weak"]
    first = table.iloc[0]
    assert first["best"] == "b" and first["worst"] == "a" and first["verdict"] == "larger than the noise"
    # by hand from runs_table(): b's seeds 0.80, 0.82, 0.84 against a's 0.70, 0.70, 0.73
    effect = np.mean([0.80, 0.82, 0.84]) - np.mean([0.70, 0.70, 0.73])
    spread = (np.std([0.80, 0.82, 0.84], ddof=1) + np.std([0.70, 0.70, 0.73], ddof=1)) / 2
    assert first["effect"] == pytest.approx(0.11) and first["spread"] == pytest.approx(spread)
    noise = np.sqrt(np.var([0.80, 0.82, 0.84], ddof=1) / 3 + np.var([0.70, 0.70, 0.73], ddof=1) / 3)
    assert first["noise"] == pytest.approx(noise)
    assert first["ratio"] == pytest.approx(effect / spread) and first["ratio"] == pytest.approx(5.895, abs=1e-3)
    second = table.iloc[1]  # b against 0.79, 0.83, 0.81: effect 0.01, both spreads 0.02
    assert second["effect"] == pytest.approx(0.01) and second["spread"] == pytest.approx(0.02)
    assert second["ratio"] == pytest.approx(0.5)
    assert second["verdict"] == "within the noise"


def test_seeds_won_pairs_the_variants_by_seed_within_the_rows_given():
    runs = pd.concat([runs_table(), runs_table().query("variant == 'a'").assign(variant="c", val_accuracy=[0.79, 0.85, 0.70])])
    summary = helpers.summarize_grid(runs)
    assert summary.loc["c", "per_seed"] == {0: 0.79, 1: 0.85, 2: 0.70}
    assert helpers.seeds_won(summary, "b") == (2, 3)  # c has the best seed 1
    assert helpers.seeds_won(summary, "c") == (1, 3)
    assert helpers.seeds_won(summary.loc[["b", "a"]], "b") == (3, 3)  # among b and a only, b wins every seed
    tied = helpers.summarize_grid(runs_table().assign(val_accuracy=0.5))
    assert helpers.seeds_won(tied, "a") == helpers.seeds_won(tied, "b") == (3, 3)  # a tie is a win for both
    one_seed_less = helpers.summarize_grid(runs.query("not (variant == 'c' and seed == 1)"))
    assert helpers.seeds_won(one_seed_less, "b") == (2, 2)  # only the seeds every row trained


def test_effect_table_says_in_how_many_seeds_the_best_variant_won():
    runs = pd.concat([runs_table(), runs_table().query("variant == 'a'").assign(variant="c", val_accuracy=[0.79, 0.85, 0.70])])
    row = helpers.effect_table({"c": helpers.summarize_grid(runs)}).iloc[0]
    assert (row["best"], row["won"], row["seeds"]) == ("b", 2, 3)


def test_grid_results_are_flat_scalars_that_save_results_accepts(tmp_path):
    results = helpers.grid_results("optimizer_default", helpers.summarize_grid(runs_table()))
    assert set(results) == {f"optimizer_default__{v}__val_acc_{s}" for v in "ab" for s in ("mean", "std")}
    assert results["optimizer_default__b__val_acc_mean"] == pytest.approx(0.82)
    path = helpers.save_results("grid_test", results, results_dir=tmp_path, parameters={})
    assert helpers.load_results(path)["results"] == pytest.approx(results)


# ------------------------------------------------------------------ training a grid


def test_train_grid_runs_every_variant_once_per_seed_and_routes_the_knobs(capsys):
    variants = {"base": {}, "wide": {"units": 16}, "small_batch": {"batch_size": 4, "epochs": 2}}
    grid = helpers.train_grid(build_tiny, variants, grid_data(), seeds=[0, 1], epochs=1, batch_size=16,
                              comparison="test")
    runs = grid.runs
    assert len(runs) == 6 and list(runs["variant"].unique()) == list(variants)
    assert list(runs["seed"]) == [0, 1] * 3
    assert runs.set_index("variant")["epochs"].to_dict() == {"base": 1, "wide": 1, "small_batch": 2}
    assert runs["units"].iloc[2] == 16 and np.isnan(runs["units"].iloc[0])
    # (the validation accuracy itself is checked against model.evaluate in test_train_grid_curves_and_kept_models)
    assert (runs["seconds"] > 0).all()
    assert set(grid.histories) == {(v, s) for v in variants for s in (0, 1)}
    assert len(grid.histories[("small_batch", 0)]["loss"]) == 2
    assert "val_loss" not in grid.histories[("base", 0)]  # validation only after training
    assert grid.models == {}
    printed = capsys.readouterr().out
    assert "test: wide: validation accuracy" in printed and "over 2 seed(s)" in printed


def test_train_grid_is_repeatable_for_a_seed():
    first = helpers.train_grid(build_tiny, {"base": {}}, grid_data(), seeds=[3], epochs=2, batch_size=8)
    second = helpers.train_grid(build_tiny, {"base": {}}, grid_data(), seeds=[3], epochs=2, batch_size=8)
    assert first.runs["val_accuracy"].iloc[0] == second.runs["val_accuracy"].iloc[0]
    assert first.histories[("base", 3)]["loss"] == second.histories[("base", 3)]["loss"]


def test_train_grid_curves_and_kept_models():
    grid = helpers.train_grid(build_tiny, {"base": {}}, grid_data(), seeds=[0], epochs=3, batch_size=8,
                              curves=True, keep_models=True)
    history = grid.histories[("base", 0)]
    assert len(history["val_loss"]) == 3 and len(history["val_accuracy"]) == 3
    model = grid.models[("base", 0)]
    x_val, y_val = grid_data()[2:]
    accuracy = model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(grid.runs["val_accuracy"].iloc[0])
    assert history["val_accuracy"][-1] == pytest.approx(accuracy)


def test_a_time_budget_stops_training_early():
    grid = helpers.train_grid(build_tiny, {"no_time": {"seconds": 0.0}}, grid_data(), seeds=[0], epochs=1,
                              batch_size=8)
    assert grid.runs["epochs"].iloc[0] == 1  # stopped in its first epoch, though allowed 10,000
    assert len(grid.histories[("no_time", 0)]["loss"]) == 1


# ------------------------------------------------------------------ gradients


def test_gradient_norms_equal_the_analytic_gradient_and_leave_the_weights_alone():
    import keras

    helpers.set_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1, name="linear")])
    x = np.random.default_rng(1).random((8, 3), dtype="float32")
    y = np.random.default_rng(2).random((8, 1), dtype="float32")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.layers[0].weights)
    norms = helpers.gradient_norms(model, x, y, loss="mse")
    residual = x @ kernel + bias - y  # d/dw mean((xw + b - y)^2) = 2/n x^T (xw + b - y)
    expected = np.linalg.norm(2 / len(x) * x.T @ residual)
    assert list(norms["layer"]) == ["linear"] and list(norms["depth"]) == [1]
    assert norms["gradient_norm"].iloc[0] == pytest.approx(expected, rel=1e-4)
    assert np.array_equal(keras.ops.convert_to_numpy(model.layers[0].kernel), kernel)


def test_sigmoid_gradients_vanish_with_depth():
    import keras

    helpers.set_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,))] + [keras.layers.Dense(16, activation="sigmoid")
                                                           for _ in range(6)] + [keras.layers.Dense(2, activation="softmax")])
    norms = helpers.gradient_norms(model, *tiny_data(32))
    assert list(norms["depth"]) == list(range(1, 8))
    assert norms["gradient_norm"].iloc[0] < norms["gradient_norm"].iloc[-1] / 100


# ------------------------------------------------------------------ plots


def test_plot_comparison_draws_bars_or_lines_with_error_bars():
    summary = helpers.summarize_grid(runs_table())
    bars = helpers.plot_comparison(summary, title="bars", bottom=0.5)
    ax = bars.axes[0]
    assert [round(bar.get_height(), 6) for bar in ax.patches] == [0.82, 0.71]  # b then a, as in runs_table()
    assert [label.get_text() for label in ax.get_xticklabels()] == ["b", "a"]
    assert "axis starts at 0.5" in ax.get_ylabel() and ax.get_ylim()[0] == 0.5
    assert ax.get_title().startswith("bars\n")
    lines = helpers.plot_comparison(summary.assign(optimizer="sgd"), title="lines", x="learning_rate",
                                    group="optimizer", log_x=True, log_y=True)
    ax = lines.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and "log scale" in ax.get_xlabel()
    lines.canvas.draw()
    # a tick at each learning rate tried, in plain numbers, and no labelled minor ticks between them
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1"]
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    # the y axis spans less than a decade (0.69 to 0.84): its labels are plain numbers, not 7×10⁻¹
    low, high = ax.get_ylim()
    labels = [t.get_text() for t in [*ax.get_yticklabels(), *ax.get_yticklabels(minor=True)]
              if t.get_text() and low <= t.get_position()[1] <= high]
    assert labels and all(0.6 < float(label) < 0.9 for label in labels), labels  # float() fails on 7×10⁻¹


def test_plot_comparison_starts_its_bars_below_the_lowest_error_bar_and_says_so():
    summary = helpers.summarize_grid(runs_table())  # means 0.82 and 0.71, std 0.02 and 0.0173
    ax = helpers.plot_comparison(summary, title="auto").axes[0]
    # lowest error bar 0.6927, highest 0.84: 0.6927 - 0.1 * 0.1473 = 0.678, down to a multiple of 0.05
    assert ax.get_ylim()[0] == pytest.approx(0.65) and ax.get_ylabel() == "validation accuracy (axis starts at 0.65)"
    ax = helpers.plot_comparison(summary, title="from zero", bottom=None).axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_ylabel() == "validation accuracy"
    near_chance = summary.assign(mean=[0.82, 0.12])  # a variant that did not learn: bars from 0
    assert helpers.plot_comparison(near_chance, title="chance").axes[0].get_ylim()[0] == 0
    long_names = summary.rename(index={"a": "bn_0.9_batch512", "b": "bn_0.99_batch512"})
    ax = helpers.plot_comparison(long_names, title="long").axes[0]
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {30.0}  # slanted: they would collide
    assert {t.get_rotation() for t in helpers.plot_comparison(summary, title="short").axes[0].get_xticklabels()} == {0.0}


def test_plot_grid_curves_shows_one_line_per_variant():
    grid = helpers.train_grid(build_tiny, {"a": {}, "b": {"learning_rate": 0.5}}, grid_data(), seeds=[0, 1],
                              epochs=2, batch_size=8)
    fig = helpers.plot_grid_curves(grid, ["a", "b"], metric="loss", title="curves", log_y=True)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a (2 seeds)", "b (2 seeds)"]
    for line, variant in zip(lines, "ab", strict=True):  # the mean over the two seeds, epoch by epoch
        seeds = [grid.histories[(variant, seed)]["loss"] for seed in (0, 1)]
        assert line.get_xdata().tolist() == [1, 2]
        assert np.allclose(line.get_ydata(), np.mean(seeds, axis=0))
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_ylabel() == "loss (log scale)"
    fig.canvas.draw()
    assert all(float(t.get_text()).is_integer() for t in fig.axes[0].get_xticklabels() if t.get_text())  # epochs
