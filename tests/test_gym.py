"""The gym against planted misbehaving binaries: every fault becomes a RunError with the reason, in bounded time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from architect.errors import RunError
from architect.gym.runner import RunSpec, describe, run_simulation

SPEC = RunSpec(paths=10, steps=4, checkpoints=2)


def planted(tmp_path: Path, body: str) -> Path:
    """A shell script standing in for a simulator; it finds the --stats=FILE argument in $STATS."""
    script = tmp_path / "sim"
    script.write_text(
        '#!/bin/sh\nSTATS=\'\'\nfor a in "$@"; do case "$a" in --stats=*) STATS="${a#--stats=}";; esac; done\n'
        + body
        + "\n"
    )
    script.chmod(0o755)
    return script


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
    with pytest.raises(RunError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        run_simulation(planted(tmp_path, body), SPEC, timeout=30)


def test_a_hanging_binary_is_killed_in_bounded_time(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RunError, match="did not finish within 1 s"):
        run_simulation(planted(tmp_path, "sleep 60"), SPEC, timeout=1)
    assert time.monotonic() - started < 10


def test_a_missing_binary_is_a_reason(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="could not be started"):
        run_simulation(tmp_path / "nothing-here", SPEC, timeout=5)


def test_arguments_reach_the_binary_and_stats_come_back(tmp_path: Path) -> None:
    stats = {"format": "architect.stats/1", "args": "$*"}
    body = f"printf '%s' '{json.dumps(stats)}' | sed \"s|\\$\\*|$*|\" > \"$STATS\""
    outcome = run_simulation(planted(tmp_path, body), SPEC, timeout=30)
    assert outcome.stats["format"] == "architect.stats/1"
    for arg in ("--paths=10", "--steps=4", "--checkpoints=2", "--moment-degree=8"):
        assert arg in outcome.stats["args"]


def test_describe_reads_stdout(tmp_path: Path) -> None:
    assert describe(planted(tmp_path, 'echo \'{"model": "m"}\''), timeout=5) == {"model": "m"}
