"""The symbolic compiler: scheme choice, identifiers, and the crate it writes (compiled in test_end_to_end)."""

from __future__ import annotations

from pathlib import Path

import sympy as sp

from architect.codegen import choose_scheme, write_crate
from architect.codegen.symbolic import crate_name, render_model_rs, rust_identifiers
from architect.model import Parameter, SdeModel, symbol

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
    assert choose_scheme(CIR).steps == ("FullTruncation",)
    assert choose_scheme(OU).steps == ("Euler",)
    assert choose_scheme(GBM).steps == ("LogEuler",)
    assert choose_scheme(GBM).name == "log-euler"
    assert "square-root" in choose_scheme(CIR).reason


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
    assert "s * self.mu" in code and "Step::LogEuler" in code
    assert '("mu", self.mu)' in code
    code = render_model_rs(OU, choose_scheme(OU))
    assert "fn diffusion(&self, _t: f64, _state: &[f64; 1])" in code  # constant noise: no unused bindings


def test_crate_layout_and_fixed_skeleton(tmp_path: Path) -> None:
    generated = write_crate(CIR, tmp_path)
    main_rs = (tmp_path / "src" / "main.rs").read_text()
    assert "#![forbid(unsafe_code)]" in main_rs
    assert "architect_sdk::cli::run(model::Model::default(), model::SCHEME)" in main_rs
    manifest = (tmp_path / "Cargo.toml").read_text()
    assert f'name = "{generated.crate_name}"' in manifest and "[workspace]" in manifest
    assert (tmp_path / "Cargo.lock").is_file()


def test_crate_names_differ_by_content() -> None:
    assert crate_name(CIR) != crate_name(CIR.with_parameters(kappa=3.0))
    assert crate_name(CIR) == crate_name(CIR)
