"""Text -> `SdeModel`: named models (`catalog`) and explicit equations (`equations`).

    >>> from architect.parser import parse
    >>> parse("CIR kappa=1.5").parameter_values()["kappa"]
    1.5

`parse` raises only `ParseError`: with a caret under the problem wherever there is a position,
otherwise with the input quoted after ``in:`` (a `ModelError` from building the model is re-raised
that way too). Layout, one module per concern:

- `lexer`: tokens with positions;  `syntax`: expression trees;  `statements`: splitting text
  into equations, values and correlations;
- `linear`: exact sympy, split into dt/dW parts;  `values`: parameter values as floats;
- `equations`: explicit equations;  `latex`: LaTeX -> equations, with a position map;
- `catalog`: named models (lookup, modifiers, overrides);  `families`: the families' data;
  `family`: what a family is;  `phrases`: names and modifiers as words;  `words`: values in words
  after a name ("vol of vol 0.45", "30% volatility", "starting at 80");
- `domains`, `names`: shared rules.
"""

from __future__ import annotations

from dataclasses import replace

from architect.errors import ModelError, ParseError
from architect.model import SdeModel
from architect.parser import catalog
from architect.parser.equations import parse_equations
from architect.parser.latex import looks_like_latex, reraise_in_source, translate
from architect.parser.lexer import Kind, Token, tokenize
from architect.parser.statements import is_differential

MAX_TEXT_LENGTH = 100_000


def parse(text: str) -> SdeModel:
    """Read a model name (with optional overrides) or explicit equations into an `SdeModel`."""
    if not isinstance(text, str):
        raise ParseError(f"expected the model as text, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty model text: type a model name such as 'heston' or an equation such as 'dX = ...'")
    if len(text) > MAX_TEXT_LENGTH:
        raise ParseError(f"the model text is longer than {MAX_TEXT_LENGTH} characters")
    try:
        return _dispatch(text)
    except ParseError as error:
        if error.position is None:
            raise ParseError(quoted(error.reason, text)) from None
        raise
    except ModelError as error:
        raise ParseError(quoted(str(error), text)) from None
    except RecursionError:
        raise ParseError(quoted("could not read the model: it is nested too deeply", text)) from None
    except Exception as exc:  # last resort: never let an internal error reach the user as a traceback
        raise ParseError(quoted(f"could not read the model ({type(exc).__name__}: {exc})", text)) from None


def quoted(reason: str, text: str, width: int = 100) -> str:
    """``reason`` followed by the input on its own line (shortened), for errors with no position."""
    shown = " ⏎ ".join(line.strip() for line in text.strip().splitlines())
    if len(shown) > width:
        shown = shown[: width - 3] + "..."
    return f"{reason}\n  in: {shown}"


def _dispatch(text: str) -> SdeModel:
    if not looks_like_latex(text):
        return _dispatch_plain(text)
    translation = translate(text)
    try:
        model = _dispatch_plain(translation.text)
    except ParseError as error:
        raise reraise_in_source(error, text, translation) from None
    return replace(model, source=text)


def _dispatch_plain(text: str) -> SdeModel:
    tokens = tokenize(text)
    if _looks_like_equations(tokens):
        start = _equations_start(tokens)
        if start is None:
            return parse_equations(text, tokens)
        blank = " " * start + text[start:]  # same positions, so carets still point into the user's text
        model = parse_equations(blank, tokenize(blank))
        note = f"ignored before the equations: {text[:start].strip()!r}"
        return replace(model, source=text, notes=(note, *model.notes))
    return catalog.parse_named(text, tokens)


def _equations_start(tokens: list[Token]) -> int | None:
    """Where the first equation starts when free text comes before it ("Ornstein-Uhlenbeck process: dX = ...").

    None when the text starts with an equation, or when a ``=`` comes before the first equation
    (that text is a statement, read and checked as one).
    """
    for index, token in enumerate(tokens):
        if token.is_op("="):
            return None
        if index > 0 and _starts_equation(tokens, index):
            return token.position
    return None


def _starts_equation(tokens: list[Token], index: int) -> bool:
    token = tokens[index]
    following = [t.text for t in tokens[index + 1 : index + 5]]
    if token.is_name("d") and len(following) >= 2 and tokens[index + 1].kind is Kind.NAME:
        return following[1] == "="
    if not (token.kind is Kind.NAME and token.text.startswith("d") and len(token.text) > 1):
        return False
    return following[:1] == ["="] or following[:4] == ["(", "t", ")", "="] or following[:1] == ["/"]


def _looks_like_equations(tokens: list[Token]) -> bool:
    """Equations mention dt or a dW somewhere, or start with ``dX =`` or ``dX(t) =``."""
    if any(t.kind is Kind.NAME and is_differential(t.text) for t in tokens):
        return True
    first = tokens[0]
    if not (first.kind is Kind.NAME and first.text.startswith("d") and len(first.text) > 1):
        return False
    following = [t.text for t in tokens[1:5]]
    return following[:1] == ["="] or following == ["(", "t", ")", "="]


__all__ = ["catalog", "parse"]
