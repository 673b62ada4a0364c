"""Issue #17's speed targets for `Simulator.paths`: whole paths into numpy, measured side by side.

    make bench-paths                # = .venv/bin/python benches/paths_speed.py
    .venv/bin/python benches/paths_speed.py --repeat 3 --sizes 1e7,1e8 --no-write

For OU, GBM, CIR and Heston with mean reversion (generated once with the symbolic backend and cached
under the system temp dir), at about 1e7 and 1e8 path-steps (``dates = steps``), each repeat measures in
turn, model after model (so that the shared machine's load spreads over all of them):

1. ``sim.paths(n, steps, dates=steps)``: wall time, from the call to the mapped array, in path-steps/s;
2. the binary's power-sum rate: the same binary run directly (``--paths --steps --stats``, all cores,
   statistics only, no jail), path-steps per second of the engine's own clock (``elapsed_seconds``);
3. the memory-write limit: ``np.empty((n, k + 1, D)); fill(1.0)`` of the same array (fresh pages, as the
   simulator's are);
4. numpy baselines: vectorised Euler(-Maruyama, full truncation for square roots), once writing column by
   column into the ``(n, k + 1)`` array (what most people write) and once time-major ``(k + 1, n)``
   (contiguous rows, faster); QuantLib's path generators (GBM, OU) and stochastic-rs' ``sample_par``
   (all four) where installed, torchsde where installed (on fewer paths; rates are per path-step);
5. a warm small call, ``sim.paths(1000, 10)``: the median of 50 calls.

Medians over the repeats. Targets (issue #17): paths rate >= 0.5 x min(power-sum rate, fill rate); >= 10x
the best numpy baseline; a small call <= 5 ms. The section "Paths into numpy (issue #17)" of
docs/benchmarks.md is replaced (or appended) with the table; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import architect  # noqa: E402

MODELS = {"ou": "Ornstein-Uhlenbeck", "gbm": "GBM", "cir": "CIR", "heston": "Heston with mean reversion"}
LABEL = {"ou": "OU", "gbm": "GBM", "cir": "CIR", "heston": "Heston-MR"}
# path-steps -> (paths, steps); dates = steps.
SIZES = {"toy": (200, 10), "1e5": (1_000, 100), "1e7": (100_000, 100), "1e8": (500_000, 200)}
SECTION = "## Paths into numpy (issue #17)"
DOC = ROOT / "docs" / "benchmarks.md"
# Third-party baselines run on at most this many path-steps (they are far slower; rates are per path-step).
SMALL = {"quantlib": 2_000, "torchsde": 20_000}


def cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "architect-paths-bench"


def simulators(folder: Path | None = None, models: list[str] | None = None) -> dict[str, architect.Simulator]:
    """Generate (or reuse) each model's verified simulator."""
    folder = folder or cache_dir()
    sims = {}
    for key in models or list(MODELS):
        text = MODELS[key]
        out = folder / key
        sim = None
        if (out / "report.json").exists():
            try:
                sim = architect.Simulator(out)
                if not sim.verified:
                    sim = None
                else:
                    sim.paths(1, 1)  # a binary of an older SDK (no --serve) fails here: generate again
            except Exception:  # a stale or half-written cache entry: generate again
                sim = None
        if sim is None:
            result = architect.generate(
                text, out=out, options=architect.Options(paths=2000, steps=8), backend="symbolic"
            )
            if not result.passed:
                raise SystemExit(f"{text}: generation did not pass verification")
            sim = architect.Simulator(out)
        sims[key] = sim
    return sims


def _params(sim: architect.Simulator) -> tuple[dict[str, float], tuple[float, ...]]:
    return {p.name: float(p.value) for p in sim.parameters}, tuple(float(v) for v in sim.model.initial)


# -- the measurements ------------------------------------------------------------------------------------


def time_paths(sim: architect.Simulator, n: int, steps: int) -> float:
    start = time.perf_counter()
    x = sim.paths(n, steps, seed=1, dates=steps)
    wall = time.perf_counter() - start
    assert x.shape == (n, steps + 1, len(sim.state))
    del x
    return wall


def worker_peak_mib(sim: architect.Simulator) -> float | None:
    """The peak resident memory (VmHWM) of the simulator's worker process, in MiB: what a call costs beyond
    the array (the answer's shared memory is written with pwrite, never mapped by the worker)."""
    worker = sim._workers.worker  # the bench looks inside: users have no need for the worker's pid
    if worker is None:
        return None
    root = worker._running.proc.pid
    peak = 0
    for pid in _descendants(root) | {root}:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024 if peak else None


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def time_power_sums(sim: architect.Simulator, n: int, steps: int, work: Path) -> tuple[float, float]:
    """(engine seconds, process wall seconds) of the binary computing its statistics only."""
    stats = work / "stats.json"
    command = [
        str(sim.binary),
        f"--paths={n}",
        f"--steps={steps}",
        f"--checkpoints={steps}",
        "--seed=1",
        "--threads=0",
        f"--stats={stats}",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=work, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return float(json.loads(stats.read_text())["elapsed_seconds"]), wall


def time_fill(n: int, steps: int, dim: int) -> float:
    start = time.perf_counter()
    a = np.empty((n, steps + 1, dim))
    a.fill(1.0)
    wall = time.perf_counter() - start
    del a
    return wall


def _euler(key: str, p: dict[str, float], x0: tuple[float, ...], n: int, steps: int, time_major: bool) -> Any:
    """Vectorised Euler paths of ``key`` with numpy; returns the array (or a tuple for Heston)."""
    rng = np.random.Generator(np.random.SFC64(1))
    h = 1.0 / steps
    sq = math.sqrt(h)
    dim = 2 if key == "heston" else 1
    shape = (steps + 1, n) if time_major else (n, steps + 1)
    out = [np.empty(shape) for _ in range(dim)]
    z = np.empty(n)
    z2 = np.empty(n)
    cur = [np.full(n, x0[i]) for i in range(dim)]

    def put(j: int) -> None:
        for i in range(dim):
            if time_major:
                out[i][j] = cur[i]
            else:
                out[i][:, j] = cur[i]

    put(0)
    for j in range(steps):
        rng.standard_normal(out=z)
        x = cur[0]
        if key == "ou":
            x += p["kappa"] * (p["theta"] - x) * h + p["sigma"] * sq * z
        elif key == "gbm":
            x *= 1.0 + p["mu"] * h + p["sigma"] * sq * z
        elif key == "cir":
            xp = np.maximum(x, 0.0)
            x += p["kappa"] * (p["theta"] - xp) * h + p["sigma"] * np.sqrt(xp * h) * z
        else:
            rng.standard_normal(out=z2)
            v = cur[1]
            vp = np.sqrt(np.maximum(v, 0.0) * h)
            w2 = p["rho"] * z + math.sqrt(1.0 - p["rho"] ** 2) * z2
            x += p["kappa_x"] * (p["theta_x"] - x) * h + vp * z
            v += p["kappa"] * (p["theta"] - np.maximum(v, 0.0)) * h + p["xi"] * vp * w2
        put(j + 1)
    return out


def time_numpy(key: str, sim: architect.Simulator, n: int, steps: int, time_major: bool) -> float:
    p, x0 = _params(sim)
    start = time.perf_counter()
    out = _euler(key, p, x0, n, steps, time_major)
    wall = time.perf_counter() - start
    del out
    return wall


def time_quantlib(key: str, sim: architect.Simulator, n: int, steps: int) -> float | None:
    try:
        import QuantLib as ql
    except ImportError:
        return None
    p, x0 = _params(sim)
    if key == "ou":
        process = ql.OrnsteinUhlenbeckProcess(p["kappa"], p["sigma"], x0[0], p["theta"])
    elif key == "gbm":
        process = ql.GeometricBrownianMotionProcess(x0[0], p["mu"], p["sigma"])
    else:
        return None
    normals = ql.GaussianRandomSequenceGenerator(ql.UniformRandomSequenceGenerator(steps, ql.UniformRandomGenerator(1)))
    generator = ql.GaussianPathGenerator(process, 1.0, steps, normals, False)
    out = np.empty((n, steps + 1))
    start = time.perf_counter()
    for i in range(n):
        path = generator.next().value()
        out[i] = [path[j] for j in range(steps + 1)]
    return time.perf_counter() - start


def time_torchsde(key: str, sim: architect.Simulator, n: int, steps: int) -> float | None:
    try:
        import torch
        import torchsde
    except ImportError:
        return None
    if key not in ("ou", "gbm"):
        return None
    p, x0 = _params(sim)

    class Sde(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, t, y):
            return p["kappa"] * (p["theta"] - y) if key == "ou" else p["mu"] * y

        def g(self, t, y):
            return torch.full_like(y, p["sigma"]) if key == "ou" else p["sigma"] * y

    y0 = torch.full((n, 1), x0[0], dtype=torch.float64)
    ts = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    start = time.perf_counter()
    torchsde.sdeint(Sde(), y0, ts, method="euler", dt=1.0 / steps)
    return time.perf_counter() - start


def time_stochastic_rs(key: str, sim: architect.Simulator, n: int, steps: int) -> float | None:
    try:
        import stochastic_rs as srs
    except ImportError:
        return None
    p, x0 = _params(sim)
    m = steps + 1  # stochastic-rs' n is the number of points of a path
    if key == "ou":
        proc = srs.PyOu(p["kappa"], p["theta"], p["sigma"], m, x0=x0[0], t=1.0)
    elif key == "gbm":
        proc = srs.PyGbm(p["mu"], p["sigma"], m, x0=x0[0], t=1.0)
    elif key == "cir":
        proc = srs.PyCir(p["kappa"], p["theta"], p["sigma"], m, x0=x0[0], t=1.0)
    else:
        # stochastic-rs' Heston has a drift-mu price, not a mean-reverting log-price: the same work per step.
        proc = srs.PyHeston(p["kappa"], p["theta"], p["xi"], p["rho"], 0.0, m, s0=100.0, v0=x0[1], t=1.0)
    start = time.perf_counter()
    out = proc.sample_par(n)
    wall = time.perf_counter() - start
    del out
    return wall


def time_small_calls(sim: architect.Simulator, calls: int = 50) -> float:
    sim.paths(1000, 10)  # warm the page cache and the jail
    walls = []
    for _ in range(calls):
        start = time.perf_counter()
        sim.paths(1000, 10)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


# -- the driver ------------------------------------------------------------------------------------------


def run(
    sizes: list[str],
    repeat: int,
    small_calls: int = 50,
    folder: Path | None = None,
    say: Callable[[str], None] = print,
    models: list[str] | None = None,
) -> dict[str, Any]:
    """Every measurement, as medians of path-steps per second (and the small call's seconds)."""
    sims = simulators(folder, models)
    samples: dict[tuple[str, str, str], list[float]] = {}
    memory: dict[tuple[str, str], float] = {}

    def add(size: str, key: str, what: str, path_steps: int, seconds: float | None) -> None:
        if seconds is not None and seconds > 0:
            samples.setdefault((size, key, what), []).append(path_steps / seconds)

    with tempfile.TemporaryDirectory(prefix="architect-paths-bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            n, steps = SIZES[size]
            ps = n * steps
            for rep in range(repeat):
                for key, sim in sims.items():
                    dim = len(sim.state)
                    add(size, key, "paths", ps, time_paths(sim, n, steps))
                    peak = worker_peak_mib(sim)
                    if peak is not None:
                        memory[(size, key)] = max(memory.get((size, key), 0.0), peak)
                    engine, wall = time_power_sums(sim, n, steps, work)
                    add(size, key, "power-sums", ps, engine)
                    add(size, key, "power-sums (process)", ps, wall)
                    add(size, key, "fill", ps, time_fill(n, steps, dim))
                    add(size, key, "numpy (n, k+1)", ps, time_numpy(key, sim, n, steps, time_major=False))
                    add(size, key, "numpy (k+1, n)", ps, time_numpy(key, sim, n, steps, time_major=True))
                    add(size, key, "stochastic-rs", ps, time_stochastic_rs(key, sim, n, steps))
                    if rep == 0:  # the slow ones once, on few paths
                        qn = max(1, min(n, SMALL["quantlib"]))
                        add(size, key, "QuantLib", qn * steps, time_quantlib(key, sim, qn, steps))
                        tn = max(1, min(n, SMALL["torchsde"]))
                        add(size, key, "torchsde", tn * steps, time_torchsde(key, sim, tn, steps))
                    say(f"  {size} {LABEL[key]} repeat {rep + 1}/{repeat} done")
        small = {key: time_small_calls(sim, small_calls) for key, sim in sims.items()}
        for sim in sims.values():
            sim.close()
    rates = {f"{s}|{k}|{w}": statistics.median(v) for (s, k, w), v in samples.items()}
    return {
        "rates": rates,
        "small_call_seconds": small,
        "worker_peak_mib": {f"{s}|{k}": v for (s, k), v in memory.items()},
        "small_calls": small_calls,
        "sizes": sizes,
        "repeat": repeat,
        "models": list(sims),
    }


def machine() -> str:
    name = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                name = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{name}, {os.cpu_count()} cores"


BASELINES = ("numpy (n, k+1)", "numpy (k+1, n)", "QuantLib", "torchsde")


def table(results: dict[str, Any]) -> tuple[str, list[str]]:
    r = results["rates"]
    head = (
        "| size | model | paths (M/s) | power sums (M/s) | fill (M/s) | paths / min(sums, fill) | best numpy-side "
        "baseline (M/s) | paths / baseline | stochastic-rs (M/s) | paths / stochastic-rs |\n"
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"
    )
    rows, verdicts = [head], []
    for size in results["sizes"]:
        n, steps = SIZES[size]
        for key in results.get("models", list(MODELS)):

            def g(what: str, size: str = size, key: str = key) -> float | None:
                return r.get(f"{size}|{key}|{what}")

            paths, sums, fill = g("paths"), g("power-sums"), g("fill")
            bound = min(sums, fill)
            base = max(((g(b), b) for b in BASELINES if g(b)), default=(None, "none"))
            srs = g("stochastic-rs")
            ratio_bound = paths / bound
            ratio_base = paths / base[0] if base[0] else float("nan")
            ratio_srs = f"{paths / srs:.2f}" if srs else "n/a"
            rows.append(
                f"| {n:,} x {steps} | {LABEL[key]} | {paths / 1e6:.1f} | {sums / 1e6:.1f} | {fill / 1e6:.1f} | "
                f"{ratio_bound:.2f} | {base[1]}: {base[0] / 1e6:.1f} | {ratio_base:.1f}x | "
                f"{(srs or 0) / 1e6:.1f} | {ratio_srs} |"
            )
            verdicts.append(
                f"{size} {LABEL[key]}: bound ratio {ratio_bound:.2f} "
                f"({'met' if ratio_bound >= 0.5 else 'NOT met'}, target ≥ 0.5); "
                f"vs numpy {ratio_base:.1f}x ({'met' if ratio_base >= 10 else 'NOT met'}, target ≥ 10x)"
            )
    peaks = results.get("worker_peak_mib", {})
    if peaks:
        rows.append("")
        rows.append("| size | model | array (MiB) | worker's peak resident memory (MiB) |")
        rows.append("|---|---|---:|---:|")
        for size in results["sizes"]:
            n, steps = SIZES[size]
            for key in results.get("models", list(MODELS)):
                peak = peaks.get(f"{size}|{key}")
                if peak is not None:
                    dim = 2 if key == "heston" else 1
                    rows.append(
                        f"| {n:,} x {steps} | {LABEL[key]} | {n * (steps + 1) * dim * 8 / 2**20:.0f} | {peak:.0f} |"
                    )
    small = results["small_call_seconds"]
    rows.append("")
    rows.append(f"| model | warm `sim.paths(1000, 10)`, median of {results.get('small_calls', 50)} calls (ms) |")
    rows.append("|---|---:|")
    for key, sec in small.items():
        rows.append(f"| {LABEL[key]} | {sec * 1e3:.1f} |")
        verdicts.append(
            f"small call {LABEL[key]}: {sec * 1e3:.1f} ms ({'met' if sec <= 0.005 else 'NOT met'}, target ≤ 5 ms)"
        )
    return "\n".join(rows), verdicts


def section(results: dict[str, Any]) -> str:
    text, verdicts = table(results)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(
        [
            SECTION,
            "",
            f"`make bench-paths` (`benches/paths_speed.py`), {dt.date.today().isoformat()}, on {machine()} "
            f"(shared; load average {load} after the run). Rates are path-steps per second "
            f"(`dates = steps`), medians of {results['repeat']} repeats measured side by side, model after "
            "model. *paths*: `sim.paths(n, steps, dates=steps)` wall time, from the call to the mapped "
            "`(n, k+1, D)` array (the persistent worker: its start-up is paid once per simulator, and again "
            "when a larger answer needs a worker with a larger file-size limit). *power sums*: the same binary "
            "run directly, statistics only, the engine's own clock. *fill*: `np.empty((n, k+1, D)).fill(1.0)`, "
            "fresh pages. "
            "Baselines: vectorised numpy Euler writing column by column into `(n, k+1)` or row by row into "
            "`(k+1, n)` (SFC64 normals), QuantLib's `GaussianPathGenerator` (OU, GBM; 2,000 paths) and "
            "torchsde (when installed); stochastic-rs is `sample_par(n)` (Rust, rayon). OU, GBM and CIR use "
            "architect's exact transition laws (the `auto` scheme), Heston-MR Euler with full truncation.",
            "",
            text,
            "",
            "Targets (issue #17):",
            "",
            *[f"- {v}" for v in verdicts],
            "",
        ]
    )


def write_doc(text: str, doc: Path = DOC) -> None:
    old = doc.read_text() if doc.exists() else ""
    if SECTION in old:
        before, rest = old.split(SECTION, 1)
        after = rest.split("\n## ", 1)
        tail = "\n## " + after[1] if len(after) == 2 else ""
        new = before + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    doc.write_text(new)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1e7,1e8", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--small-calls", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--from-json", type=Path, help="render the results a previous run saved, measure nothing")
    args = parser.parse_args(argv)
    json_out = Path(tempfile.gettempdir()) / "architect-paths-bench.json"
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        print(f"machine: {machine()}")
        results = run(args.sizes.split(","), args.repeat, args.small_calls)
        json_out.write_text(json.dumps(results, indent=1))
    text = section(results)
    print(text)
    if not args.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
