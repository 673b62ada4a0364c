"""Smoke test of benches/paths_speed.py: its measurements and its table at a toy size (no timing asserted)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo to build a simulator")


def _bench():
    spec = importlib.util.spec_from_file_location("paths_speed", ROOT / "benches" / "paths_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paths_speed_bench_runs_at_a_toy_size(tmp_path: Path) -> None:
    bench = _bench()
    results = bench.run(["toy"], repeat=1, small_calls=2, folder=tmp_path / "models", say=lambda _: None, models=["ou"])
    rates = results["rates"]
    for what in ("paths", "power-sums", "fill", "numpy (n, k+1)", "numpy (k+1, n)"):
        assert rates[f"toy|ou|{what}"] > 0
    assert results["small_call_seconds"]["ou"] > 0
    text = bench.section(results)
    assert text.startswith(bench.SECTION) and "| 200 x 10 | OU |" in text
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nkept\n")
    bench.write_doc(text, doc)
    bench.write_doc(text, doc)  # a second run replaces the section, it does not add another
    assert doc.read_text().count(bench.SECTION) == 1 and "kept" in doc.read_text()
