"""Exact transition laws, detected from the model's structure, and tests of the simulated terminal states.

Laws (at the horizon T, from the initial state):
- closed Gaussian subset (affine drift, constant covariance: OU, Vasicek, ABM, correlated linear
  systems): normal, with mean and covariance from the generator; each marginal and the projection on the
  direction of least variance (the one most sensitive to a wrong correlation) are tested;
- GBM type, b = m x, a = s² x²: log X_T ~ N(log x0 + (m - s²/2) T, s² T);
- CIR type, b = alpha + beta x, a = c x (kappa = -beta): X_T = k·chi'²(4 alpha/c, x0 e^{-kappa T}/k),
  k = c (1 - e^{-kappa T}) / (4 kappa);
- Lévy type with normal jump sizes (Merton 1976 in log-price form), dx = b dt + s dW + dJ: a Poisson mixture
  of normals, Σ_n P(N_T = n) N(x0 + bT + n m, s²T + n δ²).

Tests. A simulator whose scheme is exact in law for that component (log-Euler on GBM type, Euler on
constant coefficients) has no time-step bias: its terminal states from all runs are pooled and compared
with the law by the Kolmogorov-Smirnov test. Every other scheme has an O(h) weak error, also for the
probabilities of intervals (Bally & Talay 1996), so its empirical law is not the exact one. We take K
bins of equal probability under the exact law, form the extrapolated frequencies R_b = Σ_k w_k f_b(h_k) of
the independent runs at N, 2N, 4N steps (weights (-1/2, 1/2, 1), `quantities.EXTRAPOLATION`; Richardson's
(-1, 2) with two runs), whose bias is O(h²), and use Pearson's statistic Q = n_eff Σ_b (R_b - p_b)² / p_b
with n_eff = 1 / Σ_k (w_k² / n_k): the extrapolated vector has covariance (diag p - p pᵀ)/n_eff, so
Q ~ χ²(K - 1) under the null. This is the bias-corrected CDF at K - 1 grid points with its exact
multinomial covariance (Mahalanobis form), not a heuristic band.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.optimize import brentq

from architect.verifier.check_result import POWER, Check
from architect.verifier.jumps import NormalMixture
from architect.verifier.quantities import EXACT, extrapolation_weights
from architect.verifier.structure import (
    EXACT_GBM_KINDS,
    Numeric,
    cir_type,
    gaussian_exact,
    gaussian_subset,
    gbm_type,
    levy_exact,
    levy_type,
    restrict,
)
from architect.verifier.theory import PolynomialMoments

#: Bins of the (generalised) Richardson chi-square test (equal probability under the exact law).
BINS = 20
#: Histogram bins and density grid points for the report's plots.
HISTOGRAM_BINS = 60
DENSITY_POINTS = 200
#: A Gaussian direction whose variance is below this fraction of the largest is treated as degenerate.
DEGENERATE = 1e-10


@dataclass(frozen=True)
class LawSpec:
    """The exact law of one linear functional w·X_T of the terminal state."""

    label: str  # "x", or "projection 0.707·x - 0.707·y"
    law: str  # "normal" | "lognormal" | "scaled non-central chi-square"
    parameters: str  # human-readable parameters of the law
    dist: Any  # a frozen scipy.stats distribution
    weights: np.ndarray  # over the statistics' state columns
    exact_when: Callable[[Sequence[str]], bool] = field(repr=False)  # step kinds -> scheme exact in law?

    def sample(self, terminal: np.ndarray) -> np.ndarray:
        return terminal @ self.weights


def exact_laws(
    num: Numeric, horizon: float, notes: list[str] | None = None, kinds: Sequence[str] = ()
) -> list[LawSpec]:
    """Every exact terminal law the model's structure gives (possibly none); reasons for laws left out go to notes.

    A CIR-type law with 4 alpha/c < 2 degrees of freedom (the Feller condition fails) is tested only when the
    step ``kinds`` sample it exactly (`exact-cir`: the non-central chi-square transition holds whatever the
    Feller condition). Otherwise the process reaches zero, a truncated scheme piles an atom there whose mass
    shrinks like sqrt(h), not h, so no extrapolated law test is valid (its moments still are tested)."""
    gaussian = gaussian_subset(num)
    out = _gaussian_laws(num, gaussian, horizon) if gaussian else []
    for i in range(num.dim):
        if i in gaussian:
            continue
        if (levy := levy_type(num, i)) is not None and levy.jump.law == "normal":
            out.append(_normal_mixture(num, i, levy.b, levy.s2, horizon))
        elif (g := gbm_type(num, i)) is not None:
            out.append(_lognormal(num, g.index, g.m, g.s2, horizon))
        elif (c := cir_type(num, i)) is not None:
            law = _noncentral(num, c.index, c.alpha, c.beta, c.c, horizon)
            if 4 * c.alpha / c.c >= 2 or law.exact_when(kinds):
                out.append(law)
            elif notes is not None:
                notes.append(
                    f"law of {num.model.state[i]} not tested: the Feller condition fails (it reaches zero), and the "
                    "truncated scheme's law near zero converges at order 1/2, not 1"
                )
    return out


def _unit(d: int, i: int) -> np.ndarray:
    w = np.zeros(d)
    w[i] = 1.0
    return w


def _gaussian_laws(num: Numeric, subset: tuple[int, ...], horizon: float) -> list[LawSpec]:
    sub = restrict(num.model, subset)
    pm = PolynomialMoments.from_model(sub, 2)
    mean, cov = pm.mean(horizon), pm.covariance(horizon)

    def exact(kinds: Sequence[str]) -> bool:
        return len(kinds) == num.dim and all(gaussian_exact(num, kinds, i) for i in subset)

    out = []
    top = float(np.max(np.diag(cov), initial=0.0))
    for k, i in enumerate(subset):
        if cov[k, k] > DEGENERATE * top and cov[k, k] > 0:
            sd = math.sqrt(cov[k, k])
            params = f"mean {mean[k]:.6g}, sd {sd:.6g}"
            out.append(LawSpec(num.model.state[i], "normal", params, stats.norm(mean[k], sd), _unit(num.dim, i), exact))
    if len(subset) >= 2:
        values, vectors = np.linalg.eigh(cov)
        if values[0] > DEGENERATE * top:
            w_sub = vectors[:, 0] * (1 if vectors[np.argmax(np.abs(vectors[:, 0])), 0] > 0 else -1)
            weights = np.zeros(num.dim)
            weights[list(subset)] = w_sub
            label = "projection " + " ".join(
                f"{'-' if w < 0 else '+'} {abs(w):.3g}·{num.model.state[i]}" for i, w in zip(subset, w_sub, strict=True)
            ).lstrip("+ ")
            m, sd = float(w_sub @ mean), math.sqrt(values[0])
            params = f"mean {m:.6g}, sd {sd:.6g} (least-variance direction)"
            out.append(LawSpec(label, "normal", params, stats.norm(m, sd), weights, exact))
    return out


def _lognormal(num: Numeric, i: int, m: float, s2: float, horizon: float) -> LawSpec:
    x0 = num.model.initial[i]
    mu_log, sd_log = math.log(x0) + (m - s2 / 2) * horizon, math.sqrt(s2 * horizon)
    params = f"log-mean {mu_log:.6g}, log-sd {sd_log:.6g}"
    dist = stats.lognorm(s=sd_log, scale=math.exp(mu_log))

    def exact(kinds: Sequence[str]) -> bool:
        return len(kinds) == num.dim and kinds[i] in EXACT_GBM_KINDS

    return LawSpec(num.model.state[i], "lognormal", params, dist, _unit(num.dim, i), exact)


def _normal_mixture(num: Numeric, i: int, b: float, s2: float, horizon: float) -> LawSpec:
    jump = num.jumps[i]
    m, delta = jump.size
    mean, poisson = num.model.initial[i] + b * horizon, jump.intensity * horizon
    dist = NormalMixture(mean, s2 * horizon, poisson, m, delta * delta)
    params = (
        f"x0 + bT = {mean:.6g}, diffusion variance {s2 * horizon:.6g}, "
        f"Poisson({poisson:.6g}) jumps N({m:g}, {delta:g}²)"
    )

    def exact(kinds: Sequence[str]) -> bool:
        return levy_exact(num, kinds, i)

    return LawSpec(num.model.state[i], "Poisson mixture of normals", params, dist, _unit(num.dim, i), exact)


def _noncentral(num: Numeric, i: int, alpha: float, beta: float, c: float, horizon: float) -> LawSpec:
    kappa, x0 = -beta, num.model.initial[i]
    scale = c * (1 - math.exp(-kappa * horizon)) / (4 * kappa)
    df, nc = 4 * alpha / c, x0 * math.exp(-kappa * horizon) / scale
    params = f"scale {scale:.6g}, df {df:.6g}, non-centrality {nc:.6g}"
    dist = stats.ncx2(df, nc, scale=scale)

    def exact(kinds: Sequence[str]) -> bool:
        return len(kinds) == num.dim and kinds[i] == "exact-cir"

    return LawSpec(num.model.state[i], "scaled non-central chi-square", params, dist, _unit(num.dim, i), exact)


# ------------------------------------------------------------------------------------- the tests
@dataclass(frozen=True)
class LawTest:
    test: str  # "Kolmogorov-Smirnov" | "Richardson chi-square"
    statistic: float
    p_value: float
    detectable: float  # CDF error detected with probability ≥ power at the given level
    detail: str


def ks_test(sample: np.ndarray, spec: LawSpec) -> tuple[float, float]:
    result = stats.kstest(sample, spec.dist.cdf)
    return float(result.statistic), float(result.pvalue)


def ks_detectable(n: int, level: float, power: float) -> float:
    """A sup-CDF error this large is rejected with probability ≥ power: the KS critical value at ``level``
    (bounded by Massart's DKWM constant, sqrt(log(2/level) / (2n))) plus the DKWM bound on the sampling
    noise that holds with probability ``power``."""
    return math.sqrt(math.log(2 / level) / (2 * n)) + math.sqrt(math.log(2 / (1 - power)) / (2 * n))


def richardson_chi_square(samples: Sequence[np.ndarray], spec: LawSpec) -> tuple[float, float, float]:
    """(Q, p-value, n_eff) of the Pearson test of the extrapolated frequencies of runs at N, 2N (, 4N) steps
    on BINS equiprobable bins."""
    p = np.full(BINS, 1.0 / BINS)
    edges = spec.dist.ppf(np.arange(1, BINS) / BINS)
    w = extrapolation_weights(len(samples))
    freqs = [np.bincount(np.searchsorted(edges, x, side="right"), minlength=BINS) / len(x) for x in samples]
    extrapolated = sum(wk * f for wk, f in zip(w, freqs, strict=True))
    n_eff = 1.0 / sum(wk**2 / len(x) for wk, x in zip(w, samples, strict=True))
    q = float(n_eff * np.sum((extrapolated - p) ** 2 / p))
    return q, float(stats.chi2.sf(q, BINS - 1)), n_eff


def chi_square_detectable(n_eff: float, level: float, power: float) -> float:
    """A CDF error δ at one grid point gives noncentrality ≥ n_eff δ² / (F(1-F)) ≥ 4 n_eff δ² (Cauchy-Schwarz:
    dᵀΣ⁻¹d ≥ d_j²/Σ_jj); δ = sqrt(λ*/(4 n_eff)), with λ* the noncentrality rejected with probability ``power``."""
    critical = stats.chi2.isf(level, BINS - 1)

    def shortfall(lam: float) -> float:
        return float(stats.ncx2.sf(critical, BINS - 1, lam)) - power

    lam = brentq(shortfall, 1e-9, 1e5)
    return math.sqrt(lam / (4 * n_eff))


def plot_data(spec: LawSpec, sample: np.ndarray) -> dict[str, list[float] | int]:
    """Histogram of a sample and the exact density on a grid, over the law's central 99.9 %."""
    lo, hi = (float(v) for v in spec.dist.ppf([0.0005, 0.9995]))
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(sample, bins=edges)
    x = np.linspace(lo, hi, DENSITY_POINTS)
    return {
        "bin_edges": edges.tolist(),
        "counts": counts.astype(int).tolist(),
        "paths": len(sample),
        "density_x": x.tolist(),
        "density_y": spec.dist.pdf(x).tolist(),
    }


def distribution_checks(
    laws: Sequence[LawSpec], terminal: Sequence[np.ndarray], kinds: Sequence[str], horizon: float
) -> list[Check]:
    """One check per law: KS on pooled runs for schemes exact in law, Richardson chi-square otherwise.

    ``terminal`` holds the terminal states of the coarse, fine (and possibly further) runs, in that order.
    """
    return [_distribution_check(spec, terminal, kinds, horizon) for spec in laws]


def _distribution_check(spec: LawSpec, terminal: Sequence[np.ndarray], kinds: Sequence[str], horizon: float) -> Check:
    samples = [spec.sample(x) for x in terminal]
    name = f"law of {spec.label} at t={horizon:g}: {spec.law}"
    if spec.exact_when(kinds):
        pooled = np.concatenate(samples)
        d, p = ks_test(pooled, spec)
        n = len(pooled)
        detail = (
            f"the scheme ({', '.join(dict.fromkeys(kinds))}) is exact in law here, so the {len(samples)} runs' "
            f"{n} terminal states are pooled; Kolmogorov-Smirnov D = {d:.4g} against {spec.law} ({spec.parameters})"
        )
        test, plot_sample = "Kolmogorov-Smirnov", pooled

        def detector(level: float) -> float:
            return ks_detectable(n, level, POWER)

    else:
        q, p, n_eff = richardson_chi_square(samples, spec)
        d = q
        how = (
            "Richardson frequencies 2·f(h/2) - f(h)"
            if len(samples) == 2
            else "extrapolated frequencies (-f(h) + f(h/2) + 2·f(h/4))/2"
        )
        detail = (
            f"{how} on {BINS} bins of equal probability under {spec.law} "
            f"({spec.parameters}); Pearson Q = {q:.4g} on {BINS - 1} degrees of freedom, effective sample size "
            f"{n_eff:.0f}"
        )
        test, plot_sample = "Richardson chi-square", samples[-1]

        def detector(level: float) -> float:
            return chi_square_detectable(n_eff, level, POWER)

    return Check(
        name=name,
        kind="distribution",
        time=horizon,
        statistic=d,
        p_value=p,
        detail=detail,
        theory_kind=EXACT,
        reference_size=1.0,
        detector=detector,
        plot={
            "state": spec.label,
            "time": horizon,
            "law": f"{spec.law} ({spec.parameters})",
            "test": test,
            **plot_data(spec, plot_sample),
        },
    )
