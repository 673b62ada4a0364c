"""Split text into statements and say what each one is.

Statements are separated by newlines, ``;``, commas outside parentheses and the words
``where``/``with``/``and``; a new statement also starts wherever ``name =`` (or ``X(0) =``)
follows a complete one, so ``CIR kappa=1.5 theta=0.05`` needs no commas. A newline does not
end a statement when the line ends with an operator or the next one starts with one.

Each statement is one of: an equation ``dX = ...``, a value ``kappa = 2`` (initial values
``X0 = 1`` are told apart later, once the state variables are known), an initial value
``X(0) = 1``, or a correlation ``corr(W1, W2) = rho`` / ``dW1*dW2 = rho*dt``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from architect.errors import ParseError
from architect.parser.lexer import SEPARATOR_WORDS, Kind, Token
from architect.parser.syntax import FUNCTIONS, Node, parse_expression

#: Increments of Brownian motions: dW, dW1, dW_1, dB, dZ2, dW_S, dW_v (named), each optionally with a ``_t`` suffix.
NOISE_DIFFERENTIAL = re.compile(r"d([WBZ](?:_?\d+|_(?!t(?:_|$))[A-Za-z][A-Za-z0-9]*)?)(?:_t)?")
CORRELATION_FUNCTIONS = frozenset({"corr", "cor", "correlation", "Corr"})
CONSTANT_NAMES = frozenset({"pi"})
_CONTINUES_AFTER = frozenset("+-*/^=(,")
_CONTINUES_BEFORE = frozenset("+-*/^)")


@dataclass(frozen=True)
class Chunk:
    tokens: tuple[Token, ...]
    end: int  # where the statement stops in the text (its separator, or the end of the text)

    @property
    def start(self) -> int:
        return self.tokens[0].position


@dataclass(frozen=True)
class Equation:
    variable: str
    rhs: Node
    position: int  # of the left-hand side
    relative: bool = False  # "dS/S = mu dt + sigma dW": the right-hand side is multiplied by S


@dataclass(frozen=True)
class Assignment:
    name: str
    value: Node
    position: int  # of the name


@dataclass(frozen=True)
class InitialValue:
    variable: str
    value: Node
    position: int  # of the variable in "X(0) ="


@dataclass(frozen=True)
class Correlation:
    first: str
    second: str
    value: Node
    per_dt: bool  # "dW1*dW2 = rho*dt": the value carries a dt
    first_position: int
    second_position: int


Statement = Equation | Assignment | InitialValue | Correlation


# ---------------------------------------------------------------------------- names
def is_differential(name: str) -> bool:
    return name == "dt" or NOISE_DIFFERENTIAL.fullmatch(name) is not None


def noise_of(differential: str) -> str:
    """``dW1_t`` -> ``W1``."""
    match = NOISE_DIFFERENTIAL.fullmatch(differential)
    assert match is not None
    return match.group(1)


def strip_time_suffix(name: str) -> str:
    """``X_t`` -> ``X``: the time subscript is decoration."""
    return name[:-2] if name.endswith("_t") and len(name) > 2 else name


# ---------------------------------------------------------------------------- splitting
def split_statements(tokens: Sequence[Token]) -> list[Chunk]:
    """Cut a token list (ending with END) into statement chunks."""
    chunks: list[Chunk] = []
    current: list[Token] = []
    depth = 0
    for index, token in enumerate(tokens):
        if token.kind is Kind.END:
            break
        depth += token.is_op("(") - token.is_op(")")
        if token.kind is Kind.NEWLINE and (depth > 0 or _line_continues(current, tokens[index + 1])):
            continue
        if depth == 0 and _is_separator(token):
            chunks.append(Chunk(tuple(current), token.position))
            current = []
        else:
            current.append(token)
    chunks.append(Chunk(tuple(current), tokens[-1].position))
    return [piece for chunk in chunks for piece in _split_at_assignments(chunk) if piece.tokens]


def first_assignment_start(tokens: Sequence[Token]) -> int | None:
    """Index of the first token of the first ``name =`` statement, or None when there is no ``=``."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.is_op("(") - token.is_op(")")
        if depth == 0 and token.is_op("="):
            return _left_side_start(tokens, index)
    return None


def _is_separator(token: Token) -> bool:
    return token.kind is Kind.NEWLINE or token.is_op(";", ",") or token.is_name(*SEPARATOR_WORDS)


def _line_continues(before: Sequence[Token], after: Token) -> bool:
    ends_with_operator = bool(before) and before[-1].kind is Kind.OP and before[-1].text in _CONTINUES_AFTER
    return ends_with_operator or (after.kind is Kind.OP and after.text in _CONTINUES_BEFORE)


def _split_at_assignments(chunk: Chunk) -> list[Chunk]:
    tokens = chunk.tokens
    equals = [i for i, depth in _depths(tokens) if depth == 0 and tokens[i].is_op("=")]
    cuts = [_left_side_start(tokens, i) for i in equals[1:]]
    cuts = sorted({cut for cut in cuts if cut > 0})
    bounds = [0, *cuts, len(tokens)]
    pieces = []
    for low, high in itertools.pairwise(bounds):
        end = tokens[high].position if high < len(tokens) else chunk.end
        pieces.append(Chunk(tokens[low:high], end))
    return pieces


def _depths(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """(index, depth before the token) pairs."""
    result, depth = [], 0
    for index, token in enumerate(tokens):
        if token.is_op(")"):
            depth -= 1
        result.append((index, depth))
        if token.is_op("("):
            depth += 1
    return result


def _left_side_start(tokens: Sequence[Token], equals: int) -> int:
    """Where the left-hand side of the ``=`` at ``equals`` begins: ``name``, ``d X`` or ``name(...)``."""
    index = equals - 1
    if index >= 0 and tokens[index].is_op(")"):
        index = matching_open(tokens, index) - 1
    if index < 0 or tokens[index].kind is not Kind.NAME:
        return equals if index + 1 >= equals else index + 1
    if index > 0 and tokens[index - 1].is_name("d"):
        return index - 1
    return index


def matching_open(tokens: Sequence[Token], close: int) -> int:
    depth = 0
    for index in range(close, -1, -1):
        depth += tokens[index].is_op(")") - tokens[index].is_op("(")
        if depth == 0:
            return index
    return 0


# ---------------------------------------------------------------------------- classifying
def classify(chunk: Chunk, text: str) -> Statement:
    """Read one statement; ParseError with a caret when it is none of the known forms."""
    tokens = chunk.tokens
    equals = next((i for i, depth in _depths(tokens) if depth == 0 and tokens[i].is_op("=")), None)
    if equals is None:
        raise ParseError(
            "expected an equation like 'dX = mu*dt + sigma*dW' or a value like 'kappa = 2' here", text, chunk.start
        )
    left, right = tokens[:equals], tokens[equals + 1 :]
    if not left:
        raise ParseError("nothing before '='", text, tokens[equals].position)
    if not right:
        raise ParseError("nothing after '='", text, tokens[equals].position)
    return _classify_sides(left, right, chunk.end, text)


def _classify_sides(left: Sequence[Token], right: Sequence[Token], end: int, text: str) -> Statement:
    first = left[0]
    if len(left) == 1 and first.kind is Kind.NAME:
        return _name_statement(first, right, end, text)
    if len(left) == 2 and first.is_name("d") and left[1].kind is Kind.NAME:
        return Equation(strip_time_suffix(left[1].text), parse_expression(right, text, end), first.position)
    if first.kind is Kind.NAME and len(left) > 2 and left[1].is_op("(") and left[-1].is_op(")"):
        return _call_statement(first, left[2:-1], right, end, text)
    if _is_relative_left_side(left):
        return Equation(strip_time_suffix(first.text[1:]), parse_expression(right, text, end), first.position, True)
    if _is_differential_product(left):
        first_noise, second_noise = (t for t in left if t.kind is Kind.NAME)
        value = parse_expression(right, text, end)
        names = noise_of(first_noise.text), noise_of(second_noise.text)
        return Correlation(*names, value, True, first_noise.position, second_noise.position)
    raise ParseError(
        "the left-hand side must be dX, dX/X, a parameter name, X(0), corr(W1, W2) or dW1*dW2", text, first.position
    )


def _is_relative_left_side(left: Sequence[Token]) -> bool:
    """``dS/S`` or ``dS_t/S_t``."""
    if len(left) != 3 or not left[1].is_op("/") or left[0].kind is not Kind.NAME or left[2].kind is not Kind.NAME:
        return False
    return is_equation_left_side(left[0].text) and strip_time_suffix(left[0].text[1:]) == strip_time_suffix(
        left[2].text
    )


def _name_statement(name: Token, right: Sequence[Token], end: int, text: str) -> Statement:
    value = parse_expression(right, text, end)
    if is_equation_left_side(name.text) and _looks_like_equation_right_side(right):
        return Equation(strip_time_suffix(name.text[1:]), value, name.position)
    return Assignment(name.text, value, name.position)


def is_equation_left_side(name: str) -> bool:
    return name.startswith("d") and len(name) > 1 and not name.startswith("d_")


def _looks_like_equation_right_side(right: Sequence[Token]) -> bool:
    """``dX = <anything with a name>`` is an equation; ``delta = 0.3`` is a value."""
    return any(t.kind is Kind.NAME and t.text not in FUNCTIONS and t.text not in CONSTANT_NAMES for t in right)


def _call_statement(name: Token, inside: Sequence[Token], right: Sequence[Token], end: int, text: str) -> Statement:
    value = parse_expression(right, text, end)
    if name.text in CORRELATION_FUNCTIONS:
        first, second = _two_names(name, inside, text)
        return Correlation(
            _noise_name(first.text), _noise_name(second.text), value, False, first.position, second.position
        )
    if len(inside) == 1 and inside[0].kind is Kind.NUMBER and float(inside[0].text) == 0:
        return InitialValue(strip_time_suffix(name.text), value, name.position)
    if len(inside) == 1 and inside[0].is_name("t") and is_equation_left_side(name.text):
        return Equation(strip_time_suffix(name.text[1:]), value, name.position)
    raise ParseError(f"expected {name.text}(0) = value for an initial value", text, name.position)


def _two_names(function: Token, inside: Sequence[Token], text: str) -> tuple[Token, Token]:
    if len(inside) == 3 and inside[0].kind is Kind.NAME and inside[1].is_op(",") and inside[2].kind is Kind.NAME:
        return inside[0], inside[2]
    raise ParseError(f"expected {function.text}(W1, W2) with two Brownian motions", text, function.position)


def _noise_name(name: str) -> str:
    """``dW1`` and ``W1_t`` in a correlation both mean ``W1``."""
    return noise_of(name) if NOISE_DIFFERENTIAL.fullmatch(name) else strip_time_suffix(name)


def _is_differential_product(left: Sequence[Token]) -> bool:
    names = [t for t in left if t.kind is Kind.NAME]
    others = [t for t in left if t.kind is not Kind.NAME]
    return (
        len(names) == 2
        and all(NOISE_DIFFERENTIAL.fullmatch(t.text) for t in names)
        and all(t.is_op("*") for t in others)
        and len(others) <= 1
    )
