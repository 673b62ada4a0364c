"""Smoke test of benches/env_speed.py: every measurement and its table at a toy size (no timing asserted)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.gym_models import model_out

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo to build a simulator")


def _bench():
    spec = importlib.util.spec_from_file_location("env_speed", ROOT / "benches" / "env_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_speed_bench_runs_at_a_toy_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bench = _bench()
    models = model_out("ou", tmp_path_factory).parent  # the gym tests' OU, when already generated
    monkeypatch.setattr(bench, "DATES", 3)
    monkeypatch.setitem(bench.KWARGS, "dates", 3)
    results = bench.run(0.0, folder=models, say=lambda _: None, sizes=(1, 4), sync=2)
    rates = results["rates"]
    for key in ("vector 1", "vector 4", "sync 2", "single make", "single unwrapped", "pure python"):
        assert rates[key] > 0, key
    text = bench.section(results)
    assert text.startswith(bench.SECTION) and "| single env, unwrapped |" in text
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nkept\n\n## Later\n\nalso kept\n")
    bench.write_doc(text, doc)
    bench.write_doc(text, doc)  # a second run replaces the section, it does not add another
    written = doc.read_text()
    assert written.count(bench.SECTION) == 1 and "kept" in written and "also kept" in written
