"""Writing files safely: the one atomic-write helper the package uses.

A reader (another notebook, the course runner, a second process loading the
same dataset) must never see a half-written file, and a crash or Ctrl-C in the
middle of a write must never destroy the previous good copy.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_file_mode() -> int:
    """The permissions an ordinary new file gets here (0o666 minus the umask, e.g. 0o644).

    ``tempfile.mkstemp`` creates files readable by their owner only (0o600); the
    files this package writes are ordinary outputs and get the usual permissions.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(
    target: str | os.PathLike[str], data: bytes | bytearray | str, *, mode: int | None = None
) -> Path:
    """Write ``data`` to ``target`` through a unique temporary file beside it, then rename.

    Text is encoded as UTF-8. The rename is atomic on one file system, so readers
    see either the old file or the new one, and concurrent writers cannot clash.
    The temporary file is removed if anything fails. ``mode`` sets the permissions
    (default: those of an ordinary new file). Returns ``target`` as a Path.
    """
    target = Path(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temp_name, _default_file_mode() if mode is None else mode)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
