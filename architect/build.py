"""Compile a generated crate with cargo into a release binary.

Every crate shares one cargo target directory under the cache, so the SDK and its
dependencies are compiled once and a new model rebuilds in seconds. cargo's own lock on
that directory serialises concurrent builds; the binary is copied out of the shared
directory atomically, under a name unique to the crate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from architect import paths
from architect.errors import BuildError

BUILD_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class BuildResult:
    binary: Path
    crate_name: str
    warnings: tuple[str, ...]
    seconds: float


def cargo_executable() -> str:
    found = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(found).exists():
        raise BuildError("cargo was not found: install the Rust toolchain (https://rustup.rs) and retry")
    return found


def target_dir() -> Path:
    return paths.cache_dir() / "target"


def build_crate(
    crate_dir: Path,
    binary_dest: Path,
    *,
    timeout: float = BUILD_TIMEOUT_S,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """`cargo build --release` the crate in ``crate_dir`` and copy its binary to ``binary_dest``."""
    started = time.monotonic()
    manifest = crate_dir / "Cargo.toml"
    if not manifest.is_file():
        raise BuildError(f"{crate_dir} is not a crate: no Cargo.toml")
    command = [cargo_executable(), "build", "--release", "--message-format=json", "--manifest-path", str(manifest)]
    messages, stderr = _run_cargo(command, timeout, progress)
    errors, warnings, executable = _read_messages(messages)
    if errors or executable is None:
        detail = "\n".join(errors) or stderr.strip()[-4000:]
        raise BuildError(f"the generated crate does not compile ({len(errors)} error(s))", diagnostics=detail)
    _copy_atomic(Path(executable), binary_dest)
    return BuildResult(
        binary=binary_dest,
        crate_name=Path(executable).name,
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
    )


def _run_cargo(command: list[str], timeout: float, progress: Callable[[str], None] | None) -> tuple[list[dict], str]:
    env = _build_environment()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL)
        try:
            _wait_with_progress(proc, err, timeout, progress)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise BuildError(f"cargo build did not finish within {timeout:.0f} s") from None
        out.seek(0)
        err.seek(0)
        lines = out.read().splitlines()
        stderr = err.read()
    messages = []
    for line in lines:
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return messages, stderr


def _wait_with_progress(proc: subprocess.Popen, err, timeout: float, progress: Callable[[str], None] | None) -> None:
    deadline = time.monotonic() + timeout
    shown = 0
    while True:
        try:
            proc.wait(timeout=0.25)
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise
        if progress is not None:
            # cargo writes "Compiling foo v1.2" lines to stderr; relay the newest one.
            err.seek(0)
            lines = [ln.strip() for ln in err.read().splitlines() if ln.strip().startswith("Compiling")]
            if len(lines) > shown:
                shown = len(lines)
                progress(f"{lines[-1]} ({shown} crates)")


def _build_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(target_dir())
    env.setdefault("CARGO_TERM_COLOR", "never")
    # The user's RUSTFLAGS could turn warnings into errors or change codegen; builds must be reproducible.
    env.pop("RUSTFLAGS", None)
    return env


def _read_messages(messages: list[dict]) -> tuple[list[str], list[str], str | None]:
    errors, warnings, executable = [], [], None
    for msg in messages:
        if msg.get("reason") == "compiler-message":
            diagnostic = msg.get("message", {})
            rendered = diagnostic.get("rendered") or diagnostic.get("message", "")
            if diagnostic.get("level") in ("error", "error: internal compiler error"):
                errors.append(rendered)
            elif diagnostic.get("level") == "warning":
                warnings.append(rendered)
        elif msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            executable = msg["executable"]
    return errors, warnings, executable


def _copy_atomic(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_progress(line: str) -> None:
    """Progress to stderr, overwriting one line on a terminal and silent otherwise."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K  " + line[:100])
        sys.stderr.flush()
