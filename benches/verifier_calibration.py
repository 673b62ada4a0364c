"""How often does the verifier fail a *correct* simulator? The stated total level is alpha (1e-3);
this runs the full verification of one correct binary per model for many seeds and counts failures.

    .venv/bin/python benches/verifier_calibration.py [--seeds 1000] [--paths 100000] [--scheme auto|euler]
    .venv/bin/python benches/verifier_calibration.py --merge a.json b.json   # one table from several runs

Each seed gives independent runs (the verifier uses seeds s, s+1, s+2 for the N, 2N, 4N step runs),
so the seeds are spaced by 10. The observed false-reject rate comes with an exact (Clopper-Pearson)
95% upper bound.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from scipy.stats import beta

import architect
from architect.api import check_binary

MODELS = ("Ornstein-Uhlenbeck", "CIR", "Heston with mean reversion")


def calibrate(text: str, seeds: int, paths: int, scheme: str, workdir: Path) -> dict:
    """Build one correct binary of ``text`` and verify it with ``seeds`` independent seeds."""
    model = architect.parse(text)
    built = architect.generate(
        model, out=workdir / model.slug, options=architect.Options(paths=1000, steps=4), scheme=scheme
    )
    assert built.binary is not None, built.report["reason"]
    failures = []
    started = time.monotonic()
    for k in range(seeds):
        options = architect.Options(paths=paths, seed=10 * k + 1)
        verification = check_binary(model, built.binary, options).verification
        if not verification.passed:
            failures.append({"seed": options.seed, "reason": verification.reason})
            print(f"  seed {options.seed}: {verification.reason}", flush=True)
        if (k + 1) % 100 == 0:
            print(f"  {k + 1} seeds, {len(failures)} rejected, {time.monotonic() - started:.0f} s", flush=True)
    checks = len([c for c in verification.checks if c.kind != "sanity"])
    return {
        "model": model.name,
        "scheme": built.report["scheme"]["name"],
        "seeds": seeds,
        "paths": paths,
        "statistical_checks": checks,
        "failures": len(failures),
        "rate": len(failures) / seeds,
        "upper95": float(beta.ppf(0.95, len(failures) + 1, seeds - len(failures))),
        "failed_seeds": failures,
        "seconds": round(time.monotonic() - started, 1),
    }


def markdown(rows: list[dict], alpha: float) -> str:
    lines = [
        "# Verifier calibration: false rejections of correct simulators",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} / {platform.system()} with "
        f"`benches/verifier_calibration.py`. Stated total level alpha = {alpha:g} per verification.",
        "",
        "| model | scheme | seeds | paths per run | statistical checks | false rejections | rate | 95% upper bound "
        "| time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['scheme']} | {r['seeds']} | {r['paths']} | {r['statistical_checks']} | "
            f"{r['failures']} | "
            f"{r['rate']:.4f} | {r['upper95']:.4f} | {r['seconds']:.0f} s |"
        )
    total = sum(r["failures"] for r in rows)
    runs = sum(r["seeds"] for r in rows)
    lines += [
        "",
        f"All models: {total} false rejections in {runs} verifications "
        f"(upper 95% bound {float(beta.ppf(0.95, total + 1, runs - total)):.4f}).",
    ]
    failed = [(r["model"], f) for r in rows for f in r["failed_seeds"]]
    if failed:
        lines += ["", "The false rejections:", ""]
        lines += [f"- {model}, seed {f['seed']}: {f['reason']}" for model, f in failed]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--paths", type=int, default=architect.Options().paths)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--scheme", default="auto", help="auto (exact law where there is one) or euler")
    parser.add_argument("--out", type=Path, default=Path("docs/verifier-calibration.md"))
    parser.add_argument("--merge", nargs="+", type=Path, help="write one table from these JSON results instead")
    args = parser.parse_args()
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())]
    else:
        rows = []
        with tempfile.TemporaryDirectory(prefix="architect-calibration-") as tmp:
            for text in args.models:
                print(f"{text}: {args.seeds} seeds", flush=True)
                rows.append(calibrate(text, args.seeds, args.paths, args.scheme, Path(tmp)))
    args.out.write_text(markdown(rows, architect.Options().alpha))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
