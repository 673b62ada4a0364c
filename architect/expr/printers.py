"""The printers of sympy expressions: Rust, the LLM prompt's plain math, display text and LaTeX.

`ExprPrinter` is the one walk of the two code-like surfaces, written on sympy's `Printer` dispatch
(``_code_<Class>``) with explicit precedences, so that every sub-expression is parenthesised exactly
when the target needs it; functions are looked up in the one table (`architect.expr.functions`).
Its siblings differ only in spelling:

- `RustPrinter`: Rust `f64` code that compiles and means what sympy means. sympy's own
  `RustCodePrinter` mixes integer and float literals (`Max(0, x)` prints a bare `0`) and drops
  parentheses (`kappa*(theta - x)` prints as `kappa*theta - x` with real symbols); here every
  literal is an `f64` and functions are methods (``x.sqrt()``, ``a.max(b)``), or the SDK's functions
  where `f64` has no method (``architect_sdk::erf(x)``). The text is spliced
  into crates and compared token for token by the proof: it must not change. With
  ``calls="path"`` the same code calls functions by path, ``f64::sqrt(x)``, ``f64::max(a, b)``
  (powers stay ``x.powi(2)``): the LLM's answer style, in which a call reads in the order of the
  math it translates (``sin(cos(x))`` is ``f64::sin(f64::cos(x))``, not ``x.cos().sin()``).
- `MathPrinter`: the same walk (term order, spacing, parentheses) in plain math, for the LLM's
  prompt: prefix calls (``sqrt(a)``, ``max(a, b)``), ``a**n``, integers without ``.0``, ``pi``, ``e``.

`DisplayPrinter` (sympy's `StrPrinter`, sums starting with a positive term) and `LatexPrinter`
(sympy's) print for people: the equations of `SdeModel.equations` and the report's formulas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import sympy as sp  # type: ignore[import-untyped]
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter  # type: ignore[import-untyped]
from sympy.printing.precedence import precedence  # type: ignore[import-untyped]
from sympy.printing.printer import Printer  # type: ignore[import-untyped]
from sympy.printing.str import StrPrinter  # type: ignore[import-untyped]

from architect.errors import UsageError
from architect.expr.functions import BY_SYMPY_NAME, CONSTANTS, Function

#: How `RustPrinter` calls a function: ``x.sqrt()`` (the compiler's crates) or ``f64::sqrt(x)`` (the LLM's answers).
CallStyle = Literal["method", "path"]

# Precedences, loosest to tightest; method-call receivers need ATOM.
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


class ExprPrinter(Printer):  # type: ignore[misc]
    """The walk shared by `RustPrinter` and `MathPrinter`; ``names`` maps each free symbol to its text.

    A subclass says how numbers, constants, calls of the table's functions and powers are spelled.
    """

    #: `CONSTANTS`' column of this surface's spelling of pi and e.
    constant_column = 1

    def __init__(self, names: Mapping[sp.Symbol, str]) -> None:
        super().__init__()
        self.names = dict(names)

    def code(self, expr: sp.Expr) -> str:
        return self._code(sp.sympify(expr))[0]

    def spelling(self, function: Function) -> str | None:
        """This surface's name for ``function``; None: it cannot be written here."""
        raise NotImplementedError

    # Each _code_* returns (text, precedence) so the caller can decide on parentheses.
    def _code(self, expr: sp.Basic) -> tuple[str, int]:
        function = BY_SYMPY_NAME.get(type(expr).__name__)
        if function is not None and self.spelling(function) is not None:
            return self._function(function, expr)
        for cls in type(expr).__mro__:
            method = getattr(self, f"_code_{cls.__name__}", None)
            if method is not None:
                result: tuple[str, int] = method(expr)
                return result
        raise UnsupportedExpression(f"cannot generate Rust for {type(expr).__name__}: {expr}")

    def _wrap(self, expr: sp.Basic, min_precedence: int) -> str:
        text, precedence_ = self._code(expr)
        return text if precedence_ >= min_precedence else f"({text})"

    def _receiver(self, expr: sp.Basic) -> str:
        """Code usable before a postfix (``.method()``, ``**``): an atom."""
        text, precedence_ = self._code(expr)
        return text if precedence_ >= ATOM else f"({text})"

    # ------------------------------------------------------------------ atoms
    def _code_Symbol(self, expr: sp.Symbol) -> tuple[str, int]:
        if expr not in self.names:
            raise UnsupportedExpression(f"symbol {expr} has no value in the generated code")
        return self.names[expr], ATOM

    def _number(self, expr: sp.Number) -> str:
        raise NotImplementedError

    def _code_Number(self, expr: sp.Number) -> tuple[str, int]:
        text = self._number(expr)
        return text, UNARY if text.startswith("-") else ATOM

    def _constant(self, expr: sp.Basic) -> tuple[str, int]:
        return next(str(c[self.constant_column]) for c in CONSTANTS if c[0] == expr), ATOM

    def _code_Pi(self, expr: sp.Basic) -> tuple[str, int]:
        return self._constant(expr)

    def _code_Exp1(self, expr: sp.Basic) -> tuple[str, int]:
        return self._constant(expr)

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
        sqrt = BY_SYMPY_NAME["sqrt"]
        if exponent == sp.Rational(1, 2):
            return self._call(sqrt, (base,)), ATOM
        one = self._number(sp.Integer(1))
        if exponent == -1:
            return f"{one} / {self._wrap(base, MUL + 1)}", MUL
        if exponent == sp.Rational(-1, 2):
            return f"{one} / {self._call(sqrt, (base,))}", MUL
        return self._power(base, exponent)

    def _power(self, base: sp.Basic, exponent: sp.Basic) -> tuple[str, int]:
        raise NotImplementedError

    # -------------------------------------------------------------- functions
    def _function(self, function: Function, expr: sp.Basic) -> tuple[str, int]:
        if function.max_args == 1 and len(expr.args) != 1:
            what = (
                "logarithm with a base"
                if function.name == "log"
                else f"{function.name} with {len(expr.args)} arguments"
            )
            raise UnsupportedExpression(f"{what}: {expr}")
        return self._call(function, tuple(expr.args)), ATOM

    def _call(self, function: Function, args: tuple[sp.Basic, ...]) -> str:
        raise NotImplementedError


class RustPrinter(ExprPrinter):
    """Prints one expression as Rust f64 code; ``names`` maps each free symbol to the Rust code that reads it."""

    printmethod = "_rust_code"
    constant_column = 1

    def __init__(self, names: Mapping[sp.Symbol, str], calls: CallStyle = "method") -> None:
        super().__init__(names)
        self.calls = calls

    def spelling(self, function: Function) -> str | None:
        return function.rust or function.rust_function

    def _number(self, expr: sp.Number) -> str:
        return rust_float(float(expr))

    def _receiver(self, expr: sp.Basic) -> str:
        """Code usable before `.method()`: an atom, with float literals typed `_f64`."""
        text, precedence_ = self._code(expr)
        if expr.is_Number or expr.is_NumberSymbol:
            return f"({text}_f64)" if text.startswith("-") else f"{text}_f64"
        return text if precedence_ >= ATOM else f"({text})"

    def _power(self, base: sp.Basic, exponent: sp.Basic) -> tuple[str, int]:
        if exponent.is_Integer and abs(int(exponent)) <= 64:
            return f"{self._receiver(base)}.powi({int(exponent)})", ATOM
        if base == sp.E:
            return self._code(sp.exp(exponent))
        return f"{self._receiver(base)}.powf({self._code(exponent)[0]})", ATOM

    def _call(self, function: Function, args: tuple[sp.Basic, ...]) -> str:
        if function.rust_function is not None:  # the SDK's erf and sign: architect_sdk::erf(x)
            return f"{function.rust_function}({', '.join(self._code(a)[0] for a in args)})"
        method = function.rust
        if self.calls == "path":  # prefix order; max/min of several folded: f64::max(f64::max(a, b), c)
            codes = [self._code(a)[0] for a in args]
            text = f"f64::{method}({codes[0]})" if len(codes) == 1 else codes[0]
            for code in codes[1:]:
                text = f"f64::{method}({text}, {code})"
            return text
        text = self._receiver(args[0])
        if function.max_args == 1:
            return f"{text}.{method}()"
        for arg in args[1:]:  # max/min of several: folded, a.max(b).max(c)
            text = f"{text}.{method}({self._code(arg)[0]})"
        return text


class MathPrinter(ExprPrinter):
    """The Rust printer's walk (same term order, spacing and parentheses) in math syntax.

    Only the pieces the LLM must translate differ from the Rust answer: functions are
    prefix calls (``sqrt(a)``, ``max(a, b)``), powers are ``a**n``, integer-valued literals
    have no ``.0`` and constants are ``pi`` and ``e``.
    """

    constant_column = 3

    def spelling(self, function: Function) -> str | None:
        return function.math

    def _number(self, expr: sp.Number) -> str:
        return str(int(expr)) if expr.is_Integer else rust_float(float(expr))

    def _power(self, base: sp.Basic, exponent: sp.Basic) -> tuple[str, int]:
        if base == sp.E:
            return self._code(sp.exp(exponent))
        return f"{self._receiver(base)}**{self._receiver(exponent)}", ATOM

    def _call(self, function: Function, args: tuple[sp.Basic, ...]) -> str:
        return f"{function.math}({', '.join(self._code(a)[0] for a in args)})"


class DisplayPrinter(StrPrinter):  # type: ignore[misc]
    """sympy's str form, but sums start with a positive term: `kappa*(theta - v)`, not `kappa*(-v + theta)`."""

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        terms = sorted(self._as_ordered_terms(expr, order=order), key=lambda term: term.could_extract_minus_sign())
        text: str = self._print(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " - " + self.parenthesize(-term, precedence(expr))
            else:
                text += " + " + self.parenthesize(term, precedence(expr))
        return text


class LatexPrinter(_SympyLatexPrinter):  # type: ignore[misc]
    """sympy's LaTeX, for the report's formulas (the LaTeX reader's commands: `Function.latex`)."""


def _prints_negative(term: sp.Basic) -> bool:
    return bool(term.could_extract_minus_sign())


def _leading_sign_last(term: sp.Basic) -> int:
    # Start a sum with a positive term so it prints `theta - x`, not `-x + theta`.
    return 1 if _prints_negative(term) else 0


def rust_expr(expr: sp.Expr, names: Mapping[sp.Symbol, str], calls: CallStyle = "method") -> str:
    """Rust f64 code for ``expr``; ``names`` says how each free symbol is read, ``calls`` how functions are called."""
    return RustPrinter(names, calls).code(expr)


def math_expr(expr: sp.Expr, names: Mapping[sp.Symbol, str]) -> str:
    """The plain-math text of ``expr`` (the LLM prompt's syntax)."""
    return MathPrinter(names).code(expr)


def display(expr: sp.Expr) -> str:
    """Readable text for an expression (display only; model files use sympy's canonical `sstr`)."""
    return str(DisplayPrinter().doprint(expr))


def latex(expr: sp.Expr) -> str:
    """LaTeX for an expression, as `sympy.latex` writes it."""
    return str(LatexPrinter().doprint(expr))
