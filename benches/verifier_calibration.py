"""How often does the verifier fail a *correct* simulator? The stated total level is alpha (1e-3);
this runs the full verification of one correct binary per model for many seeds and counts failures.

    .venv/bin/python benches/verifier_calibration.py [--seeds 1000] [--paths N] [--scheme auto|euler] [--jobs 16]
    .venv/bin/python benches/verifier_calibration.py --export DIR [--scheme euler]   # build here, run elsewhere:
    python benches/verifier_calibration.py --bundle DIR [--models ...] [--scheme ...] --jobs 16   # needs no Rust
    .venv/bin/python benches/verifier_calibration.py --merge a.json b.json   # one table from several runs
    .venv/bin/python benches/verifier_calibration.py --same-steps   # also the same-step design (--statistical-only)

Each seed gives independent runs (the verifier uses seeds s, s+1, s+2 for the N, 2N, 4N step runs, s+3, s+4
for a reference, s+5 to s+9 for the extended design and its reference, s+10 to s+12 for the same-step design:
`runs.SEEDS_PER_VERIFICATION`), so the seeds are spaced by 20. With ``--same-steps`` the correct binary is its
own trusted twin (it is the compiler's), which is the null hypothesis of those checks.
The observed false-reject rate comes with an exact (Clopper-Pearson) 95% upper bound. ``--jobs`` verifies
seeds in parallel processes, each binary run on one thread: the SDK's statistics do not depend on the
thread count (each path owns its random stream and the sums are combined in a fixed order), so the
verdicts are those of a serial run, seed for seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import stat
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy.stats import beta

import architect
from architect.api import check_binary
from architect.model import SdeModel
from architect.verifier import runs

MODELS = ("Ornstein-Uhlenbeck", "CIR", "Heston with mean reversion")
#: What an exported folder holds per model: the binary, the parsed model and how it was built.
META = "meta.json"
#: Levels at which the rejections are also counted: at 1e-3 a thousand seeds expect one, at 0.05 fifty, so these
#: show a miscalibration far sooner (each seed's verdict at level a: its m * smallest p <= a).
LEVELS = (1e-3, 1e-2, 5e-2)
#: Seeds of consecutive verifications are this far apart, so that no run's seed is shared.
SEED_SPACING = 20
assert SEED_SPACING >= runs.SEEDS_PER_VERIFICATION


@dataclass(frozen=True)
class Built:
    """A correct binary of one model under one scheme, built here or read from an exported bundle."""

    text: str
    scheme: str  # what was asked for: auto | euler | exact
    scheme_name: str  # what the binary reports, e.g. euler-maruyama+full-truncation
    model: SdeModel
    binary: Path


def entry_name(text: str, scheme: str) -> str:
    """The bundle's folder for ``text`` under ``scheme``: the text in lower case, one dash for anything else."""
    return f"{re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')}--{scheme}"


def build(text: str, scheme: str, folder: Path) -> Built:
    """Build one correct binary of ``text`` with the symbolic compiler (a tiny run checks that it passes)."""
    model = architect.parse(text)
    built = architect.generate(
        model, out=folder / model.slug, options=architect.Options(paths=1000, steps=4), scheme=scheme
    )
    if built.binary is None:
        raise SystemExit(f"{text}: the correct binary did not build: {built.report['reason']}")
    return Built(text, scheme, built.report["scheme"]["name"], model, built.binary)


def export(texts: list[str], scheme: str, bundle: Path) -> None:
    """Write ``bundle/<entry>/`` per model: the binary, ``model.json`` and ``meta.json``; nothing else is needed
    to verify it on a machine without Rust."""
    with tempfile.TemporaryDirectory(prefix="architect-calibration-") as tmp:
        for text in texts:
            built = build(text, scheme, Path(tmp))
            entry = bundle / entry_name(text, scheme)
            entry.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built.binary, entry / built.binary.name)
            (entry / "model.json").write_text(built.model.to_json())
            meta = {"text": text, "scheme": scheme, "scheme_name": built.scheme_name, "binary": built.binary.name}
            meta["architect"] = architect.__version__
            (entry / META).write_text(json.dumps(meta, indent=2) + "\n")
            print(f"exported {text} ({built.scheme_name}) to {entry}", flush=True)


def load(bundle: Path, text: str, scheme: str) -> Built:
    """The exported binary of ``text`` under ``scheme``; a clear error when the bundle lacks it."""
    entry = bundle / entry_name(text, scheme)
    if not (entry / META).is_file():
        have = sorted(p.parent.name for p in bundle.glob(f"*/{META}"))
        raise SystemExit(f"{bundle} has no {entry.name}/ (export it with --export); it has: {', '.join(have) or '-'}")
    meta = json.loads((entry / META).read_text())
    model = SdeModel.from_json((entry / "model.json").read_text())
    binary = entry / meta["binary"]
    if not os.access(binary, os.X_OK):  # a copy that dropped the mode bits
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return Built(meta["text"], meta["scheme"], meta["scheme_name"], model, binary)


def verify_seed(
    model_json: str, binary: Path, paths: int, seed: int, threads: int, same_steps: bool = False
) -> dict[str, Any]:
    """One full verification of the correct binary; a pool worker, so everything comes in as plain values."""
    model = SdeModel.from_json(model_json)
    options = architect.Options(paths=paths, seed=seed, threads=threads)
    # A model without exact moments needs the trusted reference: the symbolic crate is its own.
    reference = binary if runs.needs_reference(model) else None
    twin = (lambda _kinds: binary) if same_steps else None
    verification = check_binary(model, binary, options, reference, same_scheme=twin).verification
    p_values = [c.p_value if c.p_value is not None else 0.0 for c in verification.checks if c.kind != "sanity"]
    outcome = {"seed": seed, "passed": verification.passed, "reason": verification.reason, "checks": len(p_values)}
    # Holm rejects anything iff the smallest p is <= alpha / m: with it, the verdict at any other level is known.
    # A failed sanity check (no statistics, and no level excuses it) counts as p = 0.
    return outcome | {"smallest_p": min(p_values, default=0.0)}


def calibrate(
    built: Built, seeds: int, paths: int, jobs: int, threads: int, same_steps: bool = False
) -> dict[str, Any]:
    """Verify ``built`` with ``seeds`` independent seeds, ``jobs`` at a time; results come back in seed order."""
    failures = []
    checks = 0
    family_p = []  # per seed: checks x smallest p, the lowest level at which it would have failed
    started = time.monotonic()
    seed_list = [SEED_SPACING * k + 1 for k in range(seeds)]
    arguments = ([built.model.to_json()] * seeds, [built.binary] * seeds, [paths] * seeds, seed_list)
    with ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else _Serial() as pool:
        for k, outcome in enumerate(pool.map(verify_seed, *arguments, [threads] * seeds, [same_steps] * seeds)):
            checks = max(checks, outcome["checks"])
            family_p.append(outcome["checks"] * outcome["smallest_p"])
            if not outcome["passed"]:
                failures.append({"seed": outcome["seed"], "reason": outcome["reason"]})
                print(f"  seed {outcome['seed']}: {outcome['reason']}", flush=True)
            if (k + 1) % 100 == 0:
                print(f"  {k + 1} seeds, {len(failures)} rejected, {time.monotonic() - started:.0f} s", flush=True)
    return {
        "model": built.model.name,
        "scheme": built.scheme_name + (" + same steps" if same_steps else ""),
        "seeds": seeds,
        "paths": paths,
        "statistical_checks": checks,
        "failures": len(failures),
        "rate": len(failures) / seeds,
        "upper95": float(beta.ppf(0.95, len(failures) + 1, seeds - len(failures))),
        "failed_seeds": failures,
        "rejected_at": {f"{a:g}": sum(p <= a for p in family_p) for a in LEVELS},
        "family_p": [float(f"{p:.4g}") for p in family_p],
        "seconds": round(time.monotonic() - started, 1),
        "jobs": jobs,
    }


class _Serial:
    """The pool interface in this process (``--jobs 1``): the same function, the same order."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @staticmethod
    def map(function: Any, *iterables: Any) -> Any:
        return map(function, *iterables)


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
        jobs = f" ({r['jobs']} jobs)" if r.get("jobs", 1) > 1 else ""
        lines.append(
            f"| {r['model']} | {r['scheme']} | {r['seeds']} | {r['paths']} | {r['statistical_checks']} | "
            f"{r['failures']} | "
            f"{r['rate']:.4f} | {r['upper95']:.4f} | {r['seconds']:.0f} s{jobs} |"
        )
    total = sum(r["failures"] for r in rows)
    verifications = sum(r["seeds"] for r in rows)
    upper = float(beta.ppf(0.95, total + 1, verifications - total))
    lines += [
        "",
        f"All models: {total} false rejections in {verifications} verifications (upper 95% bound {upper:.4f}).",
    ]
    if all("rejected_at" in r for r in rows):
        lines += [
            "",
            "Rejections had the stated level been higher (the same verifications, each seed's Holm verdict):",
            "",
        ]
        lines += ["| model | scheme | " + " | ".join(f"alpha = {a:g}" for a in LEVELS) + " |"]
        lines += ["|---|---|" + "---|" * len(LEVELS)]
        for r in rows:
            cells = [f"{r['rejected_at'][f'{a:g}']} (expect ≤ {a * r['seeds']:g})" for a in LEVELS]
            lines.append(f"| {r['model']} | {r['scheme']} | " + " | ".join(cells) + " |")
    failed = [(r["model"], f) for r in rows for f in r["failed_seeds"]]
    if failed:
        lines += ["", "The false rejections:", ""]
        lines += [f"- {model}, seed {f['seed']}: {f['reason']}" for model, f in failed]
    return "\n".join(lines) + "\n"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--paths", type=int, default=architect.Options().paths)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--scheme", default="auto", help="auto (exact law where there is one) or euler")
    parser.add_argument("--jobs", type=int, default=1, help="seeds verified in parallel processes")
    parser.add_argument(
        "--same-steps", action="store_true", help="also run the same-step design (as --statistical-only does)"
    )
    parser.add_argument("--threads", type=int, help="simulator threads per run (default: all cores, 1 with --jobs)")
    parser.add_argument("--out", type=Path, default=Path("docs/verifier-calibration.md"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--merge", nargs="+", type=Path, help="write one table from these JSON results instead")
    where.add_argument("--export", type=Path, metavar="DIR", help="build the binaries into DIR and exit")
    where.add_argument("--bundle", type=Path, metavar="DIR", help="verify binaries exported to DIR (no build)")
    args = parser.parse_args()
    if args.seeds < 1 or args.jobs < 1 or (args.threads is not None and args.threads < 0):
        parser.error("--seeds and --jobs must be at least 1, --threads non-negative")
    if args.threads is None:
        args.threads = 1 if args.jobs > 1 else 0
    return args


def main() -> int:
    args = arguments()
    if args.export:
        export(args.models, args.scheme, args.export)
        return 0
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())]
    else:
        rows = []
        with tempfile.TemporaryDirectory(prefix="architect-calibration-") as tmp:
            for text in args.models:
                built = load(args.bundle, text, args.scheme) if args.bundle else build(text, args.scheme, Path(tmp))
                print(f"{text} ({built.scheme_name}): {args.seeds} seeds, {args.jobs} jobs", flush=True)
                rows.append(calibrate(built, args.seeds, args.paths, args.jobs, args.threads, args.same_steps))
    args.out.write_text(markdown(rows, architect.Options().alpha))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
