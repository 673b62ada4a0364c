"""The gym's data (issue #18, items 2 and 3): synthetic scenarios through the simulator's run-time parameters,
`verify_ranges`, and the replay of a historical series (CSV, .npy or an array) through the same environments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import architect
import architect.envs
from architect.envs import path_index
from architect.errors import ModelError, UsageError
from tests.gym_models import model_out

RANGES = {"kappa": (0.5, 3.0), "sigma": (0.1, 0.3)}


@pytest.fixture(scope="module")
def ou(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("ou", tmp_path_factory)


@pytest.fixture(scope="module")
def heston(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("heston", tmp_path_factory)


# ------------------------------------------------------------------------------ scenarios
def test_scenarios_are_drawn_per_episode_and_run_in_the_simulator(ou: Path) -> None:
    env = architect.envs.TradingEnv(ou, dates=8, window=0, scenarios=RANGES, env_index=3)
    drawn = []
    for e in range(3):
        obs, info = env.reset(seed=7 if e == 0 else None)
        drawn.append(info["params"])
        assert 0.5 <= info["params"]["kappa"] <= 3.0 and 0.1 <= info["params"]["sigma"] <= 0.3
        assert info["params"]["theta"] == 0.05  # not in the ranges: the default
        with architect.Simulator(ou) as sim:  # the episode is that path with those parameters
            direct = sim.paths(1, 8, seed=7, dates=8, params=info["params"], first_path=path_index(3, e))
        assert obs[1] == np.float32(direct[0, 0, 0])
        assert env._prices == direct[0, :, 0].tolist()
    assert len({d["kappa"] for d in drawn}) == 3
    again = architect.envs.TradingEnv(ou, dates=8, window=0, scenarios=RANGES, env_index=3)
    assert again.reset(seed=7)[1]["params"] == drawn[0]  # reproducible
    vector = architect.envs.TradingVectorEnv(5, ou, dates=8, window=0, scenarios=RANGES)
    _, info = vector.reset(seed=7)
    assert info["params"]["kappa"][3] == drawn[0]["kappa"]  # env 3 alike beside 4 others
    for e in (env, again, vector):
        e.close()


def test_scenario_ranges_must_stay_within_the_constraints(ou: Path, heston: Path) -> None:
    with pytest.raises(ModelError, match="sigma must be positive"):
        architect.envs.TradingEnv(ou, scenarios={"sigma": (-0.1, 0.2)})
    with pytest.raises(ModelError, match="rho"):
        architect.envs.HedgingEnv(heston, scenarios={"rho": (-0.9, 1.5)})
    with pytest.raises(UsageError, match="low <= high"):
        architect.envs.TradingEnv(ou, scenarios={"kappa": (3.0, 0.5)})


def test_verify_ranges_says_what_it_verified(ou: Path, heston: Path) -> None:
    env = architect.envs.TradingEnv(ou, dates=10, scenarios=RANGES, verify_ranges=True)
    assert env.range_verification is not None and len(env.range_verification.corners) == 4
    assert "4 corner(s)" in env.range_verification.text and "family-wise level 0.001" in env.range_verification.text
    env.close()
    # Heston's Euler scheme at 10 steps a year shows its step bias at a strong mean reversion; 40 steps a date pass.
    with pytest.raises(ModelError, match="step bias"):
        architect.envs.HedgingEnv(
            heston, dates=10, scenarios={"kappa": (0.5, 3.0), "rho": (-0.9, 0.0)}, verify_ranges=True
        )
    fine = architect.envs.HedgingEnv(heston, dates=10, steps=400, scenarios={"rho": (-0.9, 0.0)}, verify_ranges=True)
    assert fine.range_verification is not None and fine.range_verification.worst_z < fine.range_verification.critical_z
    fine.close()


# --------------------------------------------------------------------------------- replay
def _history(n: int = 41) -> np.ndarray:
    rng = np.random.default_rng(2)
    return 100 * np.exp(np.cumsum(np.r_[0.0, 0.01 * rng.standard_normal(n - 1)]))


def test_replay_from_csv_npy_and_array_is_the_same(tmp_path: Path) -> None:
    prices = _history()
    csv = tmp_path / "prices.csv"
    csv.write_text("date,price\n" + "".join(f"2024-01-{i + 1:02d},{float(p)!r}\n" for i, p in enumerate(prices)))
    npy = tmp_path / "prices.npy"
    np.save(npy, prices)
    runs = []
    for source in (prices, csv, npy):
        env = architect.envs.TradingEnv(replay=source, dates=10, window=3, proportional_cost=1e-3)
        runs.append([env.reset(seed=s)[0] for s in (0, 1)] + [env.step(np.array([0.5]))[0]])
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(runs[0], run, strict=True))


def test_replay_windows_and_determinism() -> None:
    prices = _history()  # 41 dates: four windows of 10 steps
    env = architect.envs.TradingEnv(replay=prices, dates=10, window=0)
    starts = []
    for e in range(5):
        obs, info = env.reset(seed=123 if e == 0 else None)
        starts.append((info["window"], float(obs[1])))
    assert [w for w, _ in starts] == [0, 1, 2, 3, 0]  # episode e of env 0 is window e mod 4
    assert starts[1][1] == np.float32(prices[10])
    vector = architect.envs.TradingVectorEnv(6, replay=prices, dates=10, window=0)
    _, info = vector.reset(seed=99)
    assert list(info["window"]) == [0, 1, 2, 3, 0, 1]  # env i starts at window i; the seed plays no part


def test_one_policy_runs_on_synthetic_and_historical_data(heston: Path, tmp_path: Path) -> None:
    """A Heston environment and the replay of a price series (column S: the price, not its logarithm) have the
    same observation layout, so the same policy drives both."""
    csv = tmp_path / "spx.csv"
    csv.write_text("S\n" + "".join(f"{float(p)!r}\n" for p in _history()))
    synthetic = architect.envs.HedgingEnv(heston, dates=10)
    historical = architect.envs.HedgingEnv(heston, replay=csv, dates=10, vol=0.2)
    assert synthetic.observation_names == historical.observation_names
    for env in (synthetic, historical):
        _, info = env.reset(seed=0)
        for _ in range(10):
            _, reward, done, _, info = env.step(np.array([info["bs_delta"]]))
        assert done and np.isfinite(reward)
        env.close()


def test_replay_errors(heston: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="an episode needs 11"):
        architect.envs.TradingEnv(replay=_history(5), dates=10)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("close\n" + "".join(f"{float(p)!r}\n" for p in _history()))
    with pytest.raises(UsageError, match="no column 'x'"):
        architect.envs.TradingEnv(heston, replay=wrong, dates=10)
    with pytest.raises(UsageError, match="positive"):
        architect.envs.HedgingEnv(replay=np.linspace(-1, 1, 21), dates=10, vol=0.2)
    with pytest.raises(UsageError, match="give vol="):
        architect.envs.HedgingEnv(replay=_history(), dates=10)
    with pytest.raises(UsageError, match="does not exist"):
        architect.envs.TradingEnv(replay=tmp_path / "missing.csv", dates=10)
    with pytest.raises(UsageError, match="hidden factor"):
        architect.envs.TradingEnv(heston, replay=_s_csv(tmp_path), dates=10, observe="full")


def _s_csv(tmp_path: Path) -> Path:
    path = tmp_path / "s.csv"
    path.write_text("S\n" + "".join(f"{float(p)!r}\n" for p in _history()))
    return path
