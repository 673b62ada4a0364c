"""Properties the speed work must keep: streamed statistics (memory independent of paths x steps),
scheme choices that all verify, regeneration that does not recompile an unchanged crate, and a start-up
that leaves the heavy imports to the time cargo compiles (without leaving cargo running on a failure).

The timings themselves live in benches/ (`make bench`), not in tests: this machine's load varies.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import architect
from architect.cli import main

pytestmark = pytest.mark.slow

FAST = architect.Options(paths=40_000, steps=40)


def _peak_rss_mib(command: list[str]) -> float:
    """Peak resident memory of ``command``, measured by a fresh interpreter whose only child it is."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # Linux reports KiB


def test_memory_does_not_grow_with_paths_times_steps(tmp_path: Path) -> None:
    """10^8 path-steps in three shapes: peak memory is small and the same (statistics are streamed)."""
    result = architect.generate("Ornstein-Uhlenbeck", out=tmp_path, options=FAST, scheme="euler")
    assert result.passed and result.binary is not None
    peaks = {}
    for paths, steps in [(10_000, 10_000), (1_000_000, 100), (10_000_000, 10)]:
        command = [str(result.binary), "--paths", str(paths), "--steps", str(steps), "--threads", "2"]
        peaks[(paths, steps)] = _peak_rss_mib(command)
    assert max(peaks.values()) < 32, peaks
    # 10^7 paths would need 80 MB per stored state; the largest run stays within 8 MiB of the smallest.
    assert max(peaks.values()) - min(peaks.values()) < 8, peaks


@pytest.mark.parametrize(("text", "kind"), [("GBM", "euler"), ("CIR", "euler"), ("Vasicek", "exact")])
def test_every_scheme_kind_verifies(text: str, kind: str, tmp_path: Path) -> None:
    result = architect.generate(text, out=tmp_path, options=FAST, scheme=kind)
    assert result.passed, result.report["reason"]
    name = result.report["scheme"]["name"]
    assert (name == "exact") == (kind == "exact"), name


def test_exact_scheme_is_refused_for_a_model_without_one(tmp_path: Path, capsys) -> None:
    assert main(["generate", "Heston", "--scheme", "exact", "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "Cargo.toml").exists()


def test_regenerating_an_unchanged_model_leaves_the_crate_untouched(tmp_path: Path) -> None:
    first = architect.generate("CIR", out=tmp_path, options=FAST)
    sources = [tmp_path / name for name in ("Cargo.toml", "Cargo.lock", "src/main.rs", "src/model.rs")]
    stamps = [p.stat().st_mtime_ns for p in sources]
    second = architect.generate("CIR", out=tmp_path, options=FAST)
    assert first.passed and second.passed
    assert [p.stat().st_mtime_ns for p in sources] == stamps, "cargo would recompile a rewritten file"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["scheme"]["name"] == "exact"


def test_native_standard_normals_are_the_engine_stream(tmp_path: Path) -> None:
    """`architect._native.standard_normals(seed, p, n)` is what path p draws: with dX = dW, one step of size 1
    and no drift, the terminal state of path p is its first normal."""
    import numpy as np

    from architect import _native

    result = architect.generate("arithmetic Brownian motion mu=0 sigma=1", out=tmp_path, options=FAST, scheme="euler")
    assert result.binary is not None
    terminal = tmp_path / "terminal.npy"
    subprocess.run(
        [str(result.binary), "--paths", "1030", "--steps", "1", "--seed", "9", "--terminal", str(terminal)],
        check=True,
        capture_output=True,
    )
    drawn = np.load(terminal)[:, 0]
    expected = [_native.standard_normals(9, p, 1)[0] for p in range(1030)]
    assert drawn.tolist() == expected
    assert _native.standard_normals(9, 3, 4)[:1] == [expected[3]]


def test_the_command_line_starts_without_the_verifiers_heavy_imports() -> None:
    """scipy.stats and matplotlib (about a second) load while cargo compiles, not before it starts."""
    probe = "import sys, architect.cli; print(sorted(m for m in ('scipy.stats', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_work_that_fails_while_cargo_compiles_stops_cargo(tmp_path: Path, monkeypatch) -> None:
    """`build_crate(meanwhile=...)`: cargo runs during ``meanwhile``; when that raises, cargo is killed at once."""
    from architect import build, codegen, sandbox

    codegen.write_crate(architect.parse("GBM mu=0.0123457"), tmp_path)
    started: list[sandbox.Running] = []
    real_start = sandbox.start

    def start(*args, **kwargs) -> sandbox.Running:
        started.append(real_start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(sandbox, "start", start)

    def meanwhile() -> None:
        assert started and started[0].proc.poll() is None, "cargo should be running"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build.build_crate(tmp_path, tmp_path / "bin" / "gbm", meanwhile=meanwhile)
    assert started[0].proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "bin" / "gbm").exists()
