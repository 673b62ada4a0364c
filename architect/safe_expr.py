"""Reading a model file's expressions safely: kept importable here; the reader is `architect.expr.reader`."""

from __future__ import annotations

from architect.expr.reader import (
    CONSTANTS,
    FUNCTIONS,
    MAX_CONSTANT_BITS,
    MAX_CONSTANT_EXPONENT,
    MAX_DEGREE,
    MAX_EXPRESSION_CHARS,
    MAX_TERMS,
    Size,
    measure,
    read_expression,
    safe_sympify,
)

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_CONSTANT_BITS",
    "MAX_CONSTANT_EXPONENT",
    "MAX_DEGREE",
    "MAX_EXPRESSION_CHARS",
    "MAX_TERMS",
    "Size",
    "measure",
    "read_expression",
    "safe_sympify",
]
