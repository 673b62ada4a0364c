"""How large is the three-run extrapolation's O(h²) residue next to the verifier's noise?

Runs one built binary of a model with exact moments at several step counts with many paths, and prints,
per moment quantity and checkpoint, the weak error q(h) - q at each step count and, for each candidate design
(N, 2N, 4N steps), the residue of the extrapolation (-q_N + q_2N + 2 q_4N)/2 divided by the standard error that
the verifier would have at ``--at-paths`` paths per run. Each step count is one independent run of ``--paths``
paths, so a residue is measured with a standard error sqrt(at_paths / paths) of the verifier's.

With ``--triples R`` it instead estimates the family-wise false-reject rate of the moment checks at ``--paths``
paths: R independent runs at each of N, 2N, 4N steps, and every one of the R³ triples verified as the verifier
does (extrapolated z-tests, Holm: some check fails iff the smallest p <= alpha / m). The triples share runs, so
the estimate is unbiased but noisier than R³ independent verifications would give.

    .venv/bin/python benches/step_bias.py BINARY "Heston with mean reversion" --steps 100 200 400 800 1600
    .venv/bin/python benches/step_bias.py BINARY "Heston with mean reversion" --steps 100 200 400 \
        --paths 200000 --triples 150 --checks 41
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import norm

import architect
from architect.verifier.plan import make_plan
from architect.verifier.quantities import exact_targets, extrapolate, quantities
from architect.verifier.sample import StatsSample, parse_stats


def simulate(binary: Path, paths: int, steps: int, seed: int, threads: int) -> StatsSample:
    with tempfile.TemporaryDirectory(prefix="architect-bias-") as tmp:
        out = Path(tmp) / "stats.json"
        arguments = [f"--paths={paths}", f"--steps={steps}", f"--seed={seed}", f"--threads={threads}"]
        arguments += ["--checkpoints=4", "--moment-degree=8", f"--stats={out}"]
        subprocess.run([str(binary), *arguments], check=True)
        return parse_stats(json.loads(out.read_text()))


def table(model_text: str, runs: dict[int, StatsSample], at_paths: int, worst: int) -> list[str]:
    """One line per quantity: weak errors in units of one run's standard error at ``at_paths``, and residues
    of the designs (N, 2N, 4N) in units of the extrapolation's standard error at ``at_paths``."""
    plan = make_plan(architect.parse(model_text))
    steps = sorted(runs)
    first = runs[steps[0]]
    designs = [steps[k : k + 3] for k in range(len(steps) - 2)]
    qs = quantities(plan.exact, True)
    rows = []
    for k, cp in enumerate(first.checkpoints):
        targets = exact_targets(plan.theory, plan.exact, cp.time, qs)
        for q in qs:
            est = {n: q.estimate(runs[n].checkpoints[k]) for n in steps}
            inflate = math.sqrt(first.paths / at_paths)
            errors = [(est[n].value - targets[q].value) / (est[n].std_error * inflate) for n in steps]
            residues = []
            for d in designs:
                r = extrapolate([est[n] for n in d])
                residues.append((r.value - targets[q].value) / (r.std_error * inflate))
            rows.append((max(abs(r) for r in residues), f"{q.label(first.state)} at t={cp.time:g}", errors, residues))
    rows.sort(key=lambda row: -row[0])
    scale = f"±{math.sqrt(at_paths / first.paths):.2f}"
    head = " | ".join(f"bias {n}" for n in steps) + " | " + " | ".join(f"R {d[0]}/{d[1]}/{d[2]}" for d in designs)
    lines = [f"| quantity | {head} |", "|---" * (1 + len(steps) + len(designs)) + "|"]
    for _, label, errors, residues in rows[:worst]:
        cells = [f"{e:+.2f}" for e in errors] + [f"{r:+.2f}" for r in residues]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(f"\nIn units of the verifier's standard error at {at_paths} paths; each figure is itself {scale}.")
    return lines


def moment_z(model_text: str, runs: list[StatsSample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run: every moment check's estimate and standard error (runs x checkpoints x quantities), and theory."""
    plan = make_plan(architect.parse(model_text))
    qs = quantities(plan.exact, True)
    shape = (len(runs), len(runs[0].checkpoints), len(qs))
    values, errors, theory = np.zeros(shape), np.zeros(shape), np.zeros(shape[1:])
    for r, run in enumerate(runs):
        for k, cp in enumerate(run.checkpoints):
            for j, q in enumerate(qs):
                estimate = q.estimate(cp)
                values[r, k, j], errors[r, k, j] = estimate.value, estimate.std_error
    for k, cp in enumerate(runs[0].checkpoints):
        targets = exact_targets(plan.theory, plan.exact, cp.time, qs)
        theory[k] = [targets[q].value for q in qs]
    return values, errors, theory


def family_rates(model_text: str, by_steps: list[list[StatsSample]], checks: int) -> dict[float, float]:
    """Share of the triples (one run per step count) in which some moment check fails at each alpha."""
    (v1, e1, theory), (v2, e2, _), (v4, e4, _) = (moment_z(model_text, runs) for runs in by_steps)
    w = (-0.5, 0.5, 1.0)
    critical = {alpha: norm.isf(alpha / (2 * checks)) for alpha in (1e-3, 1e-2, 5e-2)}
    hits = dict.fromkeys(critical, 0)
    for i in range(len(v1)):  # one coarse run at a time keeps the R² x checks array small
        value = w[0] * v1[i] + w[1] * v2[:, None] + w[2] * v4[None, :]
        error = np.sqrt((w[0] * e1[i]) ** 2 + (w[1] * e2[:, None]) ** 2 + (w[2] * e4[None, :]) ** 2)
        worst = np.abs((value - theory) / error).reshape(len(v2), len(v4), -1).max(axis=-1)
        for alpha, z in critical.items():
            hits[alpha] += int((worst > z).sum())
    return {alpha: hit / (len(v1) * len(v2) * len(v4)) for alpha, hit in hits.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", type=Path)
    parser.add_argument("model", help="the model text the binary was built from")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--paths", type=int, default=10_000_000)
    parser.add_argument("--at-paths", type=int, default=architect.Options().paths)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--worst", type=int, default=12, help="print the quantities with the largest residues")
    parser.add_argument("--triples", type=int, help="estimate the false-reject rate from this many runs per step count")
    parser.add_argument("--checks", type=int, default=41, help="the verification's statistical checks (Holm's m)")
    args = parser.parse_args()
    if len(args.steps) < 3:
        parser.error("--steps needs at least three step counts (N, 2N, 4N)")
    if args.triples:
        by_steps = [
            [simulate(args.binary, args.paths, n, 100_000 + 1000 * a + r, args.threads) for r in range(args.triples)]
            for a, n in enumerate(args.steps[:3])
        ]
        for alpha, rate in family_rates(args.model, by_steps, args.checks).items():
            print(f"alpha {alpha:g}: some moment check fails in {rate:.2e} of {args.triples**3} triples")
        return 0
    runs = {n: simulate(args.binary, args.paths, n, 1000 + 7 * k, args.threads) for k, n in enumerate(args.steps)}
    print("\n".join(table(args.model, runs, args.at_paths, args.worst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
