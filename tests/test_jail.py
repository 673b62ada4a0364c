"""The jail behind the gate: model code that got past the gate is still contained.

Each test compiles a real crate whose `src/model.rs` was never shown to the gate (it calls `std::fs`,
`std::process` and `std::net`, which the gate refuses), as if the gate had a hole, and checks each layer on
its own:

- the binary's own lock-down (`sdk-rs/src/jail.rs`: Landlock + seccomp), run directly, outside architect's
  sandbox;
- architect's sandbox (`architect/sandbox.py`: bubblewrap's mount and PID namespaces), with a binary built on
  the previous skeleton, which does not lock itself down;
- the build: what a compile-time file read can reach, and what the report quotes of the compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy
import pytest

import architect
from architect import build, codegen, sandbox
from architect.errors import BuildError, RunError
from architect.gym import runner

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the jail's layers are Linux's")

#: The skeleton before the jail: it builds the model, then runs it, with no lock-down.
UNJAILED_MAIN = """#![forbid(unsafe_code)]
mod model;
fn main() -> std::process::ExitCode {
    architect_sdk::cli::run_as::<{ model::SCHEME.is_exact() }, _, _, _>(model::Model::default(), model::SCHEME)
}
"""

#: A binary's account of a complete lock-down (`--describe`, statistics, `report.sandbox.run.jail`).
LOCKED_DOWN = {"landlock": "enforced", "seccomp": "enforced", "no_new_privs": True}

#: Marker of the grandchild a hostile model tries to leave behind.
SURVIVOR = "61.372"


def probes(outside: Path) -> str:
    """Rust statements that try to escape and print one `PROBE <what> <ESCAPED|contained>` line each."""
    return textwrap.dedent(f"""
        {{
            let probe = |what: &str, escaped: bool| {{
                eprintln!("PROBE {{what}} {{}}", if escaped {{ "ESCAPED" }} else {{ "contained" }});
            }};
            probe("read", std::fs::read_to_string("/etc/hostname").is_ok());
            probe("write", std::fs::write("{outside}", "owned").is_ok());
            probe("spawn", std::process::Command::new("/bin/sh").arg("-c").arg("true").status().is_ok());
            probe("socket", std::net::TcpListener::bind("127.0.0.1:0").is_ok());
            probe(
                "survivor",
                std::process::Command::new("setsid").arg("sleep").arg("{SURVIVOR}").spawn().is_ok(),
            );
        }}
    """)


def hostile_source(model: architect.SdeModel, outside: Path) -> str:
    """The model's generated `model.rs` with the probes at the start of `Model::default` (so they run
    whenever the binary builds its model, `--describe` included)."""
    source = codegen.render_model_rs(model, codegen.choose_scheme(model))
    anchor = "fn default() -> Self {"
    assert anchor in source
    return source.replace(anchor, anchor + probes(outside), 1)


def build_hostile(tmp: Path, name: str, main_rs: str | None = None) -> Path:
    """Compile the hostile model without the gate (`build.build_model` is what runs after it)."""
    model = architect.parse("OU")
    fixed = dict(codegen.fixed_files(model))
    if main_rs is not None:
        fixed["src/main.rs"] = main_rs
    binary = tmp / "bin" / name
    crate = f"jail_probe_{name.replace('-', '_')}_{os.getpid()}"
    build.build_model(crate, fixed, hostile_source(model, tmp / "owned"), binary)
    return binary


def probe_results(stderr: str) -> dict[str, str]:
    lines = [line.split() for line in stderr.splitlines() if line.startswith("PROBE ")]
    return {words[1]: words[2] for words in lines}


def survivors() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and SURVIVOR in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def workdir() -> Path:
    with tempfile.TemporaryDirectory(prefix="architect-jail-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def jailed(workdir: Path) -> Path:
    return build_hostile(workdir, "jailed")


@pytest.fixture(scope="module")
def unjailed(workdir: Path) -> Path:
    return build_hostile(workdir, "unjailed", UNJAILED_MAIN)


@pytest.fixture(autouse=True)
def _no_survivors():
    yield
    for pid in survivors():  # a failing test must not leave its sleeper to the next
        os.kill(pid, signal.SIGKILL)


def test_the_binary_locks_itself_down_before_any_model_code(jailed: Path, workdir: Path) -> None:
    """Run directly, with no sandbox around it: only the SDK's Landlock and seccomp stand in the way."""
    done = subprocess.run([jailed, "--describe"], capture_output=True, text=True, timeout=60, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert probe_results(done.stderr) == dict.fromkeys(["read", "write", "spawn", "socket", "survivor"], "contained")
    assert not (workdir / "owned").exists()
    assert json.loads(done.stdout)["jail"] == LOCKED_DOWN
    time.sleep(0.2)
    assert survivors() == []


def test_the_persistent_worker_runs_model_code_only_locked_down(jailed: Path, workdir: Path, tmp_path: Path) -> None:
    """The Simulator's worker (--serve) builds the model on every request, after its lock-down, in the sandbox."""
    model = architect.parse("OU")
    out = tmp_path / "out"
    (out / "bin").mkdir(parents=True)
    shutil.copy2(jailed, out / "bin" / model.slug)
    (out / "model.json").write_text(model.to_json())
    with architect.Simulator(out) as sim:
        for seed in range(3):  # three requests, three runs of the hostile Model::default
            assert numpy.isfinite(sim.paths(10, steps=4, seed=seed)).all()
        assert sim.jail == LOCKED_DOWN
    assert not (workdir / "owned").exists()
    time.sleep(0.2)
    assert survivors() == []


def test_a_binary_that_does_not_lock_down_cannot_serve(unjailed: Path, tmp_path: Path) -> None:
    model = architect.parse("OU")
    out = tmp_path / "out"
    (out / "bin").mkdir(parents=True)
    shutil.copy2(unjailed, out / "bin" / model.slug)
    (out / "model.json").write_text(model.to_json())
    with architect.Simulator(out) as sim, pytest.raises(RunError, match="--serve needs a binary built with run_jailed"):
        sim.paths(10, steps=4)


def test_a_jailed_run_still_writes_its_files_atomically(jailed: Path, workdir: Path) -> None:
    """The files a run was asked for are opened before the lock-down and moved into place by the unjailed
    parent, which never runs model code; a failed run leaves the old file."""
    stats, terminal = workdir / "stats.json", workdir / "states.npy"
    done = subprocess.run(
        [jailed, "--paths=100", "--steps=2", f"--stats={stats}", f"--terminal={terminal}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    assert set(probe_results(done.stderr).values()) == {"contained"}
    assert json.loads(stats.read_text())["jail"]["seccomp"] == "enforced"
    assert numpy.load(terminal).shape == (100, 1)
    assert sorted(p.name for p in workdir.iterdir() if p.name.endswith(".tmp")) == []
    before = stats.read_bytes()
    failed = subprocess.run([jailed, "--paths=100", "--steps=3", "--checkpoints=2", f"--stats={stats}"], cwd=workdir)
    assert failed.returncode == 2  # 3 steps are not a multiple of 2 checkpoints
    assert stats.read_bytes() == before


def test_the_sandbox_contains_a_binary_that_does_not_lock_itself_down(unjailed: Path, workdir: Path) -> None:
    """The previous skeleton runs model code unjailed: bubblewrap alone must hide the filesystem and take
    the grandchild a model started in a session of its own down with the run."""
    if sandbox.bubblewrap() is None:
        pytest.skip("bubblewrap is not installed or not allowed here (make test installs it)")
    with tempfile.TemporaryDirectory(dir=workdir) as scratch, tempfile.TemporaryFile("w+") as err:
        done = sandbox.run(
            [str(unjailed), "--describe"],
            sandbox.run_limits(30.0),
            env=sandbox.run_environment(),
            cwd=Path(scratch),
            stderr=err,
            view=runner.run_view(unjailed, Path(scratch)),
        )
        err.seek(0)
        results = probe_results(err.read())
    assert done.returncode == 0 and results["read"] == "contained"
    # Without the SDK's jail, writes, spawns and a loopback socket may succeed — inside the namespaces: the
    # write lands on a throw-away tmpfs, the socket in an empty network. Nothing reaches the machine.
    assert set(results) == {"read", "write", "spawn", "socket", "survivor"}
    assert results["survivor"] == "ESCAPED", "the grandchild was not even started: this test would prove nothing"
    assert not (workdir / "owned").exists()
    time.sleep(0.2)
    assert survivors() == [], "a process the run started outlived it"


def test_a_killed_architect_takes_its_jailed_children_with_it(tmp_path: Path) -> None:
    """SIGKILL to architect (no clean-up runs) still ends everything it started in the jail."""
    if sandbox.bubblewrap() is None:
        pytest.skip("bubblewrap is not installed or not allowed here (make test installs it)")
    script = (
        "from pathlib import Path; from architect import sandbox; "
        f"sandbox.run(['sh', '-c', 'sleep {SURVIVOR}'], sandbox.build_limits(60.0), env={{'PATH': '/usr/bin:/bin'}}, "
        f"cwd=Path({str(tmp_path)!r}), view=sandbox.View())"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while not survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors(), "the jailed child did not start"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors() == []


def test_a_compile_time_read_sees_neither_the_file_nor_reaches_the_report(tmp_path: Path) -> None:
    """`include_str!` past the gate: the build's view has no /etc/hostname, and a constant evaluation that
    quotes a file it can see (the crate's own main.rs) is not quoted in the diagnostics."""
    model = architect.parse("OU")
    source = codegen.render_model_rs(model, codegen.choose_scheme(model))
    secret = 'const _: () = panic!("{}", include_str!("main.rs"));\n'
    hostname = 'const _: &str = include_str!("/etc/hostname");\n'
    for leak, name in ((secret, "secret"), (hostname, "hostname")):
        with pytest.raises(BuildError) as failed:
            build.build_model(
                f"jail_leak_{name}_{os.getpid()}", codegen.fixed_files(model), source + leak, tmp_path / name
            )
        diagnostics = failed.value.diagnostics or ""
        assert "Fixed skeleton" not in diagnostics and "run_jailed" not in diagnostics
        if Path("/etc/hostname").exists() and Path("/etc/hostname").read_text().strip():
            assert Path("/etc/hostname").read_text().strip() not in diagnostics
        assert "src/model.rs" in diagnostics


def test_diagnostics_quote_only_the_crates_own_lines() -> None:
    evaluation = {
        "level": "error",
        "code": {"code": "E0080"},
        "message": "evaluation panicked: root:x:0:0:root:/root:/bin/bash",
        "spans": [
            {
                "file_name": "src/model.rs",
                "line_start": 3,
                "column_start": 15,
                "text": [{"text": "const _: () = panic!(...);"}],
                "label": "evaluation panicked: root:x:0:0",
            },
            {"file_name": "/usr/lib/rustlib/src/core/panic.rs", "line_start": 1, "column_start": 1, "text": []},
        ],
        "rendered": "error[E0080]: evaluation panicked: root:x:0:0:root:/root:/bin/bash\n...",
    }
    quoted = build.quote_diagnostic(evaluation)
    assert "root:x" not in quoted and "rustlib" not in quoted
    assert quoted.startswith("error[E0080]: constant evaluation failed")
    assert "--> src/model.rs:3:15" in quoted and "const _: () = panic!(...);" in quoted
    plain = build.quote_diagnostic(
        {"level": "error", "code": {"code": "E0425"}, "message": "cannot find value `y` in this scope", "spans": []}
    )
    assert plain == "error[E0425]: cannot find value `y` in this scope"


def test_require_jail_runs_only_a_binary_that_locked_itself_down(tmp_path: Path) -> None:
    """`--require-jail` on this machine (bubblewrap, Landlock and seccomp all present in CI): a generated
    crate verifies; one whose binary does not lock itself down is refused with the reason."""
    if sandbox.bubblewrap() is None:
        pytest.skip("bubblewrap is not installed or not allowed here (make test installs it)")
    options = architect.Options(paths=2000, steps=4, require_jail=True)
    result = architect.generate("OU", out=tmp_path / "ou", options=options)
    assert result.passed, result.report["reason"]
    assert result.report["sandbox"]["run"]["jail"] == LOCKED_DOWN
    assert result.report["sandbox"]["run"]["filesystem"].startswith("mount namespace")
    checked = architect.pipeline.run.check_binary_jail
    with pytest.raises(architect.errors.RunError, match="did not lock itself down"):
        checked({"jail": {"landlock": "partial", "seccomp": "enforced", "no_new_privs": True}}, options)
    checked({}, architect.Options(paths=2000, steps=4))  # without --require-jail an unjailed binary is reported
