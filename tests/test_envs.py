"""The gym's environments (issue #18): registration, Gymnasium's checker, the seeding rule, native vector
environments and their autoreset, no look-ahead, and clear errors for bad arguments.

The simulators are real verified binaries (OU, GBM, Heston; tests/gym_models.py generates each once).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import architect
import architect.envs
from architect.envs import EPISODES_PER_BLOCK, path_index
from architect.errors import ModelError, UsageError
from tests.gym_models import model_out


@pytest.fixture(scope="module")
def ou(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("ou", tmp_path_factory)


@pytest.fixture(scope="module")
def gbm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("gbm", tmp_path_factory)


@pytest.fixture(scope="module")
def heston(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("heston", tmp_path_factory)


def rollout(env: gymnasium.Env, seed: int, actions: list[float], episodes: int = 1) -> list[tuple]:
    """(observation, reward, terminated, info) of every reset and step over ``episodes`` episodes."""
    seen: list[tuple] = []
    for e in range(episodes):
        obs, info = env.reset(seed=seed if e == 0 else None)
        seen.append((obs, 0.0, False, info))
        done, t = False, 0
        while not done:
            obs, reward, done, truncated, info = env.step(np.array([actions[t % len(actions)]], np.float32))
            assert not truncated
            seen.append((obs, reward, done, info))
            t += 1
    return seen


# --------------------------------------------------------------------------- registration
def test_registered_after_import_architect() -> None:
    assert set(architect.envs.IDS) <= set(gymnasium.registry)
    spec = gymnasium.spec("architect/Hedging-v0")
    assert spec.vector_entry_point == "architect.envs.environments:HedgingVectorEnv"


def test_check_env_passes_for_both(ou: Path, gbm: Path, heston: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checker's note that an unbounded Box is "probably too low"
        for env in (
            gymnasium.make("architect/Trading-v0", simulator=ou, dates=20),
            gymnasium.make("architect/Trading-v0", simulator=heston, dates=20, observe="full", proportional_cost=1e-3),
            gymnasium.make("architect/Hedging-v0", simulator=gbm, dates=20),
            gymnasium.make("architect/Hedging-v0", simulator=heston, dates=20, option="put", strike=95.0),
        ):
            check_env(env.unwrapped)
            env.close()


def test_observation_layout(heston: Path) -> None:
    env = architect.envs.TradingEnv(heston, dates=10, window=3, observe="full")
    assert env.observation_names == (
        "time_to_go",
        "S",
        "return[t-2]",
        "return[t-1]",
        "return[t-0]",
        "position",
        "pnl",
        "v",
    )
    obs, info = env.reset(seed=1)
    assert obs[0] == 1.0 and obs[1] == pytest.approx(100.0) and obs[-1] == pytest.approx(0.04)
    assert info["params"]["rho"] == -0.7 and info["path"] == 0
    partial = architect.envs.TradingEnv(heston, dates=10, window=0)
    assert partial.observation_names == ("time_to_go", "S", "position", "pnl")  # Heston's variance is hidden
    hedge = architect.envs.HedgingEnv(heston, dates=10)
    assert hedge.observation_names == ("time_to_go", "S", "log_moneyness", "position", "pnl")
    for e in (env, partial, hedge):
        e.close()


# ------------------------------------------------------------------------------ seeding
def test_reset_with_a_seed_is_reproducible(ou: Path) -> None:
    env = gymnasium.make("architect/Trading-v0", simulator=ou, dates=12)
    actions = [0.3, -1.0, 0.7, 0.0]
    first = rollout(env, 5, actions, episodes=2)
    again = rollout(env, 5, actions, episodes=2)
    other = rollout(env, 6, actions, episodes=1)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(first[3][0], other[3][0])
    assert first[13][3]["episode"] == 1 and first[13][3]["path"] == path_index(0, 1) == 1
    env.close()


def test_the_seeding_rule() -> None:
    assert path_index(0, 0) == 0 and path_index(3, 0) == 3 * EPISODES_PER_BLOCK
    assert path_index(3, EPISODES_PER_BLOCK + 2) == 2**40 + 3 * EPISODES_PER_BLOCK + 2


def _drive(envs: gymnasium.vector.VectorEnv, seed: int, steps: int) -> list[tuple]:
    """Two rounds and a bit (autoreset included) with actions that depend on the observation."""
    obs, info = envs.reset(seed=seed)
    seen = [(obs, np.zeros(envs.num_envs), info["path"])]
    for t in range(steps):
        actions = np.tanh(np.sin(np.arange(envs.num_envs) + t)[:, None] + obs[:, 1:2])
        obs, reward, _, _, info = envs.step(actions.astype(np.float32))
        seen.append((obs, reward, info.get("path")))
    return seen


def test_env_i_does_not_depend_on_how_many_run_beside_it(ou: Path) -> None:
    """8 against 64 environments: the first 8 see the same numbers, through the autoreset to round 2."""
    small = gymnasium.make_vec("architect/Trading-v0", num_envs=8, simulator=ou, dates=10, proportional_cost=1e-3)
    large = gymnasium.make_vec("architect/Trading-v0", num_envs=64, simulator=ou, dates=10, proportional_cost=1e-3)
    assert isinstance(small.unwrapped, architect.envs.TradingVectorEnv)  # native, not 8 copies
    a, b = _drive(small, 11, 25), _drive(large, 11, 25)
    for (obs8, r8, paths8), (obs64, r64, paths64) in zip(a, b, strict=True):
        assert np.array_equal(obs8, obs64[:8]) and np.array_equal(r8, r64[:8])
        if paths8 is not None:
            assert np.array_equal(paths8, paths64[:8])
    assert a[11][2] is not None and list(a[11][2]) == [path_index(i, 1) for i in range(8)]  # round 2 began
    small.close()
    large.close()


def test_a_single_env_is_env_i_of_the_vector_env(gbm: Path) -> None:
    envs = architect.envs.HedgingVectorEnv(4, gbm, dates=8, proportional_cost=2e-3)
    single = architect.envs.HedgingEnv(gbm, dates=8, proportional_cost=2e-3, env_index=2)
    obs, info = envs.reset(seed=9)
    one, one_info = single.reset(seed=9)
    assert np.array_equal(obs[2], one) and info["bs_delta"][2] == one_info["bs_delta"]
    for t in range(8):
        actions = np.full((4, 1), 0.1 * t, np.float32)
        obs, reward, terminated, _, info = envs.step(actions)
        one, one_reward, done, _, one_info = single.step(actions[2])
        assert np.array_equal(obs[2], one) and reward[2] == one_reward and terminated[2] == done
        assert info["cost"][2] == one_info["cost"] and info["bs_price"][2] == one_info["bs_price"]
    assert done
    envs.close()
    single.close()


def test_autoreset_modes(ou: Path) -> None:
    same = architect.envs.TradingVectorEnv(3, ou, dates=4, autoreset_mode="same_step")
    nxt = architect.envs.TradingVectorEnv(3, ou, dates=4)
    assert nxt.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.NEXT_STEP
    same.reset(seed=1)
    nxt.reset(seed=1)
    zeros = np.zeros((3, 1), np.float32)
    for _ in range(3):
        same.step(zeros)
        nxt.step(zeros)
    obs_same, _, term_same, _, info_same = same.step(zeros)
    obs_last, _, term_next, _, _ = nxt.step(zeros)
    assert term_same.all() and term_next.all()
    assert np.array_equal(np.stack(info_same["final_obs"]), obs_last)  # the old episode's last observation
    obs_new, reward, term, trunc, info = nxt.step(zeros)  # next_step: the action is ignored, a new episode
    assert np.array_equal(obs_same, obs_new) and not reward.any() and not term.any() and not trunc.any()
    assert list(info["episode"]) == [1, 1, 1]
    disabled = architect.envs.TradingVectorEnv(3, ou, dates=1, autoreset_mode="disabled")
    disabled.reset(seed=1)
    disabled.step(zeros)
    with pytest.raises(UsageError, match="reset"):
        disabled.step(zeros)
    for env in (same, nxt, disabled):
        env.close()


# -------------------------------------------------------------------------- no look-ahead
def test_no_look_ahead_with_a_poisoned_future(gbm: Path) -> None:
    """Replay a series, then replay it again with every date after j replaced by NaN: the observations up to
    date j (and the rewards up to it) are the same numbers, for trading and hedging, single and vector."""
    with architect.Simulator(gbm) as sim:
        series = sim.paths(1, steps=16, dates=16, seed=4)[0, :, 0].copy()
    actions = [0.5, -0.25, 1.0, 0.0, 0.75]
    kinds = [
        lambda s: architect.envs.TradingEnv(replay=s, dates=16, window=4, proportional_cost=1e-3, fixed_cost=0.01),
        lambda s: architect.envs.HedgingEnv(replay=s, dates=16, vol=0.2, window=2, proportional_cost=1e-3),
    ]
    for make in kinds:
        clean = rollout(make(series), 0, actions)
        for j in range(16):
            poisoned = series.copy()
            poisoned[j + 1 :] = np.nan
            seen = rollout(make(poisoned), 0, actions[:])[: j + 1]
            for t, (a, b) in enumerate(zip(clean, seen, strict=False)):
                assert np.array_equal(a[0], b[0]) and np.isfinite(b[0]).all(), (j, t)
                assert a[1] == b[1]
    vector = architect.envs.TradingVectorEnv(2, replay=np.stack([series, series], axis=1)[:, :1], dates=16, window=4)
    poisoned = series.copy()
    poisoned[6:] = np.nan
    poisoned_vector = architect.envs.TradingVectorEnv(2, replay=poisoned, dates=16, window=4)
    a, b = vector.reset(seed=0)[0], poisoned_vector.reset(seed=0)[0]
    for _ in range(5):
        assert np.array_equal(a, b) and np.isfinite(b).all()
        a = vector.step(np.ones((2, 1), np.float32))[0]
        b = poisoned_vector.step(np.ones((2, 1), np.float32))[0]
    assert np.array_equal(a, b)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dates": 0}, UsageError, "dates must be a positive integer"),
        ({"dates": 10, "steps": 15}, UsageError, "multiple of dates"),
        ({"observe": "all"}, UsageError, "observe must be"),
        ({"window": -1}, UsageError, "window must be"),
        ({"proportional_cost": -0.1}, UsageError, "proportional_cost must be"),
        ({"max_position": 0}, UsageError, "max_position must be"),
        ({"observable": "Y"}, UsageError, "observable 'Y' is not a state variable"),
        ({"params": {"kappa": -1.0}}, ModelError, "kappa must be positive"),
        ({"scenarios": {"nope": (0, 1)}}, ModelError, "unknown parameter 'nope'"),
    ],
)
def test_bad_arguments_are_clear_errors(ou: Path, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        architect.envs.TradingEnv(ou, **kwargs)


def test_bad_uses_are_clear_errors(ou: Path, gbm: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Simulator or its output folder"):
        architect.envs.TradingEnv(42)
    with pytest.raises(UsageError, match="give a simulator"):
        architect.envs.TradingEnv()
    with pytest.raises(UsageError, match="positive price"):
        architect.envs.HedgingEnv(ou)
    with pytest.raises(UsageError, match="option must be"):
        architect.envs.HedgingEnv(gbm, option="straddle")
    env = architect.envs.TradingEnv(ou, dates=2)
    with pytest.raises(UsageError, match="call reset"):
        env.step(np.zeros(1, np.float32))
    env.reset(seed=0)
    with pytest.raises(UsageError, match="NaN"):
        env.step(np.array([np.nan], np.float32))
    with pytest.raises(UsageError, match="seed must be"):
        env.reset(seed=2**64)
    envs = architect.envs.TradingVectorEnv(3, ou, dates=2)
    envs.reset(seed=0)
    with pytest.raises(UsageError, match="expected 3 actions"):
        envs.step(np.zeros((2, 1)))
    with pytest.raises(UsageError, match="one seed"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(UsageError, match="autoreset_mode"):
        architect.envs.TradingVectorEnv(3, ou, autoreset_mode="sometimes")
    env.close()
    envs.close()


def test_architect_imports_without_gymnasium() -> None:
    probe = (
        "import sys; sys.modules['gymnasium'] = None\n"
        "import architect; print('architect.envs' in sys.modules)\n"
        "try:\n    import architect.envs\nexcept architect.UsageError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["False", "architect.envs needs Gymnasium >= 1.0: pip install 'architect[gym]'"]
