"""Where architect's resources live, and the one way it writes files.

architect runs from a source checkout (the editable install made by the README's set-up):
generated crates depend on the SDK *source* in `sdk-rs/` by path, and read their templates
from `templates/rust/`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    return repo_root() / "templates" / "rust"


def sdk_dir() -> Path:
    return repo_root() / "sdk-rs"


def cache_dir() -> Path:
    """Shared cache: one cargo target directory for every generated crate (fast rebuilds)."""
    root = os.environ.get("ARCHITECT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "architect"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder`` (``.NAME.XXXX.tmp``).

    Only safe while holding the folder's lock (`architect.locking`): no other writer is active.
    """
    removed = []
    if folder.is_dir():
        for stale in folder.glob(".*.tmp"):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink(missing_ok=True)
                removed.append(stale)
    return removed


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp creates 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
