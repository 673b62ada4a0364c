"""Models described in words (issue #19): values by description, percentages, any order, notations, domains.

Each phrasing is compared with the intended model, written with plain ``name=value`` overrides, by
drift, diffusion, initial state and parameter values.
"""

from __future__ import annotations

import math

import pytest

from architect.errors import ParseError
from architect.model import SdeModel
from architect.parser import parse

PHRASINGS = [
    # GBM
    ("Black-Scholes with a volatility of 25% and an expected return of 7%", "GBM mu=0.07 sigma=0.25"),
    ("geometric Brownian motion: drift 0.03, vol 0.15, spot 50", "GBM mu=0.03 sigma=0.15 S0=50"),
    ("GBM, 40 percent vol, starting from 120", "GBM sigma=0.4 S0=120"),
    ("lognormal price with sigma 0.35 and mu -2%", "GBM mu=-0.02 sigma=0.35"),
    # ABM
    ("Bachelier model with drift 0.5 and volatility 2, initial value 10", "ABM mu=0.5 sigma=2 X0=10"),
    ("arithmetic Brownian motion, vol: 1.5", "ABM sigma=1.5"),
    # OU
    ("OU with speed 3, long-term mean 1.5 and vol 0.4, X0 2", "OU kappa=3 theta=1.5 sigma=0.4 X0=2"),
    ("Ornstein-Uhlenbeck process with mean reversion rate 0.8 and equilibrium level -1", "OU kappa=0.8 theta=-1"),
    ("OU 0.25 volatility, 5 mean reversion", "OU sigma=0.25 kappa=5"),
    # Vasicek
    (
        "Vasicek short rate with kappa 0.3, long run rate 4% and 1% volatility",
        "Vasicek kappa=0.3 theta=0.04 sigma=0.01",
    ),
    ("Vasicek a 0.15 b 0.05 sigma 0.02 r0 0.01", "Vasicek kappa=0.15 theta=0.05 sigma=0.02 r0=0.01"),
    ("Vasicek with 150 bp volatility and initial rate 2.5%", "Vasicek sigma=0.015 r0=0.025"),
    # Hull-White
    ("Hull-White with a 0.05, sigma 0.012, starting at 1%", "Hull-White a=0.05 sigma=0.012 r0=0.01"),
    # CIR
    (
        "Cox-Ingersoll-Ross, speed of mean reversion 1.2, long-run mean 0.05, sigma 0.08",
        "CIR kappa=1.2 theta=0.05 sigma=0.08",
    ),
    ("square-root process: r0 = 2%, theta = 3%, kappa = 0.9", "CIR r0=0.02 theta=0.03 kappa=0.9"),
    ("CIR model where the reversion speed is 0.5 and the long-term level is 6 percent", "CIR kappa=0.5 theta=0.06"),
    ("CIR kappa 2; theta 0.04; volatility 0.15; initial short rate 0.02", "CIR kappa=2 theta=0.04 sigma=0.15 r0=0.02"),
    # Heston
    (
        "Heston: mean reversion speed 1.5, long-run variance 0.05, volatility of variance 0.6, rho -0.6",
        "Heston kappa=1.5 theta=0.05 xi=0.6 rho=-0.6",
    ),
    ("Heston model with initial variance 0.09 and spot price 120", "Heston v0=0.09 S0=120"),
    ("Heston with correlation between price and variance -0.8 and vol-of-vol 0.7", "Heston rho=-0.8 xi=0.7"),
    ("Heston's model, 0.04 initial variance, 0.3 vol of vol, kappa 3", "Heston v0=0.04 xi=0.3 kappa=3"),
    ("Heston sigma 0.45 theta 0.03", "Heston xi=0.45 theta=0.03"),
    ("GBM with stochastic volatility, vol of vol 0.5 and leverage -0.5", "Heston xi=0.5 rho=-0.5"),
    # Bates / Merton / Kou
    (
        "Merton jump-diffusion with jump intensity 0.5, mean jump -8% and jump volatility 12%",
        "Merton lam=0.5 m=-0.08 delta=0.12",
    ),
    ("Merton with 3 jumps per year and 18% diffusion volatility", "Merton lam=3 sigma=0.18"),
    ("Bates with jump rate 0.2, mean log jump -0.15, vol of vol 0.4", "Bates lam=0.2 m=-0.15 xi=0.4"),
    ("Kou with up probability 0.3, upward rate 12 and downward rate 6", "Kou p=0.3 eta1=12 eta2=6"),
    # SABR
    ("SABR with beta 0.7, vol of vol 0.5 and rho -0.2", "SABR beta=0.7 nu=0.5 rho=-0.2"),
    ("SABR alpha 0.04 nu 0.3 forward 2%", "SABR sigma0=0.04 nu=0.3 F0=0.02"),
    ("Hagan SABR with initial volatility 0.05 and correlation 0.1", "SABR sigma0=0.05 rho=0.1"),
    # CEV / CKLS
    ("CEV with elasticity 0.75 and volatility 1.5", "CEV gamma=0.75 sigma=1.5"),
    ("constant elasticity of variance, exponent 1.2, drift 4%", "CEV gamma=1.2 mu=0.04"),
    ("CKLS with gamma 0.5, alpha 0.02 and beta -0.3", "CKLS gamma=0.5 alpha=0.02 beta=-0.3"),
    # Dothan / Brennan-Schwartz / Black-Karasinski
    ("Dothan short rate, drift 1%, volatility 25%", "Dothan a=0.01 sigma=0.25"),
    (
        "Brennan-Schwartz with reversion speed 0.4 and long-run rate 5% and vol 15%",
        "Brennan-Schwartz kappa=0.4 theta=0.05 sigma=0.15",
    ),
    ("Black-Karasinski with speed 0.2, volatility 30% and initial rate 4%", "Black-Karasinski a=0.2 sigma=0.3 r0=0.04"),
    # Jacobi / 3/2 / GARCH / Schwartz / Schöbel-Zhu
    ("Jacobi diffusion with mean 0.3 and speed 1.5 starting at 0.2", "Jacobi theta=0.3 kappa=1.5 X0=0.2"),
    ("3/2 model with initial variance 0.0625 and vol of vol 8", "3/2 v0=0.0625 xi=8"),
    (
        "GARCH diffusion, long-run variance 0.06, speed 1, correlation -0.5",
        "GARCH diffusion theta=0.06 kappa=1 rho=-0.5",
    ),
    (
        "Schwartz one-factor with mean reversion speed 0.5, volatility 40% and spot 25",
        "Schwartz kappa=0.5 sigma=0.4 S0=25",
    ),
    (
        "Schobel-Zhu with long-run volatility 25%, vol of vol 0.15, initial vol 0.3",
        "Schobel-Zhu theta=0.25 xi=0.15 sigma0=0.3",
    ),
    # order, separators, expressions
    ("CIR: sigma 0.1 and kappa 1 and theta 0.05 and r(0) 0.04", "CIR sigma=0.1 kappa=1 theta=0.05 r0=0.04"),
    ("OU\nkappa: 2\ntheta: 0.1\nsigma: 0.3", "OU kappa=2 theta=0.1 sigma=0.3"),
    ("Heston with spot log-free price S0 = 100*exp(0.1)", "Heston S0=110.51709180756477"),
]


def _same(model: SdeModel, intended: SdeModel) -> None:
    assert model.drift == intended.drift
    assert model.diffusion == intended.diffusion
    assert model.initial == pytest.approx(intended.initial)
    assert model.parameter_values() == pytest.approx(intended.parameter_values())


@pytest.mark.parametrize(("text", "intended"), PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_phrasing_reads_as_the_intended_model(text: str, intended: str) -> None:
    _same(parse(text), parse(intended))


def test_enough_phrasings_and_families() -> None:
    families = {parse(intended).name for _, intended in PHRASINGS}
    assert len(PHRASINGS) >= 40 and len(families) >= 12


def test_notations() -> None:
    vasicek = parse("Vasicek a=0.2 b=0.04 sigma=0.015")
    assert vasicek.parameter_values() == {"kappa": 0.2, "theta": 0.04, "sigma": 0.015}
    assert parse("Heston sigma=0.5").parameter_values()["xi"] == 0.5
    sabr = parse("SABR alpha=0.05 nu=0.6")
    assert sabr.parameter_values()["nu"] == 0.6 and sabr.initial[1] == 0.05


def test_what_is_read_and_ignored_is_in_the_notes() -> None:
    notes = " ".join(parse("CIR for the short rate with mean reversion speed 0.7").notes)
    assert "'mean reversion speed' is read as kappa = 0.7" in notes
    assert "ignored" in notes and "'short'" in notes


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def test_a_word_that_could_be_two_values_is_an_error_naming_both() -> None:
    text = "Bates with mean 0.1"
    error = error_of(text)
    assert "could be theta" in error.reason and "or m (" in error.reason
    assert error.position == text.index("mean")
    error = error_of("Heston with mean reversion, speed 0.5")
    assert "kappa_x" in error.reason and "kappa (" in error.reason
    assert "could be v0" in error_of("Heston starting at 100").reason


def test_every_missing_value_is_listed_at_once() -> None:
    text = "dX = kappa*(theta - X)*dt + sigma*dW"
    error = error_of(text)
    assert "kappa, theta, sigma and X0" in error.reason
    assert error.position == text.index("kappa")


@pytest.mark.parametrize(
    ("text", "fragment", "at"),
    [
        ("CEV with exponent 50%", "exponent", "50%"),
        ("GBM with spot 80%", "price level", "80%"),
        ("CIR kappa=%5", "percent sign must follow a number", "%"),
        ("GBM with volatility", "is given no value", "volatility"),
        ("GBM with 0.3", "has no name", "0.3"),
        ("CIR kappa -2", "must be positive", "-2"),
        ("GBM with colour 3", "no parameter 'colour'", "colour"),
    ],
)
def test_bad_values_get_a_position_and_a_reason(text: str, fragment: str, at: str) -> None:
    error = error_of(text)
    assert fragment in error.reason
    assert error.position == text.index(at)


def test_modifiers_are_never_dropped() -> None:
    assert "no variant" in error_of("GBM with jumps and mean reversion").reason


def test_free_text_before_equations() -> None:
    model = parse("Ornstein-Uhlenbeck process: dX = -X dt + 0.5 dW, X0 = 1")
    assert model.initial == (1.0,) and model.domain == ("real",)
    assert "ignored before the equations" in model.notes[0]


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("dX = (0.1 - 0.5*X)*dt + 0.2*sqrt(4 + X**2)*dW, X0 = 1", "real"),
        ("dX = 2*(0.04 - X)*dt + 0.3*sqrt(X)*dW, X0 = 0.04", "nonnegative"),
        ("dX = 2*(0.5 - X)*dt + 0.3*sqrt(X*(1 - X))*dW, X0 = 0.5", "[0, 1]"),
        ("dX = -X*dt + sqrt(1 - X^2)*dW, X0 = 0", "[-1, 1]"),
        ("dX = -X*dt + sqrt(X*(1 - X))*dW + log(X)*dt, X0 = 0.5", "nonnegative"),  # (0, 1]: an open end
        ("dX = -X*dt + sqrt((X - a)*(b - X))*dW, a=0.1, b=2, X0 = 1", "nonnegative"),  # ends move with a, b
        ("dX = -X*dt + 0.1*log(X)*dW, X0 = 1", "positive"),
        ("dX = -X*dt + sigma*sqrt(X^2 + eps)*dW, sigma=1, eps=0.1, X0=-1", "real"),
        ("dX = -X*dt + sigma*sqrt(X - 1)*dW, sigma=1, X0=2", "nonnegative"),
        ("dS = mu*S*dt + sigma*S*dW, mu=0.1, sigma=0.2, S0=1", "positive"),
    ],
)
def test_domains_come_from_where_coefficients_are_defined(text: str, domain: str) -> None:
    assert parse(text).domain == (domain,)


def test_a_closed_interval_is_the_domain_and_other_bounds_are_kept_with_a_note() -> None:
    model = parse("dX = 2*(0.5 - X)*dt + 0.3*sqrt(X*(1 - X))*dW, X0 = 0.5")
    assert model.domain == ("[0, 1]",)
    assert any("kept in [0, 1], both ends included" in note for note in model.notes)
    assert "Domain: X in [0, 1]" in model.describe()
    for x0 in ("1.5", "-0.25"):
        text = f"dX = 2*(0.5 - X)*dt + 0.3*sqrt(X*(1 - X))*dW, X0 = {x0}"
        error = error_of(text)
        assert "X0 must lie in [0, 1]" in error.reason and error.position == text.index(x0)
    assert parse("dX = 2*(0.5 - X)*dt + 0.3*sqrt(X*(1 - X))*dW, X0 = 1").initial == (1.0,)  # both ends kept
    assert any("[1, oo)" in note for note in parse("dX = -X*dt + sqrt(X - 1)*dW, X0=2").notes)
    half_open = parse("dX = -X*dt + sqrt(X*(1 - X))*dW + log(X)*dt, X0 = 0.5")
    assert any("(0, 1]" in note and "kept non-negative" in note for note in half_open.notes)


def test_percentages_are_fractions() -> None:
    assert parse("GBM with 25% volatility").parameter_values()["sigma"] == 0.25
    assert parse("GBM with volatility 25 percent").parameter_values()["sigma"] == 0.25
    assert math.isclose(parse("Vasicek sigma 80 bps").parameter_values()["sigma"], 0.008)
