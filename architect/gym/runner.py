"""The gym: run a simulator binary in its own process and bring back its statistics.

The binary is untrusted. Each run goes through `architect.sandbox`: a wall-clock limit after
which its process group is killed, CPU, memory and file-size limits, a minimal environment, no
network where the OS allows it, no standard input, and a private scratch folder as its working
directory. Its output is read from a file of bounded size and must echo the request (paths,
steps, horizon, seed, checkpoints, moment degree). Anything other than a clean exit and a
well-formed statistics document becomes a `RunError` with the reason, never a hang or a crash.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from architect import sandbox
from architect.errors import RunError
from architect.options import MAX_STATS_BYTES, RUN_TIMEOUT_S, RunSpec

STDERR_TAIL = 2000


@dataclass(frozen=True)
class RunOutcome:
    stats: dict[str, Any]
    seconds: float


def run_simulation(
    binary: Path,
    spec: RunSpec,
    *,
    timeout: float = RUN_TIMEOUT_S,
    limits: sandbox.Limits | None = None,
    terminal: Path | None = None,
) -> RunOutcome:
    """Run ``binary`` with ``spec``; return its parsed statistics or raise `RunError` saying why.

    With ``terminal``, the binary also writes its final states there as a (paths, D) float64 .npy file.
    """
    limits = limits or sandbox.run_limits(timeout, MAX_STATS_BYTES)
    with tempfile.TemporaryDirectory(prefix="architect-gym-") as tmp:
        stats_file = Path(tmp) / "stats.json"
        command = [str(Path(binary).absolute()), *spec.arguments(), f"--stats={stats_file}"]
        if terminal is not None:
            command.append(f"--terminal={Path(terminal).absolute()}")
        view = run_view(binary, Path(tmp), terminal)
        stderr, seconds = run_binary(command, limits, Path(tmp), view=view)
        stats = _read_stats(stats_file, stderr)
        _check_echo(stats, spec)
        return RunOutcome(stats=stats, seconds=seconds)


def describe(
    binary: Path,
    *,
    timeout: float = 30.0,
    limits: sandbox.Limits | None = None,
    arguments: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """The binary's own description of its model (`--describe`), with ``arguments`` such as ``--set=kappa=3``
    (the parameters and initial state it then reports are those it would run with)."""
    limits = limits or sandbox.run_limits(timeout, MAX_STATS_BYTES)
    with tempfile.TemporaryDirectory(prefix="architect-gym-") as tmp:
        out = Path(tmp) / "describe.json"
        with out.open("wb") as handle:
            command = [str(Path(binary).absolute()), "--describe", *arguments]
            stderr, _ = run_binary(command, limits, Path(tmp), stdout=handle, view=run_view(binary, Path(tmp)))
        return _read_json(out, stderr, what="description")


def run_view(binary: Path, scratch: Path, terminal: Path | None = None) -> sandbox.View:
    """What a simulator sees: its own program (read-only), its scratch folder and the folder of the
    terminal-state file it was asked for (writable: it writes a temporary file there and renames it)."""
    writable = (scratch,) if terminal is None else (scratch, Path(terminal).absolute().parent)
    return sandbox.View(read_only=(Path(binary).absolute(),), writable=writable)


def run_binary(
    command: list[str], limits: sandbox.Limits, cwd: Path, stdout: Any = None, view: sandbox.View | None = None
) -> tuple[str, float]:
    """Run a simulator binary sandboxed with ``limits``; its stderr's tail and wall seconds, or a `RunError`
    saying why it did not exit 0 (start failure, timeout, signal and the limit it means, status and its last
    line). Every way architect runs a generated binary goes through here (`run_simulation`, `Simulator`)."""
    program = Path(command[0])
    if not program.is_file() or not os.access(program, os.X_OK):
        raise RunError(f"the simulator could not be started: {program} is not an executable file")
    with tempfile.TemporaryFile(dir=cwd) as err:
        try:
            done = sandbox.run(
                command,
                limits,
                env=sandbox.run_environment(),
                cwd=cwd,
                stdout=stdout if stdout is not None else subprocess.DEVNULL,
                stderr=err,
                view=view,
            )
        except OSError as exc:
            raise RunError(f"the simulator could not be started: {exc}") from None
        err.seek(0, 2)
        size = err.tell()
        err.seek(max(0, size - STDERR_TAIL))
        tail = err.read().decode("utf-8", "replace").strip()
    if done.timed_out:
        raise RunError(f"the simulator did not finish within {limits.timeout:.0f} s and was killed")
    code = done.returncode
    if code < 0:
        raise RunError(
            f"the simulator was killed by signal {-code} ({sandbox.signal_name(-code)}){_why(-code, limits)}"
        )
    if code != 0:
        raise RunError(f"the simulator exited with status {code}{_said(tail)}")
    return tail, done.seconds


def _why(number: int, limits: sandbox.Limits) -> str:
    """What a limit-enforcing signal means, in words."""
    if number == getattr(signal, "SIGXCPU", None):
        return f": it used more than its {limits.cpu_seconds} s of CPU time"
    if number == getattr(signal, "SIGXFSZ", None):
        return f": it wrote a file larger than {limits.file_bytes} bytes"
    return ""


def _said(tail: str) -> str:
    last = tail.splitlines()[-1] if tail else ""
    return f": {last[:300]}" if last else ""


def _read_stats(path: Path, stderr: str) -> dict[str, Any]:
    stats = _read_json(path, stderr, what="statistics")
    if stats.get("format") != "architect.stats/1":
        raise RunError(f"the simulator's statistics have an unknown format {str(stats.get('format'))[:80]!r}")
    return stats


def _check_echo(stats: dict[str, Any], spec: RunSpec) -> None:
    """The statistics must describe the run that was asked for, not some other one."""
    expected: dict[str, Any] = {"paths": spec.paths, "steps": spec.steps, "seed": spec.seed}
    for key, want in expected.items():
        got = stats.get(key)
        if isinstance(got, bool) or not isinstance(got, int) or got != want:
            raise RunError(f"the simulator reports {key} = {_short(got)} but {want} was requested")
    horizon = stats.get("horizon")
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, (int, float))
        or not math.isclose(horizon, spec.horizon, rel_tol=1e-12)
    ):
        raise RunError(f"the simulator reports horizon = {_short(horizon)} but {spec.horizon} was requested")
    checkpoints = stats.get("checkpoints")
    if not isinstance(checkpoints, list) or len(checkpoints) != spec.checkpoints:
        count = len(checkpoints) if isinstance(checkpoints, list) else _short(checkpoints)
        raise RunError(f"the simulator reports {count} checkpoints but {spec.checkpoints} were requested")
    exponents = stats.get("exponents")
    degree = max((sum(e) for e in exponents if _int_list(e)), default=0) if isinstance(exponents, list) else 0
    if degree != spec.moment_degree:
        raise RunError(f"the simulator reports moments of degree {degree} but {spec.moment_degree} was requested")


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(k, int) and not isinstance(k, bool) for k in value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _read_json(path: Path, stderr: str, *, what: str) -> dict[str, Any]:
    if not path.exists():
        raise RunError(f"the simulator exited cleanly but wrote no {what}{_said(stderr)}")
    if path.stat().st_size > MAX_STATS_BYTES:
        raise RunError(f"the simulator's {what} file is implausibly large ({path.stat().st_size} bytes)")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise RunError(f"the simulator's {what} are not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise RunError(f"the simulator's {what} are not a JSON object")
    return data


def _no_constants(name: str) -> Any:
    """JSON has no NaN or Infinity; a simulator that writes them has produced a non-finite number."""
    raise ValueError(f"non-finite number {name} in the output")
