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
        synonyms=("Jacobi", "Jacobi process", "Jacobi diffusion", "Wright-Fisher", "Wright-Fisher diffusion"),
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
)
