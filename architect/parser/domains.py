"""Which values a state variable can take, from where its coefficients are defined (sign analysis).

A variable is constrained only where a coefficient is undefined outside a region, and then to
that region: ``sqrt(g(X))`` (any fractional or symbolic power) needs ``g(X) >= 0``, ``log(g(X))``
needs ``g(X) > 0``. Each condition is solved for X with sympy (`solve_univariate_inequality`), the
parameters carrying their constraints as assumptions (``sigma`` positive, ...); where that is not
enough, their values are substituted. So ``sqrt(X)`` gives X >= 0, ``sqrt(4 + X^2)`` nothing,
``sqrt(X*(1 - X))`` (Jacobi, Wright-Fisher) [0, 1]. Then:

- the region is [0, oo) -> ``nonnegative``; (0, oo) -> ``positive``; everything -> ``real``;
- a closed bounded region with numeric ends, such as [0, 1] -> that interval, ``"[0, 1]"``
  (`architect.model.interval_domain`): both ends kept, the scheme truncates at both;
- another bounded region (an open end, or ends that move with the parameters' values): the strongest
  named constraint is kept (``nonnegative`` for (0, 1]) and the reason says what is lost;
- drift and every diffusion entry proportional to the variable, some noise -> ``positive``
  (geometric Brownian motion: it can never reach zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.solvers.inequalities import solve_univariate_inequality

from architect.model import interval_domain, interval_of, symbol

MAX_DEGREE = 4  # conditions of higher degree (or not polynomial) fall back to the shape rule
_NONNEGATIVE = sp.Interval(0, sp.oo)
_POSITIVE = sp.Interval.open(0, sp.oo)
_NON_FINITE = (sp.zoo, sp.nan, sp.oo, sp.S.NegativeInfinity)


def infer_domain(
    name: str,
    drift: sp.Expr,
    diffusion: tuple[sp.Expr, ...],
    others: Sequence[sp.Expr] = (),
    constraints: Mapping[str, str] | None = None,
    values: Mapping[str, float] | None = None,
) -> tuple[str, str]:
    """(domain, the reason in words; empty for ``real``).

    ``others``: the other equations' coefficients (a square root of X there binds X too);
    ``constraints`` and ``values``: the parameters' constraints and values, for the sign analysis.
    """
    x = symbol(name)
    region, why = defined_region(
        x, (drift, *diffusion, *others), constraints or {}, values or {}, own=1 + len(diffusion)
    )
    noisy = any(entry != 0 for entry in diffusion)
    proportional = noisy and _proportional(drift, x) and all(_proportional(entry, x) for entry in diffusion)
    if (closed := _closed_interval(region)) is not None:
        fixed, _ = defined_region(x, (drift, *diffusion, *others), constraints or {}, {}, own=1 + len(diffusion))
        if fixed == region:  # its ends do not move with the parameters' values (which --set may change)
            return closed, why
    if region == sp.S.Reals or region is None:
        if proportional:
            return "positive", f"its drift and diffusion are proportional to {name}"
        return "real", ""
    if region == _POSITIVE or (proportional and region == _NONNEGATIVE):
        reason = why if region == _POSITIVE else f"{why}, and its drift and diffusion are proportional to {name}"
        return "positive", reason
    if region == _NONNEGATIVE:
        return "nonnegative", why
    if region.is_subset(_NONNEGATIVE):
        lost = (
            f"{name} must lie in {_shown(region)}; a model's domain is real, positive, non-negative or a closed "
            f"interval with fixed ends, so {name} is kept non-negative and the rest of the bound is left to the "
            "dynamics"
        )
        return "nonnegative", f"{why}: {lost}"
    return (
        "real",
        f"{why}: {name} must lie in {_shown(region)}, which a model's domain cannot express; it is not enforced",
    )


def _closed_interval(region: sp.Set | None) -> str | None:
    """The domain ``"[a, b]"`` of a closed bounded interval with numeric ends, else None."""
    if not isinstance(region, sp.Interval) or region.left_open or region.right_open:
        return None
    if not (region.start.is_number and region.end.is_number and region.start.is_finite and region.end.is_finite):
        return None
    return interval_domain(float(region.start), float(region.end))


def defined_region(
    x: sp.Symbol,
    expressions: Sequence[sp.Expr],
    constraints: Mapping[str, str],
    values: Mapping[str, float],
    own: int = 0,
) -> tuple[sp.Set | None, str]:
    """Where every coefficient is defined, as a set of values of ``x`` (None: unknown), and why."""
    region: sp.Set = sp.S.Reals
    reasons: list[str] = []
    seen: set[sp.Rel] = set()
    for condition, words in _conditions(x, expressions, own):
        if condition in seen:
            continue
        seen.add(condition)
        solved = _solve(condition, x, constraints, values)
        if solved is None:
            continue
        if solved != sp.S.Reals:
            region = region.intersect(solved)
            reasons.append(words)
    return region, "; ".join(dict.fromkeys(reasons))


def _conditions(x: sp.Symbol, expressions: Sequence[sp.Expr], own: int) -> list[tuple[sp.Rel, str]]:
    """(condition on x, why) for each root or log of an expression in x; ``own``: how many of the
    expressions (from the first) are the variable's own coefficients."""
    found: list[tuple[sp.Rel, str]] = []
    for index, expr in enumerate(expressions):
        for power in expr.atoms(sp.Pow):
            if power.base.has(x) and not power.exp.is_integer:
                strict = bool(power.exp.is_negative)
                condition = power.base > 0 if strict else power.base >= 0
                what = "a square root" if power.exp == sp.Rational(1, 2) else f"the power {power.exp}"
                sign = "positive" if strict else "non-negative"
                why = f"{power.base} is under {what}, defined only where it is {sign}"
                if power.base == x and not strict and 0 < index < own:
                    why = "it appears under a square root (or another fractional power) in its own diffusion"
                found.append((condition, why))
        for log in expr.atoms(sp.log):
            if log.args[0].has(x):
                found.append((log.args[0] > 0, f"log({log.args[0]}) is defined only where {log.args[0]} is positive"))
    return found


def _solve(
    condition: sp.Rel, x: sp.Symbol, constraints: Mapping[str, str], values: Mapping[str, float]
) -> sp.Set | None:
    """The values of x where ``condition`` holds, or None when it cannot be decided for x alone.

    Never raises: sympy's relations, ``Max``/``Min`` and inequality solver refuse ``zoo``, ``oo`` and
    ``nan`` (a ``log(0)`` once the values are in) with TypeError or ValueError; such a condition is
    left undecided (`undefined_part` reports the coefficient itself).
    """
    try:
        return _solve_unguarded(condition, x, constraints, values)
    except (TypeError, ValueError, NotImplementedError, ArithmeticError):
        return None


def _solve_unguarded(
    condition: sp.Rel, x: sp.Symbol, constraints: Mapping[str, str], values: Mapping[str, float]
) -> sp.Set | None:
    real_x = sp.Dummy(x.name, real=True)
    others = {s: _assumed(s, constraints) for s in condition.free_symbols if s != x}
    attempt = condition.subs({x: real_x, **others})
    if not isinstance(attempt, sp.Rel):
        return sp.S.Reals if attempt == sp.true else sp.S.EmptySet
    difference = attempt.lhs - attempt.rhs
    strict = isinstance(attempt, sp.StrictGreaterThan)
    if (difference.is_positive if strict else difference.is_nonnegative) is True:
        return sp.S.Reals
    for candidate in (attempt, attempt.subs({v: values[str(k)] for k, v in others.items() if str(k) in values})):
        if _non_finite(candidate):
            return None
        if not isinstance(candidate, sp.Rel):
            return sp.S.Reals if candidate == sp.true else sp.S.EmptySet
        if candidate.free_symbols != {real_x}:
            continue
        expr = candidate.lhs - candidate.rhs
        if not expr.is_polynomial(real_x) or sp.degree(expr, real_x) > MAX_DEGREE:
            return _shape_rule(expr, real_x)
        try:
            solved = solve_univariate_inequality(candidate, real_x, relational=False)
        except (NotImplementedError, ValueError, TypeError):
            continue
        if isinstance(solved, sp.Set) and solved.free_symbols <= {real_x}:
            return solved
    return None


def _non_finite(expr: sp.Basic) -> bool:
    return bool(expr.has(*_NON_FINITE))


def undefined_part(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr]) -> str | None:
    """The first piece of ``expr`` that is undefined (``zoo``, ``oo``, ``nan``) once ``values`` are
    substituted, shown with them and the values that make it so (``log(0), with lam = 0``); None
    when every piece is defined.

    Built bottom-up, so the piece named is the innermost one: ``log(lam/X)`` with lam = 0 is ``log(0)``.
    Numbers holding a function of numbers are carried as floats (`_as_float`), so a tower such as
    ``exp(exp(...exp(0)))`` costs a float operation a level; where a float overflows, the rest of the
    expression is left undecided (None), as it was before this check existed.
    """
    found: list[str] = []

    def undefined(node: sp.Basic, shown: str) -> None:
        used = sorted((s for s in node.free_symbols if s in values), key=str)
        given = ", ".join(f"{s} = {float(values[s]):g}" for s in used)
        found.append(f"{shown}, with {given}" if given else shown)

    def visit(node: sp.Basic) -> sp.Basic | None:
        if not node.args:
            value = values.get(node, node)
            if _non_finite(value):
                undefined(node, str(value))
                return None
            return value
        args = []
        for arg in node.args:
            if (value := visit(arg)) is None:
                return None
            args.append(value)
        try:
            result = node.func(*args)
        except (TypeError, ValueError, NotImplementedError, ArithmeticError):
            result = sp.nan
        if _non_finite(result):
            undefined(node, _shown_unevaluated(node, args))
            return None
        return _as_float(result)

    try:
        visit(expr)
    except _Undecided:
        return None
    return found[0] if found else None


class _Undecided(Exception):
    """A number too large for a float: whether the expression is defined is not decided."""


def _as_float(value: sp.Basic) -> sp.Basic:
    """A number that holds a function of numbers (``exp(E)``, ``log(3)``) as a float; a float beyond
    the double range raises `_Undecided`; anything else unchanged.

    Exact arithmetic on nested functions of numbers grows without bound (sympy's assumptions on
    ``exp(exp(exp(E)))`` evaluate the whole tower at rising precision). Rationals, ``pi``, ``E`` and
    roots stay exact, so ``log(0)`` and ``1/sin(pi)`` are still found.
    """
    if value.free_symbols or not value.is_number or not (value.is_Float or value.atoms(sp.Function)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):  # complex: left exact
        return value
    except OverflowError as exc:
        raise _Undecided from exc
    if not math.isfinite(number):  # exp of a large float: mpmath goes on, a double cannot
        raise _Undecided
    return value if value.is_Float else sp.Float(number)


def _shown_unevaluated(node: sp.Basic, args: list[sp.Basic]) -> str:
    try:
        return str(node.func(*args, evaluate=False))
    except (TypeError, ValueError, NotImplementedError, ArithmeticError):
        return f"{node.func.__name__}({', '.join(map(str, args))})"


def _shape_rule(expr: sp.Expr, x: sp.Symbol) -> sp.Set | None:
    """Non-polynomial conditions: only ``c*x`` (c positive) is decided: x >= 0."""
    coefficient, rest = expr.as_independent(x, as_Add=False)
    if rest == x and coefficient.is_positive:
        return _NONNEGATIVE
    return None


def _assumed(s: sp.Symbol, constraints: Mapping[str, str]) -> sp.Dummy:
    constraint = constraints.get(s.name, "real")
    if constraint == "positive":
        return sp.Dummy(s.name, positive=True)
    if constraint == "nonnegative":
        return sp.Dummy(s.name, nonnegative=True)
    return sp.Dummy(s.name, real=True)


def _shown(region: sp.Set) -> str:
    if isinstance(region, sp.Interval):
        left = "(" if region.left_open else "["
        right = ")" if region.right_open else "]"
        return f"{left}{region.start}, {region.end}{right}"
    return str(region)


def domain_problem(name: str, domain: str, why: str, value: float) -> str | None:
    """Why the initial value ``value`` does not fit ``domain``, or None."""
    if domain == "positive" and not value > 0:
        return f"{name}0 must be positive ({name} is kept positive: {why}), got {value:g}"
    if domain == "nonnegative" and not value >= 0:
        return f"{name}0 must be non-negative ({name} is kept non-negative: {why}), got {value:g}"
    if (bounds := interval_of(domain)) is not None and not bounds[0] <= value <= bounds[1]:
        return f"{name}0 must lie in {domain} ({why}), got {value:g}"
    return None


def region_problem(name: str, region: sp.Set | None, value: float) -> str | None:
    """Why ``value`` lies outside the region where the coefficients are defined, or None."""
    if region is None or region == sp.S.Reals or region.contains(sp.Float(value)) is not sp.false:
        return None
    return f"{name}0 = {value:g} lies outside {_shown(region)}, where the coefficients are defined"


def _proportional(expr: sp.Expr, x: sp.Symbol) -> bool:
    """expr = c * x with c free of x (zero counts)."""
    if expr == 0:
        return True
    _, dependent = sp.factor_terms(expr).as_independent(x, as_Add=False)
    return dependent == x
