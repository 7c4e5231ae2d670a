"""``./course bench``: seconds per training epoch of the course's models under each execution setting.

Every (model, setting) pair runs in a fresh Python process: one process's earlier run
changes the next one's speed (a float32 run measured 2x slower after a bfloat16 run),
so nothing is timed after anything else in the same process. Each process builds the
model, compiles it with the setting, runs one warm-up epoch of ``--steps`` batches
(tracing, compiling, oneDNN's first calls) and times three more; the fastest of the
three (the least disturbed by anything else on the machine) is scaled to a 54,000-image epoch at batch 128, the size of the notebooks' MNIST and
Fashion-MNIST training sets. A measured matmul peak per precision puts each setting
next to what the hardware can do.

``chosen`` is what :func:`helpers.execution_settings` picks on this device; ``speedup``
is seconds with Keras's defaults over seconds with the chosen settings, with the
input pipeline each notebook uses for that model.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

EPOCH_IMAGES = 54_000
TIMED_EPOCHS = 3  # after one warm-up epoch; the fastest of them counts
BATCH_SIZE = 128
REPOSITORY = Path(__file__).resolve().parent.parent

#: model name -> (builder call, whether it has BatchNormalization on images, notebook's input pipeline)
MODELS = {
    "keras_io_convnet": ("helpers.keras_io_convnet()", False, "arrays"),
    "course_convnet": ("helpers.course_convnet()", True, "shifted_batches"),
    "fashion_convnet_w16": ("helpers.fashion_convnet(16)", True, "transformed_batches"),
    "fashion_convnet_w32": ("helpers.fashion_convnet(32)", True, "transformed_batches"),
    "dense_512": ("helpers.dense_512()", False, "arrays"),
}


@dataclass(frozen=True)
class Setting:
    """One way to execute training: the options of ``compile``, the precision, the BatchNormalization kernel."""

    label: str
    steps_per_execution: int = 1
    jit_compile: bool | str = "auto"
    precision: str = "float32"
    fused_batch_norm: bool = False
    pipeline: str = "arrays"
    chosen: bool = False
    needs: tuple[str, ...] = field(default=())  # "batch_norm", "bfloat16", "tensorflow"

    def as_dict(self) -> dict[str, object]:
        return {"steps_per_execution": self.steps_per_execution, "jit_compile": self.jit_compile,
                "precision": self.precision, "fused_batch_norm": self.fused_batch_norm, "pipeline": self.pipeline}


def settings_for(model: str, chosen: dict[str, object]) -> list[Setting]:
    """The settings measured for ``model``: Keras's defaults, each option alone and together, the chosen ones.

    The row whose options are the chosen ones is marked ``chosen`` (a row is added if none is).
    """
    _, has_batch_norm, pipeline = MODELS[model]
    rows = [
        Setting("Keras defaults"),
        Setting("steps_per_execution=16", steps_per_execution=16),
        Setting("steps_per_execution=64", steps_per_execution=64),
        Setting("XLA (jit_compile=True), spe=16", steps_per_execution=16, jit_compile=True),
        Setting("mixed_bfloat16, spe=16", steps_per_execution=16, precision="mixed_bfloat16", needs=("bfloat16",)),
    ]
    if has_batch_norm:
        rows += [
            Setting("fused BN", fused_batch_norm=True, needs=("tensorflow",)),
            Setting("fused BN, spe=16", steps_per_execution=16, jit_compile=False, fused_batch_norm=True,
                    needs=("tensorflow",)),
            Setting("fused BN, spe=64", steps_per_execution=64, jit_compile=False, fused_batch_norm=True,
                    needs=("tensorflow",)),
            Setting("fused BN, mixed_bfloat16, spe=16", steps_per_execution=16, precision="mixed_bfloat16",
                    fused_batch_norm=True, needs=("tensorflow", "bfloat16")),
        ]
    best = Setting("chosen", int(chosen["steps_per_execution"]), chosen["jit_compile"], str(chosen["precision"]),
                   bool(chosen["fused_batch_norm"]) and has_batch_norm, chosen=True)
    same = [i for i, row in enumerate(rows) if _options(row) == _options(best)]
    if same:
        rows[same[0]] = replace(rows[same[0]], chosen=True)
    else:
        rows.append(best)
    if pipeline != "arrays":
        rows += [Setting(f"Keras defaults, {pipeline}", pipeline=pipeline),
                 Setting(f"chosen, {pipeline}", best.steps_per_execution, best.jit_compile, best.precision,
                         best.fused_batch_norm, pipeline=pipeline, chosen=True)]
    return rows


def _options(setting: Setting) -> tuple:
    """What a setting changes in the run; Keras's "auto" XLA is off on TensorFlow's CPU, as False is."""
    jit = setting.jit_compile if setting.jit_compile is True else False
    return setting.steps_per_execution, jit, setting.precision, setting.fused_batch_norm, setting.pipeline


# ------------------------------------------------------------ the worker: one setting, one fresh process

_AUGMENT_05 = '''
def augment(images, rng):
    images = helpers.shift_images(images, 2, rng)
    flip = rng.random(len(images)) < 0.5
    images[flip] = images[flip, :, ::-1]
    for i in np.flatnonzero(rng.random(len(images)) < 0.5):
        height, width = rng.integers(4, 11, size=2)
        top, left = rng.integers(0, 28 - height + 1), rng.integers(0, 28 - width + 1)
        images[i, top:top + height, left:left + width] = 0.0
    return images
'''


def worker(model_name: str, setting: dict[str, object], steps: int) -> dict[str, object]:
    """Time epochs of ``steps`` training steps of ``model_name`` under ``setting``, after a warm-up epoch."""
    os.environ["COURSE_KERAS_DEFAULTS"] = "0"
    import numpy as np

    import helpers
    from helpers import execution

    keras = helpers.environment._import_keras()
    fused = bool(setting["fused_batch_norm"])
    execution.execution_settings.cache_clear()
    forced = execution.ExecutionSettings(int(setting["steps_per_execution"]), setting["jit_compile"],
                                         str(setting["precision"]), fused, "./course bench")
    execution.execution_settings = lambda: forced  # the builders' BatchNormalization follows the setting
    keras.mixed_precision.set_global_policy(str(setting["precision"]))
    # Seeded, but without TensorFlow's op determinism (helpers.set_seed turns it on): with it,
    # Keras silently falls back from XLA, so jit_compile=True would time no XLA at all.
    keras.utils.set_random_seed(0)
    builder, _, _ = MODELS[model_name]
    model = eval(builder, {"helpers": helpers})
    if model_name == "dense_512":
        shape = (steps * BATCH_SIZE, 784)
    else:
        shape = (steps * BATCH_SIZE, 28, 28, 1)
    rng = np.random.default_rng(0)
    x = rng.random(shape, dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **forced.compile_options)
    pipeline = setting["pipeline"]
    if pipeline == "shifted_batches":
        data = (helpers.shifted_batches(x, y, batch_size=BATCH_SIZE, seed=0), None)
    elif pipeline == "transformed_batches":
        scope = {"helpers": helpers, "np": np}
        exec(_AUGMENT_05, scope)
        data = (helpers.transformed_batches(x, y, scope["augment"], batch_size=BATCH_SIZE, seed=0), None)
    else:
        data = (x, y)
    timer = helpers.epoch_timer()
    fit_options = {"batch_size": BATCH_SIZE} if data[1] is not None else {}
    model.fit(*data, epochs=1 + TIMED_EPOCHS, callbacks=[timer], verbose=0, shuffle=True, **fit_options)
    timed = timer.epoch_seconds[1:]
    seconds = min(timed) * EPOCH_IMAGES / (steps * BATCH_SIZE)  # the least disturbed of the timed epochs
    return {"seconds_per_epoch": seconds, "warm_up_seconds": timer.epoch_seconds[0],
            "timed_epochs_seconds": timed,
            "train_gflop_per_epoch": training_flops(model) * EPOCH_IMAGES / 1e9}


def training_flops(model) -> float:
    """Floating-point operations of one training step per image: 3x the forward pass's multiply-adds x 2.

    Counts convolutions and dense layers only (everything else is small next to them);
    the backward pass costs about twice the forward one.
    """
    forward = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            forward += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif kind == "Conv2D":
            height, width = layer.output.shape[1:3]
            *window, c_in, c_out = layer.kernel.shape
            forward += 2 * height * width * window[0] * window[1] * c_in * c_out
    return 3.0 * forward


def matmul_peak(precision: str, size: int = 2048) -> float:
    """GFLOP/s of a ``size`` x ``size`` matrix product in ``precision``, the best of 5 timed runs."""
    import helpers

    keras = helpers.environment._import_keras()
    ops = keras.ops
    a = ops.ones((size, size), dtype=precision)
    b = ops.ones((size, size), dtype=precision)
    # NumPy has no bfloat16: the one number brought back (which waits for the product) is cast to float32.
    ops.convert_to_numpy(ops.cast(ops.sum(ops.matmul(a, b)), "float32"))  # warm up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        ops.convert_to_numpy(ops.cast(ops.sum(ops.matmul(a, b)), "float32"))
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


# ------------------------------------------------------------ the parent: machine, processes, table


def _in_fresh_process(call: str, timeout: float) -> dict[str, object]:
    code = f"import json, sys; sys.path.insert(0, {str(REPOSITORY)!r}); from course_tools import bench; " \
           f"print('BENCH ' + json.dumps({call}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=REPOSITORY, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise RuntimeError(" / ".join(tail) or f"exit status {done.returncode}")


def machine_info() -> dict[str, object]:
    """The device that trains, the instruction sets that matter for speed, and the versions."""
    info = _in_fresh_process("bench.describe_machine()", timeout=300)
    from helpers.execution import cpu_flags

    flags = cpu_flags()
    info.update({"cores": os.cpu_count(), "platform": f"{platform.system()} {platform.machine()}",
                 "avx2": "avx2" in flags, "avx512f": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags,
                 "amx_bf16": "amx_bf16" in flags})
    return info


def describe_machine() -> dict[str, object]:
    import helpers
    from helpers import execution

    keras = helpers.environment._import_keras()
    info = {"device": helpers.device_description(), "keras": keras.__version__, "backend": keras.backend.backend()}
    if info["backend"] == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    elif info["backend"] == "jax":
        import jax

        info["jax"] = jax.__version__
    chosen = execution.execution_settings()
    info["chosen"] = {**chosen.record()}
    info["gpu"] = bool(helpers.environment.gpu_names())
    return info


def run_bench(models: list[str], *, steps: int, json_path: Path | None, include_emulated: bool) -> int:
    """Measure, print the table, write ``json_path``; 0 when every setting ran."""
    started = time.perf_counter()
    print("Reading the machine...", flush=True)
    machine = machine_info()
    chosen = machine.pop("chosen")
    from helpers.execution import native_bfloat16

    bfloat16_native = machine["gpu"] or native_bfloat16()
    print(f"Device: {machine['device']}; Keras {machine['keras']} on {machine['backend']}; "
          f"AVX512_BF16 {'yes' if machine['avx512_bf16'] else 'no'}, AMX-BF16 {'yes' if machine['amx_bf16'] else 'no'}")
    print(f"Chosen by helpers.execution_settings(): {chosen['reason']}", flush=True)
    peaks: dict[str, float] = {}
    for precision in ("float32", "bfloat16"):
        if precision == "bfloat16" and not (bfloat16_native or include_emulated):
            continue
        peaks[precision] = _in_fresh_process(f"bench.matmul_peak({precision!r})", timeout=600)
        print(f"matmul peak, {precision}: {peaks[precision]:.0f} GFLOP/s", flush=True)
    rows: list[dict[str, object]] = []
    failures = 0
    plan = [(model, setting) for model in models for setting in settings_for(model, chosen)]
    for index, (model, setting) in enumerate(plan, start=1):
        row: dict[str, object] = {"model": model, "label": setting.label, "settings": setting.as_dict(),
                                  "chosen": setting.chosen}
        skip = None
        if "bfloat16" in setting.needs and not (bfloat16_native or include_emulated):
            skip = "no native bfloat16 on this CPU (TensorFlow would emulate it, many times slower)"
        elif "tensorflow" in setting.needs and machine["backend"] != "tensorflow":
            skip = "the fused kernel is TensorFlow's"
        if skip:
            row["skipped"] = skip
        else:
            try:
                row.update(_in_fresh_process(f"bench.worker({model!r}, {setting.as_dict()!r}, {steps})", 1800))
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                row["error"] = str(error)
                failures += 1
        rows.append(row)
        shown = (f"{row['seconds_per_epoch']:7.1f} s" if "seconds_per_epoch" in row
                 else f"skipped: {row.get('skipped') or row.get('error')}")
        print(f"[{index:>2}/{len(plan)}] {model:<20} {setting.label:<34} {shown}", flush=True)
    report = summarize(machine, peaks, rows, chosen)
    print()
    print(format_table(report))
    print(f"\n{len(plan)} settings in {time.perf_counter() - started:.0f} s, each in its own process.")
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"Wrote {json_path}")
    return 1 if failures else 0


def summarize(machine: dict, peaks: dict, rows: list[dict], chosen: dict) -> dict[str, object]:
    """The JSON report: machine, peaks, rows, the chosen settings per model and their speed-up."""
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        if "seconds_per_epoch" in row:
            peak = peaks.get("bfloat16" if "bfloat16" in row["settings"]["precision"] else "float32")
            if peak:
                row["fraction_of_peak"] = row["train_gflop_per_epoch"] / row["seconds_per_epoch"] / peak
        by_model.setdefault(row["model"], []).append(row)
    chosen_settings, speedup, fastest = {}, {}, {}
    for model, model_rows in by_model.items():
        timed = [row for row in model_rows if "seconds_per_epoch" in row]
        pipeline = MODELS[model][2]
        chosen_row = next((row for row in timed if row["chosen"] and row["settings"]["pipeline"] == pipeline), None)
        default_row = next((row for row in timed if row["label"] == ("Keras defaults" if pipeline == "arrays"
                                                                      else f"Keras defaults, {pipeline}")), None)
        if chosen_row:
            chosen_settings[model] = chosen_row["settings"]
        if chosen_row and default_row:
            speedup[model] = default_row["seconds_per_epoch"] / chosen_row["seconds_per_epoch"]
        arrays = [row for row in timed if row["settings"]["pipeline"] == "arrays"]
        if arrays:
            best = min(arrays, key=lambda row: row["seconds_per_epoch"])
            mine = next((row for row in arrays if row["chosen"]), None)
            fastest[model] = {"label": best["label"], "seconds_per_epoch": best["seconds_per_epoch"],
                              "chosen_over_fastest": mine["seconds_per_epoch"] / best["seconds_per_epoch"]
                              if mine else None}
    return {"machine": machine, "peak_gflops": peaks, "rows": rows, "chosen": chosen_settings,
            "speedup": speedup, "fastest": fastest, "chosen_reason": chosen["reason"],
            "epoch": {"images": EPOCH_IMAGES, "batch_size": BATCH_SIZE}}


def format_table(report: dict) -> str:
    lines = [f"Seconds per {EPOCH_IMAGES:,}-image epoch at batch {BATCH_SIZE} on {report['machine']['device']}",
             f"{'model':<20} {'setting':<36} {'s/epoch':>8} {'of peak':>8}"]
    for row in report["rows"]:
        if "seconds_per_epoch" in row:
            peak = f"{row['fraction_of_peak']:.1%}" if "fraction_of_peak" in row else ""
            value = f"{row['seconds_per_epoch']:8.1f} {peak:>8}"
        else:
            value = f"  {row.get('skipped') or 'error: ' + row['error']}"
        mark = "*" if row["chosen"] else " "
        lines.append(f"{row['model']:<20}{mark}{row['label']:<36} {value}")
    lines.append("* = the chosen settings (helpers.execution_settings)")
    for model, ratio in report["speedup"].items():
        fastest = report["fastest"].get(model, {})
        over = fastest.get("chosen_over_fastest")
        lines.append(f"{model}: chosen {ratio:.2f}x faster than Keras's defaults (notebook's pipeline); "
                     f"fastest measured: {fastest.get('label')}"
                     + (f", the chosen settings take {over:.2f}x its time" if over else ""))
    return "\n".join(lines)


# ------------------------------------------------------------ the same results? Accuracy under both settings


def accuracy_worker(model_name: str, defaults: bool, seed: int, epochs: int, images: int) -> dict[str, object]:
    """MNIST test accuracy of ``model_name`` trained with Keras's defaults or the chosen settings (one seed)."""
    os.environ["COURSE_KERAS_DEFAULTS"] = "1" if defaults else "0"
    import helpers

    (x_train, y_train), (x_test, y_test), _ = helpers.load_dataset("mnist")
    shape = (-1, 784) if model_name == "dense_512" else (-1, 28, 28, 1)
    x_train = (x_train[:images] / 255.0).astype("float32").reshape(shape)
    x_test = (x_test / 255.0).astype("float32").reshape(shape)
    settings = helpers.use_execution_settings()  # sets the chosen precision as Keras's global policy
    helpers.set_seed(seed)
    model = eval(MODELS[model_name][0], {"helpers": helpers})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **settings.compile_options)
    model.fit(x_train, y_train[:images], epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    scores = model.evaluate(x_test, y_test, batch_size=1024, verbose=0, return_dict=True)
    return {"test_accuracy": float(scores["accuracy"]), "settings": settings.summary()}


def run_accuracy_check(models: list[str], *, seeds: int, epochs: int, images: int) -> int:
    """Train each model over ``seeds`` seeds with Keras's defaults and with the chosen settings; compare."""
    import statistics

    print(f"MNIST, {images:,} training images, {epochs} epochs, batch {BATCH_SIZE}, Adam; test accuracy on "
          f"10,000 images; seeds 0-{seeds - 1}; each run in its own process")
    for model in models:
        accuracies = {}
        for label, defaults in (("Keras defaults", True), ("chosen settings", False)):
            accuracies[label] = [
                _in_fresh_process(f"bench.accuracy_worker({model!r}, {defaults}, {seed}, {epochs}, {images})",
                                  timeout=3600)["test_accuracy"] for seed in range(seeds)]
            values = accuracies[label]
            print(f"{model:<20} {label:<16} " + " ".join(f"{v:.4f}" for v in values)
                  + f"   mean {statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}", flush=True)
        difference = statistics.mean(accuracies["chosen settings"]) - statistics.mean(accuracies["Keras defaults"])
        spread = max(statistics.stdev(values) for values in accuracies.values())
        verdict = "within" if abs(difference) <= spread else "OUTSIDE"
        print(f"{model:<20} difference of the means {difference:+.4f}: {verdict} the larger seed spread ({spread:.4f})")
    return 0
