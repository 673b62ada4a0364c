"""Rust printing of sympy expressions: kept importable here; the printer is `architect.expr.printers`."""

from __future__ import annotations

from architect.expr.printers import ADD, ATOM, MUL, UNARY, RustPrinter, UnsupportedExpression, rust_expr, rust_float

__all__ = ["ADD", "ATOM", "MUL", "UNARY", "RustPrinter", "UnsupportedExpression", "rust_expr", "rust_float"]
