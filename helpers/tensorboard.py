"""TensorBoard: its logs read back as a table, and whether its UI can show here (notebook 06).

Keras's ``TensorBoard`` callback writes event files; :func:`read_tensorboard_log` reads
them back, so that a notebook can plot and check what was logged where no TensorBoard UI
runs (headless runs, CI, stored outputs). :func:`tensorboard_ui_problem` says whether the
``%tensorboard`` magic can show its UI: it looks at the front end that started the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is made, not with helpers
    import pandas as pd


def _tfrecords(path) -> list[bytes]:
    """The records of one TFRecord file (TensorBoard's event file format), without CRC checks."""
    import struct

    records = []
    with open(path, "rb") as file:
        while header := file.read(12):  # uint64 length + uint32 CRC of the length
            if len(header) < 12:
                break
            (length,) = struct.unpack("<Q", header[:8])
            data = file.read(length)
            file.read(4)  # CRC of the data
            if len(data) < length:  # a file still being written ends mid-record
                break
            records.append(data)
    return records


def read_tensorboard_log(log_dir) -> pd.DataFrame:
    """Every value in the TensorBoard event files under ``log_dir``, as one table.

    One row per logged value: ``run`` (the sub-folder, e.g. ``train`` or ``validation``
    for Keras's ``TensorBoard`` callback), ``tag`` (``epoch_loss``, ...), ``kind`` (the
    TensorBoard dashboard it belongs to: ``scalars``, ``histograms``, ``images``, ``text``,
    ``graph``), ``step`` (Keras writes epoch values at step = epoch index, from 0) and
    ``value`` (the number for scalars, NaN for the other kinds).

    Why: headless runs and CI have no TensorBoard UI; reading the files back lets a
    notebook plot and check what was logged. It needs TensorFlow installed (its
    protocol buffers), as writing the logs does, whatever the Keras backend.
    """
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    root = Path(log_dir)
    rows = []
    for path in sorted(root.rglob("events.out.tfevents.*")):
        run = path.parent.relative_to(root).as_posix()
        for record in _tfrecords(path):
            event = event_pb2.Event.FromString(record)
            if event.graph_def:
                rows.append((run, "graph", "graph", event.step, np.nan))
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    rows.append((run, value.tag, "scalars", event.step, float(value.simple_value)))
                    continue
                kind = value.metadata.plugin_data.plugin_name or "tensor"
                number = float(tf.make_ndarray(value.tensor)) if kind == "scalars" else np.nan
                rows.append((run, value.tag, kind, event.step, number))
    return pd.DataFrame(rows, columns=["run", "tag", "kind", "step", "value"])


def _parent_command() -> str:
    """The command line of the process that started this one ('' when it cannot be read)."""
    import os
    import subprocess

    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        pass
    try:
        # -ww: the whole command line (without it ps cuts it at 80 columns when not on a terminal)
        return subprocess.run(["ps", "-ww", "-o", "command=", "-p", str(parent)], capture_output=True,
                              text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def tensorboard_ui_problem() -> str | None:
    """Why the ``%tensorboard`` notebook magic cannot show its UI here, or None when it can.

    The magic starts a TensorBoard server and embeds its page in the notebook: that
    needs the ``tensorboard`` package and a browser looking at the notebook (Colab, or
    a kernel started by Jupyter). In a headless run (papermill, nbval, ``./course run``)
    it would start a server that nobody sees and that outlives the run, so notebooks
    print one line instead. Unknown front ends count as headless: a skipped UI costs a
    line, a stray server costs a port.
    """
    import importlib.util
    import sys

    if importlib.util.find_spec("tensorboard") is None:
        return "the tensorboard package is not installed (pip install tensorboard)"
    if "google.colab" in sys.modules:
        return None
    if "ipykernel" not in sys.modules:
        return "not running in a notebook kernel"
    parent = _parent_command()
    if "jupyter" in parent and "nbconvert" not in parent:
        return None
    return "no notebook front end was found (a headless run: papermill, nbval or a script)"
