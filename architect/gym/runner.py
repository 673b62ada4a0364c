"""The gym: run a simulator binary in its own process and bring back its statistics.

The binary is untrusted. Each run has a wall-clock limit, reads no standard input, and
its output is read from a file of bounded size; anything other than a clean exit and a
well-formed statistics document becomes a `RunError` with the reason, never a hang.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from architect.errors import RunError

RUN_TIMEOUT_S = 300.0
MAX_STATS_BYTES = 64 * 1024 * 1024
STDERR_TAIL = 2000


@dataclass(frozen=True)
class RunSpec:
    """One simulation request, mirroring the binary's command-line options."""

    paths: int = 100_000
    steps: int = 100
    horizon: float = 1.0
    seed: int = 1
    threads: int = 0
    checkpoints: int = 4
    # 8: the standard errors of third and fourth central moments need power sums of twice their degree.
    moment_degree: int = 8

    def arguments(self) -> list[str]:
        return [f"--{name.replace('_', '-')}={value}" for name, value in asdict(self).items()]


@dataclass(frozen=True)
class RunOutcome:
    stats: dict[str, Any]
    seconds: float


def run_simulation(
    binary: Path, spec: RunSpec, *, timeout: float = RUN_TIMEOUT_S, terminal: Path | None = None
) -> RunOutcome:
    """Run ``binary`` with ``spec``; return its parsed statistics or raise `RunError` saying why.

    With ``terminal``, the binary also writes its final states there as a (paths, D) float64 .npy file.
    """
    with tempfile.TemporaryDirectory(prefix="architect-gym-") as tmp:
        stats_file = Path(tmp) / "stats.json"
        command = [str(binary), *spec.arguments(), f"--stats={stats_file}"]
        if terminal is not None:
            command.append(f"--terminal={terminal}")
        started = time.monotonic()
        stderr = _run(command, timeout)
        seconds = time.monotonic() - started
        return RunOutcome(stats=_read_stats(stats_file, stderr), seconds=seconds)


def describe(binary: Path, *, timeout: float = 30.0) -> dict[str, Any]:
    """The binary's own description of its model (`--describe`)."""
    with tempfile.TemporaryDirectory(prefix="architect-gym-") as tmp:
        out = Path(tmp) / "describe.json"
        with out.open("wb") as handle:
            stderr = _run([str(binary), "--describe"], timeout, stdout=handle)
        return _read_json(out, stderr, what="description")


def _run(command: list[str], timeout: float, stdout: Any = subprocess.DEVNULL) -> str:
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise RunError(f"the simulator did not finish within {timeout:.0f} s and was killed") from None
        except OSError as exc:
            raise RunError(f"the simulator could not be started: {exc}") from None
        err.seek(0)
        tail = err.read()[-STDERR_TAIL:].decode("utf-8", "replace").strip()
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name if -proc.returncode in signal.valid_signals() else "?"
        raise RunError(f"the simulator was killed by signal {-proc.returncode} ({name}){_said(tail)}")
    if proc.returncode != 0:
        raise RunError(f"the simulator exited with status {proc.returncode}{_said(tail)}")
    return tail


def _said(tail: str) -> str:
    last = tail.splitlines()[-1] if tail else ""
    return f": {last}" if last else ""


def _read_stats(path: Path, stderr: str) -> dict[str, Any]:
    stats = _read_json(path, stderr, what="statistics")
    if stats.get("format") != "architect.stats/1":
        raise RunError(f"the simulator's statistics have an unknown format {stats.get('format')!r}")
    return stats


def _read_json(path: Path, stderr: str, *, what: str) -> dict[str, Any]:
    if not path.exists():
        raise RunError(f"the simulator exited cleanly but wrote no {what}{_said(stderr)}")
    if path.stat().st_size > MAX_STATS_BYTES:
        raise RunError(f"the simulator's {what} file is implausibly large ({path.stat().st_size} bytes)")
    try:
        data = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"the simulator's {what} are not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RunError(f"the simulator's {what} are not a JSON object")
    return data
