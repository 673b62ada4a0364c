"""The parser's named models: every family, synonyms, modifiers, overrides, aliases, jump families."""

# ruff: noqa: RUF001  (the tests type Unicode dashes and Greek letters on purpose)

from __future__ import annotations

import math

import pytest
import sympy as sp

from architect.errors import ModelError, ParseError
from architect.model import TIME, SdeModel, symbol
from architect.parser import catalog, parse
from architect.parser.families import FAMILIES

S, r, x, v, u, F, X = (symbol(n) for n in ("S", "r", "x", "v", "u", "F", "X"))
mu, sigma, kappa, theta, xi, rho, a = (symbol(n) for n in ("mu", "sigma", "kappa", "theta", "xi", "rho", "a"))
alpha, beta = symbol("alpha"), symbol("beta")
ZERO = sp.Integer(0)
HALF = sp.Rational(1, 2)

BUILT = [f for f in FAMILIES if f.jumps is None]
JUMPING = [f for f in FAMILIES if f.jumps is not None]


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def values(model: SdeModel) -> dict[str, float]:
    return model.parameter_values()


def assert_round_trips(model: SdeModel) -> None:
    assert SdeModel.from_json(model.to_json()) == model


# ============================================================================ every family
FAMILY_SHAPES = {
    # key: (state, noises, drift, diffusion, domain)
    "gbm": (("S",), ("W",), (mu * S,), ((sigma * S,),), ("positive",)),
    "abm": (("X",), ("W",), (mu,), ((sigma,),), ("real",)),
    "ou": (("X",), ("W",), (kappa * (theta - X),), ((sigma,),), ("real",)),
    "vasicek": (("r",), ("W",), (kappa * (theta - r),), ((sigma,),), ("real",)),
    "hull-white": (("r",), ("W",), (theta - a * r,), ((sigma,),), ("real",)),
    "cir": (("r",), ("W",), (kappa * (theta - r),), ((sigma * sp.sqrt(r),),), ("nonnegative",)),
    "heston": (
        ("x", "v"),
        ("W1", "W2"),
        (mu - v / 2, kappa * (theta - v)),
        ((sp.sqrt(v), ZERO), (ZERO, xi * sp.sqrt(v))),
        ("real", "nonnegative"),
    ),
    "heston-with-mean-reversion": (
        ("x", "v"),
        ("W1", "W2"),
        (symbol("kappa_x") * (symbol("theta_x") - x), kappa * (theta - v)),
        ((sp.sqrt(v), ZERO), (ZERO, xi * sp.sqrt(v))),
        ("real", "nonnegative"),
    ),
    "sabr": (
        ("F", "sigma"),
        ("W1", "W2"),
        (ZERO, ZERO),
        ((sigma * sp.sqrt(F), ZERO), (ZERO, symbol("nu") * sigma)),
        ("nonnegative", "positive"),
    ),
    "cev": (("S",), ("W",), (mu * S,), ((sigma * sp.sqrt(S),),), ("nonnegative",)),
    "three-halves": (
        ("u",),
        ("W",),
        (kappa + xi**2 - kappa * theta * u,),
        ((-xi * sp.sqrt(u),),),
        ("nonnegative",),
    ),
    "black-karasinski": (("x",), ("W",), (theta - a * x,), ((sigma,),), ("real",)),
    "dothan": (("r",), ("W",), (a * r,), ((sigma * r,),), ("positive",)),
    "jacobi": (
        ("X",),
        ("W",),
        (kappa * (theta - X),),
        ((sigma * sp.sqrt(X * (1 - X)),),),
        ("[0, 1]",),
    ),
    "brennan-schwartz": (("r",), ("W",), (kappa * (theta - r),), ((sigma * r,),), ("positive",)),
    "schwartz": (("x",), ("W",), (kappa * (mu - sigma**2 / (2 * kappa) - x),), ((sigma,),), ("real",)),
    "schobel-zhu": (
        ("x", "sigma"),
        ("W1", "W2"),
        (mu - sigma**2 / 2, kappa * (theta - sigma)),
        ((sigma, ZERO), (ZERO, xi)),
        ("real", "real"),
    ),
    "garch-diffusion": (
        ("x", "v"),
        ("W1", "W2"),
        (mu - v / 2, kappa * (theta - v)),
        ((sp.sqrt(v), ZERO), (ZERO, xi * v)),
        ("real", "positive"),
    ),
    "ckls": (
        ("r",),
        ("W",),
        (alpha + beta * r,),
        ((sigma * sp.Max(r, 0) ** sp.Rational(3, 2),),),
        ("positive",),
    ),
}

LOG_100 = math.log(100)
HESTON = {"kappa": 2.0, "theta": 0.04, "xi": 0.3, "rho": -0.7}
FAMILY_DEFAULTS = {
    "gbm": ({"mu": 0.05, "sigma": 0.2}, (100.0,)),
    "abm": ({"mu": 0.05, "sigma": 0.2}, (0.0,)),
    "ou": ({"kappa": 2.0, "theta": 0.05, "sigma": 0.2}, (0.0,)),
    "vasicek": ({"kappa": 2.0, "theta": 0.05, "sigma": 0.01}, (0.03,)),
    "hull-white": ({"theta": 0.005, "a": 0.1, "sigma": 0.01}, (0.03,)),
    "cir": ({"kappa": 2.0, "theta": 0.04, "sigma": 0.1}, (0.03,)),
    "heston": ({"mu": 0.05, **HESTON}, (LOG_100, 0.04)),
    "heston-with-mean-reversion": ({"kappa_x": 1.0, "theta_x": LOG_100, **HESTON}, (LOG_100, 0.04)),
    "sabr": ({"nu": 0.4, "rho": -0.3}, (0.03, 0.035)),
    "cev": ({"mu": 0.05, "sigma": 2.0}, (100.0,)),
    "three-halves": ({"kappa": 50.0, "theta": 0.04, "xi": 7.5}, (25.0,)),
    "black-karasinski": ({"theta": 0.1 * math.log(0.05), "a": 0.1, "sigma": 0.2}, (math.log(0.03),)),
    "dothan": ({"a": 0.02, "sigma": 0.2}, (0.03,)),
    "jacobi": ({"kappa": 2.0, "theta": 0.5, "sigma": 0.3}, (0.5,)),
    "brennan-schwartz": ({"kappa": 0.5, "theta": 0.05, "sigma": 0.2}, (0.03,)),
    "schwartz": ({"kappa": 0.3, "mu": 3.2, "sigma": 0.33}, (math.log(20),)),
    "schobel-zhu": ({"mu": 0.05, "kappa": 4.0, "theta": 0.2, "xi": 0.1, "rho": -0.7}, (LOG_100, 0.2)),
    "garch-diffusion": ({"mu": 0.05, "kappa": 2.0, "theta": 0.04, "xi": 1.0, "rho": -0.7}, (LOG_100, 0.04)),
    "ckls": ({"alpha": 0.0408, "beta": -0.5921, "sigma": math.sqrt(1.6704)}, (0.06,)),
}


# ---------------------------------------------------------------------------- issue #19: the families added to reach 40
(delta, chi, y, Y, V, x1, x2) = (symbol(n) for n in ("delta", "chi", "y", "Y", "V", "x1", "x2"))
v1, v2, t = symbol("v1"), symbol("v2"), TIME
_n = {name: symbol(name) for name in "k1 k2 k nu zeta g h eta omega gamma delta lam sigma_bar s u K phi".split()}


def _bergomi() -> tuple[sp.Expr, sp.Expr]:
    th, rh, k1, k2, om, xi0 = theta, rho, _n["k1"], _n["k2"], _n["omega"], symbol("xi0")
    weight = (1 - th) ** 2 + th**2 + 2 * rh * th * (1 - th)
    factor = ((1 - th) * X + th * Y) / sp.sqrt(weight)
    spread = (
        (1 - th) ** 2 * (1 - sp.exp(-2 * k1 * t)) / (2 * k1)
        + th**2 * (1 - sp.exp(-2 * k2 * t)) / (2 * k2)
        + 2 * rh * th * (1 - th) * (1 - sp.exp(-(k1 + k2) * t)) / (k1 + k2)
    ) / weight
    variance = xi0 * sp.exp(om * factor - om**2 * spread / 2)
    return mu - variance / 2, sp.sqrt(xi0) * sp.exp(om * factor / 2 - om**2 * spread / 4)


_BERGOMI_DRIFT, _BERGOMI_NOISE = _bergomi()
MORE_FAMILY_SHAPES = {
    "schwartz-two-factor": (
        ("x", "delta"),
        ("W1", "W2"),
        (mu - delta - symbol("sigma1") ** 2 / 2, kappa * (alpha - delta)),
        ((symbol("sigma1"), ZERO), (ZERO, symbol("sigma2"))),
        ("real", "real"),
    ),
    "schwartz-smith": (
        ("chi", "xi"),
        ("W1", "W2"),
        (-kappa * chi, symbol("mu_xi")),
        ((symbol("sigma_chi"), ZERO), (ZERO, symbol("sigma_xi"))),
        ("real", "real"),
    ),
    "g2pp": (
        ("x", "y"),
        ("W1", "W2"),
        (-a * x, -symbol("b") * y),
        ((sigma, ZERO), (ZERO, _n["eta"])),
        ("real", "real"),
    ),
    "heston-hull-white": (
        ("x", "v", "r"),
        ("W1", "W2", "W3"),
        (r - v / 2, kappa * (theta - v), symbol("theta_r") - a * r),
        ((sp.sqrt(v), ZERO, ZERO), (ZERO, xi * sp.sqrt(v), ZERO), (ZERO, ZERO, symbol("sigma_r"))),
        ("real", "nonnegative", "real"),
    ),
    "double-heston": (
        ("x", "v1", "v2"),
        ("W1", "W2", "W3", "W4"),
        (
            mu - (v1 + v2) / 2,
            symbol("kappa1") * (symbol("theta1") - v1),
            symbol("kappa2") * (symbol("theta2") - v2),
        ),
        (
            (sp.sqrt(v1), sp.sqrt(v2), ZERO, ZERO),
            (ZERO, ZERO, symbol("sigma1") * sp.sqrt(v1), ZERO),
            (ZERO, ZERO, ZERO, symbol("sigma2") * sp.sqrt(v2)),
        ),
        ("real", "nonnegative", "nonnegative"),
    ),
    "scott": (
        ("x", "y"),
        ("W1", "W2"),
        (mu - sp.exp(2 * y) / 2, kappa * (theta - y)),
        ((sp.exp(y), ZERO), (ZERO, xi)),
        ("real", "real"),
    ),
    "hull-white-sv": (
        ("x", "v"),
        ("W1", "W2"),
        (_n["phi"] - v / 2, mu * v),
        ((sp.sqrt(v), ZERO), (ZERO, xi * v)),
        ("real", "positive"),
    ),
    "bergomi-two-factor": (
        ("x", "X", "Y"),
        ("W1", "W2", "W3"),
        (_BERGOMI_DRIFT, -_n["k1"] * X, -_n["k2"] * Y),
        ((_BERGOMI_NOISE, ZERO, ZERO), (ZERO, sp.Integer(1), ZERO), (ZERO, ZERO, sp.Integer(1))),
        ("real", "real", "real"),
    ),
    "longstaff-schwartz": (
        ("X", "Y"),
        ("W1", "W2"),
        (_n["gamma"] - _n["delta"] * X, _n["eta"] - _n["nu"] * Y),
        ((sp.sqrt(X), ZERO), (ZERO, sp.sqrt(Y))),
        ("nonnegative", "nonnegative"),
    ),
    "chen": (
        ("r", "theta", "sigma"),
        ("W1", "W2", "W3"),
        (_n["k"] * (theta - r), _n["nu"] * (_n["zeta"] - theta), mu * (_n["eta"] - sigma)),
        (
            (sp.sqrt(sigma) * sp.sqrt(r), ZERO, ZERO),
            (ZERO, _n["g"] * sp.sqrt(theta), ZERO),
            (ZERO, ZERO, _n["h"] * sp.sqrt(sigma)),
        ),
        ("nonnegative", "nonnegative", "nonnegative"),
    ),
    "fong-vasicek": (
        ("r", "v"),
        ("W1", "W2"),
        (alpha * (symbol("rbar") - r), _n["gamma"] * (symbol("vbar") - v)),
        ((sp.sqrt(v), ZERO), (ZERO, xi * sp.sqrt(v))),
        ("real", "nonnegative"),
    ),
    "cir2": (
        ("x1", "x2"),
        ("W1", "W2"),
        (symbol("kappa1") * (symbol("theta1") - x1), symbol("kappa2") * (symbol("theta2") - x2)),
        ((symbol("sigma1") * sp.sqrt(x1), ZERO), (ZERO, symbol("sigma2") * sp.sqrt(x2))),
        ("nonnegative", "nonnegative"),
    ),
    "ho-lee": (("r",), ("W",), (theta,), ((sigma,),), ("real",)),
    "black-76": (("F",), ("W",), (ZERO,), ((sigma * F,),), ("positive",)),
    "displaced-diffusion": (("F",), ("W",), (ZERO,), ((sigma * (F + _n["s"]),),), ("real",)),
    "lambda-sabr": (
        ("F", "sigma"),
        ("W1", "W2"),
        (ZERO, _n["lam"] * (_n["sigma_bar"] - sigma)),
        ((sigma * sp.sqrt(F), ZERO), (ZERO, _n["nu"] * sigma)),
        ("nonnegative", "positive"),
    ),
    "logistic": (("X",), ("W",), (r * X * (1 - X / _n["K"]),), ((sigma * X,),), ("positive",)),
    "gompertz": (("X",), ("W",), (r * X * sp.log(_n["K"] / X),), ((sigma * X,),), ("positive",)),
    "langevin-oscillator": (
        ("X", "V"),
        ("W",),
        (V, -_n["gamma"] * V - _n["omega"] ** 2 * X),
        ((ZERO,), (sigma,)),
        ("real", "real"),
    ),
    "wright-fisher": (
        ("X",),
        ("W",),
        (_n["s"] * X * (1 - X) + _n["u"] * (1 - X) - v * X,),
        ((sp.sqrt(X * (1 - X)),),),
        ("[0, 1]",),
    ),
}
MORE_FAMILY_DEFAULTS = {
    "schwartz-two-factor": (
        {"mu": 0.142, "kappa": 1.876, "alpha": 0.106, "sigma1": 0.393, "sigma2": 0.527, "rho": 0.766},
        (math.log(20), 0.106),
    ),
    "schwartz-smith": (
        {"kappa": 1.49, "sigma_chi": 0.286, "mu_xi": -0.0125, "sigma_xi": 0.145, "rho": 0.3},
        (-0.119, 2.857),
    ),
    "g2pp": ({"a": 0.77, "b": 0.082, "sigma": 0.022, "eta": 0.0104, "rho": -0.7}, (0.0, 0.0)),
    "heston-hull-white": (
        {**HESTON, "theta_r": 0.005, "a": 0.1, "sigma_r": 0.01, "rho_xr": 0.3},
        (LOG_100, 0.04, 0.03),
    ),
    "double-heston": (
        {
            "mu": 0.05,
            **{"kappa1": 4.0, "theta1": 0.02, "sigma1": 0.4, "rho1": -0.8},
            **{"kappa2": 0.5, "theta2": 0.02, "sigma2": 0.14, "rho2": -0.5},
        },
        (LOG_100, 0.02, 0.02),
    ),
    "scott": (
        {"mu": 0.05, "kappa": 2.0, "theta": math.log(0.2), "xi": 0.4, "rho": -0.7},
        (LOG_100, math.log(0.2)),
    ),
    "hull-white-sv": ({"phi": 0.05, "mu": 0.0, "xi": 0.5, "rho": 0.0}, (LOG_100, 0.04)),
    "bergomi-two-factor": (
        {
            **{"mu": 0.05, "xi0": 0.04, "omega": 2.0, "k1": 4.0, "k2": 0.125, "theta": 0.3},
            **{"rho": 0.0, "rho_sx": -0.7, "rho_sy": -0.5},
        },
        (LOG_100, 0.0, 0.0),
    ),
    "longstaff-schwartz": ({"gamma": 3.05, "delta": 0.0566, "eta": 0.158, "nu": 4.0}, (54.0, 0.04)),
    "chen": (
        {"k": 1.0, "nu": 0.5, "zeta": 0.05, "g": 0.05, "mu": 1.0, "eta": 0.01, "h": 0.02},
        (0.03, 0.05, 0.01),
    ),
    "fong-vasicek": (
        {"alpha": 0.5, "rbar": 0.05, "gamma": 2.0, "vbar": 1e-4, "xi": 0.01, "rho": 0.3},
        (0.03, 1e-4),
    ),
    "cir2": (
        {"kappa1": 0.2, "theta1": 0.03, "sigma1": 0.05, "kappa2": 1.5, "theta2": 0.01, "sigma2": 0.1},
        (0.025, 0.005),
    ),
    "ho-lee": ({"theta": 0.001, "sigma": 0.01}, (0.03,)),
    "black-76": ({"sigma": 0.2}, (100.0,)),
    "displaced-diffusion": ({"sigma": 0.2, "s": 0.02}, (0.03,)),
    "lambda-sabr": ({"lam": 1.0, "sigma_bar": 0.035, "nu": 0.4, "rho": -0.3}, (0.03, 0.035)),
    "logistic": ({"r": 1.0, "K": 100.0, "sigma": 0.2}, (10.0,)),
    "gompertz": ({"r": 1.0, "K": 100.0, "sigma": 0.2}, (10.0,)),
    "langevin-oscillator": ({"gamma": 0.5, "omega": 2.0, "sigma": 0.5}, (1.0, 0.0)),
    "wright-fisher": ({"s": 1.0, "u": 1.0, "v": 1.0}, (0.5,)),
}
FAMILY_SHAPES |= MORE_FAMILY_SHAPES
FAMILY_DEFAULTS |= MORE_FAMILY_DEFAULTS


def test_the_catalog_has_at_least_forty_families_with_unique_keys_and_synonyms() -> None:
    assert len(FAMILIES) >= 40
    assert {f.key for f in BUILT} == set(FAMILY_SHAPES) == set(FAMILY_DEFAULTS)
    assert {f.key for f in JUMPING} == {"merton", "kou", "bates"}
    assert len({f.key for f in FAMILIES}) == len(FAMILIES)
    keys = [catalog.normalise(s) for f in FAMILIES for s in (f.key, *f.synonyms)]
    owners = {}
    for f in FAMILIES:
        for s in (f.key, *f.synonyms):
            assert owners.setdefault(catalog.normalise(s), f.key) == f.key, s
    assert len(keys) > 100


@pytest.mark.parametrize("family", BUILT, ids=lambda f: f.key)
def test_family_equations_defaults_and_domains(family: catalog.Family) -> None:
    model = parse(family.label)
    state, noises, drift, diffusion, domain = FAMILY_SHAPES[family.key]
    assert (model.state, model.noises, model.domain) == (state, noises, domain)
    assert [sp.simplify(d - e) for d, e in zip(model.drift, drift, strict=True)] == [0] * len(drift)
    entries = [(m, e) for a, b in zip(model.diffusion, diffusion, strict=True) for m, e in zip(a, b, strict=True)]
    assert model.diffusion == diffusion or all(sp.simplify(m - e) == 0 for m, e in entries)  # Bergomi: not identical
    defaults, initial = FAMILY_DEFAULTS[family.key]
    assert values(model) == pytest.approx(defaults)
    assert model.initial == pytest.approx(initial)
    assert model.name == family.display_name
    assert model.source == family.label
    assert all(p.description for p in model.parameters)
    assert family.references
    assert_round_trips(model)


@pytest.mark.parametrize("family", BUILT, ids=lambda f: f.key)
def test_family_parameter_constraints(family: catalog.Family) -> None:
    for p in parse(family.label).parameters:
        if p.name.startswith(("sigma", "xi", "kappa")):
            assert p.constraint == "positive", p
        elif p.name.startswith("rho"):
            assert p.constraint == "correlation"
        else:
            assert p.constraint in ("real", "nonnegative", "positive"), p


@pytest.mark.parametrize("family", BUILT, ids=lambda f: f.key)
def test_equations_printed_by_the_model_read_back(family: catalog.Family) -> None:
    model = parse(family.label)
    assignments = [f"{p.name}={p.value!r}" for p in model.parameters]
    assignments += [f"{n}0={value!r}" for n, value in zip(model.state, model.initial, strict=True)]
    noises = model.noises
    correlations = [
        f"corr({noises[k]}, {noises[j]}) = {model.correlation[k][j]}"
        for k in range(len(noises))
        for j in range(k + 1, len(noises))
        if model.correlation[k][j] != 0
    ]
    again = parse("\n".join([*model.equations(), *correlations, ", ".join(assignments)]))
    assert (again.drift, again.diffusion, again.correlation) == (model.drift, model.diffusion, model.correlation)


@pytest.mark.parametrize(
    ("text", "key"),
    [(synonym, family.key) for family in BUILT for synonym in family.synonyms]
    + [
        ("gbm", "gbm"),
        ("Geometric brownian motion", "gbm"),
        ("Black–Scholes", "gbm"),
        ("Black—Scholes model", "gbm"),
        ("black scholes", "gbm"),
        ("  BLACK-SCHOLES  ", "gbm"),
        ("arithmetic Brownian motion", "abm"),
        ("bachelier model", "abm"),
        ("Ornstein–Uhlenbeck process", "ou"),
        ("ornstein uhlenbeck", "ou"),
        ("the Vasicek model", "vasicek"),
        ("Vasiček", "vasicek"),
        ("hull white", "hull-white"),
        ("cox ingersoll ross", "cir"),
        ("Cox–Ingersoll–Ross process", "cir"),
        ("Heston's model", "heston"),
        ("HESTON", "heston"),
        ("heston with mean-reversion", "heston-with-mean-reversion"),
        ("Heston, with mean reversion", "heston-with-mean-reversion"),
        ("sabr model", "sabr"),
        ("three halves", "three-halves"),
        ("the 3/2 model", "three-halves"),
        ("Black Karasinski", "black-karasinski"),
        ("wright fisher", "wright-fisher"),
        ("Wright–Fisher diffusion", "wright-fisher"),
        ("G2++", "g2pp"),
        ("two factor Hull White", "g2pp"),
        ("the Schwartz two factor model", "schwartz-two-factor"),
        ("double heston", "double-heston"),
        ("Heston–Hull–White", "heston-hull-white"),
        ("stochastic Verhulst", "logistic"),
        ("Black 76", "black-76"),
        ("Schoebel Zhu", "schobel-zhu"),
        ("SCHÖBEL–ZHU", "schobel-zhu"),
        ("Chan–Karolyi–Longstaff–Sanders", "ckls"),
        ("GARCH(1,1) diffusion", "garch-diffusion"),
        ("Schwartz (1997)", "schwartz"),
    ],
)
def test_synonyms(text: str, key: str) -> None:
    assert parse(text).name == catalog.by_key(key).display_name


# ============================================================================ modifiers
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("GBM with mean reversion", "schwartz"),
        ("geometric Brownian motion, mean-reverting", "schwartz"),
        ("Brownian motion with mean reversion", "ou"),
        ("Bachelier mean reverting", "ou"),
        ("Dothan with mean reversion", "brennan-schwartz"),
        ("CEV with mean reversion", "ckls"),
        ("GBM with stochastic volatility", "heston"),
        ("Black-Scholes with stochastic vol", "heston"),
        ("CEV with stochastic volatility", "sabr"),
        ("GBM with stochastic volatility and mean reversion", "heston-with-mean-reversion"),
        ("GBM with mean reversion and stochastic volatility", "heston-with-mean-reversion"),
        ("Schwartz with stochastic volatility", "heston-with-mean-reversion"),
        ("mean-reverting Heston", "heston-with-mean-reversion"),
        ("CIR with mean reversion", "cir"),
        ("Heston with stochastic volatility", "heston"),
    ],
)
def test_structural_modifiers(text: str, key: str) -> None:
    model = parse(text)
    assert model.name == catalog.by_key(key).display_name
    assert_round_trips(model)


def test_repeated_modifiers_count_once_and_stay_fast() -> None:
    assert parse("GBM with sv and mean reversion and mean reversion").name == "Heston with mean reversion"
    text = "GBM" + " with mean reversion" * 12 + " with stochastic volatility" * 12
    assert parse(text).name == "Heston with mean reversion"  # 4 distinct modifiers at most: no factorial blow-up


def test_modifier_notes_say_how_the_name_was_read() -> None:
    assert any("is read as Schwartz one-factor" in n for n in parse("GBM with mean reversion").notes)
    assert any("already has it" in n for n in parse("CIR with mean reversion").notes)


def test_correlation_modifiers() -> None:
    zero = parse("Heston zero correlation")
    assert values(zero)["rho"] == 0.0 and zero.name == "Heston (zero correlation)"
    assert values(parse("Heston uncorrelated"))["rho"] == 0.0
    assert values(parse("SABR with no correlation"))["rho"] == 0.0
    correlated = parse("Heston correlated")
    assert values(correlated)["rho"] == -0.7 and correlated.name == "Heston"
    assert any("correlated: rho = -0.7" in n for n in correlated.notes)
    assert values(parse("GARCH diffusion independent"))["rho"] == 0.0


def test_stein_stein_is_schobel_zhu_without_correlation() -> None:
    model = parse("Stein-Stein")
    assert model.name == "Stein-Stein"
    assert values(model)["rho"] == 0.0
    assert any("Stein & Stein (1991)" in n for n in model.notes)
    assert parse("Stein and Stein model S0=120").initial[0] == pytest.approx(math.log(120))
    assert "contradicts the name" in error_of("Stein-Stein rho=-0.5").reason


@pytest.mark.parametrize(
    ("text", "needle", "at"),
    [
        ("SABR with mean reversion", "SABR has no variant 'with mean reversion'", 10),
        ("OU with stochastic volatility", "OU has no variant 'with stochastic volatility'", 8),
        ("CIR with jumps", "CIR has no variant 'with jumps'", 9),
        ("GBM zero correlation", "has a single Brownian motion", 4),
        ("Heston correlated zero correlation", "contradict each other", 7),
        ("Heston zero correlation rho=-0.5", "contradicts the name", 28),
        ("Hestn with mean reversion", "unknown model", 0),
    ],
)
def test_modifier_errors(text: str, needle: str, at: int) -> None:
    error = error_of(text)
    assert needle in error.reason
    assert error.position == at, str(error)


def test_modifier_errors_list_the_families_that_have_the_variant() -> None:
    reason = error_of("SABR with mean reversion").reason
    assert "GBM (-> Schwartz one-factor)" in reason and "Heston (-> Heston with mean reversion)" in reason


# ============================================================================ jump families
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Merton jump-diffusion", "merton"),
        ("Merton", "merton"),
        ("jump diffusion", "merton"),
        ("GBM with jumps", "merton"),
        ("Black-Scholes with lognormal jumps", "merton"),
        ("Kou", "kou"),
        ("GBM with double exponential jumps", "kou"),
        ("Bates", "bates"),
        ("SVJ", "bates"),
        ("Heston with jumps", "bates"),
        ("Merton with stochastic volatility", "bates"),
    ],
)
def test_jump_families_parse_with_their_jump_part(text: str, key: str) -> None:
    model = parse(text)
    family = catalog.by_key(key)
    assert family.jumps is not None
    assert model.name.startswith(family.display_name)
    (jump,) = model.jumps
    assert (jump.variable, jump.law) == ("x", family.jumps.law)
    assert jump.intensity == symbol("lam")
    assert model.equations()[0].endswith("+ dJ_x")
    assert_round_trips(model)
    assert SdeModel.from_json(model.to_json()).jumps == model.jumps


def test_jump_families_carry_the_compensator_of_their_size_law() -> None:
    """Merton (1976) and Bates (1996): -lam (e^{m + delta^2/2} - 1); Kou (2002): -lam (p eta1/(eta1-1) +
    (1-p) eta2/(eta2+1) - 1); so e^{-mu t} S_t is a martingale (mu is the rate)."""
    lam, m, delta = symbol("lam"), symbol("m"), symbol("delta")
    p_, eta1, eta2 = symbol("p"), symbol("eta1"), symbol("eta2")
    merton = parse("Merton").drift[0]
    assert sp.simplify(merton - (mu - sigma**2 / 2 - lam * (sp.exp(m + delta**2 / 2) - 1))) == 0
    kou = parse("Kou").drift[0]
    expected = mu - sigma**2 / 2 - lam * (p_ * eta1 / (eta1 - 1) + (1 - p_) * eta2 / (eta2 + 1) - 1)
    assert sp.simplify(kou - expected) == 0
    bates = parse("Bates").drift[0]
    assert sp.simplify(bates - (mu - v / 2 - lam * (sp.exp(m + delta**2 / 2) - 1))) == 0


def test_jump_overrides_and_defaults() -> None:
    model = parse("Merton lam=0.5 m=-0.2 delta=0.3 sigma=0.25 S0=50")
    assert values(model) == pytest.approx({"mu": 0.05, "sigma": 0.25, "lam": 0.5, "m": -0.2, "delta": 0.3})
    assert model.initial == pytest.approx((math.log(50),))
    assert values(parse("Kou")) == pytest.approx({"mu": 0.05, "sigma": 0.16, "lam": 1, "p": 0.4, "eta1": 10, "eta2": 5})


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("Merton lam=-1", "lam must be non-negative", 11),
        ("Merton delta=0", "delta must be positive", 13),
        ("Kou p=1.5", "p must lie in [0, 1]", 6),
        ("Kou eta1=1", "eta1 must exceed 1", 9),
        ("Bates lamda=2", "did you mean 'lam'", 6),
    ],
)
def test_bad_jump_values_are_refused_with_a_caret(text: str, message: str, at: int) -> None:
    error = error_of(text)
    assert message in error.reason
    assert error.position == at


def test_jump_families_describe_their_jump_part() -> None:
    for family in JUMPING:
        assert family.jumps is not None
        assert family.jumps.law in ("normal", "double-exponential")
        assert {family.jumps.intensity, *family.jumps.size} <= {p.name for p in family.parameters}
        assert catalog.by_key(family.jumps.diffusion_part).jumps is None
    assert catalog.model("bates", lam=0.5).parameter_values()["lam"] == 0.5


# ============================================================================ shapes and value-dependent forms
@pytest.mark.parametrize(
    ("beta", "expression", "domain"),
    [
        (0.5, sigma * sp.sqrt(F), "nonnegative"),
        (1.0, sigma * F, "positive"),
        (0.0, sigma, "real"),
        (0.7, sigma * sp.Max(F, 0) ** sp.Rational(7, 10), "nonnegative"),
    ],
)
def test_sabr_beta_is_fixed_into_the_equations(beta: float, expression: sp.Expr, domain: str) -> None:
    model = parse(f"SABR beta={beta}")
    assert model.diffusion[0][0] == expression
    assert model.domain[0] == domain
    assert "beta" not in values(model)
    assert any("shape exponent" in n for n in model.notes)
    assert_round_trips(model)


def test_shape_bounds_and_the_other_exponent_families() -> None:
    assert "beta must lie in [0, 1]" in error_of("SABR beta=1.5").reason
    assert "gamma must lie in [0, 3]" in error_of("CEV gamma=-1").reason
    assert parse("CEV gamma=1").diffusion == ((sigma * S,),)
    assert parse("CKLS gamma=0.5").diffusion == ((sigma * sp.sqrt(r),),)
    assert parse("CKLS gamma=0").domain == ("real",)
    # Hagan et al. (2002): nu is the vol of vol, alpha the initial volatility sigma(0).
    sabr = parse("SABR nu=0.5 alpha=0.05")
    assert sabr.parameter_values()["nu"] == 0.5
    assert sabr.initial[1] == 0.05


def test_jacobi_keeps_its_bounds() -> None:
    assert "theta must lie in [0, 1]" in error_of("Jacobi theta=1.5").reason
    text = "Jacobi X0=1.2"
    error = error_of(text)
    assert "X0 must lie in [0, 1]" in error.reason and error.position == text.index("1.2")
    wide = parse("Jacobi sigma=2")
    # Truncation at both ends: the coefficients never see X outside [0, 1], so no Max(0, ...) is needed.
    assert wide.diffusion == ((sigma * sp.sqrt(X * (1 - X)),),)
    assert wide.domain == ("[0, 1]",)
    assert any("can reach 0 or 1" in n for n in wide.notes)
    assert any("lives in [0, 1]" in n for n in parse("Jacobi").notes)
    assert parse("Wright-Fisher X0=1").domain == ("[0, 1]",)  # both ends are values it may start from


# ============================================================================ notes
def test_heston_notes_say_the_price_is_a_logarithm() -> None:
    notes = " ".join(parse("Heston").notes)
    assert "x = log S" in notes


def test_heston_with_mean_reversion_notes_explain_the_interpretation() -> None:
    notes = " ".join(parse("Heston with mean reversion").notes)
    assert "interpretation" in notes and "mean-reverting log-price" in notes
    assert "'heston'" in notes  # how to get plain Heston
    assert "kappa_x=" in notes  # how to override
    assert parse("Heston with mean reversion").correlation == ((1, rho), (rho, 1))


def test_feller_violation_is_a_note_not_an_error() -> None:
    assert not any("Feller" in n for n in parse("CIR").notes)
    assert not any("Feller" in n for n in parse("Heston").notes)
    model = parse("CIR kappa=0.1 theta=0.01 sigma=0.5")
    assert any("Feller" in n and "0.002 < 0.25" in n for n in model.notes)
    assert any("Feller" in n for n in parse("Heston xi=1").notes)


def test_state_form_notes() -> None:
    assert any("u = 1/v" in n for n in parse("3/2 model").notes)
    assert any("x = log r" in n for n in parse("Black-Karasinski").notes)
    assert any("theta(t)" in n for n in parse("Hull-White").notes)


# ============================================================================ overrides
@pytest.mark.parametrize(
    "text",
    [
        "CIR kappa=1.5 theta=0.05 sigma=0.1 r0=0.03",
        "CIR kappa=1.5 theta=0.05 sigma=0.1 X0=0.03",
        "CIR kappa=1.5, theta=0.05, sigma=0.1, r0=0.03",
        "CIR with kappa=1.5; theta=0.05 and sigma=0.1 where r(0)=0.03",
        "CIR\nkappa = 1.5\ntheta = 0.05\nsigma = 0.1\nr_0 = 0.03",
        "Cox-Ingersoll-Ross model where κ=1.5, θ=0.05, σ=0.1, R0=0.03",
        "CIR(kappa=1.5, theta=0.05, sigma=0.1, r0=3/100)",
        "CIR kappa=1.5 theta=0.05 sigma=0.1 X(0)=0.03",
    ],
)
def test_overrides(text: str) -> None:
    model = parse(text)
    assert values(model) == {"kappa": 1.5, "theta": 0.05, "sigma": 0.1}
    assert model.initial == (0.03,)
    assert model.source == text
    assert_round_trips(model)


def test_override_initial_values_and_aliases() -> None:
    assert parse("GBM S0=50 mu=0.1").initial == (50.0,)
    assert parse("GBM S(0)=50").initial == (50.0,)
    assert parse("GBM X0=50").initial == (50.0,)
    assert "X0 is read as r0" in " ".join(parse("CIR X0=0.01").notes)
    assert parse("OU X0=-1").initial == (-1.0,)
    assert parse("Heston S0=120").initial == (math.log(120), 0.04)
    assert parse("Heston x0=log(120), v0=0.09").initial == (math.log(120), 0.09)
    assert values(parse("Heston with mean reversion kappa_x=0.5 rho=0.2"))["kappa_x"] == 0.5
    assert parse("3/2 model v0=0.0625").initial == (16.0,)
    assert parse("Black-Karasinski r0=0.05").initial == (math.log(0.05),)
    assert parse("Schwartz S0=30").initial == (math.log(30),)
    assert values(parse("dothan(a=0.01, sigma=0.3)")) == {"a": 0.01, "sigma": 0.3}  # not read as "dothan(t) = ..."
    assert "given twice" in error_of("Heston S0=120 x0=4").reason
    assert "given twice" in error_of("CIR r0=0.1 X0=0.2").reason
    assert "S0 must be positive" in error_of("Heston S0=-1").reason
    assert "X0 must be non-negative" in error_of("CIR X0=-1").reason


def test_catalog_api() -> None:
    assert catalog.find("black scholes") is catalog.find("GBM")
    assert catalog.find("Stein-Stein") is catalog.by_key("schobel-zhu")
    assert catalog.find("nope") is None
    model = catalog.model("cir", kappa=1.5, r0=0.01)
    assert values(model)["kappa"] == 1.5 and model.initial == (0.01,)
    assert catalog.model("heston zero correlation").parameter_values()["rho"] == 0.0
    with pytest.raises(ModelError, match="did you mean 'kappa'"):
        catalog.model("cir", kapa=1.0)
    with pytest.raises(ModelError, match="must be positive"):
        catalog.model("cir", sigma=-1.0)
    with pytest.raises(ModelError, match=r"theta must lie in \[0, 1\]"):
        catalog.model("jacobi", theta=2.0)
    with pytest.raises(ParseError, match="unknown model"):
        catalog.family("nope")


def test_unknown_override_suggests_close_names() -> None:
    text = "CIR kappa=1.5 thta=0.05"
    error = error_of(text)
    assert "no parameter 'thta'" in error.reason and "did you mean 'theta'" in error.reason
    assert "kappa, theta, sigma, r0, X0" in error.reason
    assert error.position == text.index("thta")


def test_bad_override_values_point_at_the_value() -> None:
    text = "CIR kappa=-1.5"
    error = error_of(text)
    assert error.reason == "parameter kappa must be positive, got -1.5"
    assert error.position == text.index("-1.5")
    text = "Heston rho=-1.2"
    assert "must lie in [-1, 1], got -1.2" in error_of(text).reason
    text = "GBM S0=0"
    error = error_of(text)
    assert "S0 must be positive" in error.reason and error.position == text.index("0", 6)
    assert "given twice" in error_of("CIR kappa=1 kappa=2").reason
    assert "must be a number" in error_of("CIR kappa=theta").reason


def test_only_values_may_follow_a_model_name() -> None:
    text = "GBM, corr(W1, W2) = 0.5"
    error = error_of(text)
    assert "only values like 'kappa = 2'" in error.reason


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("Hestonn model of everything", "'Heston'"), ("CIRR", "'CIR'"), ("Vasichek", "'Vasicek'"), ("xyz", None)],
)
def test_unknown_model(text: str, suggested: str | None) -> None:
    error = error_of(text)
    assert error.reason.startswith(f"unknown model {text!r}")
    assert "Known models: " + ", ".join(catalog.names()) in error.reason
    if suggested:
        assert f"did you mean {suggested}" in error.reason
    else:
        assert "did you mean" not in error.reason
    assert error.position == 0


def test_values_without_a_model_name() -> None:
    error = error_of("kappa=2")
    assert "expected a model name" in error.reason and error.position == 0
