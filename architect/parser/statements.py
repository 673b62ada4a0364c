"""Split text into statements and say what each one is.

Statements are separated by newlines, ``;``, commas outside parentheses and the words
``where``/``with``/``and``; a new statement also starts wherever ``name =`` (or ``X(0) =``)
follows a complete one, so ``CIR kappa=1.5 theta=0.05`` needs no commas. A newline does not
end a statement when the line ends with an operator or the next one starts with one.

Each statement is one of: an equation ``dX = ...``, a value ``kappa = 2`` (initial values
``X0 = 1`` are told apart later, once the state variables are known), an initial value
``X(0) = 1``, a correlation ``corr(W1, W2) = rho`` / ``dW1*dW2 = rho*dt``, or the law of a jump
process whose increment ``dJ`` appears in an equation: ``J ~ CompoundPoisson(lam, Normal(m, delta))``
or ``J ~ CompoundPoisson(lam, DoubleExponential(p, eta1, eta2))`` (``=`` instead of ``~`` is read too).
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
#: Jump processes: J, J1, J_2, J_x; their increments dJ, dJ1, dJ_x (optionally with a ``_t`` suffix).
JUMP_NAME = re.compile(r"J(?:_?\d+|_(?!t(?:_|$))[A-Za-z][A-Za-z0-9]*)?")
JUMP_DIFFERENTIAL = re.compile(rf"d({JUMP_NAME.pattern})(?:_t)?")
COMPOUND_POISSON = frozenset({"CompoundPoisson", "compound_poisson", "CPP"})
#: Jump-size laws as typed -> (`architect.model.JUMP_LAWS` key, its parameters as typed).
JUMP_SIZE_LAWS = {
    "Normal": ("normal", ("mean", "sd")),
    "N": ("normal", ("mean", "sd")),
    "Gaussian": ("normal", ("mean", "sd")),
    "DoubleExponential": ("double-exponential", ("p", "eta1", "eta2")),
    "DoubleExp": ("double-exponential", ("p", "eta1", "eta2")),
    "Kou": ("double-exponential", ("p", "eta1", "eta2")),
}
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


@dataclass(frozen=True)
class JumpLawStatement:
    """``J ~ CompoundPoisson(intensity, Law(args))``."""

    name: str
    intensity: Node
    law: str  # a key of `architect.model.JUMP_LAWS`
    args: tuple[Node, ...]
    position: int  # of the name


Statement = Equation | Assignment | InitialValue | Correlation | JumpLawStatement


# ---------------------------------------------------------------------------- names
def is_differential(name: str) -> bool:
    return (
        name == "dt" or NOISE_DIFFERENTIAL.fullmatch(name) is not None or JUMP_DIFFERENTIAL.fullmatch(name) is not None
    )


def noise_of(differential: str) -> str:
    """``dW1_t`` -> ``W1``."""
    match = NOISE_DIFFERENTIAL.fullmatch(differential)
    assert match is not None
    return match.group(1)


def strip_time_suffix(name: str) -> str:
    """``X_t`` -> ``X``: the time subscript is decoration."""
    return name[:-2] if name.endswith("_t") and len(name) > 2 else name


# ---------------------------------------------------------------------------- splitting
#: Words that open an initial value in prose ("... dW starting from Y(0) = 2", "initially X = 1"): a separator.
STARTING_WORDS = frozenset({"starting", "starts", "started", "start", "initially", "beginning", "from"})
#: Small words that may follow them ("starting at", "starting with") and go with them.
_STARTING_GLUE = frozenset({"at", "from", "with", "in", "on"})
#: Words between a value's name and its number in prose ("kappa of 2", "theta is 0.04", "sigma: 0.3").
_VALUE_GLUE = frozenset({"of", "is", "equal", "equals", "at", "to"})
#: The correlation of two noises in words ("correlation 0.5" with dW1 and dW2): the implicit ``rho``.
CORRELATION_WORDS = frozenset({"correlation", "corr", "correlated"})
#: A number and its unit: 8% and 8 percent are 0.08.
PERCENT_WORDS = frozenset({"percent", "pct"})


def prose_to_statements(tokens: Sequence[Token]) -> list[Token]:
    """Equations written in prose, made statements: ``8%`` is ``0.08``, "starting from" separates, and a chunk
    ``kappa 2`` or ``kappa of 2`` (a name, then a number, no ``=``) is ``kappa = 2``; "correlation 0.5" is
    ``rho = 0.5`` (`IMPLICIT_CORRELATION`, for two noises)."""
    merged: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.kind is Kind.NUMBER and following is not None and _is_percent(following):
            merged.append(Token(Kind.NUMBER, _hundredth(token.text), token.position, following.end))
            index += 2
            continue
        if _word(token) in STARTING_WORDS:
            merged.append(Token(Kind.OP, ",", token.position, token.end))
            index += 1
            while index < len(tokens) and _word(tokens[index]) in _STARTING_GLUE:
                index += 1
            if index + 1 < len(tokens) and _is_plain_value_name(tokens[index]) and tokens[index + 1].is_op("="):
                # "starting at X = 1": the initial value of X, whatever X is (the reader checks it is a state)
                named = tokens[index]
                merged.append(Token(Kind.NAME, named.text + "0", named.position, named.end))
                index += 1
            continue
        merged.append(token)
        index += 1
    return _word_assignments(merged)


def _word(token: Token) -> str:
    """A word as typed: Python keywords come out of the lexer renamed ("from" as ``from_``)."""
    return token.text.removesuffix("_") if token.kind is Kind.NAME else ""


def _is_plain_value_name(token: Token) -> bool:
    return token.kind is Kind.NAME and not token.text.endswith(("0", "_0")) and not is_equation_left_side(token.text)


def _is_percent(token: Token) -> bool:
    return (token.kind is Kind.OTHER and token.text == "%") or _word(token) in PERCENT_WORDS


def _hundredth(number: str) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return str(Decimal(number).scaleb(-2))
    except InvalidOperation:
        return number


def _word_assignments(tokens: list[Token]) -> list[Token]:
    """``name [of|is] number`` between separators, with no ``=`` in it, gets its ``=``."""
    out: list[Token] = []
    start = 0
    for index in range(len(tokens) + 1):
        if index < len(tokens) and not (_is_separator(tokens[index]) or tokens[index].kind is Kind.END):
            continue
        out += _with_equals(tokens[start:index])
        if index < len(tokens):
            out.append(tokens[index])
        start = index + 1
    return out


def _with_equals(chunk: list[Token]) -> list[Token]:
    if len(chunk) < 2 or chunk[0].kind is not Kind.NAME or any(t.is_op("=", "~") for t in chunk):
        return chunk
    name, rest = chunk[0], chunk[1:]
    while rest and _word(rest[0]) in _VALUE_GLUE:
        rest = rest[1:]
    if rest and rest[0].kind is Kind.OTHER and rest[0].text == ":":
        rest = rest[1:]
    signed = rest[1:] if rest and rest[0].is_op("-", "+") else rest
    if len(signed) != 1 or signed[0].kind is not Kind.NUMBER:
        return chunk
    if name.text in CORRELATION_WORDS:
        name = Token(Kind.NAME, "rho", name.position, name.end)
    return [name, Token(Kind.OP, "=", name.end, name.end), *rest]


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
    tilde = next((i for i, depth in _depths(tokens) if depth == 0 and tokens[i].is_op("~")), None)
    if tilde is not None:
        return jump_law_statement(tokens[:tilde], tokens[tilde + 1 :], tokens[tilde], chunk.end, text)
    equals = next((i for i, depth in _depths(tokens) if depth == 0 and tokens[i].is_op("=")), None)
    if equals is not None and equals + 1 < len(tokens) and tokens[equals + 1].is_name(*COMPOUND_POISSON):
        return jump_law_statement(tokens[:equals], tokens[equals + 1 :], tokens[equals], chunk.end, text)
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


def jump_law_statement(
    left: Sequence[Token], right: Sequence[Token], sign: Token, end: int, text: str
) -> JumpLawStatement:
    """``J ~ CompoundPoisson(lam, Normal(m, delta))``; ParseError with a caret at the first thing that is not."""
    if len(left) != 1 or left[0].kind is not Kind.NAME or not JUMP_NAME.fullmatch(left[0].text):
        where = left[0].position if left else sign.position
        raise ParseError(
            "a jump process is named J, J1 or J_x: write J ~ CompoundPoisson(lam, Normal(m, s))", text, where
        )
    outer = _call_arguments(right, COMPOUND_POISSON, "CompoundPoisson(intensity, size law)", end, text)
    if len(outer) != 2:
        raise ParseError("CompoundPoisson takes two arguments: the intensity and the size law", text, right[0].position)
    law_tokens = outer[1]
    if not law_tokens or law_tokens[0].text not in JUMP_SIZE_LAWS:
        where = law_tokens[0].position if law_tokens else right[0].position
        known = "Normal(mean, sd) or DoubleExponential(p, eta1, eta2)"
        raise ParseError(f"expected a jump-size law: {known}", text, where)
    law, fields = JUMP_SIZE_LAWS[law_tokens[0].text]
    args = _call_arguments(law_tokens, {law_tokens[0].text}, f"{law_tokens[0].text}({', '.join(fields)})", end, text)
    if len(args) != len(fields):
        reason = f"{law_tokens[0].text} takes {len(fields)} arguments ({', '.join(fields)}), got {len(args)}"
        raise ParseError(reason, text, law_tokens[0].position)
    intensity = parse_expression(outer[0], text, outer[0][-1].end)
    nodes = tuple(parse_expression(arg, text, arg[-1].end) for arg in args)
    return JumpLawStatement(left[0].text, intensity, law, nodes, left[0].position)


def _call_arguments(
    tokens: Sequence[Token], names: frozenset[str] | set[str], form: str, end: int, text: str
) -> list[Sequence[Token]]:
    """The comma-separated arguments of ``name(...)`` spanning all of ``tokens``; each is non-empty."""
    if len(tokens) < 3 or not tokens[0].is_name(*names) or not tokens[1].is_op("(") or not tokens[-1].is_op(")"):
        raise ParseError(f"expected {form}", text, tokens[0].position if tokens else end)
    if matching_open(tokens, len(tokens) - 1) != 1:
        raise ParseError(f"expected {form} and nothing after it", text, tokens[-1].position)
    args: list[Sequence[Token]] = []
    start = 2
    for i, depth in _depths(tokens):
        if 2 <= i < len(tokens) - 1 and depth == 1 and tokens[i].is_op(","):
            args.append(tokens[start:i])
            start = i + 1
    args.append(tokens[start:-1])
    for arg in args:
        if not arg:
            raise ParseError(f"an empty argument in {form}", text, tokens[1].position)
    return args


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
