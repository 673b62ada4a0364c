"""Random expression trees over the whole expression language, for the code writer's corpus (issue #19, item 6).

The earlier random models (`randomsde`) are polynomial diffusions: affine drifts, square roots of sums. These are
shapes the LLM has never seen: every function of the table (sin, cos, tan, sinh, cosh, tanh, exp, log, sqrt,
abs, min, max, atan, erf, sign), fractional powers (``X**0.75``), ``sqrt(X*(1 - X))``, nested roots, products of
sums and time-dependent terms, nested to a small depth. Each drift is a mean reversion plus a tree (so most
models can also be simulated); each diffusion entry is a tree. Functions that need a positive argument (sqrt,
log, fractional powers) get one by construction (``c + e**2``, ``1 + |e|``, ``exp(e)``, a positive parameter),
so every expression is defined on the whole real line, except for the interval model ``sqrt(X*(1 - X))``.

A model's *structure* (`structure_key`: its expressions with the parameters and state variables renamed in
order) identifies its shape; the held-out set is drawn from another seed and any model whose structure occurs in
training is dropped from it (`corpus/build_trees.py`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sympy as sp

from architect.errors import ArchitectError
from architect.model import TIME, SdeModel, symbol
from architect.parser.domains import infer_domain
from training.randomsde import MODEL_NAMES, STATE_NAMES, RandomModel, _Draw

#: Functions safe on the whole real line (bounded or growing slowly enough on bounded arguments).
BOUNDED = ("sin", "cos", "tanh", "atan", "erf")
SIGNED = ("sign", "abs")
GROWING = ("exp", "sinh", "cosh")  # applied to bounded arguments only
POSITIVE_ONLY = ("sqrt", "log", "pow")  # need a positive argument
FRACTIONAL = (sp.Rational(3, 4), sp.Rational(3, 2), sp.Rational(1, 3), sp.Rational(1, 4), sp.Rational(5, 2))
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "atan": sp.atan, "erf": sp.erf,
    "sign": sp.sign,
}  # fmt: skip


class _Tree:
    """Random subtrees over the state variables, t, parameters and literals."""

    def __init__(self, draw: _Draw, xs: list[sp.Symbol], rng: random.Random) -> None:
        self.draw, self.xs, self.rng = draw, xs, rng
        self.used: list[str] = []

    def leaf(self) -> sp.Expr:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.choice(self.xs)
        if roll < 0.65:
            return TIME
        if roll < 0.85:
            return self.draw.param(0.1, 2.0)
        return self.draw.literal()

    def bounded(self, depth: int) -> sp.Expr:
        """A bounded expression: a bounded function of any tree, or tan of a small one."""
        name = self.rng.choice((*BOUNDED, "tan"))
        self.used.append(name)
        inner = self.any(depth - 1)
        if name == "tan":  # |argument| < pi/2: tan(0.5*sin(e))
            self.used.append("sin")
            return sp.tan(sp.Rational(1, 2) * sp.sin(inner))
        return FUNCTIONS[name](inner)

    def positive(self, depth: int) -> sp.Expr:
        """An expression that is positive everywhere."""
        form = self.rng.randrange(6)
        inner = self.any(depth - 1)
        if form == 0:
            return self.draw.param(0.05, 1.0) + inner**2
        if form == 1:
            self.used.append("abs")
            return 1 + sp.Abs(inner)
        if form == 2:
            self.used.append("exp")
            return sp.exp(self.bounded(depth - 1))
        if form == 3:
            self.used.append("cosh")
            return sp.cosh(self.bounded(depth - 1))
        if form == 4:
            return self.draw.param(0.5, 2.0) + self.bounded(depth - 1)
        self.used.append("sqrt")  # nested root: sqrt(c + sqrt(c2 + e^2))
        return self.draw.param(0.05, 1.0) + sp.sqrt(self.draw.param(0.05, 1.0) + inner**2)

    def of_positive(self, depth: int) -> sp.Expr:
        """sqrt, log or a fractional power of a positive expression."""
        name = self.rng.choice(POSITIVE_ONLY)
        self.used.append(name)
        inner = self.positive(depth - 1)
        if name == "sqrt":
            return sp.sqrt(inner)
        if name == "log":
            return sp.log(inner)
        return inner ** self.rng.choice(FRACTIONAL)

    def any(self, depth: int) -> sp.Expr:
        if depth <= 0:
            return self.leaf()
        form = self.rng.randrange(11)
        if form == 0:
            return self.leaf()
        if form in (1, 2):
            return self.bounded(depth)
        if form == 3:
            return self.of_positive(depth)
        if form == 4:  # a product of sums
            return (self.leaf() + self.draw.param(0.1, 1.0)) * (self.draw.param(0.1, 1.0) + self.any(depth - 1))
        if form == 5:
            return self.any(depth - 1) + self.any(depth - 1)
        if form == 6:
            return self.draw.param(0.1, 2.0) * self.any(depth - 1)
        if form == 7:
            name = self.rng.choice(("min", "max"))
            self.used.append(name)
            f = sp.Min if name == "min" else sp.Max
            return f(self.any(depth - 1), self.any(depth - 1))
        if form == 8:
            name = self.rng.choice(SIGNED)
            self.used.append(name)
            return FUNCTIONS[name](self.any(depth - 1))
        if form == 9:  # exp, sinh, cosh of something bounded
            name = self.rng.choice(GROWING)
            self.used.append(name)
            return FUNCTIONS[name](self.bounded(depth - 1))
        return self.any(depth - 1) / self.positive(depth - 1)


def tree_model(rng: random.Random, index: int, depth: int = 2) -> RandomModel | None:
    """A random model whose coefficients are expression trees; None when the draw is not a valid model."""
    if rng.random() < 0.08:
        return _interval_model(rng, index)
    dim = rng.choices((1, 2), weights=(3, 2))[0]
    state = rng.sample(STATE_NAMES, dim)
    xs = [symbol(n) for n in state]
    draw = _Draw(rng)
    tree = _Tree(draw, xs, rng)
    drift, diffusion = [], []
    for i, x in enumerate(xs):
        reversion = -draw.param(0.5, 2.0) * (x - draw.param(-0.5, 0.5, "real"))
        drift.append(reversion + draw.param(0.05, 0.5) * tree.bounded(depth) if rng.random() < 0.8 else reversion)
        row = []
        for k in range(dim):
            if k != i and rng.random() < 0.6:
                row.append(sp.Integer(0))
            elif rng.random() < 0.5:
                row.append(draw.param(0.05, 0.5) * tree.positive(depth))
            else:
                row.append(draw.param(0.05, 0.5) * tree.any(depth))
        diffusion.append(row)
    if all(e == 0 for row in diffusion for e in row):
        return None
    return _finish(draw, state, drift, diffusion, tree.used, index, rng)


def _interval_model(rng: random.Random, index: int) -> RandomModel | None:
    """A Jacobi-like model on [0, 1]: sqrt(X*(1 - X)) times a positive tree."""
    name = rng.choice(STATE_NAMES)
    x = symbol(name)
    draw = _Draw(rng)
    tree = _Tree(draw, [x], rng)
    drift = draw.param(0.5, 3.0) * (draw.param(0.2, 0.8) - x)
    diffusion = draw.param(0.05, 0.5) * sp.sqrt(x * (1 - x))
    if rng.random() < 0.5:
        diffusion = diffusion * tree.bounded(1) ** 2
        tree.used.append("pow")
    return _finish(draw, [name], [drift], [[diffusion]], ["sqrt(x*(1-x))", *tree.used], index, rng)


def _finish(
    draw: _Draw,
    state: list[str],
    drift: list[sp.Expr],
    diffusion: list[list[sp.Expr]],
    used: list[str],
    index: int,
    rng: random.Random,
) -> RandomModel | None:
    m = len(diffusion[0])
    noises = ("W",) if m == 1 else tuple(f"W{k + 1}" for k in range(m))
    correlation = [[sp.Integer(int(j == k)) for k in range(m)] for j in range(m)]
    entries = (*drift, *(e for r in diffusion for e in r))
    used_symbols = set().union(*(e.free_symbols for e in entries))
    parameters = tuple(p for p in draw.parameters if symbol(p.name) in used_symbols)
    try:
        domains = [infer_domain(n, drift[i], tuple(diffusion[i]))[0] for i, n in enumerate(state)]
        initial = tuple(0.5 if d.startswith("[") else round(rng.uniform(0.05, 1.0), 3) for d in domains)
        model = SdeModel(
            name=rng.choice(MODEL_NAMES) or f"random tree {index}",
            state=tuple(state),
            noises=noises,
            drift=tuple(drift),
            diffusion=tuple(tuple(r) for r in diffusion),
            correlation=tuple(tuple(r) for r in correlation),
            parameters=parameters,
            initial=initial,
            domain=tuple(domains),
            source=f"tree:{index}",
        )
    except (ArchitectError, ValueError, TypeError):
        return None
    return RandomModel(model, tuple(sorted(set(used))))


def structure_key(model: SdeModel) -> str:
    """The model's expressions with parameters and state variables renamed in order of appearance: two models
    with the same key are the same shape with other names and values."""
    renames: dict[sp.Symbol, sp.Symbol] = {}
    for i, name in enumerate(model.state):
        renames[symbol(name)] = sp.Symbol(f"X{i}")
    for i, p in enumerate(model.parameters):
        renames[symbol(p.name)] = sp.Symbol(f"P{i}")
    exprs = [*model.drift, *(e for row in model.diffusion for e in row)]
    return " | ".join(sp.srepr(e.xreplace(renames)) for e in exprs)
