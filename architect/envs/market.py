"""Where the environments' episodes come from: a verified simulator (in batches) or a replayed series.

Both sources hand the environments the same thing, an `Episodes` batch: the observable's path over the
episode's dates (a price or a rate; ``exp`` of the state when the model simulates its logarithm), the other
state variables (the hidden factors, such as Heston's variance) and the parameters the episode ran with. The
environments never see anything else, so a policy runs unchanged on simulated and on historical data.

Seeding rule (docs/gym.md, "Seeding"): with base seed ``s``, episode ``e`` of environment ``i`` is path
``path_index(i, e)`` of the simulator's seed ``s``: episodes come in blocks of `EPISODES_PER_BLOCK`, block
``b = e // B`` starts at path ``b * BLOCK_STRIDE`` and holds environment ``i``'s ``B`` episodes contiguously
at ``i * B + e % B``. So a single environment gets ``B`` episodes from one simulator call, ``N`` environments
get ``B`` rounds from one call of ``N * B`` paths, and environment ``i``'s episodes never depend on ``N``.
Generated code never runs in this process: every path comes from `Simulator.paths` (a sandboxed process).
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from architect.errors import UsageError
from architect.model import SdeModel
from architect.simulator import Simulator, check_parameters

#: Episodes per simulator call and environment (part of the seeding rule: changing it changes the episodes).
EPISODES_PER_BLOCK = 32
#: Path index where each block of episodes starts: room for 2^35 environments of 32 episodes each.
BLOCK_STRIDE = 2**40
#: The most bytes of paths one simulator call returns (larger blocks are fetched in several calls).
CALL_BYTES = 256 * 2**20
#: Scenario draws use their own random stream, keyed by (seed, env, episode) and this tag.
SCENARIO_STREAM = 0x5CE7A


def path_index(env: int, episode: int) -> int:
    """The simulator path of episode ``episode`` of environment ``env`` (the seeding rule)."""
    block, within = divmod(episode, EPISODES_PER_BLOCK)
    return block * BLOCK_STRIDE + env * EPISODES_PER_BLOCK + within


@dataclass(frozen=True)
class Observable:
    """Which state variable the agent trades, and how its value is read from the state."""

    column: int
    name: str  # the observable's own name: S for a state x = log S
    log: bool  # the state is the logarithm of the observable
    positive: bool  # the observable stays positive (a price), so log returns are defined


@dataclass
class Episodes:
    """A batch of episodes of ``n`` environments, date-major (row ``t`` is date ``t`` of every environment, the
    layout the environments step through): the observable over the ``k + 1`` dates, the hidden state variables
    and the parameters each episode ran with."""

    prices: np.ndarray  # (k + 1, n) float64, C-contiguous
    hidden: np.ndarray  # (k + 1, n, h) float64
    params: list[dict[str, float]] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # path or window of each row


# ------------------------------------------------------------------------------ what is observed
_LOG_NOTE = re.compile(r"(?:modelled|simulated) as its logarithm (\w+) = log (\w+)")


def resolve_observable(model: SdeModel, name: str | None, log: bool | None) -> Observable:
    """The observable: the state variable ``name`` (default: the first), read as ``exp(state)`` when the model
    simulates its logarithm (its notes say so; ``log`` overrides)."""
    if name is None:
        name = model.state[0]
    if name not in model.state:
        raise UsageError(f"observable {name!r} is not a state variable of {model.name} (its state: {model.state})")
    column = model.state.index(name)
    said = {m.group(1): m.group(2) for note in model.notes for m in _LOG_NOTE.finditer(note)}
    is_log = (name in said) if log is None else bool(log)
    shown = said.get(name, f"exp({name})") if is_log else name
    positive = is_log or model.domain[column] == "positive"
    return Observable(column, shown, is_log, positive)


# ------------------------------------------------------------------------------------ scenarios
def check_scenarios(
    model: SdeModel, scenarios: Mapping[str, tuple[float, float]] | None
) -> dict[str, tuple[float, float]]:
    """The scenario ranges as floats, each a parameter of the model, every corner of the box within the
    model's constraints (they are convex, so the whole box is)."""
    if not scenarios:
        return {}
    if not isinstance(scenarios, Mapping):
        raise UsageError("scenarios must map parameter names to (low, high) ranges")
    ranges: dict[str, tuple[float, float]] = {}
    for name, bounds in scenarios.items():
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise UsageError(f"scenario {name!r} must be a (low, high) pair, got {bounds!r}")
        low, high = (float(b) if isinstance(b, (int, float)) and not isinstance(b, bool) else math.nan for b in bounds)
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise UsageError(f"scenario {name!r} needs finite numbers low <= high, got {bounds!r}")
        ranges[name] = (low, high)
    if len(ranges) > 10:
        raise UsageError(f"at most 10 parameters can vary in scenarios, got {len(ranges)}")
    for corner in corners(ranges):
        check_parameters(model, corner)  # ModelError naming the parameter and the corner
    return ranges


def corners(ranges: Mapping[str, tuple[float, float]]) -> list[dict[str, float]]:
    """Every corner of the box of ranges (one point when a range is a single value)."""
    names = list(ranges)
    choices = [sorted(set(ranges[n])) for n in names]
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*choices)]


def sample_scenario(ranges: Mapping[str, tuple[float, float]], seed: int, env: int, episode: int) -> dict[str, float]:
    """The parameters of one episode: uniform in each range, from a stream keyed by (seed, env, episode) only,
    so an environment's scenarios do not depend on how many run beside it."""
    if not ranges:
        return {}
    draws = np.random.default_rng([seed, env, episode, SCENARIO_STREAM]).random(len(ranges))
    return {name: low + (high - low) * float(u) for (name, (low, high)), u in zip(ranges.items(), draws, strict=True)}


# ------------------------------------------------------------------------------ the simulator
class SimulatedMarket:
    """Episodes simulated by a verified `Simulator`, fetched a block of episodes per call and cached."""

    def __init__(
        self,
        simulator: Simulator,
        *,
        dates: int,
        steps: int,
        horizon: float,
        observable: Observable,
        scenarios: Mapping[str, tuple[float, float]] | None = None,
        params: Mapping[str, float] | None = None,
        x0: Mapping[str, float] | None = None,
        threads: int = 0,
    ) -> None:
        self.simulator = simulator
        self.dates, self.steps, self.horizon = dates, steps, horizon
        self.observable = observable
        self.hidden_columns = [c for c in range(simulator.model.dim) if c != observable.column]
        self.scenarios = check_scenarios(simulator.model, scenarios)
        self.params = dict(check_parameters(simulator.model, params))
        #: Every parameter's value in an episode without scenarios (the defaults, then ``params``).
        self.values = {p.name: p.value for p in simulator.model.parameters} | self.params
        self.x0 = dict(x0 or {})
        self.threads = threads
        self._cache: tuple[tuple[int, int, int, int], list[np.ndarray]] | None = None

    def episodes(self, seed: int, first_env: int, n: int, episode: int) -> Episodes:
        """Episode ``episode`` of environments ``first_env .. first_env + n - 1``."""
        envs = range(first_env, first_env + n)
        sources = np.array([path_index(i, episode) for i in envs], dtype=np.uint64)
        if self.scenarios:
            params = [self._episode_params(seed, i, episode) for i in envs]
            calls = [self._paths(seed, path_index(i, episode), 1, p) for i, p in zip(envs, params, strict=True)]
            return self._gather([c[:, None] for c in calls], 0, params, sources)
        block, within = divmod(episode, EPISODES_PER_BLOCK)
        return self._gather(self._block(seed, block, first_env, n), within, [dict(self.values)] * n, sources)

    def contiguous(self, seed: int, first: int, n: int) -> Episodes:
        """Paths ``first .. first + n - 1`` of ``seed`` as episodes (a batch, outside the seeding rule)."""
        x = self._paths(seed, first, n, self.params)
        sources = np.arange(first, first + n, dtype=np.uint64)
        return self._gather([x[:, None]], 0, [dict(self.values)] * n, sources)

    def _block(self, seed: int, block: int, first_env: int, n: int) -> list[np.ndarray]:
        """The block's paths as the simulator returned them, (envs, B, k + 1, D) per call, in calls of whole
        environments of at most `CALL_BYTES` (cached: the block serves B rounds)."""
        key = (seed, block, first_env, n)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        self._cache = None  # the old block's memory goes before the new one is fetched
        k1, dim, size = self.dates + 1, self.simulator.model.dim, EPISODES_PER_BLOCK
        per_call = max(1, CALL_BYTES // (size * k1 * dim * 8))
        first = block * BLOCK_STRIDE + first_env * size
        calls = []
        for start in range(0, n, per_call):
            count = min(per_call, n - start)
            x = self._paths(seed, first + start * size, count * size, self.params)
            calls.append(x.reshape(count, size, k1, dim))
        self._cache = (key, calls)
        return calls

    def _paths(self, seed: int, first: int, rows: int, params: Mapping[str, float]) -> np.ndarray:
        return self.simulator.paths(
            rows,
            self.steps,
            self.horizon,
            seed,
            params=params or None,
            x0=self.x0 or None,
            dates=self.dates,
            threads=self.threads,
            first_path=first,
        )

    def _gather(
        self, calls: list[np.ndarray], within: int, params: list[dict[str, float]], sources: np.ndarray
    ) -> Episodes:
        """Episode ``within`` of each environment of ``calls`` (each (envs, B, k + 1, D)), date-major."""
        n = sum(len(c) for c in calls)
        prices = np.empty((self.dates + 1, n))
        hidden = np.empty((self.dates + 1, n, len(self.hidden_columns)))
        at = 0
        for x in calls:
            rows = x[:, within]  # (envs, k + 1, D)
            prices[:, at : at + len(x)] = rows[:, :, self.observable.column].T
            hidden[:, at : at + len(x)] = rows[:, :, self.hidden_columns].transpose(1, 0, 2)
            at += len(x)
        if self.observable.log:
            np.exp(prices, out=prices)
        return Episodes(prices, hidden, params, sources)

    def _episode_params(self, seed: int, env: int, episode: int) -> dict[str, float]:
        return {**self.values, **sample_scenario(self.scenarios, seed, env, episode)}


# ------------------------------------------------------------------------------------- replay
class ReplayMarket:
    """Episodes cut from a historical series (rows = equally spaced dates): episode ``e`` of environment ``i``
    is window ``(i + e) mod W`` of the ``W`` consecutive windows of ``k + 1`` rows (each shares its last row
    with the next one's first). Deterministic: the seed plays no part."""

    def __init__(self, prices: np.ndarray, hidden: np.ndarray, *, dates: int, observable: Observable) -> None:
        self.prices = np.exp(prices) if observable.log else prices
        self.hidden = hidden
        self.dates = dates
        self.observable = observable
        self.windows = (len(prices) - 1) // dates
        if self.windows < 1:
            raise UsageError(f"the replayed series has {len(prices)} dates: an episode needs {dates + 1}")
        if observable.positive and (self.prices <= 0).any():
            raise UsageError(f"the replayed {observable.name} must be positive (log returns), and it is not")

    def episodes(self, seed: int, first_env: int, n: int, episode: int) -> Episodes:
        del seed  # a replay is the same for every seed
        windows = np.array([(i + episode) % self.windows for i in range(first_env, first_env + n)], dtype=np.int64)
        rows = np.arange(self.dates + 1)[:, None] + windows[None, :] * self.dates  # (k + 1, n)
        return Episodes(self.prices[rows], self.hidden[rows], [{}] * n, windows)


def load_series(source: str | Path | np.ndarray, columns: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """A historical series as a float64 array (dates, columns) and its column names: a ``.npy`` file, a CSV
    file with a header row (columns named like the model's state, or any names), or an array."""
    names: tuple[str, ...] = columns
    if isinstance(source, np.ndarray):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"replay file {path} does not exist")
        if path.suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        else:
            data, names = _read_csv(path)
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2:
        raise UsageError(f"a replayed series must be (dates, observables), got shape {data.shape}")
    if len(names) != data.shape[1]:
        names = tuple(columns[: data.shape[1]]) if data.shape[1] <= len(columns) else ()
        if not names:
            raise UsageError(f"the replayed series has {data.shape[1]} columns but the model {len(columns)}")
    return data, names


def _read_csv(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """A CSV file: a header row of names, then numbers; a first column that is not numeric (dates) is dropped."""
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if len(rows) < 3:
        raise UsageError(f"replay file {path} needs a header row and at least two rows of numbers")
    header, body = rows[0], rows[1:]
    skip = 1 if not _is_number(body[0][0]) else 0
    try:
        data = np.array([[float(v) for v in row[skip:]] for row in body], dtype=np.float64)
    except ValueError as exc:
        raise UsageError(f"replay file {path}: {exc}") from None
    if data.ndim != 2 or data.shape[1] == 0:
        raise UsageError(f"replay file {path} has no columns of numbers")
    return data, tuple(h.strip() for h in header[skip:])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
