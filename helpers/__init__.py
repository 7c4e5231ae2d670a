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
from .params import ParameterError, boolean, check_parameters, choice, integer, list_of, number, text
from .plots import plot_class_counts, show_class_means, show_images
from .results import load_results, save_results

__all__ = [
    "CLASS_NAMES",
    "DATASET_NAMES",
    "CorruptFileWarning",
    "DatasetError",
    "IDXFormatError",
    "ParameterError",
    "boolean",
    "check_parameters",
    "choice",
    "describe_environment",
    "in_quick_mode",
    "integer",
    "list_of",
    "load_dataset",
    "load_results",
    "number",
    "plot_class_counts",
    "quick",
    "read_idx",
    "save_results",
    "set_seed",
    "show_class_means",
    "show_images",
    "text",
]
