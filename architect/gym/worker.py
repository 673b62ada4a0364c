"""A persistent simulator worker: one sandboxed process answering path requests into shared memory.

`Simulator` starts the binary once with ``--serve`` (sdk-rs/src/serve.rs) inside the same sandbox as every
verification run (`architect.sandbox`: bubblewrap's namespaces, rlimits, a minimal environment; the binary then
locks itself down with Landlock and seccomp before any model code runs) and keeps it between calls. Its standard
input is one end of a Unix ``SOCK_SEQPACKET`` socket pair. A request is one message — the binary's own
arguments as a JSON array — with one descriptor attached: shared memory that this process created (a memfd),
sized to the answer and sealed so the worker can neither grow nor shrink it. The worker writes the paths into
it and replies with one JSON line; the array returned maps the same memory. Nothing is copied, pickled or
written to a file, and the memory has no name anywhere: it is freed with the last array that views it.

A worker that crashes, is killed, answers nonsense or does not answer within the run timeout is killed (its
whole process tree), the call raises `RunError` saying which, and the next call starts a fresh worker. Nothing
half-written is returned: the array exists only after a reply that echoes the request.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import math
import mmap
import os
import select
import socket
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from architect import sandbox
from architect.errors import RunError

#: The longest reply read (a few hundred bytes in practice).
MAX_REPLY_BYTES = 64 * 1024
#: The worker's first words (its jail's status) must come within this many seconds of starting.
READY_TIMEOUT_S = 30.0
#: Seals on the shared memory while the worker writes (it cannot resize it), then after its reply (it cannot
#: write to it again through ``write``; Linux ≥ 5.1, ignored before).
SEALS_WHILE_WRITING = fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK if hasattr(fcntl, "F_SEAL_GROW") else 0
F_SEAL_FUTURE_WRITE = getattr(fcntl, "F_SEAL_FUTURE_WRITE", 0x0010)
STDERR_TAIL = 2000


class NotDelivered(RunError):
    """The worker was gone before the request reached it: nothing ran, so the request can be sent to a fresh
    worker (a worker killed between two calls)."""


class Worker:
    """The ``--serve`` process of one binary, started at once; `paths` sends it requests, `close` ends it."""

    def __init__(self, binary: Path, limits: sandbox.Limits, scratch: Path, view: sandbox.View) -> None:
        self.binary = binary
        self.limits = limits
        self.cpu_seconds_used = 0.0  # an upper bound: wall time of each call times the cores
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._stderr = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 - lives as long as the worker
        try:
            self._running = sandbox.start(
                [str(binary), "--serve"],
                limits,
                env=sandbox.run_environment(),
                cwd=scratch,
                stdin=theirs.fileno(),
                stderr=self._stderr,
                view=view,
            )
        except OSError as exc:
            self._sock.close()
            self._stderr.close()
            raise RunError(f"the simulator could not be started: {exc}") from None
        finally:
            theirs.close()
        try:
            self.ready = self._receive(time.monotonic() + READY_TIMEOUT_S, "start")
        except BaseException:
            self.close()
            raise
        if self.ready.get("ready") is not True:
            self.close()
            raise RunError("the simulator worker did not say it was ready")

    @property
    def alive(self) -> bool:
        return self._sock.fileno() >= 0 and self._running.proc.poll() is None

    def paths(self, arguments: list[str], shape: tuple[int, int, int], timeout: float) -> np.ndarray:
        """The paths the binary's ``arguments`` ask for, an array of ``shape`` in memory the worker wrote.

        Any failure closes the worker and raises `RunError`; a refusal of the request (a bad value) raises it
        too but keeps the worker."""
        size = math.prod(shape) * 8
        memory, fd = _shared_memory(size)
        started = time.monotonic()
        try:
            try:
                socket.send_fds(self._sock, [json.dumps(arguments).encode()], [fd])
            except OSError as exc:
                self.close()
                raise NotDelivered(f"the simulator worker could not be sent the request ({exc})") from None
            reply = self._receive(started + timeout, "request")
            _seal(fd, F_SEAL_FUTURE_WRITE)
        finally:
            os.close(fd)
            cores = os.cpu_count() or 1
            self.cpu_seconds_used += (time.monotonic() - started) * cores
        if reply.get("ok") is not True:
            raise RunError(f"the simulator refused the request: {_text(reply.get('error'))}")
        expected = {"paths": shape[0], "dates": shape[1] - 1, "dim": shape[2], "bytes": size}
        wrong = {key: reply.get(key) for key, want in expected.items() if reply.get(key) != want}
        if wrong:
            self.close()
            raise RunError(f"the simulator worker's reply does not echo the request: {_text(wrong)} for {expected}")
        return np.ndarray(shape, dtype=np.float64, buffer=memory, order="C")

    def close(self) -> None:
        """Kill the worker and everything it started; close the socket. Idempotent."""
        with contextlib.suppress(OSError):
            self._sock.close()
        if hasattr(self, "_running"):
            self._running.kill()
        with contextlib.suppress(OSError):
            self._stderr.close()

    # ------------------------------------------------------------------------------ internals
    def _receive(self, deadline: float, what: str) -> dict[str, Any]:
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._died(f"the simulator did not finish within {self.limits.timeout:.0f} s and was killed")
            if poller.poll(min(left, 0.5) * 1000):
                break
        try:
            data = self._sock.recv(MAX_REPLY_BYTES)
        except OSError as exc:
            raise self._died(f"the simulator worker's socket failed ({exc})") from None
        if not data:
            raise self._died(None)
        try:
            reply = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self._died(f"the simulator worker's reply to a {what} is not JSON: {_text(data)}") from None
        if not isinstance(reply, dict):
            raise self._died(f"the simulator worker's reply to a {what} is not a JSON object: {_text(reply)}")
        return reply

    def _died(self, why: str | None) -> RunError:
        """Close the worker; the error that says why it is gone (from its exit status when ``why`` is None)."""
        if why is not None:
            self.close()
            return RunError(why)
        status = self._running.exit_status(timeout=5.0)
        tail = self._stderr_tail()
        self.close()
        if status is None:
            return RunError("the simulator worker closed its socket and was killed")
        if status < 0:
            return RunError(f"the simulator was killed by signal {-status} ({sandbox.signal_name(-status)})")
        said = f": {tail.splitlines()[-1][:300]}" if tail else ""
        return RunError(f"the simulator exited with status {status}{said}")

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_TAIL))
            return self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""


def _shared_memory(size: int) -> tuple[Any, int]:
    """Anonymous shared memory of ``size`` bytes, mapped here: a memfd sealed against resizing where the
    system has them, else an unlinked temporary file. Returns the mapping (a buffer) and a descriptor to send."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("architect-paths", os.MFD_CLOEXEC | getattr(os, "MFD_ALLOW_SEALING", 0))
    else:  # pragma: no cover - macOS: no memfd; the file has no name by the time the worker sees it
        handle, name = tempfile.mkstemp(prefix="architect-paths-")
        os.unlink(name)
        fd = handle
    try:
        os.ftruncate(fd, size)
        _seal(fd, SEALS_WHILE_WRITING)
        memory = _map(fd, size)
    except BaseException:
        os.close(fd)
        raise
    return memory, fd


def _map(fd: int, size: int) -> Any:
    """``size`` bytes of ``fd`` mapped shared and read-write, as a ctypes buffer that unmaps itself when the
    last array viewing it is gone.

    Not `mmap.mmap`: before Python 3.13 it keeps a duplicate of the descriptor open for as long as the
    mapping lives, so a program holding a thousand path arrays would run out of descriptors. The mapping
    itself needs no descriptor once made."""
    libc = _libc()
    if libc is None:  # pragma: no cover - no C library through ctypes: the standard module, descriptor and all
        return mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address is None or address == ctypes.c_void_p(-1).value:
        raise OSError(
            ctypes.get_errno(), f"cannot map {size} bytes of shared memory: {os.strerror(ctypes.get_errno())}"
        )
    buffer = (ctypes.c_char * size).from_address(address)
    weakref.finalize(buffer, libc.munmap, ctypes.c_void_p(address), ctypes.c_size_t(size))
    return buffer


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
        libc.munmap.restype = ctypes.c_int
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    except (OSError, AttributeError):  # pragma: no cover
        return None
    return libc


def _seal(fd: int, seals: int) -> None:
    if seals and hasattr(fcntl, "F_ADD_SEALS"):
        with contextlib.suppress(OSError):  # not a memfd, or a kernel without this seal
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)


def _text(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= 300 else text[:297] + "..."
