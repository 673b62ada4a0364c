"""Tokens with their positions in the original text, shared by every input form.

The lexer never fails: characters it does not understand become `Kind.OTHER` tokens, so the
catalog can read free text ("Heston's model") while the equation reader reports them with a
caret. Positions always index the text the user typed, even where a token is normalised
(``**`` -> ``^``, ``−`` -> ``-``, ``σ`` -> ``sigma``, ``lambda`` -> ``lam``).
"""

# ruff: noqa: RUF001, RUF002, RUF003  (this module's job is to read Unicode look-alikes)
from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from architect.errors import ParseError


class Kind(Enum):
    NAME = "name"
    NUMBER = "number"
    OP = "operator"
    NEWLINE = "newline"
    OTHER = "other"
    END = "end"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # normalised spelling
    position: int  # index of the first character in the original text
    end: int  # index just past the last character

    def is_op(self, *ops: str) -> bool:
        return self.kind is Kind.OP and self.text in ops

    def is_name(self, *names: str) -> bool:
        return self.kind is Kind.NAME and (not names or self.text in names)


#: Words that separate statements ("dX = ... where kappa=2 and theta=0.04"); never symbol names.
SEPARATOR_WORDS = frozenset({"where", "with", "and"})

#: Python keywords cannot be sympy symbol names in the JSON form; ``lambda`` is common enough
#: to get a readable replacement, the others get a trailing underscore.
KEYWORD_RENAMES = {"lambda": "lam"}

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lam", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "ϱ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta",
    "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip

UNICODE_OPERATORS = {"−": "-", "–": "-", "—": "-", "·": "*", "×": "*", "⋅": "*", "∗": "*"}

MAX_EXPONENT_DIGITS = 3  # 1e999 is the largest literal; 1e99999999 would build a huge integer
MAX_NUMBER_LENGTH = 100
MAX_DECIMAL_EXPONENT = 300  # the simulator computes in f64: larger literals would be infinite or zero there

_GREEK_CLASS = "".join(GREEK)
_PATTERNS = [
    (Kind.NEWLINE, re.compile(r"\r?\n|\r")),
    (None, re.compile(r"[ \t\f\v]+")),
    (Kind.NUMBER, re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")),
    (Kind.NAME, re.compile(r"[A-Za-z_][A-Za-z0-9_]*")),
    # one Greek letter, optionally subscripted: "σS" is sigma*S, "σ_v" and "ρ12" are single names
    (Kind.NAME, re.compile(rf"[{_GREEK_CLASS}](?:_?[0-9]+|_[A-Za-z0-9]+)?")),
    (Kind.OP, re.compile(r"\*\*|[-+*/^(),=;~]|[" + "".join(UNICODE_OPERATORS) + "]")),
]


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one `Kind.END` token at ``len(text)``."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        token, position = _next_token(text, position)
        if token is not None:
            tokens.append(token)
    tokens.append(Token(Kind.END, "", len(text), len(text)))
    return tokens


def _next_token(text: str, position: int) -> tuple[Token | None, int]:
    for kind, pattern in _PATTERNS:
        match = pattern.match(text, position)
        if match:
            end = match.end()
            if kind is None:
                return None, end
            return Token(kind, _normalise(kind, match.group()), position, end), end
    return Token(Kind.OTHER, text[position], position, position + 1), position + 1


def _normalise(kind: Kind, raw: str) -> str:
    if kind is Kind.OP:
        return "^" if raw == "**" else UNICODE_OPERATORS.get(raw, raw)
    if kind is Kind.NAME:
        if raw[0] in GREEK:
            return GREEK[raw[0]] + raw[1:]
        if keyword.iskeyword(raw) and raw not in SEPARATOR_WORDS:
            return KEYWORD_RENAMES.get(raw, raw + "_")
    return raw


def renamed_keywords(tokens: Sequence[Token], text: str) -> dict[str, str]:
    """Typed name -> name used, for the names renamed because they are Python keywords."""
    renamed = {}
    for token in tokens:
        raw = text[token.position : token.end]
        if token.kind is Kind.NAME and raw != token.text and keyword.iskeyword(raw):
            renamed[raw] = token.text
    return renamed


def check_numbers(tokens: Sequence[Token], text: str) -> None:
    """Refuse literals so long or with exponents so large that exact arithmetic would stall."""
    for token in tokens:
        if token.kind is not Kind.NUMBER:
            continue
        mantissa, _, exponent = token.text.lower().partition("e")
        if len(mantissa) > MAX_NUMBER_LENGTH:
            raise ParseError(f"number with more than {MAX_NUMBER_LENGTH} digits", text, token.position)
        if len(exponent.lstrip("+-").lstrip("0")) > MAX_EXPONENT_DIGITS:
            raise ParseError(f"the exponent of {token.text} is too large", text, token.position)
        if exponent.lstrip("+-") and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise ParseError(
                f"{token.text} is outside the range of double precision (exponents up to ±{MAX_DECIMAL_EXPONENT})",
                text,
                token.position,
            )


def check_brackets(tokens: Sequence[Token], text: str) -> None:
    """Every ``(`` must be closed and every ``)`` opened; point at the first one that is not."""
    open_positions: list[int] = []
    for token in tokens:
        if token.is_op("("):
            open_positions.append(token.position)
        elif token.is_op(")"):
            if not open_positions:
                raise ParseError("unmatched ')': there is no '(' before it", text, token.position)
            open_positions.pop()
    if open_positions:
        raise ParseError("unclosed parenthesis: this '(' is never closed", text, open_positions[0])


def check_characters(tokens: Sequence[Token], text: str) -> None:
    """Equations admit no character the lexer does not know."""
    for token in tokens:
        if token.kind is Kind.OTHER:
            raise ParseError(f"unexpected character {token.text!r}", text, token.position)


def describe(token: Token) -> str:
    """How to name a token in a message."""
    if token.kind is Kind.END:
        return "the end of the text"
    if token.kind is Kind.NEWLINE:
        return "the end of the line"
    return repr(token.text)
