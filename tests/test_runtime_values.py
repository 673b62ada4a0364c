"""Verifying at run-time values (issue #17): ``--set NAME=VALUE`` / ``--x0 NAME=VALUE`` on ``generate`` and
``verify``, `Options(params=..., x0=...)` in the Python API.

The crate is built from the model as parsed; the verifier runs the binary with the values and computes every
theoretical reference from the model at them; the report says which values it verified at. One real
Ornstein-Uhlenbeck simulator is generated per module (about 3 s)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import architect
from architect import cli
from architect.errors import RunError, UsageError
from architect.options import Options, RunSpec, parse_value, values_of
from architect.pipeline.run import Result, check_binary
from tests.planted import planted

# OU: dX = kappa (theta - X) dt + sigma dW, compiled with kappa=2, theta=0.05, sigma=0.2, X(0)=0.
PARAMS = {"theta": 1.5, "sigma": 0.5}
X0 = {"X": 1.0}
KAPPA = 2.0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Result:
    out = tmp_path_factory.mktemp("values") / "ou"
    options = Options(paths=20_000, steps=4, params=PARAMS, x0=X0)
    result = architect.generate("Ornstein-Uhlenbeck", out=out, options=options)
    assert result.passed, result.report["reason"]
    return result


def _ou_mean_and_variance(t: float) -> tuple[float, float]:
    """The exact OU moments at t from X0 at the overridden values."""
    decay = math.exp(-KAPPA * t)
    mean = X0["X"] * decay + PARAMS["theta"] * (1 - decay)
    return mean, PARAMS["sigma"] ** 2 * (1 - decay**2) / (2 * KAPPA)


def _check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


# ------------------------------------------------------------------------------- end to end
def test_the_theory_is_the_model_at_the_run_time_values(generated: Result) -> None:
    report = generated.report
    mean, variance = _ou_mean_and_variance(1.0)
    assert _check(report, "mean of X at t=1")["theory"] == pytest.approx(mean, rel=1e-12)
    assert _check(report, "variance of X at t=1")["theory"] == pytest.approx(variance, rel=1e-12)
    # The binary described itself at those values, and the verifier agreed they are the model's.
    assert _check(report, "binary simulates the model's parameters")["passed"]


def test_the_report_states_every_value_and_which_were_given(generated: Result) -> None:
    values = generated.report["values"]
    assert values["parameters"] == {"kappa": 2.0, "theta": 1.5, "sigma": 0.5}
    assert values["initial"] == {"X": 1.0}
    assert values["overridden"] == {
        "parameters": {"theta": {"compiled": 0.05, "verified": 1.5}, "sigma": {"compiled": 0.2, "verified": 0.5}},
        "initial": {"X": {"compiled": 0.0, "verified": 1.0}},
    }
    # report.json's model is the one verified; model.json keeps the model the binary was built from.
    assert generated.report["model"]["initial"] == {"X": 1.0}
    built = architect.SdeModel.from_json((generated.crate_dir / "model.json").read_text())
    assert built.parameter_values() == {"kappa": 2.0, "theta": 0.05, "sigma": 0.2} and built.initial == (0.0,)
    on_disk = json.loads((generated.crate_dir / "report.json").read_text())
    assert on_disk["values"] == values
    markdown = (generated.crate_dir / "report.md").read_text()
    assert "`theta = 1.5` (set at run time; compiled in: 0.05)" in markdown
    assert "`X(0) = 1` (set at run time; compiled in: 0)" in markdown
    assert "set at run time; compiled in: 0.2" in (generated.crate_dir / "report.html").read_text()


def test_verify_on_the_command_line_at_other_values(generated: Result, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", str(generated.crate_dir), "--paths", "4000", "--steps", "4", "--set", "sigma=0.1"]
    assert cli.main([*argv, "--x0", "X=-2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "pass"
    assert report["values"]["initial"] == {"X": -2.0} and report["values"]["parameters"]["sigma"] == 0.1
    assert report["values"]["overridden"]["parameters"] == {"sigma": {"compiled": 0.2, "verified": 0.1}}
    # Without values, the same binary is verified at its compiled-in ones again.
    assert cli.main(["verify", str(generated.crate_dir), "--paths", "4000", "--steps", "4"]) == 0
    assert "Verified at" not in capsys.readouterr().out
    assert json.loads((generated.crate_dir / "report.json").read_text())["values"]["overridden"] == {
        "parameters": {},
        "initial": {},
    }


def test_torch_shares_the_memory_of_real_paths(generated: Result) -> None:
    torch = pytest.importorskip("torch")
    with generated.simulator() as sim:
        x = sim.paths(100, steps=4, params=PARAMS, x0=X0)
        t = torch.from_numpy(x)
        assert t.data_ptr() == x.ctypes.data and not x.flags.owndata
        t[0, 1, 0] = 123.0
        assert x[0, 1, 0] == 123.0


def test_the_readme_example_runs(generated: Result) -> None:
    """README's "Drive the simulator" block, run as written on this module's simulator (fewer paths streamed)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("## Drive the simulator", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) == 5
    code = block.replace('"cir-out"', repr(str(generated.crate_dir))).replace("10_000_000", "300_000")
    code = code.replace("...", "blocks.append(block)")
    scope: dict = {"blocks": []}
    exec(compile(code, "README.md", "exec"), scope)
    x, t, blocks = scope["x"], scope["t"], scope["blocks"]
    assert x.shape == (100_000, 51, 1) and t.shape == (51,) and t[1] == pytest.approx(0.02)
    assert [len(b) for b in blocks] == [300_000] and blocks[0][:100_000].tobytes() == x.tobytes()
    scope["sim"].close()


# A planted GBM binary (tests/planted.py: mu=0.05, sigma=0.2, S(0)=100 compiled in) whose --describe either
# honours --set sigma=... or ignores it.
HONOURS_SET = """
given = dict(a.split("=", 2)[1:] for a in sys.argv if a.startswith("--set="))
if DESCRIBE:
    describe(parameters={"mu": 0.05, "sigma": float(given.get("sigma", 0.2))})
else:
    write(stats())
"""


@pytest.mark.parametrize(("body", "passed"), [(HONOURS_SET, True), (HONOURS_SET.replace("given.get", "{}.get"), False)])
def test_the_binary_must_describe_itself_at_the_values(tmp_path: Path, body: str, passed: bool) -> None:
    binary = planted(tmp_path, body)
    options = Options(paths=1000, steps=4, timeout=20, extended=False, params={"sigma": 0.3})
    checked = check_binary(architect.parse("GBM"), binary, options)
    check = next(c for c in checked.verification.checks if c.name == "binary simulates the model's parameters")
    assert check.passed is passed, check.detail
    if not passed:
        assert "parameter sigma is 0.2 in the binary, 0.3 in the model" in check.detail


def test_a_description_with_nan_is_a_run_error(tmp_path: Path) -> None:
    binary = planted(tmp_path, "print('{\"parameters\": NaN}') if DESCRIBE else write(stats())")
    with pytest.raises(RunError, match="non-finite number NaN"):
        check_binary(architect.parse("GBM"), binary, Options(paths=1000, steps=4, params={"sigma": 0.3}))


# ------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--set", "kappa=-1"], "parameter kappa must be positive"),
        (["--set", "nope=1"], "unknown parameter 'nope'"),
        (["--x0", "Y=1"], "unknown state variable 'Y'"),
        (["--set", "sigma=1", "--set", "sigma=2"], "--set sigma is given twice"),
        (["--set", "sigma"], "expected NAME=VALUE"),
        (["--set", "sigma=nan"], "finite number"),
    ],
)
def test_a_bad_value_exits_2_in_one_line_before_anything_is_built(
    flags: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = cli.main(["generate", "Ornstein-Uhlenbeck", "--backend", "symbolic", "--out", str(out), *flags])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists(), "nothing was written"


def test_an_initial_value_outside_its_domain_is_refused(tmp_path: Path) -> None:
    with pytest.raises(architect.ModelError, match="initial value v must be non-negative"):
        architect.generate("Heston", out=tmp_path / "h", options=Options(x0={"v": -0.1}))
    assert not (tmp_path / "h").exists()


# ------------------------------------------------------------------------------- the options
def test_options_hold_values_as_a_frozen_mapping_and_pass_them_to_every_run() -> None:
    options = Options(params={"sigma": 1}, x0=[("X", 0.5)])  # type: ignore[arg-type]  # pairs work too
    assert options.params == {"sigma": 1.0} and options.x0 == {"X": 0.5}
    assert hash(options) == hash(Options(params={"sigma": 1.0}, x0={"X": 0.5})), "still frozen and hashable"
    assert all(spec.params == options.params and spec.x0 == options.x0 for spec in options.runs())
    assert RunSpec(params={"sigma": 0.1}, x0={"X": 2.0}).arguments()[-2:] == ["--set=sigma=0.1", "--x0=X=2.0"]
    assert values_of(None, "--set") == {}
    with pytest.raises(UsageError, match="finite number"):
        Options(params={"sigma": np.inf})
    with pytest.raises(UsageError, match="NAME=VALUE pairs"):
        Options(x0=["X=1"])  # type: ignore[arg-type]
    assert parse_value(" sigma =0.25") == ("sigma", 0.25)
