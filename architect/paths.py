"""Where architect's resources live, and the one way it writes files.

Generated crates depend on the SDK *source* by path and are rendered from templates; the LLM reads its
adapter. All of it is package data in `architect/_bundle/` (`bundle_dir`, found through
`importlib.resources`): in a source checkout its entries are links to `sdk-rs/`, `templates/`,
`Cargo.lock` and `finetune/adapter/`, in an installed wheel they are copies (pyproject.toml's
``[tool.maturin] include``). Every path below is resolved, so a build binds the real folders into its jail.

Output folders may be hostile (`architect verify` takes a crate folder from anyone), so nothing here
follows a symbolic link: `refuse_links` turns a link at a place architect reads or writes into a
`UsageError` before anything happens, and every write opens its folder and its file with ``O_NOFOLLOW``
(temporaries with ``O_CREAT | O_EXCL | O_NOFOLLOW``), so a link planted between the check and the write
fails the write instead of redirecting it. Only the folders *inside* an output folder are checked
component by component (``within``): the output folder's own parents are the user's business (a home
folder or macOS's /tmp may well be links).
"""

from __future__ import annotations

import contextlib
import errno
import importlib.resources
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from architect.errors import UsageError

#: Sub-folders of an output folder whose entries architect reads, writes or deletes.
OUTPUT_SUBFOLDERS = ("src", "bin")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
#: openat(2) and friends: POSIX. Elsewhere (Windows) writes fall back to lstat checks before each step.
_AT = _NOFOLLOW != 0 and _DIRECTORY != 0 and {os.open, os.unlink, os.mkdir, os.rename, os.stat} <= os.supports_dir_fd


def repo_root() -> Path:
    """The source checkout this package sits in (only development tools use it: the corpus, the benches)."""
    return Path(__file__).resolve().parent.parent


def bundle_dir() -> Path:
    """The package data a build needs (see the module's docstring)."""
    return Path(str(importlib.resources.files("architect"))) / "_bundle"


def templates_dir() -> Path:
    return (bundle_dir() / "templates" / "rust").resolve()


def sdk_dir() -> Path:
    """The SDK crate's sources (`architect-sdk`); its workspace manifest is `sdk_workspace_manifest`."""
    return (bundle_dir() / "sdk-rs").resolve()


def sdk_workspace_manifest() -> Path:
    """The Cargo.toml the SDK inherits its package fields from: the repository's or the bundle's."""
    return sdk_dir().parent / "Cargo.toml"


def sdk_lock() -> Path:
    """The Cargo.lock the SDK was tested with; generated crates pin their dependencies to it."""
    return (bundle_dir() / "Cargo.lock").resolve()


def adapter_dir() -> Path:
    """The fine-tuned LoRA adapter of the LLM backend."""
    return (bundle_dir() / "adapter").resolve()


def cache_dir() -> Path:
    """Shared cache: one cargo target directory for every generated crate (fast rebuilds)."""
    root = os.environ.get("ARCHITECT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "architect"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------------ links
def find_links(folder: Path) -> list[str]:
    """The symbolic links among ``folder`` itself, its entries and those of its `src/` and `bin/` (relative
    names; ``"."`` for the folder). Nothing is followed; a missing folder has none."""
    if not os.path.lexists(folder):
        return []
    if folder.is_symlink():
        return ["."]
    found = []
    for entry in _entries(folder):
        if entry.is_symlink():
            found.append(entry.name)
        elif entry.name in OUTPUT_SUBFOLDERS and entry.is_dir(follow_symlinks=False):
            found += [f"{entry.name}/{inner.name}" for inner in _entries(Path(entry.path)) if inner.is_symlink()]
    return sorted(found)


def refuse_links(folder: Path) -> None:
    """Raise `UsageError` when `find_links` finds any: architect writes, deletes and reads at fixed places
    of an output folder, and a link there would make it do so wherever the link points."""
    links = find_links(folder)
    if not links:
        return
    if links == ["."]:
        raise UsageError(
            f"{folder} is a symbolic link; architect does not follow links in an output folder: "
            f"pass the folder it points to ({os.path.realpath(folder)}) if that is what you mean"
        )
    shown = ", ".join(links[:5]) + (f" (and {len(links) - 5} more)" if len(links) > 5 else "")
    raise UsageError(
        f"{folder} holds symbolic links ({shown}); architect writes and deletes files in this folder and "
        "does not follow links there: replace them by the files themselves, or remove them"
    )


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


# ------------------------------------------------------------------------------- folder handles
@contextlib.contextmanager
def open_folder(folder: Path, *, within: Path | None = None, create: bool = True) -> Iterator[int]:
    """A descriptor of ``folder`` (created if missing and ``create``), opened without following a link.

    ``within``: an ancestor of ``folder``; every component from it down to ``folder`` (both included)
    is refused if it is a link. Without it only ``folder`` itself is. Raises `UsageError` for a link.
    """
    folder = Path(folder)
    if within is None:
        start, parts = folder, ()
    else:
        start, parts = Path(within), Path(os.path.relpath(folder, within)).parts
        if parts == (".",):
            parts = ()
        if any(p == ".." for p in parts):
            raise ValueError(f"{folder} is not inside {within}")
    if create and not os.path.lexists(start):
        start.mkdir(parents=True, exist_ok=True)
    fd = _open_dir(start, None, start)
    try:
        where = start
        for part in parts:
            where = where / part
            if create:
                with contextlib.suppress(FileExistsError):
                    _mkdir_at(part, fd, where)
            inner = _open_dir(Path(part), fd, where)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _open_dir(name: Path, dir_fd: int | None, shown: Path) -> int:
    if not _AT:  # pragma: no cover - non-POSIX
        full = name if dir_fd is None else shown
        if full.is_symlink():
            raise _link_error(shown)
        return os.open(full, os.O_RDONLY)
    try:
        return os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, dir_fd):
            raise _link_error(shown) from None
        if exc.errno == errno.ENOTDIR:
            raise UsageError(f"{shown} is not a folder, where architect writes files; move it away") from None
        raise


def _mkdir_at(name: str, dir_fd: int, shown: Path) -> None:
    if _AT:
        os.mkdir(name, 0o777, dir_fd=dir_fd)
    else:  # pragma: no cover
        shown.mkdir()


def _is_link(name: Path | str, dir_fd: int | None) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def _link_error(path: Path) -> UsageError:
    return UsageError(f"{path} is a symbolic link; architect does not follow links where it writes or deletes")


# ----------------------------------------------------------------------------------------- writes
def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder`` (``.NAME.XXXX.tmp``).

    Only safe while holding the folder's lock (`architect.locking`): no other writer is active.
    A ``folder`` that is a link is left alone, and so is every entry that is not a regular file.
    """
    removed: list[Path] = []
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return removed
    try:
        with open_folder(folder, create=False) as fd:
            for name in os.listdir(fd) if _AT else os.listdir(folder):
                if name.startswith(".") and name.endswith(".tmp") and _remove_regular(folder, name, fd):
                    removed.append(folder / name)
    except UsageError:  # the folder became a link after all: leave it alone
        pass
    return removed


def _remove_regular(folder: Path, name: str, fd: int) -> bool:
    try:
        info = os.lstat(name, dir_fd=fd) if _AT else os.lstat(folder / name)
        if not stat.S_ISREG(info.st_mode):
            return False
        if _AT:
            os.unlink(name, dir_fd=fd)
        else:  # pragma: no cover
            os.unlink(folder / name)
    except FileNotFoundError:
        return False
    return True


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644, *, within: Path | None = None) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file.

    No link is followed: the folder is opened with ``O_NOFOLLOW`` (with ``within``, every folder from
    ``within`` down to it), the temporary is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, and the rename
    replaces a link at ``path`` itself, never what it points to. A link in the way is a `UsageError`.
    """
    raw = data.encode() if isinstance(data, str) else data
    _write_chunks(Path(path), [raw], mode, within)


def copy_atomic(source: Path, dest: Path, mode: int = 0o755, *, within: Path | None = None) -> None:
    """Copy ``source`` to ``dest`` as `write_atomic` writes (a built binary into an output folder)."""

    def chunks() -> Iterator[bytes]:
        with open(source, "rb") as handle:
            while block := handle.read(1 << 20):
                yield block

    _write_chunks(Path(dest), chunks(), mode, within)


def remove_file(path: Path, *, within: Path | None = None) -> None:
    """Delete ``path`` if it exists, without following a link in its folder (a link at ``path`` itself is
    removed, never its target). A folder at ``path`` is a `UsageError`."""
    path = Path(path)
    if not os.path.lexists(path.parent):
        return
    with open_folder(path.parent, within=within, create=False) as fd:
        try:
            info = os.lstat(path.name, dir_fd=fd) if _AT else os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{path} is a folder, where architect puts a file; move it away")
        with contextlib.suppress(FileNotFoundError):
            if _AT:
                os.unlink(path.name, dir_fd=fd)
            else:  # pragma: no cover
                os.unlink(path)


def _write_chunks(path: Path, chunks: Iterator[bytes] | list[bytes], mode: int, within: Path | None) -> None:
    with open_folder(path.parent, within=within) as dir_fd:
        tmp, fd = _create_temporary(path, dir_fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                if os.chmod in os.supports_fd:  # created 0600; outputs are ordinary files
                    os.chmod(handle.fileno(), mode)
                else:  # pragma: no cover
                    os.chmod(path.parent / tmp, mode)
                os.fsync(handle.fileno())
            if _AT:
                os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:  # pragma: no cover
                os.replace(path.parent / tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                if _AT:
                    os.unlink(tmp, dir_fd=dir_fd)
                else:  # pragma: no cover
                    os.unlink(path.parent / tmp)
            raise


def _create_temporary(path: Path, dir_fd: int) -> tuple[str, int]:
    """A fresh ``.NAME.XXXXXXXX.tmp`` in the folder: (its name, a descriptor open for writing)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            if _AT:
                return name, os.open(name, flags, 0o600, dir_fd=dir_fd)
            return name, os.open(path.parent / name, flags, 0o600)  # pragma: no cover
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(path.parent))
