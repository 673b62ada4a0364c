"""What the structure of a model's sympy expressions lets us know exactly, found without looking at its name.

Everything here works on the drift b(x) and the instantaneous covariance a(x) = σρσᵀ with the parameter
values substituted, so "GBM" typed as equations, a correlated linear system or a Heston model written in
its own letters are recognised alike:

- closed subsets: variables whose drift and covariance involve only each other. Such a subset is a
  diffusion of its own, so whatever is exact for it holds for those marginals of the full model;
- the largest closed *polynomial* subset (affine drift, quadratic a): exact moments from the generator. Its
  coefficients may be functions of t (issue #19): the moments then solve the ODE M' = G(t) M (`theory`);
- the largest closed *Gaussian* subset (affine drift, a free of the state, both possibly depending on t: a
  linear SDE with time-dependent coefficients is still Gaussian): an exact normal law, with the mean and
  covariance of the (time-dependent) moment equations;
- every other form below (GBM, CIR, Lévy, Heston, exact schemes) needs coefficients free of t;
- autonomous 1-D variables of GBM type (b = m x, a = s² x²: lognormal) and CIR type (b = alpha + beta x
  with alpha > 0, beta < 0, a = c x: scaled non-central chi-square);
- Heston pairs (x, v): v of CIR type and x = log S with b_x = m - λv/2, a_xx = λv, a_xv = c v;
- the log transform y = log x of positive variables whose noise is proportional to them (Itô:
  dy = (b/x - a/(2x²)) dt + (sigma/x) dW), which turns e.g. Heston written in S into a polynomial model.

Jumps (`SdeModel.jumps`, compound Poisson with constant rate and state-free sizes) keep a subset closed and
polynomial (the generator's jump term lowers degrees, `verifier.jumps`), but a variable that jumps is neither
Gaussian, GBM, CIR nor the x of a plain Heston pair, and is not log-transformed (its jumps are additive). Its
own exact forms: the Lévy type (constant drift and variance plus jumps: Merton 1976, Kou 2002), and the Heston
pair whose x jumps (Bates 1996).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import sympy as sp

from architect import schemes
from architect.model import TIME, SdeModel, symbol
from architect.verifier.jumps import JumpLaw

#: Relative tolerance for structural coefficient identities (e.g. the -1/2 of a Heston log-price drift).
COEFFICIENT_RTOL = 1e-9


@dataclass(frozen=True)
class Numeric:
    """A model's drift and instantaneous covariance with parameter values substituted (exact rationals)."""

    model: SdeModel
    xs: tuple[sp.Symbol, ...]
    drift: tuple[sp.Expr, ...]
    cov: sp.Matrix
    jumps: dict[int, JumpLaw]  # state index -> its jump part, values substituted

    @classmethod
    def of(cls, model: SdeModel) -> Numeric:
        subs = model.substitutions()
        cov = model.covariance() if model.noise_dim else sp.zeros(model.dim, model.dim)
        drift = tuple(sp.expand(e.subs(subs)) for e in model.drift)
        jumps = {model.state.index(j.variable): JumpLaw.of(j, subs) for j in model.jumps}
        return cls(model, model.state_symbols(), drift, sp.expand(cov.subs(subs)), jumps)

    @property
    def dim(self) -> int:
        return len(self.xs)

    def polynomial(self, expr: sp.Expr, subset: frozenset[int], max_degree: int) -> dict[tuple[int, ...], float] | None:
        """``expr`` as {exponent over ``subset`` (in index order): coefficient}, or None if it is not a
        polynomial of degree ≤ ``max_degree`` in those variables alone (time-free, numeric coefficients)."""
        order = sorted(subset)
        inside = [self.xs[i] for i in order]
        outside = set(self.xs) - set(inside)
        if TIME in expr.free_symbols or expr.free_symbols & outside:
            return None
        if not inside:
            return _constant(expr)
        if not expr.is_polynomial(*inside):
            return None
        poly = sp.Poly(expr, *inside)
        if poly.total_degree() > max_degree:
            return None
        out: dict[tuple[int, ...], float] = {}
        for monom, coeff in poly.terms():
            if not coeff.is_number:
                return None
            value = float(coeff)
            if not math.isfinite(value):
                return None
            if value != 0.0:
                out[tuple(monom)] = value
        return out

    def polynomial_in_time(self, expr: sp.Expr, subset: frozenset[int], max_degree: int) -> bool:
        """Whether ``expr`` is a polynomial of degree ≤ ``max_degree`` in the variables of ``subset`` alone whose
        coefficients are numbers or functions of t (`theory` splits them and solves the moment ODE)."""
        if TIME not in expr.free_symbols:
            return self.polynomial(expr, subset, max_degree) is not None
        inside = [self.xs[i] for i in sorted(subset)]
        if expr.free_symbols - set(inside) - {TIME}:
            return False
        if not inside:
            return True
        if not expr.is_polynomial(*inside):
            return False
        poly = sp.Poly(expr, *inside)
        return poly.total_degree() <= max_degree and all(c.free_symbols <= {TIME} for c in poly.coeffs())


def _constant(expr: sp.Expr) -> dict[tuple[int, ...], float] | None:
    if not expr.is_number:
        return None
    value = float(expr)
    return ({(): value} if value else {}) if math.isfinite(value) else None


# ------------------------------------------------------------------------------- closed subsets
def greatest_closed_subset(
    num: Numeric, drift_degree: int, cov_degree: int, candidates: frozenset[int] | None = None, time: bool = False
) -> tuple[int, ...]:
    """The largest S ⊆ ``candidates`` with b_i (deg ≤ drift_degree) and a_ij (deg ≤ cov_degree) polynomials in
    x_S, i, j ∈ S; with ``time``, their coefficients may be functions of t.

    The union of two such sets is again one, so removing violators until none is left finds the largest.
    """
    subset = set(range(num.dim)) if candidates is None else set(candidates)
    while True:
        bad = {i for i in subset if not _row_ok(num, i, frozenset(subset), drift_degree, cov_degree, time)}
        if not bad:
            return tuple(sorted(subset))
        subset -= bad


def _row_ok(num: Numeric, i: int, subset: frozenset[int], drift_degree: int, cov_degree: int, time: bool) -> bool:
    def ok(expr: sp.Expr, degree: int) -> bool:
        if time:
            return num.polynomial_in_time(expr, subset, degree)
        return num.polynomial(expr, subset, degree) is not None

    return ok(num.drift[i], drift_degree) and all(ok(num.cov[i, j], cov_degree) for j in subset)


def polynomial_subset(num: Numeric) -> tuple[int, ...]:
    """Variables with exact moments from the generator (Filipović & Larsson 2016), coefficients possibly
    functions of t (the moment ODE of `theory`)."""
    return greatest_closed_subset(num, 1, 2, time=True)


def gaussian_subset(num: Numeric, time: bool = True) -> tuple[int, ...]:
    """Variables that are jointly Gaussian at every time: affine drift, covariance free of the state and no
    jumps. Coefficients may depend on t (unless ``time`` is False): a linear SDE dX = (A(t) X + c(t)) dt +
    S(t) dW is Gaussian, its mean and covariance the solution of the moment ODE."""
    return greatest_closed_subset(num, 1, 0, frozenset(range(num.dim)) - set(num.jumps), time=time)


def time_free(num: Numeric, i: int) -> bool:
    """Whether variable ``i``'s drift and its row of the covariance do not involve t."""
    return TIME not in num.drift[i].free_symbols and all(TIME not in e.free_symbols for e in num.cov.row(i))


def restrict(model: SdeModel, subset: tuple[int, ...]) -> SdeModel:
    """The sub-model of a closed subset (all Brownian motions kept, so correlations stay as they are)."""
    return replace(
        model,
        state=tuple(model.state[i] for i in subset),
        drift=tuple(model.drift[i] for i in subset),
        diffusion=tuple(model.diffusion[i] for i in subset),
        initial=tuple(model.initial[i] for i in subset),
        domain=tuple(model.domain[i] for i in subset),
        jumps=tuple(j for j in model.jumps if model.state.index(j.variable) in subset),
    )


# ------------------------------------------------------------------------------- 1-D laws
@dataclass(frozen=True)
class GbmType:
    """dX = m X dt + s X dW (in law): log X_t is normal."""

    index: int
    m: float
    s2: float


@dataclass(frozen=True)
class CirType:
    """dX = (alpha + beta X) dt + sqrt(c X) dW in law, alpha > 0 > beta: X_t is a scaled non-central chi-square."""

    index: int
    alpha: float
    beta: float
    c: float


def _autonomous(num: Numeric, i: int) -> tuple[dict, dict] | None:
    """(drift, a_ii) as polynomials in x_i alone for a variable without jumps, or None."""
    if i in num.jumps:
        return None
    only = frozenset({i})
    drift = num.polynomial(num.drift[i], only, 1)
    var = num.polynomial(num.cov[i, i], only, 2)
    return None if drift is None or var is None else (drift, var)


def gbm_type(num: Numeric, i: int) -> GbmType | None:
    found = _autonomous(num, i)
    if found is None or num.model.initial[i] <= 0:
        return None
    drift, var = found
    if set(drift) - {(1,)} or set(var) != {(2,)} or var[(2,)] <= 0:
        return None
    return GbmType(i, drift.get((1,), 0.0), var[(2,)])


def cir_type(num: Numeric, i: int) -> CirType | None:
    found = _autonomous(num, i)
    if found is None or num.model.initial[i] < 0:
        return None
    drift, var = found
    alpha, beta, c = drift.get((0,), 0.0), drift.get((1,), 0.0), var.get((1,), 0.0)
    if set(var) != {(1,)} or not (alpha > 0 and beta < 0 and c > 0):
        return None
    return CirType(i, alpha, beta, c)


@dataclass(frozen=True)
class LevyType:
    """dX = b dt + s dW + dJ in law (constant coefficients, compound-Poisson J): X_t - x_0 is a Lévy process
    whose characteristic function is known (Merton 1976 for normal sizes, Kou 2002 for double exponential)."""

    index: int
    b: float
    s2: float
    jump: JumpLaw


def levy_type(num: Numeric, i: int) -> LevyType | None:
    if i not in num.jumps:
        return None
    drift = num.polynomial(num.drift[i], frozenset(), 0)
    var = num.polynomial(num.cov[i, i], frozenset(), 0)
    if drift is None or var is None:
        return None
    return LevyType(i, drift.get((), 0.0), var.get((), 0.0), num.jumps[i])


# ------------------------------------------------------------------------------- Heston pairs
@dataclass(frozen=True)
class HestonPair:
    """x = log S and v with dx = (r - v'/2) dt + sqrt(v') dW1, dv' = kappa (theta - v') dt + xi sqrt(v') dW2,
    d<W1,W2> = rho dt, where v' = λ v (λ = 1 for the textbook form; any λ > 0 is that model with v rescaled).

    ``jump``: x's jump part when it has one (Bates 1996); ``r`` is then the constant of x's drift, the rate
    plus the compensator's -λκ."""

    x: int
    v: int
    r: float
    kappa: float
    theta: float
    xi: float
    rho: float
    v0: float
    jump: JumpLaw | None = None


def heston_pairs(num: Numeric) -> list[HestonPair]:
    return [p for x in range(num.dim) for v in range(num.dim) if x != v and (p := _heston(num, x, v)) is not None]


def _heston(num: Numeric, x: int, v: int) -> HestonPair | None:
    cir = cir_type(num, v)
    if cir is None:
        return None
    only_v = frozenset({v})
    drift = num.polynomial(num.drift[x], only_v, 1)
    axx = num.polynomial(num.cov[x, x], only_v, 1)
    axv = num.polynomial(num.cov[x, v], only_v, 1)
    if drift is None or axx is None or axv is None or set(axx) != {(1,)} or set(axv) - {(1,)}:
        return None
    lam = axx[(1,)]
    # S = exp(x) grows at rate r only if the v-coefficient of x's drift is exactly -λ/2 (Itô for log S).
    if set(drift) - {(0,), (1,)} or not math.isclose(drift.get((1,), 0.0), -lam / 2, rel_tol=COEFFICIENT_RTOL):
        return None
    kappa = -cir.beta
    xi = math.sqrt(lam * cir.c)
    rho = axv.get((1,), 0.0) / math.sqrt(lam * cir.c)
    if lam <= 0 or not -1 <= rho <= 1:
        return None
    theta = lam * cir.alpha / kappa
    v0 = lam * num.model.initial[v]
    return HestonPair(x, v, drift.get((0,), 0.0), kappa, theta, xi, rho, v0, num.jumps.get(x))


# ------------------------------------------------------------------------------- log transform
def log_candidates(model: SdeModel) -> tuple[int, ...]:
    """Positive variables whose every noise term is proportional to themselves (the log-Euler condition)."""
    out = []
    for i, name in enumerate(model.state):
        x = symbol(name)
        row = [e for e in model.diffusion[i] if e != 0]
        eligible = model.initial[i] > 0 and model.domain[i] == "positive" and bool(row) and not model.jump_of(name)
        if eligible and all(x not in sp.simplify(e / x).free_symbols for e in row):
            out.append(i)
    return tuple(out)


def log_transform(model: SdeModel, logged: tuple[int, ...]) -> SdeModel:
    """Itô's formula for y_i = log x_i (i in ``logged``), every x_i replaced by exp(y_i) everywhere."""
    xs = model.state_symbols()
    names = list(model.state)
    back = {}
    for i in logged:
        names[i] = f"log_{model.state[i]}"
        back[xs[i]] = sp.exp(symbol(names[i]))
    cov = model.covariance() if model.noise_dim else sp.zeros(model.dim, model.dim)
    drift, diffusion = list(model.drift), [list(row) for row in model.diffusion]
    for i in logged:
        drift[i] = model.drift[i] / xs[i] - cov[i, i] / (2 * xs[i] ** 2)
        diffusion[i] = [e / xs[i] for e in model.diffusion[i]]

    def rewrite(e: sp.Expr) -> sp.Expr:
        return sp.simplify(sp.powsimp(sp.expand(sp.sympify(e).xreplace(back)), force=True))

    return replace(
        model,
        state=tuple(names),
        drift=tuple(rewrite(e) for e in drift),
        diffusion=tuple(tuple(rewrite(e) for e in row) for row in diffusion),
        initial=tuple(math.log(v) if i in logged else v for i, v in enumerate(model.initial)),
        domain=tuple("real" if i in logged else d for i, d in enumerate(model.domain)),
    )


#: Step kinds that sample a GBM-type variable exactly in law.
EXACT_GBM_KINDS = schemes.labels_exact_on("gbm")


def exact_in_law(num: Numeric, kinds: Sequence[str]) -> frozenset[int]:
    """Variables the declared step kinds simulate exactly in law, jointly: the SDK's exact steps on variables
    of their type (`exact-ou`, `exact-gbm`, `exact-cir`), log-Euler on GBM-type variables whose noise
    coefficients are constant multiples of themselves, and Euler on a Gaussian subset whose drift is constant
    (arithmetic Brownian motion). Their estimates need no Richardson correction.

    The kinds come from the binary, which is untrusted; claiming exactness only makes its tests stricter
    (no bias is excused), so a lie cannot help a wrong binary pass."""
    if len(kinds) != num.dim:
        return frozenset()
    subs = num.model.substitutions()
    out = set()
    for i, x in enumerate(num.xs):
        if kinds[i] == schemes.EXACT_CIR.label and cir_type(num, i) is not None:
            out.add(i)
        if kinds[i] not in EXACT_GBM_KINDS or gbm_type(num, i) is None:
            continue
        if all(not sp.simplify(e.subs(subs) / x).free_symbols for e in num.model.diffusion[i]):
            out.add(i)
    gaussian = gaussian_subset(num, time=False)  # Euler is never exact on coefficients that depend on t
    if gaussian and all(gaussian_exact(num, kinds, i) for i in gaussian):
        out |= set(gaussian)
    out |= {i for i in num.jumps if levy_exact(num, kinds, i)}
    return frozenset(out)


def gaussian_exact(num: Numeric, kinds: Sequence[str], i: int) -> bool:
    """Whether variable ``i`` of a Gaussian subset is sampled exactly: the exact OU step, or Euler when its
    drift is constant (then nothing depends on the state and Euler is exact). Not when its drift or covariance
    depends on t: Euler's Σ b(t_k) h and Σ a(t_k) h are Riemann sums of the integrals, wrong by O(h)."""
    if not time_free(num, i):
        return False
    return kinds[i] == schemes.EXACT_OU.label or (kinds[i] == schemes.EULER.label and not num.drift[i].free_symbols)


def levy_exact(num: Numeric, kinds: Sequence[str], i: int) -> bool:
    """A Lévy-type variable under Euler: constant coefficients, and the SDK adds each step's compound-Poisson
    increment exactly (`sdk-rs/src/jumps.rs`), so every step is exact in law."""
    return len(kinds) == num.dim and kinds[i] == schemes.EULER.label and levy_type(num, i) is not None
