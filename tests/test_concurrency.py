"""Nothing lost or corrupted: concurrent runs, runs killed with SIGKILL mid-build or mid-write, and the
next run after them; and reproducibility: the same model, seed and options give the same report at any
thread count."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from architect import SdeModel, paths

pytestmark = pytest.mark.slow

FAST = ["--paths", "20000", "--steps", "20", "--backend", "symbolic"]


def architect_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "architect", *args]


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a writer left behind (they must never survive a finished run)."""
    return sorted(p for p in folder.rglob(".*.tmp"))


def assert_complete(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text())
    json.loads((out / "model.json").read_text())
    assert (out / "report.md").read_text().startswith("# ")
    assert not leftovers(out), leftovers(out)
    return report


def test_two_runs_into_one_folder_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    runs = [
        subprocess.Popen(architect_cmd("generate", "GBM", "--out", str(out), *FAST), stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert any("waiting for another architect run" in err for err in outputs), outputs
    assert assert_complete(out)["verdict"] == "pass"


def test_two_models_build_at_once_in_the_shared_cache(tmp_path: Path) -> None:
    texts = ["Vasicek", "Ornstein-Uhlenbeck"]
    runs = [
        subprocess.Popen(
            architect_cmd("generate", text, "--out", str(tmp_path / str(k)), *FAST), stderr=subprocess.PIPE, text=True
        )
        for k, text in enumerate(texts)
    ]
    outputs = [run.communicate(timeout=600)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    for k in range(len(texts)):
        report = assert_complete(tmp_path / str(k))
        assert report["verdict"] == "pass"
        # Each folder got its own model's binary, not the other's.
        described = subprocess.run(
            [report["artifacts"]["binary"], "--describe"], capture_output=True, text=True, check=True
        )
        assert json.loads(described.stdout)["model"] == SdeModel.from_dict(report["model"]).slug


def descendants_named(pid: int, *names: str) -> list[int]:
    """Processes below ``pid`` (children, their children, …) whose command is one of ``names`` (Linux /proc).
    cargo is not architect's child: it runs inside the build's jail (bubblewrap)."""
    parents, commands = {}, {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        commands[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])

    def below(child: int) -> bool:
        for _depth in range(64):
            child = parents.get(child, 0)
            if child == pid:
                return True
            if child <= 1:
                return False
        return False

    return [p for p, command in commands.items() if command in names and below(p)]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds cargo through /proc")
def test_a_run_killed_mid_build_leaves_a_working_folder_and_cache(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    # A parameter value never used before: the crate must really be compiled, so the kill lands in cargo.
    text = f"GBM mu=0.0{uuid.uuid4().int % 10**8:08d}"
    run = subprocess.Popen(architect_cmd("generate", text, "--out", str(out), *FAST), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not descendants_named(run.pid, "rustc") and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.02)
    compilers = descendants_named(run.pid, "cargo", "rustc")
    assert run.poll() is None and compilers, "the build finished before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    # The compilers die with architect (the build's PID namespace dies with bubblewrap, which dies with it).
    deadline = time.monotonic() + 5
    while any(map(alive, compilers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, compilers)), "a compiler outlived the architect that started it"
    again = subprocess.run(
        architect_cmd("generate", text, "--out", str(out), *FAST), capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr
    assert assert_complete(out)["verdict"] == "pass"


WRITER = """
import sys
from pathlib import Path
from architect import SdeModel, paths
target = Path(sys.argv[1])
k = 0
while True:
    k += 1
    paths.write_atomic(target, '{"generation": %d, "padding": "%s"}' % (k, "x" * 4_000_000))
"""


def test_a_writer_killed_mid_write_never_leaves_half_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"generation": 0}')
    for delay in (0.3, 0.7):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)])
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        assert json.loads(target.read_text())["generation"] >= 0  # a whole file, old or new
    # What the killed writers left is cleared by the next run holding the folder's lock.
    paths.remove_stale_temporaries(tmp_path)
    assert not leftovers(tmp_path)


def test_a_folder_with_leftovers_of_a_killed_run_is_cleaned_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".report.json.abc123.tmp").write_text('{"half": ')
    (out / "src").mkdir()
    (out / "src" / ".model.rs.xyz.tmp").write_text("fn half(")
    done = subprocess.run(
        architect_cmd("generate", "GBM", "--out", str(out), *FAST), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert_complete(out)


def test_reports_are_identical_at_any_thread_count(tmp_path: Path) -> None:
    out = tmp_path / "repro"
    reports = []
    for threads in ("1", "2"):
        done = subprocess.run(
            architect_cmd("generate", "Heston", "--out", str(out), *FAST, "--threads", threads, "--json"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        reports.append((out / "report.json").read_text())
    first, second = (json.loads(r) for r in reports)
    assert first["simulation"]["threads"] == 1 and second["simulation"]["threads"] == 2
    for report in (first, second):
        del report["timings"]
        del report["simulation"]["threads"]
    assert first == second
    versions = first["versions"]
    assert set(versions) >= {"architect", "sdk", "rustc", "weights"}
    assert versions["rustc"].startswith("rustc ") and versions["weights"] is None
