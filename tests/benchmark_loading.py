"""Benchmark of dataset loading: cold (from the .gz mirror) and warm (verified cache).

Not a test (pytest does not collect it): timings depend on the machine, so they are
measured here and reported, never asserted. Run from the repository root:

    COURSE_DATA_MIRROR=/path/to/mirror python tests/benchmark_loading.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import helpers


def time_load(dataset: str, cache_dir: str, repeats: int) -> list[float]:
    """Seconds per ``load_dataset`` call, ``repeats`` times."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        helpers.load_dataset(dataset, cache_dir=cache_dir, progress=False)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="warm loads per dataset")
    args = parser.parse_args()
    print(f"{'dataset':14} {'cold (mirror)':>14} {'warm median':>12} {'warm max':>9}")
    for dataset in helpers.DATASET_NAMES:
        with tempfile.TemporaryDirectory() as cache:
            (cold,) = time_load(dataset, cache, 1)
            warm = time_load(dataset, cache, args.repeats)
        print(f"{dataset:14} {cold:13.3f}s {statistics.median(warm):11.3f}s {max(warm):8.3f}s")


if __name__ == "__main__":
    main()
