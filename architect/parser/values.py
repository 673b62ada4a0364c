"""Evaluate a constant expression (a parameter value such as ``0.04``, ``-0.7`` or ``log(100)``) to a float.

Plain floating point, not sympy: a value is a number, so there is nothing to keep exact, and
float arithmetic cannot stall on something like ``exp(exp(exp(100)))``; it overflows and we say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NoReturn

from architect.errors import ParseError
from architect.expr.functions import TABLE
from architect.parser.syntax import Call, Group, Name, Negate, Node, Number, Power, Product, Sum

#: The equation language's functions as floats, by canonical name, from the one table (`architect.expr.functions`).
FLOAT_FUNCTIONS: Mapping[str, Callable[..., float]] = {f.name: f.value for f in TABLE if f.spellings and f.value}

CONSTANTS = {"pi": math.pi}


def numeric_value(node: Node, text: str, what: str) -> float:
    """The value of ``node``, which may use numbers, pi and functions but no other names.

    ``what`` names the thing being given a value, for messages ("kappa", "X0").
    """
    value = _Numeric(text, what).value(node)
    if not math.isfinite(value):
        raise ParseError(f"the value of {what} is not a finite number", text, node.start)
    return value


class _Numeric:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what

    def fail(self, reason: str, position: int) -> NoReturn:
        raise ParseError(reason, self.text, position)

    def value(self, node: Node) -> float:
        if isinstance(node, Number):
            return self.guarded(lambda: float(node.value), node.start)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Group):
            return self.value(node.inner)
        if isinstance(node, Negate):
            return -self.value(node.operand)
        if isinstance(node, Sum):
            return math.fsum(t.sign * self.value(t.node) for t in node.terms)
        if isinstance(node, Product):
            return self.product(node)
        if isinstance(node, Power):
            base, exponent = self.value(node.base), self.value(node.exponent)
            return self.guarded(lambda: math.pow(base, exponent), node.position)
        return self.call(node)

    def name(self, node: Name) -> float:
        if node.name in CONSTANTS:
            return CONSTANTS[node.name]
        self.fail(f"the value of {self.what} must be a number, but it uses {node.name!r}", node.start)

    def product(self, node: Product) -> float:
        result = self.value(node.factors[0].node)
        for factor in node.factors[1:]:
            value = self.value(factor.node)
            if factor.op == "*":
                result *= value
            elif value == 0:
                self.fail("division by zero", factor.position)
            else:
                result /= value
        return result

    def call(self, node: Call) -> float:
        args = [self.value(arg) for arg in node.args]
        function = FLOAT_FUNCTIONS[node.function]
        return self.guarded(lambda: function(*args), node.start)

    def guarded(self, compute: Callable[[], float], position: int) -> float:
        try:
            return float(compute())
        except OverflowError:
            self.fail(f"the value of {self.what} is too large", position)
        except (ValueError, ZeroDivisionError):
            self.fail(f"the value of {self.what} is not a real number here", position)
