"""architect as an installed package (issue #16): the package data a wheel carries, the extras, `architect doctor`.

The wheel itself is built, installed into a fresh venv outside the clone and used from a temporary folder by
`.ci/wheel-check` (`make wheel-check`, part of `make test`); these tests check what it relies on.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from architect import cli, doctor, paths

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_bundle_manifest_matches_the_workspace() -> None:
    """In a wheel the SDK inherits version, edition, licence and rust-version from the bundle's manifest."""
    root = tomllib.loads((ROOT / "Cargo.toml").read_text())
    bundle = tomllib.loads((paths.bundle_dir() / "Cargo.toml").read_text())
    assert bundle["workspace"]["package"] == root["workspace"]["package"]
    assert bundle["workspace"]["members"] == ["sdk-rs"]


def test_in_the_checkout_the_bundle_links_to_the_sources() -> None:
    bundle = paths.bundle_dir()
    links = {"sdk-rs": ROOT / "sdk-rs", "templates": ROOT / "templates", "Cargo.lock": ROOT / "Cargo.lock"}
    links["adapter"] = ROOT / "finetune" / "adapter"
    links["reader-adapter"] = ROOT / "finetune" / "reader-adapter"
    for name, target in links.items():
        assert (bundle / name).is_symlink() and (bundle / name).resolve() == target.resolve(), name
    assert paths.sdk_dir() == ROOT / "sdk-rs" and paths.sdk_workspace_manifest() == ROOT / "Cargo.toml"
    assert (paths.templates_dir() / "Cargo.toml.j2").is_file() and paths.sdk_lock().is_file()


def test_the_wheel_includes_everything_a_build_reads() -> None:
    """Each wheel glob of [tool.maturin] include matches files, and together they cover the SDK's manifest and
    sources, the lock file, every template and the adapter."""
    includes = PYPROJECT["tool"]["maturin"]["include"]
    wheel = [i["path"] for i in includes if "wheel" in i["format"]]
    matched: set[Path] = set()
    for pattern in wheel:
        found = [p for p in ROOT.glob(pattern) if p.is_file()]
        assert found, pattern
        matched |= {p.resolve() for p in found}
    needed = [paths.sdk_dir() / "Cargo.toml", paths.sdk_lock(), *paths.sdk_dir().glob("src/**/*.rs")]
    needed += [p for p in paths.templates_dir().rglob("*") if p.is_file()]
    needed += [p for p in paths.adapter_dir().iterdir() if p.is_file()]
    needed += [p for p in (paths.bundle_dir() / "reader-adapter").iterdir() if p.is_file()]
    assert not [str(p) for p in needed if p.resolve() not in matched]


def test_every_extra_doctor_reports_is_installable() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(doctor.EXTRAS) <= set(extras)
    assert extras["all"] == ["architect[llm,gym,rl,ray,bench]"]
    # The core install stays light: no torch, no transformers.
    assert not [d for d in PYPROJECT["project"]["dependencies"] if d.startswith(("torch", "transformers", "peft"))]


def test_doctor_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--json"]) == cli.EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["ready"] is True
    found = {f["what"]: f for f in report["findings"]}
    assert found["cargo"]["ok"] and found["rustc"]["ok"] and found["SDK sources"]["ok"]
    assert {"extra [llm]", "extra [gym]", "extra [ray]", "sandbox (build)", "binary jail"} <= set(found)
    assert cli.main(["doctor"]) == cli.EXIT_OK
    assert "ready: architect generate can build and verify here" in capsys.readouterr().out


def test_doctor_without_a_rust_toolchain_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["doctor"]) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "!! cargo: not found on PATH or in ~/.cargo/bin" in out and "https://rustup.rs" in out
    assert "NOT ready" in out


def test_doctor_reads_toolchain_versions() -> None:
    assert doctor._numbers("cargo 1.95.0 (f2d3ce0bd 2026-03-21)") == (1, 95)
    assert doctor._numbers("rustc 1.88.1") < doctor.MIN_RUST
    assert doctor._numbers("garbage") == (0, 0)
