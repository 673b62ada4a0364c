"""Exact moments of polynomial diffusions, derived from the model's own sympy expressions.

For a time-homogeneous diffusion with affine drift b and instantaneous covariance a = σρσᵀ of degree
at most 2 in the state, the generator L f = Σ b_i ∂_i f + ½ Σ a_ij ∂_ij f maps the polynomials of
degree ≤ n into themselves (Filipović & Larsson 2016, "Polynomial diffusions and applications in
finance"). With G the matrix of L on a monomial basis m (L m_j = Σ_k G[j, k] m_k), Dynkin's formula
gives d/dt E[m(X_t)] = G E[m(X_t)], hence E[m(X_t)] = expm(tG) m(x_0).

Compound-Poisson jumps of rate λ with sizes Y added to x_i contribute λ E[f(x + Y e_i) - f(x)] to L; on y^a that
is λ Σ_{k=1..a_i} C(a_i, k) E[Y^k] y^{a - k e_i}, of lower degree, so the basis stays closed (`verifier.jumps`).

We work in the shifted coordinates y = x - x_0 (the same shift the simulator's power sums use):
then m(y_0) is the unit vector of the constant monomial and moments near t = 0 are small numbers,
which avoids cancellation when central moments are formed from raw ones.

Time-dependent coefficients (issue #19): when b and a are still affine and quadratic in the state but their
coefficients are functions of t (dX = cos(t) dt + 0.3 dW, a Hull-White drift θ(t) - aX, a diffusion c e^{-t}),
each coefficient is split as Σ_u w_u g_u(t) over the distinct functions g_u of t, so the generator is
G(t) = G_0 + Σ_u g_u(t) G_u with constant matrices (G_0 the time-free part, jumps included), and Dynkin's
formula gives the linear ODE d/dt E[m(Y_t)] = G(t) E[m(Y_t)], E[m(Y_0)] = e_0. There is no matrix exponential
of a non-commuting G(t), so it is solved numerically: `scipy.integrate.solve_ivp`, DOP853 (order 8) at
rtol = ODE_RTOL with a negligible atol, from 0 to each t independently (no value depends on which times were
asked before). Its error is estimated against a second solve at the looser ODE_CHECK_RTOL: the difference of
any derived quantity bounds the error of the tighter solve generously (the error of an order-8 method falls
about 100-fold between the two tolerances). Models whose coefficients are free of t keep expm, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import sympy as sp

from architect.errors import ArchitectError
from architect.model import TIME, SdeModel
from architect.verifier.multiindex import Exponent, multi_indices, unit

#: Largest monomial basis whose exponential is formed densely; larger ones use a sparse exponential action.
DENSE_BASIS = 300

#: A polynomial in the shifted state as {exponent: coefficient}.
Poly = dict[Exponent, float]

#: The moment ODE of time-dependent coefficients (DOP853): its relative tolerance and the looser one of the
#: second solve that estimates its error. The absolute tolerance of a moment of degree k is rtol times the
#: smallest size of the degree-k moments over [0, t] (`PolynomialMoments._sizes`), so each is accurate relative
#: to its own scale without the tiny steps that relative control of moments that start at 0 would take;
#: ODE_ATOL only floors it.
ODE_RTOL = 1e-12
ODE_CHECK_RTOL = 1e-10
ODE_ATOL = 1e-300
ODE_METHOD = "DOP853"
#: Gauss-Legendre nodes of the integrals ∫ g(s) ds in the first Magnus term that sizes the moments, and the
#: times s = t/SIZE_POINTS, ..., t at which it does.
SIZE_NODES = 8
SIZE_POINTS = 8


@dataclass(frozen=True)
class TimeTerm:
    """One function g(t) of a time-dependent coefficient and its generator part: G(t) = G_0 + Σ g(t) G_g."""

    function: sp.Expr
    evaluate: Callable[[float], float]
    generator: np.ndarray


class NotPolynomial(ArchitectError):
    """The model is outside the polynomial class, so there are no exact moments from the generator."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PolynomialMoments:
    """Exact moments E[Π (X_i - s_i)^{e_i}] at time t of a polynomial diffusion, up to a fixed degree."""

    def __init__(
        self,
        state: tuple[str, ...],
        initial: np.ndarray,
        degree: int,
        generator: np.ndarray,
        time_terms: Sequence[TimeTerm] = (),
        rtol: float = ODE_RTOL,
    ) -> None:
        """``generator``: G (or G_0, the time-free part, when ``time_terms`` are given); ``rtol``: the moment
        ODE's relative tolerance (only used with ``time_terms``)."""
        self.state = state
        self.initial = np.asarray(initial, dtype=float)
        self.degree = degree
        self.basis = multi_indices(len(state), degree, min_degree=0)
        self._index = {e: k for k, e in enumerate(self.basis)}
        self.generator = generator
        self.time_terms = tuple(time_terms)
        self.rtol = rtol
        self._cache: dict[float, np.ndarray] = {}
        self._check: PolynomialMoments | None = None
        self.evaluations = 0  # right-hand sides of the moment ODE evaluated so far (cost, for tests and benches)

    @classmethod
    def from_model(cls, model: SdeModel, degree: int) -> PolynomialMoments:
        """Build the generator matrix on monomials of degree ≤ ``degree``; raises `NotPolynomial`."""
        if degree < 1:
            raise ValueError("degree must be at least 1")
        drift, cov, timed = _polynomial_coefficients(model)
        basis = multi_indices(model.dim, degree, min_degree=0)
        generator = _generator_matrix(basis, drift, cov, _jump_moments(model, degree))
        terms = [TimeTerm(g, _time_function(g), _generator_matrix(basis, d, c)) for g, (d, c) in timed.items()]
        return cls(model.state, np.array(model.initial, dtype=float), degree, generator, terms)

    @property
    def dim(self) -> int:
        return len(self.state)

    @property
    def time_dependent(self) -> bool:
        """Whether the moments come from the numerically solved moment ODE rather than expm."""
        return bool(self.time_terms)

    def method(self) -> str:
        """How the moments are computed, in words (for the report)."""
        if not self.time_dependent:
            return "expm(tG)"
        functions = ", ".join(sp.sstr(term.function) for term in self.time_terms)
        return (
            f"the moment ODE M' = G(t) M, G(t) = G_0 + Σ g(t) G_g over g in {{{functions}}}, solved by {ODE_METHOD} "
            f"at rtol {ODE_RTOL:g} (error estimated against a second solve at rtol {ODE_CHECK_RTOL:g})"
        )

    def numerical_check(self) -> PolynomialMoments | None:
        """The same moments solved at the looser ODE_CHECK_RTOL (None without time dependence): the difference
        of any quantity from the two estimates the numerical error of this one's (generously)."""
        if not self.time_dependent or self.rtol == ODE_CHECK_RTOL:
            return None
        if self._check is None:
            self._check = PolynomialMoments(
                self.state, self.initial, self.degree, self.generator, self.time_terms, ODE_CHECK_RTOL
            )
        return self._check

    def _moments(self, t: float) -> np.ndarray:
        """E[m(Y_t)] for every basis monomial m of the shifted state Y = X - x_0."""
        t = float(t)
        if not (t >= 0 and np.isfinite(t)):
            raise ValueError(f"time must be finite and non-negative, got {t!r}")
        if t not in self._cache:
            # m(Y_0) = m(0) is 1 for the constant (basis index 0) and 0 otherwise: column 0 of expm(tG).
            if self.time_dependent:
                self._cache[t] = self._solve(t)
            elif len(self.basis) <= DENSE_BASIS:
                self._cache[t] = scipy.linalg.expm(t * self.generator)[:, 0].copy()
            else:
                # High degrees (the skewness guard needs degree 12) give large but very sparse G.
                unit0 = np.zeros(len(self.basis))
                unit0[0] = 1.0
                sparse = scipy.sparse.csr_matrix(t * self.generator)
                self._cache[t] = scipy.sparse.linalg.expm_multiply(sparse, unit0)
        return self._cache[t]

    def _solve(self, t: float) -> np.ndarray:
        """E[m(Y_t)] from d/dt M = G(t) M, M(0) = e_0, by DOP853 from 0 to t; `NotPolynomial` when it fails."""
        start = np.zeros(len(self.basis))
        start[0] = 1.0
        if t == 0.0:
            return start
        large = len(self.basis) > DENSE_BASIS  # high degrees: large but very sparse matrices
        constant = scipy.sparse.csr_matrix(self.generator) if large else self.generator
        parts = [
            (term.evaluate, scipy.sparse.csr_matrix(term.generator) if large else term.generator)
            for term in self.time_terms
        ]

        def rhs(s: float, m: np.ndarray) -> np.ndarray:
            out = constant @ m
            for g, matrix in parts:
                out = out + g(s) * (matrix @ m)
            return np.asarray(out)

        atol = self.rtol * self._sizes(t)
        solution = scipy.integrate.solve_ivp(rhs, (0.0, t), start, method=ODE_METHOD, rtol=self.rtol, atol=atol)
        self.evaluations += solution.nfev
        end = solution.y[:, -1] if solution.y.size else np.full(len(self.basis), np.nan)
        if not solution.success or not np.all(np.isfinite(end)):
            raise NotPolynomial(f"the moment ODE could not be solved up to t={t:g}: {solution.message}")
        return np.array(end, dtype=float)

    def _sizes(self, t: float) -> np.ndarray:
        """Per basis monomial, a lower size of the moments of its degree over [0, t]: the smallest, over the times
        s = t/SIZE_POINTS, ..., t, of the largest |E[m(Y_s)]| among that degree's monomials, each from the first
        Magnus term expm(∫_0^s G) e_0 (exact when the G(s) commute; a size, not a value); floored at ODE_ATOL.

        The smallest over time, not the size at t: a moment that grows (a GBM's E[S^4] by e^45 over ten years
        of a rate rising to 2) must be solved accurately while it is small, or its early absolute error is
        amplified with it (measured: 3e-4 relative at t = 10 with sizes at t alone)."""
        nodes, weights = np.polynomial.legendre.leggauss(SIZE_NODES)
        degrees = np.array([sum(e) for e in self.basis])
        unit0 = np.zeros(len(self.basis))
        unit0[0] = 1.0
        smallest = np.full(self.degree + 1, np.inf)
        for k in range(1, SIZE_POINTS + 1):
            s = t * k / SIZE_POINTS
            times, w = 0.5 * s * (nodes + 1.0), 0.5 * s * weights
            omega = s * self.generator
            for term in self.time_terms:
                integral = sum(wj * term.evaluate(float(sj)) for sj, wj in zip(times, w, strict=True))
                omega = omega + integral * term.generator
            estimate = scipy.sparse.linalg.expm_multiply(scipy.sparse.csr_matrix(omega), unit0)
            size = np.zeros(self.degree + 1)
            np.maximum.at(size, degrees, np.abs(np.nan_to_num(estimate, nan=0.0, posinf=0.0, neginf=0.0)))
            smallest = np.minimum(smallest, size)
        return np.maximum(smallest[degrees], ODE_ATOL)

    def expect(self, t: float, exponents: Sequence[Sequence[int]], shift: Sequence[float] | np.ndarray) -> np.ndarray:
        """E[Π_i (X_i(t) - shift_i)^{e_i}] for each exponent e, as an array in the given order."""
        offset = self.initial - np.asarray(shift, dtype=float)  # X - s = Y + (x0 - s)
        moments = self._moments(t)
        out = np.empty(len(exponents))
        for row, e in enumerate(exponents):
            e = tuple(int(k) for k in e)
            if len(e) != self.dim or min(e) < 0 or sum(e) > self.degree:
                raise ValueError(f"exponent {list(e)} is outside degree {self.degree} in {self.dim} variables")
            out[row] = sum(c * moments[self._index[m]] for m, c in shifted_monomial(e, offset).items())
        return out

    def mean(self, t: float) -> np.ndarray:
        """E[X(t)], shape (D,)."""
        d = self.dim
        return self.initial + self.expect(t, [unit(d, i) for i in range(d)], self.initial)

    def covariance(self, t: float) -> np.ndarray:
        """Cov[X(t)], shape (D, D); needs degree ≥ 2."""
        d = self.dim
        first = self.expect(t, [unit(d, i) for i in range(d)], self.initial)
        out = np.empty((d, d))
        for i in range(d):
            for j in range(i, d):
                e = tuple(int(k == i) + int(k == j) for k in range(d))
                second = self.expect(t, [e], self.initial)[0]
                out[i, j] = out[j, i] = second - first[i] * first[j]
        return out


# --------------------------------------------------------------------------- model -> coefficients
#: Per function g of t: the drift and covariance polynomials its coefficient multiplies.
Timed = dict[sp.Expr, tuple[list[Poly], list[list[Poly]]]]


def _polynomial_coefficients(model: SdeModel) -> tuple[list[Poly], list[list[Poly]], Timed]:
    """Drift (affine) and covariance (quadratic) as polynomials in y = x - x0, or `NotPolynomial`: their
    time-free parts, and per function g(t) of time-dependent coefficients the parts it multiplies."""
    subs = model.substitutions()
    xs = model.state_symbols()
    d = model.dim
    # Exact binary value of each float, so the shift introduces no rounding before the final float().
    shift = {x: x + sp.Rational(v) for x, v in zip(xs, model.initial, strict=True)}
    timed: Timed = {}

    def part(g: sp.Expr) -> tuple[list[Poly], list[list[Poly]]]:
        return timed.setdefault(g, ([{} for _ in range(d)], [[{} for _ in range(d)] for _ in range(d)]))

    drift = []
    for i, (name, expr) in enumerate(zip(model.state, model.drift, strict=True)):
        constant, by_time = _split(sp.expand(expr.subs(subs)), xs, shift, 1, f"drift of {name}", "affine")
        drift.append(constant)
        for g, poly in by_time.items():
            part(g)[0][i] = poly
    cov_matrix = _covariance(model)
    cov = []
    for i, name_i in enumerate(model.state):
        row = []
        for j, name_j in enumerate(model.state):
            what = f"instantaneous covariance a[{name_i},{name_j}] (σρσᵀ)"
            constant, by_time = _split(sp.expand(cov_matrix[i, j].subs(subs)), xs, shift, 2, what, "of degree ≤ 2")
            row.append(constant)
            for g, poly in by_time.items():
                part(g)[1][i][j] = poly
        cov.append(row)
    return drift, cov, timed


def _split(
    expr: sp.Expr, xs: tuple[sp.Symbol, ...], shift: dict[sp.Symbol, sp.Expr], max_degree: int, what: str, kind: str
) -> tuple[Poly, dict[sp.Expr, Poly]]:
    """A time-free coefficient as before (`_as_poly`, bit for bit); one with t as its time-free part and
    {g(t): the polynomial g multiplies} (`_as_time_poly`)."""
    if TIME not in expr.free_symbols:
        return _as_poly(expr, xs, shift, max_degree, what, kind), {}
    return _as_time_poly(expr, xs, shift, max_degree, what, kind)


def _jump_moments(model: SdeModel, degree: int) -> dict[int, tuple[float, list[float]]]:
    """State index -> (λ, [E[Y^k] for k = 0..degree]) for each variable that jumps."""
    from architect.verifier.jumps import JumpLaw

    out = {}
    for jump in model.jumps:
        law = JumpLaw.of(jump, model.substitutions())
        moments = [law.raw_moment(k) for k in range(degree + 1)]
        if not all(np.isfinite(moments)):
            raise NotPolynomial(f"the jump sizes of {jump.variable} have no finite moments up to degree {degree}")
        out[model.state.index(jump.variable)] = (law.intensity, moments)
    return out


def _covariance(model: SdeModel) -> sp.Matrix:
    if model.noise_dim == 0:
        return sp.zeros(model.dim, model.dim)
    return model.covariance()


def _as_poly(
    expr: sp.Expr, xs: tuple[sp.Symbol, ...], shift: dict[sp.Symbol, sp.Expr], max_degree: int, what: str, kind: str
) -> Poly:
    if not expr.is_polynomial(*xs):
        raise NotPolynomial(f"{what} is not {kind} in the state: {sp.sstr(expr)}")
    poly = sp.Poly(expr, *xs)
    if poly.total_degree() > max_degree:
        raise NotPolynomial(f"{what} is not {kind} in the state: {sp.sstr(expr)} has degree {poly.total_degree()}")
    shifted = sp.Poly(sp.expand(expr.xreplace(shift)), *xs)
    out: Poly = {}
    for monom, coeff in shifted.terms():
        if not coeff.is_number:
            raise NotPolynomial(f"{what} has a coefficient that is not a number: {sp.sstr(coeff)}")
        value = float(coeff)
        if not np.isfinite(value):
            raise NotPolynomial(f"{what} has a non-finite coefficient: {sp.sstr(coeff)}")
        if value != 0.0:
            out[tuple(monom)] = value
    return out


def _as_time_poly(
    expr: sp.Expr, xs: tuple[sp.Symbol, ...], shift: dict[sp.Symbol, sp.Expr], max_degree: int, what: str, kind: str
) -> tuple[Poly, dict[sp.Expr, Poly]]:
    """``expr``, polynomial in the state with coefficients that are functions of t, split into its time-free
    part and Σ_g g(t) times (a polynomial with numeric coefficients), one g per distinct function of t."""
    if not expr.is_polynomial(*xs):
        raise NotPolynomial(f"{what} is not {kind} in the state: {sp.sstr(expr)}")
    poly = sp.Poly(expr, *xs)
    if poly.total_degree() > max_degree:
        raise NotPolynomial(f"{what} is not {kind} in the state: {sp.sstr(expr)} has degree {poly.total_degree()}")
    shifted = sp.Poly(sp.expand(expr.xreplace(shift)), *xs)
    constant: Poly = {}
    timed: dict[sp.Expr, Poly] = {}
    for monom, coeff in shifted.terms():
        if coeff.free_symbols - {TIME}:
            raise NotPolynomial(f"{what} has a coefficient that is not a function of t alone: {sp.sstr(coeff)}")
        for term in sp.Add.make_args(sp.expand(coeff)):
            number, g = term.as_independent(TIME, as_Add=False)
            try:
                value = float(number)
            except TypeError as exc:
                raise NotPolynomial(f"{what} has a coefficient that is not a real number: {sp.sstr(number)}") from exc
            if not np.isfinite(value):
                raise NotPolynomial(f"{what} has a non-finite coefficient: {sp.sstr(coeff)}")
            target = constant if TIME not in g.free_symbols else timed.setdefault(g, {})
            key = tuple(monom)
            target[key] = target.get(key, 0.0) + value
    return constant, timed


def _time_function(g: sp.Expr) -> Callable[[float], float]:
    """g(t) as a float function; `NotPolynomial` where it is not real and finite (e.g. log t at 0)."""
    try:
        compiled = sp.lambdify(TIME, g, modules=["scipy", "numpy"])
    except Exception as exc:  # sympy's printers raise many types for functions numpy lacks
        raise NotPolynomial(f"the coefficient function {sp.sstr(g)} of t cannot be evaluated: {exc}") from exc

    def value(t: float) -> float:
        with np.errstate(all="ignore"):
            out = compiled(t)
        if np.iscomplexobj(out) or not np.isfinite(out):
            raise NotPolynomial(f"the coefficient function {sp.sstr(g)} is not real and finite at t={t:g}")
        return float(out)

    return value


# ------------------------------------------------------------------------------ generator matrix
def _generator_matrix(
    basis: list[Exponent],
    drift: list[Poly],
    cov: list[list[Poly]],
    jumps: dict[int, tuple[float, list[float]]] | None = None,
) -> np.ndarray:
    index = {e: k for k, e in enumerate(basis)}
    g = np.zeros((len(basis), len(basis)))
    for row, alpha in enumerate(basis):
        applied = _apply_generator(alpha, drift, cov)
        for i, (rate, moments) in (jumps or {}).items():
            _add_jump_term(applied, alpha, i, rate, moments)
        for beta, coeff in applied.items():
            # Affine drift, quadratic a and jumps never raise the degree, so beta is always in the basis.
            g[row, index[beta]] += coeff
    return g


def _add_jump_term(out: Poly, alpha: Exponent, i: int, rate: float, moments: list[float]) -> None:
    """λ E[(y_i + Y)^a - y_i^a] y^{alpha without i} = λ Σ_{k ≥ 1} C(a, k) E[Y^k] y^{alpha - k e_i}."""
    a = alpha[i]
    for k in range(1, a + 1):
        key = tuple(e - k if j == i else e for j, e in enumerate(alpha))
        out[key] = out.get(key, 0.0) + rate * comb(a, k) * moments[k]


def _apply_generator(alpha: Exponent, drift: list[Poly], cov: list[list[Poly]]) -> Poly:
    """L y^alpha = Σ_i b_i ∂_i y^alpha + ½ Σ_ij a_ij ∂_i ∂_j y^alpha, as a polynomial."""
    d = len(alpha)
    out: Poly = {}
    for i in range(d):
        if alpha[i] == 0:
            continue
        lowered = _lower(alpha, i)
        _add_product(out, drift[i], lowered, alpha[i])
        for j in range(d):
            factor = alpha[i] * (alpha[j] - (i == j))
            if factor > 0:
                _add_product(out, cov[i][j], _lower(lowered, j), 0.5 * factor)
    return out


def _lower(alpha: Exponent, i: int) -> Exponent:
    return tuple(a - (k == i) for k, a in enumerate(alpha))


def _add_product(out: Poly, poly: Poly, monomial: Exponent, factor: float) -> None:
    for e, c in poly.items():
        key = tuple(a + b for a, b in zip(e, monomial, strict=True))
        out[key] = out.get(key, 0.0) + factor * c


def shifted_monomial(e: Exponent, offset: np.ndarray) -> dict[Exponent, float]:
    """Π_i (y_i + offset_i)^{e_i} expanded into monomials of y (binomial theorem per variable)."""
    terms: dict[Exponent, float] = {(): 1.0}
    for power, c in zip(e, offset, strict=True):
        terms = {
            (*m, k): v * comb(power, k) * float(c) ** (power - k) for m, v in terms.items() for k in range(power + 1)
        }
    return terms
