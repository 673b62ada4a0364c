"""The new theory end to end, on compiled crates: transformed states, prices, and the empirical reference for a
non-polynomial model, which must pass the symbolic crate and fail a hand-mutated one."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import sympy as sp

import architect
from architect.model import Parameter, SdeModel, symbol

pytestmark = pytest.mark.slow

FAST = architect.Options(paths=40_000, steps=40)


def sine_model() -> SdeModel:
    x, sigma = symbol("X"), symbol("sigma")
    return SdeModel(
        name="sine drift",
        state=("X",),
        noises=("W",),
        drift=(sp.sin(x),),
        diffusion=((sigma,),),
        correlation=((1,),),
        parameters=(Parameter("sigma", 0.3, "positive"),),
        initial=(0.5,),
        domain=("real",),
    )


def test_heston_in_levels_is_checked_through_its_log(tmp_path: Path) -> None:
    text = (
        "dS = mu*S*dt + sqrt(v)*S*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2; "
        "rho=-0.7, mu=0.05, kappa=2, theta=0.04, xi=0.3, S0=100, v0=0.04"
    )
    result = architect.generate(text, out=tmp_path, options=FAST)
    report = result.report
    assert result.passed, (report["reason"], [c for c in report["checks"] if not c["passed"]])
    assert report["theory"]["transformed_state"] == ["log S", "v"]
    names = [c["name"] for c in report["checks"]]
    assert "mean of log S at t=1" in names and "fourth central moment of log S at t=1" in names
    assert sum(c["kind"] == "price" and "(Heston)" in c["name"] for c in report["checks"]) == 3
    assert {c["theory_kind"] for c in report["checks"] if c["name"].startswith("mean of S")} == {"empirical reference"}
    assert {c["theory_kind"] for c in report["checks"] if c["name"].startswith("mean of v")} == {"exact"}
    assert report["simulation"]["reference"]["used"] is True


def test_empirical_reference_passes_the_symbolic_crate_and_fails_a_mutant(tmp_path: Path) -> None:
    model = sine_model()
    result = architect.generate(model, out=tmp_path, options=FAST)
    report = result.report
    assert result.passed, (report["reason"], [c for c in report["checks"] if not c["passed"]])
    statistical = [c for c in report["checks"] if c["kind"] != "sanity"]
    assert {c["theory_kind"] for c in statistical} == {"empirical reference"}
    assert "no exact theory" not in report["reason"]

    model_rs = tmp_path / "src" / "model.rs"
    source = model_rs.read_text()
    # The diffusion function returns [[self.sigma]]; a 10% larger volatility keeps the parameters intact.
    mutated = re.sub(r"\[\[self\.sigma\]\]", "[[1.1 * self.sigma]]", source)
    assert mutated != source
    model_rs.write_text(mutated)
    # The statistics on their own (the proof would refuse the mutant before them).
    again = architect.verify(tmp_path, options=replace(FAST, statistical_only=True))
    assert not again.passed
    failed = [c for c in again.report["checks"] if not c["passed"]]
    assert any(c["kind"] == "variance" and c["theory_kind"] == "empirical reference" for c in failed), failed


def test_exact_cir_without_feller_passes_its_exact_law(tmp_path: Path) -> None:
    """kappa=0.5, theta=0.04, sigma=0.3: 2·kappa·theta < sigma², the rate reaches zero; the SDK's exact step
    (Poisson mixture of gammas, d = 0.89 < 1) is tested against the non-central chi-square law and moments."""
    result = architect.generate("CIR kappa=0.5 theta=0.04 sigma=0.3", out=tmp_path, options=FAST, scheme="exact")
    report = result.report
    assert result.passed, (report["reason"], [c for c in report["checks"] if not c["passed"]])
    assert report["scheme"]["step_kinds"] == ["exact-cir"]
    law = [c for c in report["checks"] if c["kind"] == "distribution"]
    assert len(law) == 1 and "non-central chi-square" in law[0]["name"] and "pooled" in law[0]["detail"]
    # 4 checkpoints of the first design, 5 of the extended one (docs/verification.md §1).
    assert (
        sum(c["kind"] == "mean" for c in report["checks"])
        == sum(c["kind"] == "variance" for c in report["checks"])
        == 4 + 5
    )
    # Near zero the law is very skewed: the skewness guard leaves out some fourth moments at 40 000 paths, saying so.
    fourth = sum(c["kind"] == "fourth moment" for c in report["checks"])
    assert fourth + sum("fourth central moment" in n for n in report["theory"].get("not_tested", [])) == 4 + 5
