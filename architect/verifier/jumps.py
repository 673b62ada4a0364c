"""The jump part's exact theory: raw moments of the sizes, characteristic functions, the Merton law and prices.

A compound-Poisson part J of rate λ with i.i.d. sizes Y adds λ E[f(x + Y) - f(x)] to the generator. On a
monomial y_i^a that is λ Σ_{k=1..a} C(a, k) E[Y^k] y_i^{a-k}: it lowers the degree, so a polynomial diffusion
with jumps whose sizes have moments is still a polynomial model (Filipović & Larsson 2016, §2 with jumps) and
`theory.PolynomialMoments` takes them in. Over a time t, log E[e^{iu J_t}] = λ t (φ_Y(u) - 1), which multiplies
any independent diffusion's characteristic function (Bates 1996: Heston times jumps; Kou 2002).

Size laws (`architect.model.JUMP_LAWS`):
- normal N(m, δ²) (Merton 1976): φ(u) = exp(ium - δ²u²/2); E[Y^k] by μ_k = m μ_{k-1} + (k-1) δ² μ_{k-2};
- double exponential (Kou 2002): density p η1 e^{-η1 y} (y > 0) + (1-p) η2 e^{η2 y} (y < 0);
  φ(u) = p η1/(η1 - iu) + (1-p) η2/(η2 + iu); E[Y^k] = k! (p/η1^k + (1-p)(-1)^k/η2^k).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import integrate
from scipy.optimize import brentq
from scipy.stats import norm

from architect.model import JumpPart
from architect.verifier.black_scholes import black_scholes_call

#: Poisson terms kept in the Merton series and mixture: the neglected mass is below this.
POISSON_TAIL = 1e-14


@dataclass(frozen=True)
class JumpLaw:
    """A jump part with its parameter values substituted."""

    intensity: float
    law: str  # "normal" | "double-exponential"
    size: tuple[float, ...]  # (mean, sd) | (p, eta1, eta2)

    @classmethod
    def of(cls, jump: JumpPart, subs: dict[sp.Symbol, sp.Expr]) -> JumpLaw:
        values = jump.values(subs)
        return cls(values.pop("intensity"), jump.law, tuple(values.values()))

    def raw_moment(self, k: int) -> float:
        """E[Y^k]."""
        if self.law == "normal":
            m, s = self.size
            prev, cur = 1.0, m  # μ_0, μ_1
            if k == 0:
                return 1.0
            for j in range(2, k + 1):
                prev, cur = cur, m * cur + (j - 1) * s * s * prev
            return cur
        p, eta1, eta2 = self.size
        return math.factorial(k) * (p / eta1**k + (1 - p) * (-1) ** k / eta2**k)

    def size_cf(self, u: complex) -> complex:
        """φ_Y(u) = E[exp(iuY)] (also for complex u inside the strip where it exists)."""
        if self.law == "normal":
            m, s = self.size
            return complex(np.exp(1j * u * m - 0.5 * s * s * u * u))
        p, eta1, eta2 = self.size
        return complex(p * eta1 / (eta1 - 1j * u) + (1 - p) * eta2 / (eta2 + 1j * u))

    def log_cf(self, u: complex, t: float) -> complex:
        """log E[exp(iu J_t)] = λ t (φ_Y(u) - 1)."""
        return self.intensity * t * (self.size_cf(u) - 1)

    @property
    def compensator(self) -> float:
        """κ = E[e^Y] - 1: the drift -λκ makes e^{J_t} - compensated a martingale."""
        return (self.size_cf(-1j)).real - 1

    def describe(self) -> str:
        if self.law == "normal":
            return f"rate {self.intensity:g}, sizes N({self.size[0]:g}, {self.size[1]:g}²)"
        p, eta1, eta2 = self.size
        return f"rate {self.intensity:g}, sizes double exponential (p {p:g}, eta1 {eta1:g}, eta2 {eta2:g})"


# ------------------------------------------------------------------------- Merton: the exact law
def poisson_terms(mean: float) -> range:
    """Counts n whose Poisson(mean) probabilities carry all but `POISSON_TAIL` of the mass."""
    n, mass, term = 0, 0.0, math.exp(-mean)
    while mass + term < 1 - POISSON_TAIL and n < 10_000:
        mass += term
        n += 1
        term *= mean / n
    return range(n + 1)


class NormalMixture:
    """The law of b + s W + Σ_{k ≤ N} Y_k with N ~ Poisson(Λ), Y ~ N(m, δ²): Σ_n P(N = n) N(b + nm, s² + nδ²).

    The exact law of a Merton log-price at a fixed time (Merton 1976); cdf/pdf/ppf as scipy's frozen laws."""

    def __init__(self, mean: float, var: float, poisson_mean: float, jump_mean: float, jump_var: float) -> None:
        ns = np.array(poisson_terms(poisson_mean), dtype=float)
        log_w = -poisson_mean + ns * math.log(poisson_mean) - np.array([math.lgamma(n + 1) for n in ns])
        self.weights = np.exp(log_w) if poisson_mean > 0 else (ns == 0).astype(float)
        self.means = mean + ns * jump_mean
        self.sds = np.sqrt(var + ns * jump_var)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.sum(self.weights * norm.cdf((x[..., None] - self.means) / self.sds), axis=-1)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.sum(self.weights * norm.pdf((x[..., None] - self.means) / self.sds) / self.sds, axis=-1)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        q = np.atleast_1d(np.asarray(q, dtype=float))
        lo = float(np.min(self.means - 40 * self.sds))
        hi = float(np.max(self.means + 40 * self.sds))
        out = [brentq(lambda x, p=p: float(self.cdf(x)) - p, lo, hi, xtol=1e-13) for p in q]
        return np.array(out)


# ------------------------------------------------------------------------------------- prices
def merton_call(s0: float, strike: float, maturity: float, rate: float, vol: float, jump: JumpLaw) -> float:
    """Merton (1976), eq. (16): Σ_n e^{-λ'T}(λ'T)^n/n! BS(S0, K, T, r_n, s_n), λ' = λ(1 + κ),
    s_n² = s² + nδ²/T, r_n = r - λκ + n log(1 + κ)/T (normal log-jump sizes, i.e. log-normal price jumps)."""
    m, delta = jump.size
    kappa = jump.compensator
    lam_prime = jump.intensity * (1 + kappa) * maturity
    total = 0.0
    for n in poisson_terms(lam_prime):
        weight = math.exp(-lam_prime + n * math.log(lam_prime) - math.lgamma(n + 1)) if lam_prime > 0 else float(n == 0)
        vol_n = math.sqrt(vol * vol + n * delta * delta / maturity)
        rate_n = rate - jump.intensity * kappa + n * (m + delta * delta / 2) / maturity
        total += weight * black_scholes_call(s0, strike, maturity, rate_n, vol_n)
    return total


def cf_call(s0: float, strike: float, maturity: float, rate: float, log_cf: object) -> float:
    """e^{-rT} E[(S_T - K)^+] from log E[exp(iu (log S_T - log S0))] by Gil-Pelaez inversion (Heston 1993's
    P1, P2): S0 P1 - K e^{-rT} P2. ``log_cf`` must satisfy log_cf(-i) = rT (a martingale after discounting)."""
    k = math.log(strike / s0)
    forward = log_cf(-1j)  # type: ignore[operator]

    def integrand(u: float, shift: complex, norm_log: complex) -> float:
        value = np.exp(log_cf(u + shift) - norm_log - 1j * u * k) / (1j * u)  # type: ignore[operator]
        return float(value.real)

    def probability(shift: complex, norm_log: complex) -> float:
        total, _ = integrate.quad(integrand, 0.0, np.inf, args=(shift, norm_log), limit=500, epsabs=1e-12, epsrel=1e-10)
        return 0.5 + total / math.pi

    p1 = probability(-1j, forward)
    p2 = probability(0.0, 0.0)
    return float(s0 * p1 - strike * math.exp(-rate * maturity) * p2)


def levy_log_cf(drift: float, var: float, jump: JumpLaw, maturity: float) -> object:
    """u -> log E[exp(iu (x_T - x_0))] for dx = drift dt + sqrt(var) dW + dJ (constant coefficients)."""

    def log_cf(u: complex) -> complex:
        return complex(1j * u * drift * maturity - 0.5 * var * u * u * maturity + jump.log_cf(u, maturity))

    return log_cf
