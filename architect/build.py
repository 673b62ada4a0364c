"""Compile a generated crate with cargo into a release binary, inside the sandbox.

Every crate shares one cargo target directory under the cache, so the SDK and its
dependencies are compiled once and a new model rebuilds in seconds.

Model code is untrusted, so `build_model` never compiles a user's crate folder as it is: it
writes a *staged* crate under the cache — architect's own `Cargo.toml`, `src/main.rs` and
`Cargo.lock`, plus the `src/model.rs` text that `architect.gate` has just checked — and compiles
that. Nothing else from the folder reaches cargo. cargo and rustc run through
`architect.sandbox`: a time limit, CPU/memory/file-size limits, a minimal environment, and no
network. The network is needed only to download the SDK's dependencies the first time; that is
a separate `cargo fetch`, which downloads but runs no code, and the build itself is `--offline`.

Concurrency: cargo locks the shared target directory itself; architect adds a lock per crate
name held while the crate is staged, compiled and its binary copied out (two runs building the
same crate name from different sources must not swap binaries). The binary is copied out
atomically.

Overlap: cargo is a separate process, so `build_model(..., meanwhile=f)` runs ``f`` in this process
while cargo compiles (`architect generate` loads the verifier and derives the theory then).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from architect import locking, paths, sandbox
from architect.errors import BuildError

BUILD_TIMEOUT_S = 900.0
Progress = Callable[[str], None]


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


def staging_dir(crate_name: str) -> Path:
    return paths.cache_dir() / "crates" / crate_name


def toolchain_paths() -> tuple[Path, ...]:
    """Where cargo, rustc and the registry's sources live (read-only for a build)."""
    home = Path.home()
    cargo_home = Path(os.environ.get("CARGO_HOME") or home / ".cargo")
    rustup_home = Path(os.environ.get("RUSTUP_HOME") or home / ".rustup")
    found = [Path(p).resolve().parent.parent for p in (shutil.which("cargo"), shutil.which("rustc")) if p]
    return tuple(dict.fromkeys([cargo_home, rustup_home, *found]))


def build_view(crate_dir: Path) -> sandbox.View:
    """What cargo and rustc see: the toolchain, the SDK (and the workspace manifest its package
    inherits from), the staged crate and the shared target directory; nothing else of the user's."""
    sdk = (paths.sdk_dir(), paths.sdk_workspace_manifest())
    target = target_dir()
    target.mkdir(parents=True, exist_ok=True)
    return sandbox.View(read_only=(*toolchain_paths(), *sdk), writable=(crate_dir, target))


def build_model(
    crate_name: str,
    fixed_files: Mapping[str, str],
    model_source: str,
    binary_dest: Path,
    *,
    timeout: float = BUILD_TIMEOUT_S,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> BuildResult:
    """Stage architect's ``fixed_files`` plus the checked ``model_source`` and build them.

    ``fixed_files`` maps `Cargo.toml` and `src/main.rs` to their text (`codegen.fixed_files`).
    ``meanwhile`` is called once cargo has started; cargo is killed if it raises.
    """
    stage = staging_dir(crate_name)
    lock = paths.cache_dir() / "locks" / f"{crate_name}.lock"
    with locking.hold(lock, what=f"the cached crate {crate_name}", wait=timeout, say=progress):
        files = {**fixed_files, "src/model.rs": model_source}
        workspace_lock = paths.sdk_lock()
        if workspace_lock.exists():
            # Pin the SDK's dependency versions to the ones the SDK was tested with.
            files["Cargo.lock"] = workspace_lock.read_text("utf-8")
        _write_stage(stage, files)
        return build_crate(stage, binary_dest, timeout=timeout, progress=progress, meanwhile=meanwhile)


def _write_stage(stage: Path, files: Mapping[str, str]) -> None:
    (stage / "src").mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        target = stage / relative
        # Rewrite only what changed: cargo's fingerprints look at modification times.
        if not target.is_file() or target.read_bytes() != text.encode():
            paths.write_atomic(target, text)
    for extra in (stage / "src").iterdir():
        if extra.name not in ("main.rs", "model.rs"):
            if extra.is_dir() and not extra.is_symlink():
                shutil.rmtree(extra)
            else:
                extra.unlink()
    paths.remove_stale_temporaries(stage)
    paths.remove_stale_temporaries(stage / "src")


def build_crate(
    crate_dir: Path,
    binary_dest: Path,
    *,
    timeout: float = BUILD_TIMEOUT_S,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> BuildResult:
    """`cargo build --release` the crate in ``crate_dir`` as it is, and copy its binary to ``binary_dest``.

    For crates architect wrote itself (`build_model` stages one); the sandbox applies all the same.
    ``meanwhile``: as for `build_model`.
    """
    started = time.monotonic()
    manifest = crate_dir / "Cargo.toml"
    if not manifest.is_file():
        raise BuildError(f"{crate_dir} is not a crate: no Cargo.toml")
    limits = sandbox.build_limits(timeout)
    build = [cargo_executable(), "build", "--release", "--offline", "--message-format=json"]
    build += ["--manifest-path", str(manifest)]
    with _Cargo(build, crate_dir, limits) as cargo:
        if meanwhile is not None:
            meanwhile()
        messages, stderr = cargo.wait(progress)
    errors, warnings, executable = _read_messages(messages)
    if (errors or executable is None) and _needs_download(errors, stderr):
        # First build on this machine: download the SDK's dependencies (no code runs), then retry offline.
        if progress is not None:
            progress("downloading the SDK's dependencies (first build only)")
        fetch = [cargo_executable(), "fetch", "--manifest-path", str(manifest)]
        _, fetch_err = _run_cargo(fetch, crate_dir, sandbox.with_network(limits), None)
        messages, stderr = _run_cargo(build, crate_dir, limits, progress)
        errors, warnings, executable = _read_messages(messages)
        if executable is None and not errors:
            stderr = fetch_err + stderr
    if errors or executable is None:
        detail = "\n".join(errors) or stderr.strip()[-4000:]
        raise BuildError(f"the generated crate does not compile ({len(errors)} error(s))", diagnostics=detail)
    # Into an output folder: a link at bin/ or at the binary's name is not followed (paths.copy_atomic).
    paths.copy_atomic(Path(executable), binary_dest, mode=0o755)
    return BuildResult(
        binary=binary_dest,
        crate_name=Path(executable).name,
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
    )


def _needs_download(errors: list[str], stderr: str) -> bool:
    return not errors and "offline" in stderr


def _run_cargo(
    command: list[str], cwd: Path, limits: sandbox.Limits, progress: Progress | None
) -> tuple[list[dict], str]:
    with _Cargo(command, cwd, limits) as cargo:
        return cargo.wait(progress)


class _Cargo:
    """One cargo command in the sandbox, started on entry; `wait` returns its JSON messages and stderr.

    Leaving the block without waiting (the caller's work in between raised) kills cargo.
    """

    def __init__(self, command: list[str], cwd: Path, limits: sandbox.Limits) -> None:
        self.command, self.cwd, self.limits = command, cwd, limits
        # The download (network allowed) runs no code and writes the registry: it is not jailed.
        self.view = None if limits.network else build_view(cwd)
        self.files = contextlib.ExitStack()

    def __enter__(self) -> _Cargo:
        env = sandbox.build_environment({"CARGO_TARGET_DIR": str(target_dir())})
        self.out = self.files.enter_context(tempfile.TemporaryFile("w+"))
        self.err = self.files.enter_context(tempfile.TemporaryFile("w+"))
        try:
            self.running: sandbox.Running | None = sandbox.start(
                self.command, self.limits, env=env, cwd=self.cwd, stdout=self.out, stderr=self.err, view=self.view
            )
        except OSError as exc:
            self.files.close()
            raise BuildError(f"cargo could not be started: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running is not None:
            self.running.kill()
        self.files.close()

    def wait(self, progress: Progress | None) -> tuple[list[dict], str]:
        running, self.running = self.running, None
        if running is None:
            raise RuntimeError("_Cargo.wait: call it once, inside the block")
        shown = [0]

        def relay() -> None:
            # cargo writes "Compiling foo v1.2" lines to stderr; relay the newest one.
            if progress is None:
                return
            self.err.seek(0)
            lines = [ln.strip() for ln in self.err.read().splitlines() if ln.strip().startswith("Compiling")]
            if len(lines) > shown[0]:
                shown[0] = len(lines)
                progress(f"{lines[-1]} ({shown[0]} crates)")

        done = running.wait(relay)
        if done.timed_out:
            raise BuildError(f"cargo did not finish within {self.limits.timeout:.0f} s and was stopped")
        if done.returncode < 0:
            name = sandbox.signal_name(-done.returncode)
            raise BuildError(f"cargo was killed by signal {-done.returncode} ({name}): a resource limit was reached")
        self.out.seek(0)
        self.err.seek(0)
        return _json_lines(self.out.read()), self.err.read()


def _json_lines(text: str) -> list[dict]:
    messages = []
    for line in text.splitlines():
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return messages


def _read_messages(messages: list[dict]) -> tuple[list[str], list[str], str | None]:
    errors, warnings, executable = [], [], None
    for msg in messages:
        if msg.get("reason") == "compiler-message":
            diagnostic = msg.get("message", {})
            if diagnostic.get("level") in ("error", "error: internal compiler error"):
                errors.append(quote_diagnostic(diagnostic))
            elif diagnostic.get("level") == "warning":
                warnings.append(quote_diagnostic(diagnostic))
        elif msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            executable = msg["executable"]
    return errors, warnings, executable


#: Source files of a staged crate; a diagnostic quotes lines of these only.
CRATE_SOURCES = ("src/model.rs", "src/main.rs")
#: Compile-time evaluation can put any data it reached into its message (a file read with
#: `include_str!`, were the gate ever to let one through), so such messages are not quoted.
_EVALUATION = ("E0080",)
MAX_MESSAGE_CHARS = 300


def quote_diagnostic(diagnostic: Mapping[str, Any]) -> str:
    """A compiler diagnostic as the report shows it: level, code and the message's first line, then the
    crate's own source lines it points at (``--> src/model.rs:L:C`` and the line) — never rustc's full
    rendering, whose notes and labels may quote anything the compiler read or evaluated."""
    code = (diagnostic.get("code") or {}).get("code") or ""
    level = str(diagnostic.get("level", "error"))
    message = str(diagnostic.get("message", "")).splitlines()[0] if diagnostic.get("message") else ""
    evaluation = code in _EVALUATION or "evaluat" in message
    if evaluation:
        message = "constant evaluation failed (the compiler's message is not shown: it may quote data it read)"
    head = f"{level}[{code}]: {message}" if code else f"{level}: {message}"
    lines = [head[:MAX_MESSAGE_CHARS]]
    for span in filter(None, map(_crate_span, diagnostic.get("spans") or [])):
        name = str(span.get("file_name", ""))
        lines.append(f"  --> {name}:{span.get('line_start')}:{span.get('column_start')}")
        for text in (span.get("text") or [])[:3]:
            lines.append(f"   | {str(text.get('text', ''))[:MAX_MESSAGE_CHARS]}")
        label = span.get("label")
        if label and not evaluation:
            lines.append(f"   = {str(label)[:MAX_MESSAGE_CHARS]}")
    return "\n".join(lines)


def _crate_span(span: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``span`` if it is in the crate's sources, else the macro call in them it was expanded from."""
    for _depth in range(64):
        if str(span.get("file_name", "")) in CRATE_SOURCES:
            return span
        expansion = span.get("expansion") or {}
        if not isinstance(expansion, Mapping) or not isinstance(expansion.get("span"), Mapping):
            return None
        span = expansion["span"]
    return None


def rustc_version() -> str:
    """`rustc --version` of the toolchain builds use (cached per process)."""
    return _rustc_version(str(paths.cache_dir()))


def _rustc_version(cwd: str) -> str:
    if cwd in _RUSTC_VERSIONS:
        return _RUSTC_VERSIONS[cwd]
    rustc = shutil.which("rustc") or str(Path.home() / ".cargo" / "bin" / "rustc")
    version = "unknown"
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = sandbox.run(
                [rustc, "--version"],
                sandbox.build_limits(60.0),
                env=sandbox.build_environment(),
                cwd=Path(cwd),
                stdout=out,
                view=sandbox.View(read_only=(*toolchain_paths(), Path(cwd))),
            )
            out.seek(0)
            if done.returncode == 0 and not done.timed_out:
                version = out.read().strip() or version
        except OSError:
            pass
    _RUSTC_VERSIONS[cwd] = version
    return version


_RUSTC_VERSIONS: dict[str, str] = {}


def print_progress(line: str) -> None:
    """Progress to stderr, overwriting one line on a terminal and silent otherwise."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K  " + line[:100])
        sys.stderr.flush()
