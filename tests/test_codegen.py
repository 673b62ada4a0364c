"""The symbolic compiler: scheme choice, identifiers, and the crate it writes (compiled in test_end_to_end)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from architect import parse
from architect.codegen import choose_scheme, exact_law, write_crate
from architect.codegen.symbolic import crate_name, render_model_rs, rust_identifiers, step_scaling
from architect.errors import UsageError
from architect.model import TIME, Parameter, SdeModel, symbol

X, S, v = symbol("X"), symbol("S"), symbol("v")
kappa, theta, sigma, mu = (symbol(n) for n in ("kappa", "theta", "sigma", "mu"))
PARAMS = (
    Parameter("kappa", 2.0, "positive"),
    Parameter("theta", 0.04, "positive"),
    Parameter("sigma", 0.3, "positive"),
)


def one_factor(name: str, state: str, drift: sp.Expr, diffusion: sp.Expr, domain: str, params=PARAMS) -> SdeModel:
    return SdeModel(
        name=name,
        state=(state,),
        noises=("W",),
        drift=(drift,),
        diffusion=((diffusion,),),
        correlation=((1,),),
        parameters=params,
        initial=(0.04,),
        domain=(domain,),
    )


CIR = one_factor("CIR", "X", kappa * (theta - X), sigma * sp.sqrt(X), "nonnegative")
OU = one_factor("OU", "X", kappa * (theta - X), sigma, "real")
GBM = one_factor(
    "GBM", "S", mu * S, sigma * S, "positive", (Parameter("mu", 0.05), Parameter("sigma", 0.2, "positive"))
)


def test_scheme_follows_the_structure() -> None:
    assert choose_scheme(CIR, "euler").steps == ("FullTruncation",)
    assert choose_scheme(OU, "euler").steps == ("Euler",)
    assert choose_scheme(GBM, "euler") == choose_scheme(GBM, "euler")
    assert choose_scheme(GBM, "euler").steps == ("Euler",)
    assert "square-root" in choose_scheme(CIR, "euler").reason
    # A time-dependent volatility has no exact law: log-Euler keeps the price positive.
    seasonal = one_factor(
        "GBM", "S", mu * S, sigma * S * (1 + TIME), "positive", (Parameter("mu", 0.05), Parameter("sigma", 0.2))
    )
    assert choose_scheme(seasonal).steps == ("LogEuler",)
    assert choose_scheme(seasonal).name == "log-euler"


def test_exact_laws_are_detected_from_the_structure_not_the_name() -> None:
    assert choose_scheme(OU) == choose_scheme(OU, "exact")
    assert (choose_scheme(OU).name, choose_scheme(OU).steps) == ("exact", ("ExactOu",))
    assert choose_scheme(GBM).steps == ("ExactGbm",)
    assert choose_scheme(CIR).steps == ("ExactCir",)
    assert "chi-square" in choose_scheme(CIR).reason
    # The same structures under other names and spellings.
    abm = one_factor("drifting", "X", sp.Rational(1, 10), sigma, "real")
    assert exact_law(abm)[0] == "ExactOu"
    shifted = one_factor("square root", "X", 1 - 3 * X, 2 * sp.sqrt(X) * sigma, "nonnegative")
    assert exact_law(shifted)[0] == "ExactCir"
    # Not exact: nonlinear drift, time dependence, CIR with a negative level, GBM with a constant in
    # the drift, a process that is not one-dimensional.
    assert exact_law(one_factor("cubic", "X", -(X**3), sigma, "real")) is None
    assert exact_law(one_factor("timed", "X", -X + TIME, sigma, "real")) is None
    assert exact_law(one_factor("neg", "X", kappa * (-theta - X), sigma * sp.sqrt(X), "nonnegative")) is None
    assert exact_law(one_factor("gbm+", "S", 1 + mu * S, sigma * S, "positive", GBM.parameters)) is None
    assert choose_scheme(one_factor("cubic", "X", -(X**3), sigma, "real")).steps == ("Euler",)
    with pytest.raises(UsageError, match="no exact transition"):
        choose_scheme(one_factor("cubic", "X", -(X**3), sigma, "real"), "exact")
    with pytest.raises(UsageError, match="unknown scheme"):
        choose_scheme(OU, "milstein")


def test_identifiers_are_snake_case_distinct_and_not_keywords() -> None:
    ids = rust_identifiers(["S", "s", "type", "self", "Kappa_X", "2x", "a b"])
    assert ids == {
        "S": "s",
        "s": "s_",
        "type": "type_",
        "self": "self_",
        "Kappa_X": "kappa_x",
        "2x": "v_2x",
        "a b": "a_b",
    }


def test_model_rs_reads_parameters_and_binds_only_used_state() -> None:
    code = render_model_rs(GBM, choose_scheme(GBM))
    assert "s * self.mu" in code and "Step::ExactGbm" in code and 'Scheme::new("exact"' in code
    assert '("mu", self.mu)' in code
    code = render_model_rs(OU, choose_scheme(OU))
    assert "fn diffusion(&self, _t: f64, _state: &[f64; 1])" in code  # constant noise: no unused bindings


def test_crate_layout_and_fixed_skeleton(tmp_path: Path) -> None:
    generated = write_crate(CIR, tmp_path)
    main_rs = (tmp_path / "src" / "main.rs").read_text()
    assert "#![forbid(unsafe_code)]" in main_rs
    assert "architect_sdk::cli::run_jailed::<{ model::SCHEME.is_exact() }, _, _, model::Model>(" in main_rs
    manifest = (tmp_path / "Cargo.toml").read_text()
    assert f'name = "{generated.crate_name}"' in manifest and "[workspace]" in manifest
    assert (tmp_path / "Cargo.lock").is_file()


def test_crate_names_differ_by_content() -> None:
    assert crate_name(CIR) != crate_name(CIR.with_parameters(kappa=3.0))
    assert crate_name(CIR) == crate_name(CIR)
    assert crate_name(CIR, choose_scheme(CIR)) != crate_name(CIR, choose_scheme(CIR, "euler"))


def test_step_scaling_folds_dt_into_parameters_the_drift_or_diffusion_is_linear_in() -> None:
    # OU's drift kappa (theta - X) is linear in kappa (not in {kappa, theta}); sigma is the diffusion's own.
    assert step_scaling(OU) == {"kappa": "h", "sigma": "sqrt_h"}
    assert step_scaling(GBM) == {"mu": "h", "sigma": "sqrt_h"}
    # A drift term without a parameter (X^3) or a parameter shared by drift and diffusion: no scaling.
    assert step_scaling(one_factor("cubic", "X", kappa - X**3, sigma, "real")) is None
    assert step_scaling(one_factor("shared", "X", sigma * (theta - X), sigma, "real")) is None
    # Heston's price drift -v/2 has no parameter.
    assert step_scaling(parse("Heston")) is None


def test_per_step_is_generated_only_for_scalable_models() -> None:
    code = render_model_rs(OU, choose_scheme(OU, "euler"))
    assert "kappa: self.kappa * h," in code and "sigma: self.sigma * sqrt_h," in code
    assert "..self.clone()" in code  # θ keeps its value
    code = render_model_rs(GBM, choose_scheme(GBM, "euler"))
    assert "mu: self.mu * h," in code and "..self.clone()" not in code  # every field given
    assert "fn per_step" not in render_model_rs(parse("Heston"), choose_scheme(parse("Heston"), "euler"))
