"""Shared helpers for the course notebooks: data, bookkeeping and plots.

The notebooks show what each lesson is about (the layers of a model, the call to
``fit``); these helpers hold what every lesson needs but none is about: verified
dataset loading, seeding, quick mode, parameter checks, results files and plots.
"""

from .data import (
    CLASS_NAMES,
    DATASET_NAMES,
    CorruptFileWarning,
    DatasetError,
    IDXFormatError,
    load_dataset,
    read_idx,
)
from .environment import describe_environment, in_quick_mode, quick, set_seed
from .evaluation import (
    can_plot_model,
    comparison_row,
    draw_model,
    evaluate,
    layer_table,
    most_confident_errors,
    per_class_metrics,
    plot_confident_errors,
    plot_confusion_matrices,
    plot_learning_curves,
    plot_prediction,
    plot_prediction_grid,
)
from .models import (
    build_model,
    course_convnet,
    dense_512,
    dense_textbook,
    keras_io_convnet,
    report_final,
    report_final_leaky,
    report_model1,
    report_model2,
    report_model3,
)
from .params import ParameterError, boolean, check_parameters, choice, integer, list_of, number, text
from .plots import plot_class_counts, show_class_means, show_images
from .results import load_results, save_results
from .training import TrainingRun, epoch_timer, shift_images, shifted_batches, train

__all__ = [
    "boolean",
    "build_model",
    "can_plot_model",
    "check_parameters",
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
    "draw_model",
    "epoch_timer",
    "evaluate",
    "IDXFormatError",
    "in_quick_mode",
    "integer",
    "keras_io_convnet",
    "layer_table",
    "list_of",
    "load_dataset",
    "load_results",
    "most_confident_errors",
    "number",
    "ParameterError",
    "per_class_metrics",
    "plot_class_counts",
    "plot_confident_errors",
    "plot_confusion_matrices",
    "plot_learning_curves",
    "plot_prediction",
    "plot_prediction_grid",
    "quick",
    "read_idx",
    "report_final",
    "report_final_leaky",
    "report_model1",
    "report_model2",
    "report_model3",
    "save_results",
    "set_seed",
    "shift_images",
    "shifted_batches",
    "show_class_means",
    "show_images",
    "text",
    "train",
    "TrainingRun",
]
