"""The expression core: one table of functions, read and printed the same way by every surface."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import sympy as sp

from architect.expr import functions, printers, reader
from architect.llm import completion
from architect.parser import latex, syntax

GATE = Path(__file__).resolve().parents[1] / "sdk-rs" / "gate" / "src" / "lib.rs"


def _gate_string_lists() -> dict[str, list[str]]:
    """Every `const NAME: [&str; N] = [...]` of the gate's source, by name."""
    text = GATE.read_text()
    lists = {}
    for match in re.finditer(r"const\s+([A-Z_0-9]+)\s*:\s*\[&str;\s*\d+\]\s*=\s*\[(.*?)\];", text, re.DOTALL):
        lists[match.group(1)] = re.findall(r'"([^"]*)"', match.group(2))
    return lists


def test_the_rust_spellings_are_what_the_gate_accepts() -> None:
    text = GATE.read_text()
    # The gate lets model code name the standard library only through `std::f64::consts::NAME`.
    assert re.search(r'names\[1\]\s*==\s*"f64"\s*&&\s*names\[2\]\s*==\s*"consts"', text)
    for _, path, _, _, _ in functions.CONSTANTS:
        assert re.fullmatch(r"std::f64::consts::[A-Z_0-9]+", path), path
    lists = _gate_string_lists()
    methods = {name: values for name, values in lists.items() if re.search(r"F64|FLOAT|METHOD", name)}
    if not methods:
        # No list of f64 methods in the gate (it accepts f64 arithmetic and methods in general): nothing
        # forbids ours; check that none of them is a name the gate refuses in any of its lists.
        refused = {v for name, values in lists.items() for v in values if not name.startswith("ALLOWED")}
        # (The proof, not the gate, limits model.rs to the table's methods: `proof.prove` reads every call
        # through `completion.to_sympy`, and a method outside the table is "not provably the model".)
        assert not set(completion.METHODS) & refused
        return
    (allowed,) = methods.values()
    assert set(completion.METHODS) <= set(allowed), set(completion.METHODS) - set(allowed)


def test_every_surface_reads_its_column_of_the_one_table() -> None:
    table = functions.TABLE
    assert set(syntax.FUNCTIONS) == {s for f in table for s in f.spellings}
    assert all(syntax.FUNCTIONS[s].name == f.name for f in table for s in f.spellings)
    assert {s for f in table for s in f.latex} == latex.FUNCTIONS
    assert {s for f in table for s in f.model_names} == reader.FUNCTIONS
    assert set(completion.METHODS) == {f.rust for f in table if f.rust} | set(functions.RUST_POWERS)
    # A function the parser, LaTeX or the LLM reads can be written back into a model file and into Rust.
    for f in table:
        if f.spellings or f.latex or f.rust:
            assert f.sympy_name in f.model_names, f.name
        if f.spellings or f.latex:
            assert (f.rust or f.rust_function) and f.math, f.name
        assert not (f.rust and f.rust_function), f.name  # one spelling in Rust: a method or an SDK function
    # The equation language's spellings read back from sympy's printing of each function.
    for f in table:
        if f.spellings:
            assert f.sympy_name in f.spellings or f.sympy_name == "sqrt", f.name


@pytest.mark.parametrize("f", [f for f in functions.TABLE if f.rust or f.rust_function], ids=lambda f: f.name)
def test_each_rust_function_prints_reads_back_and_evaluates_the_same(f: functions.Function) -> None:
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", positive=True)
    args = (x,) if f.max_args == 1 else (x, y)
    expr = f.sympy(*args)
    names = {x: "x", y: "self.y"}
    text = printers.rust_expr(expr, names)
    math_text = printers.math_expr(expr, names)
    assert f.math is not None and math_text.startswith(f"{f.math}(")
    parsed = completion.parse_completion(
        f"drift: [{text}]\ndiffusion: [[1.0]]", completion.Names(frozenset({"x", "t"}), frozenset({"y"})), 1, 1
    )
    tree = parsed.drift[0].tree
    assert sp.simplify(completion.to_sympy(tree, {"y": y}, {"x": x}) - expr) == 0
    value = completion.evaluate(tree, {"x": 0.7, "self.y": 1.3})
    assert math.isclose(value, float(expr.subs({x: 0.7, y: 1.3})), rel_tol=1e-12)


def test_the_printers_are_siblings_over_one_base() -> None:
    assert not issubclass(printers.MathPrinter, printers.RustPrinter)
    assert issubclass(printers.MathPrinter, printers.ExprPrinter)
    assert issubclass(printers.RustPrinter, printers.ExprPrinter)
    x = sp.Symbol("x", positive=True)
    expr = sp.Max(sp.sqrt(x), 2) + sp.log(x) * sp.pi
    assert printers.rust_expr(expr, {x: "x"}) == "std::f64::consts::PI * x.ln() + 2.0_f64.max(x.sqrt())"
    assert printers.math_expr(expr, {x: "x"}) == "pi * ln(x) + max(2, sqrt(x))"
    assert printers.latex(expr) == sp.latex(expr)
