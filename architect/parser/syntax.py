"""Expression syntax: a small recursive-descent parser from tokens to a positioned tree.

We parse expressions ourselves instead of handing them to ``sympy.parse_expr``: every node keeps
the position of the text it came from, so each error (a missing operand, ``dt*dW``, a term
with neither ``dt`` nor ``dW``, an unknown symbol) gets a caret under the exact spot, and no
user text is ever passed to ``eval``. The evaluators (`linear`, `values`) turn the tree into
exact sympy expressions or floats.

Grammar (``^`` and ``**`` are the same operator; juxtaposition multiplies: ``sigma S dW``)::

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary | implicit)*      implicit: a NAME or "(" right after
    unary   := ("-" | "+") unary | power
    power   := atom ("^" unary)?                           right-associative: 2^3^2 = 2^9
    atom    := NUMBER | NAME | FUNCTION "(" sum ("," sum)* ")" | "(" sum ")"
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NoReturn

import sympy as sp

from architect.errors import ParseError
from architect.expr.functions import BY_SPELLING, Function
from architect.parser.lexer import SEPARATOR_WORDS, Kind, Token, describe

MAX_DEPTH = 100  # nesting of parentheses, signs and powers; keeps recursion far from Python's limit


#: Functions a user may call, by every accepted spelling (sympy's printed names included, so the
#: output of `SdeModel.equations` reads back): the equation-language column of the one table.
FUNCTIONS: dict[str, Function] = dict(BY_SPELLING)


@dataclass(frozen=True)
class Number:
    value: sp.Rational
    start: int
    end: int


@dataclass(frozen=True)
class Name:
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Call:
    function: str  # canonical name: exp, log, sqrt, abs, max, min
    args: tuple[Node, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Negate:
    operand: Node
    start: int
    end: int


@dataclass(frozen=True)
class Power:
    base: Node
    exponent: Node
    position: int  # of the operator
    start: int
    end: int


@dataclass(frozen=True)
class Factor:
    op: str  # "*" or "/"
    node: Node
    position: int  # of the operator, or of the factor for implicit multiplication


@dataclass(frozen=True)
class Product:
    factors: tuple[Factor, ...]  # the first factor's op is "*"
    start: int
    end: int


@dataclass(frozen=True)
class Term:
    sign: int  # +1 or -1
    node: Node
    position: int  # of the sign, or of the term when it has none


@dataclass(frozen=True)
class Sum:
    terms: tuple[Term, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Group:
    inner: Node
    start: int  # the "("
    end: int  # just past the ")"


Node = Number | Name | Call | Negate | Power | Product | Sum | Group


def parse_expression(tokens: Sequence[Token], text: str, end: int) -> Node:
    """Parse ``tokens`` (one statement side, no END token) as a whole expression ending at ``end``."""
    return _Parser(tokens, text, end).whole_expression()


def names_in(node: Node) -> Iterator[Name]:
    """Every `Name` in ``node``, in the order they appear in the text."""
    if isinstance(node, Name):
        yield node
    for child in children(node):
        yield from names_in(child)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Power):
        return (node.base, node.exponent)
    if isinstance(node, Product):
        return tuple(f.node for f in node.factors)
    if isinstance(node, Sum):
        return tuple(t.node for t in node.terms)
    if isinstance(node, Group):
        return (node.inner,)
    return ()


class _Parser:
    def __init__(self, tokens: Sequence[Token], text: str, end: int) -> None:
        self.tokens = [*tokens, Token(Kind.END, "", end, end)]
        self.text = text
        self.index = 0
        self.depth = 0

    # ------------------------------------------------------------------ helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def fail(self, reason: str, token: Token | None = None) -> NoReturn:
        raise ParseError(reason, self.text, (token or self.current).position)

    def expect_close(self, opening: Token) -> Token:
        if not self.current.is_op(")"):
            self.fail(f"expected ')' to close the '(' at position {opening.position}, found {describe(self.current)}")
        return self.advance()

    # ------------------------------------------------------------------ grammar
    def whole_expression(self) -> Node:
        node = self.sum()
        if self.current.kind is not Kind.END:
            self.fail(f"unexpected {describe(self.current)} after the expression")
        return node

    def sum(self) -> Node:
        first = self.product()
        terms = [Term(1, first, first.start)]
        while self.current.is_op("+", "-"):
            sign = self.advance()
            node = self.product()
            terms.append(Term(-1 if sign.text == "-" else 1, node, sign.position))
        if len(terms) == 1:
            return first
        return Sum(tuple(terms), first.start, terms[-1].node.end)

    def product(self) -> Node:
        first = self.unary()
        factors = [Factor("*", first, first.start)]
        while True:
            token = self.current
            if token.is_op("*", "/"):
                self.advance()
                node = self.unary()
                factors.append(Factor(token.text, node, token.position))
            elif token.is_op("(") or (token.kind is Kind.NAME and token.text not in SEPARATOR_WORDS):
                node = self.power()
                factors.append(Factor("*", node, node.start))
            elif token.kind is Kind.NUMBER:
                self.fail(f"missing operator before the number {token.text}")
            else:
                break
        if len(factors) == 1:
            return first
        return Product(tuple(factors), first.start, factors[-1].node.end)

    def unary(self) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                self.fail(f"the expression is nested more than {MAX_DEPTH} levels deep")
            token = self.current
            if token.is_op("-", "+"):
                self.advance()
                operand = self.unary()
                return Negate(operand, token.position, operand.end) if token.text == "-" else operand
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> Node:
        base = self.atom()
        if not self.current.is_op("^"):
            return base
        operator = self.advance()
        exponent = self.unary()
        return Power(base, exponent, operator.position, base.start, exponent.end)

    def atom(self) -> Node:
        token = self.current
        if token.kind is Kind.NUMBER:
            self.advance()
            return Number(sp.Rational(token.text), token.position, token.end)
        if token.kind is Kind.NAME and token.text not in SEPARATOR_WORDS:
            self.advance()
            if token.text in FUNCTIONS:
                return self.call(token, FUNCTIONS[token.text])
            return Name(token.text, token.position, token.end)
        if token.is_op("("):
            self.advance()
            inner = self.sum()
            close = self.expect_close(token)
            return Group(inner, token.position, close.end)
        self.fail(_unexpected(token))

    def call(self, name: Token, function: Function) -> Call:
        if not self.current.is_op("("):
            self.fail(f"{name.text} is a function: write {name.text}(...)", name)
        opening = self.advance()
        args = [self.sum()]
        while self.current.is_op(","):
            self.advance()
            args.append(self.sum())
        close = self.expect_close(opening)
        _check_arity(function, len(args), name, self.text)
        return Call(function.name, tuple(args), name.position, close.end)


def _check_arity(function: Function, count: int, name: Token, text: str) -> None:
    low, high = function.min_args, function.max_args
    if low <= count and (high is None or count <= high):
        return
    wanted = f"exactly {low}" if low == high else f"at least {low}"
    plural = "" if low == 1 else "s"
    raise ParseError(f"{name.text} takes {wanted} argument{plural}, got {count}", text, name.position)


def _unexpected(token: Token) -> str:
    if token.kind in (Kind.END, Kind.NEWLINE):
        return f"expected a number, a name or '(' but found {describe(token)}"
    if token.kind is Kind.OTHER:
        return f"unexpected character {token.text!r}"
    if token.kind is Kind.NAME:
        return f"unexpected word {token.text!r} inside an expression"
    return f"unexpected {describe(token)}: expected a number, a name or '('"
