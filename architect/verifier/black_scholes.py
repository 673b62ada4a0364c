"""The Black-Scholes call price: the lowest layer of the verifier's prices.

`prices` uses it for GBM-type variables and `jumps` for each term of Merton's series; it lives here, below
both, so that `jumps` (which `theory` imports) does not import `prices` (which imports `theory`).
"""

from __future__ import annotations

import math

from scipy.stats import norm


def black_scholes_call(s0: float, strike: float, maturity: float, rate: float, vol: float) -> float:
    if maturity <= 0 or vol <= 0:
        return max(s0 - strike * math.exp(-rate * maturity), 0.0)
    sd = vol * math.sqrt(maturity)
    d1 = (math.log(s0 / strike) + (rate + vol**2 / 2) * maturity) / sd
    return float(s0 * norm.cdf(d1) - strike * math.exp(-rate * maturity) * norm.cdf(d1 - sd))
