"""architect: you do the math, we do the code.

import architect
model = architect.parser("CIR kappa=1.5")
result = architect.generate("Heston with mean reversion")
result.passed, result.binary, result.report
"""

from architect.api import Options, Result, generate, parse, verify
from architect.errors import ArchitectError, BuildError, ModelError, ParseError, RunError, UsageError
from architect.model import Parameter, SdeModel
from architect.version import __version__

__all__ = [
    "ArchitectError",
    "BuildError",
    "ModelError",
    "Options",
    "Parameter",
    "ParseError",
    "Result",
    "RunError",
    "SdeModel",
    "UsageError",
    "__version__",
    "generate",
    "parse",
    "verify",
]
