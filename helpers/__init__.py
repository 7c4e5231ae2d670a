"""Shared helpers for the course notebooks: what every lesson needs but none is about.

A notebook shows what its lesson is about: the layers of a model, the call to
``compile`` and ``fit``, the comparison it makes. This package holds the rest.

Where code goes (one home for each kind; a function lives where its result belongs):

=================  ===================================================================
module             what lives there
=================  ===================================================================
``data``           datasets: verified, offline-capable loading, class names
``augment``        input pipelines that change images: random shifts, Keras random
                   layers in the pipeline (notebook 06), any NumPy transform
                   (notebook 05's flips and erased patches)
``models``         builders of models that *more than one* notebook trains, and tools
                   that read a model (``layer_table``); a model taught once is written
                   out in its notebook only
``training``       ``train`` (fit + clock), ``TrainingRun``, ``epoch_timer``
``experiments``    configurations compared over several seeds (notebooks 04-06):
                   ``train_grid``, the mean and spread of each variant, a
                   difference against its noise; the probes they use (early
                   stopping read off one long run, gradient norms)
``tensorboard``    TensorBoard logs read back as a table, and whether its UI can
                   show here (notebook 06)
``budget``         training budgets: the plans a notebook can train, their forecast
                   on this device from timed steps, and ``BUDGET="auto"``'s choice
``evaluation``     numbers and tables from trained models: metrics per split and
                   per class, comparison rows, the most confident mistakes; the
                   nearest-centroid yardstick (scikit-learn)
``plots``          every function that draws: it returns a matplotlib ``Figure``;
                   one module per family (``plots.images``, ``plots.curves``,
                   ``plots.predictions``, ``plots.model_drawings``,
                   ``plots.comparisons``)
``drawing``        a student's own drawing for an MNIST network: strokes, MNIST-style
                   preprocessing, the draw-a-digit pad (anywidget, imported lazily)
``environment``    versions, devices, seeding, quick mode; TensorFlow's start-up settings
                   (quiet logging, oneDNN), set before TensorFlow starts, and one line
                   when an installed GPU goes unused
``execution``      how training executes on this device: steps per execution, XLA,
                   precision, the fused BatchNormalization (``./course bench``
                   measures the choices)
``params``         the rules that check a notebook's parameters
``results``        the results file each notebook writes, and where it goes
=================  ===================================================================

Instructors' tools (the headless runner, the notebook formatter, the regression
reference) are not here: they live in ``course_tools/`` of the repository, which
Colab never installs.
"""

from .augment import shift_images, shifted_batches
from .data import (
    CLASS_NAMES,
    DATASET_NAMES,
    CorruptFileWarning,
    DatasetError,
    IDXFormatError,
    load_dataset,
    read_idx,
)
from .drawing import EmptyDrawingError, drawing_pad, naive_28x28, preprocess_drawing, read_drawing, render_strokes
from .environment import (
    check_restart,
    describe_environment,
    device_description,
    environment_info,
    in_quick_mode,
    quick,
    seconds_since_setup,
    set_seed,
)
from .execution import (
    ExecutionSettings,
    batch_normalization,
    check_output_precision,
    execution_settings,
    keras_defaults,
    use_execution_settings,
)
from .evaluation import comparison_row, evaluate, most_confident_errors, nearest_centroid, per_class_metrics
from .models import (
    course_convnet,
    dense_512,
    dense_textbook,
    fashion_convnet,
    keras_io_convnet,
    layer_table,
    report_final,
)
from .params import (
    ParameterError,
    boolean,
    check_parameters,
    choice,
    integer,
    list_of,
    number,
    optional,
    parse_literal,
    text,
    writable_folder,
)
from .plots.curves import plot_learning_curves
from .plots.images import plot_class_counts, show_class_means, show_images, show_signed_maps
from .plots.model_drawings import can_plot_model, draw_model
from .plots.predictions import (
    plot_confidence,
    plot_confident_errors,
    plot_confusion_matrices,
    plot_drawing_readings,
    plot_prediction,
    plot_prediction_grid,
)
from .results import load_results, results_folder, save_results
from .budget import BUDGET_CHOICES, TrainingBudget
from .training import TrainingRun, epoch_timer, train
from .augment import augmented_batches  # notebook 06
from .plots.images import plot_augmented_samples  # notebook 06
from .plots.curves import plot_histories, plot_tensorboard_scalars  # notebook 06
from .plots.comparisons import plot_mean_and_spread  # notebook 06
from .tensorboard import read_tensorboard_log, tensorboard_ui_problem  # notebook 06
from .experiments import compare_variants, difference_noise, effect_table, gradient_norms  # notebook 04
from .experiments import grid_results, noise_verdict, seeds_won, summarize_grid  # notebook 04
from .plots.comparisons import plot_comparison, plot_grid_curves  # notebook 04
from .experiments import FIT_KNOBS, GridRuns, early_stopping_epochs, time_limit, train_grid  # notebook 04
from .budget import MAX_MINUTES_RANGE, Runs, StepCost, forecast_seconds, measure_costs, planned_budget  # notebook 04
from .augment import transformed_batches  # notebook 05
from .plots.comparisons import plot_frontier  # notebook 05
from .plots.images import plot_occlusion_maps  # notebook 05

#: Lets a notebook's setup cell check that ``import helpers`` found this package
#: and not a student's own ``helpers.py``.
IS_COURSE_PACKAGE = True

__all__ = [
    "batch_normalization",
    "boolean",
    "BUDGET_CHOICES",
    "can_plot_model",
    "check_output_precision",
    "check_parameters",
    "check_restart",
    "choice",
    "CLASS_NAMES",
    "comparison_row",
    "CorruptFileWarning",
    "course_convnet",
    "DATASET_NAMES",
    "DatasetError",
    "dense_512",
    "dense_textbook",
    "describe_environment",
    "device_description",
    "draw_model",
    "drawing_pad",
    "EmptyDrawingError",
    "environment_info",
    "epoch_timer",
    "evaluate",
    "execution_settings",
    "ExecutionSettings",
    "fashion_convnet",
    "IDXFormatError",
    "in_quick_mode",
    "integer",
    "IS_COURSE_PACKAGE",
    "keras_defaults",
    "keras_io_convnet",
    "layer_table",
    "list_of",
    "load_dataset",
    "load_results",
    "most_confident_errors",
    "nearest_centroid",
    "naive_28x28",
    "number",
    "optional",
    "ParameterError",
    "parse_literal",
    "per_class_metrics",
    "plot_class_counts",
    "plot_confidence",
    "plot_confident_errors",
    "plot_confusion_matrices",
    "plot_drawing_readings",
    "plot_learning_curves",
    "plot_prediction",
    "plot_prediction_grid",
    "preprocess_drawing",
    "quick",
    "read_drawing",
    "read_idx",
    "render_strokes",
    "report_final",
    "results_folder",
    "save_results",
    "set_seed",
    "shift_images",
    "shifted_batches",
    # notebook 06
    "augmented_batches",
    "plot_augmented_samples",
    "plot_histories",
    "plot_mean_and_spread",
    "plot_tensorboard_scalars",
    "read_tensorboard_log",
    "tensorboard_ui_problem",
    "seconds_since_setup",
    "show_class_means",
    "show_images",
    "show_signed_maps",
    "text",
    "train",
    "TrainingBudget",
    "TrainingRun",
    "use_execution_settings",
    "writable_folder",
    # notebook 04
    "compare_variants",
    "difference_noise",
    "early_stopping_epochs",
    "effect_table",
    "FIT_KNOBS",
    "forecast_seconds",
    "gradient_norms",
    "grid_results",
    "GridRuns",
    "MAX_MINUTES_RANGE",
    "measure_costs",
    "noise_verdict",
    "plot_comparison",
    "plot_grid_curves",
    "planned_budget",
    "Runs",
    "seeds_won",
    "StepCost",
    "summarize_grid",
    "time_limit",
    "train_grid",
    # notebook 05
    "plot_frontier",
    "plot_occlusion_maps",
    "transformed_batches",
]
