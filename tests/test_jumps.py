"""Jumps end to end: the explicit syntax and its errors, the model's JSON, code generation, the backend choice,
and `architect generate` passing verification for every jump family and an explicit jump equation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import architect
from architect.api import _backend_for
from architect.cli import main
from architect.codegen import write_crate
from architect.codegen.symbolic import choose_scheme, render_model_rs
from architect.errors import ModelError, ParseError, UsageError
from architect.gate import check_model_source
from architect.model import JSON_FORMAT, JSON_FORMAT_JUMPS, SdeModel, symbol

EXPLICIT = (
    "dX = -kappa*X*dt + sigma*dW + dJ\n"
    "J ~ CompoundPoisson(lambda, DoubleExponential(p, eta1, eta2))\n"
    "kappa=1, sigma=0.2, lambda=2, p=0.3, eta1=4, eta2=3, X0=0"
)
SIM = ["--paths", "40000", "--steps", "40", "--backend", "symbolic"]


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        architect.parse(text)
    return caught.value


# ============================================================================ the explicit syntax
def test_explicit_jump_terms_read_into_jump_parts() -> None:
    model = architect.parse(EXPLICIT)
    (jump,) = model.jumps
    assert (jump.variable, jump.law, jump.intensity) == ("X", "double-exponential", symbol("lam"))
    assert jump.size == (symbol("p"), symbol("eta1"), symbol("eta2"))
    assert model.noises == ("W",) and model.domain == ("real",)
    assert "lambda is a Python keyword, so it is called lam" in model.notes
    values = "kappa=1, sigma=0.2, lambda=2, p=0.3, eta1=4, eta2=3, X0=0"
    same = architect.parse(f"dX = -kappa*X*dt + sigma*dW + dJ; J = CPP(lambda, Kou(p, eta1, eta2)), {values}")
    assert same.jumps == model.jumps


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("dX = mu*dt + dW + dJ, mu=0.1, X0=0", "dJ is used but J is never defined", "dJ"),
        ("dX = mu*dt + dW; J ~ CompoundPoisson(1, Normal(0, 1)), mu=0.1, X0=0", "J is defined but no equation", "J ~"),
        ("dX = mu*dt + dW + 2*dJ; J ~ CompoundPoisson(1, Normal(0, 1)), mu=0.1, X0=0", "write the jump term", "dJ"),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(-1, Normal(0, 1)), mu=0.1, X0=0", "non-negative", "-1"),
        (
            "dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, Normal(0, 0)), mu=0.1, X0=0",
            "deviation must be positive",
            "0)",
        ),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, Kou(1.5, 3, 2)), mu=0.1, X0=0", "lie in [0, 1]", "1.5"),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, Kou(0.5, 0.9, 2)), mu=0.1, X0=0", "eta1 must exceed 1", "0.9"),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(lam, N(0, 1)), mu=0.1, X0=0", "'lam' has no value", "lam,"),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, N(0, X)), mu=0.1, X0=0", "cannot depend on the state", "X)"),
        (
            "dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, Poisson(1)), mu=0.1, X0=0",
            "expected a jump-size law",
            "Poisson(1)",
        ),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1), mu=0.1, X0=0", "takes two arguments", "Com"),
        ("dX = mu*dt + dW + dJ; J ~ CompoundPoisson(1, N(0)), mu=0.1, X0=0", "N takes 2 arguments", "N("),
        ("dX = mu*dt + dW + dJ; K ~ CompoundPoisson(1, N(0, 1)), mu=0.1, X0=0", "named J, J1 or J_x", "K ~"),
        ("dX = dW + dJ; dY = dW + dJ; J ~ CPP(1, N(0, 1)), X0=0, Y0=0", "appears in the equations of X and Y", "dJ;"),
    ],
)
def test_bad_jump_specifications_are_refused_with_a_caret(text: str, message: str, at: str) -> None:
    error = error_of(text)
    assert message in error.reason
    expected = text.rindex(at) if at in ("dJ", "dJ;") else text.index(at)
    assert error.position == expected, (error.position, expected)


def test_cli_refuses_a_bad_jump_with_exit_2_and_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "Kou eta1=0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("architect: error: eta1 must exceed 1") and "Traceback" not in err


# ============================================================================ the model and its JSON
def test_jump_models_write_format_2_and_diffusions_keep_format_1() -> None:
    merton = architect.parse("Merton")
    assert merton.to_dict()["format"] == JSON_FORMAT_JUMPS
    assert merton.to_dict()["jumps"] == [
        {"variable": "x", "intensity": "lam", "law": "normal", "size": {"mean": "m", "sd": "delta"}}
    ]
    assert SdeModel.from_json(merton.to_json()) == merton
    assert architect.parse("GBM").to_dict()["format"] == JSON_FORMAT
    assert "jumps" not in architect.parse("GBM").to_dict()


def test_the_model_refuses_bad_jump_parts() -> None:
    data = architect.parse("Merton").to_dict()
    data["jumps"][0]["variable"] = "y"
    with pytest.raises(ModelError, match="not a state variable"):
        SdeModel.from_dict(data)
    data["jumps"][0] |= {"variable": "x", "law": "cauchy"}
    with pytest.raises(ModelError, match="unknown jump-size law"):
        SdeModel.from_dict(data)
    with pytest.raises(ModelError, match="must be positive"):
        architect.parse("Merton").with_parameters(delta=-0.1)


# ============================================================================ code generation and backends
@pytest.mark.parametrize("text", ["Merton", "Kou", "Bates", EXPLICIT])
def test_generated_jump_code_passes_the_gate_and_steps_with_euler(text: str) -> None:
    model = architect.parse(text)
    scheme = choose_scheme(model)
    assert scheme.steps[0] == "Euler" and "Exact" not in "".join(scheme.steps)
    source = render_model_rs(model, scheme)
    assert "fn jumps(&self) -> Vec<Jump>" in source and "intensity: self.lam" in source
    assert check_model_source(source) == []
    with pytest.raises(UsageError, match="no exact transition law for a model with jumps"):
        choose_scheme(model, "exact")


def test_the_gate_still_rejects_other_sdk_paths_next_to_jumps() -> None:
    source = render_model_rs(architect.parse("Merton"), choose_scheme(architect.parse("Merton")))
    bad = source.replace("vec![", "architect_sdk::jumps::JumpSampler::new(&[], 1, 1.0).ok(); vec![", 1)
    assert any("architect_sdk::jumps" in v.reason for v in check_model_source(bad))


def test_the_llm_backend_is_refused_and_auto_uses_the_compiler_for_jumps() -> None:
    merton = architect.parse("Merton")
    with pytest.raises(UsageError, match="does not know jumps"):
        _backend_for(merton, "llm")
    backend, note = _backend_for(merton, "auto")
    assert backend == "symbolic" and "does not know jumps" in note
    assert _backend_for(architect.parse("GBM"), "auto") == ("auto", "")


# ============================================================================ end to end
def _generate(text: str, out: Path, *extra: str) -> dict:
    status = main(["generate", text, "--out", str(out), *SIM, *extra])
    report = json.loads((out / "report.json").read_text())
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    assert status == 0, (report["reason"], failed)
    assert report["build"]["warnings"] == []
    # The binary's --describe lists its jump parts, equal to the model's (tests/test_user_statistics.py).
    (jumps,) = [c for c in report["checks"] if c["name"] == "binary simulates the model's jumps"]
    assert jumps["passed"] and jumps["detail"] == f"{len(report['model']['jumps'])} jump part(s) match the model"
    return report


def test_merton_generates_and_passes_moments_law_and_prices(tmp_path: Path) -> None:
    report = _generate("Merton jump diffusion", tmp_path)
    kinds = {c["kind"] for c in report["checks"]}
    assert {"mean", "variance", "distribution", "price"} <= kinds, kinds
    assert any("Poisson mixture of normals" in c["name"] for c in report["checks"])
    assert sum("(Merton)" in c["name"] for c in report["checks"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "engine"), [("Kou", "(Kou)"), ("Bates", "(Bates)"), ("GBM with jumps", "(Merton)"), (EXPLICIT, None)]
)
def test_jump_models_generate_and_pass(text: str, engine: str | None, tmp_path: Path) -> None:
    report = _generate(text, tmp_path, *(["--backend", "auto"] if text == "GBM with jumps" else []))
    if engine:
        assert sum(engine in c["name"] for c in report["checks"]) == 3
    if text == "GBM with jumps":
        assert report["backend"] == "symbolic" and "does not know jumps" in report["backend_note"]


NON_POLYNOMIAL = "dX = -X^3*dt + 0.3*dW + dJ; J ~ CompoundPoisson(2, Normal(0.1, 0.2)); X0=0.5"


@pytest.mark.slow
def test_the_empirical_reference_simulates_the_jumps(tmp_path: Path) -> None:
    """A non-polynomial model with jumps passes against the reference runs (the symbolic crate, jumps included),
    and the same crate without its jumps fails against them."""
    report = _generate(NON_POLYNOMIAL, tmp_path / "model")
    assert report["theory"]["empirical_reference"] == ["X"] and report["simulation"]["reference"]["used"]
    original = architect.parse(NON_POLYNOMIAL)
    write_crate(replace(original, jumps=()), tmp_path / "without")
    result = architect.verify(tmp_path / "without", model=original, options=architect.Options(steps=40, paths=40000))
    assert not result.passed, result.report["reason"]
