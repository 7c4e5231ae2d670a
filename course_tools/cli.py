"""The command line behind ``./course run|params|compare|quick-reference|compat|bench|format`` (also ``python -m course_tools``).

Paths typed on the command line are relative to the directory they were typed in,
although ``./course`` runs this from the repository root (see ``runner.caller_path``).
A request that cannot be carried out ends with one ``course: ...`` line and exit
status 2; Ctrl-C with exit status 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import compat, quick_reference, reference, runner
from .runner import CourseError, caller_path


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    return value


def _run(args: argparse.Namespace) -> int:
    return runner.run_course(args.notebooks, notebook_dir=args.notebook_dir, fixed=args.p,
                             each=args.each, quick=args.quick, runs_dir=args.output)


def _params(args: argparse.Namespace) -> int:
    return runner.show_parameters(args.notebooks, args.notebook_dir)


def _compare(args: argparse.Namespace) -> int:
    low, high = args.time_ratio
    if low >= high:
        raise CourseError(f"--time-ratio {low:g} {high:g}: LOW must be below HIGH")
    tolerances = reference.Tolerances(accuracy=args.accuracy_tolerance, time_ratio=(low, high))
    return reference.compare_runs(args.run_dir, args.reference, tolerances, force=args.force)


def _quick_reference(args: argparse.Namespace) -> int:
    return quick_reference.record_reference(args.run_dirs, args.reference)


def _compat(args: argparse.Namespace) -> int:
    return compat.run_compat(args.checks, colab=args.colab_dir, fresh=args.fresh)


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    unknown = sorted(set(args.models) - set(bench.MODELS))
    if unknown:
        raise CourseError(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(bench.MODELS)}")
    if args.steps < 64 or args.steps % 64:
        raise CourseError(f"--steps {args.steps}: give a multiple of 64 (the largest steps_per_execution timed), "
                          "for example 64 (the default) or 128")
    models = args.models or list(bench.MODELS)
    if args.accuracy:
        if args.seeds < 2:
            raise CourseError(f"--seeds {args.seeds}: give at least 2 (a spread needs two runs)")
        return bench.run_accuracy_check(args.models or ["keras_io_convnet", "course_convnet"], seeds=args.seeds,
                                        epochs=args.epochs, images=args.images)
    return bench.run_bench(models, steps=args.steps, json_path=args.json, include_emulated=args.emulated_bfloat16)


def format_notebooks(argv: list[str]) -> int:
    """``./course format [--check] [PATHS...]``: course_tools.notebook_format, from the caller's directory."""
    from .notebook_format import main as format_main

    os.chdir(caller_path("."))
    return format_main(argv)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command except ``format``, whose arguments belong to notebook_format."""
    parser = argparse.ArgumentParser(
        prog="course", description="Run the course notebooks headless, compare their results "
                                   "with the reference, check them in Colab's runtimes, format the "
                                   "stored notebooks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    notebook_dir = argparse.ArgumentParser(add_help=False)
    notebook_dir.add_argument("--notebook-dir", type=caller_path, default=runner.NOTEBOOK_DIR,
                              help="folder of the numbered notebooks (default: the course's notebooks/)")

    run = commands.add_parser("run", parents=[notebook_dir], help="execute notebooks headless and "
                              "print their results", description=runner.__doc__.split("\n\n")[0])
    run.add_argument("notebooks", nargs="*", help="numbers or stems (default: all), e.g. 01 03")
    run.add_argument("--quick", action="store_true",
                     help="quick mode (COURSE_QUICK=1, also when already set): small data, few epochs")
    run.add_argument("-p", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter in every notebook that has it (repeatable); "
                          "-p RESULTS_DIR=FOLDER puts the results files there")
    run.add_argument("--each", action="append", default=[], metavar="NAME=V1,V2",
                     help="run once per value (repeatable: runs every combination)")
    run.add_argument("--output", type=caller_path, default=runner.RUNS_DIR,
                     help="folder for run folders (default: runs/ in the repository)")
    run.set_defaults(handler=_run)

    params = commands.add_parser("params", parents=[notebook_dir],
                                 help="list the parameters of notebooks")
    params.add_argument("notebooks", nargs="*", help="numbers or stems (default: all)")
    params.set_defaults(handler=_params)

    compare = commands.add_parser("compare", help="compare a run's results with the reference",
                                  description=reference.__doc__.split("\n\n")[0])
    compare.add_argument("run_dir", type=caller_path, metavar="RUN_DIR",
                         help="a run folder (searched recursively for results files) or one results file")
    compare.add_argument("--reference", type=caller_path, default=reference.REFERENCE_DIR,
                         help="folder of <notebook>.json reference results (default: reference/)")
    compare.add_argument("--accuracy-tolerance", type=_non_negative, default=0.01, metavar="ABS",
                         help="largest accepted |new - reference| of an accuracy (default: 0.01); a mean "
                              "over seeds with its spread recorded may move by 3 of its per-seed "
                              "standard deviations when that is more")
    compare.add_argument("--time-ratio", type=_positive, nargs=2, default=(0.5, 2.0),
                         metavar=("LOW", "HIGH"),
                         help="flag times whose ratio new/reference is outside this (default: 0.5 2)")
    compare.add_argument("--force", action="store_true",
                         help="compare even a quick run or another training budget with the reference")
    compare.set_defaults(handler=_compare)

    quick = commands.add_parser(
        "quick-reference", help="record the quick-mode reference that ./course test checks",
        description=quick_reference.__doc__.split("\n\n")[0] + " Record it from quick runs at the "
        "defaults and at 3 or more other seeds, e.g. ./course run --quick --output q; "
        "./course run --quick --output q --each SEED=101,102,103; ./course quick-reference q")
    quick.add_argument("run_dirs", type=caller_path, nargs="+", metavar="RUN_DIR",
                       help="run folders of quick runs (searched recursively for results files)")
    quick.add_argument("--reference", type=caller_path, default=quick_reference.QUICK_REFERENCE_DIR,
                       help="folder to write <notebook>.json into (default: reference/quick/)")
    quick.set_defaults(handler=_quick_reference)

    check = commands.add_parser(
        "compat", help="check the course in Colab's runtimes (and with the JAX backend)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=compat.__doc__.split("\n\n")[0] + "\n\nchecks (default: "
                    + " ".join(compat.DEFAULT_CHECKS) + "):\n" + compat.describe_checks())
    check.add_argument("checks", nargs="*", metavar="CHECK",
                       help=f"which checks, from {', '.join(compat.CHECKS)} (default: "
                            f"{' '.join(compat.DEFAULT_CHECKS)})")
    check.add_argument("--colab-dir", type=caller_path, default=None, metavar="DIR",
                       help=f"folder of Colab's constraints files (default: ${compat.COLAB_DIR_VARIABLE}, "
                            "else ../shared/colab beside the repository)")
    check.add_argument("--fresh", action="store_true",
                       help="rebuild the environments in .compat/ instead of reusing them")
    check.set_defaults(handler=_compat)

    from .bench import MODELS

    measure = commands.add_parser("bench", help="seconds per epoch of the course's models under each "
                                  "execution setting, each in its own process",
                                  description=__import__("course_tools.bench").bench.__doc__.split("\n\n")[0])
    measure.add_argument("models", nargs="*", metavar="MODEL",
                         help=f"which models (default: all): {', '.join(MODELS)}")
    measure.add_argument("--json", type=caller_path, default=None, metavar="FILE",
                         help="also write the machine, the peaks, every row and the chosen settings to FILE")
    measure.add_argument("--steps", type=int, default=64,
                         help="training steps per timed epoch, a multiple of 64 (3 timed epochs after a warm-up "
                              "one; default: 64)")
    measure.add_argument("--emulated-bfloat16", action="store_true",
                         help="also time bfloat16 on a CPU without native bfloat16 (slow)")
    measure.add_argument("--accuracy", action="store_true",
                         help="instead: MNIST test accuracy with Keras's defaults and with the chosen settings, "
                              "over --seeds seeds (default models: keras_io_convnet course_convnet)")
    measure.add_argument("--seeds", type=int, default=3, help="seeds per setting with --accuracy (default: 3)")
    measure.add_argument("--epochs", type=int, default=3, help="epochs per run with --accuracy (default: 3)")
    measure.add_argument("--images", type=int, default=20_000,
                         help="MNIST training images per run with --accuracy (default: 20,000)")
    measure.set_defaults(handler=_bench)

    # Listed for the help only: main() hands "format ..." to notebook_format unparsed.
    commands.add_parser("format", add_help=False,
                        help="format the stored notebooks in place (--check only reports)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["format"]:
            return format_notebooks(argv[1:])
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except CourseError as error:
        print(f"course: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ncourse: interrupted", file=sys.stderr)
        return runner.INTERRUPTED_STATUS
    except BrokenPipeError:  # piped into a reader that stopped early, e.g. `./course params | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
