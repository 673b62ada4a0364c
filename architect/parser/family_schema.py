"""What a named model family is: its equations, parameters, defaults, domains, notes and variants.

A `Family` is data. Its equations are written in the same language users type (``dr = kappa*(theta
- r)*dt + sigma*sqrt(r)*dW``), so the catalog and the equation reader share one dt/dW split. Some
families choose the *form* of their equations from the values (`Family.equations` may be a
function of them): a shape exponent such as SABR's beta is fixed into the equations so the scheme
can be read off the power (1/2 -> a square root, simulated with full truncation).

`Jumps` describes a compound-Poisson part (`SdeModel.jumps`): which variable jumps, the size law, and
which of the family's parameters are the intensity and the size law's parameters (docs/models.md,
"Jump families").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from architect.model import JumpPart, Parameter, symbol

Values = Mapping[str, float]
#: A check on the values that returns a note (never an error), e.g. the Feller condition.
Check = Callable[[Values], str | None]
#: A rule on the values that returns an error (the value that breaks it, and why), or None.
Rule = Callable[[Values], tuple[str, str] | None]


@dataclass(frozen=True)
class Alias:
    """Another way to set a value, e.g. ``S0`` for a model written in x = log S."""

    name: str
    target: str  # a parameter name or an initial value name ("x0")
    convert: Callable[[float], float]
    description: str
    positive: bool = False  # the typed value must be > 0 (a price, a rate under a logarithm)


@dataclass(frozen=True)
class Shape:
    """An exponent fixed into the equations (SABR's beta, CEV's gamma); overridable like a parameter."""

    name: str
    value: float
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class Jumps:
    """A compound-Poisson jump part of one state variable; its parameters are among the family's."""

    variable: str
    law: str  # a key of `architect.model.JUMP_LAWS`: "normal" (Merton 1976) or "double-exponential" (Kou 2002)
    intensity: str  # the parameter that is the jump rate
    size: tuple[str, ...]  # the parameters of the size law, in `JUMP_LAWS` order
    equation: str  # the jump term in words, for docs and messages
    diffusion_part: str  # the catalog key of the same model without jumps

    def part(self) -> JumpPart:
        return JumpPart(self.variable, symbol(self.intensity), self.law, tuple(symbol(n) for n in self.size))


@dataclass(frozen=True)
class Family:
    key: str  # slug, unique
    display_name: str  # becomes SdeModel.name
    synonyms: tuple[str, ...]  # what users type; the first is the spelling shown in lists
    description: str
    equations: str | Callable[[Values], str]  # one equation per state variable, in state order
    parameters: tuple[Parameter, ...]
    initial: tuple[tuple[str, float], ...]  # (state variable, default initial value), in state order
    references: str  # where the equations and the defaults come from
    domain: Mapping[str, str] | Callable[[Values], Mapping[str, str]] = field(default_factory=dict)
    correlations: tuple[tuple[str, str, str], ...] = ()  # (W1, W2, parameter name)
    notes: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    rules: tuple[Rule, ...] = ()
    aliases: tuple[Alias, ...] = ()
    shapes: tuple[Shape, ...] = ()
    jumps: Jumps | None = None
    features: frozenset[str] = frozenset()  # modifiers the family already has ("mean-reversion", ...)
    variants: Mapping[str, str] = field(default_factory=dict)  # modifier -> key of the family it leads to

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def label(self) -> str:
        return self.synonyms[0]

    @property
    def state(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.initial)

    def initial_names(self) -> tuple[str, ...]:
        return tuple(f"{name}0" for name, _ in self.initial)

    def generic_initial_alias(self) -> str | None:
        """``X0`` names the one state variable's initial value of a one-factor model, whatever it is called."""
        if len(self.initial) == 1 and self.initial[0][0] != "X" and "X0" not in self.own_names():
            return "X0"
        return None

    def own_names(self) -> tuple[str, ...]:
        return (
            *(p.name for p in self.parameters),
            *(s.name for s in self.shapes),
            *self.initial_names(),
            *(a.name for a in self.aliases),
        )

    def override_names(self) -> tuple[str, ...]:
        generic = self.generic_initial_alias()
        return (*self.own_names(), generic) if generic else self.own_names()

    def defaults(self) -> dict[str, float]:
        values = {p.name: p.value for p in self.parameters} | {s.name: s.value for s in self.shapes}
        return values | {f"{name}0": value for name, value in self.initial}

    def equations_for(self, values: Values) -> str:
        return self.equations(values) if callable(self.equations) else self.equations

    def domain_for(self, values: Values) -> Mapping[str, str]:
        return self.domain(values) if callable(self.domain) else self.domain

    @property
    def correlation_parameters(self) -> tuple[str, ...]:
        return tuple(rho for _, _, rho in self.correlations)


# ---------------------------------------------------------------------------- helpers for the catalog
def p(name: str, value: float, constraint: str, description: str) -> Parameter:
    return Parameter(name, value, constraint, description)


def feller_check(kappa: str, theta: str, sigma: str, variable: str) -> Check:
    """Note (not refuse) when 2 kappa theta < sigma^2: the square-root process then reaches zero."""

    def check(values: Values) -> str | None:
        lhs, rhs = 2 * values[kappa] * values[theta], values[sigma] ** 2
        if lhs >= rhs:
            return None
        return (
            f"the Feller condition 2*{kappa}*{theta} >= {sigma}^2 fails ({lhs:g} < {rhs:g}): {variable} can reach "
            "zero; the simulator truncates it at zero (full truncation)"
        )

    return check


def within(name: str, low: float, high: float, why: str) -> Rule:
    """A rule: ``low <= value <= high``."""

    def rule(values: Values) -> tuple[str, str] | None:
        value = values[name]
        if low <= value <= high:
            return None
        return name, f"{name} must lie in [{low:g}, {high:g}] ({why}), got {value:g}"

    return rule


def exact(value: float) -> Fraction:
    """The exact rational a typed decimal means: 0.5 -> 1/2, 1.4999 -> 14999/10000."""
    return Fraction(repr(float(value))).limit_denominator(10**12)


def power(variable: str, exponent: float) -> str:
    """``variable^exponent`` in the equation language, in the form our schemes simulate safely.

    0 -> ``1``; 1 -> ``X``; other integers -> ``X^k``; 1/2 -> ``sqrt(X)`` (full truncation keeps
    the variable non-negative); any other fraction -> ``max(X, 0)^(p/q)``, which stays finite when an
    Euler step crosses zero (the variable is then held at zero by a zero diffusion).
    """
    q = exact(exponent)
    if q == 0:
        return "1"
    if q == 1:
        return variable
    if q.denominator == 1:
        return f"{variable}^({q.numerator})"
    if q == Fraction(1, 2):
        return f"sqrt({variable})"
    return f"max({variable}, 0)^({q.numerator}/{q.denominator})"


def power_domain(exponent: float) -> str:
    """The domain of a variable whose noise is ``X^exponent``: 0 -> real, 1 -> positive, else non-negative.

    Exponents above 1 keep zero unattainable (the variable stays positive); exponents in (0, 1) let it
    reach zero, where the square root or the ``max(X, 0)`` form holds it.
    """
    q = exact(exponent)
    if q == 0:
        return "real"
    if q >= 1:
        return "positive"
    return "nonnegative"


def shape_note(shape: Shape, values: Values) -> str:
    q = exact(values[shape.name])
    shown = str(q) if q.denominator < 1000 else f"{float(q):g}"
    return (
        f"{shape.name} = {shown} is a shape exponent: it is fixed into the equations (so the scheme can be "
        f"chosen from the power) rather than listed as a parameter; override it like one, e.g. {shape.name}=0.7"
    )


LOG_100 = math.log(100.0)
