"""Theory without simulation: structure detection, exact laws, central moments and prices against closed forms
and QuantLib."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from test_verifier import CIR, CIR_P, GBM, GBM_P, HESTON, HESTON_P, OU, OU2, make_model

import architect
from architect.verifier.distribution import exact_laws
from architect.verifier.plan import make_plan
from architect.verifier.prices import HestonParameters, black_scholes_call, heston_call, price_specs
from architect.verifier.quantities import Quantity, exact_targets, quantities
from architect.verifier.structure import (
    Numeric,
    cir_type,
    gaussian_subset,
    gbm_type,
    heston_pairs,
    log_candidates,
    log_transform,
    polynomial_subset,
)
from architect.verifier.theory import PolynomialMoments

try:
    import QuantLib as ql
except ImportError:  # the dev extra installs it; without it only the QuantLib cross-checks skip
    ql = None
needs_quantlib = pytest.mark.skipif(ql is None, reason="QuantLib is not installed (pip install -e '.[dev]')")

T = 1.0

# Heston written with independent Brownian motions and other letters: still a Heston pair.
HESTON_INDEPENDENT = make_model(
    "heston-independent",
    ["y", "w"],
    ["r - w/2", "a*(b - w)"],
    [["rho*sqrt(w)", "sqrt(1 - rho**2)*sqrt(w)"], ["c*sqrt(w)", "0"]],
    {"r": 0.03, "a": 1.5, "b": 0.05, "c": 0.4, "rho": -0.5},
    [math.log(50.0), 0.06],
)
SINE = make_model("sine", ["X"], ["sin(X)"], [["sigma"]], {"sigma": 0.3}, [0.5])
# x is Ornstein-Uhlenbeck on its own; y depends on x non-linearly: the closed subsets are {x}.
PARTIAL = make_model("partial", ["x", "y"], ["-x", "-y + sin(x)"], [["1/2", "0"], ["0", "y/5"]], {}, [0.3, 1.0])


# --------------------------------------------------------------------------------- structure
@pytest.mark.parametrize(
    ("model", "poly", "gauss"),
    [
        (GBM, (0,), ()),
        (OU, (0,), (0,)),
        (CIR, (0,), ()),
        (HESTON, (0, 1), ()),
        (OU2, (0, 1), (0, 1)),
        (SINE, (), ()),
        (PARTIAL, (0,), (0,)),
    ],
    ids=["gbm", "ou", "cir", "heston", "ou2", "sine", "partial"],
)
def test_closed_subsets(model: architect.SdeModel, poly: tuple[int, ...], gauss: tuple[int, ...]) -> None:
    num = Numeric.of(model)
    assert polynomial_subset(num) == poly
    assert gaussian_subset(num) == gauss


def test_one_dimensional_types_are_found_by_structure() -> None:
    gbm = gbm_type(Numeric.of(GBM), 0)
    assert gbm is not None and gbm.m == pytest.approx(0.05) and gbm.s2 == pytest.approx(0.04)
    cir = cir_type(Numeric.of(CIR), 0)
    k, th, s = CIR_P.values()
    assert cir is not None and (cir.alpha, cir.beta, cir.c) == pytest.approx((k * th, -k, s**2))
    assert gbm_type(Numeric.of(OU), 0) is None and cir_type(Numeric.of(OU), 0) is None
    # A GBM-looking drift with an extra constant is not GBM.
    assert gbm_type(Numeric.of(make_model("m", ["S"], ["mu*S + 1"], [["S/5"]], {"mu": 0.1}, [1.0])), 0) is None


def test_heston_pairs_in_any_notation() -> None:
    (pair,) = heston_pairs(Numeric.of(HESTON))
    p = HESTON_P
    assert (pair.x, pair.v) == (0, 1)
    assert (pair.r, pair.kappa, pair.theta, pair.xi, pair.rho, pair.v0) == pytest.approx(
        (p["mu"], p["kappa"], p["theta"], p["xi"], p["rho"], 0.06)
    )
    (other,) = heston_pairs(Numeric.of(HESTON_INDEPENDENT))
    assert (other.r, other.kappa, other.theta, other.xi, other.rho) == pytest.approx((0.03, 1.5, 0.05, 0.4, -0.5))
    assert heston_pairs(Numeric.of(architect.parse("Heston with mean reversion"))) == []


def test_heston_in_levels_becomes_heston_in_logs() -> None:
    model = architect.parse(
        "dS = mu*S*dt + sqrt(v)*S*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2; "
        "rho=-0.7, mu=0.05, kappa=2, theta=0.04, xi=0.3, S0=100, v0=0.04"
    )
    assert log_candidates(model) == (0,)
    view = log_transform(model, (0,))
    assert view.state == ("log_S", "v") and view.initial[0] == pytest.approx(math.log(100))
    assert polynomial_subset(Numeric.of(view)) == (0, 1)
    (pair,) = heston_pairs(Numeric.of(view))
    assert (pair.r, pair.rho) == pytest.approx((0.05, -0.7))
    plan = make_plan(model)
    assert plan.exact == (1,) and plan.others == (0,) and plan.transformed is not None
    assert "polynomial only in the transformed state (log S, v)" in plan.summary()["transformed_note"]
    specs = price_specs(plan.log_numeric, T, plan.transformed.logged)
    assert [s.asset for s in specs] == ["S"] * 3


def test_plan_of_a_non_polynomial_model_names_the_reason() -> None:
    plan = make_plan(SINE)
    assert plan.needs_reference and plan.exact == () and "sin(X)" in plan.why_not
    partial = make_plan(PARTIAL)
    assert partial.exact == (0,) and partial.others == (1,)


# ------------------------------------------------------------------------------- exact laws
def _law_moments_match(model: architect.SdeModel, expected_laws: list[str]) -> None:
    """Every law's mean and variance must be the generator's: two independent derivations agree."""
    num = Numeric.of(model)
    laws = exact_laws(num, T)
    assert [law.law for law in laws] == expected_laws
    pm = PolynomialMoments.from_model(model, 2)
    mean, cov = pm.mean(T), pm.covariance(T)
    for law in laws:
        assert law.dist.mean() == pytest.approx(law.weights @ mean, rel=1e-9, abs=1e-12)
        assert law.dist.var() == pytest.approx(law.weights @ cov @ law.weights, rel=1e-7, abs=1e-14)


def test_exact_laws_agree_with_the_generator() -> None:
    _law_moments_match(GBM, ["lognormal"])
    _law_moments_match(OU, ["normal"])
    _law_moments_match(CIR, ["scaled non-central chi-square"])
    _law_moments_match(OU2, ["normal", "normal", "normal"])
    assert [law.law for law in exact_laws(Numeric.of(HESTON), T)] == ["scaled non-central chi-square"]
    assert exact_laws(Numeric.of(SINE), T) == []


def test_projection_is_the_least_variance_direction() -> None:
    laws = exact_laws(Numeric.of(OU2), T)
    projection = laws[-1]
    assert projection.label.startswith("projection")
    cov = PolynomialMoments.from_model(OU2, 2).covariance(T)
    assert projection.dist.var() == pytest.approx(np.linalg.eigvalsh(cov)[0], rel=1e-9)


# --------------------------------------------------------------------------- central moments
def test_third_and_fourth_central_moments() -> None:
    def central(model: architect.SdeModel, k: int) -> float:
        pm = PolynomialMoments.from_model(model, 4)
        q = Quantity("third moment" if k == 3 else "fourth moment", (0,))
        return exact_targets(pm, (0,), T, [q])[q].value

    # GBM: S_T lognormal.
    mu, s2 = GBM_P["mu"], GBM_P["sigma"] ** 2
    lognormal = stats.lognorm(s=math.sqrt(s2 * T), scale=100 * math.exp((mu - s2 / 2) * T))
    skew, kurt = (float(v) for v in lognormal.stats(moments="sk"))
    assert central(GBM, 3) == pytest.approx(skew * lognormal.std() ** 3, rel=1e-8)
    assert central(GBM, 4) == pytest.approx((kurt + 3) * lognormal.var() ** 2, rel=1e-8)
    # OU: normal, so 0 and 3 var².
    var = PolynomialMoments.from_model(OU, 2).covariance(T)[0, 0]
    assert central(OU, 3) == pytest.approx(0.0, abs=1e-14)
    assert central(OU, 4) == pytest.approx(3 * var**2, rel=1e-9)
    # CIR: scaled non-central chi-square.
    (law,) = exact_laws(Numeric.of(CIR), T)
    skew, kurt = (float(v) for v in law.dist.stats(moments="sk"))
    assert central(CIR, 3) == pytest.approx(skew * law.dist.std() ** 3, rel=1e-7)
    assert central(CIR, 4) == pytest.approx((kurt + 3) * law.dist.var() ** 2, rel=1e-7)


def test_quantity_sets() -> None:
    kinds = [(q.kind, q.indices) for q in quantities([0, 1], higher=True)]
    assert kinds == [
        ("mean", (0,)),
        ("mean", (1,)),
        ("variance", (0,)),
        ("variance", (1,)),
        ("covariance", (0, 1)),
        ("third moment", (0,)),
        ("third moment", (1,)),
        ("fourth moment", (0,)),
        ("fourth moment", (1,)),
    ]
    # A reference for variable 1 only still covers its covariance with variable 0.
    assert [(q.kind, q.indices) for q in quantities([1], higher=False, partners=[0, 1])] == [
        ("mean", (1,)),
        ("variance", (1,)),
        ("covariance", (0, 1)),
    ]


# ------------------------------------------------------------------------------------ prices
def _ql_setup(s0: float, rate: float, maturity: float) -> tuple:
    today = ql.Date(1, 1, 2024)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    expiry = today + ql.Period(round(maturity * 365), ql.Days)
    rates = ql.YieldTermStructureHandle(ql.FlatForward(today, rate, dc, ql.Continuous))
    dividends = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc, ql.Continuous))
    return dc.yearFraction(today, expiry), expiry, rates, dividends, ql.QuoteHandle(ql.SimpleQuote(s0))


def _ql_call(engine: object, strike: float, expiry: object) -> float:
    option = ql.EuropeanOption(ql.PlainVanillaPayoff(ql.Option.Call, strike), ql.EuropeanExercise(expiry))
    option.setPricingEngine(engine)
    return option.NPV()


HESTON_CASES = [
    (100.0, 100.0, 1.0, 0.05, HestonParameters(0.04, 2.0, 0.04, 0.3, -0.7)),
    (100.0, 90.0, 0.5, 0.02, HestonParameters(0.09, 1.5, 0.04, 0.8, -0.9)),
    (50.0, 60.0, 2.0, 0.0, HestonParameters(0.01, 0.5, 0.09, 0.2, 0.3)),
    (100.0, 120.0, 1.0, 0.05, HestonParameters(0.04, 3.0, 0.06, 1.0, 0.0)),
    (100.0, 70.0, 3.0, 0.03, HestonParameters(0.0625, 0.8, 0.05, 0.6, -0.5)),
    (100.0, 101.0, 0.1, 0.01, HestonParameters(0.04, 5.0, 0.04, 0.5, -0.3)),
]


@needs_quantlib
@pytest.mark.parametrize(("s0", "strike", "maturity", "rate", "p"), HESTON_CASES)
def test_heston_price_matches_quantlib(s0: float, strike: float, maturity: float, rate: float, p) -> None:
    t, expiry, rates, dividends, spot = _ql_setup(s0, rate, maturity)
    process = ql.HestonProcess(rates, dividends, spot, p.v0, p.kappa, p.theta, p.xi, p.rho)
    engine = ql.AnalyticHestonEngine(ql.HestonModel(process), 1e-12, 100_000)
    assert heston_call(s0, strike, t, rate, p) == pytest.approx(_ql_call(engine, strike, expiry), rel=1e-6)


@needs_quantlib
@pytest.mark.parametrize(
    ("strike", "maturity", "rate", "vol"), [(100, 1, 0.05, 0.2), (80, 0.5, 0.0, 0.4), (130, 2, 0.03, 0.15)]
)
def test_black_scholes_matches_quantlib(strike: float, maturity: float, rate: float, vol: float) -> None:
    t, expiry, rates, dividends, spot = _ql_setup(100.0, rate, maturity)
    today = ql.Settings.instance().evaluationDate
    volatility = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.TARGET(), vol, ql.Actual365Fixed()))
    engine = ql.AnalyticEuropeanEngine(ql.BlackScholesMertonProcess(spot, dividends, rates, volatility))
    assert black_scholes_call(100.0, strike, t, rate, vol) == pytest.approx(_ql_call(engine, strike, expiry), rel=1e-9)


def test_heston_without_vol_of_vol_is_black_scholes() -> None:
    p = HestonParameters(0.04, 2.0, 0.04, 1e-4, 0.0)
    assert heston_call(100, 105, 1.0, 0.03, p) == pytest.approx(black_scholes_call(100, 105, 1.0, 0.03, 0.2), rel=1e-5)


def test_price_specs_from_structure() -> None:
    gbm = price_specs(Numeric.of(GBM), T)
    assert [s.engine.split(",")[0] for s in gbm] == ["Black-Scholes"] * 3
    atm = next(s for s in gbm if s.score == 0)
    assert atm.strike == pytest.approx(100.0)
    assert atm.theory == pytest.approx(black_scholes_call(100, 100, T, 0.05, 0.2))
    heston = price_specs(Numeric.of(HESTON), T)
    assert [s.asset for s in heston] == ["exp(x)"] * 3
    assert price_specs(Numeric.of(OU), T) == [] and price_specs(Numeric.of(CIR), T) == []


# ============================================================================ jumps
def _cumulant_moments(k2: float, k3: float, k4: float) -> tuple[float, float, float]:
    """Variance and third and fourth central moments from the cumulants."""
    return k2, k3, k4 + 3 * k2**2


@pytest.mark.parametrize("text", ["Merton", "Kou lam=2 p=0.3 eta1=4 eta2=3"])
def test_jump_moments_from_the_generator_match_the_compound_poisson_cumulants(text: str) -> None:
    """x_T - x_0 = bT + sigma W_T + J_T: cumulants k1 = (b + lam E[Y]) T, k2 = (sigma² + lam E[Y²]) T, and
    k_n = lam T E[Y^n] for n >= 3 (Merton 1976; Kou 2002, the moments of the double exponential law)."""
    model = architect.parse(text)
    v = model.parameter_values()
    if "delta" in v:
        m, d = v["m"], v["delta"]
        raw = [1, m, m**2 + d**2, m**3 + 3 * m * d**2, m**4 + 6 * m**2 * d**2 + 3 * d**4]
        kappa = math.exp(m + d**2 / 2) - 1
    else:
        p, e1, e2 = v["p"], v["eta1"], v["eta2"]
        raw = [math.factorial(k) * (p / e1**k + (1 - p) * (-1) ** k / e2**k) for k in range(5)]
        kappa = p * e1 / (e1 - 1) + (1 - p) * e2 / (e2 + 1) - 1
    lam, sigma = v["lam"], v["sigma"]
    b = v["mu"] - sigma**2 / 2 - lam * kappa
    theory = PolynomialMoments.from_model(model, 4)
    for t in (0.5, 2.0):
        central = exact_targets_central(theory, t)
        variance, third, fourth = _cumulant_moments((sigma**2 + lam * raw[2]) * t, lam * t * raw[3], lam * t * raw[4])
        assert theory.mean(t)[0] == pytest.approx(model.initial[0] + (b + lam * raw[1]) * t, rel=1e-12)
        assert central == pytest.approx((variance, third, fourth), rel=1e-9)


def exact_targets_central(theory: PolynomialMoments, t: float) -> tuple[float, float, float]:
    mean = theory.mean(t)[0]
    e = [theory.expect(t, [(k,)], [mean])[0] for k in (2, 3, 4)]
    return e[0], e[1], e[2]


def test_bates_moments_are_hestons_plus_the_independent_jumps() -> None:
    bates = architect.parse("Bates")
    heston = architect.parse("Heston")  # same Heston defaults; mu the same
    v = bates.parameter_values()
    jb, jh = PolynomialMoments.from_model(bates, 2), PolynomialMoments.from_model(heston, 2)
    kappa = math.exp(v["m"] + v["delta"] ** 2 / 2) - 1
    for t in (0.25, 1.0):
        # The compensator shifts the drift by -lam kappa; the jumps add lam E[Y] to the mean, lam E[Y²] to the variance.
        assert jb.mean(t)[0] - jh.mean(t)[0] == pytest.approx(v["lam"] * t * (v["m"] - kappa), rel=1e-10)
        extra = v["lam"] * t * (v["m"] ** 2 + v["delta"] ** 2)
        assert jb.covariance(t)[0, 0] - jh.covariance(t)[0, 0] == pytest.approx(extra, rel=1e-9)
        assert jb.covariance(t)[1, 1] == pytest.approx(jh.covariance(t)[1, 1], rel=1e-12)


def test_jump_models_are_polynomial_but_not_gaussian_gbm_or_plain_heston() -> None:
    merton, bates = Numeric.of(architect.parse("Merton")), Numeric.of(architect.parse("Bates"))
    assert polynomial_subset(merton) == (0,) and gaussian_subset(merton) == ()
    assert log_candidates(architect.parse("Merton")) == ()
    (pair,) = heston_pairs(bates)
    assert pair.jump is not None and pair.jump.intensity == 1.0
    assert [law.law for law in exact_laws(merton, T)] == ["Poisson mixture of normals"]


def test_merton_law_is_the_poisson_mixture_of_normals() -> None:
    model = architect.parse("Merton lam=2")
    (law,) = exact_laws(Numeric.of(model), T)
    theory = PolynomialMoments.from_model(model, 2)
    grid = np.linspace(0.0, 9.0, 90001)
    density = law.dist.pdf(grid)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-9)
    assert np.trapezoid(grid * density, grid) == pytest.approx(theory.mean(T)[0], abs=1e-9)
    q = np.array([0.001, 0.3, 0.5, 0.9, 0.999])
    assert law.dist.cdf(law.dist.ppf(q)) == pytest.approx(q, abs=1e-10)


def test_merton_series_equals_the_characteristic_function_price() -> None:
    from architect.verifier.jumps import JumpLaw, cf_call, levy_log_cf, merton_call

    jump = JumpLaw(1.0, "normal", (-0.1, 0.15))
    r, sigma = 0.05, 0.2
    b = r - sigma**2 / 2 - jump.intensity * jump.compensator
    for strike in (80.0, 100.0, 125.0):
        series = merton_call(100.0, strike, T, r, sigma, jump)
        assert cf_call(100.0, strike, T, r, levy_log_cf(b, sigma**2, jump, T)) == pytest.approx(series, rel=1e-9)
    # No jumps: Black-Scholes.
    none = JumpLaw(0.0, "normal", (-0.1, 0.15))
    assert merton_call(100.0, 100.0, T, r, sigma, none) == pytest.approx(black_scholes_call(100.0, 100.0, T, r, sigma))


def test_kou_price_is_a_martingale_price_and_converges_to_black_scholes() -> None:
    """The CF price of Kou: at strike 0 the call is S0 (martingale), and with vanishing jumps it is Black-Scholes."""
    from architect.verifier.jumps import JumpLaw, cf_call, levy_log_cf

    r, sigma = 0.05, 0.16
    tiny = JumpLaw(1e-9, "double-exponential", (0.4, 10.0, 5.0))
    b = r - sigma**2 / 2 - tiny.intensity * tiny.compensator
    kou = cf_call(100.0, 100.0, T, r, levy_log_cf(b, sigma**2, tiny, T))
    assert kou == pytest.approx(black_scholes_call(100.0, 100.0, T, r, sigma), rel=1e-8)
    jump = JumpLaw(1.0, "double-exponential", (0.4, 10.0, 5.0))
    b = r - sigma**2 / 2 - jump.intensity * jump.compensator
    deep = cf_call(100.0, 1e-3, T, r, levy_log_cf(b, sigma**2, jump, T))
    assert deep == pytest.approx(100.0 - 1e-3 * math.exp(-r * T), rel=1e-7)


@needs_quantlib
def test_merton_and_bates_prices_match_quantlib() -> None:
    """QuantLib-Python has no JumpDiffusionEngine; its BatesEngine with a vanishing vol of vol (v = sigma² fixed) is
    Merton, and with the Heston defaults it is Bates (1996)."""
    from architect.verifier.jumps import JumpLaw, merton_call

    today = ql.Date(1, 1, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    spot = ql.QuoteHandle(ql.SimpleQuote(100.0))
    rate = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.05, dc))
    dividend = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc))
    jump = JumpLaw(1.0, "normal", (-0.1, 0.15))

    def quantlib(strike: float, v0: float, kappa: float, theta: float, xi: float, rho: float) -> float:
        process = ql.BatesProcess(rate, dividend, spot, v0, kappa, theta, xi, rho, 1.0, -0.1, 0.15)
        option = ql.EuropeanOption(ql.PlainVanillaPayoff(ql.Option.Call, strike), ql.EuropeanExercise(today + 365))
        option.setPricingEngine(ql.BatesEngine(ql.BatesModel(process), 192))
        return option.NPV()

    for strike in (80.0, 105.0, 130.0):
        merton = merton_call(100.0, strike, T, 0.05, 0.2, jump)
        assert merton == pytest.approx(quantlib(strike, 0.04, 1.0, 0.04, 1e-4, 0.0), rel=1e-6)
        bates = heston_call(100.0, strike, T, 0.05, HestonParameters(0.04, 2.0, 0.04, 0.3, -0.7), jump)
        assert bates == pytest.approx(quantlib(strike, 0.04, 2.0, 0.04, 0.3, -0.7), rel=1e-8)


@pytest.mark.parametrize(("text", "engine"), [("Merton", "Merton"), ("Kou", "Kou"), ("Bates", "Bates")])
def test_jump_families_get_their_price_checks(text: str, engine: str) -> None:
    specs = price_specs(Numeric.of(architect.parse(text)), T)
    assert [engine in s.name for s in specs] == [True] * 3
    at_the_money = specs[1]
    assert at_the_money.rate == pytest.approx(0.05, rel=1e-12)  # mu is the rate: the drift carries -lam kappa
