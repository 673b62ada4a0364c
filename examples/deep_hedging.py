"""Deep hedging under Heston with proportional costs: a small torch policy against Black-Scholes delta hedging.

    .venv/bin/python examples/deep_hedging.py                 # generates architect-out/heston if needed
    .venv/bin/python examples/deep_hedging.py --out DIR --paths 20000 --iterations 200

A short at-the-money call (30 days, hedged daily) on a verified Heston simulator, 20 bp proportional costs. The
policy (Buehler et al. 2019) sees the time to go, the log-moneyness and the hedge it holds, and outputs the new
hedge; it is trained on one seed's paths to minimise the 95% expected shortfall of the hedging loss, through
`architect.envs.HedgingBatch`'s differentiable P&L, and compared on another seed's paths with the
Black-Scholes delta at the simulator's realised volatility. Results: docs/gym.md, "Deep hedging".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import architect  # noqa: E402
from architect.envs import HedgingBatch, expected_shortfall  # noqa: E402
from architect.envs.batch import summary  # noqa: E402

SETTINGS: dict[str, Any] = {"dates": 30, "steps": 120, "maturity": 30 / 365, "proportional_cost": 0.002}


class Policy(torch.nn.Module):
    """(time to go, log-moneyness, hedge held) -> new hedge; a residual on the Black-Scholes-like start 0.5."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, width), torch.nn.Tanh(), torch.nn.Linear(width, width), torch.nn.Tanh()
        )
        self.out = torch.nn.Linear(width, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Hedges (n, k) from features (n, k, 2), date by date (the hedge held is an input)."""
        held = torch.zeros(features.shape[0], 1, dtype=features.dtype)
        hedges = []
        for t in range(features.shape[1]):
            x = torch.cat([features[:, t, :] * torch.tensor([10.0, 10.0], dtype=features.dtype), held], dim=1)
            held = torch.sigmoid(self.out(self.net(x)))  # a call's hedge lies in [0, 1]
            hedges.append(held)
        return torch.cat(hedges, dim=1)


def simulator(out: Path) -> Path:
    if not (out / "report.json").is_file():
        print(f"• generating Heston into {out}")
        result = architect.generate("Heston", out=out)
        if not result.passed:
            raise SystemExit(f"not verified: {result.report['reason']}")
    return out


def train(batch: HedgingBatch, paths: int, iterations: int, minibatch: int, say: Any = print) -> Policy:
    torch.manual_seed(0)
    data = batch.sample(paths, seed=0).torch()
    policy = Policy().double()
    optimiser = torch.optim.Adam(policy.parameters(), lr=5e-3)
    for step in range(iterations):
        rows = torch.randint(0, paths, (min(minibatch, paths),))
        part = type(data)(
            **{k: getattr(data, k)[rows] for k in ("prices", "features", "bs_delta", "premium", "payoff", "strike")}
        )
        loss = expected_shortfall(batch.pnl(policy(part.features), part), 0.95)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % max(1, iterations // 10) == 0:
            say(f"  iteration {step:4d}: 95% expected shortfall {loss.item():.4f}")
    return policy


def run(out: Path, paths: int, test_paths: int, iterations: int, minibatch: int, say: Any = print) -> dict[str, Any]:
    start = time.perf_counter()
    with HedgingBatch(simulator(out), **SETTINGS) as batch:
        say(f"• reference volatility (realised, pilot run): {batch.option.vol:.4f}")
        say(f"• training on {paths} paths (seed 0), {iterations} iterations")
        policy = train(batch, paths, iterations, minibatch, say)
        test = batch.sample(test_paths, seed=1)
        delta = summary(batch.pnl(test.bs_delta, test))
        with torch.no_grad():
            hedges = policy(test.torch().features).numpy()
        learned = summary(batch.pnl(hedges, test))
        unhedged = summary(batch.pnl(np.zeros_like(hedges), test))
    return {
        "settings": SETTINGS | {"paths": paths, "test_paths": test_paths, "iterations": iterations},
        "reference_vol": float(batch.option.vol) if not isinstance(batch.option.vol, str) else batch.option.vol,
        "black_scholes_delta": delta,
        "deep_hedge": learned,
        "no_hedge": unhedged,
        "seconds": time.perf_counter() - start,
    }


def table(results: dict[str, Any]) -> str:
    lines = ["| strategy | mean P&L | std | 95% expected shortfall |", "|---|---:|---:|---:|"]
    for key, label in (
        ("no_hedge", "no hedge"),
        ("black_scholes_delta", "Black-Scholes delta"),
        ("deep_hedge", "deep hedge"),
    ):
        s = results[key]
        lines.append(f"| {label} | {s['mean']:.4f} | {s['std']:.4f} | {s['es95']:.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("architect-out/heston"), help="the Heston output folder")
    parser.add_argument("--paths", type=int, default=20_000, help="training paths (seed 0)")
    parser.add_argument("--test-paths", type=int, default=50_000, help="held-out paths (seed 1)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--minibatch", type=int, default=4096)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run(args.out, args.paths, args.test_paths, args.iterations, args.minibatch)
    print(table(results))
    print(f"({results['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
