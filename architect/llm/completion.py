"""The LLM's answer format, its strict parser and the static checks that run before anything compiles.

The LLM writes only the model-specific expressions, in a compact format::

    drift: [self.kappa * (self.theta - r)]
    diffusion: [[self.sigma * r.sqrt()]]
    correlation: [[1.0, self.rho], [self.rho, 1.0]]      (only when the noises are correlated)

`parse_completion` reads it with its own tokenizer and recursive-descent parser, accepting
nothing but f64 arithmetic on whitelisted names: the state locals, ``t``, ``self.<parameter>``,
float literals, a few f64 methods, called as methods (``x.sqrt()``) or by path (``f64::sqrt(x)``, the
answer style the LLM is trained on: a call reads in the order of the math it translates), and the SDK's
functions ``architect_sdk::erf(x)`` and ``architect_sdk::sign(x)`` (where f64 has no method). Anything
else (a macro, a block, another path, an unknown name, an integer where Rust needs a float) is rejected
with a message the LLM can act on.
The accepted expression texts are spliced verbatim into the crate skeleton (`ModelBodies`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from architect.codegen.symbolic import ModelBodies, symbolic_bodies
from architect.errors import ArchitectError
from architect.expr.functions import BY_RUST, RUST_FUNCTIONS, RUST_POWERS, rust_methods
from architect.expr.functions import CONSTANTS as TABLE_CONSTANTS
from architect.model import SdeModel

#: f64 methods the LLM may call, with their number of arguments: the Rust column of the one table
#: (`architect.expr.functions`) and Rust's spellings of a power.
METHODS = rust_methods()
CONSTANTS = {path: value for _, path, _, _, value in TABLE_CONSTANTS}
MAX_COMPLETION_CHARS = 4000
MAX_DEPTH = 40

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<const>std::f64::consts::(?:PI|E)\b)"
    r"|(?P<function>(?:architect_sdk|f64)::\w+)"
    r"|(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:_?f64)?)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/()\[\],.])"
)


class CompletionError(ArchitectError):
    """The LLM's answer is not in the format, or uses something it may not; ``problems`` says what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# ----------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Token:
    kind: str  # const, num, ident, op, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise CompletionError([f"character {text[position]!r} is not allowed in an expression"])
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup or "", match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Num:
    value: float
    integer: bool  # no dot, exponent or f64 suffix: only valid as the argument of powi
    typed: bool  # has the f64 suffix, so it may receive a method call


@dataclass(frozen=True)
class Name:
    ident: str  # a state local or t


@dataclass(frozen=True)
class Field:
    ident: str  # self.<ident>


@dataclass(frozen=True)
class Const:
    path: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """``receiver.method(args)``; ``f64::max(a, b)`` is ``Call(a, "max", (b,))`` and an SDK function
    ``architect_sdk::erf(x)`` is ``Call(x, "architect_sdk::erf", ())``."""

    receiver: Node
    method: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Paren:
    inner: Node


Node = Num | Name | Field | Const | Neg | Binary | Call | Paren


@dataclass(frozen=True)
class Expression:
    text: str  # the source, spliced into the crate as written
    tree: Node


@dataclass(frozen=True)
class Names:
    """What an expression may read: state locals (and ``t``) and ``self.`` fields; and, when known, the
    answer's shape (``dim`` state variables, ``noise_dim`` Brownian motions), which constrained decoding
    holds the lists to."""

    locals: frozenset[str]
    fields: frozenset[str]
    dim: int | None = None
    noise_dim: int | None = None
    calls: frozenset[str] | None = None  # the f64 methods and SDK paths the model's math needs; None: all

    def may_call(self, method: str) -> bool:
        """Whether constrained decoding lets the answer call ``method`` (``tanh``, ``architect_sdk::erf``)."""
        return self.calls is None or method in self.calls

    def shape(self, key: str) -> tuple[int, ...] | None:
        """The lengths of the ``key`` line's lists, outermost first (None when the shape is not known)."""
        if self.dim is None or self.noise_dim is None:
            return None
        return {
            "drift": (self.dim,),
            "diffusion": (self.dim, self.noise_dim),
            "correlation": (self.noise_dim, self.noise_dim),
        }[key]


class _Parser:
    """Recursive descent over one line: nested lists of expressions."""

    def __init__(self, text: str, names: Names) -> None:
        self.text, self.names = text, names
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------------ helpers
    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.take()
        if token.text != text:
            found = repr(token.text) if token.kind != "end" else "the end of the line"
            raise CompletionError([f"expected {text!r} but found {found} at column {token.position + 1}"])
        return token

    def fail(self, message: str) -> CompletionError:
        return CompletionError([message])

    # ------------------------------------------------------------------ lists
    def parse_line(self) -> list[object]:
        value = self.parse_list()
        if self.peek.kind != "end":
            raise self.fail(f"unexpected {self.peek.text!r} after the closing bracket")
        return value

    def parse_list(self) -> list[object]:
        self.expect("[")
        items: list[object] = []
        while self.peek.text != "]":
            items.append(self.parse_list() if self.peek.text == "[" else self.parse_item())
            if self.peek.text == ",":
                self.take()
            elif self.peek.text != "]":
                raise self.fail(f"expected ',' or ']' but found {self.peek.text!r} at column {self.peek.position + 1}")
        self.expect("]")
        return items

    def parse_item(self) -> Expression:
        start = self.peek.position
        tree = self.parse_expr()
        return Expression(self.text[start : self.peek.position].strip(), tree)

    # ------------------------------------------------------------------ expressions
    def parse_expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("expression nested too deeply")
        node = self.parse_term()
        while self.peek.text in ("+", "-"):
            op = self.take().text
            node = Binary(op, node, self.parse_term())
        self.depth -= 1
        return node

    def parse_term(self) -> Node:
        node = self.parse_unary()
        while self.peek.text in ("*", "/"):
            op = self.take().text
            node = Binary(op, node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.peek.text == "-":
            self.take()
            return Neg(self.parse_unary())
        return self.parse_postfix()

    def parse_postfix(self) -> Node:
        node = self.parse_primary()
        while self.peek.text == ".":
            self.take()
            self._receiver(node, self.tokens[self.i].text or "sqrt")  # at the dot: nothing can follow
            method = self.take()
            if method.kind != "ident" or method.text not in METHODS:
                allowed = ", ".join(METHODS)
                raise self.fail(f"method {method.text!r} is not allowed (allowed f64 methods: {allowed})")
            node = Call(self._receiver(node, method.text), method.text, self.parse_args(method.text))
        return node

    def parse_args(self, method: str, receiver: int = 0) -> tuple[Node, ...]:
        """The arguments of ``method``, the receiver first when it is called by path (``receiver=1``)."""
        self.expect("(")
        args: list[Node] = []
        expected = METHODS[method] + receiver
        while self.peek.text != ")":
            args.append(self.parse_expr())
            if self.peek.text == "," and len(args) == expected:
                raise self.fail(f"{method}() takes {expected} argument(s), got more")
            if self.peek.text == ",":
                self.take()
            elif self.peek.text != ")":
                raise self.fail(f"expected ',' or ')' in the arguments of {method}()")
        self.expect(")")
        if len(args) != expected:
            raise self.fail(f"{method}() takes {expected} argument(s), got {len(args)}")
        if method == "powi" and not _is_integer(args[receiver]):
            raise self.fail("powi() takes an integer exponent such as powi(2); use powf() for a float exponent")
        return tuple(args)

    def _receiver(self, node: Node, method: str) -> Node:
        inner = node.inner if isinstance(node, Paren) else node
        inner = inner.operand if isinstance(inner, Neg) else inner
        if isinstance(inner, Num) and not inner.typed:
            raise self.fail(f"a bare literal cannot call .{method}(): write it with a type, e.g. 2.0_f64.{method}()")
        return node

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "num":
            if math.isinf((number := _number(token.text)).value):
                raise self.fail(f"the literal {token.text} is out of f64's range (rustc refuses it)")
            return number
        if token.kind == "const":
            return Const(token.text)
        if token.kind == "function":
            return self._function(token)
        if token.text == "(":
            inner = self.parse_expr()
            self.expect(")")
            return Paren(inner)
        if token.kind == "ident":
            return self._name(token)
        found = repr(token.text) if token.kind != "end" else "the end of the line"
        raise self.fail(f"expected a number, a name or '(' but found {found} at column {token.position + 1}")

    def _function(self, token: Token) -> Node:
        """``f64::sqrt(x)``, ``architect_sdk::erf(x)``: a call by path, read as a call on its first argument."""
        if token.text.startswith("f64::"):
            method = token.text.removeprefix("f64::")
            if method not in METHODS:
                allowed = ", ".join(f"f64::{m}" for m in METHODS)
                raise self.fail(f"{token.text} is not allowed (allowed f64 functions: {allowed})")
            receiver, *rest = self.parse_args(method, receiver=1)
            return Call(receiver, method, tuple(rest))
        if token.text not in RUST_FUNCTIONS:
            allowed = ", ".join(RUST_FUNCTIONS)
            raise self.fail(f"{token.text} is not allowed (allowed SDK functions: {allowed})")
        self.expect("(")
        args = [self.parse_expr()]
        while self.peek.text == ",":
            if len(args) == RUST_FUNCTIONS[token.text]:
                raise self.fail(f"{token.text}() takes {RUST_FUNCTIONS[token.text]} argument(s), got more")
            self.take()
            args.append(self.parse_expr())
        self.expect(")")
        if len(args) != RUST_FUNCTIONS[token.text]:
            raise self.fail(f"{token.text}() takes {RUST_FUNCTIONS[token.text]} argument(s), got {len(args)}")
        return Call(args[0], token.text, tuple(args[1:]))

    def _name(self, token: Token) -> Node:
        if token.text == "self":
            self.expect(".")
            field = self.take()
            if field.kind != "ident" or field.text not in self.names.fields:
                known = ", ".join(f"self.{f}" for f in sorted(self.names.fields)) or "none"
                raise self.fail(f"self.{field.text} is not a parameter of this model (parameters: {known})")
            return Field(field.text)
        if token.text not in self.names.locals:
            known = ", ".join(sorted(self.names.locals))
            hint = f"; parameters are read as self.{token.text}" if token.text in self.names.fields else ""
            raise self.fail(f"unknown name {token.text!r} (the expressions may read {known}{hint})")
        return Name(token.text)


def _number(text: str) -> Num:
    typed = text.endswith("f64")
    digits = text.removesuffix("f64").removesuffix("_")
    integer = not typed and not any(c in digits for c in ".eE")
    return Num(float(digits), integer, typed)


def _is_integer(node: Node) -> bool:
    if isinstance(node, Neg):
        return _is_integer(node.operand)
    return isinstance(node, Num) and node.integer


def _integer_misuse(node: Node, inside_powi: bool = False) -> str | None:
    """Rust has no implicit int -> f64: an integer literal anywhere but powi's exponent does not compile."""
    if isinstance(node, Num):
        return None if not node.integer or inside_powi else f"write the integer literal {node.value:g} as a float"
    if isinstance(node, Neg):
        return _integer_misuse(node.operand, inside_powi)
    if isinstance(node, Paren):
        return _integer_misuse(node.inner)
    if isinstance(node, Binary):
        return _integer_misuse(node.left) or _integer_misuse(node.right)
    if isinstance(node, Call):
        exponent = [_integer_misuse(a, inside_powi=node.method == "powi") for a in node.args]
        return _integer_misuse(node.receiver) or next((e for e in exponent if e), None)
    return None


def _reads(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.ident}
    children: tuple[Node, ...] = ()
    if isinstance(node, Neg):
        children = (node.operand,)
    elif isinstance(node, Paren):
        children = (node.inner,)
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    elif isinstance(node, Call):
        children = (node.receiver, *node.args)
    return set().union(*(_reads(c) for c in children)) if children else set()


# ----------------------------------------------------------------------------- the answer
@dataclass(frozen=True)
class Completion:
    drift: tuple[Expression, ...]
    diffusion: tuple[tuple[Expression, ...], ...]
    correlation: tuple[tuple[Expression, ...], ...] | None

    def bodies(self) -> ModelBodies:
        flat = [e for row in self.diffusion for e in row]
        return ModelBodies(
            drift=tuple(e.text for e in self.drift),
            diffusion=tuple(tuple(e.text for e in row) for row in self.diffusion),
            correlation=None if self.correlation is None else tuple(tuple(e.text for e in r) for r in self.correlation),
            drift_reads=frozenset().union(*(_reads(e.tree) for e in self.drift)),
            diffusion_reads=frozenset().union(*(_reads(e.tree) for e in flat)),
        )


def reference_answer(model: SdeModel) -> str:
    """The answer the LLM is trained to write for ``model``: the compiler's expressions, functions called by path."""
    return format_completion(symbolic_bodies(model, calls="path"))


def format_completion(bodies: ModelBodies) -> str:
    """The answer text for ``bodies`` (what the LLM is trained to write)."""
    lines = [
        f"drift: [{', '.join(bodies.drift)}]",
        "diffusion: [" + ", ".join(f"[{', '.join(row)}]" for row in bodies.diffusion) + "]",
    ]
    if bodies.correlation is not None:
        lines.append("correlation: [" + ", ".join(f"[{', '.join(row)}]" for row in bodies.correlation) + "]")
    return "\n".join(lines)


def parse_completion(text: str, names: Names, dim: int, noise_dim: int) -> Completion:
    """Read and statically check an answer; `CompletionError` lists every problem found."""
    if len(text) > MAX_COMPLETION_CHARS:
        raise CompletionError([f"the answer is longer than {MAX_COMPLETION_CHARS} characters"])
    sections, problems = _sections(text)
    values: dict[str, list[object]] = {}
    for key, line in sections.items():
        try:
            values[key] = _Parser(line, names).parse_line()
        except CompletionError as exc:
            problems += [f"{key}: {p}" for p in exc.problems]
        except RecursionError:
            problems.append(f"{key}: expression nested too deeply")
    for key in ("drift", "diffusion"):
        if key not in sections:
            problems.append(f"missing the line '{key}: [...]'")
    if problems:
        raise CompletionError(problems)
    drift = _vector(values["drift"], dim, "drift", problems)
    diffusion = _matrix(values["diffusion"], dim, noise_dim, "diffusion", problems)
    correlation = (
        _matrix(values["correlation"], noise_dim, noise_dim, "correlation", problems)
        if ("correlation" in values)
        else None
    )
    for key, exprs in (("drift", drift), ("diffusion", [e for r in diffusion for e in r])):
        for expr in exprs:
            if (why := _integer_misuse(expr.tree)) is not None:
                problems.append(f"{key}: {why} in `{expr.text}`")
    for expr in [e for r in correlation or () for e in r]:
        if _reads(expr.tree):
            problems.append(f"correlation: `{expr.text}` may only use parameters and numbers")
        elif (why := _integer_misuse(expr.tree)) is not None:
            problems.append(f"correlation: {why} in `{expr.text}`")
    if problems:
        raise CompletionError(problems)
    return Completion(tuple(drift), tuple(tuple(r) for r in diffusion), correlation)


_KEYS = ("drift", "diffusion", "correlation")


def _sections(text: str) -> tuple[dict[str, str], list[str]]:
    sections: dict[str, str] = {}
    problems: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        key, colon, rest = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in _KEYS:
            problems.append(f"unexpected line {line[:60]!r}: expected 'drift: [...]', 'diffusion: [[...]]'")
        elif key in sections:
            problems.append(f"the line '{key}:' appears twice")
        else:
            sections[key] = rest.strip()
    return sections, problems


def _vector(value: list[object], n: int, what: str, problems: list[str]) -> list[Expression]:
    if len(value) != n or not all(isinstance(v, Expression) for v in value):
        problems.append(f"{what} must be a list of {n} expression(s), one per state variable")
        return []
    return [v for v in value if isinstance(v, Expression)]


def _matrix(value: list[object], rows: int, cols: int, what: str, problems: list[str]) -> list[list[Expression]]:
    shaped = len(value) == rows and all(
        isinstance(r, list) and len(r) == cols and all(isinstance(v, Expression) for v in r) for r in value
    )
    if not shaped:
        problems.append(f"{what} must be a {rows} x {cols} matrix: {rows} row(s) of {cols} expression(s)")
        return []
    return [[v for v in r if isinstance(v, Expression)] for r in value if isinstance(r, list)]


# ----------------------------------------------------------------------------- prefixes (constrained decoding)
class _Incomplete(Exception):
    """The parser reached the end of a prefix: more text could still make it valid."""


class _PrefixParser(_Parser):
    """`_Parser` over the beginning of a line: running out of text is not an error, a wrong token is.

    The last lexeme, when it may still grow (``2.``, ``self.kap``, ``sq``), is an ``open`` token:
    where a number or a name may come it ends the parse as incomplete, anywhere else (after a
    whole expression, where a row belongs) it is a wrong token. Stricter than the full parser where
    that is free, so constrained decoding never writes itself into a dead end: an integer literal
    only as powi's exponent, and there nothing else (Rust has no implicit int -> f64); only the
    calls ``names.calls`` allows (the functions of the model's math, and powers); and, given the
    line's ``shape``, each list holds exactly its number of items (a row per state variable, a
    column per Brownian motion), so a list can neither stop short nor run on.
    """

    def __init__(self, text: str, names: Names, shape: tuple[int, ...] | None = None) -> None:
        self.open = _open_tail(text, names)
        super().__init__(text[: len(text) - len(self.open)], names)
        if self.open:
            self.tokens.insert(len(self.tokens) - 1, Token("open", self.open, len(text) - len(self.open)))
        self.shape = shape
        self.level = 0

    @property
    def peek(self) -> Token:
        token = self.tokens[self.i]
        if token.kind == "end":
            raise _Incomplete
        return token

    def take(self) -> Token:
        token = self.peek
        if token.kind == "open":
            raise _Incomplete  # the growing lexeme is wanted here: it may still become the right one
        self.i += 1
        return token

    def parse_line(self) -> list[object]:
        value = self.parse_list()
        if self.tokens[self.i].kind != "end":
            raise self.fail("text after the closing bracket")
        return value

    def parse_list(self) -> list[object]:
        if self.shape is None:
            return super().parse_list()
        level = self.level
        want, rows = self.shape[level], level + 1 < len(self.shape)
        self.expect("[")
        items: list[object] = []
        while self.peek.text != "]":
            if (self.peek.text == "[") != rows:
                raise self.fail("a row where an expression belongs, or the reverse")
            self.level += rows
            items.append(self.parse_list() if rows else self.parse_item())
            self.level = level
            if self.peek.text == "," and len(items) < want:
                self.take()
            elif self.peek.text != "]":
                raise self.fail(f"a list of {want} item(s) runs on")
        if len(items) != want:
            raise self.fail(f"a list of {want} item(s) stops at {len(items)}")
        self.expect("]")
        return items

    def parse_args(self, method: str, receiver: int = 0) -> tuple[Node, ...]:
        if not self.names.may_call(method):
            raise self.fail(f"{method}() is not a function of this model")
        if method != "powi":
            return super().parse_args(method, receiver)
        self.expect("(")
        base = [self.parse_expr()] if receiver else []
        if receiver:
            self.expect(",")
        exponent = self._integer_exponent()
        self.expect(")")
        return (*base, exponent)

    def _integer_exponent(self) -> Node:
        """powi's exponent: an integer literal, maybe negated, and nothing else."""
        negative = self.peek.text == "-"
        if negative:
            self.take()
        if self.peek.kind == "open" and not self.peek.text.isdigit():
            raise self.fail("powi() takes an integer exponent")
        token = self.take()
        if token.kind != "num" or not _number(token.text).integer:
            raise self.fail("powi() takes an integer exponent")
        return Neg(_number(token.text)) if negative else _number(token.text)

    def _function(self, token: Token) -> Node:
        if token.text in RUST_FUNCTIONS and not self.names.may_call(token.text):
            raise self.fail(f"{token.text}() is not a function of this model")
        return super()._function(token)

    def parse_primary(self) -> Node:
        node = super().parse_primary()
        if isinstance(node, Num) and node.integer:
            raise self.fail("an integer literal outside powi()")
        return node


_OPEN_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d*)?(?:_|_?f|_?f6|_?f64)?$")
_OPEN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$|(?:std|architect_sdk|f64)(?::{1,2}\w*)*$")


def _open_tail(text: str, names: Names) -> str:
    """The last lexeme when it may still grow (``2.``, ``self.kap``, ``sq``), else ''."""
    if match := _OPEN_NUMBER.search(text):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "_."):
            return match.group()
    if match := _OPEN_WORD.search(text):
        word, before = match.group(), text[: match.start()].rstrip()
        calls = [m for m in METHODS if names.may_call(m)]
        if before.endswith("self."):
            words: list[str] = [*names.fields]
        elif before.endswith("."):
            words = calls
        else:
            sdk = [f for f in RUST_FUNCTIONS if names.may_call(f)]
            words = [*names.locals, "self", *CONSTANTS, *sdk, *(f"f64::{m}" for m in calls)]
        if any(w.startswith(word) for w in words):
            return word
        raise CompletionError([f"no allowed name starts with {word!r}"])
    return ""


_TWO_BLANKS = re.compile(r"\s\s")
#: A literal's exponent of four digits or more: out of f64's range (|exponent| <= 308), or a repetition.
_LONG_EXPONENT = re.compile(r"\d[eE][+-]?0*[1-9]\d{3}")


def viable_prefix(text: str, names: Names) -> bool:
    """Whether ``text`` can still be continued into an answer of the right format and whitelist.

    The format never has two blanks in a row (one space around an operator and after a comma, one newline
    between lines): a model heading for a dead end otherwise writes blanks until its token budget runs out.
    Nor has a literal an exponent of four digits: f64 ends at 1e308, and a model repeating itself in a
    literal otherwise writes digits until its token budget runs out.
    """
    if _TWO_BLANKS.search(text) or _LONG_EXPONENT.search(text):
        return False
    *done, last = text.split("\n")
    used: set[str] = set()
    try:
        for line in done:
            if line.strip():
                key, _, rest = line.partition(":")
                key = key.strip().lower()
                if key not in _KEYS or key in used:
                    return False
                used.add(key)
                tree_list = _Parser(rest.strip(), names).parse_line()
                if any(_integer_misuse(e.tree) for e in _expressions(tree_list)):
                    return False
                if not _has_shape(tree_list, names.shape(key)):
                    return False
        head, colon, rest = last.lstrip().partition(":")
        if not colon:  # a line's key being written, or nothing yet (an answer with every line may end)
            return not head.strip() or any(k.startswith(head.lower()) for k in _KEYS if k not in used)
        key = head.strip().lower()
        if key not in _KEYS or key in used:
            return False
        _PrefixParser(rest.lstrip(), names, names.shape(key)).parse_line()
    except _Incomplete:
        return True
    except (CompletionError, RecursionError):
        return False
    return True


def complete_answer(text: str, names: Names) -> bool:
    """Whether ``text`` may end here: every line is whole and valid, and drift and diffusion are there."""
    keys = {line.partition(":")[0].strip().lower() for line in text.splitlines()}
    return {"drift", "diffusion"} <= keys and viable_prefix(text.rstrip() + "\n", names)


def _has_shape(value: object, shape: tuple[int, ...] | None) -> bool:
    """Whether nested lists ``value`` have ``shape`` (always, when the shape is not known)."""
    if shape is None:
        return True
    if not shape:
        return isinstance(value, Expression)
    return isinstance(value, list) and len(value) == shape[0] and all(_has_shape(v, shape[1:]) for v in value)


def _expressions(value: list[object]) -> list[Expression]:
    out: list[Expression] = []
    for item in value:
        out += _expressions(item) if isinstance(item, list) else [item] if isinstance(item, Expression) else []
    return out


# ----------------------------------------------------------------------------- sympy
def to_sympy(node: Node, fields: Mapping[str, sp.Expr], locals_: Mapping[str, sp.Expr]) -> sp.Expr:
    """The sympy expression ``node`` computes; ``fields`` and ``locals_`` give each ``self.<field>`` and local."""

    def build(n: Node) -> sp.Expr:
        if isinstance(n, Num):
            return sp.nsimplify(repr(n.value), rational=True)
        if isinstance(n, Name):
            return locals_[n.ident]
        if isinstance(n, Field):
            return fields[n.ident]
        if isinstance(n, Const):
            return next(c[0] for c in TABLE_CONSTANTS if c[1] == n.path)
        if isinstance(n, Neg):
            return -build(n.operand)
        if isinstance(n, Paren):
            return build(n.inner)
        if isinstance(n, Binary):
            a, b = build(n.left), build(n.right)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[n.op]
        x, rest = build(n.receiver), [build(a) for a in n.args]
        if n.method in RUST_POWERS:
            return x ** rest[0]
        return BY_RUST[n.method].sympy(x, *rest)

    return build(node)


# ----------------------------------------------------------------------------- evaluation
def evaluate(node: Node, values: Mapping[str, float]) -> float:
    """The f64 value of an expression (NaN where Rust would give NaN or inf)."""
    try:
        result = _EVAL[type(node)](node, values)
    except (ArithmeticError, ValueError):
        return math.nan
    return result if math.isfinite(result) else math.nan


def _call(node: Call, values: Mapping[str, float]) -> float:
    x = evaluate(node.receiver, values)
    args = [evaluate(a, values) for a in node.args]
    if node.method in RUST_POWERS:
        return math.pow(x, args[0])
    function = BY_RUST[node.method].value
    assert function is not None
    return function(x, *args)  # sqrt and ln of a negative raise ValueError: NaN, as Rust computes


def _binary(node: Binary, values: Mapping[str, float]) -> float:
    a, b = evaluate(node.left, values), evaluate(node.right, values)
    return {"+": a + b, "-": a - b, "*": a * b}[node.op] if node.op != "/" else a / b


_EVAL: dict[type, Callable[..., float]] = {
    Num: lambda n, v: n.value,
    Name: lambda n, v: v[n.ident],
    Field: lambda n, v: v["self." + n.ident],
    Const: lambda n, v: CONSTANTS[n.path],
    Neg: lambda n, v: -evaluate(n.operand, v),
    Paren: lambda n, v: evaluate(n.inner, v),
    Binary: _binary,
    Call: _call,
}


# ----------------------------------------------------------------------------- items (checked decoding)
@dataclass(frozen=True)
class Item:
    """One expression of an answer, in the answer's order (drift, diffusion by rows, correlation by rows)."""

    start: int  # offset of its first character in the answer
    text: str
    closed: bool  # False: the answer stops inside it


def answer_items(text: str) -> list[Item]:
    """The expressions of a (maybe unfinished) answer, found by its brackets and commas alone.

    An expression starts at the first character after ``[`` or a list's ``,`` and ends at the ``,`` or ``]``
    outside parentheses that follows; no line of the format has brackets elsewhere. Used to check an
    answer expression by expression (`architect.llm.checks.first_wrong_item`).
    """
    items: list[Item] = []
    bracket, paren, start = 0, 0, None
    for i, ch in enumerate(text):
        if start is None:
            if ch in "[]":
                bracket += 1 if ch == "[" else -1
                continue
            if bracket == 0 or ch.isspace() or ch == ",":
                continue
            start, paren = i, 0
        if ch in "()":
            paren += 1 if ch == "(" else -1
        elif paren <= 0 and ch in ",]":
            items.append(Item(start, text[start:i].rstrip(), True))
            start = None
            bracket -= 1 if ch == "]" else 0
    if start is not None:
        items.append(Item(start, text[start:].rstrip(), False))
    return items


def item_end(text: str) -> int | None:
    """Where the expression that ``text`` begins ends: the offset of the ``,`` or ``]`` outside parentheses
    that closes it, or None when ``text`` stops inside it."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth <= 0 and ch in ",]":
            return i
    return None


def closed_item(text: str) -> str | None:
    """The expression that ``text`` begins, when the ``,`` or ``]`` closing it follows; None when unfinished."""
    end = item_end(text)
    return text[:end] if end is not None else None


def parse_expression(text: str, names: Names, constant: bool = False) -> Expression:
    """One expression of an answer, read and whitelisted like a whole answer's (`parse_completion`);
    ``constant``: a correlation, which reads no state variable and no time."""
    items = _Parser(f"[{text}]", names).parse_line()
    if len(items) != 1 or not isinstance(items[0], Expression):
        raise CompletionError([f"`{text}` is not one expression"])
    if (why := _integer_misuse(items[0].tree)) is not None:
        raise CompletionError([f"{why} in `{text}`"])
    if constant and _reads(items[0].tree):
        raise CompletionError([f"`{text}` may only use parameters and numbers"])
    return items[0]
