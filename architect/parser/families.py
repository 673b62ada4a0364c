"""The named model families, with their defaults and where those come from.

Every default is a realistic value with its source in the comment above the family (and in
docs/models.md, which lists the same families). Conventions:

- prices are simulated as their logarithm x = log S where the price's noise is not proportional
  to it (Heston and its relatives), so ``S0=...`` sets ``x0 = log(S0)``;
- a square root of a state variable marks it non-negative, and the code generator simulates it
  with full truncation; noise proportional to a positive variable gets the log-Euler step;
- shape exponents (SABR's beta, CEV's and CKLS's gamma) are fixed into the equations
  (`family_schema.power`), so the scheme follows the power.

To add a family: append a `Family` to `FAMILIES` (parameters with constraints and one-line
descriptions, realistic defaults with their source, a domain per constrained state variable, the
synonyms users type, the modifiers it already has and the families its modifiers lead to), then
add a section to docs/models.md and a golden file (`ARCHITECT_UPDATE_GOLDEN=1 pytest tests/test_parse_golden.py`).
"""

from __future__ import annotations

import math
from fractions import Fraction

from architect.parser.family_schema import (
    LOG_100,
    Alias,
    Check,
    Family,
    Jumps,
    Shape,
    Values,
    exact,
    feller_check,
    p,
    power,
    power_domain,
    within,
)

MEAN_REVERSION = "mean-reversion"
STOCHASTIC_VOLATILITY = "stochastic-volatility"
JUMPS = "jumps"
DOUBLE_EXPONENTIAL_JUMPS = "double-exponential-jumps"

# ---------------------------------------------------------------------------- shared pieces
# Equity defaults after Hull, "Options, Futures and Other Derivatives" (expected return 5%, volatility
# 20%, S0 = 100). Heston variance after Heston (1993) and the typical equity calibrations in Gatheral,
# "The Volatility Surface" (2006): kappa ~ 2, theta ~ v0 ~ 0.04 (20% vol), vol of vol ~ 0.3, rho ~ -0.7.
_MU = p("mu", 0.05, "real", "drift: expected return per year")
_SIGMA = p("sigma", 0.2, "positive", "volatility per square root of a year")
_HESTON_VARIANCE = (
    p("kappa", 2.0, "positive", "speed of mean reversion of the variance"),
    p("theta", 0.04, "nonnegative", "long-run variance (0.04 = 20% volatility)"),
    p("xi", 0.3, "positive", "volatility of the variance (vol of vol)"),
    p("rho", -0.7, "correlation", "correlation between the price and variance shocks"),
)
_S0_ALIAS = Alias("S0", "x0", math.log, "initial price; sets x0 = log(S0)", positive=True)
#: Heston (1993) writes sigma for the volatility of the variance; the catalog calls it xi.
_HESTON_SIGMA_ALIAS = Alias("sigma", "xi", float, "Heston's (1993) name for the vol of vol xi")
_HESTON_FELLER = feller_check("kappa", "theta", "xi", "the variance v")
_LOG_PRICE_NOTE = (
    "the price is modelled as its logarithm x = log S (so S = exp(x)); x0 = log(100) means S0 = 100, "
    "and S0=... sets x0 = log(S0)"
)
_PRICE_VARIANCE = (("W1", "W2", "rho"),)
# Merton (1976) log-normal jumps; illustrative equity values: one jump a year, mean log-jump -10%, jump
# volatility 15% (the order of Andersen & Andreasen 2000's S&P 500 fit: lam 0.09-0.1, m -0.8..-0.9 is a crash
# model; these milder values keep moments and prices well inside what 10^5 paths resolve).
_MERTON_JUMPS = (
    p("lam", 1.0, "nonnegative", "jump intensity per year"),
    p("m", -0.1, "real", "mean log-jump size"),
    p("delta", 0.15, "positive", "volatility of the log-jump size"),
)


def _MERTON_JUMP_PART(diffusion_part: str) -> Jumps:
    return Jumps(
        variable="x",
        law="normal",
        intensity="lam",
        size=("m", "delta"),
        equation="+ dJ, J compound Poisson with rate lam and N(m, delta^2) log-jumps",
        diffusion_part=diffusion_part,
    )


def _eta1_above_one(values: Values) -> tuple[str, str] | None:
    """Kou: E[exp(Y)] is finite only for eta1 > 1 (the compensator in the drift needs it)."""
    if values["eta1"] > 1:
        return None
    return "eta1", f"eta1 must exceed 1 (else E[exp(Y)] is infinite and the price has no mean), got {values['eta1']:g}"


# ---------------------------------------------------------------------------- value-dependent forms
def _sabr_equations(values: Values) -> str:
    return f"dF = sigma*{power('F', values['beta'])}*dW1; dsigma = nu*sigma*dW2"


def _sabr_domain(values: Values) -> dict[str, str]:
    return {"F": power_domain(values["beta"]), "sigma": "positive"}


def _cev_equations(values: Values) -> str:
    return f"dS = mu*S*dt + sigma*{power('S', values['gamma'])}*dW"


def _cev_domain(values: Values) -> dict[str, str]:
    return {"S": power_domain(values["gamma"])}


def _ckls_equations(values: Values) -> str:
    return f"dr = (alpha + beta*r)*dt + sigma*{power('r', values['gamma'])}*dW"


def _ckls_domain(values: Values) -> dict[str, str]:
    return {"r": power_domain(values["gamma"])}


def _jacobi_boundaries_unattainable(values: Values) -> bool:
    """Both ends of [0, 1] are unattainable when 2 kappa theta >= sigma^2 and 2 kappa (1 - theta) >= sigma^2."""
    kappa, theta, sigma = values["kappa"], values["theta"], values["sigma"]
    return 2 * kappa * min(theta, 1 - theta) >= sigma**2


def _jacobi_equations(values: Values) -> str:
    # The polynomial form for every value: X's domain is [0, 1] and the scheme truncates at both ends, so the
    # coefficients never see X outside it, even where an Euler step overshoots a boundary.
    return "dX = kappa*(theta - X)*dt + sigma*sqrt(X*(1 - X))*dW"


def _jacobi_boundary_note(values: Values) -> str | None:
    if _jacobi_boundaries_unattainable(values):
        return None
    return (
        "2*kappa*min(theta, 1 - theta) < sigma^2: X can reach 0 or 1, where the full-truncation steps (at both "
        "ends) are least accurate; lower sigma or refine the time step"
    )


def _ckls_boundary_note(values: Values) -> str | None:
    alpha, sigma = values["alpha"], values["sigma"]
    if alpha < 0:
        return "alpha < 0: the rate is pushed below zero near r = 0, where the CKLS diffusion vanishes"
    if exact(values["gamma"]) == Fraction(1, 2) and 2 * alpha < sigma**2:
        return (
            f"gamma = 1/2 makes CKLS a CIR process and its Feller condition 2*alpha >= sigma^2 fails "
            f"({2 * alpha:g} < {sigma**2:g}): r reaches zero often, where full-truncation Euler steps are least "
            "accurate; lower sigma (CIR-like values are about 0.1) or refine the time step"
        )
    return None


# ---------------------------------------------------------------------------- issue #19: more families' forms
def _lambda_sabr_equations(values: Values) -> str:
    return f"dF = sigma*{power('F', values['beta'])}*dW1; dsigma = lam*(sigma_bar - sigma)*dt + nu*sigma*dW2"


#: Bergomi (2005)'s two-factor model in its Markov form with a flat initial forward variance xi0: the instantaneous
#: variance is xi0*exp(omega*x_t - omega^2/2*E[x_t^2]) with x_t = alpha_theta*((1 - theta)*X + theta*Y), the
#: normalisation alpha_theta = 1/sqrt((1 - theta)^2 + theta^2 + 2*rho*theta*(1 - theta)) and E[x_t^2] from the two
#: Ornstein-Uhlenbeck factors started at 0 (exponentials of t), so that E[v_t] = xi0 at every t.
_BERGOMI_WEIGHT = "((1 - theta)^2 + theta^2 + 2*rho*theta*(1 - theta))"
_BERGOMI_FACTOR = f"((1 - theta)*X + theta*Y)/sqrt({_BERGOMI_WEIGHT})"
_BERGOMI_SPREAD = (
    "((1 - theta)^2*(1 - exp(-2*k1*t))/(2*k1) + theta^2*(1 - exp(-2*k2*t))/(2*k2) "
    f"+ 2*rho*theta*(1 - theta)*(1 - exp(-(k1 + k2)*t))/(k1 + k2))/{_BERGOMI_WEIGHT}"
)
_BERGOMI_EQUATIONS = (
    f"dx = (mu - xi0*exp(omega*{_BERGOMI_FACTOR} - omega^2*{_BERGOMI_SPREAD}/2)/2)*dt "
    f"+ sqrt(xi0)*exp(omega*{_BERGOMI_FACTOR}/2 - omega^2*{_BERGOMI_SPREAD}/4)*dW1; "
    "dX = -k1*X*dt + dW2; dY = -k2*Y*dt + dW3"
)


def _square_root_boundary(level: str, variable: str) -> Check:
    """Note when a square-root factor with unit noise coefficient, drift ``level - ...``, reaches zero (2 level < 1)."""

    def check(values: Values) -> str | None:
        if 2 * values[level] >= 1:
            return None
        return (
            f"2*{level} < 1 ({2 * values[level]:g}): the Feller condition of {variable} fails, so {variable} can reach "
            "zero; the simulator truncates it at zero (full truncation)"
        )

    return check


def _wright_fisher_boundary_note(values: Values) -> str | None:
    if 2 * min(values["u"], values["v"]) >= 1:
        return None
    return (
        "2*min(u, v) < 1: X can reach 0 or 1 (an allele can be lost or fixed), where the full-truncation steps "
        "(at both ends) are least accurate; refine the time step"
    )


# ---------------------------------------------------------------------------- the families
FAMILIES: tuple[Family, ...] = (
    # Black & Scholes (1973), Merton (1973); defaults after Hull (mu 5%, vol 20%, S0 = 100).
    Family(
        key="gbm",
        display_name="Geometric Brownian motion",
        synonyms=(
            "GBM",
            "geometric Brownian motion",
            "Black-Scholes",
            "Black-Scholes-Merton",
            "geometric BM",
            "lognormal",
            "log-normal price",
            "BSM",
            "Samuelson",
        ),
        description="Black-Scholes stock price: constant drift and volatility; always positive",
        equations="dS = mu*S*dt + sigma*S*dW",
        parameters=(_MU, _SIGMA),
        initial=(("S", 100.0),),
        domain={"S": "positive"},
        references="Black & Scholes (1973); Merton (1973); defaults after Hull, Options, Futures and Other Derivatives",
        variants={
            MEAN_REVERSION: "schwartz",
            STOCHASTIC_VOLATILITY: "heston",
            JUMPS: "merton",
            DOUBLE_EXPONENTIAL_JUMPS: "kou",
        },
    ),
    # Bachelier (1900): Brownian motion with drift; the same magnitudes as GBM's returns.
    Family(
        key="abm",
        display_name="Arithmetic Brownian motion",
        synonyms=(
            "ABM",
            "arithmetic Brownian motion",
            "Bachelier",
            "Brownian motion with drift",
            "Brownian motion",
            "arithmetic BM",
            "Wiener process",
            "normal model",
        ),
        description="Bachelier model: Brownian motion with constant drift and volatility; can go negative",
        equations="dX = mu*dt + sigma*dW",
        parameters=(p("mu", 0.05, "real", "drift per year"), p("sigma", 0.2, "positive", "volatility per year")),
        initial=(("X", 0.0),),
        references="Bachelier (1900), Theorie de la speculation; defaults: the GBM magnitudes (5% drift, 20% vol)",
        variants={MEAN_REVERSION: "ou"},
    ),
    # Uhlenbeck & Ornstein (1930); illustrative values: half-life log(2)/2 ~ 4 months.
    Family(
        key="ou",
        display_name="Ornstein-Uhlenbeck",
        synonyms=("OU", "Ornstein-Uhlenbeck", "OU process", "mean-reverting Gaussian", "Gaussian mean reversion"),
        description="Gaussian process pulled back to theta at speed kappa",
        equations="dX = kappa*(theta - X)*dt + sigma*dW",
        parameters=(
            p("kappa", 2.0, "positive", "speed of mean reversion (half-life log(2)/kappa years)"),
            p("theta", 0.05, "real", "long-run mean"),
            p("sigma", 0.2, "positive", "volatility"),
        ),
        initial=(("X", 0.0),),
        references="Uhlenbeck & Ornstein (1930); illustrative values (half-life log(2)/2, about 4 months)",
        features=frozenset({MEAN_REVERSION}),
    ),
    # Vasicek (1977); rates of 3-5% and an absolute rate vol of ~1% after Brigo & Mercurio (2006), ch. 3.
    Family(
        key="vasicek",
        display_name="Vasicek",
        synonyms=("Vasicek", "Vasicek short rate", "Vasicek interest rate"),
        description="Vasicek (1977) short rate: Ornstein-Uhlenbeck, Gaussian, can go negative",
        equations="dr = kappa*(theta - r)*dt + sigma*dW",
        parameters=(
            p("kappa", 2.0, "positive", "speed of mean reversion"),
            p("theta", 0.05, "real", "long-run rate"),
            p("sigma", 0.01, "positive", "absolute rate volatility (0.01 = 100 bp per year)"),
        ),
        initial=(("r", 0.03),),
        aliases=(
            Alias("a", "kappa", float, "Hull's notation for the speed of mean reversion (dr = a(b - r)dt + sigma dW)"),
            Alias("b", "theta", float, "Hull's notation for the long-run rate (dr = a(b - r)dt + sigma dW)"),
        ),
        references="Vasicek (1977); magnitudes after Brigo & Mercurio, Interest Rate Models (2006), ch. 3",
        features=frozenset({MEAN_REVERSION}),
    ),
    # Hull & White (1990) with constant theta; a = 0.1 and sigma = 0.01 are the values of Hull's textbook examples.
    Family(
        key="hull-white",
        display_name="Hull-White",
        synonyms=(
            "Hull-White",
            "HW",
            "Hull-White one-factor",
            "HW1F",
            "Hull-White short rate",
            "extended Vasicek",
        ),
        description="Hull-White (1990) short rate with constant parameters: Vasicek in the (theta - a r) form",
        equations="dr = (theta - a*r)*dt + sigma*dW",
        parameters=(
            p("theta", 0.005, "real", "drift level; the rate reverts to theta/a (0.005/0.1 = 5%)"),
            p("a", 0.1, "positive", "speed of mean reversion"),
            p("sigma", 0.01, "positive", "absolute rate volatility (0.01 = 100 bp per year)"),
        ),
        initial=(("r", 0.03),),
        references="Hull & White (1990); a = 0.1, sigma = 0.01 as in Hull, Options, Futures and Other Derivatives",
        notes=(
            "constant parameters only: the time-dependent theta(t) that fits today's yield curve is not supported; "
            "with a constant theta the model is Vasicek with long-run rate theta/a",
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Cox, Ingersoll & Ross (1985); magnitudes after Brigo & Mercurio (2006), ch. 3 (sigma ~ 0.1 in sqrt(r) units).
    Family(
        key="cir",
        display_name="Cox-Ingersoll-Ross",
        synonyms=(
            "CIR",
            "Cox-Ingersoll-Ross",
            "CIR short rate",
            "square-root process",
            "square-root diffusion",
            "Feller square-root process",
            "CIR85",
        ),
        description="Cox-Ingersoll-Ross (1985) short rate: mean-reverting square-root diffusion; never negative",
        equations="dr = kappa*(theta - r)*dt + sigma*sqrt(r)*dW",
        parameters=(
            p("kappa", 2.0, "positive", "speed of mean reversion"),
            p("theta", 0.04, "nonnegative", "long-run rate"),
            p("sigma", 0.1, "positive", "volatility coefficient of sqrt(r)"),
        ),
        initial=(("r", 0.03),),
        domain={"r": "nonnegative"},
        checks=(feller_check("kappa", "theta", "sigma", "r"),),
        references="Cox, Ingersoll & Ross (1985); magnitudes after Brigo & Mercurio (2006), ch. 3",
        features=frozenset({MEAN_REVERSION}),
    ),
    # Heston (1993); equity defaults after Gatheral (2006).
    Family(
        key="heston",
        display_name="Heston",
        synonyms=("Heston", "Heston stochastic volatility", "Heston SV", "Heston 1993"),
        description="Heston (1993) stochastic volatility: log-price x with CIR variance v, correlated shocks",
        equations="dx = (mu - v/2)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2",
        parameters=(_MU, *_HESTON_VARIANCE),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "nonnegative"},
        correlations=_PRICE_VARIANCE,
        notes=(_LOG_PRICE_NOTE,),
        checks=(_HESTON_FELLER,),
        aliases=(_S0_ALIAS, _HESTON_SIGMA_ALIAS),
        references="Heston (1993); defaults after Gatheral, The Volatility Surface (2006)",
        features=frozenset({STOCHASTIC_VOLATILITY}),
        variants={MEAN_REVERSION: "heston-with-mean-reversion", JUMPS: "bates"},
    ),
    # Heston's variance plus a Schwartz (1997)-style mean-reverting log-price.
    Family(
        key="heston-with-mean-reversion",
        display_name="Heston with mean reversion",
        synonyms=(
            "Heston with mean reversion",
            "Heston mean reversion",
            "Heston with mean-reverting price",
            "mean-reverting Heston",
            "Heston mean-reverting",
            "Schwartz-Heston",
        ),
        description="Heston stochastic variance with a mean-reverting (Ornstein-Uhlenbeck, Schwartz-style) log-price",
        equations="dx = kappa_x*(theta_x - x)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2",
        parameters=(
            p("kappa_x", 1.0, "positive", "speed of mean reversion of the log-price"),
            p("theta_x", LOG_100, "real", "long-run log-price (log(100): prices revert to about 100)"),
            *_HESTON_VARIANCE,
        ),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "nonnegative"},
        correlations=_PRICE_VARIANCE,
        notes=(
            "interpretation: 'Heston with mean reversion' is read as Heston's stochastic variance v (which "
            "already mean-reverts) plus a mean-reverting log-price x = log S, as in Schwartz (1997) commodity "
            "models: dx = kappa_x*(theta_x - x) dt + sqrt(v) dW1; the price reverts to exp(theta_x)",
            "for the plain Heston model (log-price drift mu - v/2, no mean reversion of the price) type 'heston'",
            "override any value after the name, e.g. 'Heston with mean reversion kappa_x=0.5 theta_x=4.7 "
            "rho=-0.5 v0=0.09' (S0=... sets x0 = log(S0))",
        ),
        checks=(_HESTON_FELLER,),
        aliases=(_S0_ALIAS, _HESTON_SIGMA_ALIAS),
        references="Heston (1993) variance; Schwartz (1997) mean-reverting log-price; defaults as for Heston",
        features=frozenset({STOCHASTIC_VOLATILITY, MEAN_REVERSION}),
    ),
    # Hagan, Kumar, Lesniewski & Woodward (2002). Rates-style defaults: forward 3%, beta = 1/2 (a common a-priori
    # choice; Hagan et al. suggest fixing beta from prior beliefs), sigma0 = 0.2*sqrt(F0) ~ 20% lognormal vol,
    # vol of vol 0.4 and rho -0.3, of the order seen in swaption-smile calibrations.
    Family(
        key="sabr",
        display_name="SABR",
        synonyms=("SABR", "stochastic alpha beta rho", "SABR stochastic volatility", "Hagan SABR"),
        description="SABR (Hagan et al. 2002): forward F with CEV-type noise sigma*F^beta, lognormal volatility sigma",
        equations=_sabr_equations,
        parameters=(
            p("nu", 0.4, "positive", "volatility of the volatility (vol of vol)"),
            p("rho", -0.3, "correlation", "correlation between the forward and volatility shocks"),
        ),
        shapes=(Shape("beta", 0.5, 0.0, 1.0, "CEV exponent of the forward (0 normal, 1/2 CIR-like, 1 lognormal)"),),
        initial=(("F", 0.03), ("sigma", 0.035)),
        domain=_sabr_domain,
        correlations=(("W1", "W2", "rho"),),
        aliases=(
            Alias("alpha", "sigma0", float, "Hagan et al.'s alpha: the initial volatility sigma0", positive=True),
        ),
        notes=(
            "notation of Hagan et al. (2002): dF = sigma F^beta dW1, dsigma = nu sigma dW2, sigma(0) = alpha; nu is "
            "the vol of vol and alpha=... sets the initial volatility sigma0",
            "beta = 1/2 makes F^beta a square root, so F is simulated with full truncation; any other beta in (0, 1) "
            "is written max(F, 0)^beta and simulated with Euler steps (F held at 0 once it gets there); beta = 1 "
            "makes F lognormal (log-Euler) and beta = 0 normal (Euler, F may go negative)",
        ),
        references=(
            "Hagan, Kumar, Lesniewski & Woodward (2002), Managing smile risk; rates-style defaults: forward 3%, "
            "beta 1/2, sigma0 = 0.2*sqrt(F0) (about 20% lognormal), vol of vol 0.4, rho -0.3"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY}),
    ),
    # Cox (1975); gamma = 1/2 is Cox's square-root case; sigma = 2 gives a 20% local volatility at S = 100.
    Family(
        key="cev",
        display_name="Constant elasticity of variance",
        synonyms=("CEV", "constant elasticity of variance", "Cox CEV", "CEV process"),
        description="Constant elasticity of variance (Cox 1975): dS = mu S dt + sigma S^gamma dW",
        equations=_cev_equations,
        parameters=(_MU, p("sigma", 2.0, "positive", "volatility coefficient of S^gamma (2 = 20% at S = 100)")),
        shapes=(Shape("gamma", 0.5, 0.0, 3.0, "elasticity exponent (1 is geometric Brownian motion)"),),
        initial=(("S", 100.0),),
        domain=_cev_domain,
        notes=(
            "gamma = 1/2 makes S^gamma a square root (full truncation at zero); another gamma in (0, 1) is written "
            "max(S, 0)^gamma with Euler steps; gamma > 1 keeps S positive",
        ),
        references=(
            "Cox (1975), Notes on option pricing I: constant elasticity of variance diffusions; sigma = 2 gives a 20% "
            "local volatility at S = 100"
        ),
        variants={MEAN_REVERSION: "ckls", STOCHASTIC_VOLATILITY: "sabr"},
    ),
    # The 3/2 model (Heston 1997; Lewis 2000; Ahn & Gao 1999 for rates). Simulated as u = 1/v, which is a CIR
    # process. Defaults chosen to match the Heston defaults at v = theta = 0.04: kappa*theta = 2 (kappa = 50) and
    # relative vol of variance xi*sqrt(theta) = 0.3/sqrt(0.04) = 1.5 (xi = 7.5).
    Family(
        key="three-halves",
        display_name="Three-halves (3/2) model",
        synonyms=(
            "3/2",
            "3/2 model",
            "three-halves",
            "three halves model",
            "3/2 stochastic volatility",
            "3/2 process",
            "Ahn-Gao",
        ),
        description="3/2 variance process dv = kappa v (theta - v) dt + xi v^(3/2) dW, simulated as u = 1/v (CIR)",
        equations="du = (kappa + xi^2 - kappa*theta*u)*dt - xi*sqrt(u)*dW",
        parameters=(
            p("kappa", 50.0, "positive", "mean-reversion coefficient (speed kappa*v, 2 per year at v = theta)"),
            p("theta", 0.04, "positive", "level the variance reverts to (0.04 = 20% volatility)"),
            p("xi", 7.5, "positive", "volatility coefficient of v^(3/2) (xi*sqrt(v) = 1.5 at v = 0.04)"),
        ),
        initial=(("u", 25.0),),
        domain={"u": "nonnegative"},
        aliases=(Alias("v0", "u0", lambda v: 1.0 / v, "initial variance; sets u0 = 1/v0", positive=True),),
        notes=(
            "state form: the variance v of the 3/2 model is simulated as u = 1/v, which by Ito's formula is a CIR "
            "process du = (kappa + xi^2 - kappa*theta*u) dt - xi*sqrt(u) dW (its Feller condition always holds, so "
            "v never explodes); v = 1/u; v0=... sets u0 = 1/v0",
        ),
        references=(
            "Heston (1997); Lewis (2000), Option Valuation under Stochastic Volatility; Ahn & Gao (1999); "
            "defaults match the Heston defaults at v = theta = 0.04 (kappa*theta = 2, xi*sqrt(theta) = 1.5)"
        ),
        features=frozenset({MEAN_REVERSION, STOCHASTIC_VOLATILITY}),
    ),
    # Black & Karasinski (1991) with constant parameters; lognormal rate vol 20% and slow reversion a = 0.1 are
    # typical magnitudes (Brigo & Mercurio 2006, ch. 3); theta = a*log(5%) makes the rate revert to about 5%.
    Family(
        key="black-karasinski",
        display_name="Black-Karasinski",
        synonyms=(
            "Black-Karasinski",
            "BK",
            "Black-Karasinski short rate",
            "exponential Vasicek",
            "lognormal short rate",
        ),
        description="Black-Karasinski (1991) short rate: log r is Ornstein-Uhlenbeck (constant parameters)",
        equations="dx = (theta - a*x)*dt + sigma*dW",
        parameters=(
            p("theta", 0.1 * math.log(0.05), "real", "drift level of log r; log r reverts to theta/a (log 5%)"),
            p("a", 0.1, "positive", "speed of mean reversion of log r"),
            p("sigma", 0.2, "positive", "volatility of log r (20% lognormal rate volatility)"),
        ),
        initial=(("x", math.log(0.03)),),
        aliases=(Alias("r0", "x0", math.log, "initial rate; sets x0 = log(r0)", positive=True),),
        notes=(
            "state form: the rate is simulated as its logarithm x = log r (so r = exp(x) stays positive); "
            "r0=... sets x0 = log(r0); constant theta only (no fit to the yield curve)",
        ),
        references="Black & Karasinski (1991); magnitudes after Brigo & Mercurio (2006), ch. 3",
        features=frozenset({MEAN_REVERSION}),
    ),
    # Dothan (1978); the lognormal short rate. Rendleman & Bartter (1980) is the same equation.
    Family(
        key="dothan",
        display_name="Dothan",
        synonyms=("Dothan", "Dothan short rate", "Rendleman-Bartter", "geometric Brownian short rate"),
        description="Dothan (1978) short rate: geometric Brownian motion for r; always positive",
        equations="dr = a*r*dt + sigma*r*dW",
        parameters=(
            p("a", 0.02, "real", "drift of the rate per year (relative)"),
            p("sigma", 0.2, "positive", "lognormal rate volatility"),
        ),
        initial=(("r", 0.03),),
        domain={"r": "positive"},
        references="Dothan (1978); Rendleman & Bartter (1980); magnitudes after Brigo & Mercurio (2006), ch. 3",
        variants={MEAN_REVERSION: "brennan-schwartz"},
    ),
    # The Jacobi (Wright-Fisher) diffusion on [0, 1] (Karlin & Taylor 1981; Delbaen & Shirakawa 2002 for rates);
    # illustrative values centred at 1/2 that keep both boundaries unattainable (2 kappa theta = 2 >= sigma^2).
    Family(
        key="jacobi",
        display_name="Jacobi",
        synonyms=("Jacobi", "Jacobi process", "Jacobi diffusion"),
        description="Jacobi (Wright-Fisher) diffusion: mean-reverting with noise sigma*sqrt(X(1-X)); lives in [0, 1]",
        equations=_jacobi_equations,
        parameters=(
            p("kappa", 2.0, "positive", "speed of mean reversion"),
            p("theta", 0.5, "nonnegative", "long-run mean, in [0, 1]"),
            p("sigma", 0.3, "positive", "volatility coefficient of sqrt(X(1-X))"),
        ),
        initial=(("X", 0.5),),
        domain={"X": "[0, 1]"},
        rules=(
            within("theta", 0.0, 1.0, "the Jacobi process lives in [0, 1]"),
            within("X0", 0.0, 1.0, "the Jacobi process lives in [0, 1]"),
        ),
        checks=(_jacobi_boundary_note,),
        notes=(
            "domain: X lives in [0, 1], both ends kept: simulated with full truncation at 0 and at 1 (the "
            "coefficients see X clamped to [0, 1])",
        ),
        references=(
            "Karlin & Taylor (1981), A Second Course in Stochastic Processes; Delbaen & Shirakawa (2002); illustrative "
            "values centred at 1/2 with both boundaries unattainable"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Brennan & Schwartz (1980) short rate (also Courtadon 1982); illustrative magnitudes: lognormal rate vol 20%.
    Family(
        key="brennan-schwartz",
        display_name="Brennan-Schwartz",
        synonyms=("Brennan-Schwartz", "Brennan and Schwartz", "Courtadon", "mean-reverting Dothan"),
        description="Brennan-Schwartz (1980) short rate: mean-reverting drift, noise proportional to the rate",
        equations="dr = kappa*(theta - r)*dt + sigma*r*dW",
        parameters=(
            p("kappa", 0.5, "positive", "speed of mean reversion"),
            p("theta", 0.05, "nonnegative", "long-run rate"),
            p("sigma", 0.2, "positive", "lognormal rate volatility"),
        ),
        initial=(("r", 0.03),),
        domain={"r": "positive"},
        references="Brennan & Schwartz (1980); Courtadon (1982); magnitudes after Brigo & Mercurio (2006)",
        features=frozenset({MEAN_REVERSION}),
    ),
    # Schwartz (1997), model 1: dS = kappa (mu - log S) S dt + sigma S dW, written for x = log S. Defaults of the
    # order of Schwartz's one-factor crude-oil estimates (kappa ~ 0.3, sigma ~ 0.33), oil at about $20.
    Family(
        key="schwartz",
        display_name="Schwartz one-factor",
        synonyms=(
            "Schwartz one-factor",
            "Schwartz",
            "Schwartz 1997",
            "Schwartz commodity",
            "Schwartz one-factor commodity",
            "exponential OU",
            "exponential Ornstein-Uhlenbeck",
            "geometric Ornstein-Uhlenbeck",
            "geometric OU",
            "log OU",
            "mean-reverting GBM",
        ),
        description="Schwartz (1997) one-factor commodity price: mean-reverting log-price (exponential OU)",
        equations="dx = kappa*(mu - sigma^2/(2*kappa) - x)*dt + sigma*dW",
        parameters=(
            p("kappa", 0.3, "positive", "speed of mean reversion of the log-price"),
            p("mu", 3.2, "real", "Schwartz's long-run level: log S reverts to mu - sigma^2/(2 kappa)"),
            p("sigma", 0.33, "positive", "volatility of the price"),
        ),
        initial=(("x", math.log(20.0)),),
        aliases=(_S0_ALIAS,),
        notes=(
            "state form: the price is simulated as its logarithm x = log S, an Ornstein-Uhlenbeck process "
            "dx = kappa*(mu - sigma^2/(2*kappa) - x) dt + sigma dW (Schwartz's dS = kappa(mu - log S) S dt + sigma S "
            "dW); S0=... sets x0 = log(S0)",
        ),
        references=(
            "Schwartz (1997), The stochastic behavior of commodity prices, model 1; defaults of the order of its "
            "one-factor crude-oil estimates (kappa ~ 0.3, sigma ~ 0.33), oil at $20"
        ),
        features=frozenset({MEAN_REVERSION}),
        variants={STOCHASTIC_VOLATILITY: "heston-with-mean-reversion"},
    ),
    # Schöbel & Zhu (1999) (Stein & Stein 1991 with correlation); illustrative equity values: 20% volatility.
    Family(
        key="schobel-zhu",
        display_name="Schöbel-Zhu",
        synonyms=(
            "Schöbel-Zhu",
            "Schobel-Zhu",
            "Schoebel-Zhu",
            "OU stochastic volatility",
            "Ornstein-Uhlenbeck stochastic volatility",
        ),
        description="Schöbel-Zhu (1999): log-price x with Ornstein-Uhlenbeck volatility sigma; Stein-Stein if rho = 0",
        equations="dx = (mu - sigma^2/2)*dt + sigma*dW1; dsigma = kappa*(theta - sigma)*dt + xi*dW2",
        parameters=(
            _MU,
            p("kappa", 4.0, "positive", "speed of mean reversion of the volatility"),
            p("theta", 0.2, "real", "long-run volatility"),
            p("xi", 0.1, "positive", "volatility of the volatility"),
            p("rho", -0.7, "correlation", "correlation between the price and volatility shocks"),
        ),
        initial=(("x", LOG_100), ("sigma", 0.2)),
        correlations=_PRICE_VARIANCE,
        aliases=(_S0_ALIAS,),
        notes=(
            _LOG_PRICE_NOTE,
            "sigma is Gaussian and may change sign; only sigma^2 matters for the price",
        ),
        references="Stein & Stein (1991); Schöbel & Zhu (1999); illustrative equity values (20% volatility)",
        features=frozenset({STOCHASTIC_VOLATILITY}),
    ),
    # Nelson (1990)'s diffusion limit of GARCH(1,1); variance defaults as for Heston, lognormal vol of variance 100%,
    # leverage rho = -0.7 as for Heston (Nelson's own limit has rho = 0: "GARCH diffusion zero correlation").
    Family(
        key="garch-diffusion",
        display_name="GARCH diffusion",
        synonyms=(
            "GARCH diffusion",
            "Nelson GARCH diffusion",
            "continuous-time GARCH",
            "GARCH(1,1) diffusion",
            "GARCH stochastic volatility",
            "Nelson",
        ),
        description="GARCH diffusion (Nelson 1990): log-price x, variance v with noise proportional to v",
        equations="dx = (mu - v/2)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*v*dW2",
        parameters=(
            _MU,
            p("kappa", 2.0, "positive", "speed of mean reversion of the variance"),
            p("theta", 0.04, "nonnegative", "long-run variance (0.04 = 20% volatility)"),
            p("xi", 1.0, "positive", "lognormal volatility of the variance"),
            p("rho", -0.7, "correlation", "correlation between the price and variance shocks"),
        ),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "positive"},
        correlations=_PRICE_VARIANCE,
        aliases=(_S0_ALIAS,),
        notes=(_LOG_PRICE_NOTE,),
        references="Nelson (1990), ARCH models as diffusion approximations; Heston defaults, vol of variance 100%",
        features=frozenset({STOCHASTIC_VOLATILITY, MEAN_REVERSION}),
    ),
    # Chan, Karolyi, Longstaff & Sanders (1992), unrestricted estimates from monthly one-month T-bill yields
    # 1964-1989: alpha = 0.0408, beta = -0.5921, sigma^2 = 1.6704, gamma = 1.4999 (~ 3/2).
    Family(
        key="ckls",
        display_name="CKLS",
        synonyms=(
            "CKLS",
            "Chan-Karolyi-Longstaff-Sanders",
            "Chan Karolyi Longstaff Sanders",
            "mean-reverting CEV",
            "CKLS short rate",
        ),
        description="Chan-Karolyi-Longstaff-Sanders (1992) short rate: dr = (alpha + beta r) dt + sigma r^gamma dW",
        equations=_ckls_equations,
        parameters=(
            p("alpha", 0.0408, "real", "drift intercept"),
            p("beta", -0.5921, "real", "drift slope (mean reversion when negative)"),
            p("sigma", math.sqrt(1.6704), "positive", "volatility coefficient of r^gamma"),
        ),
        shapes=(Shape("gamma", 1.5, 0.0, 3.0, "elasticity of the volatility to the rate level"),),
        initial=(("r", 0.06),),
        domain=_ckls_domain,
        checks=(_ckls_boundary_note,),
        notes=(
            "gamma = 3/2 (CKLS estimate 1.4999) is written max(r, 0)^(3/2) and simulated with Euler steps; "
            "gamma = 1/2 gives CIR (full truncation), gamma = 0 Vasicek, gamma = 1 Brennan-Schwartz",
        ),
        references="Chan, Karolyi, Longstaff & Sanders (1992), J. Finance 47(3), unrestricted model estimates",
        features=frozenset({MEAN_REVERSION}),
    ),
    # ---------------------------------------------------------------- jump families
    # Merton (1976); illustrative equity jumps: one jump a year, mean log-jump -10%, jump volatility 15%.
    Family(
        key="merton",
        display_name="Merton jump-diffusion",
        synonyms=(
            "Merton jump-diffusion",
            "Merton jump diffusion",
            "Merton",
            "Merton 1976",
            "Merton jumps",
            "Merton jump model",
            "Merton jump-diffusion model",
            "jump-diffusion",
            "lognormal jump-diffusion",
        ),
        description="Merton (1976): geometric Brownian motion with lognormal jumps (log-price form)",
        equations="dx = (mu - sigma^2/2 - lam*(exp(m + delta^2/2) - 1))*dt + sigma*dW",
        parameters=(_MU, _SIGMA, *_MERTON_JUMPS),
        initial=(("x", LOG_100),),
        aliases=(_S0_ALIAS,),
        jumps=_MERTON_JUMP_PART("gbm"),
        references=(
            "Merton (1976), Option pricing when underlying stock returns are discontinuous; illustrative jumps: one a "
            "year, mean log-jump -10%, jump volatility 15%"
        ),
        features=frozenset({JUMPS}),
        variants={STOCHASTIC_VOLATILITY: "bates"},
    ),
    # Kou (2002); the example values of the paper: sigma 16%, one jump a year, p = 0.4, eta1 = 10, eta2 = 5.
    Family(
        key="kou",
        display_name="Kou double-exponential jump-diffusion",
        synonyms=("Kou", "Kou double exponential", "double exponential jump-diffusion", "Kou jump-diffusion"),
        description="Kou (2002): geometric Brownian motion with double-exponential log-jumps",
        equations=("dx = (mu - sigma^2/2 - lam*(p*eta1/(eta1 - 1) + (1 - p)*eta2/(eta2 + 1) - 1))*dt + sigma*dW"),
        parameters=(
            _MU,
            p("sigma", 0.16, "positive", "volatility of the diffusion part"),
            p("lam", 1.0, "nonnegative", "jump intensity per year"),
            p("p", 0.4, "nonnegative", "probability that a jump is upward"),
            p("eta1", 10.0, "positive", "rate of upward log-jumps (mean 1/eta1; must exceed 1)"),
            p("eta2", 5.0, "positive", "rate of downward log-jumps (mean 1/eta2)"),
        ),
        initial=(("x", LOG_100),),
        aliases=(_S0_ALIAS,),
        jumps=Jumps(
            variable="x",
            law="double-exponential",
            intensity="lam",
            size=("p", "eta1", "eta2"),
            equation="+ dJ, J compound Poisson with rate lam; log-jumps Exp(eta1) up with probability p, "
            "-Exp(eta2) down otherwise",
            diffusion_part="gbm",
        ),
        rules=(within("p", 0.0, 1.0, "the probability of an upward jump"), _eta1_above_one),
        references="Kou (2002), A jump-diffusion model for option pricing; defaults as in its numerical examples",
        features=frozenset({JUMPS}),
    ),
    # Bates (1996): Heston plus Merton jumps; Heston defaults and the Merton jump defaults above.
    Family(
        key="bates",
        display_name="Bates",
        synonyms=("Bates", "Bates SVJ", "SVJ", "stochastic volatility with jumps", "Bates 1996"),
        description="Bates (1996): Heston stochastic volatility plus lognormal jumps in the log-price",
        equations=(
            "dx = (mu - v/2 - lam*(exp(m + delta^2/2) - 1))*dt + sqrt(v)*dW1; "
            "dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2"
        ),
        parameters=(_MU, *_HESTON_VARIANCE, *_MERTON_JUMPS),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "nonnegative"},
        correlations=_PRICE_VARIANCE,
        aliases=(_S0_ALIAS, _HESTON_SIGMA_ALIAS),
        jumps=_MERTON_JUMP_PART("heston"),
        references="Bates (1996), Jumps and stochastic volatility; defaults: the Heston and Merton defaults",
        features=frozenset({JUMPS, STOCHASTIC_VOLATILITY}),
    ),
    # ---------------------------------------------------------------- issue #19: commodity, rate, volatility and
    # ---------------------------------------------------------------- population families
    # Schwartz (1997), model 2: the spot price S and the convenience yield delta, written for x = log S. Defaults of the
    # order of its two-factor crude-oil estimates (mu 0.142, kappa 1.876, alpha 0.106, sigma1 0.393, sigma2 0.527,
    # rho 0.766), oil at $20.
    Family(
        key="schwartz-two-factor",
        display_name="Schwartz two-factor",
        synonyms=(
            "Schwartz two-factor",
            "Schwartz 2-factor",
            "Schwartz two factor commodity",
            "Schwartz 1997 two-factor",
            "Schwartz 1997 two-factor commodity",
            "Schwartz convenience yield",
            "Gibson-Schwartz",
            "Gibson and Schwartz",
            "stochastic convenience yield",
        ),
        description="Schwartz (1997) two-factor commodity model: log spot price x and mean-reverting convenience yield",
        equations="dx = (mu - delta - sigma1^2/2)*dt + sigma1*dW1; ddelta = kappa*(alpha - delta)*dt + sigma2*dW2",
        parameters=(
            p("mu", 0.142, "real", "drift: expected return of the spot price per year"),
            p("kappa", 1.876, "positive", "speed of mean reversion of the convenience yield"),
            p("alpha", 0.106, "real", "long-run convenience yield"),
            p("sigma1", 0.393, "positive", "volatility of the spot price"),
            p("sigma2", 0.527, "positive", "volatility of the convenience yield"),
            p("rho", 0.766, "correlation", "correlation between the price and convenience-yield shocks"),
        ),
        initial=(("x", math.log(20.0)), ("delta", 0.106)),
        correlations=_PRICE_VARIANCE,
        aliases=(_S0_ALIAS,),
        notes=(
            "state form: Schwartz's dS = (mu - delta) S dt + sigma1 S dW1 is simulated as x = log S, so "
            "dx = (mu - delta - sigma1^2/2) dt + sigma1 dW1; the convenience yield delta is Ornstein-Uhlenbeck (it may "
            "go negative); S0=... sets x0 = log(S0)",
        ),
        references=(
            "Schwartz (1997), The stochastic behavior of commodity prices, model 2 (after Gibson & Schwartz 1990); "
            "defaults of the order of its two-factor crude-oil estimates, oil at $20"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Schwartz & Smith (2000): log S = chi + xi, a mean-reverting short-term deviation chi and a Brownian long-term
    # equilibrium level xi. Defaults: the paper's crude-oil estimates (kappa 1.49, sigma_chi 0.286, mu_xi -0.0125,
    # sigma_xi 0.145, rho 0.3) and its initial state (chi0 -0.119, xi0 2.857).
    Family(
        key="schwartz-smith",
        display_name="Schwartz-Smith",
        synonyms=(
            "Schwartz-Smith",
            "Schwartz and Smith",
            "Schwartz-Smith two-factor",
            "short-term long-term model",
            "short-term/long-term commodity model",
        ),
        description="Schwartz-Smith (2000): log price chi + xi, short-term deviation chi (OU) and long-term level xi",
        equations="dchi = -kappa*chi*dt + sigma_chi*dW1; dxi = mu_xi*dt + sigma_xi*dW2",
        parameters=(
            p("kappa", 1.49, "positive", "speed of mean reversion of the short-term deviation chi"),
            p("sigma_chi", 0.286, "positive", "volatility of the short-term deviation chi"),
            p("mu_xi", -0.0125, "real", "drift: growth per year of the long-term equilibrium level xi"),
            p("sigma_xi", 0.145, "positive", "volatility of the long-term equilibrium level xi"),
            p("rho", 0.3, "correlation", "correlation between the short-term and long-term shocks"),
        ),
        initial=(("chi", -0.119), ("xi", 2.857)),
        correlations=(("W1", "W2", "rho"),),
        notes=(
            "the log spot price is chi + xi (S = exp(chi + xi)): chi is the short-term deviation, reverting to 0, and "
            "xi the long-term equilibrium level, an arithmetic Brownian motion",
        ),
        references=(
            "Schwartz & Smith (2000), Short-term variations and long-term dynamics in commodity prices; defaults: its "
            "crude-oil estimates and initial state (S0 = exp(2.738), about $15.5)"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # G2++ (Brigo & Mercurio 2006, ch. 4), equivalent to Hull & White's (1994) two-factor model. Defaults of the order
    # of Brigo & Mercurio's cap calibration (a 0.77, b 0.082, sigma 0.022, eta 0.0104, rho -0.70): one fast and one slow
    # factor, strongly negatively correlated.
    Family(
        key="g2pp",
        display_name="G2++",
        synonyms=(
            "G2++",
            "G2pp",
            "G2",
            "two-factor Hull-White",
            "Hull-White two-factor",
            "HW2F",
            "two-factor Gaussian short rate",
            "two-factor Vasicek",
            "Gaussian two-factor",
        ),
        description="G2++ (Brigo-Mercurio) two-factor Gaussian short rate r = x + y + phi, correlated OU factors",
        equations="dx = -a*x*dt + sigma*dW1; dy = -b*y*dt + eta*dW2",
        parameters=(
            p("a", 0.77, "positive", "speed of mean reversion of the first factor x"),
            p("b", 0.082, "positive", "speed of mean reversion of the second factor y"),
            p("sigma", 0.022, "positive", "absolute volatility of the first factor x"),
            p("eta", 0.0104, "positive", "absolute volatility of the second factor y"),
            p("rho", -0.7, "correlation", "correlation between the two factors' shocks"),
        ),
        initial=(("x", 0.0), ("y", 0.0)),
        correlations=(("W1", "W2", "rho"),),
        notes=(
            "the short rate is r = x + y + phi (Brigo & Mercurio's G2++): the two factors start at 0, and with a "
            "constant phi (phi = r0, the rate today) r is a two-factor Vasicek rate reverting to phi; the "
            "time-dependent phi(t) that fits today's yield curve is not supported",
        ),
        references=(
            "Brigo & Mercurio (2006), Interest Rate Models, ch. 4 (G2++); Hull & White (1994), two-factor model; "
            "defaults of the order of Brigo & Mercurio's cap calibration"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Heston-Hull-White (Grzelak & Oosterlee 2011): Heston's log-price and CIR variance with a Hull-White short rate in
    # the price drift. Heston part: the catalog's Heston defaults; rate part: the catalog's Hull-White defaults (a 0.1,
    # sigma_r 1%, long-run rate 5%); price-rate correlation 0.3 is illustrative; v and r independent, as in
    # Grzelak & Oosterlee's H1-HW.
    Family(
        key="heston-hull-white",
        display_name="Heston-Hull-White",
        synonyms=(
            "Heston-Hull-White",
            "Heston Hull White",
            "HHW",
            "Heston with stochastic rates",
            "Heston with stochastic interest rates",
            "Heston with Hull-White rates",
        ),
        description="Heston-Hull-White: log price x with CIR variance v and a Hull-White short rate r in its drift",
        equations=(
            "dx = (r - v/2)*dt + sqrt(v)*dW1; dv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2; "
            "dr = (theta_r - a*r)*dt + sigma_r*dW3"
        ),
        parameters=(
            *_HESTON_VARIANCE,
            p("theta_r", 0.005, "real", "drift level of the rate; r reverts to theta_r/a (0.005/0.1 = 5%)"),
            p("a", 0.1, "positive", "speed of mean reversion of the rate"),
            p("sigma_r", 0.01, "positive", "absolute volatility of the rate (0.01 = 100 bp per year)"),
            p("rho_xr", 0.3, "correlation", "correlation between the price and rate shocks"),
        ),
        initial=(("x", LOG_100), ("v", 0.04), ("r", 0.03)),
        domain={"v": "nonnegative"},
        correlations=(("W1", "W2", "rho"), ("W1", "W3", "rho_xr")),
        aliases=(_S0_ALIAS,),
        checks=(_HESTON_FELLER,),
        notes=(
            _LOG_PRICE_NOTE,
            "the variance and the rate are independent (as in Grzelak & Oosterlee's H1-HW); the price-rate correlation "
            "rho_xr makes the covariance sqrt(v)-dependent, so the model is verified against an empirical reference "
            "(rho_xr=0 makes it affine, with exact moments); constant theta_r only (no fit to the yield curve)",
        ),
        references=(
            "Grzelak & Oosterlee (2011), On the Heston model with stochastic interest rates; defaults: the Heston and "
            "Hull-White defaults, price-rate correlation 0.3 (illustrative)"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY}),
    ),
    # Christoffersen, Heston & Jacobs (2009): two independent CIR variance factors. Illustrative equity values that
    # split the Heston defaults' long-run variance 0.04 into a fast factor (kappa 4, strongly negative leverage) and a
    # slow one (kappa 0.5), both within the Feller condition.
    Family(
        key="double-heston",
        display_name="Double Heston",
        synonyms=(
            "Double Heston",
            "Christoffersen-Heston-Jacobs",
            "two-factor Heston",
            "Heston two-factor",
            "two-factor stochastic volatility",
            "CHJ",
        ),
        description="Double Heston (Christoffersen, Heston & Jacobs 2009): log price with two CIR variance factors",
        equations=(
            "dx = (mu - (v1 + v2)/2)*dt + sqrt(v1)*dW1 + sqrt(v2)*dW2; "
            "dv1 = kappa1*(theta1 - v1)*dt + sigma1*sqrt(v1)*dW3; dv2 = kappa2*(theta2 - v2)*dt + sigma2*sqrt(v2)*dW4"
        ),
        parameters=(
            _MU,
            p("kappa1", 4.0, "positive", "speed of mean reversion of the first (fast) variance v1"),
            p("theta1", 0.02, "nonnegative", "long-run variance of v1"),
            p("sigma1", 0.4, "positive", "volatility of the variance v1 (vol of vol)"),
            p("rho1", -0.8, "correlation", "correlation between the price and v1 shocks"),
            p("kappa2", 0.5, "positive", "speed of mean reversion of the second (slow) variance v2"),
            p("theta2", 0.02, "nonnegative", "long-run variance of v2"),
            p("sigma2", 0.14, "positive", "volatility of the variance v2 (vol of vol)"),
            p("rho2", -0.5, "correlation", "correlation between the price and v2 shocks"),
        ),
        initial=(("x", LOG_100), ("v1", 0.02), ("v2", 0.02)),
        domain={"v1": "nonnegative", "v2": "nonnegative"},
        correlations=(("W1", "W3", "rho1"), ("W2", "W4", "rho2")),
        aliases=(_S0_ALIAS,),
        checks=(
            feller_check("kappa1", "theta1", "sigma1", "the variance v1"),
            feller_check("kappa2", "theta2", "sigma2", "the variance v2"),
        ),
        notes=(
            _LOG_PRICE_NOTE,
            "the price's variance is v1 + v2; W1 and W2 drive the price, W3 and W4 the two variances, each pair "
            "correlated (rho1, rho2) and the factors independent of each other",
        ),
        references=(
            "Christoffersen, Heston & Jacobs (2009), The shape and term structure of the index option smirk; "
            "illustrative equity values: long-run variance 0.04 split into a fast and a slow factor"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY, MEAN_REVERSION}),
    ),
    # Scott (1987), also Wiggins (1987) and Chesney & Scott (1989): the log-volatility y = log sigma is Ornstein-
    # Uhlenbeck. Illustrative equity values: volatility around 20% (theta = log 0.2), half-life of about 4 months
    # (kappa 2), stationary standard deviation of log-volatility 0.2 (xi 0.4), leverage -0.7 as for Heston.
    Family(
        key="scott",
        display_name="Scott exponential-OU stochastic volatility",
        synonyms=(
            "Scott",
            "Scott 1987",
            "Scott stochastic volatility",
            "exponential OU stochastic volatility",
            "exp-OU stochastic volatility",
            "log-normal stochastic volatility",
            "lognormal stochastic volatility",
            "log-OU stochastic volatility",
            "Wiggins",
            "Chesney-Scott",
        ),
        description="Scott (1987): log price x with volatility exp(y), y = log sigma an Ornstein-Uhlenbeck process",
        equations="dx = (mu - exp(2*y)/2)*dt + exp(y)*dW1; dy = kappa*(theta - y)*dt + xi*dW2",
        parameters=(
            _MU,
            p("kappa", 2.0, "positive", "speed of mean reversion of the log-volatility"),
            p("theta", math.log(0.2), "real", "long-run log-volatility (log(0.2): 20% volatility)"),
            p("xi", 0.4, "positive", "volatility of the log-volatility (vol of vol)"),
            p("rho", -0.7, "correlation", "correlation between the price and volatility shocks"),
        ),
        initial=(("x", LOG_100), ("y", math.log(0.2))),
        correlations=_PRICE_VARIANCE,
        aliases=(
            _S0_ALIAS,
            Alias("sigma0", "y0", math.log, "initial volatility; sets y0 = log(sigma0)", positive=True),
        ),
        notes=(
            _LOG_PRICE_NOTE,
            "the volatility is sigma = exp(y): y = log sigma is Ornstein-Uhlenbeck, so sigma is lognormal and stays "
            "positive; sigma0=... sets y0 = log(sigma0)",
        ),
        references=(
            "Scott (1987), Option pricing when the variance changes randomly; Wiggins (1987); Chesney & Scott (1989); "
            "illustrative equity values (20% volatility, half-life about 4 months)"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY, MEAN_REVERSION}),
    ),
    # Hull & White (1987): lognormal variance, dS = phi S dt + sqrt(V) S dW1, dV = mu V dt + xi V dW2 (their notation),
    # uncorrelated as in their series solution. Illustrative: driftless variance (mu = 0, the case of their tables),
    # 20% initial volatility, vol of variance 0.5.
    Family(
        key="hull-white-sv",
        display_name="Hull-White stochastic volatility",
        synonyms=(
            "Hull-White stochastic volatility",
            "Hull-White SV",
            "Hull White 1987",
            "Hull-White 1987",
            "Hull-White stochastic variance",
            "lognormal variance",
        ),
        description="Hull-White (1987) stochastic volatility: log price x, variance v a geometric Brownian motion",
        equations="dx = (phi - v/2)*dt + sqrt(v)*dW1; dv = mu*v*dt + xi*v*dW2",
        parameters=(
            p("phi", 0.05, "real", "drift: expected return per year (Hull & White's phi)"),
            p("mu", 0.0, "real", "relative drift of the variance per year"),
            p("xi", 0.5, "positive", "volatility of the variance (vol of vol)"),
            p("rho", 0.0, "correlation", "correlation between the price and variance shocks"),
        ),
        initial=(("x", LOG_100), ("v", 0.04)),
        domain={"v": "positive"},
        correlations=_PRICE_VARIANCE,
        aliases=(_S0_ALIAS,),
        notes=(
            _LOG_PRICE_NOTE,
            "notation of Hull & White (1987): phi is the price's drift, mu and xi the variance's drift and volatility; "
            "the variance is lognormal (log-Euler) and does not mean-revert",
        ),
        references=(
            "Hull & White (1987), The pricing of options on assets with stochastic volatilities; illustrative values: "
            "driftless variance, 20% initial volatility, vol of variance 0.5, zero correlation as in their series"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY}),
    ),
    # Bergomi (2005), Smile dynamics II: the two-factor forward-variance model in its Markov form, with a flat initial
    # forward variance xi0 = 0.04 (20% volatility). Factor parameters of the order Bergomi uses for index smiles
    # (omega 2, k1 4, k2 0.125, theta 0.3, uncorrelated factors); spot-factor correlations -0.7 and -0.5 (illustrative).
    Family(
        key="bergomi-two-factor",
        display_name="Bergomi two-factor",
        synonyms=(
            "Bergomi two-factor",
            "Bergomi",
            "Bergomi 2F",
            "two-factor Bergomi",
            "Bergomi forward variance",
            "Bergomi two-factor forward variance",
        ),
        description="Bergomi (2005) two-factor forward-variance model: log price, variance driven by two OU factors",
        equations=_BERGOMI_EQUATIONS,
        parameters=(
            _MU,
            p("xi0", 0.04, "positive", "initial forward variance, flat (0.04 = 20% volatility)"),
            p("omega", 2.0, "positive", "volatility of volatility (vol of vol) of the forward variances"),
            p("k1", 4.0, "positive", "speed of mean reversion of the first (short) factor X"),
            p("k2", 0.125, "positive", "speed of mean reversion of the second (long) factor Y"),
            p("theta", 0.3, "nonnegative", "weight of the second factor Y, in [0, 1]"),
            p("rho", 0.0, "correlation", "correlation between the two factors' shocks"),
            p("rho_sx", -0.7, "correlation", "correlation between the price and the first factor's shocks"),
            p("rho_sy", -0.5, "correlation", "correlation between the price and the second factor's shocks"),
        ),
        initial=(("x", LOG_100), ("X", 0.0), ("Y", 0.0)),
        correlations=(("W1", "W2", "rho_sx"), ("W1", "W3", "rho_sy"), ("W2", "W3", "rho")),
        aliases=(_S0_ALIAS,),
        rules=(within("theta", 0.0, 1.0, "the weight of the second factor"),),
        notes=(
            _LOG_PRICE_NOTE,
            "Markov form with a flat initial forward variance: v_t = xi0*exp(omega*x_t - omega^2/2*E[x_t^2]), "
            "x_t = alpha_theta*((1 - theta)*X + theta*Y), alpha_theta = 1/sqrt((1 - theta)^2 + theta^2 + "
            "2*rho*theta*(1 - theta)); X and Y are Ornstein-Uhlenbeck factors started at 0 with unit volatility and "
            "E[x_t^2] their variance at t (exponentials of t), so E[v_t] = xi0 at every t",
        ),
        references=(
            "Bergomi (2005), Smile dynamics II, Risk; Bergomi (2016), Stochastic Volatility Modeling, ch. 7; "
            "factor values of the order Bergomi uses for index smiles, 20% volatility, illustrative spot correlations"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY}),
    ),
    # Longstaff & Schwartz (1992): two independent square-root factors X, Y with r = alpha X + beta Y and the
    # short rate's variance V = alpha^2 X + beta^2 Y. Defaults of the order of their estimates from one-month T-bill
    # yields (gamma 3.05, delta 0.0566, eta 0.158, nu 4.00; alpha 0.00115 and beta 0.1325 give r about 6.7%).
    Family(
        key="longstaff-schwartz",
        display_name="Longstaff-Schwartz",
        synonyms=(
            "Longstaff-Schwartz",
            "Longstaff and Schwartz",
            "Longstaff-Schwartz two-factor",
            "Longstaff-Schwartz 1992",
            "LS two-factor",
        ),
        description="Longstaff-Schwartz (1992) two-factor short rate: independent square-root factors X and Y",
        equations="dX = (gamma - delta*X)*dt + sqrt(X)*dW1; dY = (eta - nu*Y)*dt + sqrt(Y)*dW2",
        parameters=(
            p("gamma", 3.05, "positive", "drift intercept of X (X reverts to gamma/delta)"),
            p("delta", 0.0566, "positive", "speed of mean reversion of X"),
            p("eta", 0.158, "positive", "drift intercept of Y (Y reverts to eta/nu)"),
            p("nu", 4.0, "positive", "speed of mean reversion of Y"),
        ),
        initial=(("X", 54.0), ("Y", 0.04)),
        domain={"X": "nonnegative", "Y": "nonnegative"},
        checks=(_square_root_boundary("gamma", "X"), _square_root_boundary("eta", "Y")),
        notes=(
            "the short rate is r = alpha*X + beta*Y and its instantaneous variance V = alpha^2*X + beta^2*Y "
            "(Longstaff & Schwartz's estimates alpha = 0.00115, beta = 0.1325 give r0 = 0.068 at the defaults); the "
            "factors have unit noise coefficients, sqrt(X) dW1 and sqrt(Y) dW2",
        ),
        references=(
            "Longstaff & Schwartz (1992), Interest rate volatility and the term structure: a two-factor general "
            "equilibrium model; defaults of the order of its estimates from one-month T-bill yields"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Chen (1996): the short rate reverts to a stochastic mean theta, with stochastic volatility sigma, all three
    # square-root processes. Illustrative US-rate magnitudes: rates around 5%, a CIR-like rate volatility
    # (sigma = 0.01, i.e. 0.1 in sqrt(r) units as for CIR), slower central tendency, all Feller conditions met.
    Family(
        key="chen",
        display_name="Chen three-factor",
        synonyms=(
            "Chen three-factor",
            "Chen",
            "Chen 1996",
            "Chen three factor short rate",
            "three-factor short rate",
            "stochastic mean and stochastic volatility",
        ),
        description="Chen (1996) three-factor short rate: stochastic mean theta and stochastic volatility sigma",
        equations=(
            "dr = k*(theta - r)*dt + sqrt(sigma)*sqrt(r)*dW1; dtheta = nu*(zeta - theta)*dt + g*sqrt(theta)*dW2; "
            "dsigma = mu*(eta - sigma)*dt + h*sqrt(sigma)*dW3"
        ),
        parameters=(
            p("k", 1.0, "positive", "speed of mean reversion of the rate r"),
            p("nu", 0.5, "positive", "speed of mean reversion of the central tendency theta"),
            p("zeta", 0.05, "nonnegative", "long-run central tendency theta (long-run rate)"),
            p("g", 0.05, "positive", "volatility coefficient of sqrt(theta)"),
            p("mu", 1.0, "positive", "speed of mean reversion of the volatility sigma"),
            p("eta", 0.01, "nonnegative", "long-run level of the volatility sigma"),
            p("h", 0.02, "positive", "volatility coefficient of sqrt(sigma)"),
        ),
        initial=(("r", 0.03), ("theta", 0.05), ("sigma", 0.01)),
        domain={"r": "nonnegative", "theta": "nonnegative", "sigma": "nonnegative"},
        checks=(feller_check("nu", "zeta", "g", "theta"), feller_check("mu", "eta", "h", "sigma")),
        notes=(
            "notation of Chen (1996): r reverts at speed k to the central tendency theta, itself a square-root "
            "process, and sigma is the variance rate of r (r's noise is sqrt(sigma)*sqrt(r))",
        ),
        references=(
            "Chen (1996), Stochastic mean and stochastic volatility: a three-factor model of the term structure of "
            "interest rates; illustrative magnitudes (rates about 5%, CIR-like rate volatility)"
        ),
        features=frozenset({MEAN_REVERSION, STOCHASTIC_VOLATILITY}),
    ),
    # Fong & Vasicek (1991): a Gaussian-type short rate whose variance is a square-root process. Illustrative values:
    # rate reverting to 5%, absolute rate volatility 1% (v = 1e-4), variance half-life about 4 months, relative vol of
    # variance 100%, level-volatility correlation 0.3.
    Family(
        key="fong-vasicek",
        display_name="Fong-Vasicek",
        synonyms=(
            "Fong-Vasicek",
            "Fong and Vasicek",
            "Fong-Vasicek stochastic volatility",
            "stochastic volatility short rate",
            "Vasicek with stochastic volatility",
        ),
        description="Fong-Vasicek (1991) short rate with stochastic (square-root) variance v",
        equations="dr = alpha*(rbar - r)*dt + sqrt(v)*dW1; dv = gamma*(vbar - v)*dt + xi*sqrt(v)*dW2",
        parameters=(
            p("alpha", 0.5, "positive", "speed of mean reversion of the rate"),
            p("rbar", 0.05, "real", "long-run rate"),
            p("gamma", 2.0, "positive", "speed of mean reversion of the variance"),
            p("vbar", 1e-4, "nonnegative", "long-run variance v (1e-4: 1% absolute volatility)"),
            p("xi", 0.01, "positive", "volatility of the variance (vol of vol)"),
            p("rho", 0.3, "correlation", "correlation between the rate and variance shocks"),
        ),
        initial=(("r", 0.03), ("v", 1e-4)),
        domain={"v": "nonnegative"},
        correlations=_PRICE_VARIANCE,
        checks=(feller_check("gamma", "vbar", "xi", "the variance v"),),
        references=(
            "Fong & Vasicek (1991), Fixed-income volatility management; illustrative values (1% absolute rate "
            "volatility, rate reverting to 5%)"
        ),
        features=frozenset({MEAN_REVERSION, STOCHASTIC_VOLATILITY}),
    ),
    # Two independent CIR factors, r = x1 + x2 (Chen & Scott 1992; Brigo & Mercurio's CIR2++ without the shift).
    # Illustrative: a slow factor around 3% and a fast one around 1%, both within the Feller condition.
    Family(
        key="cir2",
        display_name="Two-factor CIR",
        synonyms=("two-factor CIR", "CIR2", "CIR2++", "Chen-Scott", "two-factor Cox-Ingersoll-Ross", "CIR two-factor"),
        description="Two-factor CIR (Chen & Scott 1992): short rate x1 + x2 of two independent square-root factors",
        equations=(
            "dx1 = kappa1*(theta1 - x1)*dt + sigma1*sqrt(x1)*dW1; dx2 = kappa2*(theta2 - x2)*dt + sigma2*sqrt(x2)*dW2"
        ),
        parameters=(
            p("kappa1", 0.2, "positive", "speed of mean reversion of the first (slow) factor x1"),
            p("theta1", 0.03, "nonnegative", "long-run level of x1"),
            p("sigma1", 0.05, "positive", "volatility coefficient of sqrt(x1)"),
            p("kappa2", 1.5, "positive", "speed of mean reversion of the second (fast) factor x2"),
            p("theta2", 0.01, "nonnegative", "long-run level of x2"),
            p("sigma2", 0.1, "positive", "volatility coefficient of sqrt(x2)"),
        ),
        initial=(("x1", 0.025), ("x2", 0.005)),
        domain={"x1": "nonnegative", "x2": "nonnegative"},
        checks=(feller_check("kappa1", "theta1", "sigma1", "x1"), feller_check("kappa2", "theta2", "sigma2", "x2")),
        notes=("the short rate is r = x1 + x2 (Brigo & Mercurio's CIR2++ adds a deterministic shift phi(t))",),
        references=(
            "Chen & Scott (1992); Brigo & Mercurio (2006), ch. 4 (CIR2++); illustrative values: a slow factor about 3% "
            "and a fast one about 1%"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # Ho & Lee (1986) with a constant drift theta; Merton's (1973) short rate is the same equation. Illustrative: drift
    # 10 bp a year, absolute volatility 1% as in Hull's textbook examples.
    Family(
        key="ho-lee",
        display_name="Ho-Lee",
        synonyms=("Ho-Lee", "Ho and Lee", "Ho-Lee short rate", "Merton short rate", "Merton 1973 short rate"),
        description="Ho-Lee (1986) short rate with constant drift: arithmetic Brownian motion, Gaussian",
        equations="dr = theta*dt + sigma*dW",
        parameters=(
            p("theta", 0.001, "real", "drift of the rate per year (0.001 = 10 bp)"),
            p("sigma", 0.01, "positive", "absolute rate volatility (0.01 = 100 bp per year)"),
        ),
        initial=(("r", 0.03),),
        notes=(
            "constant theta only: the time-dependent theta(t) that fits today's yield curve is not supported; the rate "
            "is Gaussian and can go negative",
        ),
        references="Ho & Lee (1986); Merton (1973); sigma = 0.01 as in Hull, Options, Futures and Other Derivatives",
        variants={MEAN_REVERSION: "hull-white"},
    ),
    # Black (1976): a futures or forward price is a driftless geometric Brownian motion; Hull's magnitudes (20% vol).
    Family(
        key="black-76",
        display_name="Black-76",
        synonyms=("Black-76", "Black 76", "Black 1976", "Black model", "Black futures", "lognormal forward"),
        description="Black (1976): a futures or forward price F, driftless geometric Brownian motion",
        equations="dF = sigma*F*dW",
        parameters=(p("sigma", 0.2, "positive", "volatility of the forward price"),),
        initial=(("F", 100.0),),
        domain={"F": "positive"},
        references="Black (1976), The pricing of commodity contracts; 20% volatility as in Hull's examples",
    ),
    # Rubinstein (1983), the shifted-lognormal forward of rates markets: F + s is lognormal. Rates-style values: forward
    # 3%, shift 2%, lognormal volatility 20% of F + s (an absolute volatility of about 1%).
    Family(
        key="displaced-diffusion",
        display_name="Displaced diffusion",
        synonyms=(
            "displaced diffusion",
            "shifted lognormal",
            "shifted log-normal",
            "Rubinstein displaced diffusion",
            "shifted Black",
            "displaced lognormal",
        ),
        description="Displaced diffusion (Rubinstein 1983): the shifted forward F + s is a driftless lognormal",
        equations="dF = sigma*(F + s)*dW",
        parameters=(
            p("sigma", 0.2, "positive", "lognormal volatility of the shifted forward F + s"),
            p("s", 0.02, "nonnegative", "shift (displacement): F stays above -s"),
        ),
        initial=(("F", 0.03),),
        notes=("F + s is lognormal, so F stays above -s; simulated with Euler steps in F",),
        references=(
            "Rubinstein (1983), Displaced diffusion option pricing; rates-style values: forward 3%, shift 2%, "
            "about 1% absolute volatility"
        ),
    ),
    # lambda-SABR (Henry-Labordère 2005): SABR whose volatility mean-reverts. SABR's defaults; the volatility reverts to
    # its initial level at speed 1 (illustrative).
    Family(
        key="lambda-sabr",
        display_name="lambda-SABR",
        synonyms=(
            "lambda-SABR",
            "λ-SABR",
            "mean-reverting SABR",
            "Henry-Labordere SABR",
            "dynamic SABR",
        ),
        description="lambda-SABR (Henry-Labordère 2005): SABR with a mean-reverting lognormal volatility",
        equations=_lambda_sabr_equations,
        parameters=(
            p("lam", 1.0, "positive", "speed of mean reversion of the volatility"),
            p("sigma_bar", 0.035, "positive", "long-run volatility level"),
            p("nu", 0.4, "positive", "volatility of the volatility (vol of vol)"),
            p("rho", -0.3, "correlation", "correlation between the forward and volatility shocks"),
        ),
        shapes=(Shape("beta", 0.5, 0.0, 1.0, "CEV exponent of the forward (0 normal, 1/2 CIR-like, 1 lognormal)"),),
        initial=(("F", 0.03), ("sigma", 0.035)),
        domain=_sabr_domain,
        correlations=(("W1", "W2", "rho"),),
        aliases=(Alias("alpha", "sigma0", float, "SABR's alpha: the initial volatility sigma0", positive=True),),
        notes=(
            "lambda is written lam (the equation language's name for λ); the volatility reverts to sigma_bar at "
            "speed lam; lam -> 0 gives SABR",
        ),
        references=(
            "Henry-Labordère (2005), A general asymptotic implied volatility for stochastic volatility models; SABR's "
            "defaults, volatility reverting to its initial level at speed 1 (illustrative)"
        ),
        features=frozenset({STOCHASTIC_VOLATILITY, MEAN_REVERSION}),
    ),
    # The stochastic logistic (Verhulst) growth model with environmental noise, e.g. Braumann (2019), Introduction to
    # Stochastic Differential Equations with Applications to Modelling in Biology and Finance; illustrative population:
    # growth 100% a year, carrying capacity 100, 20% noise, starting at 10.
    Family(
        key="logistic",
        display_name="Stochastic logistic growth",
        synonyms=(
            "logistic growth",
            "stochastic logistic",
            "logistic",
            "Verhulst",
            "stochastic Verhulst",
            "logistic diffusion",
            "stochastic logistic growth",
        ),
        description="Stochastic logistic (Verhulst) growth: dX = r X (1 - X/K) dt + sigma X dW; stays positive",
        equations="dX = r*X*(1 - X/K)*dt + sigma*X*dW",
        parameters=(
            p("r", 1.0, "positive", "growth rate per year (intrinsic, at low density)"),
            p("K", 100.0, "positive", "carrying capacity"),
            p("sigma", 0.2, "positive", "volatility of the environmental noise"),
        ),
        initial=(("X", 10.0),),
        domain={"X": "positive"},
        references=(
            "Verhulst (1838); the stochastic version with environmental noise as in Braumann (2019), Introduction to "
            "Stochastic Differential Equations; illustrative population values"
        ),
    ),
    # The stochastic Gompertz growth model (e.g. Gutiérrez et al. 2006; Braumann 2019): log X is Ornstein-Uhlenbeck.
    # Illustrative values as for the logistic model.
    Family(
        key="gompertz",
        display_name="Stochastic Gompertz growth",
        synonyms=("Gompertz", "stochastic Gompertz", "Gompertz diffusion", "Gompertz growth"),
        description="Stochastic Gompertz growth: dX = r X log(K/X) dt + sigma X dW; log X is Ornstein-Uhlenbeck",
        equations="dX = r*X*log(K/X)*dt + sigma*X*dW",
        parameters=(
            p("r", 1.0, "positive", "growth rate per year (log X reverts to log K at this rate)"),
            p("K", 100.0, "positive", "carrying capacity"),
            p("sigma", 0.2, "positive", "volatility of the environmental noise"),
        ),
        initial=(("X", 10.0),),
        domain={"X": "positive"},
        references=(
            "Gompertz (1825); stochastic version as in Gutiérrez et al. (2006) and Braumann (2019); illustrative "
            "population values"
        ),
    ),
    # The Brownian harmonic oscillator / underdamped Langevin equation (Uhlenbeck & Ornstein 1930; Chandrasekhar 1943).
    # Illustrative: angular frequency 2 (period pi), damping 0.5 (underdamped), noise 0.5, released from X = 1 at rest.
    Family(
        key="langevin-oscillator",
        display_name="Damped stochastic oscillator",
        synonyms=(
            "damped stochastic oscillator",
            "Langevin oscillator",
            "Langevin",
            "underdamped Langevin",
            "stochastic harmonic oscillator",
            "noisy harmonic oscillator",
            "Brownian harmonic oscillator",
            "stochastic oscillator",
        ),
        description="Damped harmonic oscillator driven by white noise: position X, velocity V (underdamped Langevin)",
        equations="dX = V*dt; dV = (-gamma*V - omega^2*X)*dt + sigma*dW",
        parameters=(
            p("gamma", 0.5, "positive", "damping coefficient (friction)"),
            p("omega", 2.0, "positive", "natural angular frequency"),
            p("sigma", 0.5, "positive", "volatility of the force (noise intensity)"),
        ),
        initial=(("X", 1.0), ("V", 0.0)),
        notes=("the position X has no noise of its own (dX = V dt); the system is Gaussian",),
        references=(
            "Uhlenbeck & Ornstein (1930), On the theory of the Brownian motion; Chandrasekhar (1943); illustrative "
            "underdamped values (period pi)"
        ),
        features=frozenset({MEAN_REVERSION}),
    ),
    # The Wright-Fisher diffusion of population genetics with selection and two-way mutation (Ewens 2004, ch. 4-5;
    # Karlin & Taylor 1981), time in units of the population's generations scaling; illustrative values: selection 1,
    # mutation rates 1 both ways (both boundaries unattainable).
    Family(
        key="wright-fisher",
        display_name="Wright-Fisher",
        synonyms=(
            "Wright-Fisher",
            "Wright-Fisher diffusion",
            "Wright-Fisher with selection",
            "Wright-Fisher with mutation",
            "Wright-Fisher with selection and mutation",
            "Kimura diffusion",
        ),
        description="Wright-Fisher diffusion: allele frequency X in [0, 1] with selection s and mutation rates u, v",
        equations="dX = (s*X*(1 - X) + u*(1 - X) - v*X)*dt + sqrt(X*(1 - X))*dW",
        parameters=(
            p("s", 1.0, "real", "selection coefficient (scaled): the allele's fitness advantage"),
            p("u", 1.0, "nonnegative", "mutation rate towards the allele (scaled)"),
            p("v", 1.0, "nonnegative", "mutation rate away from the allele (scaled)"),
        ),
        initial=(("X", 0.5),),
        domain={"X": "[0, 1]"},
        rules=(within("X0", 0.0, 1.0, "an allele frequency"),),
        checks=(_wright_fisher_boundary_note,),
        notes=(
            "domain: X lives in [0, 1], both ends kept (full truncation at 0 and at 1); without selection (s=0) it is "
            "the Jacobi process with kappa = u + v, theta = u/(u + v), sigma = 1",
        ),
        references=(
            "Ewens (2004), Mathematical Population Genetics, ch. 4-5; Karlin & Taylor (1981); illustrative scaled "
            "values with both boundaries unattainable"
        ),
    ),
)
