"""Read an expression from a model file without evaluating arbitrary code.

`sympy.sympify` runs `eval` on its input, so a `model.json` handed to `architect verify` could
execute any Python (`__import__('os').system(...)`). Model files are untrusted like the crates
they come with, so their expressions are first parsed with Python's `ast` and checked against a
whitelist — numbers, the model's own names, arithmetic, comparisons and a fixed set of
mathematical functions — and only then given to sympy. Exponents of constant powers are bounded
so that a file cannot ask for a number with billions of digits.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

import sympy as sp

from architect.errors import ModelError

MAX_EXPRESSION_CHARS = 10_000
MAX_CONSTANT_EXPONENT = 1024
MAX_LITERAL_DIGITS = 400

#: Functions and constants an expression may name (sympy's spelling, as `sympy.sstr` writes them).
FUNCTIONS = frozenset(
    "sqrt exp log ln sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh Abs Max Min sign "
    "Heaviside Piecewise floor ceiling erf erfc Rational Integer Float".split()
)
CONSTANTS = frozenset({"pi", "E"})

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
    ast.BitXor,  # sympify reads ^ as a power
    ast.USub,
    ast.UAdd,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
)


def safe_sympify(text: object, names: Iterable[str], local: dict[str, sp.Basic]) -> sp.Expr:
    """``sympify(text, locals=local, rational=True)`` after proving ``text`` is a plain expression."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(text)
    if not isinstance(text, str):
        raise ModelError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ModelError(f"an expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}")
    allowed = set(names) | set(local)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ModelError(f"malformed expression {text[:80]!r}: {exc}") from None
    try:
        for node in ast.walk(tree):
            _check(node, allowed, text)
    except RecursionError:
        raise ModelError(f"expression {text[:80]!r} is nested too deeply") from None
    try:
        return sp.sympify(text, locals=local, rational=True)
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, RecursionError) as exc:
        raise ModelError(f"malformed expression {text[:80]!r}: {exc}") from None


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
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * MAX_LITERAL_DIGITS:
            raise ModelError(f"expression {text[:80]!r} contains an implausibly long number")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise ModelError(f"expression {text[:80]!r} calls something other than a mathematical function")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.BitXor)):
        _check_power(node, text)


def _constant(node: ast.AST) -> bool:
    return all(not isinstance(n, ast.Name) or n.id in CONSTANTS for n in ast.walk(node))


def _check_power(node: ast.BinOp, text: str) -> None:
    """A power of constants must have a small literal exponent: `2**2**40` would never finish."""
    if not _constant(node.right):
        return
    exponent = node.right
    while isinstance(exponent, ast.UnaryOp):
        exponent = exponent.operand
    if isinstance(exponent, ast.BinOp) and isinstance(exponent.op, ast.Div):
        parts = [exponent.left, exponent.right]
    else:
        parts = [exponent]
    small = all(
        isinstance(p, ast.Constant)
        and isinstance(p.value, (int, float))
        and not isinstance(p.value, bool)
        and abs(p.value) <= MAX_CONSTANT_EXPONENT
        for p in parts
    )
    if not small:
        raise ModelError(
            f"expression {text[:80]!r}: a constant exponent must be a number of size at most {MAX_CONSTANT_EXPONENT}"
        )
