"""How large is the effect of the 'r floored at 0.02' mutant on what the verifier tests, and how many paths
would detect it? The one survivor of `verifier_power.py` at CIR's default parameters; this measures why.

    .venv/bin/python benches/cir_floor_effect.py [--model CIR] [--paths 400000] [--verify-paths 200000]

The correct and the floored CIR are simulated with common random numbers (the same normals, full-truncation
Euler at 400 steps), so the difference of each tested quantity is measured far more precisely than either
value: the floor (max(r, 0.02) wherever drift and diffusion read r) only acts below 0.02, and the two paths
agree until they go there. The bench then verifies the floored crate at
``--verify-paths`` and sets each check's effect beside the smallest error it detects with probability 0.99; a
check with detectable error d and effect e needs about (d / e)² times the paths.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import mutants

import architect
from architect.codegen import write_crate

FLOOR = 0.02
STEPS = 400
BATCHES = 8


def simulate(kappa: float, theta: float, sigma: float, r0: float, paths: int, seed: int) -> dict[float, np.ndarray]:
    """Terminal-and-checkpoint states (t = 0.25, 0.5, 0.75, 1) of the correct and floored CIR, same normals."""
    rng = np.random.default_rng(seed)
    h = 1.0 / STEPS
    r, f = np.full(paths, r0), np.full(paths, r0)
    out: dict[float, np.ndarray] = {}
    for k in range(1, STEPS + 1):
        dw = rng.standard_normal(paths) * np.sqrt(h)
        r_pos = np.maximum(r, 0.0)
        r = r + kappa * (theta - r_pos) * h + sigma * np.sqrt(r_pos) * dw
        f_floor = np.maximum(f, FLOOR)
        f = f + kappa * (theta - f_floor) * h + sigma * np.sqrt(f_floor) * dw
        if k % (STEPS // 4) == 0:
            out[k / STEPS] = np.stack([np.maximum(r, 0.0), np.maximum(f, 0.0)])
    return out


def quantities(x: np.ndarray) -> dict[str, float]:
    m = x.mean()
    return {
        "mean": m,
        "variance": x.var(),
        "third central moment": np.mean((x - m) ** 3),
        "fourth central moment": np.mean((x - m) ** 4),
    }


def effects(states: dict[float, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Relative effect of the floor on each quantity (per checkpoint), with a batch standard error."""
    out: dict[str, tuple[float, float]] = {}
    for t, pair in states.items():
        batches = [np.array_split(pair[j], BATCHES) for j in (0, 1)]
        for name in quantities(pair[0]):
            rel = [
                (quantities(b)[name] - quantities(a)[name]) / abs(quantities(a)[name])
                for a, b in zip(*batches, strict=True)
            ]
            out[f"{name} of r at t={t:g}"] = (float(np.mean(rel)), float(np.std(rel, ddof=1) / np.sqrt(BATCHES)))
        edges = np.quantile(pair[0], np.linspace(0.0, 1.0, 2001))
        cdf = [np.searchsorted(np.sort(pair[j]), edges, side="right") / pair.shape[1] for j in (0, 1)]
        out[f"law of r at t={t:g} (sup CDF difference)"] = (float(np.max(np.abs(cdf[1] - cdf[0]))), 0.0)
    return out


def verify_mutant(text: str, paths: int) -> list[dict]:
    original = architect.parse(text)
    mutant = next(m for m in mutants(original) if "floored" in m.description)
    with tempfile.TemporaryDirectory(prefix="architect-floor-") as tmp:
        write_crate(mutant.model, Path(tmp) / "crate")
        # statistical_only: the floored crate is not the model, and the proof would refuse it before any statistics.
        options = architect.Options(paths=paths, seed=1, statistical_only=True)
        result = architect.verify(Path(tmp) / "crate", model=original, options=options)
    print(f"verification of the floored crate at {paths} paths: {result.report['reason']}")
    return [c for c in result.report["checks"] if c["kind"] != "sanity"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="CIR")
    parser.add_argument("--paths", type=int, default=400_000)
    parser.add_argument("--verify-paths", type=int, default=architect.Options().paths)
    args = parser.parse_args()
    model = architect.parse(args.model)
    values = {p.name: p.value for p in model.parameters}
    states = simulate(values["kappa"], values["theta"], values["sigma"], model.initial[0], args.paths, seed=7)
    below = float(np.mean(states[1.0][0] < FLOOR))
    print(f"{args.model}: P(r_1 < {FLOOR}) = {below:.4f}")
    measured = effects(states)
    checks = verify_mutant(args.model, args.verify_paths)
    print("| check | effect of the floor (relative) | detectable at these paths | paths needed |")
    print("|---|---|---|---|")
    for c in checks:
        key = next((k for k in measured if k.split(" (")[0] == c["name"].split(":")[0]), None)
        if key is None or c["detectable_rel_error"] is None:
            continue
        effect, se = measured[key]
        need = args.verify_paths * (c["detectable_rel_error"] / abs(effect)) ** 2 if effect else float("inf")
        print(f"| {c['name']} | {effect:.2e} ± {se:.1e} | {c['detectable_rel_error']:.2e} | {need:.2g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
