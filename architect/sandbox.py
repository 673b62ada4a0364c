"""Run untrusted programs — the compiler on model code, the simulator binaries — inside limits.

Every child gets:

- a wall-clock timeout, after which everything it started is killed (it leads a session of its
  own; the process group and, on Linux, every process of the session get SIGKILL — also when it
  ends normally, so nothing it started outlives it);
- resource limits (``setrlimit``, POSIX only): CPU seconds, address space, size of any file it
  writes, open files, and no core dumps;
- a minimal environment: only the variables a compiler or simulator needs, never the caller's
  tokens and secrets;
- on Linux, a jail of namespaces (`bubblewrap`, ``bwrap``, where installed and allowed): a mount
  namespace in which only the system's libraries and programs (``/usr``), the paths of its `View`
  (read-only or writable) and private ``/proc``, ``/dev`` and ``/tmp`` exist — no home folder, no
  ``/etc``; a PID namespace, so everything it starts dies with it (also a program that left the
  session with setsid()); and network, IPC and UTS namespaces. Without bubblewrap, ``unshare``
  gives the network and PID namespaces only (as an unprivileged user namespace when we are not
  root);
- no standard input (the simulator's persistent worker: one socket to its caller), a working directory of our
  choosing, and (Linux) death with its parent.

What was enforced is recorded in every report (`describe`), and docs/security.md says what each
platform enforces.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

try:  # POSIX only
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

GiB = 1024**3
MiB = 1024**2

#: Variables a build may inherit (values from the caller's environment): where the toolchain is,
#: and the locale. Everything else — tokens, keys, RUSTFLAGS, RUSTC_WRAPPER — is dropped.
BUILD_ENV_KEEP = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    # Windows needs these to start any process at all.
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
)
#: A simulator needs no environment at all beyond a search path and a locale.
RUN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class Limits:
    """Limits for one child process; ``None`` leaves a limit as inherited."""

    timeout: float
    cpu_seconds: int | None = None
    memory_bytes: int | None = None
    file_bytes: int | None = None
    open_files: int | None = None
    network: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_seconds": self.timeout,
            "cpu_seconds": self.cpu_seconds,
            "address_space_bytes": self.memory_bytes,
            "file_size_bytes": self.file_bytes,
            "open_files": self.open_files,
            "core_dumps": False,
        }


def build_limits(timeout: float = 900.0) -> Limits:
    """cargo and rustc: generous memory (LLVM is hungry), bounded files, offline."""
    return Limits(
        timeout=timeout,
        cpu_seconds=int(2 * timeout) + 60,
        memory_bytes=16 * GiB,
        file_bytes=4 * GiB,
        open_files=None,
        network=False,
    )


def run_limits(timeout: float, output_bytes: int = 64 * MiB) -> Limits:
    """A simulator: CPU for every core for the whole ``timeout`` (`options.RUN_TIMEOUT_S` by default, through
    `Options.run_limits`), memory for a thread per core.

    The limits depend on the machine, not on the requested thread count, so that reports of
    the same run at different ``--threads`` are identical.
    """
    cores = os.cpu_count() or 1
    return Limits(
        timeout=timeout,
        cpu_seconds=int(timeout * cores) + 10,
        memory_bytes=2 * GiB + 256 * MiB * cores,
        file_bytes=output_bytes + MiB,
        open_files=64,
        network=False,
    )


@dataclass(frozen=True)
class View:
    """The files a jailed child may see besides the system's programs and libraries.

    Paths that do not exist are left out. Without bubblewrap the child sees everything the user
    does (the report says so)."""

    read_only: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()


#: System paths every jailed child sees, read-only: programs and shared libraries (merged-/usr
#: systems make /bin, /lib, … links into /usr), the C compiler's alternatives, the loader's cache.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/alternatives", "/etc/ld.so.cache")


@dataclass(frozen=True)
class Completed:
    returncode: int
    seconds: float
    timed_out: bool


# ------------------------------------------------------------------------------- environment
def build_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's toolchain variables only, plus ``extra``."""
    env = {k: os.environ[k] for k in BUILD_ENV_KEEP if k in os.environ}
    env.setdefault("PATH", os.defpath)
    cargo_bin = str(Path.home() / ".cargo" / "bin")
    if cargo_bin not in env["PATH"].split(os.pathsep):
        env["PATH"] = env["PATH"] + os.pathsep + cargo_bin
    env["CARGO_TERM_COLOR"] = "never"
    env.update(extra or {})
    return env


def run_environment() -> dict[str, str]:
    env = dict(RUN_ENV)
    if sys.platform == "win32":  # pragma: no cover
        env.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE") if k in os.environ})
    return env


# ------------------------------------------------------------------------------- namespaces
def _namespaces_disabled() -> bool:
    return sys.platform != "linux" or bool(os.environ.get("ARCHITECT_NO_NETNS"))


def _probe(prefix: Sequence[str]) -> bool:
    true = shutil.which("true") or "/bin/true"
    try:
        probe = subprocess.run([*prefix, true], stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@functools.lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """The ``bwrap`` program, if it can build a jail here (probed once per process)."""
    if _namespaces_disabled():
        return None
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    return bwrap if _probe(_bwrap_prefix(bwrap, View(), Path("/"), network=False)) else None


def _bwrap_prefix(bwrap: str, view: View, cwd: Path, *, network: bool) -> list[str]:
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all"]
    if network:
        args.append("--share-net")
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for system in SYSTEM_PATHS:
        path = Path(system)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), system]
        elif path.exists():
            args += ["--ro-bind", system, system]
    for flag, paths_ in (("--ro-bind", view.read_only), ("--bind", view.writable)):
        for path in paths_:
            if path.exists():
                real = str(Path(path).absolute())
                args += [flag, real, real]
    args += ["--chdir", str(cwd.absolute()), "--"]
    return args


@functools.lru_cache(maxsize=1)
def network_isolation() -> tuple[str, ...] | None:
    """The ``unshare`` prefix (no bubblewrap) that starts a program without network and in its own
    PID namespace, or None where none works here.

    Probed once per process: ``unshare`` in an unprivileged user namespace (or directly when we are
    root). Kernels or containers that forbid user namespaces get None.
    """
    if _namespaces_disabled():
        return None
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    jail = ("--net", "--pid", "--fork", "--kill-child")
    candidates = [(unshare, *jail, "--map-root-user")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        candidates.insert(0, (unshare, *jail))
    for prefix in candidates:
        if _probe(prefix):
            return prefix
    return None


def _prefix(limits: Limits, view: View | None, cwd: Path) -> list[str]:
    """The jail in front of a command: bubblewrap with ``view``, else ``unshare``, else nothing."""
    bwrap = bubblewrap() if view is not None else None
    if bwrap is not None:
        return _bwrap_prefix(bwrap, view or View(), cwd, network=limits.network)
    if limits.network:
        return []
    return list(network_isolation() or ())


def describe(limits: Limits, view: View | None = None) -> dict[str, Any]:
    """What is enforced for ``limits`` (and a child seeing ``view``) on this machine, for the report."""
    jailed = view is not None and bubblewrap() is not None
    unshared = network_isolation() is not None
    if limits.network:
        network = "allowed"
    elif jailed or unshared:
        network = "isolated (network namespace)"
    else:
        network = "not isolated (no network namespace on this platform)"
    if jailed:
        filesystem = "mount namespace (bubblewrap): only /usr and the paths it needs"
    else:
        filesystem = "not isolated (no bubblewrap here)" if view is not None else "not isolated"
    return {
        "platform": sys.platform,
        "network": network,
        "filesystem": filesystem,
        "rlimits": limits.to_dict() if resource is not None else "not available on this platform",
        "environment": "minimal (no inherited secrets)",
        "leftover_processes": _leftovers_policy(jailed or unshared),
    }


def missing_protections(limits: Limits, view: View | None = None) -> list[str]:
    """The protections `describe` reports as absent on this machine (for ``--require-jail``)."""
    facts = describe(limits, view)
    missing = [f"{key}: {facts[key]}" for key in ("network", "filesystem") if facts[key].startswith("not ")]
    if not facts["leftover_processes"].startswith("PID namespace"):
        missing.append(f"leftover_processes: {facts['leftover_processes']}")
    return missing


def _leftovers_policy(pid_namespace: bool) -> str:
    if pid_namespace:
        return "PID namespace: everything it starts dies with it, at the timeout and when it exits"
    if sys.platform == "linux":
        return "killed: its whole session, at the timeout and when it exits"
    if hasattr(os, "killpg"):
        return "killed: its process group, at the timeout and when it exits"
    return "only the process itself is killed at the timeout"  # pragma: no cover - Windows


# ------------------------------------------------------------------------------------ running
def _preexec(limits: Limits) -> Callable[[], None] | None:
    if resource is None:  # pragma: no cover - Windows
        return None

    def apply() -> None:
        def cap(which: int, value: int | None) -> None:
            if value is None:
                return
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))

        cap(resource.RLIMIT_CORE, 0)
        cap(resource.RLIMIT_CPU, limits.cpu_seconds)
        cap(resource.RLIMIT_AS, limits.memory_bytes)
        cap(resource.RLIMIT_FSIZE, limits.file_bytes)
        cap(resource.RLIMIT_NOFILE, limits.open_files)
        if sys.platform == "linux":
            _die_with_parent()

    return apply


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: a child still running when architect is killed gets SIGKILL too."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def run(
    command: Sequence[str],
    limits: Limits,
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: IO[Any] | int = subprocess.DEVNULL,
    stderr: IO[Any] | int = subprocess.DEVNULL,
    poll: Callable[[], None] | None = None,
    view: View | None = None,
) -> Completed:
    """Run ``command`` inside ``limits``; on timeout (or any exception here) kill its process group.

    ``poll`` is called about four times a second while the child runs (progress display).
    Raises OSError when the program cannot be started.
    """
    return start(command, limits, env=env, cwd=cwd, stdout=stdout, stderr=stderr, view=view).wait(poll)


def start(
    command: Sequence[str],
    limits: Limits,
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: IO[Any] | int = subprocess.DEVNULL,
    stderr: IO[Any] | int = subprocess.DEVNULL,
    view: View | None = None,
    stdin: IO[Any] | int = subprocess.DEVNULL,
) -> Running:
    """Start ``command`` inside ``limits`` and return at once; `Running.wait` enforces the timeout.

    With ``view``, the child runs in the bubblewrap jail and sees only the system's programs and
    libraries plus ``view``'s paths; without, only in the network and PID namespaces (or nothing, for a
    child that ``limits`` allow the network). For work the caller does meanwhile
    (`architect.build.start_model_build`), or a child that serves requests on ``stdin`` (a socket: the
    simulator's persistent worker, `architect.gym.worker`). Raises OSError when the program cannot be started.
    """
    prefix = _prefix(limits, view, cwd)
    started = time.monotonic()
    # bubblewrap, init of the child's PID namespace, exits with 128 + N when its child dies of signal N.
    signal_in_status = bool(prefix) and prefix[0] == bubblewrap()
    proc = subprocess.Popen(
        [*prefix, *command],
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_preexec(limits),
    )
    return Running(proc, started, started + limits.timeout, signal_in_status)


@dataclass
class Running:
    """A child started by `start`: wait for it, or kill it and everything it started."""

    proc: subprocess.Popen
    started: float
    deadline: float
    #: The exit status 128 + N means "killed by signal N" (as a shell reports it): it is returned as -N,
    #: like a signal of the child itself. (A program that exits with such a status on purpose is reported
    #: as killed; either way it failed.)
    signal_in_status: bool = False

    def wait(self, poll: Callable[[], None] | None = None) -> Completed:
        """Wait until the child exits or the deadline passes; on timeout (or any exception here, from
        ``poll`` too) kill its process group."""
        proc = self.proc
        try:
            with _exit_waiter(proc) as exited:
                while not exited(min(0.25, max(self.deadline - time.monotonic(), 0.01))):
                    if time.monotonic() >= self.deadline:
                        _kill_group(proc)
                        return Completed(proc.returncode, time.monotonic() - self.started, timed_out=True)
                    if poll is not None:
                        poll()
        except BaseException:
            _kill_group(proc)
            raise
        # The leader is gone; anything it left behind in its group goes with it.
        _kill_group(proc, wait=False)
        return Completed(self._status(proc.returncode), time.monotonic() - self.started, timed_out=False)

    def exit_status(self, timeout: float) -> int | None:
        """The child's exit status (a signal N as -N) once it has exited, waiting up to ``timeout`` seconds;
        None while it runs."""
        with _exit_waiter(self.proc) as exited:
            if not exited(timeout):
                return None
        return self._status(self.proc.returncode)

    def _status(self, code: int) -> int:
        if self.signal_in_status and 128 < code < 128 + 65 and signal_name(code - 128) != "?":
            return -(code - 128)
        return code

    def kill(self) -> None:
        """Kill the child's process group and session now (a caller that will not wait for it)."""
        _kill_group(self.proc)


@contextlib.contextmanager
def _exit_waiter(proc: subprocess.Popen) -> Iterator[Callable[[float], bool]]:
    """``exited(timeout)``: whether ``proc`` exits within ``timeout`` seconds (it is then reaped).

    On Linux a pidfd wakes the waiter the moment the child exits. `Popen.wait(timeout)` sleeps in
    steps growing to 50 ms instead, which added 20-30 ms to every simulator run (a verification
    makes four) and up to 50 ms to every build.
    """
    fd, poller = None, select.poll() if hasattr(select, "poll") else None
    if hasattr(os, "pidfd_open") and poller is not None:
        with contextlib.suppress(OSError):  # kernels before 5.3
            fd = os.pidfd_open(proc.pid)
            poller.register(fd, select.POLLIN)

    def exited(timeout: float) -> bool:
        if fd is not None and poller is not None:
            if not poller.poll(timeout * 1000):  # poll, not select: any descriptor number works
                return False
            timeout = 10.0  # it has exited: waitpid returns at once
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    try:
        yield exited
    finally:
        if fd is not None:
            os.close(fd)


def _kill_group(proc: subprocess.Popen, wait: bool = True) -> None:
    """SIGKILL everything the child started: its process group and, on Linux, its whole session.

    The child leads a session of its own (``start_new_session``). Programs may move their
    children to other process groups (cargo does), but not out of the session without calling
    setsid(), so on Linux every process of the session is found in /proc and killed.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    _kill_session(proc.pid)
    if wait:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


def _kill_session(sid: int) -> None:
    proc_root = Path("/proc")
    if sys.platform != "linux" or not proc_root.is_dir():
        return
    for _round in range(10):  # a process may fork while we sweep: sweep until none is left
        found = False
        for entry in proc_root.iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                if int(fields[3]) == sid and fields[0] != "Z":
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, ValueError, IndexError):
                continue
        if not found:
            return
        time.sleep(0.01)


def with_network(limits: Limits) -> Limits:
    return replace(limits, network=True)


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "?"
