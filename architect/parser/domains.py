"""Which values a state variable can take, read off the shape of its own equation.

- under a square root (any fractional or symbolic power) in its own diffusion -> ``nonnegative``
  (CIR, the Heston variance);
- drift and every diffusion entry proportional to the variable, some noise -> ``positive``
  (geometric Brownian motion: it can never reach zero);
- anything else -> ``real``.
"""

from __future__ import annotations

import sympy as sp

from architect.model import symbol


def infer_domain(name: str, drift: sp.Expr, diffusion: tuple[sp.Expr, ...]) -> tuple[str, str]:
    """(domain, the reason in words; empty for ``real``)."""
    x = symbol(name)
    if any(_under_fractional_power(entry, x) for entry in diffusion):
        return "nonnegative", "it appears under a square root (or another fractional power) in its own diffusion"
    noisy = any(entry != 0 for entry in diffusion)
    if noisy and _proportional(drift, x) and all(_proportional(entry, x) for entry in diffusion):
        return "positive", f"its drift and diffusion are proportional to {name}"
    return "real", ""


def domain_problem(name: str, domain: str, why: str, value: float) -> str | None:
    """Why the initial value ``value`` does not fit ``domain``, or None."""
    if domain == "positive" and not value > 0:
        return f"{name}0 must be positive ({name} is kept positive: {why}), got {value:g}"
    if domain == "nonnegative" and not value >= 0:
        return f"{name}0 must be non-negative ({name} is kept non-negative: {why}), got {value:g}"
    return None


def _under_fractional_power(expr: sp.Expr, x: sp.Symbol) -> bool:
    return any(power.base.has(x) and not power.exp.is_integer for power in expr.atoms(sp.Pow))


def _proportional(expr: sp.Expr, x: sp.Symbol) -> bool:
    """expr = c * x with c free of x (zero counts)."""
    if expr == 0:
        return True
    _, dependent = sp.factor_terms(expr).as_independent(x, as_Add=False)
    return dependent == x
