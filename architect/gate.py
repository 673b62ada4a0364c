"""The static gate in front of the compiler: a crate is built only if its layout is architect's own
and its model code passes the whitelist.

A generated crate has a fixed layout: `Cargo.toml` and `src/main.rs` are architect's (rendered
from templates/rust/), and `src/model.rs` is the only model-specific file. This module checks a
crate folder against that layout and runs `src/model.rs` through the syntax-level gate in
`architect._native.check_model_source` (the `architect-gate` crate: see its documentation for the
rules). Architect then builds a *staged copy* made from its own templates plus the checked
`model.rs` (`architect.build.build_model`), so no other file of the folder — a `build.rs`, a
`.cargo/config.toml`, a `rust-toolchain.toml`, an extra source file — can reach cargo, and the
file that was checked is the file that is compiled.

A rejection is a `GateError`, which the API turns into a `fail` verdict with the reasons.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from architect.errors import ArchitectError
from architect.paths import find_links

#: Largest model.rs read (the gate itself rejects anything over 128 KiB).
MAX_MODEL_BYTES = 1024 * 1024
#: Entries of the crate folder that cargo, rustc or rustup would read, and why they are refused.
FORBIDDEN_ENTRIES = {
    "build.rs": "a build script runs arbitrary code at build time",
    ".cargo": "a cargo configuration can change the compiler, its flags or add a wrapper",
    "rust-toolchain": "a toolchain file can select another compiler",
    "rust-toolchain.toml": "a toolchain file can select another compiler",
    "benches": "extra cargo targets are not part of a generated crate",
    "examples": "extra cargo targets are not part of a generated crate",
    "tests": "extra cargo targets are not part of a generated crate",
}
SOURCE_FILES = ("main.rs", "model.rs")
#: Code of earlier fixed skeletons (`_code_only`): crates written by an earlier architect still pass,
#: since the build compiles the current skeleton and never the folder's copy. The first one ran
#: `cli::run`, which compiles both engine paths; the second `cli::run_as`, which built the model before
#: the process locked itself down (`cli::run_jailed`).
_EARLIER_MAIN_CODE = frozenset(
    {
        "#![forbid(unsafe_code)]modmodel;fnmain()->std::process::ExitCode{"
        "architect_sdk::cli::run(model::Model::default(),model::SCHEME)}",
        "#![forbid(unsafe_code)]modmodel;fnmain()->std::process::ExitCode{"
        "architect_sdk::cli::run_as::<{model::SCHEME.is_exact()},_,_,_>(model::Model::default(),model::SCHEME,)}",
    }
)
_CRATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,79}")


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


class GateError(ArchitectError):
    """The crate was not built: its layout or its model code is outside what architect accepts."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        shown = "; ".join(str(v) for v in violations[:3])
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        super().__init__(f"the crate was rejected before compiling: {shown}{more}")

    @property
    def diagnostics(self) -> str:
        return "\n".join(str(v) for v in self.violations)


def check_model_source(source: str, file: str = "src/model.rs") -> list[Violation]:
    """The syntax-level gate on model code; an empty list means accepted.

    Fails closed: without the native module nothing is accepted.
    """
    try:
        from architect import _native
    except ImportError:
        return [
            Violation(file, 0, 0, "the static gate is unavailable (architect._native is not built: run `make setup`)")
        ]
    return [Violation(file, line, column, reason) for line, column, reason in _native.check_model_source(source)]


def check_crate(crate_dir: Path, expected_manifest: str, expected_main: str) -> str:
    """Check the folder's layout and model code; return the checked `src/model.rs` text or raise `GateError`.

    ``expected_manifest`` and ``expected_main`` are what architect writes for this crate; the
    folder's copies must say the same (comments, formatting, the crate name and the SDK's path
    aside).
    """
    problems = _layout_problems(crate_dir)
    problems += _manifest_problems(crate_dir / "Cargo.toml", expected_manifest)
    problems += _main_problems(crate_dir / "src" / "main.rs", expected_main)
    source, model_problems = _read_model(crate_dir / "src" / "model.rs")
    problems += model_problems
    if source is not None:
        problems += check_model_source(source)
    if problems:
        raise GateError(problems)
    assert source is not None
    return source


def _layout_problems(crate_dir: Path) -> list[Violation]:
    problems = []
    # Links are refused before the gate (`paths.refuse_links` in `api.verify`); listed here for other callers.
    for name in find_links(crate_dir):
        if name != "src" and not name.startswith("src/"):  # those two are reported below
            what = "the crate folder is" if name == "." else "is"
            problems.append(Violation(name, 0, 0, f"{what} a symbolic link: links are not followed; replace it"))
    for name, why in FORBIDDEN_ENTRIES.items():
        path = crate_dir / name
        if path.exists() or path.is_symlink():
            problems.append(Violation(name, 0, 0, f"not allowed in a generated crate: {why}; delete it"))
    src = crate_dir / "src"
    if src.is_symlink() or not src.is_dir():
        problems.append(Violation("src", 0, 0, "must be a folder holding main.rs and model.rs (not a link)"))
        return problems
    for entry in sorted(src.iterdir()):
        if entry.name not in SOURCE_FILES:
            problems.append(
                Violation(
                    f"src/{entry.name}",
                    0,
                    0,
                    "extra file: a generated crate's src/ holds only main.rs and model.rs; delete it",
                )
            )
        elif entry.is_symlink() or not entry.is_file():
            problems.append(Violation(f"src/{entry.name}", 0, 0, "must be a regular file (not a link)"))
    for stray in sorted(crate_dir.glob("*.rs")):
        problems.append(Violation(stray.name, 0, 0, "extra Rust file outside src/; delete it"))
    return problems


def _read_model(path: Path) -> tuple[str | None, list[Violation]]:
    if path.is_symlink() or not path.is_file():
        return None, []  # reported with the layout (or missing: below)
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        return None, [Violation("src/model.rs", 0, 0, f"{size} bytes is far larger than any model")]
    try:
        return path.read_bytes().decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return None, [Violation("src/model.rs", 0, 0, f"not UTF-8 text: {exc}")]


def _manifest_problems(path: Path, expected_text: str) -> list[Violation]:
    fix = "the manifest is architect's, not the model's: delete Cargo.toml and architect writes the fixed one back"
    if not path.is_file() or path.is_symlink():
        return [Violation("Cargo.toml", 0, 0, "missing or not a regular file")]
    try:
        found = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [Violation("Cargo.toml", 0, 0, f"not a valid manifest ({exc}); {fix}")]
    expected = tomllib.loads(expected_text)
    # The crate name and the SDK's location may differ (another model, another checkout).
    name = _get(found, "package", "name")
    if isinstance(name, str) and _CRATE_NAME.fullmatch(name):
        expected["package"]["name"] = name
        for target in expected.get("bin", []):
            target["name"] = name
    sdk = _get(found, "dependencies", "architect-sdk")
    if isinstance(sdk, dict) and isinstance(sdk.get("path"), str) and set(sdk) == {"path"}:
        expected["dependencies"]["architect-sdk"]["path"] = sdk["path"]
    difference = _first_difference(expected, found)
    if difference is None:
        return []
    return [Violation("Cargo.toml", 0, 0, f"differs from architect's fixed manifest: {difference}; {fix}")]


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _first_difference(expected: Any, found: Any, where: str = "") -> str | None:
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(set(expected) | set(found)):
            here = f"{where}.{key}" if where else key
            if key not in found:
                return f"`{here}` is missing"
            if key not in expected:
                return f"`{here}` is added"
            difference = _first_difference(expected[key], found[key], here)
            if difference:
                return difference
        return None
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        for k, (a, b) in enumerate(zip(expected, found, strict=True)):
            difference = _first_difference(a, b, f"{where}[{k}]")
            if difference:
                return difference
        return None
    if expected != found:
        shown = repr(found)
        return f"`{where}` is {shown if len(shown) < 60 else shown[:57] + '...'}, expected {expected!r}"
    return None


def _main_problems(path: Path, expected_text: str) -> list[Violation]:
    fix = "src/main.rs is architect's fixed skeleton: delete it and architect writes it back"
    if not path.is_file() or path.is_symlink():
        return []  # reported with the layout
    try:
        text = path.read_bytes()[:100_000].decode("utf-8")
    except UnicodeDecodeError:
        return [Violation("src/main.rs", 0, 0, f"not UTF-8 text; {fix}")]
    code = _code_only(text)
    if code != _code_only(expected_text) and code not in _EARLIER_MAIN_CODE:
        return [Violation("src/main.rs", 0, 0, f"differs from the fixed skeleton; {fix}")]
    return []


def _code_only(text: str) -> str:
    """The text without line comments and whitespace: formatting and documentation may differ."""
    return "".join(re.sub(r"//[^\n]*", "", text).split())
