"""Named model families: ``GBM``, ``CIR kappa=1.5 theta=0.05``, ``Heston with mean reversion``...

Each `Family` is written in the same equation language users type, so the catalog and the
equation reader share one dt/dW split. Names are matched case-insensitively, ignoring
punctuation, hyphens, dashes and filler words ("model", "process"). Overrides follow the name:
``name = value``, ``X0 = value`` or ``X(0) = value``, separated by spaces, commas, semicolons,
newlines, ``where``, ``with`` or ``and``.

To add a family: append a `Family` to `FAMILIES` (parameters with constraints and one-line
descriptions, realistic defaults with their source, a domain per constrained state variable).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import sympy as sp

from architect.errors import ModelError, ParseError
from architect.model import Parameter, SdeModel, symbol
from architect.parser.equations import System, read_statements, read_system
from architect.parser.lexer import Kind, Token, check_brackets, tokenize
from architect.parser.statements import (
    Assignment,
    Equation,
    InitialValue,
    first_assignment_start,
    matching_open,
    strip_time_suffix,
)
from architect.parser.values import numeric_value

#: A check on the parameter values that returns a note (never an error), e.g. the Feller condition.
Check = Callable[[Mapping[str, float]], str | None]


@dataclass(frozen=True)
class Alias:
    """Another way to set a value, e.g. ``S0`` for a model written in x = log S."""

    name: str
    target: str  # a parameter name or an initial value name ("x0")
    convert: Callable[[float], float]
    description: str


@dataclass(frozen=True)
class Family:
    key: str  # slug, unique
    display_name: str  # becomes SdeModel.name
    synonyms: tuple[str, ...]  # what users type; the first is the spelling shown in lists
    description: str
    equations: str  # in the equation language, one equation per state variable
    parameters: tuple[Parameter, ...]
    initial: tuple[tuple[str, float], ...]  # (state variable, default initial value), in state order
    domain: Mapping[str, str] = field(default_factory=dict)  # state variable -> domain, where not "real"
    correlations: tuple[tuple[str, str, str], ...] = ()  # (W1, W2, parameter name)
    notes: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    aliases: tuple[Alias, ...] = ()

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def label(self) -> str:
        return self.synonyms[0]

    def initial_names(self) -> tuple[str, ...]:
        return tuple(f"{name}0" for name, _ in self.initial)

    def override_names(self) -> tuple[str, ...]:
        return (*(p.name for p in self.parameters), *self.initial_names(), *(a.name for a in self.aliases))


def feller_check(kappa: str, theta: str, sigma: str, variable: str) -> Check:
    """Note (not refuse) when 2 kappa theta < sigma^2: the square-root process then reaches zero."""

    def check(values: Mapping[str, float]) -> str | None:
        lhs, rhs = 2 * values[kappa] * values[theta], values[sigma] ** 2
        if lhs >= rhs:
            return None
        return (
            f"the Feller condition 2*{kappa}*{theta} >= {sigma}^2 fails ({lhs:g} < {rhs:g}): {variable} can reach "
            "zero; the simulator truncates it at zero (full truncation)"
        )

    return check


def _p(name: str, value: float, constraint: str, description: str) -> Parameter:
    return Parameter(name, value, constraint, description)


LOG_100 = math.log(100.0)

# Defaults: equity (GBM, Heston) after Hull, "Options, Futures and Other Derivatives" (mu 5%, vol 20%,
# S0 = 100); Heston after Heston (1993) and the typical equity calibrations in Gatheral, "The Volatility
# Surface" (2006): kappa ~ 2, theta ~ v0 ~ 0.04 (20% vol), vol of vol ~ 0.3, rho ~ -0.7; short rates
# (Vasicek 1977, CIR 1985) after Brigo & Mercurio, "Interest Rate Models" (2006): rates of 3-5%,
# absolute rate vol ~ 1% (Vasicek), sigma ~ 0.1 in sqrt(r) units (CIR).
_MU = _p("mu", 0.05, "real", "drift: expected return per year")
_SIGMA = _p("sigma", 0.2, "positive", "volatility per square root of a year")
_HESTON_VARIANCE = (
    _p("kappa", 2.0, "positive", "speed of mean reversion of the variance"),
    _p("theta", 0.04, "nonnegative", "long-run variance (0.04 = 20% volatility)"),
    _p("xi", 0.3, "positive", "volatility of the variance (vol of vol)"),
    _p("rho", -0.7, "correlation", "correlation between the price and variance shocks"),
)
_S0_ALIAS = Alias("S0", "x0", math.log, "initial price; sets x0 = log(S0)")
_HESTON_FELLER = feller_check("kappa", "theta", "xi", "the variance v")

FAMILIES: tuple[Family, ...] = (
    Family(
        key="gbm",
        display_name="Geometric Brownian motion",
        synonyms=(
            "GBM",
            "geometric Brownian motion",
            "Black-Scholes",
            "Black-Scholes-Merton",
            "geometric BM",
            "lognormal",
        ),
        description="Black-Scholes stock price: constant drift and volatility; always positive",
        equations="dS = mu*S*dt + sigma*S*dW",
        parameters=(_MU, _SIGMA),
        initial=(("S", 100.0),),
        domain={"S": "positive"},
    ),
    Family(
        key="abm",
        display_name="Arithmetic Brownian motion",
        synonyms=("ABM", "arithmetic Brownian motion", "Bachelier", "Brownian motion with drift", "Brownian motion"),
        description="Bachelier model: Brownian motion with constant drift and volatility; can go negative",
        equations="dX = mu*dt + sigma*dW",
        parameters=(_p("mu", 0.05, "real", "drift per year"), _p("sigma", 0.2, "positive", "volatility per year")),
        initial=(("X", 0.0),),
    ),
    Family(
        key="ou",
        display_name="Ornstein-Uhlenbeck",
        synonyms=("OU", "Ornstein-Uhlenbeck", "OU process", "mean-reverting Gaussian"),
        description="Gaussian process pulled back to theta at speed kappa",
        equations="dX = kappa*(theta - X)*dt + sigma*dW",
        parameters=(
            _p("kappa", 2.0, "positive", "speed of mean reversion (half-life log(2)/kappa years)"),
            _p("theta", 0.05, "real", "long-run mean"),
            _p("sigma", 0.2, "positive", "volatility"),
        ),
        initial=(("X", 0.0),),
    ),
    Family(
        key="vasicek",
        display_name="Vasicek",
        synonyms=("Vasicek", "Vasicek short rate"),
        description="Vasicek (1977) short rate: Ornstein-Uhlenbeck, Gaussian, can go negative",
        equations="dr = kappa*(theta - r)*dt + sigma*dW",
        parameters=(
            _p("kappa", 2.0, "positive", "speed of mean reversion"),
            _p("theta", 0.05, "real", "long-run rate"),
            _p("sigma", 0.01, "positive", "absolute rate volatility (0.01 = 100 bp per year)"),
        ),
        initial=(("r", 0.03),),
    ),
    Family(
        key="cir",
        display_name="Cox-Ingersoll-Ross",
        synonyms=("CIR", "Cox-Ingersoll-Ross", "CIR short rate", "square-root process", "square-root diffusion"),
        description="Cox-Ingersoll-Ross (1985) short rate: mean-reverting square-root diffusion; never negative",
        equations="dr = kappa*(theta - r)*dt + sigma*sqrt(r)*dW",
        parameters=(
            _p("kappa", 2.0, "positive", "speed of mean reversion"),
            _p("theta", 0.04, "nonnegative", "long-run rate"),
            _p("sigma", 0.1, "positive", "volatility coefficient of sqrt(r)"),
        ),
        initial=(("r", 0.03),),
        domain={"r": "nonnegative"},
        checks=(feller_check("kappa", "theta", "sigma", "r"),),
    ),
    Family(
        key="heston",
        display_name="Heston",
        synonyms=("Heston", "Heston stochastic volatility", "Heston SV"),
        description="Heston (1993) stochastic volatility: log-price x with CIR variance v, correlated shocks",
        equations="dx = (mu - v/2)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2",
        parameters=(_MU, *_HESTON_VARIANCE),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "nonnegative"},
        correlations=(("W1", "W2", "rho"),),
        notes=(
            "the price is modelled as its logarithm x = log S (so S = exp(x)); x0 = log(100) means S0 = 100, "
            "and S0=... sets x0 = log(S0)",
        ),
        checks=(_HESTON_FELLER,),
        aliases=(_S0_ALIAS,),
    ),
    Family(
        key="heston-with-mean-reversion",
        display_name="Heston with mean reversion",
        synonyms=(
            "Heston with mean reversion",
            "Heston mean reversion",
            "Heston with mean-reverting price",
            "mean-reverting Heston",
            "Heston mean-reverting",
            "Schwartz-Heston",
        ),
        description="Heston stochastic variance with a mean-reverting (Ornstein-Uhlenbeck, Schwartz-style) log-price",
        equations="dx = kappa_x*(theta_x - x)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2",
        parameters=(
            _p("kappa_x", 1.0, "positive", "speed of mean reversion of the log-price"),
            _p("theta_x", LOG_100, "real", "long-run log-price (log(100): prices revert to about 100)"),
            *_HESTON_VARIANCE,
        ),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "nonnegative"},
        correlations=(("W1", "W2", "rho"),),
        notes=(
            "interpretation: 'Heston with mean reversion' is read as Heston's stochastic variance v (which "
            "already mean-reverts) plus a mean-reverting log-price x = log S, as in Schwartz (1997) commodity "
            "models: dx = kappa_x*(theta_x - x) dt + sqrt(v) dW1; the price reverts to exp(theta_x)",
            "for the plain Heston model (log-price drift mu - v/2, no mean reversion of the price) type 'heston'",
            "override any value after the name, e.g. 'Heston with mean reversion kappa_x=0.5 theta_x=4.7 "
            "rho=-0.5 v0=0.09' (S0=... sets x0 = log(S0))",
        ),
        checks=(_HESTON_FELLER,),
        aliases=(_S0_ALIAS,),
    ),
)

#: Words that carry no meaning in a model name.
FILLER_WORDS = frozenset({"model", "process", "the", "a", "an", "of", "sde", "dynamics"})
#: Words that may sit between the name and the overrides ("GBM with mu=0.1").
TRAILING_WORDS = frozenset({"with", "where", "and", "using", "for", "params", "parameters"})


# ---------------------------------------------------------------------------- lookup
def normalise(phrase: str) -> str:
    """The matching key of a model name: lower case, no punctuation or filler words."""
    words = re.findall(r"[a-z0-9]+", phrase.lower().replace("'s", "").replace("\u2019s", ""))
    words = [w for w in words if w not in FILLER_WORDS]
    while words and words[-1] in TRAILING_WORDS:
        words.pop()
    return "".join(words)


@cache
def _by_key() -> dict[str, Family]:
    return {normalise(name): family for family in FAMILIES for name in (family.key, *family.synonyms)}


def names() -> tuple[str, ...]:
    """The canonical spelling of every family, in catalog order."""
    return tuple(family.label for family in FAMILIES)


def find(phrase: str) -> Family | None:
    """The family ``phrase`` names, or None."""
    return _by_key().get(normalise(phrase))


def family(phrase: str) -> Family:
    """The family ``phrase`` names; ParseError listing the known ones otherwise."""
    found = find(phrase)
    if found is None:
        raise ParseError(unknown_model_reason(phrase))
    return found


def unknown_model_reason(phrase: str) -> str:
    shown = " ".join(phrase.split())
    close = _close_families(phrase)
    hint = f"; did you mean {' or '.join(repr(f.label) for f in close)}?" if close else "."
    return f"unknown model {shown!r}{hint} Known models: {', '.join(names())}"


def _close_families(phrase: str) -> list[Family]:
    keys = _by_key()
    candidates = []
    for word in re.findall(r"[a-z0-9]+", phrase.lower()):
        candidates += difflib.get_close_matches(word, keys, n=2, cutoff=0.75)
    candidates += difflib.get_close_matches(normalise(phrase), keys, n=3, cutoff=0.6)
    return list(dict.fromkeys(keys[c] for c in candidates))[:3]


# ---------------------------------------------------------------------------- building
@cache
def system_of(family: Family) -> System:
    text = family.equations
    statements = read_statements(text, tokenize(text))
    assert all(isinstance(s, Equation) for s in statements), family.key
    return read_system([s for s in statements if isinstance(s, Equation)], text)


def build(family: Family, overrides: Mapping[str, float] | None = None, source: str = "") -> SdeModel:
    """The family's model with some values replaced (parameter names, ``X0`` names or aliases)."""
    values = {p.name: p.value for p in family.parameters} | {f"{n}0": v for n, v in family.initial}
    for name, value in (overrides or {}).items():
        target, converted = _resolve_override(family, name, value)
        values[target] = converted
    system = system_of(family)
    noises = system.noises
    correlation = {frozenset((a, b)): symbol(rho) for a, b, rho in family.correlations}
    notes = [*family.notes, *(note for check in family.checks if (note := check(values)) is not None)]
    return SdeModel(
        name=family.display_name,
        state=system.state,
        noises=noises,
        drift=system.drift,
        diffusion=system.diffusion,
        correlation=tuple(
            tuple(sp.Integer(1) if a == b else correlation.get(frozenset((a, b)), sp.Integer(0)) for b in noises)
            for a in noises
        ),
        parameters=tuple(Parameter(p.name, values[p.name], p.constraint, p.description) for p in family.parameters),
        initial=tuple(values[f"{name}0"] for name in system.state),
        domain=tuple(family.domain.get(name, "real") for name in system.state),
        source=source,
        notes=tuple(notes),
    )


def model(name: str, **overrides: float) -> SdeModel:
    """``model("cir", kappa=1.5)``: a family's model from Python; ModelError for a bad override."""
    chosen = family(name)
    for key, value in overrides.items():
        if (why := override_problem(chosen, key, value)) is not None:
            raise ModelError(why)
    return build(chosen, overrides, source=name)


def _resolve_override(family: Family, name: str, value: float) -> tuple[str, float]:
    for alias in family.aliases:
        if alias.name == name:
            return alias.target, alias.convert(value)
    if name not in family.override_names():
        raise ModelError(_unknown_override_reason(family, name))
    return name, value


def override_problem(family: Family, name: str, value: float) -> str | None:
    """Why ``name = value`` cannot override ``family``, or None."""
    if name not in family.override_names():
        return _unknown_override_reason(family, name)
    for alias in family.aliases:
        if alias.name == name:
            return None if value > 0 else f"{name} must be positive, got {value:g}"
    parameter = next((p for p in family.parameters if p.name == name), None)
    if parameter is not None:
        return Parameter(name, value, parameter.constraint).violation()
    variable = name[:-1]
    domain = family.domain.get(variable, "real")
    if domain == "positive" and not value > 0:
        return f"{name} must be positive ({variable} is a positive process), got {value:g}"
    if domain == "nonnegative" and not value >= 0:
        return f"{name} must be non-negative ({variable} cannot go below zero), got {value:g}"
    return None


def _unknown_override_reason(family: Family, name: str) -> str:
    known = family.override_names()
    close = difflib.get_close_matches(name, known, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
    return f"{family.display_name} has no parameter {name!r}{hint} Its values: {', '.join(known)}"


# ---------------------------------------------------------------------------- text
def parse_named(text: str, tokens: Sequence[Token]) -> SdeModel:
    """``CIR kappa=1.5, theta=0.05 sigma=0.1 r0=0.03``: a family name, then overrides."""
    check_brackets(tokens, text)
    phrase, rest = _name_and_overrides(text, tokens)
    if not normalise(phrase):
        reason = "expected a model name (e.g. 'heston') or equations (e.g. 'dX = mu*dt + sigma*dW') first"
        raise ParseError(reason, text, _first_visible(text))
    chosen = find(phrase)
    if chosen is None:
        raise ParseError(unknown_model_reason(phrase), text, _first_visible(text))
    overrides = _read_overrides(chosen, rest, text)
    return build(chosen, overrides, source=text)


def _name_and_overrides(text: str, tokens: Sequence[Token]) -> tuple[str, list[Token]]:
    """The model name's text, and the override tokens (ending with END) after it.

    Overrides start at the first ``name =``; ``GBM(mu=0.1, sigma=0.3)`` puts them in parentheses.
    """
    start = first_assignment_start(tokens)
    if start is not None:
        return text[: tokens[start].position], list(tokens[start:])
    end = tokens[-1]
    visible = [t for t in tokens[:-1] if t.kind is not Kind.NEWLINE]
    if len(visible) > 2 and visible[-1].is_op(")"):
        opening = matching_open(visible, len(visible) - 1)
        inner = visible[opening + 1 : -1]
        if opening > 0 and any(t.is_op("=") for t in inner):
            closing = visible[-1]
            return text[: visible[opening].position], [*inner, Token(Kind.END, "", closing.position, closing.position)]
    return text, [end]


def _read_overrides(chosen: Family, tokens: Sequence[Token], text: str) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for statement in read_statements(text, tokens):
        if isinstance(statement, Assignment):
            name = _override_name(chosen, statement.name)
        elif isinstance(statement, InitialValue):
            name = f"{strip_time_suffix(statement.variable)}0"
        else:
            reason = "after a model name only values like 'kappa = 2' can follow; this is not one"
            raise ParseError(reason, text, _statement_position(statement))
        if name not in chosen.override_names():
            raise ParseError(_unknown_override_reason(chosen, name), text, statement.position)
        if name in overrides:
            raise ParseError(f"{name} is given twice", text, statement.position)
        value = numeric_value(statement.value, text, name)
        if (why := override_problem(chosen, name, value)) is not None:
            raise ParseError(why, text, statement.value.start)
        overrides[name] = value
    return overrides


def _override_name(chosen: Family, name: str) -> str:
    """Accept ``r_0`` for ``r0`` and a case-insensitive match when it is unique (``Kappa``)."""
    known = chosen.override_names()
    if name in known:
        return name
    if name.endswith("_0") and name[:-2] + "0" in known:
        return name[:-2] + "0"
    folded = [k for k in known if k.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else name


def _statement_position(statement: object) -> int:
    position = getattr(statement, "position", None)
    return position if position is not None else getattr(statement, "first_position", 0)


def _first_visible(text: str) -> int:
    return len(text) - len(text.lstrip())
