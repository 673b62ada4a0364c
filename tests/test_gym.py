"""The gym against planted misbehaving binaries: every fault becomes a RunError with the reason, in bounded
time, and every run is confined by the sandbox (limits, environment, network, process group)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest
from planted import HONEST, planted

from architect import sandbox
from architect.errors import RunError
from architect.gym.runner import RunSpec, describe, run_simulation

SPEC = RunSpec(paths=10, steps=4, checkpoints=2)


def shell(tmp_path: Path, body: str) -> Path:
    """A shell script standing in for a simulator; it finds the --stats=FILE argument in $STATS."""
    script = tmp_path / "sim"
    script.write_text(
        '#!/bin/sh\nSTATS=\'\'\nfor a in "$@"; do case "$a" in --stats=*) STATS="${a#--stats=}";; esac; done\n'
        + body
        + "\n"
    )
    script.chmod(0o755)
    return script


def escaped(reason: str) -> str:
    return reason.replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("echo 'thread main panicked at model.rs' >&2; exit 101", "exited with status 101: thread main panicked"),
        ("kill -SEGV $$", "killed by signal 11 (SIGSEGV)"),
        ("exit 0", "wrote no statistics"),
        ('printf "not json" > "$STATS"', "not valid JSON"),
        ('printf "[1, 2]" > "$STATS"', "not a JSON object"),
        ('printf \'{"format": "other"}\' > "$STATS"', "unknown format"),
        ('printf "\\377\\376" > "$STATS"', "not valid JSON"),
    ],
)
def test_faults_become_reasons(tmp_path: Path, body: str, reason: str) -> None:
    with pytest.raises(RunError, match=escaped(reason)):
        run_simulation(shell(tmp_path, body), SPEC, timeout=30)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("import ctypes; ctypes.string_at(0)", "killed by signal 11 (SIGSEGV)"),
        ("import os; os.abort()", "killed by signal 6 (SIGABRT)"),
        ('sys.stdout.write("garbage " * 1_000_000); sys.stdout.flush()', "wrote no statistics"),
        ("write(None, json.dumps(stats())[:150])", "not valid JSON"),
        ("write(None, json.dumps(stats()).replace('\"elapsed_seconds\": 0.0', '\"elapsed_seconds\": NaN'))", "NaN"),
        (
            "write(None, json.dumps(stats()).replace('\"elapsed_seconds\": 0.0', '\"elapsed_seconds\": -Infinity'))",
            "-Infinity",
        ),
        ("write(None, '[' * 100000 + ']' * 100000)", "not valid JSON"),
        ("write(stats(paths=100000))", "reports paths = 100000 but 10 was requested"),
        ("write(stats(paths=True))", "reports paths = True but 10 was requested"),
        ("write(stats(steps=2))", "reports steps = 2 but 4 was requested"),
        ("write(stats(seed=7))", "reports seed = 7 but 1 was requested"),
        ("write(stats(horizon=2.0))", "reports horizon = 2.0 but 1.0 was requested"),
        (
            "d = stats(); d['checkpoints'] = d['checkpoints'][:1]; write(d)",
            "reports 1 checkpoints but 2 were requested",
        ),
        ("write(stats(exponents=[[1], [2]]))", "moments of degree 2 but 8 was requested"),
    ],
)
def test_planted_faults_become_reasons(tmp_path: Path, body: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(RunError, match=escaped(reason)):
        run_simulation(planted(tmp_path, body), SPEC, timeout=30)
    assert time.monotonic() - started < 20


def test_an_honest_planted_binary_passes_the_gym(tmp_path: Path) -> None:
    outcome = run_simulation(planted(tmp_path, HONEST), SPEC, timeout=30)
    assert outcome.stats["paths"] == 10 and len(outcome.stats["checkpoints"]) == 2


@pytest.mark.parametrize("body", ["sleep 60", "while :; do :; done"])
def test_a_hanging_binary_is_killed_in_bounded_time(tmp_path: Path, body: str) -> None:
    started = time.monotonic()
    with pytest.raises(RunError, match="did not finish within 1 s"):
        run_simulation(shell(tmp_path, body), SPEC, timeout=1)
    assert time.monotonic() - started < 10


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_timeout_kills_everything_the_binary_started(tmp_path: Path) -> None:
    # The child's pid inside the run's PID namespace is not its pid here, and the run cannot write outside
    # its scratch folder: the child is found by its command line instead.
    marker = "300.517"
    body = f"import subprocess, time\nchild = subprocess.Popen(['sleep', '{marker}'])\ntime.sleep(300)"
    with pytest.raises(RunError, match="did not finish"):
        run_simulation(planted(tmp_path, body), SPEC, timeout=2)
    deadline = time.monotonic() + 5
    while sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not sleepers(marker), "the binary's child survived the timeout"


def sleepers(marker: str) -> list[int]:
    """Processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
    return found


def test_a_missing_binary_is_a_reason(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="could not be started"):
        run_simulation(tmp_path / "nothing-here", SPEC, timeout=5)


def test_arguments_reach_the_binary_and_stats_come_back(tmp_path: Path) -> None:
    outcome = run_simulation(planted(tmp_path, "write(stats(args=sys.argv[1:]))"), SPEC, timeout=30)
    assert outcome.stats["format"] == "architect.stats/1"
    for arg in ("--paths=10", "--steps=4", "--checkpoints=2", "--moment-degree=8"):
        assert arg in outcome.stats["args"]


def test_describe_reads_stdout(tmp_path: Path) -> None:
    assert describe(shell(tmp_path, 'echo \'{"model": "m"}\''), timeout=5) == {"model": "m"}


# ------------------------------------------------------------------------------------ the sandbox
def test_no_secrets_reach_the_binary(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARCHITECT_TEST_SECRET", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
    outcome = run_simulation(planted(tmp_path, "write(stats(env=dict(os.environ), cwd=os.getcwd()))"), SPEC)
    env = outcome.stats["env"]
    assert "ARCHITECT_TEST_SECRET" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    # PWD: bubblewrap names the working directory (the scratch folder) after changing into it.
    assert set(env) <= {"PATH", "LANG", "LC_CTYPE", "PWD"}, env
    assert Path(outcome.stats["cwd"]).name.startswith("architect-gym-"), "runs in a private scratch folder"


CONNECT = """
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    reached = True
except OSError:
    reached = False
write(stats(reached=reached))
"""


@pytest.mark.skipif(sandbox.network_isolation() is None, reason="no network namespace on this machine")
def test_the_binary_has_no_network(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        binary = planted(tmp_path, CONNECT.format(port=server.getsockname()[1]))
        limits = sandbox.run_limits(30)
        # Control: with the network allowed, the same binary reaches our listening socket.
        assert run_simulation(binary, SPEC, limits=sandbox.with_network(limits)).stats["reached"] is True
        assert run_simulation(binary, SPEC, limits=limits).stats["reached"] is False


@pytest.mark.skipif(os.name != "posix", reason="rlimits are POSIX")
def test_memory_is_limited(tmp_path: Path) -> None:
    limits = replace(sandbox.run_limits(30), memory_bytes=512 * 1024**2)
    started = time.monotonic()
    with pytest.raises(RunError, match="MemoryError"):
        run_simulation(planted(tmp_path, "x = bytearray(2 * 1024**3)\nwrite(stats())"), SPEC, limits=limits)
    assert time.monotonic() - started < 20


@pytest.mark.skipif(os.name != "posix", reason="rlimits are POSIX")
def test_cpu_time_is_limited(tmp_path: Path) -> None:
    limits = replace(sandbox.run_limits(60), cpu_seconds=1)
    started = time.monotonic()
    with pytest.raises(RunError, match="killed by signal"):
        run_simulation(planted(tmp_path, "while True:\n    pass"), SPEC, limits=limits)
    assert time.monotonic() - started < 20, "the CPU limit, not the 60 s timeout, stopped it"


@pytest.mark.skipif(os.name != "posix", reason="rlimits are POSIX")
def test_output_size_is_limited(tmp_path: Path) -> None:
    limits = replace(sandbox.run_limits(30), file_bytes=1024**2)
    body = "open(STATS, 'w').write('x' * 8 * 1024**2)"
    with pytest.raises(RunError, match=r"File too large|larger than"):
        run_simulation(planted(tmp_path, body), SPEC, limits=limits)
    # A flood on stderr (a file architect reads the tail of) is cut off the same way.
    body = "import sys\nsys.stderr.write('y' * 8 * 1024**2)\nsys.stderr.flush()\nwrite(stats())"
    with pytest.raises(RunError, match=r"File too large|larger than|exited with status"):
        run_simulation(planted(tmp_path, body), SPEC, limits=limits)


def test_the_sandbox_says_what_it_enforces() -> None:
    described = sandbox.describe(sandbox.run_limits(10))
    assert described["rlimits"]["wall_seconds"] == 10
    assert described["network"].startswith("isolated" if sandbox.network_isolation() else "not isolated")
    assert json.dumps(described)
