"""What an environment is built from: the market source, the dates, the costs and the observation's layout.

Trading and hedging share all of it; they differ only in their `Contract` (features, cash flows and
reference values, `architect.envs.contracts`). Arguments are checked here, once, so that a bad one is a
`UsageError` or `ModelError` naming it before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from architect.envs.market import (
    Observable,
    ReplayMarket,
    SimulatedMarket,
    load_series,
    resolve_observable,
)
from architect.errors import UsageError
from architect.simulator import Simulator

if TYPE_CHECKING:
    from architect.envs.ranges import RangeVerification

#: The largest seed a simulator takes.
MAX_SEED = 2**64


@dataclass
class Setup:
    """Everything the single and the vector environment of one kind share."""

    market: SimulatedMarket | ReplayMarket
    observable: Observable
    hidden_names: tuple[str, ...]
    dates: int
    horizon: float
    times: np.ndarray  # (k + 1,) the dates, 0 .. horizon
    window: int
    observe_hidden: bool
    max_position: float
    proportional_cost: float
    fixed_cost: float
    risk_aversion: float
    simulator: Simulator | None
    owns_simulator: bool  # built from a folder: the environment closes it
    range_verification: RangeVerification | None = None  # what verify_ranges=True checked

    @property
    def time_to_go(self) -> np.ndarray:
        return self.horizon - self.times

    def close(self) -> None:
        if self.owns_simulator and self.simulator is not None:
            self.simulator.close()


def build_setup(
    simulator: Simulator | str | Path | None,
    *,
    replay: str | Path | np.ndarray | None,
    dates: int,
    steps: int | None,
    horizon: float,
    observable: str | None,
    log_observable: bool | None,
    observe: str,
    window: int,
    max_position: float,
    proportional_cost: float,
    fixed_cost: float,
    risk_aversion: float,
    scenarios: Mapping[str, tuple[float, float]] | None,
    params: Mapping[str, float] | None,
    x0: Mapping[str, float] | None,
    threads: int,
    allow_unverified: bool,
    verify_ranges: bool = False,
) -> Setup:
    """Check every argument and build the market source (a simulator's batches or a replayed series)."""
    _positive_int(dates, "dates")
    steps = dates if steps is None else steps
    _positive_int(steps, "steps")
    if steps % dates:
        raise UsageError(f"steps ({steps}) must be a multiple of dates ({dates})")
    _positive_number(horizon, "horizon")
    if observe not in ("partial", "full"):
        raise UsageError(f"observe must be 'partial' or 'full', got {observe!r}")
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 10_000:
        raise UsageError(f"window must be an integer in [0, 10000], got {window!r}")
    _positive_number(max_position, "max_position")
    for value, name in ((proportional_cost, "proportional_cost"), (fixed_cost, "fixed_cost")):
        _non_negative(value, name)
    _non_negative(risk_aversion, "risk_aversion")
    sim, owns = _open(simulator, allow_unverified) if simulator is not None else (None, False)
    if sim is None and replay is None:
        raise UsageError("give a simulator (a Simulator or its output folder) or a series to replay")
    if sim is None and scenarios:
        raise UsageError("scenarios need a simulator (a replayed series has no parameters)")
    market: SimulatedMarket | ReplayMarket
    if replay is not None:
        if scenarios:
            raise UsageError("scenarios and replay exclude each other: a replay has fixed history")
        market, seen, hidden_names = _replay(sim, replay, dates, observable, log_observable, observe)
    else:
        assert sim is not None
        seen = resolve_observable(sim.model, observable, log_observable)
        market = SimulatedMarket(
            sim,
            dates=dates,
            steps=steps,
            horizon=float(horizon),
            observable=seen,
            scenarios=scenarios,
            params=params,
            x0=x0,
            threads=threads,
        )
        hidden_names = tuple(sim.model.state[c] for c in market.hidden_columns)
    checked = _verify(market, verify_ranges, owns)
    return Setup(
        market=market,
        observable=seen,
        hidden_names=hidden_names if observe == "full" else (),
        dates=dates,
        horizon=float(horizon),
        times=_dates(float(horizon), dates),
        window=window,
        observe_hidden=observe == "full",
        max_position=float(max_position),
        proportional_cost=float(proportional_cost),
        fixed_cost=float(fixed_cost),
        risk_aversion=float(risk_aversion),
        simulator=sim,
        owns_simulator=owns,
        range_verification=checked,
    )


def _verify(market: SimulatedMarket | ReplayMarket, wanted: bool, owns: bool) -> RangeVerification | None:
    """`verify_ranges` at the corners of the scenario ranges, when asked (a replay has nothing to verify)."""
    if not wanted:
        return None
    if not isinstance(market, SimulatedMarket):
        raise UsageError("verify_ranges needs a simulator (a replayed series has no parameters)")
    from architect.envs.ranges import verify_ranges  # the verifier's theory: loaded only when asked

    try:
        return verify_ranges(market)
    except BaseException:
        if owns:
            market.simulator.close()
        raise


def _open(simulator: Simulator | str | Path, allow_unverified: bool) -> tuple[Simulator, bool]:
    """The simulator, opened from its output folder when given one; refused unless verified."""
    if isinstance(simulator, Simulator):
        sim, owns = simulator, False
    elif isinstance(simulator, (str, Path)):
        sim, owns = Simulator(simulator), True
    else:
        raise UsageError(
            f"simulator must be an architect.Simulator or its output folder, got {type(simulator).__name__}"
        )
    if not allow_unverified and not sim.verified:
        if owns:
            sim.close()
        raise UsageError(f"{sim!r}: the gym runs verified simulators only (allow_unverified=True to override)")
    return sim, owns


def _replay(
    sim: Simulator | None,
    replay: str | Path | np.ndarray,
    dates: int,
    observable: str | None,
    log_observable: bool | None,
    observe: str,
) -> tuple[ReplayMarket, Observable, tuple[str, ...]]:
    """A replayed series' market: the observable's column (by the model's state name, or by the observable's
    own name, e.g. ``S`` for Heston's ``x = log S``, then read as a price), and the hidden columns."""
    state = sim.model.state if sim is not None else ()
    data, names = load_series(replay, state or ("price",))
    if sim is not None:
        seen = resolve_observable(sim.model, observable, log_observable)
        state_name = sim.model.state[seen.column]
        if state_name in names:
            column = names.index(state_name)
        elif seen.name in names:  # the price itself, not its logarithm
            column, seen = names.index(seen.name), Observable(0, seen.name, False, seen.positive)
        else:
            raise UsageError(f"the replayed series has no column {state_name!r} (its columns: {', '.join(names)})")
        hidden_names = tuple(n for n in state if n != state_name)
    else:
        name = observable or names[0]
        if name not in names:
            raise UsageError(f"the replayed series has no column {name!r} (its columns: {', '.join(names)})")
        column = names.index(name)
        positive = not (data[:, column] <= 0).any() or bool(log_observable)  # NaN (missing) counts as positive
        seen = Observable(0, name, bool(log_observable), positive)
        hidden_names = tuple(n for n in names if n != name)
    if observe == "full":
        missing = [n for n in hidden_names if n not in names]
        if missing:
            raise UsageError(f"observe='full' needs the hidden factor(s) {missing} as columns of the replayed series")
    hidden = data[:, [names.index(n) for n in hidden_names if n in names]]
    prices = data[:, column]
    return ReplayMarket(prices, hidden, dates=dates, observable=seen), seen, hidden_names


# ------------------------------------------------------------------------------------- features
def returns(prices: np.ndarray, window: int, positive: bool) -> np.ndarray:
    """(k + window, n) float64 from date-major prices (k + 1, n): row ``window - 1 + t`` is the return from date
    ``t - 1`` to ``t`` (log returns of a positive observable, differences otherwise), zeros before date 1: the
    window at date ``t`` is rows ``t .. t + window - 1``, which reach no later than date ``t``."""
    k1, n = prices.shape
    out = np.zeros((k1 - 1 + window, n))
    if window:
        out[window:] = np.log(prices[1:] / prices[:-1]) if positive else prices[1:] - prices[:-1]
    return out


def _dates(horizon: float, dates: int) -> np.ndarray:
    """0 .. horizon in ``dates`` equal steps, the last exactly the horizon (so the time to go ends at 0)."""
    times = horizon * np.arange(dates + 1, dtype=np.float64) / dates
    times[-1] = horizon
    return times


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < MAX_SEED:
        raise UsageError(f"seed must be an integer in [0, 2^64), got {seed!r}")
    return int(seed)


def _positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")


def _positive_number(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise UsageError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise UsageError(f"{name} must be a non-negative finite number, got {value!r}")
