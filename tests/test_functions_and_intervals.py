"""Issue #19, items 2 and 3: the elementary functions in every surface, time-dependent coefficients, and
interval domains ([0, 1] for Jacobi and Wright-Fisher) from the parser to the binary.

Parsing, printing, the gate and the proof are checked without compiling; three models are generated end
to end (a cargo build each): a time-dependent drift, a model of tanh/atan/erf/sign, and Jacobi on [0, 1].
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sympy as sp

from architect import _native, codegen, proof
from architect.cli import main
from architect.errors import ModelError
from architect.expr import functions
from architect.llm import prompt
from architect.model import SdeModel, domain_admits, interval_domain, interval_of, symbol
from architect.parser import parse
from architect.simulator import check_initial

X, t = symbol("X"), sp.Symbol("t", real=True)

#: Each function of the issue: (plain syntax, LaTeX, the sympy expression), as the drift of X.
FUNCTIONS = [
    ("sin(X)", r"\sin(X_t)", sp.sin(X)),
    ("cos(X)", r"\cos X_t", sp.cos(X)),
    ("tan(X)", r"\tan\left(X_t\right)", sp.tan(X)),
    ("sinh(X)", r"\sinh(X_t)", sp.sinh(X)),
    ("cosh(X)", r"\cosh{X_t}", sp.cosh(X)),
    ("tanh(X)", r"\tanh(X_t)", sp.tanh(X)),
    ("exp(X)", r"\exp(X_t)", sp.exp(X)),
    ("log(1 + X^2)", r"\log(1 + X_t^2)", sp.log(1 + X**2)),
    ("sqrt(1 + X^2)", r"\sqrt{1 + X_t^2}", sp.sqrt(1 + X**2)),
    ("abs(X)", r"|X_t|", sp.Abs(X)),
    ("min(X, 1)", r"\min(X_t, 1)", sp.Min(X, 1)),
    ("max(X, 1)", r"\max(X_t, 1)", sp.Max(X, 1)),
    ("atan(X)", r"\arctan(X_t)", sp.atan(X)),
    ("arctan(X)", r"\arctan X_t", sp.atan(X)),
    ("erf(X)", r"\operatorname{erf}(X_t)", sp.erf(X)),
    ("sign(X)", r"\operatorname{sgn}(X_t)", sp.sign(X)),
    ("sgn(X)", r"\mathrm{sign}(X_t)", sp.sign(X)),
]


@pytest.mark.parametrize(("plain", "tex", "want"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_each_function_reads_in_plain_latex_and_model_json(plain: str, tex: str, want: sp.Expr) -> None:
    from_plain = parse(f"dX = -{plain}*dt + 0.5*dW, X0 = 0.25")
    from_latex = parse(f"$dX_t = -{tex}\\,dt + 0.5\\,dW_t$, X_0 = 0.25")
    for model in (from_plain, from_latex):
        assert sp.simplify(model.drift[0] + want) == 0, (model.drift[0], want)
    back = SdeModel.from_json(from_plain.to_json())
    assert back == from_plain
    assert SdeModel.from_json(back.to_json()).to_json() == from_plain.to_json()
    # The printed equation reads back as the same model (sympy's names are the equation language's).
    again = parse(f"{from_plain.equations()[0]}, X0 = 0.25")
    assert sp.simplify(again.drift[0] - from_plain.drift[0]) == 0


def test_time_dependent_coefficients_read_everywhere() -> None:
    plain = parse("dX = cos(t)*dt + 0.3*dW, X0 = 1")
    tex = parse(r"$dX_t = \cos(t)\,dt + 0.3\,dW_t$, $X_0 = 1$")
    assert plain.drift == tex.drift == (sp.cos(t),)
    assert SdeModel.from_json(plain.to_json()) == plain
    mixed = parse("dX = -tanh(X)*sin(t)*dt + (1 + 0.5*erf(t - 1))*dW, X0 = 0")
    assert t in mixed.diffusion[0][0].free_symbols and t in mixed.drift[0].free_symbols


def test_model_json_reads_the_functions_by_sympys_names() -> None:
    model = parse("dX = -tanh(X)*dt + 0.5*dW, X0 = 0")
    data = json.loads(model.to_json())
    data["drift"] = ["-atan(X) + sign(X)*erf(X) + sinh(X)/cosh(X) - tan(X) + sin(t)*cos(X)"]
    read = SdeModel.from_dict(data)
    want = -sp.atan(X) + sp.sign(X) * sp.erf(X) + sp.sinh(X) / sp.cosh(X) - sp.tan(X) + sp.sin(t) * sp.cos(X)
    assert read.drift[0] == want
    data["drift"] = ["__import__('os')"]
    with pytest.raises(ModelError):
        SdeModel.from_dict(data)


def test_rust_spells_erf_and_sign_with_the_sdk_and_the_rest_as_methods() -> None:
    names = {X: "x", t: "t"}
    printed = {f.name: codegen.rust_expr(f.sympy(X), names) for f in functions.TABLE if f.rust_function}
    assert printed == {"erf": "architect_sdk::erf(x)", "sign": "architect_sdk::sign(x)"}
    assert codegen.rust_expr(-sp.tanh(X) + sp.atan(X) * sp.cos(t), names) == "x.atan() * t.cos() - x.tanh()"
    assert codegen.rust_expr(sp.sign(X - 1), names) == "architect_sdk::sign(x - 1.0)"


def test_a_crate_using_every_function_passes_the_gate_and_the_proof() -> None:
    model = parse(
        "dX = (cos(t) - tanh(X) + atan(X) - 0.1*sin(X)*tan(0.1*X) + 0.01*sinh(X)/cosh(X))*dt"
        " + (0.5 + 0.1*erf(X) + 0.05*sign(X) + 0.01*abs(X) + 0.01*min(X, 1) + 0.01*max(X, -1))*dW, X0 = 0.5"
    )
    source = codegen.render_model_rs(model, codegen.choose_scheme(model))
    assert "architect_sdk::erf(x)" in source and "architect_sdk::sign(x)" in source
    assert _native.check_model_source(source) == []
    assert proof.prove(model, source).scheme == "euler-maruyama"
    # signum is not sign (1 at zero): a crate that swaps them is not the model.
    swapped = source.replace("architect_sdk::sign(x)", "x.signum()")
    with pytest.raises(proof.NotProven):
        proof.prove(model, swapped)


def test_the_llm_is_told_how_to_write_the_functions_it_has_not_seen() -> None:
    model = parse("dX = -tanh(X)*dt + 0.5*erf(X)*dW, X0 = 0")
    text = prompt.user_prompt(model)
    assert "Functions in Rust: tanh(a) -> f64::tanh(a), erf(a) -> architect_sdk::erf(a)" in text
    assert "Functions in Rust" not in prompt.user_prompt(parse("Heston"))  # the corpus's prompts are unchanged


# ---------------------------------------------------------------------------------------- intervals
def test_interval_domains_are_validated_canonical_and_round_trip() -> None:
    jacobi = parse("Jacobi")
    assert jacobi.domain == ("[0, 1]",)
    assert "Domain: X in [0, 1]" in jacobi.describe()
    assert SdeModel.from_json(jacobi.to_json()) == jacobi
    data = json.loads(jacobi.to_json())
    data["domain"] = {"X": "[0.0, 1.00]"}
    assert SdeModel.from_dict(data).domain == ("[0, 1]",)
    for bad in ("[1, 0]", "[0, inf]", "[0, 1", "(0, 1)", "[0, 1, 2]", "interval"):
        data["domain"] = {"X": bad}
        with pytest.raises(ModelError, match="unknown domain"):
            SdeModel.from_dict(data)
    assert interval_domain(-0.5, 2.25) == "[-0.5, 2.25]" and interval_of("[-0.5, 2.25]") == (-0.5, 2.25)
    assert domain_admits("[0, 1]", 0.0) and domain_admits("[0, 1]", 1.0)
    assert not domain_admits("[0, 1]", 1.0 + 1e-12) and not domain_admits("[0, 1]", float("nan"))


def test_check_initial_knows_the_interval() -> None:
    jacobi = parse("Jacobi")
    assert check_initial(jacobi, {"X": 1.0}) == {"X": 1.0}
    with pytest.raises(ModelError, match=r"must lie in \[0, 1\]"):
        check_initial(jacobi, {"X": 1.5})
    with pytest.raises(ModelError, match=r"must lie in \[0, 1\]"):
        check_initial(jacobi, {"X": -0.1})


def test_jacobi_is_truncated_at_both_ends_and_has_exact_moments() -> None:
    from architect.verifier.plan import make_plan

    jacobi = parse("Jacobi")
    scheme = codegen.choose_scheme(jacobi)
    assert scheme.steps == ("FullTruncation",) and "both ends" in scheme.reason
    source = codegen.render_model_rs(jacobi, scheme)
    assert "Domain::Interval" in source and "lower: 0.0" in source and "upper: 1.0" in source
    assert _native.check_model_source(source) == []
    assert make_plan(jacobi).exact == (0,)


# ---------------------------------------------------------------------------------------- end to end
SIM = ["--paths", "40000", "--steps", "40", "--backend", "symbolic"]


def _generate(text: str, out: Path) -> dict:
    status = main(["generate", text, "--out", str(out), *SIM])
    report = json.loads((out / "report.json").read_text())
    failed = [c for c in report["checks"] if not c["passed"]]
    assert status == 0 and report["verdict"] == "pass", (report["reason"], failed)
    assert report["build"]["warnings"] == []
    return report


@pytest.mark.slow
def test_a_time_dependent_drift_generates_and_verifies(tmp_path: Path) -> None:
    report = _generate("dX = cos(t)*dt + 0.3*dW, X0 = 1", tmp_path)
    means = [c for c in report["checks"] if c["kind"] == "mean"]
    assert means
    for check in means:  # E[X_t] = 1 + sin(t)
        time = check.get("time")
        if time is not None and check.get("theory") is not None:
            assert check["theory"] == pytest.approx(1 + float(sp.sin(time)), abs=5 * check["std_error"] + 1e-9)


@pytest.mark.slow
def test_tanh_atan_erf_sign_generate_and_verify(tmp_path: Path) -> None:
    _generate("dX = (-tanh(X) + 0.2*atan(X))*dt + (0.4 + 0.1*erf(X)*sign(X))*dW, X0 = 0.5", tmp_path)
    assert "architect_sdk::erf(x)" in (tmp_path / "src" / "model.rs").read_text()


@pytest.mark.slow
def test_jacobi_on_the_unit_interval_generates_and_verifies(tmp_path: Path) -> None:
    report = _generate("Jacobi sigma=0.5 X0=0.8", tmp_path)
    assert report["theory"]["exact_moments"] == ["X"]
    binary = next((tmp_path / "bin").iterdir())
    described = json.loads(subprocess.run([binary, "--describe"], capture_output=True, text=True, check=True).stdout)
    assert described["domain"] == {"X": "[0, 1]"}
    refused = subprocess.run([binary, "--x0", "X=1.5", "--paths", "10"], capture_output=True, text=True)
    assert refused.returncode == 2 and "must lie in [0, 1]" in refused.stderr
