"""Random SDEs for the corpus: affine drifts, diffusions whose covariance is at most quadratic, systems.

Every model drawn here is a polynomial diffusion (the class the verifier has exact moments for),
with random names for state variables and parameters (so the LLM learns to translate
expressions, not to memorise names), random values in realistic ranges, and a *shape*: the
expression templates its entries were drawn from. The corpus holds some shapes out of training.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from architect.errors import ModelError
from architect.model import Parameter, SdeModel, symbol
from architect.parser.domains import infer_domain
from architect.verifier.theory import NotPolynomial, PolynomialMoments

STATE_NAMES = ("X", "x", "r", "v", "S", "y", "z", "u", "V", "q", "Y", "h", "R", "P", "Z", "w")
PARAM_NAMES = (
    "kappa", "theta", "sigma", "mu", "alpha", "beta", "gamma", "delta", "eta", "nu", "lam", "a", "b", "c",
    "k", "m", "s", "xi", "phi", "omega", "sigma_1", "sigma_2", "kappa_v", "theta_r", "a1", "b2", "vol", "K",
    "Lambda", "speed", "level", "g", "beta_0", "tau",
)  # fmt: skip
MODEL_NAMES = (
    "custom model", "my SDE", "two-factor model", "short rate", "volatility model", "factor model", "spread",
    "mean-reverting process", "diffusion", "stochastic system", "price process", "rate model", "test model", "",
)  # fmt: skip
CORRELATION_NAMES = ("rho", "rho_12", "corr", "rho_xv", "r12")

#: Entry shapes held out of training: models using any of them go to the held-out split.
HELD_OUT_SHAPES = frozenset({"diff:sigma*sqrt(c+x)", "diff:sigma*x+c"})


@dataclass(frozen=True)
class RandomModel:
    model: SdeModel
    shapes: tuple[str, ...]


class _Draw:
    """Fresh parameter names and values for one model."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = list(PARAM_NAMES)
        rng.shuffle(self.names)
        self.parameters: list[Parameter] = []

    def param(self, low: float, high: float, constraint: str = "positive") -> sp.Symbol:
        name = self.names.pop()
        value = round(self.rng.uniform(low, high), self.rng.choice((2, 3)))
        self.parameters.append(Parameter(name, value or low, constraint))
        return symbol(name)

    def literal(self) -> sp.Rational:
        return sp.Rational(self.rng.choice((1, 2, 3, 5)), self.rng.choice((1, 2, 4, 10)))


Shape = Callable[[_Draw, sp.Symbol, list[sp.Symbol]], sp.Expr]

DRIFTS: dict[str, Shape] = {
    "drift:0": lambda d, x, o: sp.Integer(0),
    "drift:a": lambda d, x, o: d.param(-0.2, 0.2, "real"),
    "drift:a*x": lambda d, x, o: d.param(-0.3, 0.3, "real") * x,
    "drift:-a*x": lambda d, x, o: -d.param(0.2, 2.0) * x,
    "drift:a*(b-x)": lambda d, x, o: d.param(0.5, 3.0) * (d.param(0.02, 0.5) - x),
    "drift:a+b*x": lambda d, x, o: d.param(0.01, 0.3) + d.param(-0.5, 0.5, "real") * x,
    "drift:a-b*x": lambda d, x, o: d.param(0.01, 0.3) - d.param(0.2, 2.0) * x,
    "drift:a*(n-x)": lambda d, x, o: d.param(0.5, 3.0) * (d.literal() - x),
    "drift:x/n": lambda d, x, o: -x / d.rng.choice((2, 4, 10)),
    "drift:a*(y-x)": lambda d, x, o: d.param(0.3, 2.0) * ((o[0] if o else d.param(0.0, 0.2, "real")) - x),
    "drift:a*y-b*x": lambda d, x, o: (
        (d.param(-0.5, 0.5, "real") * o[0] if o else sp.Integer(0)) - d.param(0.2, 2.0) * x
    ),
    "drift:a-y/2": lambda d, x, o: d.param(-0.1, 0.1, "real") - (o[0] if o else x) / 2,
}

#: Diffusion shapes: (template, needs x >= 0).
DIFFUSIONS: dict[str, tuple[Shape, bool]] = {
    "diff:sigma": (lambda d, x, o: d.param(0.05, 0.5), False),
    "diff:n": (lambda d, x, o: d.literal() / 4, False),
    "diff:sigma*x": (lambda d, x, o: d.param(0.05, 0.5) * x, False),
    "diff:sigma*sqrt(x)": (lambda d, x, o: d.param(0.05, 0.4) * sp.sqrt(x), True),
    "diff:sqrt(x)": (lambda d, x, o: sp.sqrt(x), True),
    "diff:sigma*sqrt(c+x)": (lambda d, x, o: d.param(0.05, 0.4) * sp.sqrt(d.param(0.01, 0.2) + x), True),
    "diff:sigma*sqrt(x^2+c)": (lambda d, x, o: d.param(0.05, 0.3) * sp.sqrt(x**2 + d.param(0.01, 1.0)), False),
    "diff:sigma*x+c": (lambda d, x, o: d.param(0.05, 0.3) * x + d.param(0.01, 0.3), False),
    "diff:sqrt(2)*sigma": (lambda d, x, o: sp.sqrt(2) * d.param(0.05, 0.3), False),
    "diff:sigma/n": (lambda d, x, o: d.param(0.1, 0.6) / d.rng.choice((2, 3, 4)), False),
}

#: Square roots are the shapes most often got wrong; draw them more often.
DIFFUSION_WEIGHTS = {"diff:sigma*sqrt(x)": 3.0, "diff:sqrt(x)": 3.0, "diff:sigma*sqrt(x^2+c)": 1.5}


#: More shapes, drawn only by the second training stream (`random_model(..., extra=True)`), so the
#: first stream (and with it the held-out split) stays exactly as it was drawn.
EXTRA_DRIFTS: dict[str, Shape] = {
    "drift:a*b-c*x": lambda d, x, o: d.param(0.1, 1.0) * d.param(0.02, 0.3) - d.param(0.2, 2.0) * x,
    "drift:a*(b-x)-c*y": lambda d, x, o: (
        d.param(0.5, 2.0) * (d.param(0.02, 0.3) - x) - (d.param(0.05, 0.5) * o[0] if o else sp.Integer(0))
    ),
}
EXTRA_DIFFUSIONS: dict[str, tuple[Shape, bool]] = {
    "diff:sqrt(a*x)": (lambda d, x, o: sp.sqrt(d.param(0.01, 0.2) * x), True),
    "diff:n*sigma*sqrt(x)": (lambda d, x, o: d.literal() * d.param(0.05, 0.3) * sp.sqrt(x), True),
    "diff:sqrt(a+b*x^2)": (lambda d, x, o: sp.sqrt(d.param(0.01, 0.1) + d.param(0.01, 0.1) * x**2), False),
}


def random_model(rng: random.Random, index: int, extra: bool = False) -> RandomModel | None:
    """One random polynomial diffusion, or None when the draw is not one (the caller draws again)."""
    drifts = DRIFTS | EXTRA_DRIFTS if extra else DRIFTS
    diffusions = DIFFUSIONS | EXTRA_DIFFUSIONS if extra else DIFFUSIONS
    dim = rng.choices((1, 2, 3), weights=(5, 4, 1))[0]
    noise_dim = dim if rng.random() < 0.8 else rng.choice((1, 2))
    state = rng.sample(STATE_NAMES, dim)
    draw = _Draw(rng)
    xs = [symbol(n) for n in state]
    shapes: list[str] = []
    drift, diffusion = [], []
    for i, x in enumerate(xs):
        others = xs[:i] + xs[i + 1 :]
        key = rng.choice(list(drifts))
        if rng.random() < 0.3:  # mean reversion keeps square-root variables off zero: draw it more often
            key = "drift:a*(b-x)"
        shapes.append(key)
        drift.append(drifts[key](draw, x, others))
        row, kinds = _diffusion_row(draw, x, others, i, noise_dim, rng, diffusions)
        shapes += kinds
        diffusion.append(row)
    correlation = _correlation(draw, noise_dim, rng)
    return _finish(draw, state, drift, diffusion, correlation, shapes, index, rng)


def _diffusion_row(
    draw: _Draw,
    x: sp.Symbol,
    others: list[sp.Symbol],
    i: int,
    noise_dim: int,
    rng: random.Random,
    diffusions: dict[str, tuple[Shape, bool]] = DIFFUSIONS,
) -> tuple[list[sp.Expr], list[str]]:
    row: list[sp.Expr] = [sp.Integer(0)] * noise_dim
    kinds = []
    own = min(i, noise_dim - 1)
    columns = {own} | ({rng.randrange(noise_dim)} if noise_dim > 1 and rng.random() < 0.25 else set())
    for k in sorted(columns):
        key = rng.choices(list(diffusions), weights=[DIFFUSION_WEIGHTS.get(k, 1.0) for k in diffusions])[0]
        if key == "diff:sqrt(x)" and others and rng.random() < 0.5:
            row[k] = sp.sqrt(others[0])  # Heston-like: noise scaled by another (non-negative) variable
            kinds.append("diff:sqrt(y)")
            continue
        row[k] = diffusions[key][0](draw, x, others)
        kinds.append(key)
    return row, kinds


def _correlation(draw: _Draw, m: int, rng: random.Random) -> list[list[sp.Expr]]:
    rho = [[sp.Integer(int(k == j)) for j in range(m)] for k in range(m)]
    if m >= 2 and rng.random() < 0.5:
        k, j = sorted(rng.sample(range(m), 2))
        name = rng.choice(CORRELATION_NAMES)
        if name in draw.names:
            draw.names.remove(name)
        value = round(rng.uniform(-0.8, 0.8), 2)
        draw.parameters.append(Parameter(name, value, "correlation"))
        rho[k][j] = rho[j][k] = symbol(name)
    return rho


def _finish(
    draw: _Draw,
    state: list[str],
    drift: list[sp.Expr],
    diffusion: list[list[sp.Expr]],
    correlation: list[list[sp.Expr]],
    shapes: list[str],
    index: int,
    rng: random.Random,
) -> RandomModel | None:
    domains = [infer_domain(n, drift[i], tuple(diffusion[i]))[0] for i, n in enumerate(state)]
    for i, n in enumerate(state):
        # A square root of another variable needs that variable non-negative.
        rooted = any(sp.sqrt(symbol(n)) in entry.atoms(sp.Pow) for row in diffusion for entry in row)
        if rooted and domains[i] == "real":
            return None
    entries = (*drift, *(e for r in diffusion for e in r), *(e for r in correlation for e in r))
    used = set().union(*(e.free_symbols for e in entries))
    parameters = tuple(p for p in draw.parameters if symbol(p.name) in used)
    initial = tuple(
        round(rng.uniform(0.02, 1.0), 3) if d != "real" else round(rng.uniform(-0.5, 1.0), 3) for d in domains
    )
    noises = ("W",) if len(diffusion[0]) == 1 else tuple(f"W{k + 1}" for k in range(len(diffusion[0])))
    name = rng.choice(MODEL_NAMES) or f"random model {index}"
    try:
        model = SdeModel(
            name=name,
            state=tuple(state),
            noises=noises,
            drift=tuple(drift),
            diffusion=tuple(tuple(r) for r in diffusion),
            correlation=tuple(tuple(r) for r in correlation),
            parameters=parameters,
            initial=initial,
            domain=tuple(domains),
            source=f"random:{index}",
        )
        PolynomialMoments.from_model(model, 2)
    except (ModelError, NotPolynomial):
        return None
    if any(d == "nonnegative" for d in domains) and not _feller_like(model):
        return None
    return RandomModel(model, tuple(dict.fromkeys(shapes)))


def _feller_like(model: SdeModel) -> bool:
    """Non-negative variables must have a drift pushing up at zero (full truncation then stays unbiased)."""
    values = model.substitutions()
    zero = {symbol(n): 0 for n in model.state}
    for i, domain in enumerate(model.domain):
        if domain == "nonnegative":
            at_zero = model.drift[i].subs(values).subs({k: v for k, v in zero.items()})
            if not at_zero.is_number or float(at_zero) <= 0.0:
                return False
    return True


#: Log-price drifts for stochastic-volatility systems (y is the variance).
SV_DRIFTS = ("drift:a-y/2", "drift:a*(b-x)", "drift:a*x", "drift:a", "drift:a*y-b*x", "drift:-a*x")


def stochastic_volatility_model(rng: random.Random, index: int) -> RandomModel | None:
    """A two-factor Heston-like system with random names: x driven by sqrt(v), v a CIR variance, often correlated.

    Structure that the named stochastic-volatility families share, so the LLM learns it from
    expressions and not from a family name.
    """
    x_name, v_name = rng.sample(STATE_NAMES, 2)
    draw = _Draw(rng)
    x, v = symbol(x_name), symbol(v_name)
    drift_key = rng.choice(SV_DRIFTS)
    scaled = rng.random() < 0.4
    drift = [DRIFTS[drift_key](draw, x, [v]), draw.param(0.5, 3.0) * (draw.param(0.02, 0.2) - v)]
    diffusion = [
        [draw.param(0.5, 1.5) * sp.sqrt(v) if scaled else sp.sqrt(v), sp.Integer(0)],
        [sp.Integer(0), draw.param(0.05, 0.4) * sp.sqrt(v)],
    ]
    correlation = [[sp.Integer(1), sp.Integer(0)], [sp.Integer(0), sp.Integer(1)]]
    if rng.random() < 0.8:
        name = rng.choice(CORRELATION_NAMES)
        draw.parameters.append(Parameter(name, round(rng.uniform(-0.9, 0.5), 2), "correlation"))
        correlation[0][1] = correlation[1][0] = symbol(name)
    shapes = [drift_key, "sv:sigma*sqrt(y)" if scaled else "diff:sqrt(y)", "drift:a*(b-x)", "diff:sigma*sqrt(x)"]
    return _finish(draw, [x_name, v_name], drift, diffusion, correlation, shapes, index, rng)


#: Structures of the sum-under-a-square-root stream (`sqrt_sum_model`); never the held-out `sigma*sqrt(c + x)`.
SQRT_SUM_SHAPES = (
    "diff:sigma*sqrt(1+x^2)",
    "diff:sqrt(n+x^2)",
    "diff:sqrt(a+b)*x",
    "diff:sqrt(a+b)",
    "drift:sqrt(a+b)*(c-x)",
    "diff:sqrt(a*x+b*x^2)",
    "sv:sigma*sqrt(a+b*y)",
    "sv:sqrt(a+b*y)",
    "sv:sqrt(y+y^2)",
    "sys:sqrt(x+y)",
    "sys:sigma*sqrt(x+y)",
    "sys:sqrt(a*x+b*y)",
)

#: Corpus v5: sums under a root that print with a state variable first (`(v + self.a * y).sqrt()`), the
#: order the held-out `sqrt(c + x)` takes when the variable sorts first; still never one parameter plus one variable.
STATE_FIRST_SQRT_SHAPES = (
    "diff:sqrt(x+a*x^2)",
    "diff:sigma*sqrt(x+a*x^2)",
    "sys:sqrt(x+a*y)",
    "sys:sigma*sqrt(x+a*y)",
    "sys:sqrt(x+y^2)",
    "sv:sqrt(y+a*y^2)",
    "sv:sigma*sqrt(y+a*y^2)",
)


def sqrt_sum_model(rng: random.Random, index: int, shapes: tuple[str, ...] = SQRT_SUM_SHAPES) -> RandomModel | None:
    """A model with a sum (or difference) under a square root, so the LLM learns `sqrt(a + b)` -> `(a + b).sqrt()`.

    Every draw is well defined: a sum of non-negative variables (CIR-like, each with its own
    square-root noise) or a sum that cannot vanish. None uses the held-out `sigma*sqrt(c + x)` (a
    parameter plus a unit-coefficient variable under the root); `has_held_out_sqrt` checks it.
    """
    key = rng.choice(shapes)
    draw = _Draw(rng)
    if key.startswith(("diff:", "drift:")):
        return _sqrt_sum_scalar(draw, key, index, rng)
    names = rng.sample(STATE_NAMES, 3 if key.startswith("sys:") else 2)
    roots = [symbol(n) for n in names[:-1]]  # CIR-like variables, the last one is driven by the root of their sum
    z = symbol(names[-1])
    drift = [draw.param(0.5, 3.0) * (draw.param(0.02, 0.3) - v) for v in roots]
    diffusion_of = [draw.param(0.05, 0.4) * sp.sqrt(v) for v in roots]
    y = roots[0]
    affine = lambda: draw.param(0.01, 0.2) + draw.param(0.2, 2.0) * y  # noqa: E731  (drawn only when used)
    root = {
        "sv:sigma*sqrt(a+b*y)": lambda: draw.param(0.05, 0.4) * sp.sqrt(affine()),
        "sv:sqrt(a+b*y)": lambda: sp.sqrt(affine()),
        "sv:sqrt(y+y^2)": lambda: sp.sqrt(y + y**2),
        "sys:sqrt(x+y)": lambda: sp.sqrt(roots[0] + roots[1]),
        "sys:sigma*sqrt(x+y)": lambda: draw.param(0.2, 1.5) * sp.sqrt(roots[0] + roots[1]),
        "sys:sqrt(a*x+b*y)": lambda: sp.sqrt(draw.param(0.2, 2.0) * roots[0] + draw.param(0.2, 2.0) * roots[1]),
        "sys:sqrt(x+a*y)": lambda: sp.sqrt(roots[0] + draw.param(0.2, 2.0) * roots[1]),
        "sys:sigma*sqrt(x+a*y)": lambda: draw.param(0.2, 1.5) * sp.sqrt(roots[0] + draw.param(0.2, 2.0) * roots[1]),
        "sys:sqrt(x+y^2)": lambda: sp.sqrt(roots[0] + roots[1] ** 2),
        "sv:sqrt(y+a*y^2)": lambda: sp.sqrt(y + draw.param(0.2, 2.0) * y**2),
        "sv:sigma*sqrt(y+a*y^2)": lambda: draw.param(0.05, 0.4) * sp.sqrt(y + draw.param(0.2, 2.0) * y**2),
    }[key]()
    drift_key = rng.choice(("drift:a*(b-x)", "drift:a", "drift:-a*x", "drift:a-y/2", "drift:a*y-b*x"))
    drift.append(DRIFTS[drift_key](draw, z, roots))
    m = len(names)
    diffusion = [[diffusion_of[i] if j == i else sp.Integer(0) for j in range(m)] for i in range(len(roots))]
    diffusion.append([root if j == m - 1 else sp.Integer(0) for j in range(m)])
    correlation = [[sp.Integer(int(k == j)) for j in range(m)] for k in range(m)]
    return _checked(_finish(draw, names, drift, diffusion, correlation, [drift_key, key], index, rng))


def _sqrt_sum_scalar(draw: _Draw, key: str, index: int, rng: random.Random) -> RandomModel | None:
    x = symbol(rng.choice(STATE_NAMES))
    drift_key = rng.choice(("drift:a*(b-x)", "drift:a+b*x", "drift:-a*x", "drift:a-b*x"))
    if key in ("diff:sqrt(a*x+b*x^2)", "diff:sqrt(x+a*x^2)", "diff:sigma*sqrt(x+a*x^2)"):
        # x stays non-negative: it needs a drift pushing up at zero
        drift_key = "drift:a*(b-x)"
    if key == "drift:sqrt(a+b)*(c-x)":
        drift = sp.sqrt(draw.param(0.2, 1.5) + draw.param(0.2, 1.5)) * (draw.param(0.02, 0.5) - x)
    else:
        drift = DRIFTS[drift_key](draw, x, [])
    diffusion = {
        "diff:sigma*sqrt(1+x^2)": lambda: draw.param(0.05, 0.3) * sp.sqrt(1 + x**2),
        "diff:sqrt(n+x^2)": lambda: sp.sqrt(draw.literal() / 20 + x**2) / 4,
        "diff:sqrt(a+b)*x": lambda: sp.sqrt(draw.param(0.01, 0.05) + draw.param(0.01, 0.05)) * x,
        "diff:sqrt(a+b)": lambda: sp.sqrt(draw.param(0.01, 0.05) + draw.param(0.01, 0.05)),
        "drift:sqrt(a+b)*(c-x)": lambda: draw.param(0.05, 0.4),
        "diff:sqrt(a*x+b*x^2)": lambda: sp.sqrt(draw.param(0.01, 0.1) * x + draw.param(0.01, 0.1) * x**2),
        "diff:sqrt(x+a*x^2)": lambda: sp.sqrt(x + draw.param(0.2, 2.0) * x**2) / 10,
        "diff:sigma*sqrt(x+a*x^2)": lambda: draw.param(0.05, 0.3) * sp.sqrt(x + draw.param(0.2, 2.0) * x**2),
    }[key]()
    shapes = [key] if key.startswith("drift:") else [drift_key, key]
    one = [[sp.Integer(1)]]
    return _checked(_finish(draw, [str(x)], [drift], [[diffusion]], one, shapes, index, rng))


def _checked(drawn: RandomModel | None) -> RandomModel | None:
    """The draw, unless it uses a held-out shape by structure (whatever its shape labels say)."""
    if drawn is None or has_held_out_sqrt(drawn.model):
        return None
    return drawn


def has_held_out_sqrt(model: SdeModel) -> bool:
    """Whether any coefficient has the held-out `sqrt(c + x)`: one parameter plus one state variable under a root."""
    states = {symbol(n) for n in model.state}
    params = {symbol(p.name) for p in model.parameters}
    entries = (*model.drift, *(e for row in model.diffusion for e in row))
    for power in (p for e in entries for p in e.atoms(sp.Pow) if p.exp == sp.Rational(1, 2)):
        terms = set(sp.Add.make_args(power.base))
        if len(terms) == 2 and len(terms & states) == 1 and len(terms & params) == 1:
            return True
    return False
