"""What the agent holds besides its position: nothing (trading) or a short European option (hedging).

A contract turns a batch of episodes into per-date arrays computed once per episode, vectorised over the
environments: extra observation features, cash flows added to the rewards (the option's premium at the first
step, its payoff at the last) and reference values for ``info`` (the Black-Scholes delta and price). Keeping
them apart from the stepping code lets the single and the vector environment share them number for number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from architect.envs.market import Episodes, SimulatedMarket
from architect.envs.setup import Setup
from architect.errors import UsageError

#: Paths simulated once to estimate the reference volatility when none is given.
PILOT_PATHS = 4000


@dataclass
class Prepared:
    """Per-episode arrays for ``n`` environments over ``k + 1`` dates, date-major like `Episodes`."""

    extra: np.ndarray  # (k + 1, n, e) extra observation features
    flows: np.ndarray  # (k, n) cash added to the reward of the step from date t to t + 1
    references: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (k + 1, n), for info


class Trading:
    """No contract: the reward is the change in the position's value, minus costs."""

    extra_names: tuple[str, ...] = ()

    def prepare(self, episodes: Episodes, setup: Setup) -> Prepared:
        k1, n = episodes.prices.shape
        return Prepared(np.zeros((k1, n, 0)), np.zeros((k1 - 1, n)))


class Hedging:
    """A short European option on the observable, maturing at the horizon; the agent holds the hedge."""

    extra_names: tuple[str, ...] = ("log_moneyness",)

    def __init__(
        self, setup: Setup, *, option: str, strike: float | None, vol: float | str | None, premium: float | None
    ) -> None:
        if option not in ("call", "put"):
            raise UsageError(f"option must be 'call' or 'put', got {option!r}")
        if not setup.observable.positive:
            raise UsageError(
                f"hedging needs a positive price: {setup.observable.name} is not (choose another observable, "
                "or a model with a positive or log-price state)"
            )
        self.call = option == "call"
        self.strike = _optional_positive(strike, "strike")
        self.premium = None if premium is None else _finite(premium, "premium")
        self.vol = _vol(setup, vol)

    def prepare(self, episodes: Episodes, setup: Setup) -> Prepared:
        prices = episodes.prices  # (k + 1, n)
        n = prices.shape[1]
        strike = np.full(n, self.strike) if self.strike is not None else prices[0].copy()
        vol = self._vols(episodes)
        price, delta = black_scholes(prices, strike[None, :], setup.time_to_go[:, None], vol[None, :], self.call)
        flows = np.zeros((setup.dates, n))
        flows[0] += price[0] if self.premium is None else self.premium
        flows[-1] -= payoff(prices[-1], strike, self.call)
        extra = np.log(prices / strike[None, :])[:, :, None]
        return Prepared(extra, flows, {"bs_delta": delta, "bs_price": price})

    def _vols(self, episodes: Episodes) -> np.ndarray:
        if isinstance(self.vol, str):
            return np.array([p[self.vol] for p in episodes.params], dtype=np.float64)
        return np.full(episodes.prices.shape[1], self.vol)


def black_scholes(
    spot: np.ndarray, strike: np.ndarray, tau: np.ndarray, vol: np.ndarray, call: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Black-Scholes price and delta at zero rate, broadcast over the arguments; at ``tau = 0`` the payoff
    and the indicator of exercise."""
    sd = vol * np.sqrt(tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(spot / strike) + 0.5 * sd * sd) / sd
    d1 = np.where(sd > 0, d1, np.where(spot > strike, np.inf, -np.inf))
    d2 = d1 - sd
    if call:
        return spot * ndtr(d1) - strike * ndtr(d2), ndtr(d1)
    return strike * ndtr(-d2) - spot * ndtr(-d1), ndtr(d1) - 1.0


def payoff(spot: np.ndarray, strike: np.ndarray, call: bool) -> np.ndarray:
    value: np.ndarray = np.maximum(spot - strike, 0.0) if call else np.maximum(strike - spot, 0.0)
    return value


def _vol(setup: Setup, vol: float | str | None) -> float | str:
    """The reference volatility: a number, a parameter's name (its value in each episode), or by default the
    model's ``sigma`` when it has one, else the realised volatility of the observable's log returns in a pilot
    run of the simulator (seed 0). A replay without a simulator needs it given (no look at its future)."""
    market = setup.market
    model = setup.simulator.model if setup.simulator is not None else None
    values = {p.name: p.value for p in model.parameters} if model is not None else {}
    replay = not isinstance(market, SimulatedMarket)  # a replay's episodes have no parameters: the model's value
    if isinstance(vol, str):
        if vol not in values:
            raise UsageError(f"vol {vol!r} is not a parameter of the model (its parameters: {sorted(values)})")
        return values[vol] if replay else vol
    if vol is not None:
        return _positive(vol, "vol")
    if "sigma" in values:
        return values["sigma"] if replay else "sigma"
    if not isinstance(market, SimulatedMarket):
        raise UsageError("give vol= (a number) to hedge a replayed series: its reference volatility is not known")
    x = market.simulator.paths(
        PILOT_PATHS,
        market.steps,
        market.horizon,
        0,
        params=market.params or None,
        x0=market.x0 or None,
        dates=market.dates,
    )[:, :, market.observable.column]
    steps = np.diff(x, axis=1) if market.observable.log else np.diff(np.log(x), axis=1)
    return float(np.std(steps) / math.sqrt(setup.horizon / setup.dates))


def _optional_positive(value: float | None, name: str) -> float | None:
    return None if value is None else _positive(value, name)


def _positive(value: object, name: str) -> float:
    number = _finite(value, name)
    if number <= 0:
        raise UsageError(f"{name} must be positive, got {value!r}")
    return number


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise UsageError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise UsageError(f"{name} must be finite, got {value!r}")
    return number
