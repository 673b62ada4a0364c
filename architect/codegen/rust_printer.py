"""Print sympy expressions as Rust `f64` code that compiles and means what sympy means.

sympy's own `RustCodePrinter` mixes integer and float literals (`Max(0, x)` prints a bare
`0`), and it drops parentheses: with real symbols `kappa*(theta - x)` prints as
`kappa*theta - x`. This printer is written from scratch on sympy's `Printer` dispatch
(`_print_<Class>`) with explicit precedences, so every literal is an `f64` and every
sub-expression is parenthesised exactly when Rust's precedence requires it. The test-suite
compiles what it prints and compares the values with sympy's.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.printing.printer import Printer

from architect.errors import UsageError

# Rust precedences, loosest to tightest; method-call receivers need ATOM.
ADD, MUL, UNARY, ATOM = 1, 2, 3, 4


class UnsupportedExpression(UsageError):
    """An expression uses something the Rust backend cannot express."""


def rust_float(value: float) -> str:
    """A Rust f64 literal that parses back to exactly ``value`` (shortest round-trip repr)."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise UnsupportedExpression(f"non-finite constant {text} in an expression")
    if "e" in text or "E" in text:
        mantissa, exponent = text.lower().split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{int(exponent)}"
    return text if "." in text else text + ".0"


class RustPrinter(Printer):
    """Prints one expression; ``names`` maps each free symbol to the Rust code that reads it."""

    printmethod = "_rust_code"

    def __init__(self, names: Mapping[sp.Symbol, str]) -> None:
        super().__init__()
        self.names = dict(names)

    def code(self, expr: sp.Expr) -> str:
        return self._code(sp.sympify(expr))[0]

    # Each _code_* returns (text, precedence) so the caller can decide on parentheses.
    def _code(self, expr: sp.Basic) -> tuple[str, int]:
        for cls in type(expr).__mro__:
            method = getattr(self, f"_code_{cls.__name__}", None)
            if method is not None:
                return method(expr)
        raise UnsupportedExpression(f"cannot generate Rust for {type(expr).__name__}: {expr}")

    def _wrap(self, expr: sp.Basic, min_precedence: int) -> str:
        text, precedence = self._code(expr)
        return text if precedence >= min_precedence else f"({text})"

    def _receiver(self, expr: sp.Basic) -> str:
        """Code usable before `.method()`: an atom, with float literals typed `_f64`."""
        text, precedence = self._code(expr)
        if expr.is_Number or expr.is_NumberSymbol:
            return f"({text}_f64)" if text.startswith("-") else f"{text}_f64"
        return text if precedence >= ATOM else f"({text})"

    # ------------------------------------------------------------------ atoms
    def _code_Symbol(self, expr: sp.Symbol) -> tuple[str, int]:
        if expr not in self.names:
            raise UnsupportedExpression(f"symbol {expr} has no value in the generated code")
        return self.names[expr], ATOM

    def _code_Number(self, expr: sp.Number) -> tuple[str, int]:
        text = rust_float(float(expr))
        return text, UNARY if text.startswith("-") else ATOM

    def _code_Pi(self, expr: sp.Basic) -> tuple[str, int]:
        return "std::f64::consts::PI", ATOM

    def _code_Exp1(self, expr: sp.Basic) -> tuple[str, int]:
        return "std::f64::consts::E", ATOM

    # -------------------------------------------------------------- operators
    def _code_Add(self, expr: sp.Add) -> tuple[str, int]:
        terms = sorted(expr.args, key=_leading_sign_last)
        text = self._wrap(terms[0], ADD)
        for term in terms[1:]:
            negated = -term
            if _prints_negative(term):
                text += f" - {self._wrap(negated, MUL)}"
            else:
                text += f" + {self._wrap(term, MUL)}"
        return text, ADD

    def _code_Mul(self, expr: sp.Mul) -> tuple[str, int]:
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"-{self._wrap(rest, UNARY + 1)}", UNARY
        numer, denom = sp.fraction(sp.Mul(*[a for a in expr.args]))
        if denom != 1:
            left = self._wrap(numer, MUL)
            return f"{left} / {self._wrap(denom, MUL + 1)}", MUL
        factors = [self._wrap(arg, MUL) for arg in expr.args]
        # `a * -b` is legal Rust, but a leading negative literal reads better first.
        return " * ".join(factors), MUL

    def _code_Pow(self, expr: sp.Pow) -> tuple[str, int]:
        base, exponent = expr.args
        if exponent == sp.Rational(1, 2):
            return f"{self._receiver(base)}.sqrt()", ATOM
        if exponent == -1:
            return f"1.0 / {self._wrap(base, MUL + 1)}", MUL
        if exponent == sp.Rational(-1, 2):
            return f"1.0 / {self._receiver(base)}.sqrt()", MUL
        if exponent.is_Integer and abs(int(exponent)) <= 64:
            return f"{self._receiver(base)}.powi({int(exponent)})", ATOM
        if base == sp.E:
            return self._code(sp.exp(exponent))
        return f"{self._receiver(base)}.powf({self._code(exponent)[0]})", ATOM

    # -------------------------------------------------------------- functions
    def _method(self, name: str, expr: sp.Function) -> tuple[str, int]:
        return f"{self._receiver(expr.args[0])}.{name}()", ATOM

    def _code_exp(self, expr: sp.Function) -> tuple[str, int]:
        return self._method("exp", expr)

    def _code_log(self, expr: sp.Function) -> tuple[str, int]:
        if len(expr.args) != 1:
            raise UnsupportedExpression(f"logarithm with a base: {expr}")
        return self._method("ln", expr)

    def _code_Abs(self, expr: sp.Function) -> tuple[str, int]:
        return self._method("abs", expr)

    def _code_sin(self, expr: sp.Function) -> tuple[str, int]:
        return self._method("sin", expr)

    def _code_cos(self, expr: sp.Function) -> tuple[str, int]:
        return self._method("cos", expr)

    def _code_tanh(self, expr: sp.Function) -> tuple[str, int]:
        return self._method("tanh", expr)

    def _code_Max(self, expr: sp.Function) -> tuple[str, int]:
        return self._fold("max", expr.args)

    def _code_Min(self, expr: sp.Function) -> tuple[str, int]:
        return self._fold("min", expr.args)

    def _fold(self, method: str, args: tuple[sp.Basic, ...]) -> tuple[str, int]:
        text = self._receiver(args[0])
        for arg in args[1:]:
            text = f"{text}.{method}({self._code(arg)[0]})"
        return text, ATOM


def _prints_negative(term: sp.Basic) -> bool:
    return term.could_extract_minus_sign()


def _leading_sign_last(term: sp.Basic) -> int:
    # Start a sum with a positive term so it prints `theta - x`, not `-x + theta`.
    return 1 if _prints_negative(term) else 0


def rust_expr(expr: sp.Expr, names: Mapping[sp.Symbol, str]) -> str:
    """Rust f64 code for ``expr``; ``names`` says how each free symbol is read."""
    return RustPrinter(names).code(expr)
