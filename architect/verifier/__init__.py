"""Statistical verification of compiled SDE simulators against exact moments.

The names below, and the submodules as attributes (``verifier.runs``), are loaded on first use
(PEP 562): the verifier needs scipy.stats, about 0.6 s of imports, and `architect generate` imports
it while cargo compiles the crate rather than before (docs/performance.md, "End to end").
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from architect.verifier.check_result import Check
    from architect.verifier.report import render_markdown, write_report
    from architect.verifier.sample import SampleError, parse_stats
    from architect.verifier.theory import NotPolynomial, PolynomialMoments
    from architect.verifier.verdict import Verification, holm, verify

#: Exported name -> the submodule that defines it.
_EXPORTS = {
    "Check": "check_result",
    "Verification": "verdict",
    "holm": "verdict",
    "verify": "verdict",
    "render_markdown": "report",
    "write_report": "report",
    "SampleError": "sample",
    "parse_stats": "sample",
    "NotPolynomial": "theory",
    "PolynomialMoments": "theory",
}

__all__ = [
    "Check",
    "NotPolynomial",
    "PolynomialMoments",
    "SampleError",
    "Verification",
    "holm",
    "parse_stats",
    "render_markdown",
    "verify",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # the import binds it as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
