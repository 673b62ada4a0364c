"""The families added for issue #19 (item 4) described in words: each phrasing reads as the intended model.

Like tests/test_parse_words.py: the phrasing and the intended model (plain ``name=value`` overrides) must agree
in drift, diffusion, initial state and parameter values; two or three phrasings per family.
"""

from __future__ import annotations

import pytest

from architect.model import SdeModel
from architect.parser import parse
from architect.parser.families import FAMILIES

PHRASINGS = [
    # Schwartz two-factor
    ("Schwartz two-factor with spot price 25 and volatility of the price 35%", "Schwartz two-factor S0=25 sigma1=0.35"),
    (
        "Gibson-Schwartz: convenience yield speed of mean reversion 1.5, long-run convenience yield 8%, "
        "correlation 0.8",
        "Schwartz two-factor kappa=1.5 alpha=0.08 rho=0.8",
    ),
    ("Schwartz two factor, drift 10%, initial convenience yield 5%", "Schwartz two-factor mu=0.1 delta0=0.05"),
    # Schwartz-Smith
    ("Schwartz-Smith with mean reversion speed 1.2 and correlation 0.25", "Schwartz-Smith kappa=1.2 rho=0.25"),
    ("Schwartz and Smith, drift 1%, chi0 = -0.2, xi0 3", "Schwartz-Smith mu_xi=0.01 chi0=-0.2 xi0=3"),
    # G2++
    (
        "G2++ with a 0.5, b 0.05, sigma 1%, eta 0.8% and correlation -0.6",
        "G2++ a=0.5 b=0.05 sigma=0.01 eta=0.008 rho=-0.6",
    ),
    ("two-factor Hull-White, rho -0.9, x0 0.01", "G2++ rho=-0.9 x0=0.01"),
    # Heston-Hull-White
    ("Heston-Hull-White with vol of vol 0.5, initial rate 2% and spot 90", "Heston-Hull-White xi=0.5 r0=0.02 S0=90"),
    (
        "Heston with stochastic rates: kappa 1.5, long-run variance 0.05, rho_xr 0.2",
        "Heston-Hull-White kappa=1.5 theta=0.05 rho_xr=0.2",
    ),
    # Double Heston
    (
        "double Heston with kappa1 3, theta1 3%, sigma1 0.5 and spot price 50",
        "double Heston kappa1=3 theta1=0.03 sigma1=0.5 S0=50",
    ),
    ("two-factor Heston, drift 3%, rho1 -0.9, rho2 -0.3", "double Heston mu=0.03 rho1=-0.9 rho2=-0.3"),
    # Scott
    (
        "Scott stochastic volatility with vol of vol 0.6, speed of mean reversion 3 and initial volatility 25%",
        "Scott xi=0.6 kappa=3 sigma0=0.25",
    ),
    ("exponential OU stochastic volatility, correlation -0.5, spot 80", "Scott rho=-0.5 S0=80"),
    # Hull-White SV
    ("Hull-White stochastic volatility with vol of vol 0.8 and initial variance 0.09", "Hull-White SV xi=0.8 v0=0.09"),
    ("Hull-White 1987, expected return 7%, correlation -0.3", "Hull-White SV phi=0.07 rho=-0.3"),
    # Bergomi
    ("Bergomi two-factor with vol of vol 1.5, k1 6 and k2 0.2", "Bergomi omega=1.5 k1=6 k2=0.2"),
    (
        "two-factor Bergomi: xi0 = 0.09, theta 0.4, rho_sx -0.8, spot 120",
        "Bergomi xi0=0.09 theta=0.4 rho_sx=-0.8 S0=120",
    ),
    # Longstaff-Schwartz
    ("Longstaff-Schwartz with gamma 2.5 and delta 0.05, X0 40", "Longstaff-Schwartz gamma=2.5 delta=0.05 X0=40"),
    ("Longstaff and Schwartz: speed of mean reversion of Y 3, Y0 0.05", "Longstaff-Schwartz nu=3 Y0=0.05"),
    # Chen
    ("Chen three-factor with speed of mean reversion of the rate 0.8 and initial rate 4%", "Chen k=0.8 r0=0.04"),
    ("Chen 1996, long-run rate 6%, initial volatility 0.02", "Chen zeta=0.06 sigma0=0.02"),
    # Fong-Vasicek
    (
        "Fong-Vasicek with long-run rate 4%, vol of vol 0.02 and initial rate 3.5%",
        "Fong-Vasicek rbar=0.04 xi=0.02 r0=0.035",
    ),
    ("Fong and Vasicek: long-run variance 0.0002, correlation 0.1", "Fong-Vasicek vbar=0.0002 rho=0.1"),
    # CIR2
    ("two-factor CIR with kappa1 0.3, theta1 2% and sigma2 0.05", "CIR2 kappa1=0.3 theta1=0.02 sigma2=0.05"),
    ("CIR2++: x1(0) = 1%, x2(0) = 0.5%", "CIR2 x10=0.01 x20=0.005"),
    # Ho-Lee
    ("Ho-Lee with drift 20 bp, volatility 1.2% and initial rate 2%", "Ho-Lee theta=0.002 sigma=0.012 r0=0.02"),
    ("Merton short rate, 80 bp volatility", "Ho-Lee sigma=0.008"),
    # Black-76
    ("Black-76 with forward 80 and 30% volatility", "Black-76 sigma=0.3 F0=80"),
    ("Black model, vol 25 percent", "Black-76 sigma=0.25"),
    # Displaced diffusion
    (
        "shifted lognormal with shift 3%, volatility 15% and initial forward 1%",
        "displaced diffusion s=0.03 sigma=0.15 F0=0.01",
    ),
    ("displaced diffusion: vol 0.1", "displaced diffusion sigma=0.1"),
    # lambda-SABR
    (
        "lambda-SABR with speed of mean reversion 2, long-run volatility 5% and vol of vol 0.5",
        "lambda-SABR lam=2 sigma_bar=0.05 nu=0.5",
    ),
    ("mean-reverting SABR, beta 0.7, alpha 0.04, forward 2.5%", "lambda-SABR beta=0.7 alpha=0.04 F0=0.025"),
    # Logistic
    (
        "logistic growth with growth rate 50%, carrying capacity 1000 and volatility 10%",
        "logistic r=0.5 K=1000 sigma=0.1",
    ),
    ("stochastic Verhulst, starting at 5", "logistic X0=5"),
    # Gompertz
    ("Gompertz with growth rate 0.3 and carrying capacity 500, starting from 50", "Gompertz r=0.3 K=500 X0=50"),
    ("stochastic Gompertz, 30% volatility", "Gompertz sigma=0.3"),
    # Langevin
    (
        "damped stochastic oscillator with damping 0.2, omega 3 and noise volatility 0.1",
        "Langevin gamma=0.2 omega=3 sigma=0.1",
    ),
    ("Langevin oscillator with X0 = 2 and initial velocity -1", "Langevin X0=2 V0=-1"),
    # Wright-Fisher
    ("Wright-Fisher with selection 2, mutation u 0.5, v 0.7, starting at 0.1", "Wright-Fisher s=2 u=0.5 v=0.7 X0=0.1"),
    ("Wright-Fisher diffusion: s = -1, X0 = 30%", "Wright-Fisher s=-1 X0=0.3"),
]


def _same(model: SdeModel, intended: SdeModel) -> None:
    assert model.name == intended.name
    assert model.drift == intended.drift
    assert model.diffusion == intended.diffusion
    assert model.initial == pytest.approx(intended.initial)
    assert model.parameter_values() == pytest.approx(intended.parameter_values())


@pytest.mark.parametrize(("text", "intended"), PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_phrasing_reads_as_the_intended_model(text: str, intended: str) -> None:
    _same(parse(text), parse(intended))


def test_every_added_family_has_phrasings() -> None:
    added = {f.display_name for f in FAMILIES[FAMILIES.index(next(f for f in FAMILIES if f.key == "bates")) + 1 :]}
    assert {parse(intended).name for _, intended in PHRASINGS} == added
