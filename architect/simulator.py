"""`Simulator`: drive a generated simulator binary from Python and get its whole paths as a numpy array.

    sim = architect.Simulator("out/ou")          # or result.simulator()
    x = sim.paths(10_000, steps=200, dates=50)   # (10000, 51, D) float64, a view of shared memory
    t = sim.times(200, dates=50)                 # (51,)

The binary runs in its own process, in the sandbox of every verification run (`architect.sandbox`, the
gym's view of the filesystem, `Options.run_limits`), started at the first call and kept between calls: a
persistent worker (`architect.gym.worker`, the binary's ``--serve``). Each call hands it fresh, nameless
shared memory (a memfd) that it writes the paths into; the array returned maps that memory, with no copy,
and it is freed with the array. A worker that crashes, hangs past the timeout or answers anything but what
was asked is killed and the call raises `RunError`; the next call starts a fresh one. docs/gym.md, "Paths".

The model's own checks run before the binary does: ``params`` and ``x0`` are validated against model.json
(unknown names, constraints, the correlation matrix, domains) and refused with a `ModelError` naming them.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from architect import sandbox
from architect.errors import ModelError, RunError, UsageError
from architect.gym.runner import run_view
from architect.gym.worker import NotDelivered, Worker
from architect.model import Parameter, SdeModel, domain_admits
from architect.options import Options

#: The most bytes of model.json or report.json read (both are a few kilobytes).
MAX_JSON_BYTES = 4 * 1024 * 1024
#: `stream`'s default block: about this many bytes of paths at a time.
STREAM_BYTES = 64 * 1024 * 1024
UINT64 = 2**64


class Simulator:
    """A generated simulator in its output folder (model.json, report.json, bin/<slug>).

    ``options`` gives the run limits (`Options.run_limits`: the verifier's, by default). Use it as a context
    manager, or call `close`; a simulator that is garbage-collected cleans up the same way.
    """

    def __init__(self, out_dir: str | Path, *, options: Options | None = None) -> None:
        self.folder = Path(out_dir).absolute()
        self.model = _load_model(self.folder / "model.json")
        self.binary = self.folder / "bin" / self.model.slug
        if not self.binary.is_file():
            raise UsageError(f"{self.folder} has no simulator binary bin/{self.model.slug} (generate it first)")
        self.options = options or Options()
        # One private folder per simulator: the worker's working directory (it writes nothing there: it
        # cannot open files once locked down) and its standard error.
        self._scratch = Path(tempfile.mkdtemp(prefix="architect-sim-"))
        self._workers = _Workers()
        self._finalizer = weakref.finalize(self, _clean_up, self._workers, self._scratch)

    # ------------------------------------------------------------------ what it simulates
    @property
    def state(self) -> tuple[str, ...]:
        """The state variables, in the order of the arrays' last axis."""
        return self.model.state

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Each parameter: its name, default ``value``, ``constraint`` and ``description`` (from model.json)."""
        return self.model.parameters

    @property
    def report_path(self) -> Path:
        return self.folder / "report.json"

    @property
    def binary_sha256(self) -> str:
        """The SHA-256 of the binary as it is now."""
        return _sha256(self.binary)

    @property
    def verified(self) -> bool:
        """True only when report.json passed and records this binary's SHA-256 (``artifacts.binary_sha256``)."""
        return self._verification() is None

    def _verification(self) -> str | None:
        """None when verified, else why not."""
        report = _load_report(self.report_path)
        if report is None:
            return "no readable report.json"
        if report.get("verdict") != "pass":
            return f"report.json's verdict is {str(report.get('verdict'))[:20]!r}"
        artifacts = report.get("artifacts")
        recorded = artifacts.get("binary_sha256") if isinstance(artifacts, dict) else None
        if not isinstance(recorded, str):
            return "report.json records no binary SHA-256"
        if recorded != self.binary_sha256:
            return "the binary is not the one report.json verified (SHA-256 differs)"
        return None

    # ----------------------------------------------------------------------------- paths
    def times(self, steps: int, horizon: float = 1.0, dates: int | None = None) -> np.ndarray:
        """The times of `paths`' second axis: 0, then ``dates`` equally spaced dates up to ``horizon``."""
        k = _dates(steps, dates)
        _check_horizon(horizon)
        return float(horizon) * np.arange(k + 1, dtype=np.float64) / k

    def paths(
        self,
        n: int,
        steps: int,
        horizon: float = 1.0,
        seed: int = 0,
        *,
        params: Mapping[str, float] | None = None,
        x0: Mapping[str, float] | None = None,
        dates: int | None = None,
        threads: int = 0,
        first_path: int = 0,
    ) -> np.ndarray:
        """``n`` paths: a C-contiguous float64 array (n, k + 1, D) of the initial state and the state at each of
        the k = ``dates`` (default ``steps``) equally spaced dates up to ``horizon`` (`times`).

        ``params`` overrides parameter values, ``x0`` initial values (by state name); both are checked against
        the model first (`ModelError`). ``first_path`` is the index of the first path returned: row i is path
        ``first_path + i`` of ``seed``, the same numbers in every call. The array is a writable view of the
        shared memory the binary wrote.
        """
        if not _is_int(first_path) or not 0 <= first_path < UINT64:
            raise UsageError(f"first_path must be an integer in [0, 2^64), got {first_path!r}")
        return self._run(n, steps, horizon, seed, params, x0, dates, threads, first_path=int(first_path))

    def stream(
        self,
        n: int,
        steps: int,
        horizon: float = 1.0,
        seed: int = 0,
        *,
        params: Mapping[str, float] | None = None,
        x0: Mapping[str, float] | None = None,
        dates: int | None = None,
        threads: int = 0,
        chunk: int | None = None,
    ) -> Iterator[np.ndarray]:
        """The ``n`` paths of `paths` in successive blocks of ``chunk`` paths (default: about 64 MiB each), one
        run per block (``--first-path``): concatenated, they equal ``paths(n, ...)`` bit for bit."""
        k = _dates(steps, dates)
        _count(n, "n")
        if chunk is None:
            chunk = max(1, STREAM_BYTES // ((k + 1) * self.model.dim * 8))
        _count(chunk, "chunk")
        # Checked once, before the first block, so a bad request fails before anything runs.
        self._arguments(n, steps, horizon, seed, params, x0, dates, threads, first_path=0)

        def blocks() -> Iterator[np.ndarray]:
            for first in range(0, n, chunk):
                size = min(chunk, n - first)
                yield self._run(size, steps, horizon, seed, params, x0, dates, threads, first_path=first)

        return blocks()

    # -------------------------------------------------------------------------- running
    def _arguments(
        self,
        n: int,
        steps: int,
        horizon: float,
        seed: int,
        params: Mapping[str, float] | None,
        x0: Mapping[str, float] | None,
        dates: int | None,
        threads: int,
        first_path: int,
    ) -> list[str]:
        """The binary's arguments (all but ``--paths-out``), after every check Python can make."""
        _count(n, "n")
        k = _dates(steps, dates)
        _check_horizon(horizon)
        if not _is_int(seed) or not 0 <= seed < UINT64:
            raise UsageError(f"seed must be an integer in [0, 2^64), got {seed!r}")
        if not _is_int(threads) or threads < 0:
            raise UsageError(f"threads must be a non-negative integer (0 = all cores), got {threads!r}")
        if first_path + n > UINT64:
            raise UsageError("first path + n must stay below 2^64")
        arguments = [
            f"--paths={n}",
            f"--steps={steps}",
            f"--horizon={float(horizon)!r}",
            f"--seed={seed}",
            f"--threads={threads}",
        ]
        if dates is not None:
            arguments.append(f"--dates={k}")
        if first_path:
            arguments.append(f"--first-path={first_path}")
        for name, value in check_parameters(self.model, params).items():
            arguments += ["--set", f"{name}={value!r}"]
        for name, value in check_initial(self.model, x0).items():
            arguments += ["--x0", f"{name}={value!r}"]
        return arguments

    def _run(
        self,
        n: int,
        steps: int,
        horizon: float,
        seed: int,
        params: Mapping[str, float] | None,
        x0: Mapping[str, float] | None,
        dates: int | None,
        threads: int,
        *,
        first_path: int,
    ) -> np.ndarray:
        if self.closed:
            raise UsageError("this simulator is closed")
        arguments = self._arguments(n, steps, horizon, seed, params, x0, dates, threads, first_path)
        # The worker computes the power sums of every run too; the lowest degree makes them nearly free.
        arguments += ["--checkpoints=1", "--moment-degree=1"]
        shape = (n, _dates(steps, dates) + 1, self.model.dim)
        size = math.prod(shape) * 8
        _check_memory(size)
        timeout = self.options.run_limits().timeout
        with self._workers.lock:
            try:
                return self._worker_for(size).paths(arguments, shape, timeout)
            except NotDelivered:  # the worker died between calls; nothing ran: once more, on a fresh one
                return self._worker_for(size).paths(arguments, shape, timeout)

    def _worker_for(self, size: int) -> Worker:
        """The running worker if it can take a request of ``size`` bytes, else a fresh one.

        A worker gets the verifier's limits (`Options.run_limits`) with two widenings: its file-size limit
        fits the largest answer asked of it so far (rounded up to a power of two; a larger request starts a
        new worker), and its CPU limit is twice the verifier's, because it serves many runs: it is replaced
        before its calls could have used more than the verifier's (each call's wall time times the cores
        is counted), so one call always has a whole run's CPU time left."""
        base = self.options.run_limits()
        worker = self._workers.worker
        if worker is not None and (
            not worker.alive
            or (worker.limits.file_bytes or 0) < size
            or worker.cpu_seconds_used > (base.cpu_seconds or math.inf)
        ):
            worker.close()
            worker = self._workers.worker = None
        if worker is None:
            room = max(base.file_bytes or 0, 1 << max(size - 1, 1).bit_length())
            limits = replace(
                base,
                file_bytes=room,
                cpu_seconds=None if base.cpu_seconds is None else 2 * base.cpu_seconds,
            )
            self.options.check_jail()
            worker = _start_worker(self.binary, limits, self._scratch)
            if self.options.require_jail and not _locked_down(worker.ready.get("jail")):
                worker.close()
                raise RunError(f"--require-jail: the simulator did not lock itself down completely ({worker.ready})")
            self._workers.worker = worker
        return worker

    @property
    def jail(self) -> dict[str, Any] | None:
        """What the running worker's lock-down achieved (Landlock, seccomp, no-new-privileges), as it reported
        when it started; None before the first call."""
        worker = self._workers.worker
        jail = worker.ready.get("jail") if worker is not None else None
        return jail if isinstance(jail, dict) else None

    # ----------------------------------------------------------------------- life cycle
    def close(self) -> None:
        """Stop the worker process and remove the simulator's scratch folder. Arrays already returned stay
        valid (each maps its own shared memory)."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------- display
    def __repr__(self) -> str:
        why = self._verification()
        status = f"verified by {self.report_path}" if why is None else f"unverified: {why}"
        return f"<Simulator {self.model.name!r} ({', '.join(self.state)}) at {self.folder}: {status}>"

    def _repr_html_(self) -> str:
        model = self.model
        why = self._verification()
        status = (
            f'<span style="color:#1a7f37">&#10004; verified</span> by <code>{_e(self.report_path)}</code>'
            if why is None
            else f'<span style="color:#cf222e">&#10008; unverified</span>: {_e(why)}'
        )
        listed = ("Parameters:", "Initial state:", "Domain:")  # shown in the table and the line below instead
        lines = [line.strip() for line in model.describe().splitlines()[1:] if not line.startswith(listed)]
        equations = "<br>".join(f"<code>{_e(line)}</code>" for line in lines)
        rows = "".join(
            f"<tr><td><code>{_e(p.name)}</code></td><td>{p.value:g}</td><td>{_e(p.constraint)}</td>"
            f"<td>{_e(p.description)}</td></tr>"
            for p in model.parameters
        )
        initial = ", ".join(
            f"{_e(name)}(0) = {value:g} ({_e(domain)})"
            for name, value, domain in zip(model.state, model.initial, model.domain, strict=True)
        )
        return (
            f"<div><b>Simulator</b> <code>{_e(model.name)}</code> &mdash; {status}"
            f"<div>{equations}</div><div>initial state: {initial}</div>"
            "<table><thead><tr><th>parameter</th><th>default</th><th>constraint</th><th>description</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            f"<div>binary <code>{_e(self.binary)}</code></div></div>"
        )


# ----------------------------------------------------------------------------- validation
def check_parameters(model: SdeModel, params: Mapping[str, float] | None) -> dict[str, float]:
    """``params`` as floats, after the model's own checks with those values (`ModelError` naming the parameter)."""
    if not params:
        return {}
    known = {p.name for p in model.parameters}
    values: dict[str, float] = {}
    for name, value in params.items():
        if name not in known:
            listed = ", ".join(p.name for p in model.parameters) or "none"
            raise ModelError(f"unknown parameter {name!r} of {model.name} (its parameters: {listed})")
        values[name] = _finite(value, f"parameter {name}")
    try:
        model.with_parameters(**values)
    except ModelError as exc:
        message = str(exc)
        if not any(name in message for name in values):
            given = ", ".join(f"{name}={value:g}" for name, value in values.items())
            message = f"{message} (with {given})"
        raise ModelError(message) from None
    return values


def check_initial(model: SdeModel, x0: Mapping[str, float] | None) -> dict[str, float]:
    """``x0`` as floats: known state variables, finite values inside their domains."""
    if not x0:
        return {}
    values: dict[str, float] = {}
    for name, value in x0.items():
        if name not in model.state:
            raise ModelError(f"unknown state variable {name!r} of {model.name} (its state: {', '.join(model.state)})")
        number = _finite(value, f"initial value {name}")
        domain = model.domain[model.state.index(name)]
        if domain == "positive" and not number > 0:
            raise ModelError(f"initial value {name} must be positive (its domain), got {number:g}")
        if domain == "nonnegative" and not number >= 0:
            raise ModelError(f"initial value {name} must be non-negative (its domain), got {number:g}")
        if not domain_admits(domain, number):  # an interval domain, "[0, 1]"
            raise ModelError(f"initial value {name} must lie in {domain} (its domain), got {number:g}")
        values[name] = number
    return values


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ModelError(f"{what} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ModelError(f"{what} must be a finite number, got {value!r}")
    return number


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _count(value: object, what: str) -> None:
    if not _is_int(value) or int(value) < 1:  # type: ignore[call-overload]
        raise UsageError(f"{what} must be a positive integer, got {value!r}")


def _dates(steps: int, dates: int | None) -> int:
    _count(steps, "steps")
    if dates is None:
        return steps
    _count(dates, "dates")
    if steps % dates:
        raise UsageError(f"steps ({steps}) must be a multiple of dates ({dates})")
    return dates


def _check_horizon(horizon: float) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float)) or not 0 < horizon < math.inf:
        raise UsageError(f"horizon must be a positive finite number, got {horizon!r}")


# ------------------------------------------------------------------------------- files
def _check_memory(size: int) -> None:
    """Refuse an answer larger than the machine's memory before anything runs."""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if size > total:
            raise UsageError(
                f"the paths need {size / 2**20:.0f} MiB but this machine has {total / 2**20:.0f} MiB of memory: "
                "ask for fewer paths or dates, or use stream()"
            )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_json(path: Path) -> Any:
    with path.open("rb") as handle:
        data = handle.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"{path} is larger than {MAX_JSON_BYTES} bytes")
    return json.loads(data.decode("utf-8"))


def _load_model(path: Path) -> SdeModel:
    if not path.is_file():
        raise UsageError(f"{path.parent} is not an architect output folder (no model.json)")
    try:
        data = _read_json(path)
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelError(f"model file {path}: {str(exc)[:200]}") from None
    try:
        return SdeModel.from_dict(data)
    except ModelError as exc:
        raise ModelError(f"model file {path}: {exc}") from None


def _load_report(path: Path) -> dict[str, Any] | None:
    try:
        report = _read_json(path)
    except (OSError, ValueError, RecursionError):
        return None
    return report if isinstance(report, dict) else None


# ---------------------------------------------------------------------------- the worker
class _Workers:
    """The simulator's worker, if one runs, and the lock that gives one call at a time to it. Held apart from
    the `Simulator` so that its finalizer can stop the worker without keeping the simulator alive."""

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.lock = threading.Lock()


def _locked_down(jail: object) -> bool:
    return isinstance(jail, dict) and (jail.get("landlock"), jail.get("seccomp"), jail.get("no_new_privs")) == (
        "enforced",
        "enforced",
        True,
    )


def _clean_up(workers: _Workers, scratch: Path) -> None:
    if workers.worker is not None:
        workers.worker.close()
        workers.worker = None
    shutil.rmtree(scratch, ignore_errors=True)


def _start_worker(binary: Path, limits: sandbox.Limits, scratch: Path) -> Worker:
    """A worker for ``binary``, with a hint for a binary that predates ``--serve``."""
    try:
        return Worker(binary, limits, scratch, view=run_view(binary, scratch))
    except RunError as exc:
        if "status 2" in str(exc) and "--serve" in str(exc):
            raise RunError(
                f"this simulator binary predates the persistent worker (--serve): regenerate it with this "
                f"architect ({exc})"
            ) from None
        raise


def _e(value: object) -> str:
    return html.escape(str(value))


__all__ = ["Simulator", "check_initial", "check_parameters"]
