"""The stepping code shared by trading and hedging: one single environment and one native vector environment.

The single environment precomputes each episode's market part of the observation (a float32 matrix, one row
per date) and steps in plain Python floats; the vector environment keeps each round's arrays date-major and
steps all its environments with a handful of numpy operations on preallocated arrays. Both apply the same
formulas in the same order, so environment ``i`` of a vector environment and a single environment with
``env_index=i`` give the same numbers (tested).

Per step, from date ``t`` to ``t + 1``, with the action clipped to ``[-max_position, max_position]``:

    cost   = proportional_cost * |q - q_prev| * |P_t| + fixed_cost * [q != q_prev]
    gain   = q * (P_{t+1} - P_t)
    change = gain - cost + flow_t              (flow: the option's premium and payoff, hedging only)
    reward = change - risk_aversion / 2 * gain^2
    pnl   += change
"""

from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from architect.envs.contracts import Prepared
from architect.envs.market import Episodes
from architect.envs.setup import Setup, check_seed, returns
from architect.errors import UsageError


class Contract(Protocol):
    extra_names: tuple[str, ...]

    def prepare(self, episodes: Episodes, setup: Setup) -> Prepared: ...


class Layout:
    """Where each feature sits in the observation vector (``names`` lists them in order)."""

    def __init__(self, setup: Setup, contract: Contract) -> None:
        returns_names = tuple(f"return[t-{j}]" for j in range(setup.window - 1, -1, -1))
        self.names: tuple[str, ...] = (
            "time_to_go",
            setup.observable.name,
            *contract.extra_names,
            *returns_names,
            "position",
            "pnl",
            *setup.hidden_names,
        )
        self.extra = slice(2, 2 + len(contract.extra_names))
        self.window = slice(self.extra.stop, self.extra.stop + setup.window)
        self.position = self.window.stop
        self.pnl = self.position + 1
        self.hidden = slice(self.pnl + 1, len(self.names))

    @property
    def size(self) -> int:
        return len(self.names)


def observation_space(layout: Layout) -> gym.spaces.Box:
    return gym.spaces.Box(-np.inf, np.inf, shape=(layout.size,), dtype=np.float32)


def action_space(setup: Setup) -> gym.spaces.Box:
    bound = np.float32(setup.max_position)
    return gym.spaces.Box(-bound, bound, shape=(1,), dtype=np.float32)


class Round:
    """One episode of each of ``n`` environments, date-major, with its contract's arrays."""

    def __init__(self, setup: Setup, contract: Contract, episodes: Episodes) -> None:
        prepared = contract.prepare(episodes, setup)
        self.episodes = episodes
        self.prices = episodes.prices  # (k + 1, n)
        self.extra = prepared.extra  # (k + 1, n, e)
        # (k + window, n), in the observation's float32 once per round: the window is the step's largest copy.
        self.returns = returns(episodes.prices, setup.window, setup.observable.positive).astype(np.float32)
        self.hidden = episodes.hidden if setup.observe_hidden else None  # (k + 1, n, h)
        self.flows = prepared.flows  # (k, n)
        self.references = prepared.references  # name -> (k + 1, n)

    def market(self, t: int, layout: Layout, tau: float, out: np.ndarray) -> None:
        """Fill the market part of the observation at date ``t`` (all but position and P&L) into ``out``."""
        out[:, 0] = tau
        out[:, 1] = self.prices[t]
        out[:, layout.extra] = self.extra[t]
        out[:, layout.window] = self.returns[t : t + layout.window.stop - layout.window.start].T
        if self.hidden is not None:
            out[:, layout.hidden] = self.hidden[t]


def market_matrix(round_: Round, layout: Layout, tau: np.ndarray) -> np.ndarray:
    """(k + 1, m) float32: the market part of a single environment's observation at every date (the same
    numbers `Round.market` puts in a vector environment's rows)."""
    k1 = len(tau)
    out = np.zeros((k1, layout.size), dtype=np.float32)
    out[:, 0] = tau
    out[:, 1] = round_.prices[:, 0]
    out[:, layout.extra] = round_.extra[:, 0, :]
    width = layout.window.stop - layout.window.start
    if width:
        out[:, layout.window] = np.lib.stride_tricks.sliding_window_view(round_.returns[:, 0], width)[:k1]
    if round_.hidden is not None:
        out[:, layout.hidden] = round_.hidden[:, 0, :]
    return out


def reset_info(episodes: Episodes, seed: int, episode: int, replay: bool) -> dict[str, Any]:
    source = "window" if replay else "path"
    return {"seed": seed, "episode": episode, source: int(episodes.sources[0]), "params": dict(episodes.params[0])}


class SingleEnv(gym.Env[np.ndarray, np.ndarray]):
    """One environment; its episodes come from the market a block at a time (`architect.envs.market`)."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(self, setup: Setup, contract: Contract, env_index: int = 0) -> None:
        if isinstance(env_index, bool) or not isinstance(env_index, int) or not 0 <= env_index < 2**35:
            raise UsageError(f"env_index must be an integer in [0, 2^35), got {env_index!r}")
        self.setup, self.contract, self.env_index = setup, contract, env_index
        self.layout = Layout(setup, contract)
        self.observation_space = observation_space(self.layout)
        self.action_space = action_space(setup)
        self.observation_names = self.layout.names
        self.range_verification = setup.range_verification
        self._tau = setup.time_to_go
        self._k = setup.dates
        self._bound = setup.max_position
        self._cp, self._cf = setup.proportional_cost, setup.fixed_cost
        self._half_risk = 0.5 * setup.risk_aversion
        self._base: int | None = None
        self._episode = 0
        self._t = self._k  # no episode yet: step refuses until reset

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """A new episode: with ``seed``, episode 0 of that seed; without, the next episode (the first reset
        without a seed draws one). ``options={"episode": e}`` jumps to episode ``e`` of the current seed."""
        super().reset(seed=seed)
        if seed is not None:
            self._base, self._episode = check_seed(seed), 0
        elif self._base is None:
            self._base, self._episode = int(self.np_random.integers(2**63)), 0
        else:
            self._episode += 1
        if options and "episode" in options:
            self._episode = _episode_number(options["episode"])
        episodes = self.setup.market.episodes(self._base, self.env_index, 1, self._episode)
        round_ = Round(self.setup, self.contract, episodes)
        self._market = market_matrix(round_, self.layout, self._tau)
        self._prices = round_.prices[:, 0].tolist()
        self._flows = round_.flows[:, 0].tolist()
        self._references = {name: v[:, 0].tolist() for name, v in round_.references.items()}
        self._t, self._pos, self._pnl = 0, 0.0, 0.0
        info = reset_info(episodes, self._base, self._episode, _replayed(self))
        info.update({name: v[0] for name, v in self._references.items()})
        return self._market[0].copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        t = self._t
        if t >= self._k:
            raise UsageError("the episode is over (or never started): call reset()")
        q = _scalar(action)
        if q > self._bound:
            q = self._bound
        elif q < -self._bound:
            q = -self._bound
        p0 = self._prices[t]
        dq = q - self._pos
        cost = self._cp * abs(dq) * abs(p0) + (self._cf if dq != 0.0 else 0.0)
        gain = q * (self._prices[t + 1] - p0)
        change = gain - cost + self._flows[t]
        reward = change - self._half_risk * gain * gain
        self._pnl += change
        self._pos = q
        t += 1
        self._t = t
        obs = self._market[t].copy()
        obs[self.layout.position] = q
        obs[self.layout.pnl] = self._pnl
        info = {"cost": cost, "gain": gain}
        for name, values in self._references.items():
            info[name] = values[t]
        return obs, reward, t == self._k, False, info

    def close(self) -> None:
        self.setup.close()
        super().close()


class VectorEnvCore(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` environments stepped together from one simulator batch per block of rounds.

    All episodes have the same dates, so the environments run in lockstep: round ``e`` is episode ``e`` of
    every environment. Autoreset follows gymnasium 1.x: ``next_step`` (default; the step after the last one
    returns the new episode's first observation, reward 0, and ignores the action), ``same_step`` (the last
    step returns the new episode's observation and the old one's in ``info["final_obs"]``) or ``disabled``.
    """

    def __init__(
        self, setup: Setup, contract: Contract, num_envs: int, autoreset_mode: str | AutoresetMode = "next_step"
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or not 1 <= num_envs < 2**35:
            raise UsageError(f"num_envs must be a positive integer, got {num_envs!r}")
        mode = _autoreset_mode(autoreset_mode)
        self.setup, self.contract, self.num_envs = setup, contract, num_envs
        self.metadata = {"render_modes": [], "autoreset_mode": mode}
        self.autoreset_mode = mode
        self.layout = Layout(setup, contract)
        self.single_observation_space = observation_space(self.layout)
        self.single_action_space = action_space(setup)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_names = self.layout.names
        self.range_verification = setup.range_verification
        self._tau = setup.time_to_go.tolist()
        self._k = setup.dates
        self._half_risk = 0.5 * setup.risk_aversion
        self._pos = np.zeros(num_envs)
        self._pnl = np.zeros(num_envs)
        self._all = np.ones(num_envs, dtype=bool)
        self._all.flags.writeable = False
        self._base: int | None = None
        self._round_number = 0
        self._t = self._k
        self._done = False

    # ------------------------------------------------------------------------------- reset
    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every environment starts a new episode: with ``seed``, round 0 of that seed (one seed for all: the
        environments differ by their index, see the seeding rule); without, the next round."""
        if isinstance(seed, (list, tuple)):
            if len(set(seed)) != 1:
                raise UsageError(
                    "the vector environment takes one seed for all its environments (see the seeding rule)"
                )
            seed = seed[0]
        super().reset(seed=seed)
        if seed is not None:
            self._base, number = check_seed(seed), 0
        elif self._base is None:
            self._base, number = int(self.np_random.integers(2**63)), 0
        else:
            number = self._round_number + 1
        if options and "episode" in options:
            number = _episode_number(options["episode"])
        return self._start(number)

    def _start(self, number: int) -> tuple[np.ndarray, dict[str, Any]]:
        assert self._base is not None
        episodes = self.setup.market.episodes(self._base, 0, self.num_envs, number)
        self._round = Round(self.setup, self.contract, episodes)
        self._round_number = number
        self._t, self._done = 0, False
        self._pos[:] = 0.0
        self._pnl[:] = 0.0
        info = self._reset_info(episodes, number)
        return self._observe(), info

    def _reset_info(self, episodes: Episodes, number: int) -> dict[str, Any]:
        n = self.num_envs
        source = "path" if not _replayed(self) else "window"
        info: dict[str, Any] = {"episode": np.full(n, number), source: episodes.sources.copy()}
        names = list(episodes.params[0]) if episodes.params else []
        if names:
            info["params"] = {name: np.array([p[name] for p in episodes.params]) for name in names}
            info["_params"] = {name: self._all for name in names}
        for name, values in self._round.references.items():
            info[name] = values[0].copy()
        for key in [k for k in info if not k.startswith("_")]:
            if not isinstance(info[key], dict):
                info["_" + key] = self._all
        return info

    # -------------------------------------------------------------------------------- step
    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._done:
            if self.autoreset_mode == AutoresetMode.NEXT_STEP:
                obs, info = self._start(self._round_number + 1)
                n = self.num_envs
                return obs, np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), info
            raise UsageError("the episodes are over: call reset()")
        if self._t >= self._k:
            raise UsageError("call reset() before step()")
        q = self._actions(actions)
        obs, reward, info = self._advance(q)
        done = self._t == self._k
        terminated = np.full(self.num_envs, done)
        if done and self.autoreset_mode == AutoresetMode.SAME_STEP:
            final = np.empty(self.num_envs, dtype=object)
            final[:] = list(obs)
            info |= {"final_obs": final, "_final_obs": self._all, "final_info": dict(info), "_final_info": self._all}
            obs, reset = self._start(self._round_number + 1)
            info |= reset
        else:
            self._done = done
        return obs, reward, terminated, np.zeros(self.num_envs, dtype=bool), info

    def _actions(self, actions: Any) -> np.ndarray:
        q = np.asarray(actions, dtype=np.float64)
        if q.size != self.num_envs:
            raise UsageError(f"expected {self.num_envs} actions (shape ({self.num_envs}, 1)), got shape {q.shape}")
        q = q.reshape(self.num_envs)
        if np.isnan(q).any():
            raise UsageError("an action is NaN")
        bound = self.setup.max_position
        return np.clip(q, -bound, bound)

    def _advance(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        setup, r, t = self.setup, self._round, self._t
        p0 = r.prices[t]
        dq = q - self._pos
        cost = setup.proportional_cost * np.abs(dq) * np.abs(p0) + setup.fixed_cost * (dq != 0.0)
        gain = q * (r.prices[t + 1] - p0)
        change = gain - cost + r.flows[t]
        reward = change - self._half_risk * gain * gain
        self._pnl += change
        self._pos = q
        self._t = t + 1
        info: dict[str, Any] = {"cost": cost, "_cost": self._all, "gain": gain, "_gain": self._all}
        for name, values in r.references.items():
            info[name] = values[t + 1]
            info["_" + name] = self._all
        return self._observe(), reward, info

    def _observe(self) -> np.ndarray:
        obs = np.empty((self.num_envs, self.layout.size), dtype=np.float32)
        self._round.market(self._t, self.layout, self._tau[self._t], obs)
        obs[:, self.layout.position] = self._pos
        obs[:, self.layout.pnl] = self._pnl
        return obs

    def close_extras(self, **kwargs: Any) -> None:
        self.setup.close()


def _autoreset_mode(value: str | AutoresetMode) -> AutoresetMode:
    """gymnasium's `AutoresetMode`, from itself, its value (``"NextStep"``) or a snake-case name."""
    names = {m.value.lower(): m for m in AutoresetMode} | {m.name.lower(): m for m in AutoresetMode}
    mode = value if isinstance(value, AutoresetMode) else names.get(str(value).lower())
    if mode is None:
        raise UsageError(f"autoreset_mode must be next_step, same_step or disabled, got {value!r}")
    return mode


def _scalar(action: Any) -> float:
    """The action as a float (an array of one number, or a number); NaN is refused."""
    try:
        q = float(action[0])
    except (TypeError, IndexError):
        try:
            q = float(action)
        except (TypeError, ValueError):
            raise UsageError(f"the action must be one number (a target position), got {action!r}") from None
    if q != q:
        raise UsageError("the action is NaN")
    return q


def _episode_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise UsageError(f"options['episode'] must be a non-negative integer, got {value!r}")
    return int(value)


def _replayed(env: SingleEnv | VectorEnvCore) -> bool:
    from architect.envs.market import ReplayMarket

    return isinstance(env.setup.market, ReplayMarket)
