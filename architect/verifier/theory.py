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
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np
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


class NotPolynomial(ArchitectError):
    """The model is outside the polynomial class, so there are no exact moments from the generator."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PolynomialMoments:
    """Exact moments E[Π (X_i - s_i)^{e_i}] at time t of a polynomial diffusion, up to a fixed degree."""

    def __init__(self, state: tuple[str, ...], initial: np.ndarray, degree: int, generator: np.ndarray) -> None:
        self.state = state
        self.initial = np.asarray(initial, dtype=float)
        self.degree = degree
        self.basis = multi_indices(len(state), degree, min_degree=0)
        self._index = {e: k for k, e in enumerate(self.basis)}
        self.generator = generator
        self._cache: dict[float, np.ndarray] = {}

    @classmethod
    def from_model(cls, model: SdeModel, degree: int) -> PolynomialMoments:
        """Build the generator matrix on monomials of degree ≤ ``degree``; raises `NotPolynomial`."""
        if degree < 1:
            raise ValueError("degree must be at least 1")
        drift, cov = _polynomial_coefficients(model)
        basis = multi_indices(model.dim, degree, min_degree=0)
        generator = _generator_matrix(basis, drift, cov, _jump_moments(model, degree))
        return cls(model.state, np.array(model.initial, dtype=float), degree, generator)

    @property
    def dim(self) -> int:
        return len(self.state)

    def _moments(self, t: float) -> np.ndarray:
        """E[m(Y_t)] for every basis monomial m of the shifted state Y = X - x_0."""
        t = float(t)
        if not (t >= 0 and np.isfinite(t)):
            raise ValueError(f"time must be finite and non-negative, got {t!r}")
        if t not in self._cache:
            # m(Y_0) = m(0) is 1 for the constant (basis index 0) and 0 otherwise: column 0 of expm(tG).
            if len(self.basis) <= DENSE_BASIS:
                self._cache[t] = scipy.linalg.expm(t * self.generator)[:, 0].copy()
            else:
                # High degrees (the skewness guard needs degree 12) give large but very sparse G.
                unit0 = np.zeros(len(self.basis))
                unit0[0] = 1.0
                sparse = scipy.sparse.csr_matrix(t * self.generator)
                self._cache[t] = scipy.sparse.linalg.expm_multiply(sparse, unit0)
        return self._cache[t]

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
def _polynomial_coefficients(model: SdeModel) -> tuple[list[Poly], list[list[Poly]]]:
    """Drift (affine) and covariance (quadratic) as polynomials in y = x - x0, or `NotPolynomial`."""
    subs = model.substitutions()
    xs = model.state_symbols()
    # Exact binary value of each float, so the shift introduces no rounding before the final float().
    shift = {x: x + sp.Rational(v) for x, v in zip(xs, model.initial, strict=True)}
    drift = []
    for name, expr in zip(model.state, model.drift, strict=True):
        drift.append(_as_poly(sp.expand(expr.subs(subs)), xs, shift, 1, f"drift of {name}", "affine"))
    cov_matrix = _covariance(model)
    cov = []
    for i, name_i in enumerate(model.state):
        row = []
        for j, name_j in enumerate(model.state):
            what = f"instantaneous covariance a[{name_i},{name_j}] (σρσᵀ)"
            row.append(_as_poly(sp.expand(cov_matrix[i, j].subs(subs)), xs, shift, 2, what, "of degree ≤ 2"))
        cov.append(row)
    return drift, cov


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
    if TIME in expr.free_symbols:
        raise NotPolynomial(f"{what} depends on time t: {sp.sstr(expr)}")
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
