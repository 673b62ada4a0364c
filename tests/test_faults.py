"""Faults of the simulator get verdicts through the whole API: a binary that panics, segfaults, loops forever,
prints garbage, writes a truncated file, returns NaN or infinity, or lies about its run gets `fail` with the
reason, in bounded time, with a report on disk; architect itself neither crashes nor hangs.

The crate is a real generated one and passes the real gate; only the compiler is replaced, by a planted
program (tests/planted.py) that stands in for the binary it would have produced.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import edited_crates
import pytest
from planted import HONEST, planted

import architect
from architect import api, build
from architect.cli import main

OPTIONS = api.Options(paths=1000, steps=4, timeout=20)


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    """A real generated GBM crate (no binary) with its model.json, as `verify` expects it."""
    return edited_crates.crate(tmp_path, "GBM", scheme="auto")[1]


def plant(monkeypatch, body: str) -> None:
    """Make the build produce a planted program running ``body`` instead of compiling."""

    def fake_build(crate_name, fixed_files, model_source, binary_dest: Path, **_kwargs) -> build.BuildResult:
        source = planted(binary_dest.parent.parent / ".planted", body)
        binary_dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, binary_dest)
        return build.BuildResult(binary=binary_dest, crate_name=crate_name, warnings=(), seconds=0.0)

    monkeypatch.setattr(build, "build_model", fake_build)


RUN_ONLY = "if DESCRIBE:\n    describe()\n    sys.exit(0)\n"
#: A sum that overflows to infinity when read (1e999 is valid JSON).
INF_SUM = "d = stats(); d['checkpoints'][0]['sums'][0] = 'INF'; write(None, json.dumps(d).replace('\"INF\"', '1e999'))"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (RUN_ONLY + "sys.stderr.write('thread main panicked at src/model.rs:40:9\\n'); sys.exit(101)", "status 101"),
        (RUN_ONLY + "import ctypes; ctypes.string_at(0)", "SIGSEGV"),
        ("import ctypes; ctypes.string_at(0)", "SIGSEGV"),
        (RUN_ONLY + "print('\\x00garbage' * 100000)", "wrote no statistics"),
        (RUN_ONLY + "write(None, json.dumps(stats())[:300])", "not valid JSON"),
        (RUN_ONLY + "write(None, 'NaN')", "non-finite number NaN"),
        (RUN_ONLY + "d = stats(); d['checkpoints'][0]['sums'][0] = None; write(d)", "must contain only finite numbers"),
        (RUN_ONLY + INF_SUM, "must contain only finite numbers"),
        (RUN_ONLY + "d = stats(); d['checkpoints'][1]['nonfinite'] = 3; write(d)", "all paths finite: failed"),
        (RUN_ONLY + "write(stats(paths=100000))", "reports paths = 100000 but 1000 was requested"),
        (RUN_ONLY + "d = stats(); d['checkpoints'][0]['count'] = 100000; write(d)", "every path counted: failed"),
        (RUN_ONLY + "write(stats(seed=0))", "reports seed = 0 but"),
        ("describe(parameters={'mu': 0.5, 'sigma': 0.2}) if DESCRIBE else write(stats())", "parameter mu is 0.5"),
        ("describe(scheme={'x' * 10: list(range(10))}) if DESCRIBE else write(stats(paths=1))", "reports paths = 1"),
        ("print('{') if DESCRIBE else write(stats())", "description are not valid JSON"),
    ],
)
def test_every_fault_is_a_fail_verdict_with_its_reason(crate: Path, monkeypatch, body: str, reason: str) -> None:
    plant(monkeypatch, body)
    started = time.monotonic()
    result = architect.verify(crate, options=OPTIONS)
    assert time.monotonic() - started < 60
    assert result.report["verdict"] == "fail"
    assert reason in result.report["reason"], result.report["reason"]
    on_disk = json.loads((crate / "report.json").read_text())
    assert on_disk["verdict"] == "fail" and on_disk["reason"] == result.report["reason"]


def test_a_binary_that_never_finishes_is_stopped_by_the_timeout(crate: Path, monkeypatch) -> None:
    plant(monkeypatch, RUN_ONLY + "while True:\n    pass")
    started = time.monotonic()
    result = architect.verify(crate, options=api.Options(paths=1000, steps=4, timeout=2))
    assert time.monotonic() - started < 30
    assert result.report["verdict"] == "fail"
    assert "did not finish within 2 s and was killed" in result.report["reason"]


def test_the_cli_reports_a_fault_with_exit_1(crate: Path, monkeypatch, capsys) -> None:
    plant(monkeypatch, RUN_ONLY + "import os; os.abort()")
    assert main(["verify", str(crate), "--paths", "1000", "--steps", "4", "--timeout", "20"]) == 1
    out = capsys.readouterr().out
    assert "Verdict: FAIL" in out and "SIGABRT" in out


def test_an_honest_planted_binary_reaches_the_statistics(crate: Path, monkeypatch) -> None:
    """The control for the faults above: with nothing wrong, the run gets as far as the moment checks."""
    plant(monkeypatch, HONEST)
    result = architect.verify(crate, options=OPTIONS)
    kinds = {c["kind"] for c in result.report["checks"]}
    assert "mean" in kinds, result.report["reason"]
    assert all(c["passed"] for c in result.report["checks"] if c["kind"] == "sanity")
