"""What stands between CIR and Heston and 10x the best numpy code: the square root.

    .venv/bin/python benches/sqrt_cost.py [--repeat 5] [--out FILE]

Builds the CIR and Heston crates that `compare.py` measures (architect's symbolic compiler, Euler with
full truncation, built by `architect.build`), and a timing-only copy of each whose `model.rs` has every
`.sqrt()` call removed (`sigma * r.sqrt()` becomes `sigma * r`). The copies compute wrong numbers; they
exist only to weigh the square root, are never verified and never leave the temporary directory. All
three (architect, architect without the square root, `compare.py`'s best numpy code) run round robin,
one thread, and are reported in million path-steps per CPU-second (medians), with the cost of the
square root per path-step and the budget per path-step that 10x the numpy rate would leave.

The square root is IEEE `sqrt` (`vsqrtpd`), correctly rounded, so every kernel and machine gives the
same numbers; docs/performance.md says why it stays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare

KEYS = ("cir", "heston")
VARIANTS = ("architect", "architect, no sqrt", "numpy (best)")
SQRT_CALL = re.compile(r"\.sqrt\(\)")


def without_sqrt(source: str) -> str:
    """``source`` (a model.rs) with every ``.sqrt()`` call removed: ``v.sqrt()`` becomes ``v``."""
    stripped, count = SQRT_CALL.subn("", source)
    if count == 0:
        raise ValueError("model.rs has no .sqrt() call to remove")
    return stripped


def build_pair(key: str, work: Path) -> tuple[Path, Path]:
    """The model's crate as `compare.py` builds it, and its copy without square roots."""
    import architect
    from architect import build, codegen

    binaries = []
    for name, edit in ((key, None), (f"{key}-nosqrt", without_sqrt)):
        crate = work / f"crate-{name}"
        codegen.write_crate(architect.parse(compare.MODELS[key]), crate, scheme="euler")
        if edit is not None:
            model = crate / "src" / "model.rs"
            model.write_text(edit(model.read_text()))
        binaries.append(build.build_crate(crate, crate / "bin" / name).binary)
    return binaries[0], binaries[1]


def numpy_cpu_seconds(key: str, paths: int, seed: int) -> float:
    """CPU seconds of `compare.py`'s best numpy code on ``paths`` paths, in its own interpreter."""
    command = [sys.executable, compare.__file__, "--worker", "numpy", key, str(paths), str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=compare.ONE_THREAD_ENV)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["cpu"])


def measure(repeat: int, scale: float, work: Path) -> dict[str, dict[str, float]]:
    """Median million path-steps per CPU-second of each variant of each model, round robin."""
    binaries = {key: build_pair(key, work) for key in KEYS}
    rates: dict[str, dict[str, list[float]]] = {key: {v: [] for v in VARIANTS} for key in KEYS}
    cpu = compare.ChildCpu()
    for rep in range(repeat):
        seed = 1000 + rep
        for key in KEYS:
            paths = int(compare.PATHS["architect"][key] * scale)
            for variant, binary in zip(VARIANTS[:2], binaries[key], strict=True):
                cpu.start()
                compare.run_binary(binary, paths, threads=1, seed=seed)
                rates[key][variant].append(paths * compare.STEPS / cpu.stop() / 1e6)
            paths = int(compare.PATHS["numpy"][key] * scale)
            rates[key][VARIANTS[2]].append(paths * compare.STEPS / numpy_cpu_seconds(key, paths, seed) / 1e6)
            row = "  ".join(f"{v}: {rates[key][v][-1]:7.1f}" for v in VARIANTS)
            print(f"  [{rep + 1}/{repeat}] {key:6} {row}", flush=True)
    return {key: {v: statistics.median(r) for v, r in by.items()} for key, by in rates.items()}


def report(medians: dict[str, dict[str, float]], repeat: int) -> str:
    info = compare.machine()
    lines = [
        f"Measured {dt.date.today().isoformat()} with `benches/sqrt_cost.py --repeat {repeat}` on {info['cpu']}; "
        f"load average at the end {info['load']}.",
        "",
        "| model | numpy (best) | architect | ratio | architect, no sqrt (timing only) | ratio "
        "| sqrt per path-step | 10x budget per path-step |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, m in medians.items():
        numpy, arch, bare = m["numpy (best)"], m["architect"], m["architect, no sqrt"]
        sqrt_ns = 1e3 / arch - 1e3 / bare
        lines.append(
            f"| {compare.MODEL_LABEL[key]} | {numpy:.1f} | {arch:.0f} | {arch / numpy:.1f}x | {bare:.0f} "
            f"| {bare / numpy:.1f}x | {sqrt_ns:.2f} ns | {1e3 / (10 * numpy):.2f} ns (architect: {1e3 / arch:.2f}) |"
        )
    lines += ["", "Rates: million path-steps per CPU-second, one thread, 200 steps, medians."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant; medians are reported")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every path count (default 1)")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("ARCHITECT_CACHE", str(compare.ROOT / ".cache" / "architect"))
    work = Path(tempfile.mkdtemp(prefix="architect-sqrt-cost-"))
    try:
        text = report(measure(args.repeat, args.scale, work), args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
