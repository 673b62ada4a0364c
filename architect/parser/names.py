"""Rules about names: which are reserved, and what a parameter's name says about its constraint."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from architect.parser.lexer import SEPARATOR_WORDS
from architect.parser.statements import CONSTANT_NAMES, is_differential
from architect.parser.syntax import FUNCTIONS

#: Names sympy's JSON reader (`SdeModel.from_json`) generates calls to; a symbol by that name breaks it.
SYMPY_RESERVED = frozenset({"Integer", "Float", "Rational", "Symbol", "Function"})

_POSITIVE = re.compile(r"(sigma|vol).*|(xi|eta)(_?[0-9].*|_.*)?")
_CORRELATION = re.compile(r"rho.*")


def reserved_reason(name: str) -> str | None:
    """Why ``name`` cannot be a state variable or a parameter, or None when it can."""
    if name == "t":
        return "t is the time variable"
    if name in FUNCTIONS:
        return f"{name} is a function"
    if name in CONSTANT_NAMES:
        return f"{name} is the constant π"
    if is_differential(name):
        return f"{name} is a differential"
    if name in SEPARATOR_WORDS:
        return f"'{name}' separates statements"
    if name in SYMPY_RESERVED:
        return f"{name} is reserved"
    if name.startswith("_"):
        return "names starting with '_' are reserved"
    return None


def inferred_constraint(name: str) -> str:
    """sigma*, vol*, xi, eta -> positive; rho* -> correlation; anything else -> real."""
    if _POSITIVE.fullmatch(name):
        return "positive"
    if _CORRELATION.fullmatch(name):
        return "correlation"
    return "real"


def suggestion(name: str, candidates: Iterable[str]) -> str:
    """ " (did you mean 'kappa'?)" for a close candidate, else ""."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def natural_key(name: str) -> tuple[str, int, str]:
    """Sort W2 before W10."""
    match = re.fullmatch(r"(.*?)(\d+)", name)
    if match:
        return (match.group(1), int(match.group(2)), name)
    return (name, -1, name)
