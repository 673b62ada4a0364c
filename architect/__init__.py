"""architect: you do the math, we do the code.

import architect
model = architect.parser("CIR kappa=1.5")
result = architect.generate("Heston with mean reversion")
result.passed, result.binary, result.report
paths = result.simulator().paths(10_000, steps=200)   # (10000, 201, D) float64
"""

from architect.api import Options, Result, generate, parse, verify
from architect.errors import ArchitectError, BuildError, ModelError, ParseError, RunError, UsageError
from architect.model import Parameter, SdeModel
from architect.simulator import Simulator
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
    "Simulator",
    "UsageError",
    "__version__",
    "generate",
    "parse",
    "verify",
]
