"""Issue #18's speed targets for the gym's environments: environment steps per second per core, side by side.

    make bench-envs                 # = .venv/bin/python benches/env_speed.py
    .venv/bin/python benches/env_speed.py --seconds 1 --no-write

All on ``architect/Trading-v0`` over a verified Ornstein-Uhlenbeck simulator (generated once with the symbolic
backend and cached under the system temp dir), 252 dates an episode, a window of 10 returns, proportional
costs, zero actions; the simulator runs on one thread (``threads=1``) and Python waits while it runs, so every
rate is per core. Each rate counts every step, episode resets and the simulation of the episodes included:

Rates are measured over whole blocks of 32 episodes (one simulator call each), from the first reset on.

1. the native vector environment (``gymnasium.make_vec``) at 1, 64 and 4 096 environments (env-steps/s);
2. Gymnasium's own ``SyncVectorEnv`` of 64 single environments (``vectorization_mode="sync"``), for contrast;
3. the single environment, through ``gymnasium.make`` (its wrappers included) and unwrapped;
4. a pure-Python environment of the same dynamics (exact OU transitions with ``random.gauss``, the same
   observation), the usual way such an environment is written;
5. gym-anytrading's ``stocks-v0`` (window 10) on a price series of the same length, where installed.

Targets (issue #18): >= 10 million env-steps per second per core at 4 096 environments; >= 100 000 steps per
second for the single environment. The section "Gym environments (issue #18)" of docs/benchmarks.md is
replaced (or appended); the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import math
import os
import platform
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gymnasium  # noqa: E402

import architect  # noqa: E402
import architect.envs  # noqa: E402

SECTION = "## Gym environments (issue #18)"
DOC = ROOT / "docs" / "benchmarks.md"
DATES = 252
WINDOW = 10
KWARGS: dict[str, Any] = {"dates": DATES, "window": WINDOW, "proportional_cost": 1e-3, "threads": 1}


def simulator(folder: Path | None = None) -> Path:
    """The OU output folder, generated once (cached across runs)."""
    folder = folder or Path(tempfile.gettempdir()) / "architect-bench-envs"
    out = folder / "ou"
    if not (out / "report.json").is_file() or not architect.Simulator(out).verified:
        result = architect.generate("Ornstein-Uhlenbeck", out=out, options=architect.Options(paths=4000, steps=8))
        assert result.passed, result.report["reason"]
    return out


def _rate(step: Callable[[], int], seconds: float) -> float:
    """Steps per second of ``step`` (which returns how many env-steps it made), run for about ``seconds``."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += step()
    return done / elapsed


def _episodes(env: Any, n: int, seconds: float, action: np.ndarray) -> float:
    """Env-steps per second over whole blocks of episodes (each block is one simulator call: it is counted),
    from the first reset on, until about ``seconds`` have passed."""
    block = architect.envs.EPISODES_PER_BLOCK
    episodes, start = 0, time.perf_counter()
    while True:
        env.reset(seed=0 if episodes == 0 else None)
        for _ in range(DATES):
            env.step(action)
        episodes += 1
        elapsed = time.perf_counter() - start
        if episodes % block == 0 and elapsed >= seconds:
            return episodes * DATES * n / elapsed


def time_vector(out: Path, n: int, seconds: float, mode: str = "vector_entry_point") -> float:
    envs = gymnasium.make_vec("architect/Trading-v0", num_envs=n, vectorization_mode=mode, simulator=out, **KWARGS)
    rate = _episodes(envs, n, seconds, np.zeros((n, 1), np.float32))
    envs.close()
    return rate


def time_single(out: Path, seconds: float, *, wrapped: bool) -> float:
    env: Any = gymnasium.make("architect/Trading-v0", simulator=out, **KWARGS)
    rate = _episodes(env if wrapped else env.unwrapped, 1, seconds, np.zeros(1, np.float32))
    env.close()
    return rate


class PurePythonOU(gymnasium.Env[np.ndarray, np.ndarray]):
    """The same environment written the usual way: OU simulated step by step in Python (exact transitions)."""

    def __init__(self, kappa: float = 2.0, theta: float = 0.05, sigma: float = 0.2, cost: float = 1e-3) -> None:
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (4 + WINDOW,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
        dt_ = 1.0 / DATES
        self.decay, self.mean = math.exp(-kappa * dt_), theta
        self.sd = sigma * math.sqrt((1 - math.exp(-2 * kappa * dt_)) / (2 * kappa))
        self.cost = cost

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.random = random.Random(seed)
        self.t, self.x, self.pos, self.pnl = 0, 0.0, 0.0, 0.0
        self.returns = collections.deque([0.0] * WINDOW, maxlen=WINDOW)
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.array([1.0 - self.t / DATES, self.x, *self.returns, self.pos, self.pnl], dtype=np.float32)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        q = min(max(float(action[0]), -1.0), 1.0)
        cost = self.cost * abs(q - self.pos) * abs(self.x)
        new = self.x * self.decay + self.mean * (1 - self.decay) + self.sd * self.random.gauss(0.0, 1.0)
        gain = q * (new - self.x)
        self.returns.append(new - self.x)
        self.x, self.pos, self.pnl, self.t = new, q, self.pnl + gain - cost, self.t + 1
        return self._obs(), gain - cost, self.t == DATES, False, {}


def time_pure_python(seconds: float) -> float:
    return _episodes(PurePythonOU(), 1, seconds, np.zeros(1, np.float32))


def time_anytrading(seconds: float) -> float | None:
    """gym-anytrading's stocks-v0 on a series as long as many episodes (its episode is the whole series)."""
    try:
        import gym_anytrading  # noqa: F401  (registers stocks-v0)
        import pandas as pd
    except ImportError:
        return None
    prices = 100 + np.cumsum(np.random.default_rng(0).standard_normal(DATES + WINDOW))
    frame = pd.DataFrame({"Close": prices, "Open": prices, "High": prices, "Low": prices, "Volume": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gymnasium.make("stocks-v0", df=frame, window_size=WINDOW, frame_bound=(WINDOW, len(frame))).unwrapped
        env.reset(seed=0)
        actions = [int(a) for a in np.random.default_rng(1).integers(0, 2, 1000)]

        def step() -> int:
            for a in actions[:100]:
                result = env.step(a)
                if result[2] or result[3]:  # its episode ends by truncation at the series' end
                    env.reset()
            return 100

        return _rate(step, seconds)


def run(
    seconds: float = 3.0,
    folder: Path | None = None,
    say: Callable[[str], None] = print,
    sizes: tuple[int, ...] = (1, 64, 4096),
    sync: int = 64,
    repeat: int = 1,
) -> dict[str, Any]:
    """Every rate of the module's docstring, in env-steps per second: the best of ``repeat`` rounds, each round
    measuring everything in turn (so that a shared machine's load spreads over all of them)."""
    out = simulator(folder)
    measure: dict[str, Callable[[], float | None]] = {
        **{f"vector {n}": (lambda n=n: time_vector(out, n, seconds)) for n in sizes},
        f"sync {sync}": lambda: time_vector(out, sync, seconds, mode="sync"),
        "single make": lambda: time_single(out, seconds, wrapped=True),
        "single unwrapped": lambda: time_single(out, seconds, wrapped=False),
        "pure python": lambda: time_pure_python(seconds),
        "anytrading": lambda: time_anytrading(seconds),
    }
    rates: dict[str, float | None] = {}
    for round_ in range(repeat):
        for key, timed in measure.items():
            say(f"• round {round_ + 1}/{repeat}: {key}")
            rate = timed()
            best = rates.get(key)
            rates[key] = rate if best is None or (rate is not None and rate > best) else best
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return {
        "rates": rates,
        "seconds": seconds,
        "repeat": repeat,
        "machine": machine(),
        "date": dt.date.today().isoformat(),
        "load": load,
        "cores": os.cpu_count() or 1,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; Python {platform.python_version()}, numpy {np.__version__}, gymnasium {gymnasium.__version__}"


ROWS = [
    ("vector 1", "native vector env (`make_vec`), 1 env", None),
    ("vector 64", "native vector env, 64 envs", None),
    ("vector 4096", "native vector env, 4 096 envs", 10e6),
    ("sync 64", "Gymnasium's `SyncVectorEnv` of 64 single envs", None),
    ("single make", "single env (`gymnasium.make`, wrappers included)", 100e3),
    ("single unwrapped", "single env, unwrapped", None),
    ("pure python", "pure-Python env, same dynamics and observation", None),
    ("anytrading", "gym-anytrading `stocks-v0` (window 10)", None),
]


def section(results: dict[str, Any]) -> str:
    rates = results["rates"]
    lines = [
        SECTION,
        "",
        f"`make bench-envs` (benches/env_speed.py), {results['date']}, {results['machine']}. `architect/Trading-v0` "
        f"over a verified OU simulator, {DATES} dates an episode, a window of {WINDOW} returns, proportional costs; "
        "the simulator on one thread, so every rate is per core, and every rate includes episode resets and the "
        f"simulation of the episodes (about {results['seconds']:g} s of stepping each, the best of "
        f"{results['repeat']} rounds). Load average "
        f"{results['load']:.1f} on {results['cores']} cores when it finished: other work shared the machine, "
        "so the rates are lower bounds.",
        "",
        "| environment | env-steps / s | target | met |",
        "|---|---:|---:|:---:|",
    ]
    for key, label, target in ROWS:
        rate = rates.get(key)
        shown = "not installed" if rate is None else f"{rate:,.0f}"
        goal = "" if target is None else f"≥ {target:,.0f}"
        met = "" if target is None or rate is None else ("yes" if rate >= target else "**no**")
        lines.append(f"| {label} | {shown} | {goal} | {met} |")
    native, sync = rates.get("vector 64"), rates.get("sync 64")
    python, single = rates.get("pure python"), rates.get("single make")
    lines += ["", "What the numbers say:", ""]
    if native and sync:
        lines.append(f"- at 64 envs the native vector env is {native / sync:.0f}x Gymnasium's SyncVectorEnv of copies;")
    if python and single:
        lines.append(f"- the single env is {single / python:.1f}x the pure-Python env of the same dynamics;")
    if rates.get("anytrading") and single:
        lines.append(f"- and {single / rates['anytrading']:.1f}x gym-anytrading's stocks-v0.")
    return "\n".join(lines) + "\n"


def write_doc(text: str, doc: Path = DOC) -> None:
    old = doc.read_text() if doc.is_file() else "# Benchmarks\n"
    if SECTION in old:
        before, rest = old.split(SECTION, 1)
        after = rest[rest.find("\n## ") :] if "\n## " in rest else ""
        new = before + text + (after if after else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    doc.write_text(new)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="stepping time per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every measurement (the best is kept)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    text = section(run(args.seconds, repeat=args.repeat))
    print(text)
    if not args.no_write:
        write_doc(text)
        print(f"wrote the section to {DOC}")


if __name__ == "__main__":
    main()
