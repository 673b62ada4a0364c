"""Text -> `SdeModel`: named models (`catalog`) and explicit equations (`equations`).

    >>> from architect.parser import parse
    >>> parse("CIR kappa=1.5").parameter_values()["kappa"]
    1.5

`parse` raises `ParseError` (with a caret under the problem wherever there is a position) or
`ModelError`, never anything else. Layout, one module per concern so new input forms (LaTeX,
jumps) slot in beside the existing ones:

- `lexer`: tokens with positions;  `syntax`: expression trees;  `statements`: splitting text
  into equations, values and correlations;
- `linear`: exact sympy, split into dt/dW parts;  `values`: parameter values as floats;
- `equations`: explicit equations;  `catalog`: named families;  `domains`, `names`: shared rules.
"""

from __future__ import annotations

from architect.errors import ModelError, ParseError
from architect.model import SdeModel
from architect.parser import catalog
from architect.parser.equations import parse_equations
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
    except (ParseError, ModelError):
        raise
    except RecursionError:
        raise ParseError("could not read the model: it is nested too deeply", text, None) from None
    except Exception as exc:  # last resort: never let an internal error reach the user as a traceback
        raise ParseError(f"could not read the model ({type(exc).__name__}: {exc})", text, None) from None


def _dispatch(text: str) -> SdeModel:
    tokens = tokenize(text)
    if _looks_like_equations(tokens):
        return parse_equations(text, tokens)
    return catalog.parse_named(text, tokens)


def _looks_like_equations(tokens: list[Token]) -> bool:
    """Equations mention dt or a dW somewhere, or start with ``dX =``."""
    if any(t.kind is Kind.NAME and is_differential(t.text) for t in tokens):
        return True
    first, second = tokens[0], tokens[1] if len(tokens) > 1 else tokens[0]
    return first.kind is Kind.NAME and first.text.startswith("d") and len(first.text) > 1 and second.is_op("=", "(")


__all__ = ["catalog", "parse"]
