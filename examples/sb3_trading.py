"""Reinforcement learning on a verified market: stable-baselines3's PPO trades ``architect/Trading-v0`` over OU.

    .venv/bin/python examples/sb3_trading.py                 # generates architect-out/ou if needed
    .venv/bin/python examples/sb3_trading.py --out DIR --timesteps 100000 --plot docs/img/gym-sb3-learning-curve.png

The Ornstein-Uhlenbeck process started at its long-run mean (kappa 2, theta 0.05, sigma 0.2) is a mean-reverting
spread: holding it earns nothing on average, while leaning against its deviations does. PPO sees the time to
go, the spread, its position and its P&L (``window=0``), trades a position in [-1, 1] at 50 dates a year with a
proportional cost, and is trained on 8 environments (seeds 0-7). Every few thousand steps, and at the end, it is
evaluated on 2 000 held-out episodes (seed 10 000, the native vector environment) against holding nothing and
buy-and-hold. Results and the learning curve: docs/gym.md, "Reinforcement learning".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import architect  # noqa: E402
import architect.envs  # noqa: E402

SETTINGS: dict[str, Any] = {"dates": 50, "window": 0, "proportional_cost": 1e-3, "x0": {"X": 0.05}}
HELD_OUT_SEED = 10_000


def simulator(out: Path) -> Path:
    if not (out / "report.json").is_file():
        print(f"• generating Ornstein-Uhlenbeck into {out}")
        result = architect.generate("Ornstein-Uhlenbeck", out=out)
        if not result.passed:
            raise SystemExit(f"not verified: {result.report['reason']}")
    return out


def evaluate(sim: architect.Simulator, policy: Any, episodes: int) -> dict[str, dict[str, float]]:
    """Mean episode P&L (and its standard error) on held-out episodes: the policy, flat and buy-and-hold."""
    results = {}
    for name in ("policy", "flat", "buy and hold"):
        envs = architect.envs.TradingVectorEnv(episodes, sim, **SETTINGS)
        obs, _ = envs.reset(seed=HELD_OUT_SEED)
        total = np.zeros(episodes)
        for _ in range(SETTINGS["dates"]):
            if name == "policy":
                action = policy(obs)
            else:
                action = np.full((episodes, 1), 0.0 if name == "flat" else 1.0, np.float32)
            obs, reward, _, _, _ = envs.step(action)
            total += reward
        envs.close()
        results[name] = {"mean": float(total.mean()), "se": float(total.std() / np.sqrt(episodes))}
    return results


def train(sim: architect.Simulator, timesteps: int, episodes: int, every: int, say: Any = print) -> dict[str, Any]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    def make(i: int) -> Any:
        return lambda: gymnasium.make("architect/Trading-v0", simulator=sim, env_index=i, **SETTINGS)

    venv = VecNormalize(DummyVecEnv([make(i) for i in range(8)]), gamma=1.0)
    venv.seed(0)
    n_steps = max(8, min(250, timesteps // 8))  # 250 steps per environment per update (fewer in a smoke run)
    model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=2 * n_steps, gamma=1.0, seed=0, verbose=0)

    def act(obs: np.ndarray) -> np.ndarray:
        action, _ = model.predict(venv.normalize_obs(obs), deterministic=True)
        return np.asarray(action, dtype=np.float32)

    curve: list[tuple[int, float, float]] = []

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % every < venv.num_envs:
                scores = evaluate(sim, act, episodes)["policy"]
                curve.append((self.num_timesteps, scores["mean"], scores["se"]))
                say(f"  {self.num_timesteps:7d} steps: held-out mean P&L {scores['mean']:+.4f} ± {scores['se']:.4f}")
            return True

    model.learn(total_timesteps=timesteps, callback=Evaluate())
    final = evaluate(sim, act, episodes)
    if not curve or curve[-1][0] != model.num_timesteps:
        curve.append((model.num_timesteps, final["policy"]["mean"], final["policy"]["se"]))
    return {"held_out": final, "curve": curve}


def plot(curve: list[tuple[int, float, float]], held_out: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, means, ses = (np.array(c) for c in zip(*curve, strict=True))
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(steps, means, marker="o", label="PPO (held-out episodes)")
    axes.fill_between(steps, means - 2 * ses, means + 2 * ses, alpha=0.2)
    axes.axhline(held_out["flat"]["mean"], color="grey", linestyle="--", label="hold nothing")
    axes.axhline(held_out["buy and hold"]["mean"], color="black", linestyle=":", label="buy and hold")
    axes.set_xlabel("training env-steps")
    axes.set_ylabel("mean episode P&L")
    axes.set_title("PPO on architect/Trading-v0 (verified OU)")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(out: Path, timesteps: int, episodes: int, every: int, say: Any = print) -> dict[str, Any]:
    start = time.perf_counter()
    with architect.Simulator(simulator(out)) as sim:
        say(f"• PPO on 8 environments, {timesteps} steps; held-out: {episodes} episodes of seed {HELD_OUT_SEED}")
        results = train(sim, timesteps, episodes, every, say)
    results["seconds"] = time.perf_counter() - start
    results["settings"] = SETTINGS | {"timesteps": timesteps, "held_out_episodes": episodes}
    return results


def table(results: dict[str, Any]) -> str:
    lines = ["| strategy | mean episode P&L (held out) | standard error |", "|---|---:|---:|"]
    for name, label in (("policy", "PPO"), ("flat", "hold nothing"), ("buy and hold", "buy and hold")):
        scores = results["held_out"][name]
        lines.append(f"| {label} | {scores['mean']:+.4f} | {scores['se']:.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("architect-out/ou"), help="the OU output folder")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--episodes", type=int, default=2000, help="held-out episodes")
    parser.add_argument("--every", type=int, default=10_000, help="evaluate every this many steps")
    parser.add_argument("--plot", type=Path, help="write the learning curve (PNG) here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run(args.out, args.timesteps, args.episodes, args.every)
    print(table(results))
    print(f"({results['seconds']:.0f} s)")
    if args.plot:
        plot(results["curve"], results["held_out"], args.plot)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
