"""`architect.Simulator` (issue #17): whole paths from a generated binary as a view of shared memory.

Most tests drive a planted binary (tests/planted.py: a Python program with the binary's command line) that
writes paths following the contract of ``--paths-out``/``--dates``/``--first-path``/``--set``/``--x0``, so
they run without cargo and can misbehave on purpose. The end-to-end tests generate a real Ornstein-Uhlenbeck
simulator and run once the SDK has the flags (they skip, saying so, before).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

import architect
from architect import sandbox
from architect import simulator as simulator_module
from architect.errors import ModelError, RunError, UsageError
from architect.pipeline.run import Result, file_sha256
from tests.planted import planted

# A planted worker (the binary's ``--serve``): for each request, x[p, j, d] = seed + p + j / 1000 + d / 10 + the
# initial value, for path p = first-path + i; `--set sigma=v` adds v, `--x0 X=v` replaces the initial value. It
# writes into the request's shared memory and replies as the SDK does; BREAK and REPLY are where the broken
# variants misbehave.
PATHS_BODY = """
import socket, numpy
if "--serve" not in sys.argv:
    sys.exit(2)
sock = socket.socket(fileno=0)
sock.send(json.dumps({"ready": True}).encode())
while True:
    msg, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
    if not msg and not fds:
        break
    argv = json.loads(msg)
    A = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    pairs = [(argv[i], argv[i + 1]) for i in range(len(argv) - 1) if argv[i] in ("--set", "--x0")]
    extra = dict(v.split("=", 1) for f, v in pairs if f == "--set")
    x0 = dict(v.split("=", 1) for f, v in pairs if f == "--x0")
    n, steps, seed = int(A["paths"]), int(A["steps"]), int(A["seed"])
    k = int(A.get("dates", steps))
    first = int(A.get("first-path", 0))
    start = float(x0.get("X", 0.0)) + float(extra.get("sigma", 0.0))
    p = numpy.arange(first, first + n, dtype=numpy.float64)[:, None, None]
    j = numpy.arange(k + 1, dtype=numpy.float64)[None, :, None] / 1000
    d = numpy.arange(1, dtype=numpy.float64)[None, None, :] / 10
    x = numpy.ascontiguousarray(seed + p + j + d + start)
    x[:, 0, :] = start
    reply = {"ok": True, "paths": n, "dates": k, "dim": 1, "bytes": x.nbytes}
    BREAK
    os.pwrite(fds[0], x.tobytes(), 0)
    for fd in fds:
        os.close(fd)
    REPLY
    sock.send(json.dumps(reply).encode())
"""


def planted_out(tmp_path: Path, body: str = PATHS_BODY, *, passed: bool = True, record: bool = True) -> Path:
    """An output folder: model.json of Ornstein-Uhlenbeck, a planted bin/<slug>, and a report.json that
    passed and records the binary's SHA-256 (``record``)."""
    out = tmp_path / "out"
    model = architect.parse("Ornstein-Uhlenbeck")
    out.mkdir(parents=True)
    (out / "model.json").write_text(model.to_json())
    binary = planted(out / "bin", _clean(body), name=model.slug)
    artifacts = {"binary": str(binary), "binary_sha256": file_sha256(binary) if record else None}
    report = {"verdict": "pass" if passed else "fail", "reason": "r", "artifacts": artifacts}
    (out / "report.json").write_text(json.dumps(report))
    return out


def broken(code: str = "", reply: str = "") -> str:
    """The planted worker with ``code`` run just before it would write the paths, ``reply`` just before it
    would reply."""
    return PATHS_BODY.replace("BREAK", code or "pass").replace("REPLY", reply or "pass")


def _clean(body: str) -> str:
    return body.replace("BREAK", "pass").replace("REPLY", "pass")


@pytest.fixture
def sim(tmp_path: Path):
    with architect.Simulator(planted_out(tmp_path)) as simulator:
        yield simulator


# ------------------------------------------------------------------------------ the array
def test_paths_are_a_writable_view_of_shared_memory(sim: architect.Simulator) -> None:
    x = sim.paths(5, steps=4, seed=3)
    assert x.shape == (5, 5, 1) and x.dtype == np.float64
    assert x.flags.c_contiguous and x.flags.writeable and not x.flags.owndata
    assert "memfd:architect-paths" in _mapping_of(x), "the array is the shared memory the worker wrote"
    assert x[2, 1, 0] == 3 + 2 + 0.001
    assert (x[:, 0, 0] == 0).all()  # the initial state
    x[0, 0, 0] = 7.0  # writable: the mapping is private to this array
    assert x[0, 0, 0] == 7.0
    assert not list(sim._scratch.iterdir()), "nothing has a name"
    # One worker serves every call.
    pid = _worker_pid(sim)
    sim.paths(2, steps=2)
    assert _worker_pid(sim) == pid


def _mapping_of(x: np.ndarray) -> str:
    """The line of /proc/self/maps that holds the array's first byte."""
    address = x.ctypes.data
    for line in Path("/proc/self/maps").read_text().splitlines():
        low, high = (int(h, 16) for h in line.split()[0].split("-"))
        if low <= address < high:
            return line
    raise AssertionError("the array's memory is not mapped")


def _worker_pid(sim: architect.Simulator) -> int:
    worker = sim._workers.worker
    assert worker is not None
    return worker._running.proc.pid


def _children() -> set[int]:
    """Our living child processes."""
    mine = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == os.getpid():
            mine.add(int(entry.name))
    return mine


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_dates_and_times(sim: architect.Simulator) -> None:
    x = sim.paths(3, steps=8, horizon=2.0, dates=4)
    assert x.shape == (3, 5, 1)
    assert np.array_equal(sim.times(8, horizon=2.0, dates=4), [0.0, 0.5, 1.0, 1.5, 2.0])
    assert sim.times(3).shape == (4,)
    with pytest.raises(UsageError, match="multiple"):
        sim.paths(3, steps=8, dates=3)
    with pytest.raises(UsageError, match="multiple"):
        sim.times(8, dates=3)


def test_stream_concatenates_to_one_call(sim: architect.Simulator) -> None:
    whole = sim.paths(10, steps=4, seed=1)
    blocks = list(sim.stream(10, steps=4, seed=1, chunk=4))
    assert [len(b) for b in blocks] == [4, 4, 2]
    assert np.concatenate(blocks).tobytes() == whole.tobytes()


def test_torch_shares_the_memory(sim: architect.Simulator) -> None:
    torch = pytest.importorskip("torch")
    x = sim.paths(4, steps=2)
    t = torch.from_numpy(x)
    t[1, 1, 0] = -5.0
    assert x[1, 1, 0] == -5.0
    assert t.data_ptr() == x.ctypes.data


# ------------------------------------------------------------------------- what it is
def test_state_parameters_and_model(sim: architect.Simulator) -> None:
    assert sim.state == ("X",)
    assert [p.name for p in sim.parameters] == ["kappa", "theta", "sigma"]
    kappa = sim.parameters[0]
    assert (kappa.value, kappa.constraint) == (2.0, "positive") and "reversion" in kappa.description
    assert sim.model == architect.parse("Ornstein-Uhlenbeck")


def test_verified_only_with_the_recorded_hash(tmp_path: Path) -> None:
    with architect.Simulator(planted_out(tmp_path / "a")) as good:
        assert good.verified
        assert f"verified by {good.report_path}" in repr(good)
        good.binary.write_text(good.binary.read_text() + "\n# changed\n")
        assert not good.verified
        assert "SHA-256 differs" in repr(good)
    with architect.Simulator(planted_out(tmp_path / "b", passed=False)) as failed:
        assert not failed.verified and "unverified" in repr(failed)
    with architect.Simulator(planted_out(tmp_path / "c", record=False)) as unrecorded:
        assert not unrecorded.verified and "records no binary SHA-256" in repr(unrecorded)
    (tmp_path / "c" / "out" / "report.json").unlink()
    with architect.Simulator(tmp_path / "c" / "out") as missing:
        assert not missing.verified and "no readable report.json" in repr(missing)


def test_not_an_output_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no model\.json"):
        architect.Simulator(tmp_path)


# ---------------------------------------------------------------------- params and x0
def test_params_and_x0_reach_the_binary(sim: architect.Simulator) -> None:
    x = sim.paths(2, steps=2, params={"sigma": 0.5}, x0={"X": 1.25})
    assert (x[:, 0, 0] == 1.75).all()


@pytest.mark.parametrize(
    ("params", "x0", "message"),
    [
        ({"nope": 1.0}, None, "unknown parameter 'nope'"),
        ({"kappa": -1.0}, None, "parameter kappa must be positive"),
        ({"sigma": float("nan")}, None, "parameter sigma must be a finite number"),
        ({"sigma": "1"}, None, "parameter sigma must be a number"),
        (None, {"Y": 1.0}, "unknown state variable 'Y'"),
        (None, {"X": float("inf")}, "initial value X must be a finite number"),
    ],
)
def test_bad_params_and_x0_are_refused_before_running(
    sim: architect.Simulator, params: dict | None, x0: dict | None, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        sim.paths(2, steps=2, params=params, x0=x0)
    with pytest.raises(ModelError, match=message):
        sim.stream(2, steps=2, params=params, x0=x0)  # before the first block


def test_constraints_of_correlation_and_domain(tmp_path: Path) -> None:
    model = architect.parse("Heston with mean reversion")
    out = tmp_path / "heston"
    out.mkdir()
    (out / "model.json").write_text(model.to_json())
    planted(out / "bin", _clean(PATHS_BODY), name=model.slug)
    with architect.Simulator(out) as heston:
        with pytest.raises(ModelError, match="rho is a correlation"):
            heston.paths(2, steps=2, params={"rho": 1.5})
        with pytest.raises(ModelError, match="initial value v must be non-negative"):
            heston.paths(2, steps=2, x0={"v": -0.1})


@pytest.mark.parametrize(
    "call",
    [
        {"n": 0, "steps": 2},
        {"n": 2, "steps": 0},
        {"n": 2, "steps": 2, "horizon": 0.0},
        {"n": 2, "steps": 2, "seed": -1},
        {"n": 2, "steps": 2, "threads": -1},
        {"n": 2.5, "steps": 2},
    ],
)
def test_bad_requests_are_usage_errors(sim: architect.Simulator, call: dict) -> None:
    with pytest.raises(UsageError):
        sim.paths(**call)


# ---------------------------------------------------------------------------- failures
@pytest.mark.parametrize(
    ("code", "reply", "reason"),
    [
        # Half the paths, then a crash: nothing of it may come back.
        ("os.pwrite(fds[0], b'half', 0); os.kill(os.getpid(), 9)", "", "killed by signal 9"),
        ("sys.stderr.write('boom\\n'); sys.exit(1)", "", "exited with status 1: boom"),
        # The memory is sealed: the worker can neither grow nor shrink it.
        ("os.ftruncate(fds[0], x.nbytes * 2)", "", "status 1: PermissionError"),
        ("os.ftruncate(fds[0], 8)", "", "status 1: PermissionError"),
        ("", "sock.send(b'not json'); continue", "not JSON"),
        ("", "sock.send(b'[1, 2]'); continue", "not a JSON object"),
        ("", "reply['paths'] += 1", "does not echo the request"),
        ("", "reply['bytes'] = 8", "does not echo the request"),
        ("", "reply.pop('ok')", "refused the request: None"),
    ],
)
def test_failures_are_run_errors_and_leave_nothing(tmp_path: Path, code: str, reply: str, reason: str) -> None:
    before = _descriptors()
    with architect.Simulator(planted_out(tmp_path, broken(code, reply))) as sim:
        with pytest.raises(RunError, match=reason):
            sim.paths(6, steps=4)
        assert not list(sim._scratch.iterdir())
    assert not sim._scratch.exists()
    assert not _children() and _descriptors() == before


def test_a_refusal_keeps_the_worker(tmp_path: Path) -> None:
    code = "if 'sigma=0.5' in argv: sock.send(json.dumps({'ok': False, 'error': 'nope'}).encode()); continue"
    with architect.Simulator(planted_out(tmp_path, broken(code))) as sim:
        pid = (sim.paths(2, steps=2), _worker_pid(sim))[1]
        with pytest.raises(RunError, match="refused the request: nope"):
            sim.paths(2, steps=2, params={"sigma": 0.5})
        assert sim.paths(2, steps=2)[1, 1, 0] == 1.001 and _worker_pid(sim) == pid


def test_a_timeout_kills_the_worker_and_the_next_call_starts_afresh(tmp_path: Path) -> None:
    options = architect.Options(timeout=1.0)
    code = "import time; time.sleep(60) if n == 3 else None"
    with architect.Simulator(planted_out(tmp_path, broken(code)), options=options) as sim:
        with pytest.raises(RunError, match="did not finish within 1 s"):
            sim.paths(3, steps=2)
        assert not _children(), "the hung worker is gone"
        assert sim.paths(2, steps=2)[1, 1, 0] == 1.001
        assert not list(sim._scratch.iterdir())


def test_a_worker_killed_between_calls_is_replaced(tmp_path: Path) -> None:
    with architect.Simulator(planted_out(tmp_path)) as sim:
        sim.paths(2, steps=2)
        worker = sim._workers.worker
        assert worker is not None
        os.kill(_worker_pid(sim), signal.SIGKILL)
        worker._running.proc.wait()
        assert sim.paths(2, steps=2)[1, 1, 0] == 1.001
        assert sim._workers.worker is not worker


def test_an_old_binary_without_serve_is_told_to_regenerate(tmp_path: Path) -> None:
    old = "sys.stderr.write(\"error: unexpected argument '--serve' found\\n\"); sys.exit(2)"
    with architect.Simulator(planted_out(tmp_path, old)) as sim, pytest.raises(RunError, match="regenerate"):
        sim.paths(2, steps=2)


# ----------------------------------------------------------------------------- life cycle
def test_close_and_garbage_collection_leave_nothing(tmp_path: Path) -> None:
    out = planted_out(tmp_path)
    before = _descriptors()
    sim = architect.Simulator(out)
    x = sim.paths(3, steps=2)
    assert sim._scratch.is_dir() and not list(sim._scratch.iterdir())
    assert _children(), "a worker runs"
    sim.close()
    assert sim.closed and not sim._scratch.exists()
    assert not _children(), "close() ends the worker"
    assert _descriptors() == before, "no descriptor is left open, not even for the array's mapping"
    assert x[1, 1, 0] == 1.001  # the array outlives the simulator: its memory is mapped
    with pytest.raises(UsageError, match="closed"):
        sim.paths(3, steps=2)

    with architect.Simulator(out) as managed:
        managed.paths(3, steps=2)
    assert not _children() and not managed._scratch.exists()

    sim = architect.Simulator(out)
    y = sim.paths(3, steps=2)
    memory, scratch = weakref.ref(y.base), sim._scratch
    address = y.ctypes.data
    del sim
    gc.collect()
    assert not scratch.exists() and not _children()
    del y
    gc.collect()
    assert memory() is None, "the mapping goes with the array"
    assert f"{address:x}-" not in Path("/proc/self/maps").read_text(), "and its memory is unmapped"


# ---------------------------------------------------------------------------- notebooks
def test_notebook_views(sim: architect.Simulator) -> None:
    latex = sim.model._repr_latex_()
    assert latex.startswith("$$") and r"\mathrm{d}X &=" in latex and r"\kappa" in latex
    page = sim._repr_html_()
    assert "verified" in page and "kappa" in page and "positive" in page and "dX" in page
    heston = architect.parse("Heston with mean reversion")._repr_latex_()
    assert r"\mathrm{d}W_{1}\,\mathrm{d}W_{2} &= \rho\,\mathrm{d}t" in heston
    merton = architect.parse("Merton")._repr_latex_()
    assert r"\mathrm{d}J_{x}" in merton and "CompoundPoisson" in merton


def test_result_html_and_simulator(tmp_path: Path) -> None:
    out = planted_out(tmp_path)
    report = json.loads((out / "report.json").read_text())
    report |= {"model": {"name": "OU <1>"}, "checks": [{"passed": True}, {"passed": False}]}
    result = Result(architect.parse("Ornstein-Uhlenbeck"), out, None, report, out)
    page = result._repr_html_()
    assert "PASS" in page and "1 of 2 passed" in page and "OU &lt;1&gt;" in page
    assert report["artifacts"]["binary_sha256"] in page
    with result.simulator() as sim:
        assert sim.verified


# ---------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Result:
    out = tmp_path_factory.mktemp("e2e") / "ou"
    result = architect.generate("Ornstein-Uhlenbeck", out=out, options=architect.Options(paths=4000, steps=8))
    assert result.passed, result.report["reason"]
    return result


def _real(generated: Result) -> architect.Simulator:
    assert generated.binary is not None
    return generated.simulator()


def test_the_report_records_the_binary_hash(generated: Result) -> None:
    assert generated.binary is not None
    assert generated.report["artifacts"]["binary_sha256"] == file_sha256(generated.binary)
    with generated.simulator() as sim:
        assert sim.verified and "verified by" in repr(sim)
        assert "PASS" in generated._repr_html_()


def test_real_paths_end_to_end(generated: Result) -> None:
    with _real(generated) as sim:
        x = sim.paths(2000, steps=16, dates=4, seed=5)
        assert x.shape == (2000, 5, 1) and not x.flags.owndata
        assert "memfd:architect-paths" in _mapping_of(x)
        assert (x[:, 0, 0] == 0.0).all()
        # OU from 0 with kappa 2, theta 0.05, sigma 0.2: mean theta (1 - e^{-2t}), variance sigma^2 (1 - e^{-4t}) / 4.
        t = sim.times(16, dates=4)
        mean = 0.05 * (1 - np.exp(-2 * t[1:]))
        sd = np.sqrt(0.04 * (1 - np.exp(-4 * t[1:])) / 4)
        assert (np.abs(x[:, 1:, 0].mean(axis=0) - mean) < 5 * sd / np.sqrt(2000)).all()
        again = sim.paths(2000, steps=16, dates=4, seed=5, threads=1)
        assert again.tobytes() == x.tobytes()


def test_real_paths_do_not_depend_on_the_dates_asked_for(generated: Result) -> None:
    # Ornstein-Uhlenbeck is simulated with its exact transition: the dates must not change its draws.
    with _real(generated) as sim:
        every_step = sim.paths(500, steps=16, seed=3)
        fourth = sim.paths(500, steps=16, dates=4, seed=3)
        assert fourth.tobytes() == np.ascontiguousarray(every_step[:, ::4]).tobytes()


def test_real_stream_reproduces_one_call(generated: Result) -> None:
    with _real(generated) as sim:
        whole = sim.paths(3000, steps=8, seed=2)
        blocks = list(sim.stream(3000, steps=8, seed=2, chunk=1100))
        assert [len(b) for b in blocks] == [1100, 1100, 800]
        assert np.concatenate(blocks).tobytes() == whole.tobytes()
        assert sim.paths(900, steps=8, seed=2, first_path=1100).tobytes() == whole[1100:2000].tobytes()


def test_real_params_and_x0(generated: Result) -> None:
    with _real(generated) as sim:
        x = sim.paths(4000, steps=4, params={"theta": 1.0}, x0={"X": 1.0})
        assert (x[:, 0, 0] == 1.0).all()
        # Started at its long-run mean, the process stays there on average: sd of X_t below sigma / 2.
        assert (np.abs(x[:, 1:, 0].mean(axis=0) - 1.0) < 5 * 0.1 / np.sqrt(4000)).all()
        with pytest.raises(ModelError, match="parameter sigma must be positive"):
            sim.paths(10, steps=4, params={"sigma": 0.0})


def test_real_worker_is_locked_down(generated: Result) -> None:
    with _real(generated) as sim:
        assert sim.jail is None
        sim.paths(2, steps=2)
        assert sim.jail is not None and sim.jail["no_new_privs"] is True
        if sim.jail["landlock"] == "enforced" and sim.jail["seccomp"] == "enforced":
            with architect.Simulator(sim.folder, options=architect.Options(require_jail=True)) as strict:
                if not sandbox.missing_protections(strict.options.run_limits(), sandbox.View()):
                    assert strict.paths(2, steps=2).shape == (2, 3, 1)


def test_real_worker_killed_or_timed_out_mid_call(generated: Result) -> None:
    with _real(generated) as sim:
        # The worker at the time (this request is larger than the first worker's file limit: a new one serves it).
        killer = threading.Timer(0.3, lambda: os.kill(_worker_pid(sim), signal.SIGKILL))
        killer.start()
        with pytest.raises(RunError, match="killed by signal 9"):
            sim.paths(40_000_000, steps=1, threads=1)  # seconds of work (the exact scheme: one draw per date)
        killer.join()
        assert sim.paths(10, steps=4).shape == (10, 5, 1), "the next call starts a fresh worker"
    assert not _children() and not sim._scratch.exists()
    with architect.Simulator(generated.crate_dir, options=architect.Options(timeout=0.05)) as sim:
        with pytest.raises(RunError, match="did not finish"):
            sim.paths(40_000_000, steps=1, threads=1)
        assert not _children()


def test_real_binary_agrees_with_the_python_checks(generated: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    with _real(generated) as sim:
        described = json.loads(subprocess.run([str(sim.binary), "--describe"], capture_output=True, check=True).stdout)
        assert described["constraints"] == {p.name: p.constraint for p in sim.parameters}
        assert described["parameters"] == {p.name: p.value for p in sim.parameters}
        # Past the Python checks, the binary refuses the same value itself, in one line.
        monkeypatch.setattr(simulator_module, "check_parameters", lambda _model, params: dict(params))
        with pytest.raises(RunError, match=r"refused the request: --set kappa=-1.0: .*kappa.* must be positive"):
            sim.paths(10, steps=4, params={"kappa": -1.0})
        assert not list(sim._scratch.iterdir())
