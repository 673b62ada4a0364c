"""The reader of the safe expression language: model files' expressions, never evaluated as code, never unbounded.

`sympy.sympify` runs `eval` on its input, so a `model.json` handed to `architect verify` could
execute any Python (`__import__('os').system(...)`). Model files are untrusted like the crates
they come with, so their expressions are first parsed with Python's `ast` and checked against a
whitelist — numbers, the model's own names, arithmetic, comparisons and a fixed set of
mathematical functions — and only then given to sympy.

A whitelisted expression can still ask sympy for more than any machine has: ``2**(1024**1024)`` is a
number of a billion digits, ``((x + t + 1)**1024)**3`` expands into billions of terms. So the checked
tree is also *measured* (`measure`) before sympy sees it, with conservative bounds on what sympy will
build from it, and refused past these limits:

- every integer or decimal literal, and every rational number an expression evaluates to once the
  parameters' values are substituted (as the verifier does), has at most `MAX_CONSTANT_BITS` bits
  (numerator and denominator each; 2048: any double written out in decimal needs at most 1133);
- every exponent that does not involve a state variable or ``t`` is at most `MAX_CONSTANT_EXPONENT`
  in size, parameter values substituted;
- the expression is a polynomial of total degree at most `MAX_DEGREE` (64) in its symbols and its
  non-rational parts (``pi``, ``exp(x)``, ``sqrt(2)``, ``x**(1/2)``: each counts as one more variable;
  ``x**(5/2)`` has degree 3), and each part of it (each function argument and base) is too;
- the fully expanded expression has at most `MAX_TERMS` (512) terms, counted by the multinomial bound
  (a sum of ``n`` terms to the power ``k`` expands into at most ``C(n + k - 1, k)``).

Every catalog model and the LLM corpus stay far inside these (degree 4, 12 terms and 60-bit constants
at most); `tests/test_hostile_inputs.py` checks it. ``^`` is read as a power, as sympy reads it
(right-associative and binding tighter than ``*``): the text is rewritten with ``**`` *before* the
check, so the tree that is measured is the one sympy evaluates.
"""

from __future__ import annotations

import ast
import decimal
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp  # type: ignore[import-untyped]

from architect.errors import ModelError
from architect.expr.functions import BY_MODEL_NAME
from architect.expr.functions import CONSTANTS as _CONSTANTS

MAX_EXPRESSION_CHARS = 10_000
MAX_CONSTANT_EXPONENT = 1024
MAX_CONSTANT_BITS = 2048
MAX_DEGREE = 64
MAX_TERMS = 128

#: Functions and constants an expression may name (sympy's spelling, as `sympy.sstr` writes them): the
#: model-file column of the one table, `architect.expr.functions`.
FUNCTIONS = frozenset(BY_MODEL_NAME)
CONSTANTS = frozenset(c[2] for c in _CONSTANTS)

_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
)


def safe_sympify(
    text: object, names: Iterable[str], local: dict[str, sp.Basic], values: Mapping[str, float] | None = None
) -> sp.Expr:
    """``sympify(text, locals=local, rational=True)`` after proving ``text`` is a plain expression of bounded size.

    ``values``: the parameters' values (name -> number), for bounding exponents and constants as the
    verifier will see them once it substitutes them; a name without a value is a free symbol.
    """
    return read_expression(text, names, local, values)[0]


def read_expression(
    text: object, names: Iterable[str], local: dict[str, sp.Basic], values: Mapping[str, float] | None = None
) -> tuple[sp.Expr, Size]:
    """`safe_sympify`, and the expression's `Size` (for bounds on what is built from several expressions)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(text)
    if not isinstance(text, str):
        raise ModelError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ModelError(f"an expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}")
    # sympify reads `^` as `**` (its convert_xor); Python's ast would read it as XOR, with another precedence
    # and associativity. Rewrite first, so that the tree checked below is the tree sympy evaluates. Outside an
    # operator `^` can only sit in a string literal, which the check refuses anyway.
    source = text.strip().replace("^", "**")
    allowed = set(names) | set(local)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ModelError(f"malformed expression {text[:80]!r}: {' '.join(str(exc).split())[:300]}") from None
    try:
        for node in ast.walk(tree):
            _check(node, allowed, text)
        size = measure(tree, source, dict(values or {}), text, allowed)
    except RecursionError:
        raise ModelError(f"expression {text[:80]!r} is nested too deeply") from None
    try:
        return sp.sympify(source, locals=local, rational=True), size
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, RecursionError, ZeroDivisionError) as exc:
        raise ModelError(f"malformed expression {text[:80]!r}: {' '.join(str(exc).split())[:300]}") from None


def _check(node: ast.AST, allowed: set[str], text: str) -> None:
    if not isinstance(node, _NODES):
        raise ModelError(f"expression {text[:80]!r} contains {type(node).__name__}, which a model may not use")
    if isinstance(node, ast.Name):
        if node.id not in allowed and node.id not in FUNCTIONS and node.id not in CONSTANTS:
            raise ModelError(f"expression {text[:80]!r} names {node.id!r}, which is not a variable or parameter")
    elif isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, (bool, int, float)):
            raise ModelError(f"expression {text[:80]!r} contains the literal {value!r}")
    elif isinstance(node, ast.Call) and (
        not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords
    ):
        raise ModelError(f"expression {text[:80]!r} calls something other than a mathematical function")


# --------------------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class Size:
    """Bounds on what sympy builds from one node of an expression.

    ``degree``: total degree as a polynomial in the symbols and the non-rational parts; ``terms``: terms of
    the full expansion; ``constant``: the node is a number once the parameters' values are substituted (no
    state variable, ``t``, comparison or tuple in it); ``bits``: the size of that number when it is a rational
    (None otherwise); ``approx``: its value as a float (None when it is not a constant, or not a finite real
    number, which `_Measure.size` refuses).
    """

    degree: int
    terms: int
    constant: bool = False
    bits: int | None = None
    approx: float | None = None


_ATOM = Size(1, 1)


def measure(
    tree: ast.AST, source: str, values: Mapping[str, float], text: str = "", symbols: Iterable[str] = ()
) -> Size:
    """The `Size` of a whitelisted expression tree; raises `ModelError` past a limit. ``values``: parameter
    values by name; ``symbols``: the other names (variables, parameters without a value: one symbol each)."""
    return _Measure(source, values, text or source, frozenset(symbols)).size(tree)


class _Measure:
    def __init__(self, source: str, values: Mapping[str, float], text: str, symbols: frozenset[str]) -> None:
        self.source, self.values, self.text, self.symbols = source, values, text, symbols

    def refuse(self, why: str) -> ModelError:
        return ModelError(f"expression {self.text[:80]!r}: {why}")

    def size(self, node: ast.AST) -> Size:
        size = self._size(node)
        if size.degree > MAX_DEGREE:
            raise self.refuse(f"a polynomial of degree up to {size.degree}; the limit is {MAX_DEGREE}")
        if size.terms > MAX_TERMS:
            raise self.refuse(f"expands into more than {MAX_TERMS} terms")
        if size.bits is not None and size.bits > MAX_CONSTANT_BITS:
            raise self.refuse(f"a number of more than {MAX_CONSTANT_BITS} bits")
        if size.constant and size.approx is None:
            # Too large for a double, complex, or undefined (log(-1), 1/0): nothing a model needs, and sympy may
            # work for a long time on it (floor(exp(exp(100))) asks for its digits).
            raise self.refuse("a constant that is not a finite real number of double precision")
        return size

    def _size(self, node: ast.AST) -> Size:
        if isinstance(node, ast.Expression):
            return self.size(node.body)
        if isinstance(node, ast.Constant):
            return self._literal(node)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = self.size(node.operand)
            approx = inner.approx if inner.approx is None or isinstance(node.op, ast.UAdd) else -inner.approx
            return Size(inner.degree, inner.terms, inner.constant, inner.bits, approx)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self._power(self.size(node.left), self.size(node.right))
            return _arithmetic(node.op, self.size(node.left), self.size(node.right))
        if isinstance(node, ast.Compare):
            parts = [self.size(node.left), *(self.size(c) for c in node.comparators)]
            return Size(max(p.degree for p in parts), sum(p.terms for p in parts))
        if isinstance(node, ast.Tuple):
            parts = [self.size(e) for e in node.elts]
            return Size(max((p.degree for p in parts), default=0), max((p.terms for p in parts), default=1))
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return _call(node.func.id, [self.size(a) for a in node.args])
        raise self.refuse(f"unexpected {type(node).__name__}")  # pragma: no cover - _check refused it

    def _literal(self, node: ast.Constant) -> Size:
        value = node.value
        if isinstance(value, bool):
            return Size(0, 1)
        if isinstance(value, int):
            if value.bit_length() > MAX_CONSTANT_BITS:
                raise self.refuse(f"an integer of more than {MAX_CONSTANT_BITS} bits")
            return Size(0, 1, True, value.bit_length(), _float(value))
        if not isinstance(value, float):
            raise self.refuse(f"the literal {value!r}")  # pragma: no cover - _check refused it
        # A decimal literal becomes the exact rational its digits say (rational=True): 1e-300 is 1/10**300.
        written = ast.get_source_segment(self.source, node) or repr(value)
        try:
            digits, exponent = _decimal_size(written)
        except (decimal.InvalidOperation, ValueError):
            digits, exponent = 17, 400  # cannot happen for a literal Python parsed; assume the worst
        bits = math.ceil((digits + abs(exponent)) * math.log2(10)) + 1
        if not math.isfinite(value) or bits > MAX_CONSTANT_BITS:
            raise self.refuse(f"the number {written[:40]} is outside the range of a double or too long")
        return Size(0, 1, True, bits, value)

    def _name(self, name: str) -> Size:
        if name in self.values:
            value = self.values[name]
            return Size(0, 1, True, _rational_bits(value), _float(value))
        if name in self.symbols:
            return _ATOM
        if name == "pi":
            return Size(1, 1, True, None, math.pi)
        if name == "E":
            return Size(1, 1, True, None, math.e)
        return _ATOM  # a state variable, t, or a parameter without a value

    def _power(self, base: Size, exponent: Size) -> Size:
        if not exponent.constant or exponent.approx is None:
            # x**t, 2**x: a symbolic exponent; sympy neither expands nor evaluates it.
            return _ATOM
        r = abs(exponent.approx)
        if not r <= MAX_CONSTANT_EXPONENT:
            raise self.refuse(f"an exponent of size {r:.6g}; the limit is {MAX_CONSTANT_EXPONENT}")
        whole = math.floor(r)
        integral = exponent.bits is not None and float(whole) == r
        if base.bits is not None:
            # A rational to a rational power: evaluated (exactly, for an integer exponent).
            bits = base.bits * max(1, math.ceil(r))
            if bits > MAX_CONSTANT_BITS:
                raise self.refuse(f"a number of more than {MAX_CONSTANT_BITS} bits")
            approx = _float_power(base.approx, exponent.approx)
            return Size(0, 1, True, bits, approx) if integral else Size(1, 1, True, None, approx)
        degree = base.degree * math.ceil(r)
        terms = 1 if base.terms == 1 or whole == 0 else math.comb(base.terms + whole - 1, whole)
        approx = _float_power(base.approx, exponent.approx) if base.constant else None
        return Size(degree, terms, base.constant, None, approx)


def _arithmetic(op: ast.operator, a: Size, b: Size) -> Size:
    constant = a.constant and b.constant
    approx = None
    if constant and a.approx is not None and b.approx is not None:
        try:
            if isinstance(op, ast.Add):
                approx = a.approx + b.approx
            elif isinstance(op, ast.Sub):
                approx = a.approx - b.approx
            elif isinstance(op, ast.Mult):
                approx = a.approx * b.approx
            else:
                approx = a.approx / b.approx
        except (ZeroDivisionError, OverflowError):
            approx = None
    approx = _float(approx) if approx is not None else None
    bits = None
    if a.bits is not None and b.bits is not None:
        # p/q + r/s = (ps + rq)/(qs): at most the sum of the sizes, plus one for the carry.
        bits = a.bits + b.bits + (1 if isinstance(op, (ast.Add, ast.Sub)) else 0)
    if isinstance(op, (ast.Add, ast.Sub)):
        return Size(max(a.degree, b.degree), a.terms + b.terms, constant, bits, approx)
    # A quotient expands as its numerator times the expanded denominator's reciprocal: counted as a product.
    return Size(a.degree + b.degree, a.terms * b.terms, constant, bits, approx)


_EXACT_CALLS = frozenset(name for name, f in BY_MODEL_NAME.items() if f.exact)
_MATH: dict[str, Callable[..., float]] = {name: f.value for name, f in BY_MODEL_NAME.items() if f.value is not None}


def _call(name: str, args: list[Size]) -> Size:
    """A function of its arguments is one more variable of the expression (degree 1, one term); of rational
    arguments, the functions that keep rationals rational make a rational of at most their combined size."""
    constant = bool(args) and all(a.constant for a in args)
    approx = None
    if constant and all(a.approx is not None for a in args):
        try:
            approx = _float(_MATH[name](*(a.approx for a in args)))
        except (ValueError, OverflowError, ZeroDivisionError, TypeError, KeyError):
            approx = None
    if name in _EXACT_CALLS and constant and all(a.bits is not None for a in args):
        return Size(0, 1, True, sum(a.bits for a in args if a.bits is not None), approx)
    return Size(1, 1, constant, None, approx)


def _float(value: float | int) -> float | None:
    try:
        result = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return result if math.isfinite(result) else None


def _float_power(base: float | None, exponent: float) -> float | None:
    if base is None:
        return None
    try:
        value = base**exponent
    except (OverflowError, ZeroDivisionError):
        return None
    return _float(value) if isinstance(value, (int, float)) else None


def _decimal_size(written: str) -> tuple[int, int]:
    """(significant digits, decimal exponent) of a decimal literal as written."""
    number = decimal.Decimal(written.replace("_", ""))
    digits = number.as_tuple().digits
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(written)
    return len(digits), exponent


def _rational_bits(value: float) -> int:
    """Size of the exact rational a parameter value stands for (0.3 -> 3/10), as `model.exact_value` makes it."""
    if not math.isfinite(value):
        return MAX_CONSTANT_BITS + 1
    fraction = Fraction(repr(float(value)))
    return max(fraction.numerator.bit_length(), fraction.denominator.bit_length())
