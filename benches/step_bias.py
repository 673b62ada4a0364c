"""How large is the three-run extrapolation's O(h²) residue next to the verifier's noise?

Runs one built binary of a model with exact moments at several step counts with many paths, and prints,
per moment quantity and checkpoint, the weak error q(h) - q at each step count and, for each candidate design
(N, 2N, 4N steps), the residue of the extrapolation (-q_N + q_2N + 2 q_4N)/2 divided by the standard error that
the verifier would have at ``--at-paths`` paths per run. Each step count is one independent run of ``--paths``
paths, so a residue is measured with a standard error sqrt(at_paths / paths) of the verifier's.

    .venv/bin/python benches/step_bias.py BINARY "Heston with mean reversion" --steps 100 200 400 800 1600
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", type=Path)
    parser.add_argument("model", help="the model text the binary was built from")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--paths", type=int, default=10_000_000)
    parser.add_argument("--at-paths", type=int, default=architect.Options().paths)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--worst", type=int, default=12, help="print the quantities with the largest residues")
    args = parser.parse_args()
    if len(args.steps) < 3:
        parser.error("--steps needs at least three step counts (N, 2N, 4N)")
    runs = {n: simulate(args.binary, args.paths, n, 1000 + 7 * k, args.threads) for k, n in enumerate(args.steps)}
    print("\n".join(table(args.model, runs, args.at_paths, args.worst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
