"""European call prices with closed forms, detected from the model's structure, as checks of terminal states.

- GBM type in S (b = m S, a = s² S²): Black-Scholes with r = m, volatility s.
- Heston type in (x = log S, v) (see `structure.HestonPair`): the semi-closed Heston (1993) formula,
  with the characteristic function in the "little Heston trap" form of Albrecher, Mayer, Schoutens and
  Tistaert (2007), which stays on the principal branch of the complex logarithm for all maturities, and
  the two probabilities integrated with scipy's adaptive quadrature.

- Lévy type in x = log S (constant coefficients plus compound-Poisson jumps): Merton (1976)'s series for normal
  log-jumps, the characteristic-function formula (the same Gil-Pelaez integrals) for Kou (2002)'s double
  exponential ones; Heston pairs whose x jumps (Bates 1996): the Heston characteristic function times the
  jumps' exp(λT(φ_Y(u) - 1)). With jumps the rate is the drift's constant plus λκ, κ = E[e^Y] - 1, the
  compensator the drift subtracts.

The discount rate is the model's own growth rate r = m (the constant in the log-price drift), so
e^{-rT} S_T is a martingale and the price is e^{-rT} E[(S_T - K)^+] under the simulated dynamics. Strikes are
S0·exp(z·vol·√T) for z = -1, 0, 1 with vol the (average) volatility: at the money and one standard deviation
either side, so every price is of a size a relative error means something for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from architect.verifier.black_scholes import black_scholes_call
from architect.verifier.check_result import Check, z_test
from architect.verifier.jumps import JumpLaw, cf_call, levy_log_cf, merton_call
from architect.verifier.quantities import (
    EXACT,
    MAX_ESTIMATOR_SKEWNESS,
    RICHARDSON_SKEW,
    extrapolate,
    extrapolation_note,
)
from architect.verifier.sample import Estimate
from architect.verifier.structure import (
    EXACT_GBM_KINDS,
    HestonPair,
    LevyType,
    Numeric,
    gbm_type,
    heston_pairs,
    levy_exact,
    levy_type,
)

#: Strikes in standard deviations of log S_T around S0.
STRIKE_SCORES = (-1.0, 0.0, 1.0)


@dataclass(frozen=True)
class HestonParameters:
    v0: float
    kappa: float
    theta: float
    xi: float
    rho: float


def heston_log_cf(u: complex, maturity: float, rate: float, p: HestonParameters) -> complex:
    """log E[exp(iu (x_T - x_0))] in the little-trap form (Albrecher et al. 2007)."""
    b = p.kappa - 1j * p.rho * p.xi * u
    d = np.sqrt(b * b + p.xi**2 * (u * u + 1j * u))
    g = (b - d) / (b + d)
    e = np.exp(-d * maturity)
    big_d = (b - d) / p.xi**2 * (1 - e) / (1 - g * e)
    big_c = p.kappa * p.theta / p.xi**2 * ((b - d) * maturity - 2 * np.log((1 - g * e) / (1 - g)))
    return complex(1j * u * rate * maturity + big_c + big_d * p.v0)


def heston_call(
    s0: float, strike: float, maturity: float, rate: float, p: HestonParameters, jump: JumpLaw | None = None
) -> float:
    """e^{-rT} E[(S_T - K)^+] = S0 P1 - K e^{-rT} P2 (Heston 1993), P_j by Gil-Pelaez inversion; with ``jump``
    the log-price also jumps (Bates 1996) and ``rate`` is the log-price drift's constant plus λκ."""
    if jump is None:
        return cf_call(s0, strike, maturity, rate, lambda u: heston_log_cf(u, maturity, rate, p))
    drift = rate - jump.intensity * jump.compensator

    def log_cf(u: complex) -> complex:
        return heston_log_cf(u, maturity, drift, p) + jump.log_cf(u, maturity)

    return cf_call(s0, strike, maturity, rate, log_cf)


# ------------------------------------------------------------------------------------ detection
@dataclass(frozen=True)
class PriceSpec:
    """A call on an asset read off the terminal states, with its exact price."""

    name: str  # "call on S, K = 100 (Black-Scholes)"
    asset: str
    strike: float
    rate: float
    maturity: float
    theory: float
    engine: str
    score: float  # strike in standard deviations of log S_T from S0 (0: at the money)
    spot: Callable[[np.ndarray], np.ndarray] = field(repr=False)  # terminal states -> asset prices
    exact_when: Callable[[Sequence[str]], bool] = field(repr=False)

    def discounted_payoffs(self, terminal: np.ndarray) -> np.ndarray:
        return math.exp(-self.rate * self.maturity) * np.maximum(self.spot(terminal) - self.strike, 0.0)


def price_specs(num: Numeric, horizon: float, logged: Sequence[int] = ()) -> list[PriceSpec]:
    """Calls priced in closed form for this model; ``num`` may be a log-transformed view of the simulated
    model, in which case the ``logged`` columns of the terminal states are prices, not log-prices."""
    out = []
    if not logged:
        for i in range(num.dim):
            if (g := gbm_type(num, i)) is not None:
                out += _black_scholes(num, i, g.m, math.sqrt(g.s2), horizon)
            elif (levy := levy_type(num, i)) is not None:
                out += _jump_diffusion(num, levy, horizon)
    for pair in heston_pairs(num):
        # In a log view only the pairs it creates are new; the others were found in the model itself.
        if not logged or pair.x in logged:
            out += _heston(num, pair, horizon, pair.x in logged)
    return out


def _strike(s0: float, vol: float, horizon: float, z: float) -> float:
    return s0 * math.exp(z * vol * math.sqrt(horizon))


def _black_scholes(num: Numeric, i: int, rate: float, vol: float, horizon: float) -> list[PriceSpec]:
    s0, name = num.model.initial[i], num.model.state[i]

    def exact(kinds: Sequence[str]) -> bool:
        return len(kinds) == num.dim and kinds[i] in EXACT_GBM_KINDS

    out = []
    for z in STRIKE_SCORES:
        k = _strike(s0, vol, horizon, z)
        out.append(
            PriceSpec(
                name=f"call on {name}, K={k:.4g} (Black-Scholes)",
                asset=name,
                strike=k,
                rate=rate,
                maturity=horizon,
                theory=black_scholes_call(s0, k, horizon, rate, vol),
                engine=f"Black-Scholes, r = {rate:g}, volatility {vol:g}",
                score=z,
                spot=lambda x, i=i: x[:, i],
                exact_when=exact,
            )
        )
    return out


def _jump_diffusion(num: Numeric, levy: LevyType, horizon: float) -> list[PriceSpec]:
    """Calls on S = exp(x) for x of Lévy type: Merton's series (normal sizes) or the CF formula (Kou)."""
    i, jump = levy.index, levy.jump
    s0, name = math.exp(num.model.initial[i]), num.model.state[i]
    rate = levy.b + levy.s2 / 2 + jump.intensity * jump.compensator
    vol = math.sqrt(levy.s2 + jump.intensity * jump.raw_moment(2))  # sd of log S_T per sqrt(year)
    merton = jump.law == "normal"
    out = []
    for z in STRIKE_SCORES:
        k = _strike(s0, vol, horizon, z)
        if merton:
            theory = merton_call(s0, k, horizon, rate, math.sqrt(levy.s2), jump)
        else:
            theory = cf_call(s0, k, horizon, rate, levy_log_cf(levy.b, levy.s2, jump, horizon))
        out.append(
            PriceSpec(
                name=f"call on exp({name}), K={k:.4g} ({'Merton' if merton else 'Kou'})",
                asset=f"exp({name})",
                strike=k,
                rate=rate,
                maturity=horizon,
                theory=theory,
                engine=(
                    f"{'Merton (1976) series' if merton else 'Kou (2002), characteristic function'}, r = {rate:g}, "
                    f"volatility {math.sqrt(levy.s2):g}, jumps {jump.describe()}"
                ),
                score=z,
                spot=lambda x, i=i: np.exp(x[:, i]),
                exact_when=lambda kinds, i=i: levy_exact(num, kinds, i),
            )
        )
    return out


def _heston(num: Numeric, pair: HestonPair, horizon: float, logged: bool) -> list[PriceSpec]:
    params = HestonParameters(pair.v0, pair.kappa, pair.theta, pair.xi, pair.rho)
    x0 = num.model.initial[pair.x]
    s0 = math.exp(x0)
    # Average expected variance over [0, T]: sets strikes one standard deviation of log S_T apart.
    decay = (1 - math.exp(-pair.kappa * horizon)) / (pair.kappa * horizon)
    jump = pair.jump
    jump_var = jump.intensity * jump.raw_moment(2) if jump else 0.0
    vol = math.sqrt(max(pair.theta + (pair.v0 - pair.theta) * decay + jump_var, 1e-12))
    rate = pair.r + (jump.intensity * jump.compensator if jump else 0.0)
    label = "Bates" if jump else "Heston"
    name = num.model.state[pair.x]
    asset = name.removeprefix("log_") if logged else f"exp({name})"
    spot = (lambda x: x[:, pair.x]) if logged else (lambda x: np.exp(x[:, pair.x]))
    out = []
    for z in STRIKE_SCORES:
        k = _strike(s0, vol, horizon, z)
        out.append(
            PriceSpec(
                name=f"call on {asset}, K={k:.4g} ({label})",
                asset=asset,
                strike=k,
                rate=rate,
                maturity=horizon,
                theory=heston_call(s0, k, horizon, rate, params, jump),
                engine=(
                    f"{label} (Heston little trap{' with jumps' if jump else ''}), r = {rate:g}, v0 = {pair.v0:g}, "
                    f"kappa = {pair.kappa:g}, theta = {pair.theta:g}, xi = {pair.xi:g}, rho = {pair.rho:g}"
                    + (f", jumps {jump.describe()}" if jump else "")
                ),
                score=z,
                spot=spot,
                exact_when=lambda _kinds: False,
            )
        )
    return out


# ---------------------------------------------------------------------------------------- checks
def price_checks(
    specs: Sequence[PriceSpec],
    terminal: Sequence[np.ndarray],
    kinds: Sequence[str],
    tolerance: float,
    notes: list[str],
) -> list[Check]:
    """Discounted payoff means against the closed-form prices: pooled over all runs when the scheme is
    exact in law, extrapolated from the N, 2N (, 4N) step runs otherwise (`quantities.extrapolate`).

    The skewness guard of the moment checks applies, with the payoffs' sample skewness (there is no closed
    form for it under Heston): a deep out-of-the-money call under a large volatility is left out."""
    out = []
    for spec in specs:
        skew = _estimator_skewness(spec, terminal, kinds)
        if skew <= MAX_ESTIMATOR_SKEWNESS:
            out.append(_price_check(spec, terminal, kinds, tolerance))
        else:
            notes.append(
                f"{spec.name} not tested: the payoff mean's skewness {skew:.2g} exceeds {MAX_ESTIMATOR_SKEWNESS:g}"
            )
    return out


def _estimator_skewness(spec: PriceSpec, terminal: Sequence[np.ndarray], kinds: Sequence[str]) -> float:
    payoffs = spec.discounted_payoffs(terminal[1])
    sd = payoffs.std()
    if not sd > 0:
        return 0.0
    gamma = float(np.mean((payoffs - payoffs.mean()) ** 3) / sd**3)
    if spec.exact_when(kinds):
        return abs(gamma) / math.sqrt(len(payoffs) * len(terminal))
    return abs(gamma) * RICHARDSON_SKEW / math.sqrt(len(payoffs))


def _mean(payoffs: np.ndarray) -> Estimate:
    return Estimate(float(payoffs.mean()), float(payoffs.std(ddof=1) / math.sqrt(len(payoffs))))


def _price_check(spec: PriceSpec, terminal: Sequence[np.ndarray], kinds: Sequence[str], tolerance: float) -> Check:
    runs = [_mean(spec.discounted_payoffs(x)) for x in terminal]
    if spec.exact_when(kinds):
        estimate = _mean(np.concatenate([spec.discounted_payoffs(x) for x in terminal]))
        how = f"the scheme is exact in law here: {len(terminal)} runs pooled"
    else:
        estimate = extrapolate(runs)
        how = extrapolation_note(len(runs))
    margin = tolerance * abs(spec.theory)
    z, p = z_test(estimate.value - spec.theory, estimate.std_error, margin)
    per_run = "; ".join(f"{r.value:.6g} ± {r.std_error:.2g}" for r in runs)
    return Check(
        name=f"{spec.name} at t={spec.maturity:g}",
        kind="price",
        time=spec.maturity,
        theory=spec.theory,
        estimate=estimate.value,
        std_error=estimate.std_error,
        statistic=z,
        p_value=p,
        detail=f"{spec.engine}; discounted payoff means per run {per_run}; {how}: {estimate.value:.6g}",
        coarse=runs[0].value,
        fine=runs[1].value,
        finer=runs[2].value if len(runs) > 2 else None,
        theory_kind=EXACT,
        margin=margin,
    )


def price_convergence(specs: Sequence[PriceSpec], terminal: Sequence[np.ndarray], steps: Sequence[int]) -> list[dict]:
    """The at-the-money prices per run, for the report's convergence plot."""
    out = []
    for spec in specs:
        if spec.score != 0.0:
            continue
        runs = [_mean(spec.discounted_payoffs(x)) for x in terminal]
        out.append(
            {
                "quantity": f"{spec.name} at t={spec.maturity:g}",
                "steps": list(steps),
                "estimates": [r.value for r in runs],
                "std_errors": [r.std_error for r in runs],
                "theory": spec.theory,
                "theory_kind": EXACT,
            }
        )
    return out
