"""The gym's environments against theory (issue #18, item 4), with fixed seeds.

Statistical checks are z-tests at |z| <= 4 (two-sided level 6e-5 each, so the file's family-wise level is
below 1e-3); the exact ones (a zero position, costs, a constant position) hold to rounding.

Discrete delta hedging (Kamal & Derman 1999; Bertsimas, Kogan & Lo 2000): under GBM with zero costs, selling a
call at its Black-Scholes price and holding the Black-Scholes delta, rebalanced N times, leaves a P&L of mean
zero (up to O(1/N)) and standard deviation sqrt(pi / 4) * vega * sigma / sqrt(N) + o(1/sqrt(N)).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import architect
import architect.envs
from tests.gym_models import model_out

PATHS = 8000
Z = 4.0


@pytest.fixture(scope="module")
def gbm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("gbm", tmp_path_factory)


@pytest.fixture(scope="module")
def ou(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("ou", tmp_path_factory)


def delta_hedged_pnl(gbm: Path, dates: int, seed: int = 1) -> np.ndarray:
    """The total reward (the hedging P&L) of PATHS environments that hold the Black-Scholes delta."""
    envs = architect.envs.HedgingVectorEnv(PATHS, gbm, dates=dates)
    _, info = envs.reset(seed=seed)
    total = np.zeros(PATHS)
    for _ in range(dates):
        _, reward, terminated, _, info = envs.step(info["bs_delta"][:, None])
        total += reward
    assert terminated.all()
    envs.close()
    return total


def test_black_scholes_delta_hedging_error_falls_like_one_over_root_n(gbm: Path) -> None:
    sigma, spot = 0.2, 100.0  # the GBM family's defaults; the call is at the money, maturity 1
    vega = spot * math.exp(-0.5 * (sigma / 2) ** 2) / math.sqrt(2 * math.pi)
    stds = {}
    for dates in (16, 64):
        pnl = delta_hedged_pnl(gbm, dates)
        standard_error = pnl.std() / math.sqrt(PATHS)
        assert abs(pnl.mean()) < Z * standard_error, (dates, pnl.mean(), standard_error)
        stds[dates] = pnl.std()
        # The asymptotic constant, within 10% (the o(1/sqrt(N)) term is a few per cent at N = 16).
        assert stds[dates] == pytest.approx(math.sqrt(math.pi / 4) * vega * sigma / math.sqrt(dates), rel=0.10)
    # Four times the rebalances, half the error: within 7.5% (about 5 standard errors of the ratio).
    assert stds[16] / stds[64] == pytest.approx(2.0, rel=0.075)


def test_a_zero_position_earns_exactly_zero(ou: Path) -> None:
    envs = architect.envs.TradingVectorEnv(500, ou, dates=20, proportional_cost=0.01, fixed_cost=0.5)
    obs, _ = envs.reset(seed=3)
    for _ in range(20):
        obs, reward, _, _, info = envs.step(np.zeros((500, 1)))
        assert (reward == 0.0).all() and (info["cost"] == 0.0).all()
    assert (obs[:, envs.layout.pnl] == 0.0).all()
    envs.close()


def test_costs_are_charged_exactly(gbm: Path) -> None:
    with architect.Simulator(gbm) as sim:
        prices = sim.paths(1, steps=30, dates=30, seed=8)[0, :, 0].copy()
    env = architect.envs.TradingEnv(replay=prices, dates=30, max_position=2.0, proportional_cost=0.003, fixed_cost=0.2)
    env.reset(seed=0)
    actions = np.random.default_rng(5).uniform(-3, 3, 30).astype(np.float32)
    actions[7] = actions[6]  # no trade: no fixed cost
    held, pnl = 0.0, 0.0
    for t, a in enumerate(actions):
        q = float(np.clip(a, -2.0, 2.0))
        expected_cost = 0.003 * abs(q - held) * prices[t] + (0.2 if q != held else 0.0)
        obs, reward, _, _, info = env.step(np.array([a]))
        assert info["cost"] == expected_cost
        assert reward == pytest.approx(q * (prices[t + 1] - prices[t]) - expected_cost, rel=1e-12, abs=1e-12)
        pnl += reward
        held = q
    assert obs[env.layout.pnl] == pytest.approx(pnl, rel=1e-6)  # float32 in the observation


@pytest.mark.parametrize("position", [1.0, -0.5, 0.25])
def test_a_constant_position_earns_position_times_the_price_change(ou: Path, position: float) -> None:
    envs = architect.envs.TradingVectorEnv(200, ou, dates=25, params={"theta": 1.0}, x0={"X": 1.0})
    envs.reset(seed=4)
    prices = envs._round.prices.copy()  # (dates + 1, envs): the episode's observable
    total = np.zeros(200)
    for _ in range(25):
        total += envs.step(np.full((200, 1), position))[1]
    assert total == pytest.approx(position * (prices[-1] - prices[0]), rel=1e-12, abs=1e-12)
    envs.close()


def test_the_option_is_sold_at_its_premium_and_pays_its_payoff(gbm: Path) -> None:
    envs = architect.envs.HedgingVectorEnv(300, gbm, dates=10, option="put", strike=105.0)
    _, info = envs.reset(seed=2)
    premium = info["bs_price"].copy()
    prices = envs._round.prices
    total = np.zeros(300)
    for _ in range(10):
        _, reward, _, _, last = envs.step(np.zeros((300, 1)))
        total += reward
    payoff = np.maximum(105.0 - prices[-1], 0.0)
    assert total == pytest.approx(premium - payoff, rel=1e-12, abs=1e-12)
    assert last["bs_price"] == pytest.approx(payoff) and set(np.unique(last["bs_delta"])) <= {-1.0, 0.0}
    envs.close()
