"""The binary's whole-paths output (issue #17): `--paths-out`, `--dates`, `--first-path`, and the run-time
parameters and initial state (`--set`, `--x0`), on a generated crate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import architect
from architect.options import RunSpec
from architect.verifier import parse_stats

#: Heston: two state variables, the variance under full truncation (observed floored).
MODEL = "Heston with mean reversion"


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heston")
    result = architect.generate(MODEL, out=out, options=architect.Options(paths=2000, steps=4))
    assert result.binary is not None and result.binary.is_file()
    return result.binary


def _run(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "--seed", "7", *args], capture_output=True, text=True, timeout=120)


def _ok(binary: Path, *args: str) -> str:
    done = _run(binary, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _describe(binary: Path, *args: str) -> dict:
    return json.loads(_ok(binary, "--describe", *args))


def test_paths_have_the_documented_shape_and_end_at_the_terminal_states(binary: Path, tmp_path: Path) -> None:
    paths, terminal = tmp_path / "paths.npy", tmp_path / "terminal.npy"
    _ok(
        binary, "--paths", "500", "--steps", "8", "--dates", "4", "--paths-out", str(paths), "--terminal", str(terminal)
    )
    rows = np.load(paths)
    assert rows.shape == (500, 5, 2) and rows.dtype == np.float64 and rows.flags.c_contiguous
    np.testing.assert_array_equal(rows[:, -1, :], np.load(terminal))
    x0 = _describe(binary)["initial_state"]
    np.testing.assert_array_equal(rows[:, 0, :], np.broadcast_to(np.maximum(x0, [-np.inf, 0.0]), (500, 2)))
    assert np.all(rows[:, :, 1] >= 0), "the full-truncation variance is observed floored"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary files remain"
    # Default dates: every step.
    _ok(binary, "--paths", "3", "--steps", "6", "--paths-out", str(paths))
    assert np.load(paths).shape == (3, 7, 2)


def test_a_chunk_of_paths_is_the_same_rows_of_one_big_call(binary: Path, tmp_path: Path) -> None:
    big, part = tmp_path / "big.npy", tmp_path / "part.npy"
    common = ("--steps", "8", "--dates", "2")
    _ok(binary, "--paths", "3000", "--paths-out", str(big), *common)
    _ok(binary, "--paths", "1500", "--first-path", "1000", "--paths-out", str(part), *common)
    np.testing.assert_array_equal(np.load(part), np.load(big)[1000:2500])


def test_power_sums_of_the_paths_are_the_statistics(binary: Path, tmp_path: Path) -> None:
    paths, stats = tmp_path / "paths.npy", tmp_path / "stats.json"
    common = ("--paths", "4000", "--steps", "12", "--checkpoints", "4", "--moment-degree", "2")
    _ok(binary, *common, "--dates", "4", "--paths-out", str(paths), "--stats", str(stats))
    doc = json.loads(stats.read_text())
    assert json.loads(_ok(binary, *common))["checkpoints"] == doc["checkpoints"], "paths do not change the statistics"
    rows = np.load(paths) - np.asarray(doc["shift"])
    for k, checkpoint in enumerate(doc["checkpoints"]):
        x = rows[:, k + 1, :]
        want = [np.sum(np.prod(x ** np.asarray(e), axis=1)) for e in doc["exponents"]]
        np.testing.assert_allclose(want, checkpoint["sums"], rtol=1e-9, atol=1e-9)


def test_the_verifiers_statistics_are_the_power_sums_of_its_paths(binary: Path, tmp_path: Path) -> None:
    """One seed, the verifier's own request (`RunSpec.arguments`: degree 8, 4 checkpoints) at run-time values,
    with the whole paths on a finer grid of dates: every power sum the verifier reads is the sum over the
    paths at that checkpoint, to rounding, and so are the means and variances it estimates from them."""
    spec = RunSpec(paths=3000, steps=24, seed=11, params={"theta": 0.09, "rho": -0.3}, x0={"v": 0.06})
    paths, stats = tmp_path / "paths.npy", tmp_path / "stats.json"
    command = [str(binary), *spec.arguments(), f"--stats={stats}", "--dates=12", f"--paths-out={paths}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(stats.read_text())
    assert doc["exponents"] and max(sum(e) for e in doc["exponents"]) == spec.moment_degree == 8
    rows = np.load(paths)
    assert rows.shape == (3000, 13, 2) and np.all(rows[:, 0, 1] == 0.06)
    exponents = np.asarray(doc["exponents"])
    sample = parse_stats(doc)
    for k, checkpoint in enumerate(doc["checkpoints"]):
        x = rows[:, 3 * (k + 1), :]  # checkpoint k at t = (k + 1) / 4: date 3 (k + 1) of 12
        assert checkpoint["time"] == pytest.approx((k + 1) / 4) and checkpoint["count"] == 3000
        terms = np.prod((x - np.asarray(doc["shift"]))[:, None, :] ** exponents[None, :, :], axis=2)
        # Rounding only: the binary adds in another order, so allow a few ulps of the sum of |terms|.
        slack = 1e-12 * np.abs(terms).sum(axis=0) + 1e-300
        assert np.all(np.abs(terms.sum(axis=0) - np.asarray(checkpoint["sums"])) <= slack), k
        for i in range(2):
            moments = sample.checkpoints[k]
            assert moments.mean(i).value == pytest.approx(x[:, i].mean(), rel=1e-12, abs=1e-14)
            assert moments.variance(i).value == pytest.approx(x[:, i].var(ddof=1), rel=1e-9)


def test_dates_without_paths_out_are_a_usage_error(binary: Path) -> None:
    done = _run(binary, "--dates", "4")
    assert done.returncode == 2 and "--paths-out" in done.stderr


def test_set_and_x0_change_the_run_and_describe_lists_constraints(binary: Path, tmp_path: Path) -> None:
    described = _describe(binary)
    assert described["constraints"] == {
        "kappa_x": "positive",
        "theta_x": "real",
        "kappa": "positive",
        "theta": "nonnegative",
        "xi": "positive",
        "rho": "correlation",
    }
    assert described["domain"] == {"x": "real", "v": "nonnegative"}
    changed = _describe(binary, "--set", "theta=0.09", "--x0", "v=0.09")
    assert changed["parameters"]["theta"] == 0.09 and changed["initial_state"][1] == 0.09
    common = ("--paths", "2000", "--steps", "8", "--moment-degree", "2")
    plain = json.loads(_ok(binary, *common))
    same = json.loads(_ok(binary, *common, "--set", f"theta={described['parameters']['theta']!r}"))
    assert same["checkpoints"] == plain["checkpoints"], "the compiled-in value again is the same run"
    moved = json.loads(_ok(binary, *common, "--set", "theta=0.09", "--set", "rho=0.3", "--x0", "v=0.09"))
    assert moved["shift"][1] == 0.09 and moved["checkpoints"] != plain["checkpoints"]
    # Through the jailed child and its files too.
    paths = tmp_path / "paths.npy"
    _ok(binary, "--paths", "10", "--steps", "4", "--x0", "x=1.5", "--paths-out", str(paths))
    assert np.all(np.load(paths)[:, 0, 0] == 1.5)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--set", "kappa=-1", ("kappa", "positive")),
        ("--set", "rho=1.5", ("rho", "correlation")),
        ("--set", "theta=-0.1", ("theta", "nonnegative")),
        ("--set", "theta_x=nan", ("theta_x", "real")),
        ("--set", "nope=1", ("nope",)),
        ("--x0", "v=-0.5", ("v", "nonnegative")),
        ("--x0", "w=1", ("w",)),
    ],
)
def test_a_bad_value_exits_2_with_one_line(binary: Path, tmp_path: Path, flag: str, value: str, words: tuple) -> None:
    out = tmp_path / "paths.npy"
    done = _run(binary, flag, value, "--paths", "10", "--paths-out", str(out))
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert not list(tmp_path.iterdir()), "nothing is written"
