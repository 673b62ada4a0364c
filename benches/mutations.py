"""Realistic bugs planted in models, to measure how many the verifier catches.

Each operator takes a correct `SdeModel` and returns mutants: the same model (same name,
state, parameters and initial values, so the binary still *claims* to be the original) with
the dynamics changed the way a hurried human or an LLM gets them wrong. The crate for a
mutant is printed by the symbolic compiler and then verified against the *original* model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import sympy as sp

from architect.errors import ModelError
from architect.model import SdeModel, symbol

VOLATILITY_NAMES = ("sigma", "xi", "eta", "vol", "nu", "alpha")


@dataclass(frozen=True)
class Mutant:
    operator: str
    description: str
    model: SdeModel


Operator = Callable[[SdeModel], Iterator[Mutant]]


def _with(model: SdeModel, **changes: object) -> SdeModel:
    return replace(model, **changes)


def _map_coefficients(model: SdeModel, f: Callable[[sp.Expr], sp.Expr]) -> SdeModel:
    return _with(
        model,
        drift=tuple(f(e) for e in model.drift),
        diffusion=tuple(tuple(f(e) for e in row) for row in model.diffusion),
    )


def flip_drift_sign(model: SdeModel) -> Iterator[Mutant]:
    for i, name in enumerate(model.state):
        if model.drift[i] != 0:
            drift = tuple(-e if k == i else e for k, e in enumerate(model.drift))
            yield Mutant("drift sign flipped", f"drift of {name} negated", _with(model, drift=drift))


def drop_term(model: SdeModel) -> Iterator[Mutant]:
    for i, name in enumerate(model.state):
        terms = sp.Add.make_args(sp.expand(model.drift[i]))
        for term in terms if len(terms) > 1 else ():
            drift = tuple(e - term if k == i else e for k, e in enumerate(model.drift))
            yield Mutant("term dropped", f"drift of {name} without {term}", _with(model, drift=drift))


def remove_sqrt(model: SdeModel) -> Iterator[Mutant]:
    for i, name in enumerate(model.state):
        row = model.diffusion[i]
        if any(e.has(sp.sqrt(symbol(n))) for e in row for n in model.state):
            no_sqrt = tuple(e.replace(lambda a: a.is_Pow and a.exp == sp.S.Half, lambda a: a.base) for e in row)
            diffusion = tuple(no_sqrt if k == i else r for k, r in enumerate(model.diffusion))
            yield Mutant(
                "sqrt removed", f"diffusion of {name} without the square root", _with(model, diffusion=diffusion)
            )


def swap_volatility(model: SdeModel) -> Iterator[Mutant]:
    names = [p.name for p in model.parameters]
    vols = [n for n in names if n.lower().startswith(VOLATILITY_NAMES)]
    for vol in vols:
        other = next((n for n in names if n != vol and not n.startswith("rho")), None)
        if other is not None:
            swapped = _map_coefficients(model, lambda e, v=vol, o=other: e.subs(symbol(v), symbol(o)))
            yield Mutant("volatility swapped", f"{vol} replaced by {other}", swapped)


def correlation_errors(model: SdeModel) -> Iterator[Mutant]:
    m = model.noise_dim
    if m < 2 or all(model.correlation[k][j] == 0 for k in range(m) for j in range(m) if k != j):
        return
    identity = tuple(tuple(sp.Integer(int(k == j)) for j in range(m)) for k in range(m))
    yield Mutant("correlation ignored", "Brownian motions independent", _with(model, correlation=identity))
    flipped = tuple(tuple(e if k == j else -e for j, e in enumerate(row)) for k, row in enumerate(model.correlation))
    yield Mutant("correlation sign flipped", "rho negated", _with(model, correlation=flipped))


def dt_confusion(model: SdeModel, step: float = 0.01) -> Iterator[Mutant]:
    """Noise scaled by dt where sqrt(dt) belongs: the diffusion shrinks by sqrt(dt) at the default step."""
    factor = sp.sqrt(sp.nsimplify(step))
    diffusion = tuple(tuple(e * factor for e in row) for row in model.diffusion)
    yield Mutant(
        "dt vs sqrt(dt)", f"noise multiplied by dt instead of sqrt(dt) (dt={step})", _with(model, diffusion=diffusion)
    )


def wrong_floor(model: SdeModel) -> Iterator[Mutant]:
    """A square-root variable floored at a made-up epsilon instead of zero, wherever the coefficients read it
    (as a truncation step `max(v, eps)` would); the observed value itself is left alone."""
    for i, name in enumerate(model.state):
        x = symbol(name)
        if model.domain[i] == "nonnegative" and any(e.has(sp.sqrt(x)) for row in model.diffusion for e in row):
            floored = _map_coefficients(model, lambda e, x=x: e.subs(x, sp.Max(x, sp.Rational(1, 50))))
            yield Mutant("variance floored wrongly", f"{name} floored at 0.02 in drift and diffusion", floored)


def parameter_typo(model: SdeModel) -> Iterator[Mutant]:
    """A parameter used 10% off inside the dynamics (its reported value stays right)."""
    for p in model.parameters:
        if p.value == 0:
            continue
        s = symbol(p.name)
        scaled = s * sp.Rational(11, 10)
        typo = _map_coefficients(model, lambda e, s=s, scaled=scaled: e.subs(s, scaled))
        correlation = tuple(tuple(e.subs(s, scaled) for e in row) for row in model.correlation)
        if all(abs(v) <= 1 for row in correlation for v in (float(e.subs(model.substitutions())) for e in row)):
            typo = _with(typo, correlation=correlation)
        if typo != model:
            yield Mutant("parameter typo 10%", f"{p.name} used as 1.1*{p.name}", typo)


def jump_errors(model: SdeModel) -> Iterator[Mutant]:
    """Jump bugs: the compensator forgotten in the drift, the rate 10% off in the jump process itself (the
    compensator keeps the right one), the size law's parameters swapped, or the jumps not simulated at all."""
    for k, jump in enumerate(model.jumps):
        i, name = model.state.index(jump.variable), jump.variable
        rates = {s: 0 for s in jump.intensity.free_symbols}
        if rates:
            drift = tuple(e.subs(rates) if n == i else e for n, e in enumerate(model.drift))
            yield Mutant(
                "compensator dropped", f"drift of {name} without the -lam*kappa term", _with(model, drift=drift)
            )
        changed = [
            (
                "jump rate typo 10%",
                "jumps at 1.1 times the rate",
                replace(jump, intensity=jump.intensity * sp.Rational(11, 10)),
            ),
            ("jump law swapped", _swapped_description(jump.law), replace(jump, size=_swapped(jump.law, jump.size))),
        ]
        for operator, description, wrong in changed:
            jumps = tuple(wrong if n == k else j for n, j in enumerate(model.jumps))
            yield Mutant(operator, f"{name}: {description}", _with(model, jumps=jumps))
        yield Mutant("jumps dropped", f"{name} simulated without its jumps", _with(model, jumps=()))


def _swapped(law: str, size: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
    if law == "normal":
        mean, sd = size
        return sd, sp.Abs(mean)  # the sd must stay positive: |mean|
    p, eta1, eta2 = size
    return p, eta2, eta1


def _swapped_description(law: str) -> str:
    return "jump mean and sd swapped" if law == "normal" else "eta1 and eta2 swapped"


OPERATORS: tuple[Operator, ...] = (
    flip_drift_sign,
    drop_term,
    remove_sqrt,
    swap_volatility,
    correlation_errors,
    dt_confusion,
    wrong_floor,
    parameter_typo,
    jump_errors,
)


def mutants(model: SdeModel) -> list[Mutant]:
    """Every mutant of ``model``, skipping those that leave the dynamics unchanged or break the model type."""
    out = []
    for operator in OPERATORS:
        try:
            for mutant in operator(model):
                if not _same_dynamics(mutant.model, model):
                    out.append(mutant)
        except ModelError:  # e.g. a swapped jump law whose eta1 falls to 1 or below: not a model at all
            continue
    return out


def _same_dynamics(a: SdeModel, b: SdeModel) -> bool:
    return a.drift == b.drift and a.diffusion == b.diffusion and a.correlation == b.correlation and a.jumps == b.jumps
