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


def _register_envs() -> None:
    """Register the gym's environments (architect/Trading-v0, architect/Hedging-v0) when Gymnasium is
    installed (the ``gym`` extra), so ``gymnasium.make`` finds them after ``import architect``."""
    import contextlib
    import importlib.util

    try:
        installed = importlib.util.find_spec("gymnasium") is not None
    except (ImportError, ValueError):  # hidden from imports (sys.modules["gymnasium"] = None)
        installed = False
    if installed:
        # A Gymnasium older than 1.0 is a UsageError when architect.envs is imported; here it is skipped.
        with contextlib.suppress(UsageError):
            import architect.envs  # noqa: F401  (registers on import)


_register_envs()

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
