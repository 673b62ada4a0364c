"""The Rust printer: golden strings, and a compiled check that Rust computes what sympy means."""

from __future__ import annotations

import math
import subprocess

import pytest
import sympy as sp

from architect.build import build_crate
from architect.codegen.rust_printer import UnsupportedExpression, rust_expr, rust_float
from architect.model import TIME, symbol

x, v, kappa, theta, sigma = (symbol(n) for n in ("x", "v", "kappa", "theta", "sigma"))
NAMES = {x: "x", v: "v", kappa: "kappa", theta: "theta", sigma: "sigma", TIME: "t"}

# Expressions that trip sympy's own Rust printer (int/float mixing, dropped parentheses) and
# the shapes SDE coefficients take.
EXPRESSIONS = [
    kappa * (theta - x),
    sigma * sp.sqrt(x),
    sp.Max(x, 0),
    sp.Min(2, x),
    -x / 2,
    -sp.Rational(1, 2) * sigma**2,
    x ** sp.Rational(3, 2),
    1 / (x + 1),
    sigma / sp.sqrt(v),
    -((x + 1) ** 2),
    sp.exp(-kappa * TIME) * x,
    sp.log(v) - sp.Abs(x - theta),
    sp.pi * x + sp.E,
    2**x,
    x**-2 + v ** sp.Rational(-1, 2),
    kappa * theta - x * (kappa + 1),
    sp.sqrt(2) * sigma * x * v,
    (x - theta) ** 3 / (1 + v**2),
    sp.Rational(1, 3) * x - 7,
    sp.sin(x) * sp.cos(v) + sp.tanh(x),
]

POINT = {x: 0.7, v: 1.3, kappa: 2.0, theta: 0.04, sigma: 0.3, TIME: 0.25}


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        (kappa * (theta - x), "kappa * (theta - x)"),
        (sp.Max(x, 0), "0.0_f64.max(x)"),
        (-x / 2, "-x / 2.0"),
        (sigma * sp.sqrt(x), "sigma * x.sqrt()"),
        (x**2, "x.powi(2)"),
        (sp.Integer(3), "3.0"),
    ],
)
def test_golden_strings(expr: sp.Expr, code: str) -> None:
    assert rust_expr(expr, NAMES) == code


def test_float_literals_round_trip() -> None:
    for value in (0.1, 1 / 3, 1e-300, 2.5e20, -7.0, 100.0):
        assert float(rust_float(value).replace("e", "e")) == value
        assert "." in rust_float(value)


def test_unknown_symbol_is_a_clear_error() -> None:
    with pytest.raises(UnsupportedExpression, match="no value"):
        rust_expr(symbol("mystery") * x, NAMES)


@pytest.mark.slow
def test_compiled_values_match_sympy(tmp_path) -> None:
    """Compile every expression into a Rust program and compare its output with sympy's value."""
    lets = "\n".join(f"    let {NAMES[s]}: f64 = {rust_float(val)};" for s, val in POINT.items())
    prints = "\n".join(f'    println!("{{:e}}", {rust_expr(e, NAMES)});' for e in EXPRESSIONS)
    (tmp_path / "src").mkdir()
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "printer_check"\nversion = "0.1.0"\nedition = "2024"\n\n[workspace]\n'
    )
    (tmp_path / "src" / "main.rs").write_text(f"#![deny(warnings)]\nfn main() {{\n{lets}\n{prints}\n}}\n")
    built = build_crate(tmp_path, tmp_path / "printer_check")
    assert built.warnings == ()
    out = subprocess.run([str(built.binary)], capture_output=True, text=True, check=True).stdout.split()
    for expr, printed in zip(EXPRESSIONS, out, strict=True):
        expected = float(expr.subs(POINT).evalf(30))
        assert math.isclose(float(printed), expected, rel_tol=1e-12, abs_tol=1e-15), (expr, printed, expected)
