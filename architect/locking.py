"""Advisory file locks, so concurrent architect runs never interleave their writes.

Two locks exist: one per output folder (`<out>/.architect.lock`), held by a `generate` or
`verify` for its whole run, and one per crate name in the shared cache, held while that crate is
staged, compiled and its binary copied out. The operating system releases a lock when its
holder dies, even by SIGKILL, so a killed run never blocks the next one. POSIX only (`flock`);
on other platforms the locks are no-ops.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from architect import paths
from architect.errors import ArchitectError, UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".architect.lock"


class BusyError(ArchitectError):
    """Another architect run held a lock for longer than we were willing to wait."""


@contextlib.contextmanager
def hold(path: Path, *, what: str, wait: float = 600.0, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed), waiting up to ``wait`` seconds for it.

    A link at ``path`` or its folder is a `UsageError`: the lock file is opened with ``O_NOFOLLOW`` (its
    folder too), so a planted ``.architect.lock -> elsewhere`` never makes architect create ``elsewhere``.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    with paths.open_folder(path.parent) as folder:
        try:
            fd = os.open(path.name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder)
        except OSError as exc:
            if path.is_symlink():
                raise UsageError(
                    f"{path} is a symbolic link; architect does not follow links to its lock files"
                ) from None
            raise UsageError(f"cannot open the lock file {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"another architect run is still using {what} after {wait:.0f} s; "
                        "wait for it to finish or choose another --out"
                    ) from None
                if not told and say is not None:
                    say(f"waiting for another architect run using {what}")
                    told = True
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
