"""Tests for helpers.data: verified, offline-capable MNIST / Fashion-MNIST loading.

Real files come from an offline copy, never from the internet: ``$COURSE_DATA_MIRROR``
(laid out as ``<dataset>/<file>.gz``), else the shared mirror beside the repository
(``../shared/datasets``), else the repository's data_cache/ (only read); without
any, the tests that need them are skipped. Downloads are tested against loopback
servers, and any other network connection fails the test. Every test uses its own
temporary cache and never writes to the repository's data_cache/.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import shutil
import socket
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import helpers.data
from helpers.data import (
    CLASS_NAMES,
    CorruptFileWarning,
    DatasetError,
    IDXFormatError,
    default_cache_dir,
    load_dataset,
    read_idx,
)

FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
FILE_SIZES = dict(zip(FILE_NAMES, (47040016, 60008, 7840016, 10008), strict=True))
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
SKIPPED = "ignoring it and trying the next source"
ROOT = Path(__file__).resolve().parent.parent
# Read at import: the autouse _isolated_env fixture removes it from every test's environment.
CONFIGURED_MIRROR = os.environ.get("COURSE_DATA_MIRROR")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Loaded = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], list[str]]


def load(name: str = "mnist", **kwargs: object) -> Loaded:
    """load_dataset with every source switched off unless the test names it."""
    options: dict[str, object] = {
        "mirror_dir": None,
        "system_dirs": (),
        "urls": (),
        "progress": False,
    }
    options.update(kwargs)
    return load_dataset(name, **options)  # type: ignore[arg-type]


def assert_same_data(result: Loaded, reference: Loaded) -> None:
    (x_train, y_train), (x_test, y_test), names = result
    (rx_train, ry_train), (rx_test, ry_test), rnames = reference
    for got, expected in (
        (x_train, rx_train),
        (y_train, ry_train),
        (x_test, rx_test),
        (y_test, ry_test),
    ):
        assert got.dtype == np.uint8
        assert got.shape == expected.shape
        assert np.array_equal(got, expected)
    assert names == rnames


def leftovers(folder: Path) -> list[Path]:
    """Temporary or partial files anywhere under folder."""
    return [p for p in folder.rglob("*") if p.suffix in (".part", ".tmp")]


def seed_cache(cache: Path, verified: Path, *names: str) -> None:
    """Copy already verified files into a cache, so a test only pays for the files it is about."""
    (cache / "mnist").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(verified / "mnist" / name, cache / "mnist" / name)


def corrupt_warnings(record: pytest.WarningsRecorder) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, CorruptFileWarning)]


class FullDisk:
    """A file on a full disk: every write fails with ENOSPC."""

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# ------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults must not leak in from the developer's shell."""
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.delenv("COURSE_DATA_CACHE", raising=False)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond this machine fails the test loudly.

    ``pytest.fail`` raises an exception that is not an OSError, so neither urllib
    nor the loader can turn it into "cannot connect" and quietly try the next source.
    """
    connect = socket.create_connection

    def loopback_only(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        host, port = address[:2]
        if host not in LOOPBACK_HOSTS:
            pytest.fail(f"a test tried to reach the network: {host}:{port}")
        return connect(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", loopback_only)


def _official_mirror(dataset: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror root holding <dataset>/<file>.gz, found offline (see the module docstring).

    The loader verifies every file it reads, so the copies are not checked here.
    """
    roots = [Path(CONFIGURED_MIRROR)] if CONFIGURED_MIRROR else []
    for root in (*roots, ROOT.parent / "shared" / "datasets"):
        if all((root / dataset / f"{n}.gz").is_file() for n in FILE_NAMES):
            return root
    cache = ROOT / "data_cache" / dataset
    if not all((cache / n).is_file() or (cache / f"{n}.gz").is_file() for n in FILE_NAMES):
        pytest.skip(f"no offline {dataset}: set COURSE_DATA_MIRROR to a folder with {dataset}/*.gz")
    root = tmp_path_factory.mktemp(f"{dataset}-mirror")
    (root / dataset).mkdir()
    for name in FILE_NAMES:
        if (cache / name).is_file():
            raw = (cache / name).read_bytes()
            (root / dataset / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=1))
        else:
            shutil.copy(cache / f"{name}.gz", root / dataset)
    return root


@pytest.fixture(scope="session")
def mnist_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _official_mirror("mnist", tmp_path_factory)


@pytest.fixture(scope="session")
def fashion_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _official_mirror("fashion_mnist", tmp_path_factory)


@pytest.fixture(scope="session")
def mnist_cache(tmp_path_factory: pytest.TempPathFactory, mnist_mirror: Path) -> Path:
    """A session-wide cache filled with the verified uncompressed MNIST files."""
    cache = tmp_path_factory.mktemp("mnist-cache")
    load(cache_dir=cache, mirror_dir=mnist_mirror)
    return cache


@pytest.fixture(scope="session")
def reference(mnist_cache: Path) -> Loaded:
    return load(cache_dir=mnist_cache)


@pytest.fixture
def warm_cache(tmp_path: Path, mnist_cache: Path) -> Path:
    """A private copy of the verified cache."""
    cache = tmp_path / "cache"
    shutil.copytree(mnist_cache / "mnist", cache / "mnist")
    return cache


@dataclass
class Mirror:
    url: str
    hits: list[str] = field(default_factory=list)


class MirrorHandler(BaseHTTPRequestHandler):
    """Serves files from ``root``; ``mode`` makes it misbehave in a chosen way."""

    root: Path
    mode: str
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        path = self.root / Path(self.path).name
        if self.mode == "missing" or not path.is_file():
            self.send_error(404)
            return
        body = bytearray(path.read_bytes())
        if self.mode == "corrupt":
            body[len(body) // 2] ^= 0xFF
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.send_body(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (deadline, full disk): as tested

    def send_body(self, body: bytearray) -> None:
        if self.mode == "interrupted":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif self.mode == "trickle":  # one byte every 50 ms for at most 5 s: never a whole file
            for byte in body[:100]:
                self.wfile.write(bytes([byte]))
                time.sleep(0.05)
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def serve(mnist_mirror: Path) -> Iterator[Callable[[str], Mirror]]:
    """Start loopback HTTP mirrors of the MNIST .gz files: serve("good" | "corrupt" | ...).

    Modes: good, missing (404), corrupt (one byte flipped), interrupted (half the
    body, then hang up), trickle (one byte every 50 ms, then hang up after 5 s).
    """
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(mode: str) -> Mirror:
        hits: list[str] = []
        handler = type(
            f"{mode}Handler",
            (MirrorHandler,),
            {"root": mnist_mirror / "mnist", "mode": mode, "hits": hits},
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return Mirror(f"http://127.0.0.1:{server.server_address[1]}/mnist/", hits)

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL whose port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


# ------------------------------------------------------- loading from a mirror


def test_mnist_from_mirror_has_known_shapes_and_statistics(
    tmp_path: Path, mnist_mirror: Path
) -> None:
    (x_train, y_train), (x_test, y_test), names = load(cache_dir=tmp_path, mirror_dir=mnist_mirror)

    assert x_train.shape == (60000, 28, 28)
    assert y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28)
    assert y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
        assert array.flags.writeable
    assert names == [str(d) for d in range(10)]
    assert x_train.mean() == pytest.approx(33.318421449829934, rel=1e-12)
    assert x_train.std() == pytest.approx(78.56748998339798, rel=1e-12)
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    # The cache now holds the verified uncompressed files, and nothing else.
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(FILE_NAMES)
    for name, size in FILE_SIZES.items():
        assert (tmp_path / "mnist" / name).stat().st_size == size


def test_fashion_mnist_from_mirror(tmp_path: Path, fashion_mirror: Path) -> None:
    (x_train, y_train), (x_test, y_test), names = load(
        "fashion_mnist", cache_dir=tmp_path, mirror_dir=fashion_mirror
    )

    assert x_train.shape == (60000, 28, 28)
    assert x_test.shape == (10000, 28, 28)
    assert y_train.dtype == np.uint8
    assert x_train.flags.writeable
    assert names == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.mean() / 255 == pytest.approx(0.2860405969887955, rel=1e-12)


def test_warm_cache_alone_suffices_and_results_are_independent_copies(
    warm_cache: Path, reference: Loaded
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x_train, _), _, names = load(cache_dir=warm_cache)
    x_train[:] = 0  # writable, and writing must not reach the cache or the constants
    names.append("not a class")

    assert_same_data(load(cache_dir=warm_cache), reference)
    assert len(CLASS_NAMES["mnist"]) == 10


def test_gz_files_in_the_cache_are_unpacked_into_it(
    tmp_path: Path, mnist_mirror: Path, reference: Loaded
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(mnist_mirror / "mnist", cache / "mnist")

    assert_same_data(load(cache_dir=cache), reference)
    expected = sorted([*FILE_NAMES, *(f"{n}.gz" for n in FILE_NAMES)])
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == expected


def test_environment_variables_supply_the_defaults(
    tmp_path: Path,
    mnist_mirror: Path,
    reference: Loaded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mnist_mirror))

    assert default_cache_dir() == tmp_path / "env-cache"
    result = load_dataset("mnist", system_dirs=(), urls=(), progress=False)
    assert_same_data(result, reference)
    assert (tmp_path / "env-cache" / "mnist" / "train-images-idx3-ubyte").is_file()


def test_default_cache_dir_without_environment_is_the_checkouts_data_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake checkout: <root>/helpers/data.py beside <root>/data_cache/.
    checkout = tmp_path / "checkout"
    (checkout / "helpers").mkdir(parents=True)
    (checkout / "data_cache").mkdir()
    monkeypatch.setattr(helpers.data, "__file__", str(checkout / "helpers" / "data.py"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == checkout / "data_cache"


def test_default_cache_dir_without_environment_or_data_cache_is_in_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed package (site-packages/helpers/data.py): no data_cache/ beside it.
    site_packages = tmp_path / "site-packages"
    (site_packages / "helpers").mkdir(parents=True)
    monkeypatch.setattr(helpers.data, "__file__", str(site_packages / "helpers" / "data.py"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "dl-course-data"


def test_unknown_dataset_name_lists_the_allowed_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'cifar10'.*mnist, fashion_mnist"):
        load("cifar10", cache_dir=tmp_path)


# ------------------------------------------------------------------ downloads


def test_download_from_a_good_mirror_lands_in_the_cache(
    tmp_path: Path, serve: Callable[[str], Mirror], reference: Loaded
) -> None:
    good = serve("good")
    cache = tmp_path / "cache"

    assert_same_data(load(cache_dir=cache, urls=[good.url], progress=True), reference)
    assert sorted(good.hits) == sorted(f"/mnist/{n}.gz" for n in FILE_NAMES)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(FILE_NAMES)
    assert leftovers(tmp_path) == []

    assert_same_data(load(cache_dir=cache, urls=[good.url]), reference)
    assert len(good.hits) == 4  # the second load came from the cache


def test_corrupting_mirror_is_skipped_with_a_warning(
    tmp_path: Path, serve: Callable[[str], Mirror], reference: Loaded
) -> None:
    bad, good = serve("corrupt"), serve("good")

    with pytest.warns(CorruptFileWarning) as record:
        result = load(cache_dir=tmp_path / "cache", urls=[bad.url, good.url])

    assert_same_data(result, reference)
    messages = corrupt_warnings(record)
    assert len(messages) == 4
    for name, message in zip(FILE_NAMES, messages, strict=True):
        assert message.startswith(f"{bad.url}{name}.gz: not a valid gzip file")
        assert message.endswith(SKIPPED)
    assert leftovers(tmp_path) == []


def test_dead_mirror_then_good_mirror(
    tmp_path: Path, serve: Callable[[str], Mirror], dead_url: str, reference: Loaded
) -> None:
    good = serve("good")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorruptFileWarning)  # a dead mirror is not a bad file
        result = load(cache_dir=tmp_path / "cache", urls=[dead_url, good.url])
    assert_same_data(result, reference)


def test_interrupted_transfer_leaves_nothing_and_the_next_url_is_used(
    tmp_path: Path, serve: Callable[[str], Mirror], reference: Loaded
) -> None:
    broken, good = serve("interrupted"), serve("good")
    cache = tmp_path / "cache"

    with pytest.raises(DatasetError, match=r"transfer interrupted \(received \d+ of \d+ bytes\)"):
        load(cache_dir=cache, urls=[broken.url])
    assert list((cache / "mnist").iterdir()) == []  # no partial file that looks complete

    assert_same_data(load(cache_dir=cache, urls=[broken.url, good.url]), reference)
    assert len(broken.hits) == 5
    for name, size in FILE_SIZES.items():
        assert (cache / "mnist" / name).stat().st_size == size
    assert leftovers(tmp_path) == []


def test_when_every_mirror_fails_the_error_lists_each_url_and_the_fix(
    tmp_path: Path, serve: Callable[[str], Mirror], dead_url: str
) -> None:
    missing, broken, bad = serve("missing"), serve("interrupted"), serve("corrupt")
    cache = tmp_path / "cache"

    with pytest.warns(CorruptFileWarning), pytest.raises(DatasetError) as info:
        load(cache_dir=cache, urls=[missing.url, dead_url, broken.url, bad.url])

    message = str(info.value)
    file = "train-images-idx3-ubyte.gz"
    assert f"{missing.url}{file}: HTTP 404" in message
    assert re.search(
        re.escape(f"{dead_url}{file}: cannot connect (") + r".*Connection refused",
        message,
    )
    assert f"{broken.url}{file}: transfer interrupted" in message
    assert f"{bad.url}{file}: not a valid gzip file" in message
    assert "How to fix" in message
    assert (
        "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz" in message
    )
    assert f"in {cache / 'mnist'}{os.sep}" in message
    assert "COURSE_DATA_MIRROR" in message
    assert leftovers(tmp_path) == []
    assert list((cache / "mnist").iterdir()) == []


def test_unwritable_cache_still_returns_downloaded_data(
    tmp_path: Path,
    serve: Callable[[str], Mirror],
    reference: Loaded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache cannot be created below a file")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    with pytest.warns(UserWarning, match="could not save .* to the cache"):
        result = load(cache_dir=blocker / "cache", urls=[serve("good").url])

    assert_same_data(result, reference)
    assert list((tmp_path / "tmp").iterdir()) == []  # .part files went here and were removed


def test_full_disk_during_a_download_is_reported_as_a_full_disk_at_the_part_file(
    tmp_path: Path, serve: Callable[[str], Mirror], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = serve("good"), serve("good")
    copy = helpers.data._copy_with_progress
    monkeypatch.setattr(
        helpers.data,
        "_copy_with_progress",
        lambda response, sink, *args: copy(response, FullDisk(), *args),
    )
    cache = tmp_path / "cache"

    with pytest.raises(DatasetError) as info:
        load(cache_dir=cache, urls=[first.url, second.url])

    message = str(info.value)
    file = "train-images-idx3-ubyte.gz"
    part = re.escape(f"{cache / 'mnist' / file}.") + r"\w+\.part"
    assert re.match(
        rf"Could not load 'mnist': the disk is full at {part} \(No space left on device\), "
        + re.escape(f"while downloading {first.url}{file}.\n"),
        message,
    )
    assert "COURSE_DATA_CACHE" in message  # the way to put the cache on another disk
    assert "connect" not in message
    assert second.hits == []  # every other mirror would be written to the same full disk
    assert leftovers(tmp_path) == []


def test_full_disk_when_caching_loaded_data_warns_that_the_disk_is_full(
    tmp_path: Path,
    mnist_cache: Path,
    mnist_mirror: Path,
    reference: Loaded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    seed_cache(cache, mnist_cache, *FILE_NAMES[:3])

    def full_disk(target: Path, data: bytes) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(helpers.data, "write_atomically", full_disk)
    with pytest.warns(UserWarning) as record:
        result = load(cache_dir=cache, mirror_dir=mnist_mirror)

    assert_same_data(result, reference)
    target = cache / "mnist" / "t10k-labels-idx1-ubyte"
    assert [str(w.message) for w in record] == [
        f"could not save {target} to the cache: the disk is full at {cache / 'mnist'} "
        "(No space left on device); the data was loaded, but the next load will be slower. "
        "Free some space there, or set COURSE_DATA_CACHE to a folder on another disk."
    ]


def test_a_trickling_server_is_abandoned_at_the_deadline_and_the_next_url_tried(
    tmp_path: Path, serve: Callable[[str], Mirror], monkeypatch: pytest.MonkeyPatch
) -> None:
    trickle, missing = serve("trickle"), serve("missing")
    monkeypatch.setattr(helpers.data, "_DOWNLOAD_DEADLINE_S", 0.3)
    cache = tmp_path / "cache"

    with pytest.raises(DatasetError) as info:
        load(cache_dir=cache, urls=[trickle.url, missing.url])

    message = str(info.value)
    file = "train-images-idx3-ubyte.gz"
    assert re.search(
        re.escape(f"{trickle.url}{file}: gave up after 0.3 s, the server is too slow (received ")
        + r"\d+ of \d+ bytes\)",
        message,
    )
    assert f"{missing.url}{file}: HTTP 404" in message
    assert missing.hits == [f"/mnist/{file}"]
    assert leftovers(tmp_path) == []
    assert list((cache / "mnist").iterdir()) == []


def test_the_tests_cannot_reach_the_internet(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="a test tried to reach the network"):
        load(cache_dir=tmp_path, urls=["https://storage.googleapis.com/cvdf-datasets/mnist/"])


# ------------------------------------------------------------ corrupted files


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip", "checksum mismatch (sha256 of the uncompressed content is "),
        ("truncate", "truncated: expected 47040016 bytes, found 1000"),
    ],
)
def test_corrupted_cache_file_is_moved_aside_and_replaced(
    warm_cache: Path, mnist_mirror: Path, reference: Loaded, damage: str, reason: str
) -> None:
    cached = warm_cache / "mnist" / "train-images-idx3-ubyte"
    good = cached.read_bytes()
    bad = bytearray(good[:1000] if damage == "truncate" else good)
    if damage == "flip":
        bad[-1] ^= 0xFF  # the last pixel of the last image: 0 -> 255
    cached.write_bytes(bad)

    with pytest.warns(CorruptFileWarning) as record:
        result = load(cache_dir=warm_cache, mirror_dir=mnist_mirror)

    messages = corrupt_warnings(record)
    assert len(messages) == 1
    assert messages[0].startswith(f"{cached}: {reason}")
    assert messages[0].endswith(SKIPPED)
    assert_same_data(result, reference)
    assert result[0][0][-1, -1, -1] == 0
    assert cached.with_name("train-images-idx3-ubyte.corrupt").read_bytes() == bad
    assert cached.read_bytes() == good


def test_corrupted_cache_file_is_never_returned_even_without_another_source(
    warm_cache: Path,
) -> None:
    cached = warm_cache / "mnist" / "t10k-labels-idx1-ubyte"
    bad = bytearray(cached.read_bytes())
    bad[-1] = (bad[-1] + 1) % 10
    cached.write_bytes(bad)

    with (
        pytest.warns(CorruptFileWarning, match=re.escape(f"{cached}: checksum mismatch")),
        pytest.raises(DatasetError, match=re.escape(f"{cached}: checksum mismatch")),
    ):
        load(cache_dir=warm_cache)
    assert not cached.exists()
    assert cached.with_name("t10k-labels-idx1-ubyte.corrupt").read_bytes() == bad


def test_recompressed_copy_is_accepted(
    tmp_path: Path, mnist_cache: Path, mnist_mirror: Path, reference: Loaded
) -> None:
    """Like Debian's package: different .gz bytes, identical uncompressed content."""
    cache, folder = tmp_path / "cache", tmp_path / "system"
    seed_cache(cache, mnist_cache, "train-images-idx3-ubyte")
    folder.mkdir()
    for name in FILE_NAMES[1:]:
        raw = (mnist_cache / "mnist" / name).read_bytes()
        recompressed = gzip.compress(raw, compresslevel=1, mtime=1234567890)
        assert recompressed != (mnist_mirror / "mnist" / f"{name}.gz").read_bytes()
        (folder / f"{name}.gz").write_bytes(recompressed)

    with warnings.catch_warnings():
        warnings.simplefilter("error", CorruptFileWarning)
        result = load(cache_dir=cache, system_dirs=[folder])
    assert_same_data(result, reference)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(FILE_NAMES)


def test_tampered_gz_is_rejected(
    tmp_path: Path, mnist_cache: Path, mnist_mirror: Path, reference: Loaded
) -> None:
    tampered_root = tmp_path / "tampered"
    shutil.copytree(mnist_mirror / "mnist", tampered_root / "mnist")
    labels = bytearray((mnist_cache / "mnist" / "train-labels-idx1-ubyte").read_bytes())
    labels[8] = (labels[8] + 1) % 10  # a valid gzip of a valid IDX file, one label changed
    tampered = tampered_root / "mnist" / "train-labels-idx1-ubyte.gz"
    tampered.write_bytes(gzip.compress(labels))
    cache = tmp_path / "cache"

    with (
        pytest.warns(CorruptFileWarning, match=re.escape(f"{tampered}: checksum mismatch")),
        pytest.raises(DatasetError, match=re.escape(f"{tampered}: checksum mismatch")),
    ):
        load(cache_dir=cache, mirror_dir=tampered_root)

    with pytest.warns(CorruptFileWarning, match=re.escape(f"{tampered}: checksum mismatch")):
        result = load(
            cache_dir=cache,
            mirror_dir=tampered_root,
            system_dirs=[mnist_mirror / "mnist"],
        )
    assert_same_data(result, reference)
    assert tampered.is_file()  # files outside the cache are never moved or changed


def test_file_with_wrong_dimensions_is_rejected(tmp_path: Path, mnist_cache: Path) -> None:
    folder = tmp_path / "swapped"
    folder.mkdir()
    shutil.copy(
        mnist_cache / "mnist" / "t10k-labels-idx1-ubyte",
        folder / "train-labels-idx1-ubyte",
    )
    shutil.copy(mnist_cache / "mnist" / "train-images-idx3-ubyte", folder)

    expected = f"{folder / 'train-labels-idx1-ubyte'}: wrong dimensions (10000,), expected (60000,)"
    with (
        pytest.warns(CorruptFileWarning, match=re.escape(expected)),
        pytest.raises(DatasetError, match=re.escape(expected)),
    ):
        load(cache_dir=tmp_path / "cache", system_dirs=[folder])


# -------------------------------------------------------------------- read_idx


def test_read_idx_reads_gz_and_uncompressed(
    mnist_mirror: Path, mnist_cache: Path, reference: Loaded
) -> None:
    from_gz = read_idx(mnist_mirror / "mnist" / "t10k-labels-idx1-ubyte.gz")
    raw = read_idx(str(mnist_cache / "mnist" / "t10k-labels-idx1-ubyte"))
    for labels in (from_gz, raw):
        assert labels.dtype == np.uint8
        assert labels.flags.writeable
        assert np.array_equal(labels, reference[1][1])


def _idx_header(type_code: int, *dims: int) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            _idx_header(8, 60000, 28, 28) + bytes(984),
            "truncated: expected 47040016 bytes, found 1000",
        ),
        (_idx_header(8, 3) + bytes(4), "extra data: expected 11 bytes, found 12"),
        (
            b"\x12\x34\x08\x01" + bytes(8),
            "bad magic number 0x12340801; not an IDX file",
        ),
        (gzip.compress(_idx_header(8, 1) + b"\x07"), "bad magic number 0x1f8b"),
        (_idx_header(0x0D, 2) + bytes(8), "unsupported IDX data type 0x0d"),
        (b"\x00\x00", "truncated: expected an IDX header, found 2 bytes"),
        (
            _idx_header(8, 5, 5)[:9],
            "truncated: expected a 12-byte header, found 9 bytes",
        ),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=re.escape(f"{path}: {problem}")):
        read_idx(path)


def test_read_idx_accepts_any_valid_ubyte_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny-idx2-ubyte"
    path.write_bytes(_idx_header(8, 2, 3) + bytes(range(6)))
    assert read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("kind", ["random bytes", "truncated gzip"])
def test_read_idx_names_a_gz_that_does_not_decompress(
    tmp_path: Path, mnist_mirror: Path, kind: str
) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    official = (mnist_mirror / "mnist" / path.name).read_bytes()
    path.write_bytes(
        np.random.default_rng(0).bytes(1000) if kind == "random bytes" else official[:5000]
    )
    with pytest.raises(IDXFormatError, match=re.escape(f"{path}: not a valid gzip file")):
        read_idx(path)


# ------------------------------------------------------------- nothing found


def test_nothing_anywhere_explains_where_to_put_which_files(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as info:
        load(cache_dir=cache)

    message = str(info.value)
    assert f"{cache / 'mnist' / 'train-images-idx3-ubyte'}: not found" in message
    assert f"{cache / 'mnist' / 'train-images-idx3-ubyte.gz'}: not found" in message
    assert "COURSE_DATA_MIRROR is not set" in message
    for name in FILE_NAMES:
        assert f"https://storage.googleapis.com/cvdf-datasets/mnist/{name}.gz" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message
    assert f"in {cache / 'mnist'}{os.sep}" in message
    assert "set COURSE_DATA_MIRROR to a folder laid out as <folder>/mnist/<file>.gz" in message
    assert not cache.exists()  # a failed search creates nothing


@pytest.mark.skipif(
    Path("/usr/share/datasets/fashion-mnist").exists(),
    reason="Debian package installed",
)
def test_fashion_mnist_searches_the_debian_package_folder_by_default(
    tmp_path: Path,
) -> None:
    with pytest.raises(DatasetError) as info:
        load("fashion_mnist", cache_dir=tmp_path, system_dirs=None)
    message = str(info.value)
    assert "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz: not found" in message
    assert (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/train-images-idx3-ubyte.gz"
        in message
    )


def test_concurrent_loads_share_one_cache_safely(
    tmp_path: Path, mnist_mirror: Path, mnist_cache: Path, reference: Loaded
) -> None:
    cache = tmp_path / "cache"
    # Only the label files are fetched and written, by both threads at once.
    seed_cache(cache, mnist_cache, "train-images-idx3-ubyte", "t10k-images-idx3-ubyte")
    results: list[Loaded] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(load(cache_dir=cache, mirror_dir=mnist_mirror))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2
    for result in results:
        assert_same_data(result, reference)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(FILE_NAMES)


def test_cached_files_get_ordinary_permissions_under_the_users_umask(
    tmp_path: Path, mnist_cache: Path, mnist_mirror: Path
) -> None:
    """A classroom's shared cache (umask 002) stays group-writable, like any new file there."""
    cache = tmp_path / "cache"
    seed_cache(cache, mnist_cache, *FILE_NAMES[:3])
    previous = os.umask(0o002)
    try:
        load(cache_dir=cache, mirror_dir=mnist_mirror)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((cache / "mnist" / "t10k-labels-idx1-ubyte").stat().st_mode) == 0o664


def test_a_folder_where_a_cache_file_belongs_is_reported_once_and_loading_still_works(
    tmp_path: Path, mnist_cache: Path, mnist_mirror: Path, reference: Loaded
) -> None:
    cache = tmp_path / "cache"
    seed_cache(cache, mnist_cache, *FILE_NAMES[1:])
    folder = cache / "mnist" / "train-images-idx3-ubyte"
    (folder / "notes").mkdir(parents=True)

    with pytest.warns(UserWarning) as record:
        result = load(cache_dir=cache, mirror_dir=mnist_mirror)
    assert_same_data(result, reference)
    assert [str(w.message) for w in record] == [
        f"{folder} is a folder, but the cache needs the file train-images-idx3-ubyte there: "
        "remove that folder (the loader never deletes it). Until then every load reads the "
        "file from another source again, which is slower. (This warning is shown once per "
        "session.)"
    ]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_data(load(cache_dir=cache, mirror_dir=mnist_mirror), reference)
    with pytest.raises(DatasetError, match=re.escape(f"{folder}: is a folder, not a file")):
        load(cache_dir=cache)
    assert (folder / "notes").is_dir()


# ---------------------------------------------------- mirror folder mistakes


@pytest.mark.parametrize("setting", ["COURSE_DATA_MIRROR", "mirror_dir"])
def test_a_relative_mirror_path_is_named_with_the_folder_it_was_resolved_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)
    if setting == "COURSE_DATA_MIRROR":
        monkeypatch.setenv(setting, "usb-stick")
        options = {}
    else:
        options = {"mirror_dir": "usb-stick"}

    with pytest.raises(DatasetError) as info:
        load(cache_dir=tmp_path / "cache", **options)

    message = str(info.value)
    assert (
        f"{setting} is the relative path 'usb-stick', resolved from the current folder "
        f"{notebooks}: give an absolute path"
    ) in message
    mirror = notebooks / "usb-stick"
    assert f"{mirror / 'mnist' / 'train-images-idx3-ubyte.gz'}: not found" in message
    assert f"{mirror} (from {setting}) does not exist" in message


def test_a_mirror_holding_the_files_directly_says_to_move_them_into_a_dataset_folder(
    tmp_path: Path,
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    for name in FILE_NAMES:
        (usb / f"{name}.gz").write_bytes(b"")  # only their place matters: they are never read

    with pytest.raises(DatasetError) as info:
        load(cache_dir=tmp_path / "cache", mirror_dir=usb)

    message = str(info.value)
    expected = f"{usb / 'mnist'}{os.sep}"
    assert (
        f"{usb} (from mirror_dir) has no mnist{os.sep} subfolder: "
        f"the files are expected in {expected}."
    ) in message
    assert f"the files lie directly in {usb} (train-images-idx3-ubyte.gz, " in message
    assert f"move them into a mnist{os.sep} subfolder, {expected} " in message
    assert "relative path" not in message


def test_a_mirror_without_the_requested_dataset_names_the_expected_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "mnist").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))

    with pytest.raises(DatasetError) as info:
        load("fashion_mnist", cache_dir=tmp_path / "cache")

    message = str(info.value)
    assert (
        f"{mirror} (from COURSE_DATA_MIRROR) has no fashion_mnist{os.sep} subfolder: "
        f"the files are expected in {mirror / 'fashion_mnist'}{os.sep}."
    ) in message
    assert "lie directly" not in message


def test_a_missing_mirror_folder_is_named_as_missing(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    expected = f"{nowhere} (from mirror_dir) does not exist or is not a folder."
    with pytest.raises(DatasetError, match=re.escape(expected)):
        load(cache_dir=tmp_path / "cache", mirror_dir=nowhere)
