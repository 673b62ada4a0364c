"""The moment quantities the verifier tests, and the values they are tested against.

Per state variable: mean, variance, third and fourth central moment; per pair: covariance. Central
moments (rather than raw ones) separate shape from location, so a wrong volatility shows up in the
variance and a wrong skew in the third moment instead of everything at once. Their standard errors need
sample moments of twice their order, hence the simulator's power sums up to degree 8; with fewer only
mean, variance and covariance are tested. Cross-moments of order 3 and 4 are left out on purpose: there
are many, they are highly correlated with the per-variable ones, and each would cost Holm level.

A `Target` is what an estimate is compared with: an exact value from the generator (standard error 0) or
an empirical-reference estimate with its own standard error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from architect.kinds import QuantityKind, TheoryKind
from architect.verifier.multiindex import Exponent
from architect.verifier.sample import CheckpointMoments, Estimate
from architect.verifier.theory import PolynomialMoments, shifted_monomial

_ORDINAL = {3: "third", 4: "fourth"}
EXACT: Final[TheoryKind] = "exact"
REFERENCE: Final[TheoryKind] = "empirical reference"
#: The trusted compiler's binary of the same scheme at the same step count (`same_step_targets`).
SAME_STEPS: Final[TheoryKind] = "trusted scheme, same steps"


@dataclass(frozen=True)
class Quantity:
    kind: QuantityKind
    indices: tuple[int, ...]  # state indices in the statistics' order

    @property
    def order(self) -> int:
        return {"mean": 1, "variance": 2, "covariance": 2, "third moment": 3, "fourth moment": 4}[self.kind]

    def label(self, state: Sequence[str]) -> str:
        names = [state[i] for i in self.indices]
        if self.kind == "covariance":
            return f"covariance of {names[0]} and {names[1]}"
        if self.kind in ("third moment", "fourth moment"):
            return f"{_ORDINAL[self.order]} central moment of {names[0]}"
        return f"{self.kind} of {names[0]}"

    def estimate(self, cp: CheckpointMoments) -> Estimate:
        i = self.indices[0]
        if self.kind == "mean":
            return cp.mean(i)
        if self.kind == "variance":
            return cp.variance(i)
        if self.kind == "covariance":
            return cp.covariance(i, self.indices[1])
        return cp.central_moment(i, self.order)


def quantities(indices: Sequence[int], higher: bool, partners: Sequence[int] = ()) -> list[Quantity]:
    """Means, variances (and third/fourth central moments if ``higher``) of ``indices``; the covariance
    of every pair of ``indices`` and of every index with each of ``partners``."""
    chosen = set(indices)
    pool = sorted(chosen | set(partners))
    out = [Quantity("mean", (i,)) for i in indices]
    out += [Quantity("variance", (i,)) for i in indices]
    out += [
        Quantity("covariance", (i, j)) for a, i in enumerate(pool) for j in pool[a + 1 :] if i in chosen or j in chosen
    ]
    if higher:
        out += [Quantity(k, (i,)) for k in ("third moment", "fourth moment") for i in indices]
    return out


@dataclass(frozen=True)
class Target:
    value: float
    scale: float  # natural size of the quantity: the equivalence margin is tolerance x scale
    magnitude: float  # size of the raw power sums it is computed from: the rounding allowance
    std_error: float  # 0 for exact theory
    kind: TheoryKind  # EXACT | REFERENCE | SAME_STEPS
    #: Exact theory from the numerically solved moment ODE (time-dependent coefficients): the estimated bound
    #: on ``value``'s numerical error, which the check adds to its equivalence margin and states; None for expm.
    numerical_error: float | None = None


@dataclass(frozen=True)
class _Sizes:
    """Per-variable sizes used for margins: mean, standard deviation, rms distance from the shift, shift."""

    mean: np.ndarray
    sd: np.ndarray
    rms: np.ndarray
    shift: np.ndarray


def _target(q: Quantity, value: float, sizes: _Sizes, std_error: float, kind: TheoryKind) -> Target:
    i = q.indices[0]
    sd, rms = sizes.sd, sizes.rms
    if q.kind == "mean":
        scale, magnitude = max(abs(sizes.mean[i]), sd[i]), abs(sizes.shift[i]) + rms[i]
    elif q.kind in ("variance", "covariance"):
        j = q.indices[-1]
        scale, magnitude = sd[i] * sd[j], rms[i] * rms[j]
    else:
        scale = sd[i] ** q.order
        magnitude = (abs(sizes.mean[i] - sizes.shift[i]) + rms[i]) ** q.order
    return Target(float(value), float(scale), float(magnitude), float(std_error), kind)


def exact_targets(
    theory: PolynomialMoments, columns: Sequence[int], t: float, qs: Sequence[Quantity]
) -> dict[Quantity, Target]:
    """Exact values at time t; ``columns[k]`` is the statistics' index of the theory's k-th variable.

    From the moment ODE (time-dependent coefficients) each target also carries the estimated bound on its
    numerical error: its difference from the same quantity of the looser solve (`numerical_check`)."""
    out = _exact_targets(theory, columns, t, qs)
    check = theory.numerical_check()
    if check is None:
        return out
    loose = _exact_targets(check, columns, t, qs)
    return {q: replace(target, numerical_error=abs(target.value - loose[q].value)) for q, target in out.items()}


def _exact_targets(
    theory: PolynomialMoments, columns: Sequence[int], t: float, qs: Sequence[Quantity]
) -> dict[Quantity, Target]:
    where = {c: k for k, c in enumerate(columns)}
    d = theory.dim
    mean, cov = theory.mean(t), theory.covariance(t)
    raw2 = theory.expect(t, [tuple(2 * int(k == i) for k in range(d)) for i in range(d)], theory.initial)
    sizes = _Sizes(
        mean=_spread(mean, where),
        sd=_spread(np.sqrt(np.maximum(np.diag(cov), 0.0)), where),
        rms=_spread(np.sqrt(np.maximum(raw2, 0.0)), where),
        shift=_spread(theory.initial, where),
    )
    out = {}
    for q in qs:
        k = [where[i] for i in q.indices]
        if q.kind == "mean":
            value = mean[k[0]]
        elif q.kind in ("variance", "covariance"):
            value = cov[k[0], k[-1]]
        else:
            exponent = tuple(q.order * int(m == k[0]) for m in range(d))
            value = theory.expect(t, [exponent], mean)[0]
        out[q] = _target(q, value, sizes, 0.0, EXACT)
    return out


def _spread(values: np.ndarray, where: dict[int, int]) -> np.ndarray:
    """Place sub-model values at their statistics' indices (NaN elsewhere: never read)."""
    out = np.full(max(where) + 1, math.nan)
    for column, k in where.items():
        out[column] = values[k]
    return out


def richardson(coarse: Estimate, fine: Estimate) -> Estimate:
    """2·q(h/2) - q(h) of two independent runs: the O(h) bias removed, O(h²) left."""
    return extrapolate((coarse, fine))


#: Weights of independent runs at N, 2N (, 4N) steps in the estimate whose O(h) weak bias cancels. Two runs:
#: Richardson 2·q(h/2) - q(h), variance 5·se². Three runs: the least-squares intercept of q(h) = q + c·h
#: through h, h/2, h/4, i.e. (-q_N + q_2N + 2·q_4N)/2 — among all weights with Σw = 1 and Σw·h_k = 0 the one
#: of least variance for runs of equal size: 1.5·se², 1.8x the power of Richardson for free. Its O(h²)
#: residue is -5/16·d·h² (Richardson's: -d·h²/2), and it is orthogonal to the convergence contrast
#: (1, -3, 2), so under normality the two are independent.
EXTRAPOLATION: dict[int, tuple[float, ...]] = {2: (-1.0, 2.0), 3: (-0.5, 0.5, 1.0)}


def extrapolation_weights(runs: int) -> tuple[float, ...]:
    if runs not in EXTRAPOLATION:
        raise ValueError(f"extrapolation needs 2 or 3 runs (N, 2N, 4N steps), got {runs}")
    return EXTRAPOLATION[runs]


def extrapolate(runs: Sequence[Estimate]) -> Estimate:
    """The O(h)-bias-free combination of independent runs at N, 2N (, 4N) steps, with its standard error."""
    w = extrapolation_weights(len(runs))
    value = sum(wk * r.value for wk, r in zip(w, runs, strict=True))
    return Estimate(value, math.sqrt(sum((wk * r.std_error) ** 2 for wk, r in zip(w, runs, strict=True))))


def extrapolation_note(runs: int) -> str:
    """How the estimate was formed, for a check's detail."""
    return "Richardson 2·fine - coarse" if runs == 2 else "extrapolated (-coarse + fine + 2·finer)/2"


def reference_targets(
    coarse: CheckpointMoments, fine: CheckpointMoments, qs: Sequence[Quantity]
) -> dict[Quantity, Target]:
    """Richardson estimates of a trusted simulator's runs (steps M and 2M) as the values to compare with."""
    sizes = _sample_sizes(fine)
    return {
        q: _target(q, (r := richardson(q.estimate(coarse), q.estimate(fine))).value, sizes, r.std_error, REFERENCE)
        for q in qs
    }


def same_step_targets(run: CheckpointMoments, qs: Sequence[Quantity]) -> dict[Quantity, Target]:
    """A trusted simulator's own estimates at one step count, not extrapolated: the values a run of the tested
    scheme at the same steps must reproduce, discretisation error included."""
    sizes = _sample_sizes(run)
    return {q: _target(q, (e := q.estimate(run)).value, sizes, e.std_error, SAME_STEPS) for q in qs}


def _sample_sizes(cp: CheckpointMoments) -> _Sizes:
    d = cp.dim
    var = np.array([max(cp.variance(i).value, 0.0) for i in range(d)])
    raw2 = np.array([max(cp.moment(tuple(2 * int(k == i) for k in range(d))), 0.0) for i in range(d)])
    return _Sizes(
        mean=np.array([cp.mean(i).value for i in range(d)]),
        sd=np.sqrt(var),
        rms=np.sqrt(raw2),
        shift=np.array(cp.shift),
    )


# ------------------------------------------------------------------------------ the skewness guard
#: Largest skewness of a check's estimator at which its two-sided normal p-value is trusted. The first-order
#: Edgeworth term cancels in two-sided tests; the second-order one inflates the false-fail rate at the
#: levels Holm uses (z ≈ 4.3) by a factor of about 1 + 10·skewness², i.e. 1.4 here.
MAX_ESTIMATOR_SKEWNESS = 0.2
#: skewness(Σ w_k q_k) / (skewness/√n) for independent runs of n paths each is Σw³ / (Σw²)^{3/2}: 7 / 5^{3/2}
#: = 0.63 for Richardson's two runs, 1 / 1.5^{3/2} = 0.54 for the three-run extrapolation; the guard uses the
#: larger, so it holds for either.
RICHARDSON_SKEW = 7 / 5**1.5

#: E[Π (X_i - E X_i)^{e_i}] for an exponent over the statistics' variables, or None if unknown.
Central = Callable[[Exponent], float | None]


def _power(e: Exponent, i: int, k: int) -> Exponent:
    return tuple(a + k * (j == i) for j, a in enumerate(e))


def influence(q: Quantity, central: Central, dim: int) -> dict[Exponent, float] | None:
    """The estimator's influence function as a polynomial in the centred state Y = X - E X.

    mean: Y_i; variance: Y_i² - var; covariance: Y_i Y_j - C_ij; third: Y_i³ - 3 var Y_i - μ3;
    fourth: Y_i⁴ - 4μ3 Y_i - μ4 (the extra terms come from estimating the mean as well)."""
    zero = (0,) * dim
    i = q.indices[0]
    if q.kind == "mean":
        return {_power(zero, i, 1): 1.0}
    if q.kind == "covariance":
        e = _power(_power(zero, i, 1), q.indices[1], 1)
        c = central(e)
        return None if c is None else {e: 1.0, zero: -c}
    values = [central(_power(zero, i, k)) for k in (2, 3, 4)]
    if any(v is None for v in values[: q.order - 1]):
        return None
    var, mu3, mu4 = (v if v is not None else math.nan for v in values)  # the ones this order needs are known
    if q.kind == "variance":
        return {_power(zero, i, 2): 1.0, zero: -var}
    if q.kind == "third moment":
        return {_power(zero, i, 3): 1.0, _power(zero, i, 1): -3 * var, zero: -mu3}
    return {_power(zero, i, 4): 1.0, _power(zero, i, 1): -4 * mu3, zero: -mu4}


def _times(a: dict[Exponent, float], b: dict[Exponent, float]) -> dict[Exponent, float]:
    out: dict[Exponent, float] = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            key = tuple(x + y for x, y in zip(ea, eb, strict=True))
            out[key] = out.get(key, 0.0) + ca * cb
    return out


def _expect(poly: dict[Exponent, float], central: Central) -> float | None:
    total = 0.0
    for e, c in poly.items():
        value = 1.0 if sum(e) == 0 else central(e)
        if value is None:
            return None
        total += c * value
    return total


def estimator_skewness(q: Quantity, central: Central, dim: int) -> float | None:
    """Skewness of one path's contribution to the estimator, or None when the moments it needs are unknown."""
    f = influence(q, central, dim)
    if f is None:
        return None
    f2 = _times(f, f)
    var, third = _expect(f2, central), _expect(_times(f2, f), central)
    if var is None or third is None or not (math.isfinite(var) and math.isfinite(third)) or var <= 0:
        return None
    return third / var**1.5


def trusted(q: Quantity, central: Central, dim: int, paths: int) -> tuple[bool, float | None]:
    """Whether q's Richardson estimate is close enough to normal to test at Holm's levels, and the skewness.

    Unknown skewness keeps means, variances and covariances (tested without this guard before) and drops the
    third and fourth moments, whose estimators are the ones heavy tails break first."""
    zero = (0,) * dim
    if any(central(_power(zero, i, 2)) == 0.0 for i in q.indices):
        return True, None  # a deterministic component: its checks are decided by the equivalence margin
    skew = estimator_skewness(q, central, dim)
    if skew is None:
        return q.order <= 2, None
    return abs(skew) * RICHARDSON_SKEW / math.sqrt(max(paths, 1)) <= MAX_ESTIMATOR_SKEWNESS, skew


def theory_central(theory: PolynomialMoments, columns: Sequence[int], t: float) -> Central:
    """Central moments from the generator (``theory`` of degree ≥ 3 x the order tested)."""
    where = {c: k for k, c in enumerate(columns)}
    mean = theory.mean(t)
    fixed = _deterministic(theory.covariance(t).diagonal(), mean, theory.initial)

    def central(e: Exponent) -> float | None:
        if any(k and fixed[where[c]] for c, k in enumerate(e) if c in where):
            return 0.0
        sub = [0] * theory.dim
        for column, k in enumerate(e):
            if k:
                if column not in where:
                    return None
                sub[where[column]] = k
        if sum(sub) > theory.degree:
            return None
        return float(theory.expect(t, [tuple(sub)], mean)[0])

    return central


def _deterministic(var: np.ndarray, mean: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Components whose standard deviation is below 1e-6 of their size, i.e. rounding noise of the moments
    about the initial state: their central moments count as exactly 0."""
    size = np.abs(mean) + np.abs(shift)
    return np.asarray(var) <= (1e-6 * size) ** 2


def sample_central(cp: CheckpointMoments) -> Central:
    """Central moments from a trusted run's power sums (up to its moment degree)."""
    mean = np.array([cp.mean(i).value for i in range(cp.dim)])
    offset = np.array(cp.shift) - mean  # X - m = (X - s) + (s - m)
    fixed = _deterministic(np.array([cp.variance(i).value for i in range(cp.dim)]), mean, np.array(cp.shift))

    def central(e: Exponent) -> float | None:
        if any(k and fixed[i] for i, k in enumerate(e)):
            return 0.0
        if sum(e) > cp.degree:
            return None
        return float(sum(c * cp.moment(m) for m, c in shifted_monomial(e, offset).items()))

    return central
