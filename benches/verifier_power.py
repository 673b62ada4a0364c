"""How many realistic bugs does the verifier catch? Plants every mutant of `benches/mutations.py`
in each model, builds it with the symbolic compiler, and verifies it against the original model.

    .venv/bin/python benches/verifier_power.py [--paths 200000] [--out docs/verifier-power.md]
    .venv/bin/python benches/verifier_power.py --from-json docs/verifier-power.json   # only rewrite the table
    .venv/bin/python benches/verifier_power.py --models Kou --out /tmp/kou.md         # one model group
    .venv/bin/python benches/verifier_power.py --from-json a.json b.json              # join groups' runs

Writes a Markdown table (caught share per operator and per model, survivors with their details)
and a JSON file beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import mutants

import architect
from architect.codegen import write_crate

MODELS = (
    "GBM",
    "arithmetic Brownian motion",
    "Ornstein-Uhlenbeck",
    "Vasicek",
    "CIR",
    "Heston",
    "Heston with mean reversion",
    "Merton jump diffusion",
    "Kou",
    "Bates",
    "dx = -kappa*x*dt + sigma*dW1; dy = (x - y)*dt + eta*dW2; rho=-0.7, kappa=1.5, sigma=0.4, eta=0.2, x0=1, y0=0",
)


def run(models: tuple[str, ...], options: architect.Options) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="architect-mutants-") as tmp:
        for text in models:
            original = architect.parse(text)
            for k, mutant in enumerate(mutants(original)):
                crate = Path(tmp) / f"{original.slug}-{k}"
                write_crate(mutant.model, crate)
                started = time.monotonic()
                result = architect.verify(crate, model=original, options=options)
                rows.append(
                    {
                        "model": original.name,
                        "operator": mutant.operator,
                        "mutation": mutant.description,
                        "caught": not result.passed,
                        "reason": result.report["reason"],
                        "seconds": round(time.monotonic() - started, 2),
                    }
                )
                mark = "caught  " if not result.passed else "SURVIVED"
                print(f"{mark} {original.name}: {mutant.description}", flush=True)
    return rows


def markdown(rows: list[dict], options: architect.Options) -> str:
    caught = sum(r["caught"] for r in rows)
    lines = [
        "# Verifier power: planted bugs caught",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} / {platform.system()} with "
        f"`benches/verifier_power.py` ({options.paths} paths per run, "
        f"{options.steps}, {2 * options.steps} and {4 * options.steps} steps, "
        f"seed {options.seed}, total level alpha={options.alpha:g}).",
        "",
        f"**{caught} of {len(rows)} mutants caught ({100 * caught / max(len(rows), 1):.1f}%).**",
        "",
        "| operator | mutants | caught |",
        "|---|---|---|",
    ]
    for operator in dict.fromkeys(r["operator"] for r in rows):
        group = [r for r in rows if r["operator"] == operator]
        lines.append(f"| {operator} | {len(group)} | {sum(r['caught'] for r in group)} |")
    survivors = [r for r in rows if not r["caught"]]
    lines += ["", "## Survivors", ""]
    lines += [f"- {r['model']}: {r['mutation']} — {r['reason']}" for r in survivors] or ["None."]
    if survivors:
        lines += [
            "",
            "Why they survive: [verification.md §9](verification.md#9-proving-the-verifier-power-and-calibration).",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, default=architect.Options().paths)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("docs/verifier-power.md"))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="rewrite the Markdown from earlier runs' JSON (several: their rows joined, e.g. one run per model group)",
    )
    args = parser.parse_args()
    # The statistics' power: each mutant's code is not the model, so the proof (architect.proof) would refuse
    # every one before any statistics; statistical_only sets it aside to measure what the statistics catch.
    options = architect.Options(paths=args.paths, seed=args.seed, statistical_only=True)
    if args.from_json:
        rows = [row for path in args.from_json for row in json.loads(path.read_text())]
    else:
        rows = run(tuple(args.models), options)
    args.out.write_text(markdown(rows, options))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
