"""Verified, offline-capable loading of MNIST and Fashion-MNIST.

The course runs in classrooms and CI machines without internet, so the loader
looks for each of the four official IDX files in several places, in order:

1. the cache folder ``<cache_dir>/<dataset>/``,
2. a mirror folder ``<mirror_dir>/<dataset>/`` (``COURSE_DATA_MIRROR``),
3. known system folders (Debian's ``dataset-fashion-mnist`` package),
4. the published download mirrors.

In a folder either the uncompressed file or its ``.gz`` is accepted. Whatever
the source, a file is used only if the SHA-256 of its *uncompressed* content
matches the published value and its IDX structure is exactly as expected, so
recompressed copies are accepted while truncated, corrupted or tampered files
are never used (a bad file in the cache is moved aside to ``<file>.corrupt``).
The verified uncompressed file is kept in the cache so that later loads only
read and hash it, which takes a fraction of the time of gunzipping.

A download that cannot finish is abandoned rather than left to hang a notebook:
each read waits at most ``_DOWNLOAD_TIMEOUT_S`` and the whole file at most about
``_DOWNLOAD_DEADLINE_S``. A full disk is reported as such, naming where.

The IDX files are parsed with NumPy; no deep-learning framework is imported.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import math
import os
import struct
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._files import write_atomically

__all__ = [
    "CLASS_NAMES",
    "DATASET_NAMES",
    "CorruptFileWarning",
    "DatasetError",
    "IDXFormatError",
    "default_cache_dir",
    "load_dataset",
    "read_idx",
]

DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion_mnist")

CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}

CACHE_ENV_VAR = "COURSE_DATA_CACHE"
MIRROR_ENV_VAR = "COURSE_DATA_MIRROR"

_DOWNLOAD_TIMEOUT_S = 30  # the longest wait for any one read from the server
_DOWNLOAD_DEADLINE_S = 600  # the longest one file may take: a trickling server must not hang
_DOWNLOAD_CHUNK_BYTES = 1 << 20
_USER_AGENT = "dl-course-data-loader/1.0 (Python urllib)"
_IDX_UBYTE = 0x08
# Write failures that mean "no room here" (a full disk, or a used-up quota on a shared machine).
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Cache paths found to be folders: each is reported once per Python session, not on every load.
_FOLDERS_REPORTED: set[Path] = set()


class DatasetError(RuntimeError):
    """No source had a good copy of a dataset file.

    The message lists every place tried, why each failed, and how to fix it.
    """


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (or not a valid gzip of one).

    The message starts with the file's path (or URL) and says what is wrong.
    """


class CorruptFileWarning(UserWarning):
    """A bad file (named in the message, with the reason) was found and skipped."""


class _ChecksumMismatchError(ValueError):
    """Well-formed IDX content whose SHA-256 differs from the published one."""


class _UnavailableError(Exception):
    """A source does not have the file (not found, HTTP error, network failure)."""


class _DiskFullError(Exception):
    """A download could not be written: the disk (or quota) holding the named file is full.

    Every later source would be downloaded to the same place, so the search stops here.
    """


@dataclass(frozen=True)
class _IDXFile:
    """One official file: its uncompressed name, array shape and SHA-256."""

    name: str
    shape: tuple[int, ...]
    sha256: str


def _official_files(
    train_images: str, train_labels: str, test_images: str, test_labels: str
) -> tuple[_IDXFile, ...]:
    """The four files of an MNIST-format dataset, given their SHA-256 digests."""
    return (
        _IDXFile("train-images-idx3-ubyte", (60000, 28, 28), train_images),
        _IDXFile("train-labels-idx1-ubyte", (60000,), train_labels),
        _IDXFile("t10k-images-idx3-ubyte", (10000, 28, 28), test_images),
        _IDXFile("t10k-labels-idx1-ubyte", (10000,), test_labels),
    )


_FILES: dict[str, tuple[_IDXFile, ...]] = {
    "mnist": _official_files(
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
    "fashion_mnist": _official_files(
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}

_URLS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    "fashion_mnist": (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
}

# Folders that directly hold the files (no <dataset>/ level). Debian recompressed
# its .gz files, which is fine: only the uncompressed content is checked.
_SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "mnist": (),
    "fashion_mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}


@dataclass(frozen=True)
class _Mirror:
    """The mirror root: which setting named it, as typed, and as resolved (absolute)."""

    setting: str  # "COURSE_DATA_MIRROR" or "mirror_dir"
    given: str
    root: Path


@dataclass(frozen=True)
class _Places:
    """Where to look for one dataset's files, resolved from load_dataset's arguments."""

    dataset: str
    cache: Path  # <cache_dir>/<dataset>
    folders: tuple[Path, ...]  # mirror folder, then system folders
    urls: tuple[str, ...]
    mirror: _Mirror | None  # None when no mirror is set
    progress: bool


@dataclass(frozen=True)
class _Source:
    """One place that may hold a file: a label for messages and a way to fetch it."""

    label: str
    fetch: Callable[[], bytearray]  # uncompressed content
    path: Path | None = None  # the local file, if any


# --------------------------------------------------------------------------- API


def default_cache_dir() -> Path:
    """Return the folder where verified uncompressed files are cached.

    ``COURSE_DATA_CACHE`` wins if set; otherwise the repository's ``data_cache/``
    when this package runs from a checkout that has one (so a classroom can
    pre-fill it), else ``~/.cache/dl-course-data``.
    """
    from_env = os.environ.get(CACHE_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    repo_cache = Path(__file__).resolve().parent.parent / "data_cache"
    if repo_cache.is_dir():
        return repo_cache
    return Path.home() / ".cache" / "dl-course-data"


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file (``.gz`` or uncompressed) into a writable uint8 array.

    The structure is validated (magic number, unsigned-byte type, exact size)
    so that a truncated or foreign file fails loudly with an IDXFormatError
    naming the file, instead of yielding garbage.
    """
    path = Path(path)
    return _parse_idx(_read_uncompressed(path), str(path))


def load_dataset(
    name: str,
    *,
    cache_dir: str | Path | None = None,
    mirror_dir: str | Path | None = None,
    system_dirs: Sequence[str | Path] | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], list[str]]:
    """Load a verified dataset: ``(x_train, y_train), (x_test, y_test), class_names``.

    Arrays are writable uint8: images (N, 28, 28), labels (N,), with N = 60000
    for training and 10000 for test. Each file is searched for in the cache,
    ``mirror_dir``, ``system_dirs`` and then downloaded from ``urls`` (base
    URLs, tried in turn); ``None`` means the defaults described in the module
    docstring. A relative ``mirror_dir`` (or ``COURSE_DATA_MIRROR``) is resolved
    from the current folder, which in a notebook is the notebook's own folder:
    give an absolute path.

    Bad files are skipped with a CorruptFileWarning; a DatasetError explains what
    was tried and how to fix it when no source works (including a mirror folder
    that is missing or lacks its ``<dataset>/`` level), or when a download finds
    the disk full. A folder sitting where a cache file belongs does not stop the
    load: the file comes from the next source, and a single warning per Python
    session names the folder to remove (until then every load fetches the file
    again). A cache that cannot be written otherwise is a warning on each load.
    """
    places = _resolve_places(name, cache_dir, mirror_dir, system_dirs, urls, progress)
    arrays = []
    for spec in _FILES[name]:  # a plain loop keeps warning stack levels pointing at the caller
        arrays.append(_load_file(spec, places))
    x_train, y_train, x_test, y_test = arrays
    return (x_train, y_train), (x_test, y_test), list(CLASS_NAMES[name])


# ----------------------------------------------------------- search and verify


def _resolve_places(
    name: str,
    cache_dir: str | Path | None,
    mirror_dir: str | Path | None,
    system_dirs: Sequence[str | Path] | None,
    urls: Sequence[str] | None,
    progress: bool,
) -> _Places:
    """Validate the dataset name and fill in the default locations."""
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    cache_root = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    mirror = _resolve_mirror(mirror_dir)
    systems = _SYSTEM_DIRS[name] if system_dirs is None else tuple(Path(d) for d in system_dirs)
    return _Places(
        dataset=name,
        cache=cache_root / name,
        folders=(*(() if mirror is None else (mirror.root / name,)), *systems),
        urls=_URLS[name] if urls is None else tuple(urls),
        mirror=mirror,
        progress=progress,
    )


def _resolve_mirror(mirror_dir: str | Path | None) -> _Mirror | None:
    """The mirror root from the argument, else ``COURSE_DATA_MIRROR``, made absolute.

    A relative path is resolved from the current folder; the path as typed is kept
    so that a failure can say so and name that folder (a notebook's current folder
    is the notebook's own, not the shell's).
    """
    if mirror_dir is not None:
        setting, given = "mirror_dir", str(mirror_dir)
    elif os.environ.get(MIRROR_ENV_VAR):
        setting, given = MIRROR_ENV_VAR, os.environ[MIRROR_ENV_VAR]
    else:
        return None
    return _Mirror(setting, given, Path(given).expanduser().absolute())


def _load_file(spec: _IDXFile, places: _Places) -> np.ndarray:
    """Return the verified array for one file from the first source that has a good copy."""
    cache_file = places.cache / spec.name
    tried: list[str] = []
    for source in _sources(spec, places):
        try:
            data = source.fetch()
            array = _parse_idx(data, source.label, spec.shape)
            _check_sha256(data, source.label, spec.sha256)
        except _UnavailableError as exc:
            tried.append(str(exc))
        except (IDXFormatError, _ChecksumMismatchError) as exc:
            tried.append(str(exc))
            _reject(source, exc, places.cache)
        except _DiskFullError as exc:
            raise DatasetError(_disk_full_message(source, places, exc)) from None
        else:
            if source.path != cache_file:
                _save_to_cache(data, cache_file)
            return array
    raise DatasetError(_failure_message(spec, places, tried))


def _sources(spec: _IDXFile, places: _Places) -> Iterator[_Source]:
    """Yield the candidate sources for one file, in search order."""
    for folder in (places.cache, *places.folders):
        for path in (folder / spec.name, folder / f"{spec.name}.gz"):
            yield _Source(str(path), partial(_read_local, path), path)
    for base in places.urls:
        url = base.rstrip("/") + f"/{spec.name}.gz"
        yield _Source(url, partial(_download, url, places.cache, places.progress))


def _reject(source: _Source, problem: Exception, cache: Path) -> None:
    """Warn about a bad file; if it lives in the cache, move it aside for good."""
    warnings.warn(
        CorruptFileWarning(f"{problem}; ignoring it and trying the next source"),
        stacklevel=4,
    )
    if source.path is not None and source.path.parent == cache:
        _move_aside(source.path)


def _check_sha256(data: bytearray, label: str, expected: str) -> None:
    """Raise _ChecksumMismatchError unless the uncompressed content has the published digest."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise _ChecksumMismatchError(
            f"{label}: checksum mismatch (sha256 of the uncompressed content is {actual}, "
            f"expected {expected})"
        )


def _parse_idx(
    data: bytearray, label: str, expected_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Validate IDX bytes and view them as a uint8 array (writable, no copy).

    Layout: two zero bytes, type code (0x08 = unsigned byte), number of
    dimensions, one big-endian uint32 per dimension, then the values.
    """
    if len(data) < 4:
        raise IDXFormatError(f"{label}: truncated: expected an IDX header, found {len(data)} bytes")
    if data[0] or data[1]:
        hint = " (it is still gzip-compressed)" if data[:2] == b"\x1f\x8b" else ""
        raise IDXFormatError(f"{label}: bad magic number 0x{data[:4].hex()}; not an IDX file{hint}")
    type_code, ndim = data[2], data[3]
    if type_code != _IDX_UBYTE:
        raise IDXFormatError(
            f"{label}: unsupported IDX data type 0x{type_code:02x}; only unsigned bytes (0x08)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXFormatError(
            f"{label}: truncated: expected a {header_size}-byte header, found {len(data)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_size])
    if expected_shape is not None and dims != expected_shape:
        raise IDXFormatError(f"{label}: wrong dimensions {dims}, expected {expected_shape}")
    expected_size = header_size + math.prod(dims)
    if len(data) != expected_size:
        problem = "truncated" if len(data) < expected_size else "extra data"
        raise IDXFormatError(
            f"{label}: {problem}: expected {expected_size} bytes, found {len(data)}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


# ------------------------------------------------------------- local files


def _read_local(path: Path) -> bytearray:
    """Read a file from a folder source, reporting a missing or unreadable file as unavailable."""
    try:
        return _read_uncompressed(path)
    except FileNotFoundError as exc:
        raise _UnavailableError(f"{path}: not found") from exc
    except OSError as exc:
        if path.is_dir():
            raise _UnavailableError(f"{path}: is a folder, not a file") from exc
        raise _UnavailableError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _read_uncompressed(path: Path) -> bytearray:
    """Return the uncompressed bytes of ``path``, gunzipping it if its name ends in .gz."""
    if path.name.endswith(".gz"):
        return _gunzip(path.read_bytes(), str(path))
    with path.open("rb") as file:
        data = bytearray(os.fstat(file.fileno()).st_size)
        del data[file.readinto(data) :]  # in case the file shrank meanwhile
    return data


def _gunzip(raw: bytes, label: str) -> bytearray:
    """Decompress gzip bytes into a mutable buffer, naming the source if that fails."""
    try:
        return bytearray(gzip.decompress(raw))
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise IDXFormatError(f"{label}: not a valid gzip file ({exc})") from exc


def _save_to_cache(data: bytearray, target: Path) -> None:
    """Atomically store verified bytes as ``target``; warn (only) if the cache is not writable.

    The data is already loaded, so a cache that cannot take it never fails the
    load. A folder in the file's place is reported once per session (it stays
    until someone removes it, and a warning on every load would only be noise).
    """
    if target.is_dir():
        if target not in _FOLDERS_REPORTED:
            _FOLDERS_REPORTED.add(target)
            warnings.warn(
                f"{target} is a folder, but the cache needs the file {target.name} there: "
                "remove that folder (the loader never deletes it). Until then every load "
                "reads the file from another source again, which is slower. "
                "(This warning is shown once per session.)",
                stacklevel=4,
            )
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
    except OSError as exc:
        if exc.errno in _DISK_FULL_ERRNOS:
            problem = f": the disk is full at {target.parent} ({exc.strerror})"
            fix = f" Free some space there, or set {CACHE_ENV_VAR} to a folder on another disk."
        else:
            problem, fix = f" ({exc})", ""
        warnings.warn(
            f"could not save {target} to the cache{problem}; the data was loaded, "
            f"but the next load will be slower.{fix}",
            stacklevel=4,
        )


def _move_aside(path: Path) -> None:
    """Rename a bad cache file to ``<file>.corrupt`` so it is kept but never used again."""
    try:
        os.replace(path, path.with_name(f"{path.name}.corrupt"))
    except FileNotFoundError:
        pass  # another process already moved it
    except OSError as exc:
        warnings.warn(f"could not move the bad cache file {path} aside ({exc})", stacklevel=5)


# --------------------------------------------------------------- downloads


def _download(url: str, part_dir: Path, progress: bool) -> bytearray:
    """Download a .gz into a unique ``.part`` file and return its uncompressed content.

    The ``.part`` file is always removed, so an interrupted download never
    leaves anything that looks like a complete file. A full disk while writing
    it raises _DiskFullError naming the file (the network is not to blame).
    """
    fd, part = _new_part_file(part_dir, url.rsplit("/", 1)[-1])
    try:
        with os.fdopen(fd, "wb") as sink:  # closing flushes: a full disk may show only here
            _stream(url, sink, progress)
        raw = part.read_bytes()
    except OSError as exc:
        if exc.errno in _DISK_FULL_ERRNOS:
            raise _DiskFullError(f"the disk is full at {part} ({exc.strerror})") from exc
        raise
    finally:
        part.unlink(missing_ok=True)
    return _gunzip(raw, url)


def _new_part_file(folder: Path, file_name: str) -> tuple[int, Path]:
    """Create a unique ``.part`` file in ``folder`` (the temp folder if it is not writable)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f"{file_name}.", suffix=".part")
    except OSError:
        fd, name = tempfile.mkstemp(prefix=f"{file_name}.", suffix=".part")
    return fd, Path(name)


def _stream(url: str, sink: BinaryIO, progress: bool) -> None:
    """Copy the body at ``url`` into ``sink``; raise _UnavailableError on any failed transfer.

    A full disk while writing to ``sink`` is not a failed transfer: that OSError
    propagates for the caller, which knows the file, to report.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    deadline = time.monotonic() + _DOWNLOAD_DEADLINE_S
    try:
        with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            expected = _content_length(response)
            received = _copy_with_progress(response, sink, expected, url, progress, deadline)
    except urllib.error.HTTPError as exc:
        raise _UnavailableError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _UnavailableError(f"{url}: cannot connect ({exc.reason})") from exc
    except (http.client.HTTPException, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            raise
        raise _UnavailableError(f"{url}: transfer interrupted ({exc!r})") from exc
    except ValueError as exc:
        raise _UnavailableError(f"{url}: invalid URL ({exc})") from exc
    if expected is not None and received != expected:
        raise _UnavailableError(
            f"{url}: transfer interrupted (received {received} of {expected} bytes)"
        )


def _content_length(response: http.client.HTTPResponse) -> int | None:
    """The announced body size, or None when the server did not send a usable one."""
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _copy_with_progress(
    response: http.client.HTTPResponse,
    sink: BinaryIO,
    total: int | None,
    url: str,
    progress: bool,
    deadline: float,
) -> int:
    """Copy the response in chunks with a progress bar; return the number of bytes copied.

    Each read returns whatever has arrived (``read1``), so a server that trickles
    a byte at a time is noticed: past ``deadline`` (a ``time.monotonic`` value)
    the download is abandoned with _UnavailableError.
    """
    # Imported here: tqdm.auto warns about missing notebook widgets at import time,
    # which only matters when there is a download to show.
    from tqdm.auto import tqdm

    received = 0
    with tqdm(
        total=total,
        desc=url.rsplit("/", 1)[-1],
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        leave=False,
    ) as bar:
        while chunk := response.read1(_DOWNLOAD_CHUNK_BYTES):
            sink.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
            if time.monotonic() > deadline and received != total:
                of_total = "" if total is None else f" of {total}"
                raise _UnavailableError(
                    f"{url}: gave up after {_DOWNLOAD_DEADLINE_S:g} s, the server is too slow "
                    f"(received {received}{of_total} bytes)"
                )
    return received


# ------------------------------------------------------------------ messages


def _failure_message(spec: _IDXFile, places: _Places, tried: list[str]) -> str:
    """Explain which places were tried for a file, why each failed, and how to fix it."""
    dataset = places.dataset
    primary, *others = _URLS[dataset]
    mirror_note = (
        f" ({MIRROR_ENV_VAR} is not set, so no mirror folder)" if places.mirror is None else ""
    )
    problems = () if places.mirror is None else _mirror_problems(places.mirror, dataset)
    lines = [
        f"Could not load {dataset!r}: no source had a good copy of {spec.name}.",
        f"Places tried{mirror_note}:",
        *(f"  - {entry}" for entry in tried),
        *(f"Problem with the mirror folder: {problem}" for problem in problems),
        "How to fix it (any one of these):",
        "  1. Download these files:",
        *(f"       {primary}{f.name}.gz" for f in _FILES[dataset]),
        *(f"     (also available under {base})" for base in others),
        f"     and put them (as .gz or uncompressed) in {places.cache}{os.sep}",
        f"  2. Or set {MIRROR_ENV_VAR} to a folder laid out as <folder>/{dataset}/<file>.gz",
        "     (for example a shared drive or USB stick holding the official files),",
        "     given as an absolute path.",
        "  3. Or connect to the internet and run again: the files download and cache themselves.",
    ]
    return "\n".join(lines)


def _mirror_problems(mirror: _Mirror, dataset: str) -> list[str]:
    """What is wrong with how the mirror folder is given or laid out, in plain words.

    A mirror that is missing, relative, or one level too high or too low only
    shows up as "not found" entries, which do not say what to change.
    """
    problems = []
    if not Path(mirror.given).expanduser().is_absolute():
        problems.append(
            f"{mirror.setting} is the relative path {mirror.given!r}, resolved from the "
            f"current folder {Path.cwd()}: give an absolute path (a notebook's current "
            "folder is its own folder, not the one where you started Jupyter)."
        )
    root, expected = mirror.root, mirror.root / dataset
    if not root.is_dir():
        problems.append(f"{root} (from {mirror.setting}) does not exist or is not a folder.")
    elif not expected.is_dir():
        problems.append(
            f"{root} (from {mirror.setting}) has no {dataset}{os.sep} subfolder: "
            f"the files are expected in {expected}{os.sep}."
        )
        loose = [
            path.name
            for spec in _FILES[dataset]
            for path in (root / spec.name, root / f"{spec.name}.gz")
            if path.is_file()
        ]
        if loose:
            problems.append(
                f"the files lie directly in {root} ({', '.join(loose)}): move them into a "
                f"{dataset}{os.sep} subfolder, {expected}{os.sep} (MNIST and Fashion-MNIST "
                "files have the same names, so each dataset needs its own subfolder)."
            )
    return problems


def _disk_full_message(source: _Source, places: _Places, problem: _DiskFullError) -> str:
    """Explain that a download stopped because its disk is full, where, and how to make room."""
    dataset = places.dataset
    megabytes = math.ceil(sum(math.prod(spec.shape) for spec in _FILES[dataset]) / 1e6)
    return "\n".join(
        [
            f"Could not load {dataset!r}: {problem}, while downloading {source.label}.",
            f"Free some space on that disk, or set {CACHE_ENV_VAR} to a folder on a disk "
            f"with room (the {dataset} files take about {megabytes} MB), and run again.",
        ]
    )
