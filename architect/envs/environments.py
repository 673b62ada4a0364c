"""The public environments: `TradingEnv`, `HedgingEnv` and their native vector forms (docs/gym.md, "The gym").

    env = gymnasium.make("architect/Hedging-v0", simulator="architect-out/gbm", dates=52)
    envs = gymnasium.make_vec("architect/Trading-v0", num_envs=64, simulator=sim)   # one simulator batch

Every keyword is checked when the environment is built (`UsageError` / `ModelError` naming it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from architect.envs.contracts import Hedging, Trading
from architect.envs.core import SingleEnv, VectorEnvCore
from architect.envs.setup import Setup, build_setup
from architect.simulator import Simulator

SimulatorLike = Simulator | str | Path | None
Series = str | Path | np.ndarray | None


@contextlib.contextmanager
def _closing_on_error(setup: Setup) -> Iterator[None]:
    """An environment that fails to build closes the simulator it opened (no worker is left behind)."""
    try:
        yield
    except BaseException:
        setup.close()
        raise


def _setup(simulator: SimulatorLike, horizon: float, window: int, **kwargs: Any) -> Setup:
    return build_setup(simulator, horizon=horizon, window=window, **kwargs)


def trading_setup(
    simulator: SimulatorLike = None,
    *,
    replay: Series = None,
    dates: int = 252,
    steps: int | None = None,
    horizon: float = 1.0,
    observable: str | None = None,
    log_observable: bool | None = None,
    observe: str = "partial",
    window: int = 10,
    max_position: float = 1.0,
    proportional_cost: float = 0.0,
    fixed_cost: float = 0.0,
    risk_aversion: float = 0.0,
    scenarios: Mapping[str, tuple[float, float]] | None = None,
    params: Mapping[str, float] | None = None,
    x0: Mapping[str, float] | None = None,
    threads: int = 0,
    allow_unverified: bool = False,
    verify_ranges: bool = False,
) -> Setup:
    """The trading environment's setup (its keywords are those of `TradingEnv`)."""
    return _setup(
        simulator,
        horizon,
        window,
        replay=replay,
        dates=dates,
        steps=steps,
        observable=observable,
        log_observable=log_observable,
        observe=observe,
        max_position=max_position,
        proportional_cost=proportional_cost,
        fixed_cost=fixed_cost,
        risk_aversion=risk_aversion,
        scenarios=scenarios,
        params=params,
        x0=x0,
        threads=threads,
        allow_unverified=allow_unverified,
        verify_ranges=verify_ranges,
    )


def hedging_setup(
    simulator: SimulatorLike = None,
    *,
    option: str = "call",
    strike: float | None = None,
    maturity: float = 1.0,
    vol: float | str | None = None,
    premium: float | None = None,
    replay: Series = None,
    dates: int = 252,
    steps: int | None = None,
    observable: str | None = None,
    log_observable: bool | None = None,
    observe: str = "partial",
    window: int = 0,
    max_position: float = 2.0,
    proportional_cost: float = 0.0,
    fixed_cost: float = 0.0,
    scenarios: Mapping[str, tuple[float, float]] | None = None,
    params: Mapping[str, float] | None = None,
    x0: Mapping[str, float] | None = None,
    threads: int = 0,
    allow_unverified: bool = False,
    verify_ranges: bool = False,
) -> tuple[Setup, Hedging]:
    """The hedging environment's setup and its option (keywords of `HedgingEnv`)."""
    setup = _setup(
        simulator,
        maturity,
        window,
        replay=replay,
        dates=dates,
        steps=steps,
        observable=observable,
        log_observable=log_observable,
        observe=observe,
        max_position=max_position,
        proportional_cost=proportional_cost,
        fixed_cost=fixed_cost,
        risk_aversion=0.0,
        scenarios=scenarios,
        params=params,
        x0=x0,
        threads=threads,
        allow_unverified=allow_unverified,
        verify_ranges=verify_ranges,
    )
    try:
        return setup, Hedging(setup, option=option, strike=strike, vol=vol, premium=premium)
    except BaseException:
        setup.close()
        raise


class TradingEnv(SingleEnv):
    """Trade the model's observable: the action is the target position (continuous, in
    ``[-max_position, max_position]``), the reward the change in portfolio value minus proportional and fixed
    costs (minus ``risk_aversion / 2`` times its square). An episode is one path over ``dates`` dates.

    Observation (float32, names in ``observation_names``): time to go, the observable (price or rate), the
    last ``window`` returns (log returns of a positive observable, else differences), the position, the P&L
    so far, and with ``observe="full"`` the hidden state variables (Heston's variance).
    """

    def __init__(self, simulator: SimulatorLike = None, *, env_index: int = 0, **kwargs: Any) -> None:
        setup = trading_setup(simulator, **kwargs)
        with _closing_on_error(setup):
            super().__init__(setup, Trading(), env_index)


class TradingVectorEnv(VectorEnvCore):
    """`TradingEnv` times ``num_envs``, stepped together from one simulator batch (``make_vec``)."""

    def __init__(
        self, num_envs: int = 1, simulator: SimulatorLike = None, *, autoreset_mode: str = "next_step", **kwargs: Any
    ) -> None:
        setup = trading_setup(simulator, **kwargs)
        with _closing_on_error(setup):
            super().__init__(setup, Trading(), num_envs, autoreset_mode)


class HedgingEnv(SingleEnv):
    """Hedge a short European option (``option`` call or put, ``strike``, ``maturity`` = the episode's horizon)
    on the observable: the action is the hedge ratio (units of the underlying held), the reward the hedge's
    P&L increment minus costs; the first step adds the premium received (default: the Black-Scholes price
    with the reference ``vol``), the last pays the payoff. ``info`` carries the Black-Scholes delta and price
    (``bs_delta``, ``bs_price``) at the new date as references. ``strike`` defaults to the episode's first
    price (at the money).
    """

    def __init__(self, simulator: SimulatorLike = None, *, env_index: int = 0, **kwargs: Any) -> None:
        setup, option = hedging_setup(simulator, **kwargs)
        with _closing_on_error(setup):
            super().__init__(setup, option, env_index)


class HedgingVectorEnv(VectorEnvCore):
    """`HedgingEnv` times ``num_envs``, stepped together from one simulator batch (``make_vec``)."""

    def __init__(
        self, num_envs: int = 1, simulator: SimulatorLike = None, *, autoreset_mode: str = "next_step", **kwargs: Any
    ) -> None:
        setup, option = hedging_setup(simulator, **kwargs)
        with _closing_on_error(setup):
            super().__init__(setup, option, num_envs, autoreset_mode)
