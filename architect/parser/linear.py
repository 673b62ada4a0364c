"""Evaluate an expression tree to exact sympy, split into its ``dt`` and ``dW`` parts.

A right-hand side ``a dt + b dW1 + c dW2`` evaluates to a `Linear` form: a constant part (what
multiplies no differential; zero in a valid equation) and one coefficient per differential.
Products of two differentials, powers of them and differentials inside functions are refused
where they occur, so every caret points at the offending operator or call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

import sympy as sp

from architect.errors import ParseError
from architect.expr.functions import TABLE
from architect.parser.syntax import Call, Group, Name, Negate, Node, Number, Power, Product, Sum

DT = "dt"
MAX_EXPONENT = 1000  # larger numeric exponents make sympy build astronomically large integers
MAX_NUMBER_BITS = 100_000

#: The equation language's functions by canonical name, from the one table (`architect.expr.functions`).
SYMPY_FUNCTIONS: Mapping[str, Callable[..., sp.Expr]] = {f.name: f.sympy for f in TABLE if f.spellings}


@dataclass(frozen=True)
class Differential:
    """``dt`` (key ``"dt"``) or the increment of the Brownian motion named ``key``."""

    key: str

    @property
    def spelling(self) -> str:
        return DT if self.key == DT else "d" + self.key


#: Maps a name in the text to its meaning: a sympy expression or a differential.
Resolver = Callable[[Name], sp.Expr | Differential]


@dataclass(frozen=True)
class Linear:
    constant: sp.Expr
    parts: Mapping[str, sp.Expr] = field(default_factory=dict)  # differential key -> coefficient

    @property
    def has_differentials(self) -> bool:
        return bool(self.parts)

    def scaled(self, factor: sp.Expr) -> Linear:
        return Linear(self.constant * factor, {k: v * factor for k, v in self.parts.items()})

    def plus(self, other: Linear) -> Linear:
        parts = dict(self.parts)
        for key, value in other.parts.items():
            parts[key] = parts.get(key, sp.Integer(0)) + value
        return Linear(self.constant + other.constant, parts)


def evaluate(node: Node, resolve: Resolver, text: str) -> Linear:
    """The linear form of ``node``; ParseError at the first place it is not linear in the differentials."""
    return _Evaluator(resolve, text).linear(node)


def evaluate_constant(node: Node, resolve: Resolver, text: str, what: str) -> sp.Expr:
    """An expression that must not contain dt or dW (a correlation, say)."""
    form = evaluate(node, resolve, text)
    if form.has_differentials:
        key = next(iter(form.parts))
        raise ParseError(f"{what} cannot contain {Differential(key).spelling}", text, node.start)
    return form.constant


def spelled(key: str) -> str:
    return Differential(key).spelling


class _Evaluator:
    def __init__(self, resolve: Resolver, text: str) -> None:
        self.resolve = resolve
        self.text = text

    def fail(self, reason: str, position: int) -> NoReturn:
        raise ParseError(reason, self.text, position)

    def linear(self, node: Node) -> Linear:
        if isinstance(node, Number):
            return Linear(node.value)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Group):
            return self.linear(node.inner)
        if isinstance(node, Negate):
            return self.linear(node.operand).scaled(sp.Integer(-1))
        if isinstance(node, Sum):
            return self.sum(node)
        if isinstance(node, Product):
            return self.product(node)
        if isinstance(node, Power):
            return self.power(node)
        return self.call(node)

    def name(self, node: Name) -> Linear:
        meaning = self.resolve(node)
        if isinstance(meaning, Differential):
            return Linear(sp.Integer(0), {meaning.key: sp.Integer(1)})
        return Linear(meaning)

    def sum(self, node: Sum) -> Linear:
        total = Linear(sp.Integer(0))
        for term in node.terms:
            value = self.linear(term.node)
            total = total.plus(value if term.sign > 0 else value.scaled(sp.Integer(-1)))
        return total

    def product(self, node: Product) -> Linear:
        result = self.linear(node.factors[0].node)
        for factor in node.factors[1:]:
            value = self.linear(factor.node)
            if factor.op == "*":
                result = self.multiply(result, value, factor.node.start)
            else:
                result = self.divide(result, value, factor.position)
        return result

    def multiply(self, left: Linear, right: Linear, position: int) -> Linear:
        if left.has_differentials and right.has_differentials:
            pair = f"{spelled(next(iter(left.parts)))}*{spelled(next(iter(right.parts)))}"
            self.fail(f"{pair} is not allowed: each term must be linear in dt and the dW", position)
        if right.has_differentials:
            left, right = right, left
        return left.scaled(right.constant)

    def divide(self, left: Linear, right: Linear, position: int) -> Linear:
        if right.has_differentials:
            self.fail(f"cannot divide by {spelled(next(iter(right.parts)))}", position)
        if right.constant == 0:
            self.fail("division by zero", position)
        return left.scaled(1 / right.constant)

    def power(self, node: Power) -> Linear:
        base, exponent = self.linear(node.base), self.linear(node.exponent)
        for side in (base, exponent):
            if side.has_differentials:
                key = spelled(next(iter(side.parts)))
                self.fail(f"{key} cannot appear in a power: each term must be linear in dt and the dW", node.position)
        self.check_power_size(base.constant, exponent.constant, node.position)
        if base.constant == 0 and exponent.constant.is_negative:
            self.fail("division by zero (zero to a negative power)", node.position)
        return self.checked(Linear(sp.Pow(base.constant, exponent.constant)), node)

    def check_power_size(self, base: sp.Expr, exponent: sp.Expr, position: int) -> None:
        if not exponent.is_Rational:
            return
        if abs(exponent.p) > MAX_EXPONENT:
            shown = f" {exponent}" if len(str(exponent)) <= 20 else ""
            self.fail(f"the exponent{shown} is too large (numeric exponents are at most {MAX_EXPONENT})", position)
        if base.is_Rational:
            bits = abs(exponent.p) * max(abs(base.p).bit_length(), base.q.bit_length())
            if bits > MAX_NUMBER_BITS * exponent.q:
                self.fail("this power is too large a number", position)

    def call(self, node: Call) -> Linear:
        args = [self.linear(arg) for arg in node.args]
        for arg in args:
            if arg.has_differentials:
                key = spelled(next(iter(arg.parts)))
                self.fail(f"{key} cannot appear inside {node.function}(...)", node.start)
        value = SYMPY_FUNCTIONS[node.function](*(arg.constant for arg in args))
        return self.checked(Linear(value), node)

    def checked(self, form: Linear, node: Power | Call) -> Linear:
        """Refuse infinities, NaN and complex numbers (log(0), sqrt(-1)) where they arise."""
        value = form.constant
        if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or (not value.free_symbols and value.is_extended_real is False):
            self.fail(f"{self.text[node.start : node.end]} is not a finite real number", node.start)
        return form
