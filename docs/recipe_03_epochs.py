"""How long notebook 03's course convnet trains: its recipe at a given length, scored on the validation split.

Run from the repository root, one seed per process:

    .venv/bin/python docs/recipe_03_epochs.py EPOCHS SEED

It trains helpers.course_convnet exactly as notebook 03 does (AdamW with weight decay 1e-4,
a cosine-decayed learning rate from 0.003, random shifts of up to 2 pixels, batch 128, the
execution settings of helpers.use_execution_settings) on the first 54,000 training images
and prints one JSON line with the validation accuracy after every epoch, on the last
6,000 training images (notebook 03's validation split). The test set is never read.
"""
import json
import sys
import time

import numpy as np

import helpers

execution = helpers.use_execution_settings()
import keras  # noqa: E402  (after the execution settings, as in the notebooks)

epochs, seed = int(sys.argv[1]), int(sys.argv[2])
(images, labels), _, _ = helpers.load_dataset("mnist")
x = np.expand_dims(images.astype("float32") / 255.0, -1)
n_val = 6000
helpers.set_seed(seed)
model = helpers.course_convnet()
batches = helpers.shifted_batches(x[:-n_val], labels[:-n_val], batch_size=128, max_shift=2, seed=seed)
schedule = keras.optimizers.schedules.CosineDecay(0.003, decay_steps=epochs * len(batches))
model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
              metrics=["accuracy"], **execution.compile_options)
start = time.perf_counter()
run = helpers.train(model, batches, None, epochs=epochs, validation_data=(x[-n_val:], labels[-n_val:]), verbose=0)
print(json.dumps({"epochs": epochs, "seed": seed, "precision": execution.precision,
                  "val_accuracy": run.history["val_accuracy"], "seconds": round(time.perf_counter() - start, 1)}))
