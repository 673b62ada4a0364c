"""Price an Asian and a barrier call under Heston from a generated simulator's paths, and compare with QuantLib.

    python docs/examples/heston_exotics.py [--out architect-out/heston] [--paths 200000] [--seed 1]

Generates (or reuses, when it holds a verified simulator) the plain Heston model, x = log S:

    dx = (mu - v/2) dt + sqrt(v) dW1,   dv = kappa (theta - v) dt + xi sqrt(v) dW2,   dW1 dW2 = rho dt

at its defaults (S0 = 100, v0 = theta = 0.04, kappa = 2, xi = 0.3, rho = -0.7, mu = 0.05), read risk-neutrally:
the rate is r = mu, no dividends. One year of 360 daily dates (QuantLib's Actual/360, so that its dates are
exactly the simulator's times), strike 100, all calls:

- a European call (sanity line: QuantLib's AnalyticHestonEngine is exact);
- Asian calls on 12 monthly fixings (days 30, 60, ..., 360): the geometric average against QuantLib's analytic
  discrete geometric Heston engine, the arithmetic one against its Monte Carlo engine with that control variate;
- an up-and-out call, barrier 130, monitored at the 360 daily closes. QuantLib's FdHestonBarrierEngine prices
  continuous monitoring; discrete monitoring is compared with it through the Broadie-Glasserman-Kou shift
  (barrier B exp(0.5826 sigma sqrt(dt)), sigma = sqrt(v0)), and the unshifted price is shown for scale.

Each Monte Carlo price carries its standard error; docs/gym.md ("Paths: pricing from the paths") has the table.
Needs QuantLib (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import architect

#: The Broadie-Glasserman-Kou constant: -zeta(1/2) / sqrt(2 pi).
BGK_BETA = 0.5825971579390107


@dataclass(frozen=True)
class Contract:
    """The options priced: one year of ``days`` daily dates; Asian fixings every ``days // fixings`` days."""

    strike: float = 100.0
    barrier: float = 130.0
    days: int = 360
    fixings: int = 12

    @property
    def fixing_dates(self) -> list[int]:
        step = self.days // self.fixings
        return [step * j for j in range(1, self.fixings + 1)]


@dataclass(frozen=True)
class Market:
    """The Heston parameters of the simulator's model, read risk-neutrally (rate = mu)."""

    s0: float
    v0: float
    rate: float
    kappa: float
    theta: float
    xi: float
    rho: float

    @classmethod
    def of(cls, model: architect.SdeModel) -> Market:
        p = model.parameter_values()
        x0, v0 = model.initial
        return cls(math.exp(x0), v0, p["mu"], p["kappa"], p["theta"], p["xi"], p["rho"])


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo price and its standard error."""

    price: float
    std_error: float


# ------------------------------------------------------------------------------------- the simulator
def heston_simulator(out: Path, verify_paths: int = 200_000) -> architect.Simulator:
    """The simulator in ``out``: reused when it is verified, otherwise generated (and verified) there."""
    if (out / "model.json").is_file():
        sim = architect.Simulator(out)
        if sim.verified and sim.model.name == "Heston":
            return sim
        sim.close()
    result = architect.generate("Heston", out=out, options=architect.Options(paths=verify_paths))
    if not result.passed:
        raise SystemExit(f"the generated simulator did not verify: {result.report['reason']}")
    return result.simulator()


# ------------------------------------------------------------------------------- prices from paths
def payoffs(x: np.ndarray, contract: Contract) -> dict[str, np.ndarray]:
    """Undiscounted payoffs of a block of paths ``x`` (paths, days + 1, 2): column 0 is log S at each day."""
    spot = np.exp(x[:, :, 0])
    fixings = spot[:, contract.fixing_dates]
    terminal = spot[:, -1]
    call = np.maximum(terminal - contract.strike, 0.0)
    daily = np.where(spot[:, 1:].max(axis=1) < contract.barrier, call, 0.0)  # out at a close at or above it
    every_other_day = np.where(spot[:, 2::2].max(axis=1) < contract.barrier, call, 0.0)
    return {
        "european": call,
        "asian_geometric": np.maximum(np.exp(np.log(fixings).mean(axis=1)) - contract.strike, 0.0),
        "asian_arithmetic": np.maximum(fixings.mean(axis=1) - contract.strike, 0.0),
        "up_and_out": daily,
        # Monitoring every dt misses crossings between the dates: the price is C + a sqrt(dt) + o(sqrt(dt))
        # (Broadie, Glasserman and Kou 1997). Daily and every-other-day monitoring of the same paths give a and
        # C, path by path, so the extrapolated continuous price has a standard error like any other payoff.
        "up_and_out_continuous": daily - (every_other_day - daily) / (math.sqrt(2) - 1),
    }


def monte_carlo(blocks: Iterable[np.ndarray], contract: Contract, discount: float) -> dict[str, Estimate]:
    """Discounted prices and standard errors over every path of ``blocks`` (sums, so blocks are never kept)."""
    sums: dict[str, list[float]] = {}
    n = 0
    for block in blocks:
        n += len(block)
        for name, values in payoffs(block, contract).items():
            total = sums.setdefault(name, [0.0, 0.0])
            total[0] += float(values.sum())
            total[1] += float(np.square(values).sum())
    out = {}
    for name, (first, second) in sums.items():
        mean = first / n
        variance = max(second / n - mean * mean, 0.0) * n / (n - 1)
        out[name] = Estimate(discount * mean, discount * math.sqrt(variance / n))
    return out


def price_from_paths(
    sim: architect.Simulator, contract: Contract, market: Market, paths: int, seed: int = 1, chunk: int = 10_000
) -> dict[str, Estimate]:
    """Every payoff of `payoffs` priced from ``paths`` simulated paths, streamed in blocks of ``chunk``."""
    blocks = sim.stream(paths, steps=contract.days, dates=contract.days, seed=seed, chunk=chunk)
    return monte_carlo(blocks, contract, math.exp(-market.rate))


# ---------------------------------------------------------------------------------------- QuantLib
def quantlib_prices(contract: Contract, market: Market, fine: bool = True) -> dict[str, Estimate]:
    """QuantLib's prices of the same contracts, each with its own error: the Monte Carlo engine's standard
    error, and for the finite-difference barrier prices the change from a grid half as fine (``fine``: the
    400 x 800 x 200 grid, about 10 s a price; otherwise a coarse one, for tests)."""
    import QuantLib as ql  # type: ignore[import-untyped]

    today = ql.Date(2, 1, 2025)
    ql.Settings.instance().evaluationDate = today
    counter = ql.Actual360()  # day d is exactly t = d / 360: the simulator's dates

    def curve(rate: float) -> Any:
        return ql.YieldTermStructureHandle(ql.FlatForward(today, rate, counter))

    m = market
    process = ql.HestonProcess(
        curve(m.rate), curve(0.0), ql.QuoteHandle(ql.SimpleQuote(m.s0)), m.v0, m.kappa, m.theta, m.xi, m.rho
    )
    model = ql.HestonModel(process)
    exercise = ql.EuropeanExercise(today + contract.days)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call, contract.strike)
    fixings = [today + d for d in contract.fixing_dates]

    def priced(option: Any, engine: Any) -> float:
        option.setPricingEngine(engine)
        return float(option.NPV())

    def exact(option: Any, engine: Any) -> Estimate:
        return Estimate(priced(option, engine), 0.0)

    def asian(kind: Any, accumulator: float) -> Any:
        return ql.DiscreteAveragingAsianOption(kind, accumulator, 0, fixings, payoff, exercise)

    def up_and_out(barrier: float) -> Estimate:
        option = ql.BarrierOption(ql.Barrier.UpOut, barrier, 0.0, payoff, exercise)
        grid = (400, 800, 200) if fine else (40, 80, 20)  # time, log-price and variance points
        price = priced(option, ql.FdHestonBarrierEngine(model, *grid))
        coarser = priced(option, ql.FdHestonBarrierEngine(model, *(n // 2 for n in grid)))
        return Estimate(price, abs(price - coarser))

    def arithmetic() -> Estimate:
        option = asian(ql.Average.Arithmetic, 0.0)
        price = priced(option, arithmetic_engine)
        return Estimate(price, float(option.errorEstimate()))

    arithmetic_engine = ql.MCDiscreteArithmeticAPHestonEngine(
        process, "pseudorandom", requiredSamples=20_000 if fine else 500, seed=42, timeStepsPerYear=360,
        controlVariate=True,
    )  # fmt: skip
    shift = math.exp(BGK_BETA * math.sqrt(m.v0) * math.sqrt(1 / contract.days))
    return {
        "european": exact(ql.VanillaOption(payoff, exercise), ql.AnalyticHestonEngine(model)),
        "asian_geometric": exact(
            asian(ql.Average.Geometric, 1.0), ql.AnalyticDiscreteGeometricAveragePriceAsianHestonEngine(process)
        ),
        "asian_arithmetic": arithmetic(),
        "up_and_out": up_and_out(contract.barrier * shift),
        "up_and_out_continuous": up_and_out(contract.barrier),
    }


# ------------------------------------------------------------------------------------------ report
ROWS: tuple[tuple[str, str, str], ...] = (
    ("european", "European call", "AnalyticHestonEngine (exact)"),
    ("asian_geometric", "Asian call, geometric, 12 fixings", "AnalyticDiscreteGeometricAveragePriceAsianHestonEngine"),
    ("asian_arithmetic", "Asian call, arithmetic, 12 fixings", "MCDiscreteArithmeticAPHestonEngine (control variate)"),
    ("up_and_out", "Up-and-out call, B = 130, daily", "FdHestonBarrierEngine, BGK-shifted barrier"),
    (
        "up_and_out_continuous",
        "Up-and-out call, B = 130, continuous (√dt-extrapolated)",
        "FdHestonBarrierEngine",
    ),
)


def table(mc: dict[str, Estimate], ql_prices: dict[str, Estimate]) -> str:
    """A markdown table: each contract, its price from the paths ± SE, QuantLib's ± its own error, and the gap
    in units of both errors together."""
    lines = [
        "| contract | from the paths (± SE) | QuantLib (± its error) | QuantLib engine | gap / error |",
        "|---|---|---|---|---|",
    ]
    for key, label, engine in ROWS:
        ours, theirs = mc[key], ql_prices[key]
        gap = (ours.price - theirs.price) / math.hypot(ours.std_error, theirs.std_error)
        reference = f"{theirs.price:.4f}" + (f" ± {theirs.std_error:.4f}" if theirs.std_error else "")
        lines.append(f"| {label} | {ours.price:.4f} ± {ours.std_error:.4f} | {reference} | {engine} | {gap:+.1f} |")
    return "\n".join(lines)


def timed(what: str, call: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = call()
    print(f"{what}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("architect-out/heston"), help="the simulator's folder")
    parser.add_argument("--paths", type=int, default=200_000, help="Monte Carlo paths (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    contract = Contract()
    with timed("simulator", lambda: heston_simulator(args.out)) as sim:
        market = Market.of(sim.model)
        mc = timed("paths and payoffs", lambda: price_from_paths(sim, contract, market, args.paths, args.seed))
    ql_prices = timed("QuantLib", lambda: quantlib_prices(contract, market))
    print(table(mc, ql_prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
