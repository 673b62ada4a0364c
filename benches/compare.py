"""Side-by-side speed comparison: architect's generated simulators against what users would otherwise use.

    make bench                      # = .venv/bin/python benches/compare.py
    .venv/bin/python benches/compare.py --quick          # smaller runs, a minute or two
    .venv/bin/python benches/compare.py --repeat 5 --out /tmp/bench

Four models from architect's catalog (OU, GBM, CIR, Heston), each simulated with the Euler-Maruyama
scheme (full truncation for the square-root variables) over the same horizon and time step by:

- architect: the crate `architect.codegen` writes for the model (``scheme="euler"``), built by
  `architect.build` exactly as `architect generate` builds it, run with ``--threads 1`` and ``2``;
- numpy (best): the fastest vectorised numpy code we found (in-place updates over cache-sized chunks of
  paths, the SFC64 generator), and numpy (idiomatic): the vectorised code most people write first
  (whole arrays, `default_rng`, one expression per step);
- QuantLib-Python: its own processes and Monte Carlo path generators (no CIR process in the Python API);
- torchsde: ``sdeint(method="euler")`` on the CPU, float64, one thread;
- pure Python: the "Python prototype" loop, on few paths, extrapolated per path-step.

Every implementation computes the same statistics (mean and variance of each terminal state
component), reported beside the timings so they can be seen to agree. A baseline whose package is
missing is skipped with a note. Each measurement is repeated (round robin, so that changes in the
machine's load spread over all of them) and the median is reported.

"Per core" is path-steps divided by the CPU time the run used (user + system), and also by wall
time times threads: on a shared machine the first is the robust one, on an idle machine they agree.
Ratios use the CPU-time figures of architect on one thread. For the 1 -> 2 thread scaling the
worker threads' time on a CPU and time waiting for one are read from /proc/PID/task/*/schedstat,
so that time other jobs took from the run can be told apart from time the engine lost.

Also measured: `architect generate` end to end on a warm cache, the rebuild time of a generated
crate, peak memory for 10^8 path-steps in three shapes, and exact-transition sampling.
Writes docs/benchmarks.md, docs/benchmarks.json and docs/img/benchmarks.png (with matplotlib).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HORIZON = 1.0
STEPS = 200
MODELS = {"ou": "Ornstein-Uhlenbeck", "gbm": "GBM", "cir": "CIR", "heston": "Heston"}
MODEL_LABEL = {"ou": "OU", "gbm": "GBM", "cir": "CIR", "heston": "Heston"}
IMPLS = ("architect", "numpy", "numpy-plain", "quantlib", "torchsde", "python")
IMPL_LABEL = {
    "architect": "architect",
    "numpy": "numpy (best)",
    "numpy-plain": "numpy (idiomatic)",
    "quantlib": "QuantLib-Python",
    "torchsde": "torchsde (CPU)",
    "python": "pure Python",
}
# Paths per run (at the default scale): each run takes about a second on a 2-core machine.
PATHS = {
    "architect": {"ou": 2_000_000, "gbm": 2_000_000, "cir": 1_000_000, "heston": 500_000},
    "numpy": {"ou": 400_000, "gbm": 400_000, "cir": 200_000, "heston": 100_000},
    "numpy-plain": {"ou": 200_000, "gbm": 200_000, "cir": 100_000, "heston": 50_000},
    "quantlib": {"ou": 20_000, "gbm": 20_000, "cir": 0, "heston": 4_000},
    "torchsde": {"ou": 50_000, "gbm": 50_000, "cir": 50_000, "heston": 20_000},
    "python": {"ou": 4_000, "gbm": 4_000, "cir": 3_000, "heston": 2_000},
}


# ---------------------------------------------------------------------------------------------- workers
# Each baseline runs in its own interpreter (`compare.py --worker IMPL MODEL PATHS SEED`), so that
# torch's threads or QuantLib's caches never touch another measurement. A worker prints one JSON line:
# wall and CPU seconds of the simulation alone (imports and set-up excluded), and the statistics.


def _params(key: str) -> tuple[dict[str, float], list[float]]:
    import architect

    model = architect.parse(MODELS[key])
    return model.parameter_values(), [float(v) for v in model.initial]


def _summary(columns: list[Any]) -> dict[str, list[float]]:
    """Mean and unbiased variance of each terminal component (numpy arrays or lists of floats)."""
    import numpy as np

    means, variances = [], []
    for col in columns:
        a = np.asarray(col, dtype=np.float64)
        means.append(float(a.mean()))
        variances.append(float(a.var(ddof=1)))
    return {"mean": means, "var": variances}


def worker_numpy(key: str, paths: int, seed: int) -> tuple[float, float, dict]:
    import numpy as np

    p, x0 = _params(key)
    h = HORIZON / STEPS
    sq = math.sqrt(h)
    # SFC64 is numpy's fastest bit generator here (about 10% faster than the default PCG64); the
    # normals come from numpy's ziggurat. Chunks of 2^15 paths keep every array in the L2 cache.
    rng = np.random.Generator(np.random.SFC64(seed))
    chunk = 1 << 15
    out = [np.empty(paths) for _ in x0]
    z = np.empty(chunk)
    w = np.empty(chunk)
    t = np.empty(chunk)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, paths, chunk):
        n = min(chunk, paths - start)
        zz, ww, tt = z[:n], w[:n], t[:n]
        if key == "ou":
            # x <- x (1 - kh) + k theta h + sigma sqrt(h) z
            x = np.full(n, x0[0])
            a, b, s = 1 - p["kappa"] * h, p["kappa"] * p["theta"] * h, p["sigma"] * sq
            for _ in range(STEPS):
                rng.standard_normal(out=zz)
                zz *= s
                zz += b
                x *= a
                x += zz
            out[0][start : start + n] = x
        elif key == "gbm":
            # x <- x (1 + mu h + sigma sqrt(h) z)
            x = np.full(n, x0[0])
            a, s = 1 + p["mu"] * h, p["sigma"] * sq
            for _ in range(STEPS):
                rng.standard_normal(out=zz)
                zz *= s
                zz += a
                x *= zz
            out[0][start : start + n] = x
        elif key == "cir":
            # y = max(x, 0); x <- x + k (theta - y) h + sigma sqrt(y) sqrt(h) z
            x = np.full(n, x0[0])
            kh, kth, s = p["kappa"] * h, p["kappa"] * p["theta"] * h, p["sigma"] * sq
            for _ in range(STEPS):
                rng.standard_normal(out=zz)
                np.maximum(x, 0.0, out=tt)
                np.sqrt(tt, out=ww)
                zz *= ww
                zz *= s
                tt *= -kh
                tt += kth
                x += tt
                x += zz
            out[0][start : start + n] = np.maximum(x, 0.0)
        else:  # heston: x log-price, v variance with full truncation, correlated normals
            x = np.full(n, x0[0])
            v = np.full(n, x0[1])
            rho, cr = p["rho"], math.sqrt(1 - p["rho"] ** 2)
            kh, kth, xs = p["kappa"] * h, p["kappa"] * p["theta"] * h, p["xi"] * sq
            for _ in range(STEPS):
                rng.standard_normal(out=zz)
                rng.standard_normal(out=ww)
                ww *= cr
                ww += rho * zz  # allocates one temporary
                np.maximum(v, 0.0, out=tt)
                # x += (mu - v+/2) h + sqrt(v+) sqrt(h) z1
                x += p["mu"] * h
                x -= (0.5 * h) * tt
                v += kth
                v -= kh * tt
                np.sqrt(tt, out=tt)
                zz *= tt
                zz *= sq
                x += zz
                ww *= tt
                ww *= xs
                v += ww
            out[0][start : start + n] = x
            out[1][start : start + n] = np.maximum(v, 0.0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, _summary(out)


def worker_numpy_plain(key: str, paths: int, seed: int) -> tuple[float, float, dict]:
    """The vectorised numpy a user writes first: whole arrays, the default generator, one expression per step."""
    import numpy as np

    p, x0 = _params(key)
    h = HORIZON / STEPS
    sq = math.sqrt(h)
    rng = np.random.default_rng(seed)
    wall, cpu = time.perf_counter(), time.process_time()
    if key == "ou":
        x = np.full(paths, x0[0])
        for _ in range(STEPS):
            x = x + p["kappa"] * (p["theta"] - x) * h + p["sigma"] * sq * rng.standard_normal(paths)
        out = [x]
    elif key == "gbm":
        x = np.full(paths, x0[0])
        for _ in range(STEPS):
            x = x + p["mu"] * x * h + p["sigma"] * x * sq * rng.standard_normal(paths)
        out = [x]
    elif key == "cir":
        x = np.full(paths, x0[0])
        for _ in range(STEPS):
            y = np.maximum(x, 0.0)
            x = x + p["kappa"] * (p["theta"] - y) * h + p["sigma"] * np.sqrt(y) * sq * rng.standard_normal(paths)
        out = [np.maximum(x, 0.0)]
    else:
        x, v = np.full(paths, x0[0]), np.full(paths, x0[1])
        rho, cr = p["rho"], math.sqrt(1 - p["rho"] ** 2)
        for _ in range(STEPS):
            z1, z2 = rng.standard_normal(paths), rng.standard_normal(paths)
            y = np.maximum(v, 0.0)
            sv = np.sqrt(y) * sq
            x = x + (p["mu"] - 0.5 * y) * h + sv * z1
            v = v + p["kappa"] * (p["theta"] - y) * h + p["xi"] * sv * (rho * z1 + cr * z2)
        out = [x, np.maximum(v, 0.0)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, _summary(out)


def worker_python(key: str, paths: int, seed: int) -> tuple[float, float, dict]:
    p, x0 = _params(key)
    h = HORIZON / STEPS
    sq = math.sqrt(h)
    gauss = random.Random(seed).gauss
    cols: list[list[float]] = [[] for _ in x0]
    wall, cpu = time.perf_counter(), time.process_time()
    if key == "ou":
        k, th, s = p["kappa"], p["theta"], p["sigma"]
        for _ in range(paths):
            x = x0[0]
            for _ in range(STEPS):
                x += k * (th - x) * h + s * sq * gauss(0.0, 1.0)
            cols[0].append(x)
    elif key == "gbm":
        mu, s = p["mu"], p["sigma"]
        for _ in range(paths):
            x = x0[0]
            for _ in range(STEPS):
                x += mu * x * h + s * x * sq * gauss(0.0, 1.0)
            cols[0].append(x)
    elif key == "cir":
        k, th, s = p["kappa"], p["theta"], p["sigma"]
        for _ in range(paths):
            x = x0[0]
            for _ in range(STEPS):
                y = x if x > 0.0 else 0.0
                x += k * (th - y) * h + s * math.sqrt(y) * sq * gauss(0.0, 1.0)
            cols[0].append(x if x > 0.0 else 0.0)
    else:
        mu, k, th, xi, rho = p["mu"], p["kappa"], p["theta"], p["xi"], p["rho"]
        cr = math.sqrt(1 - rho * rho)
        for _ in range(paths):
            x, v = x0
            for _ in range(STEPS):
                z1, z2 = gauss(0.0, 1.0), gauss(0.0, 1.0)
                y = v if v > 0.0 else 0.0
                sv = math.sqrt(y) * sq
                x += (mu - 0.5 * y) * h + sv * z1
                v += k * (th - y) * h + xi * sv * (rho * z1 + cr * z2)
            cols[0].append(x)
            cols[1].append(v if v > 0.0 else 0.0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, _summary(cols)


def worker_quantlib(key: str, paths: int, seed: int) -> tuple[float, float, dict]:
    import QuantLib as ql

    p, x0 = _params(key)
    if key == "ou":
        # QuantLib's OU process evolves with its exact Gaussian transition at every step.
        process = ql.OrnsteinUhlenbeckProcess(p["kappa"], p["sigma"], x0[0], p["theta"])
    elif key == "gbm":
        # GeometricBrownianMotionProcess evolves with the Euler discretisation: x + mu x h + sigma x dW.
        process = ql.GeometricBrownianMotionProcess(x0[0], p["mu"], p["sigma"])
    elif key == "heston":
        today = ql.Date(2, 1, 2024)
        ql.Settings.instance().evaluationDate = today
        day_count = ql.Actual365Fixed()
        rate = ql.YieldTermStructureHandle(ql.FlatForward(today, p["mu"], day_count, ql.Continuous))
        dividend = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, day_count, ql.Continuous))
        spot = ql.QuoteHandle(ql.SimpleQuote(math.exp(x0[0])))
        process = ql.HestonProcess(
            rate, dividend, spot, x0[1], p["kappa"], p["theta"], p["xi"], p["rho"], ql.HestonProcess.FullTruncation
        )
    else:
        raise SystemExit("QuantLib-Python has no CIR process")
    dim = 2 if key == "heston" else 1
    uniform = ql.UniformRandomSequenceGenerator(dim * STEPS, ql.UniformRandomGenerator(seed))
    normals = ql.GaussianRandomSequenceGenerator(uniform)
    cols: list[list[float]] = [[] for _ in range(dim)]
    if dim == 1:
        generator = ql.GaussianPathGenerator(process, HORIZON, STEPS, normals, False)
    else:
        times = [HORIZON * i / STEPS for i in range(STEPS + 1)]
        generator = ql.GaussianMultiPathGenerator(process, times, normals, False)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(paths):
        path = generator.next().value()
        if dim == 1:
            cols[0].append(path[STEPS])
        else:
            cols[0].append(math.log(path[0][STEPS]))  # QuantLib reports the price; we compare log-prices
            cols[1].append(path[1][STEPS])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, _summary(cols)


def worker_torchsde(key: str, paths: int, seed: int) -> tuple[float, float, dict]:
    import torch
    import torchsde

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    p, x0 = _params(key)
    dtype = torch.float64

    class Sde(torch.nn.Module):
        sde_type = "ito"
        noise_type = "general" if key == "heston" else "diagonal"

        def f(self, t, y):
            if key == "ou":
                return p["kappa"] * (p["theta"] - y)
            if key == "gbm":
                return p["mu"] * y
            if key == "cir":
                return p["kappa"] * (p["theta"] - y.clamp(min=0.0))
            v = y[:, 1:2].clamp(min=0.0)
            return torch.cat([p["mu"] - 0.5 * v, p["kappa"] * (p["theta"] - v)], dim=1)

        def g(self, t, y):
            if key == "ou":
                return torch.full_like(y, p["sigma"])
            if key == "gbm":
                return p["sigma"] * y
            if key == "cir":
                return p["sigma"] * y.clamp(min=0.0).sqrt()
            sv = y[:, 1].clamp(min=0.0).sqrt()
            g = torch.zeros(y.shape[0], 2, 2, dtype=dtype)
            g[:, 0, 0] = sv
            g[:, 1, 0] = p["xi"] * p["rho"] * sv
            g[:, 1, 1] = p["xi"] * math.sqrt(1 - p["rho"] ** 2) * sv
            return g

    y0 = torch.tensor([x0] * paths, dtype=dtype)
    ts = torch.tensor([0.0, HORIZON], dtype=dtype)
    sde = Sde()
    wall, cpu = time.perf_counter(), time.process_time()
    with torch.no_grad():
        ys = torchsde.sdeint(sde, y0, ts, method="euler", dt=HORIZON / STEPS)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    end = ys[-1]
    if key in ("cir", "heston"):
        end[:, -1] = end[:, -1].clamp(min=0.0)
    return wall, cpu, _summary([end[:, i].numpy() for i in range(end.shape[1])])


WORKERS = {
    "numpy": worker_numpy,
    "numpy-plain": worker_numpy_plain,
    "python": worker_python,
    "quantlib": worker_quantlib,
    "torchsde": worker_torchsde,
}
#: Baselines run on one core: numpy's OpenBLAS (and OpenMP) would otherwise start a thread per core at import,
#: whose start-up spin is charged to the worker's CPU time (a 0.4 s loop measured 0.50 CPU-s after `import numpy`).
ONE_THREAD_ENV = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

PACKAGES = {"numpy": "numpy", "numpy-plain": "numpy", "quantlib": "QuantLib", "torchsde": "torchsde", "python": None}


def run_worker(impl: str, key: str, paths: int, seed: int) -> dict[str, Any]:
    wall, cpu, stats = WORKERS[impl](key, paths, seed)
    return {"wall": wall, "cpu": cpu, "threads": 1, **stats}


# ---------------------------------------------------------------------------------------------- architect


def build_binaries(work: Path) -> dict[str, Path]:
    """Generate and build each model's crate with architect's own pipeline (Euler scheme)."""
    import architect
    from architect import build, codegen

    binaries = {}
    for key, text in MODELS.items():
        crate = work / f"crate-{key}"
        codegen.write_crate(architect.parse(text), crate, scheme="euler")
        binaries[key] = build.build_crate(crate, crate / "bin" / key).binary
    return binaries


def run_binary(binary: Path, paths: int, threads: int, seed: int, steps: int = STEPS, checkpoints: int = 1) -> dict:
    command = [
        str(binary),
        f"--paths={paths}",
        f"--steps={steps}",
        f"--horizon={HORIZON}",
        f"--seed={seed}",
        f"--threads={threads}",
        f"--checkpoints={checkpoints}",
        "--moment-degree=2",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    threads_cpu = watch_threads(proc)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{binary.name} failed: {err.decode()[-500:]}")
    stats = json.loads(out)
    n = stats["checkpoints"][-1]["count"]
    dim = len(stats["state"])
    sums = stats["checkpoints"][-1]["sums"]
    exps = stats["exponents"]
    means, variances = [], []
    for i in range(dim):
        first = next(j for j, e in enumerate(exps) if e[i] == 1 and sum(e) == 1)
        second = next(j for j, e in enumerate(exps) if e[i] == 2 and sum(e) == 2)
        m1, m2 = sums[first] / n, sums[second] / n
        means.append(stats["shift"][i] + m1)
        variances.append((m2 - m1 * m1) * n / (n - 1))
    return {
        "wall": stats["elapsed_seconds"],
        "threads": stats["threads"],
        "busiest_thread_cpu": max((run for run, _ in threads_cpu), default=None),
        "run_queue_wait": max((wait for _, wait in threads_cpu), default=None),
        "mean": means,
        "var": variances,
    }


def watch_threads(proc: subprocess.Popen) -> list[tuple[float, float]]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of each busy thread of ``proc``, from
    /proc/PID/task/*/schedstat polled until it exits (Linux; empty elsewhere). The waiting time is the
    share of the wall clock that other jobs on the machine took from the run."""
    last: dict[str, tuple[float, float]] = {}
    pattern = f"/proc/{proc.pid}/task/*/schedstat"
    while proc.poll() is None:
        for path in Path("/").glob(pattern.lstrip("/")):
            try:
                run, wait, _ = path.read_text().split()
            except (OSError, ValueError):
                continue
            last[str(path)] = (int(run) / 1e9, int(wait) / 1e9)
        time.sleep(0.02)
    busiest = max((run for run, _ in last.values()), default=0.0)
    return [v for v in last.values() if v[0] > 0.2 * busiest]


class ChildCpu:
    """CPU seconds used by children between `start` and `stop` (getrusage of waited-for children)."""

    def start(self) -> None:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.before = u.ru_utime + u.ru_stime

    def stop(self) -> float:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime - self.before


# ---------------------------------------------------------------------------------------------- measurements


@dataclass
class Cell:
    impl: str
    model: str
    threads: int
    paths: int
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    busiest: list[float] = field(default_factory=list)  # on-CPU seconds of the busiest worker thread
    waits: list[float] = field(default_factory=list)  # its seconds waiting for a CPU
    stats: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def path_steps(self) -> int:
        return self.paths * STEPS

    def per_core_cpu(self) -> float:
        return self.path_steps / statistics.median(self.cpus)

    def per_core_wall(self) -> float:
        return self.path_steps / statistics.median(self.walls) / self.threads

    def to_dict(self) -> dict[str, Any]:
        keys = ("impl", "model", "threads", "paths", "walls", "cpus", "busiest", "waits", "stats", "skipped")
        out = {k: getattr(self, k) for k in keys}
        if not self.skipped:
            out["per_core_cpu"] = self.per_core_cpu()
            out["per_core_wall"] = self.per_core_wall()
        return out


def available(impl: str) -> str | None:
    """None when the baseline can run, else why not."""
    package = PACKAGES.get(impl)
    if package is None:
        return None
    probe = subprocess.run([sys.executable, "-c", f"import {package}"], capture_output=True, check=False)
    return None if probe.returncode == 0 else f"{package} is not installed (pip install -e '.[bench]')"


def measure(args: argparse.Namespace, work: Path) -> list[Cell]:
    scale = args.scale
    binaries = build_binaries(work)
    cells: list[Cell] = []
    for key in MODELS:
        for threads in (1, 2):
            paths = int(PATHS["architect"][key] * scale * threads)
            cells.append(Cell("architect", key, threads, paths))
        for impl in IMPLS[1:]:
            paths = max(int(PATHS[impl][key] * scale), 0)
            cell = Cell(impl, key, 1, paths)
            cell.skipped = available(impl) or (
                None if paths else f"{IMPL_LABEL[impl]} has no {MODEL_LABEL[key]} process"
            )
            cells.append(cell)
    cpu = ChildCpu()
    for rep in range(args.repeat):
        for cell in cells:
            if cell.skipped:
                continue
            seed = 1000 + rep
            if cell.impl == "architect":
                cpu.start()
                result = run_binary(binaries[cell.model], cell.paths, cell.threads, seed)
                cpu_s = cpu.stop()
            else:
                command = [sys.executable, __file__, "--worker", cell.impl, cell.model, str(cell.paths), str(seed)]
                done = subprocess.run(command, capture_output=True, text=True, check=False, env=ONE_THREAD_ENV)
                if done.returncode != 0:
                    cell.skipped = f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}"
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                cpu_s = result["cpu"]
            cell.walls.append(result["wall"])
            cell.cpus.append(cpu_s)
            if result.get("busiest_thread_cpu") is not None:
                cell.busiest.append(result["busiest_thread_cpu"])
                cell.waits.append(result["run_queue_wait"])
            cell.stats = {"mean": result["mean"], "var": result["var"]}
            rate = cell.path_steps / cpu_s / 1e6
            print(
                f"  [{rep + 1}/{args.repeat}] {cell.impl:9} {cell.model:6} threads={cell.threads} "
                f"{cell.paths:>9} paths: {rate:9.2f} M path-steps/s per CPU-second",
                flush=True,
            )
    return cells


def measure_exact(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Exact-transition sampling: one draw per observation date, whatever the step count."""
    import architect
    from architect import build, codegen

    rows = []
    cpu = ChildCpu()
    for key in ("ou", "gbm", "cir"):
        crate = work / f"crate-{key}-exact"
        generated = codegen.write_crate(architect.parse(MODELS[key]), crate, scheme="exact")
        binary = build.build_crate(crate, crate / "bin" / key).binary
        paths = int(4_000_000 * args.scale)
        cpus, walls = [], []
        for rep in range(args.repeat):
            cpu.start()
            result = run_binary(binary, paths, 1, 2000 + rep, steps=STEPS, checkpoints=4)
            cpus.append(cpu.stop())
            walls.append(result["wall"])
        transitions = paths * 4
        rows.append(
            {
                "model": key,
                "step": generated.scheme.steps[0],
                "paths": paths,
                "checkpoints": 4,
                "transitions_per_cpu_second": transitions / statistics.median(cpus),
                "transitions_per_wall_second": transitions / statistics.median(walls),
            }
        )
    return rows


def measure_end_to_end(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`architect generate` on a warm cache, and the rebuild time of a generated crate."""
    from architect import api, build

    architect_cli = [sys.executable, "-m", "architect"]
    cpu = ChildCpu()
    fresh, again, rebuild = [], [], []
    for rep in range(args.repeat):
        # A model whose crate has never been built (a new parameter value), then the same model again.
        kappa = f"2.{random.randrange(10**6):06d}"
        out = work / f"generate-{rep}"
        for bucket in (fresh, again):
            cpu.start()
            started = time.perf_counter()
            # The target is for the symbolic generator (the CLI's default, auto, loads the LLM).
            text = f"Ornstein-Uhlenbeck kappa={kappa}"
            subprocess.run(
                [*architect_cli, "generate", text, "--backend", "symbolic", "--out", str(out)],
                capture_output=True,
                check=True,
            )
            bucket.append((time.perf_counter() - started, cpu.stop()))
        # An edit of model.rs (a parameter's default value), then cargo build.
        model_rs = out / "src" / "model.rs"
        model_rs.write_text(model_rs.read_text().replace(f"kappa: {kappa}", f"kappa: {kappa}1"))
        cpu.start()
        started = time.perf_counter()
        build.build_crate(out, out / "bin" / "edited")
        rebuild.append((time.perf_counter() - started, cpu.stop()))

    def med(pairs: list[tuple[float, float]]) -> dict[str, float]:
        return {"wall": statistics.median(p[0] for p in pairs), "cpu": statistics.median(p[1] for p in pairs)}

    defaults = api.Options()
    return {
        "generate_new_model": med(fresh),
        "generate_same_model": med(again),
        "rebuild_after_edit": med(rebuild),
        "paths": defaults.paths,
        "steps": [spec.steps for spec in defaults.runs()],
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "repeat": args.repeat,
    }


def _runs_text(e: dict[str, Any]) -> str:
    """ "3 runs of 100,000 paths, 100, 200 and 400 steps" (older result files lack the fields)."""
    steps = e.get("steps") or [100, 200]
    listed = ", ".join(str(n) for n in steps[:-1]) + f" and {steps[-1]}"
    return f"{len(steps)} runs of {e.get('paths', 100_000):,} paths, {listed} steps"


def measure_memory(binaries: dict[str, Path]) -> list[dict[str, Any]]:
    """Peak resident memory of 10^8 OU path-steps in three shapes (statistics are streamed)."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    rows = []
    for paths, steps in [(10_000, 10_000), (1_000_000, 100), (10_000_000, 10)]:
        command = [str(binaries["ou"]), f"--paths={paths}", f"--steps={steps}", "--threads=2"]
        out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
        rows.append({"paths": paths, "steps": steps, "peak_rss_mib": int(out.stdout) / 1024})
    return rows


# ---------------------------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    lscpu = run(["lscpu"])
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    mem_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        info = dict(line.split("=", 1) for line in release.read_text().splitlines() if "=" in line)
        os_name = f"{info.get('PRETTY_NAME', '').strip(chr(34))} ({platform.release()})"
    versions = {"python": platform.python_version()}
    for package in ("numpy", "QuantLib", "torch", "torchsde"):
        probe = run([sys.executable, "-c", f"import {package} as p; print(p.__version__)"])
        versions[package] = probe.splitlines()[-1] if probe else "not installed"
    return {
        "cpu": fields.get("Model name", "?").strip(),
        "cores": f"{os.cpu_count()} ({fields.get('Thread(s) per core', '?').strip()} thread(s) per core)",
        "memory": f"{mem_kib / 1024**2:.1f} GiB",
        "os": os_name,
        "rustc": run(["rustc", "--version"]),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def fmt_rate(rate: float) -> str:
    m = rate / 1e6
    return f"{m:,.0f}" if m >= 100 else f"{m:,.1f}" if m >= 1 else f"{m:,.3f}"


def report(cells: list[Cell], extra: dict[str, Any], info: dict[str, str], args: argparse.Namespace) -> str:
    by = {(c.impl, c.model, c.threads): c for c in cells}
    lines = [
        "# Benchmarks",
        "",
        f"Measured {info['date']} with `make bench` (`python benches/compare.py --repeat {args.repeat}"
        f"{' --scale ' + str(args.scale) if args.scale != 1 else ''}`): medians of {args.repeat} runs, "
        "all implementations side by side in one run, round robin.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']}",
        f"- memory: {info['memory']}; OS: {info['os']}",
        f"- {info['rustc']}; {info['versions']}",
        f"- load average when the run ended: {info['load']} (other jobs shared the machine)",
        "",
        "## Path-steps per second per core",
        "",
        f"Euler-Maruyama, {STEPS} steps over T = {HORIZON:g}, float64, the models' catalog parameters; full "
        "truncation for the CIR rate and the Heston variance. Millions of path-steps per CPU-second "
        "(wall-clock rate per thread in brackets). Every implementation computes the mean and variance of the "
        "terminal state (table below).",
        "",
        "| model | " + " | ".join(IMPL_LABEL[i] for i in IMPLS) + " |",
        "|---|" + "---:|" * len(IMPLS),
    ]
    for key in MODELS:
        row = [MODEL_LABEL[key]]
        for impl in IMPLS:
            c = by[(impl, key, 1)]
            row.append(
                "—" if c.skipped or not c.cpus else f"{fmt_rate(c.per_core_cpu())} ({fmt_rate(c.per_core_wall())})"
            )
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Ratios (architect on one core ÷ baseline on one core)",
        "",
        "| model | " + " | ".join(IMPL_LABEL[i] for i in IMPLS[1:]) + " |",
        "|---|" + "---:|" * (len(IMPLS) - 1),
    ]
    for key in MODELS:
        ours = by[("architect", key, 1)]
        row = [MODEL_LABEL[key]]
        for impl in IMPLS[1:]:
            c = by[(impl, key, 1)]
            ok = not (c.skipped or not c.cpus or ours.skipped or not ours.cpus)
            row.append(f"{ours.per_core_cpu() / c.per_core_cpu():,.0f}x" if ok else "—")
        lines.append("| " + " | ".join(row) + " |")
    skipped = [c for c in cells if c.skipped and c.threads == 1]
    if skipped:
        lines += [
            "",
            "Not measured: "
            + "; ".join(f"{IMPL_LABEL[c.impl]} {MODEL_LABEL[c.model]}: {c.skipped}" for c in skipped)
            + ".",
        ]
    lines += targets(by, extra)
    lines += [
        "",
        "## architect: 1 → 2 threads",
        "",
        "Twice the paths on two threads. *Wall* is the speed-up the run saw. Other jobs shared this machine, "
        "so a worker thread often waited for a CPU (its run-queue time, from /proc/PID/task/*/schedstat); "
        "*without waiting* divides the work by the busiest worker's time on a CPU instead — the speed-up "
        "on two free cores. *Efficiency* is path-steps per CPU-second with two threads over one.",
        "",
        "| model | 1 thread (M/s, wall) | 2 threads (M/s, wall) | speed-up (wall) | worker waited for a CPU | "
        "speed-up without waiting | efficiency (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in MODELS:
        one, two = by[("architect", key, 1)], by[("architect", key, 2)]
        if one.cpus and two.cpus:
            w1 = one.path_steps / statistics.median(one.walls)
            w2 = two.path_steps / statistics.median(two.walls)
            if one.busiest and two.busiest:
                b1 = one.path_steps / statistics.median(one.busiest)
                b2 = two.path_steps / statistics.median(two.busiest)
                waited = f"{statistics.median(two.waits) / statistics.median(two.walls):.0%} of the run"
                free = f"{b2 / b1:.2f}x"
            else:
                waited = free = "—"
            lines.append(
                f"| {MODEL_LABEL[key]} | {fmt_rate(w1)} | {fmt_rate(w2)} | {w2 / w1:.2f}x | {waited} | {free} | "
                f"{two.per_core_cpu() / one.per_core_cpu():.0%} |"
            )
    lines += [
        "",
        "## The same statistics",
        "",
        "Mean and variance of the terminal state (Heston: log-price x, variance v) from the last run of each; "
        "they agree within Monte Carlo error (which differs with the path counts).",
        "",
        "| model | implementation | paths | mean | variance |",
        "|---|---|---:|---|---|",
    ]
    for key in MODELS:
        for impl in IMPLS:
            c = by[(impl, key, 1)]
            if c.skipped or not c.stats:
                continue
            mean = ", ".join(f"{v:.5g}" for v in c.stats["mean"])
            var = ", ".join(f"{v:.5g}" for v in c.stats["var"])
            lines.append(f"| {MODEL_LABEL[key]} | {IMPL_LABEL[impl]} | {c.paths:,} | {mean} | {var} |")
    if "exact" in extra:
        lines += [
            "",
            "## Exact transitions",
            "",
            "With `--scheme auto` (the default) architect samples OU, GBM and CIR from their exact transition "
            "laws, one draw per observation date, whatever `--steps` says. Four observation dates per path:",
            "",
            "| model | step | transitions per CPU-second | per wall-second |",
            "|---|---|---:|---:|",
        ]
        for row in extra["exact"]:
            lines.append(
                f"| {MODEL_LABEL[row['model']]} | `{row['step']}` | {fmt_rate(row['transitions_per_cpu_second'])} M | "
                f"{fmt_rate(row['transitions_per_wall_second'])} M |"
            )
    if "end_to_end" in extra:
        e = extra["end_to_end"]
        lines += [
            "",
            "## End to end",
            "",
            f'`architect generate "Ornstein-Uhlenbeck kappa=…"` at the default path counts ({_runs_text(e)}) with '
            f"the SDK already compiled in the cache; medians of {e.get('repeat', args.repeat)} runs, load average "
            f"{e.get('load', '?')} after the last:",
            "",
            "| what | wall (s) | CPU (s) |",
            "|---|---:|---:|",
            f"| generate a new one-factor model (codegen, compile the crate, simulate, verify) | "
            f"{e['generate_new_model']['wall']:.2f} | {e['generate_new_model']['cpu']:.2f} |",
            f"| generate the same model again (nothing to compile) | {e['generate_same_model']['wall']:.2f} | "
            f"{e['generate_same_model']['cpu']:.2f} |",
            f"| rebuild the crate after editing model.rs | {e['rebuild_after_edit']['wall']:.2f} | "
            f"{e['rebuild_after_edit']['cpu']:.2f} |",
        ]
    if "memory" in extra:
        lines += [
            "",
            "## Memory",
            "",
            "Peak resident memory of the OU binary for 10⁸ path-steps (2 threads), statistics only:",
            "",
            "| paths | steps | peak RSS (MiB) |",
            "|---:|---:|---:|",
        ]
        for row in extra["memory"]:
            lines.append(f"| {row['paths']:,} | {row['steps']:,} | {row['peak_rss_mib']:.1f} |")
    lines += ["", "![path-steps per second per core](img/benchmarks.png)", ""]
    return "\n".join(lines)


def targets(by: dict[tuple[str, str, int], Cell], extra: dict[str, Any]) -> list[str]:
    """The issue's targets, met or not, from this run's numbers."""

    def rate(impl: str, key: str, threads: int = 1) -> float | None:
        c = by.get((impl, key, threads))
        return None if c is None or c.skipped or not c.cpus else c.per_core_cpu()

    def ratio(impl: str, key: str) -> float | None:
        ours, theirs = rate("architect", key), rate(impl, key)
        return None if ours is None or theirs is None else ours / theirs

    rows: list[tuple[str, str, float | None, bool | None]] = []
    for key, goal in (("ou", 400e6), ("gbm", 400e6), ("heston", 70e6)):
        r = rate("architect", key)
        rows.append((f"{MODEL_LABEL[key]} Euler ≥ {goal / 1e6:.0f} M path-steps/s/core", "M/s", r, r and r >= goal))
    for impl, key, goal in (*(("numpy", key, 10) for key in MODELS), ("quantlib", "heston", 20)):
        r = ratio(impl, key)
        rows.append((f"{MODEL_LABEL[key]}: ≥ {goal}x {IMPL_LABEL[impl]}", "x", r, None if r is None else r >= goal))
    r = min((v for v in (ratio("torchsde", k) for k in MODELS) if v is not None), default=None)
    rows.append(("faster than torchsde (CPU), every model", "x (least)", r, None if r is None else r > 1))
    speedups = []
    for k in MODELS:
        one, two = by.get(("architect", k, 1)), by.get(("architect", k, 2))
        if one and two and one.busiest and two.busiest:
            speedups.append(
                (two.path_steps / statistics.median(two.busiest)) / (one.path_steps / statistics.median(one.busiest))
            )
    r = min(speedups, default=None)
    rows.append(("1 → 2 threads near-linear (speed-up without waiting for a CPU)", "x (least)", r, r and r >= 1.8))
    e = extra.get("end_to_end")
    if e:
        for label, key, goal in (
            ("architect generate, new one-factor model, ≤ 3 s (wall)", "generate_new_model", 3.0),
            ("rebuild of a generated crate ≤ 2 s (wall)", "rebuild_after_edit", 2.0),
        ):
            wall, cpu = e[key]["wall"], e[key]["cpu"]
            rows.append((label, f"s wall ({cpu:.2f} s CPU)", wall, wall <= goal))
    m = extra.get("memory")
    if m:
        peak = max(row["peak_rss_mib"] for row in m)
        rows.append(("10⁸ path-steps without memory growing with paths x steps", "MiB (peak)", peak, peak < 64))
    out = ["", "## The issue's targets in this run", "", "| target | measured | met |", "|---|---:|:---:|"]
    for label, unit, value, met in rows:
        if value is None:
            shown = "—"
        elif unit == "M/s":
            shown = f"{fmt_rate(value)} M/s"
        elif unit.startswith("%"):
            shown = f"{value:.0%}{unit[1:]}"
        elif unit.startswith("x"):
            shown = f"{value:,.1f}{unit}"
        else:
            shown = f"{value:.2f} {unit}"
        out.append(f"| {label} | {shown} | {'—' if met is None else 'yes' if met else '**no**'} |")
    out += [
        "",
        "Wall-clock targets depend on the machine's load; the CPU-time columns above do not. Why the numpy "
        "ratio falls short for CIR and Heston (the square root's cost, weighed by `benches/sqrt_cost.py`), and "
        "what was measured on the way: [performance.md](performance.md).",
    ]
    return out


def plot(cells: list[Cell], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(IMPLS)
    for i, impl in enumerate(IMPLS):
        xs, ys = [], []
        for j, key in enumerate(MODELS):
            c = next(c for c in cells if (c.impl, c.model, c.threads) == (impl, key, 1))
            if c.cpus and not c.skipped:
                xs.append(j + (i - (len(IMPLS) - 1) / 2) * width)
                ys.append(c.per_core_cpu() / 1e6)
        ax.bar(xs, ys, width, label=IMPL_LABEL[impl])
    ax.set_yscale("log")
    ax.set_xticks(range(len(MODELS)), [MODEL_LABEL[k] for k in MODELS])
    ax.set_ylabel("million path-steps / s / core (log)")
    ax.set_title(f"Euler-Maruyama, {STEPS} steps, float64, one core")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every path count (default 1)")
    parser.add_argument("--quick", action="store_true", help="--scale 0.2 --repeat 1, no end-to-end timings")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where benchmarks.md/.json and img/ go")
    parser.add_argument(
        "--from-json", type=Path, metavar="FILE", help="rewrite the report and plot from a saved benchmarks.json"
    )
    parser.add_argument("--worker", nargs=4, metavar=("IMPL", "MODEL", "PATHS", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.from_json:
        return rerender(args)
    if args.worker:
        impl, key, paths, seed = args.worker
        print(json.dumps(run_worker(impl, key, int(paths), int(seed))))
        return 0
    if args.quick:
        args.scale, args.repeat = 0.2, 1
    os.environ.setdefault("ARCHITECT_CACHE", str(ROOT / ".cache" / "architect"))
    work = Path(tempfile.mkdtemp(prefix="architect-bench-"))
    try:
        print(f"building the benchmark crates in {work} ...", flush=True)
        cells = measure(args, work)
        extra: dict[str, Any] = {"exact": measure_exact(args, work)}
        binaries = {key: work / f"crate-{key}" / "bin" / key for key in MODELS}
        extra["memory"] = measure_memory(binaries)
        if not args.quick:
            extra["end_to_end"] = measure_end_to_end(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info = machine()
    info["date"] = dt.date.today().isoformat()
    args.out.mkdir(parents=True, exist_ok=True)
    text = report(cells, extra, info, args)
    (args.out / "benchmarks.md").write_text(text)
    raw = {
        "machine": info,
        "steps": STEPS,
        "horizon": HORIZON,
        "repeat": args.repeat,
        "scale": args.scale,
        "cells": [c.to_dict() for c in cells],
        **extra,
    }
    (args.out / "benchmarks.json").write_text(json.dumps(raw, indent=1))
    if plot(cells, args.out / "img" / "benchmarks.png"):
        print(f"wrote {args.out / 'img' / 'benchmarks.png'}")
    print(f"wrote {args.out / 'benchmarks.md'} and benchmarks.json")
    print(text)
    return 0


def rerender(args: argparse.Namespace) -> int:
    """Report and plot from a saved benchmarks.json (no measurement)."""
    raw = json.loads(args.from_json.read_text())
    cells = []
    for d in raw["cells"]:
        cell = Cell(d["impl"], d["model"], d["threads"], d["paths"], d["walls"], d["cpus"])
        cell.busiest, cell.waits = d.get("busiest", []), d.get("waits", [])
        cell.stats, cell.skipped = d["stats"], d["skipped"]
        cells.append(cell)
    args.repeat, args.scale = raw.get("repeat", args.repeat), raw.get("scale", args.scale)
    extra = {k: raw[k] for k in ("exact", "memory", "end_to_end") if k in raw}
    text = report(cells, extra, raw["machine"], args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks.md").write_text(text)
    plot(cells, args.out / "img" / "benchmarks.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
