"""What the jail costs: the same model built on the jailed skeleton and on the unjailed one, run alternately.

    .venv/bin/python benches/jail_overhead.py [--repeat 7] [--paths 200000] [--steps 100]

Builds the Ornstein-Uhlenbeck crate twice with `architect.build` (the same `model.rs`, Euler): once with
architect's `src/main.rs` (`cli::run_jailed`: Landlock, seccomp, and a supervising parent that renames the
output files) and once with the previous skeleton (`cli::run_as`: no lock-down, one process). Both run
directly (no bubblewrap), one thread, round robin, writing their statistics to a file as the gym asks, and
report:

- the engine's rate (million path-steps per second of the engine's own clock, `elapsed_seconds`): the
  jail must not change it beyond noise;
- the wall time of a whole run, process start to exit (the jailed one starts a second process);
- the wall time of a tiny run (1000 paths, 1 step): the fixed cost of the lock-down and the second process.

Prints a Markdown table (medians, and the ratio jailed / unjailed); docs/security.md quotes it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNJAILED_MAIN = """#![forbid(unsafe_code)]
mod model;
fn main() -> std::process::ExitCode {
    architect_sdk::cli::run_as::<{ model::SCHEME.is_exact() }, _, _, _>(model::Model::default(), model::SCHEME)
}
"""


def build_pair(work: Path) -> dict[str, Path]:
    import architect
    from architect import build, codegen

    model = architect.parse("OU kappa=2 theta=1 sigma=0.5 X0=0")
    scheme = codegen.choose_scheme(model, "euler")
    source = codegen.render_model_rs(model, scheme)
    binaries = {}
    for variant, main_rs in (("jailed", None), ("unjailed", UNJAILED_MAIN)):
        fixed = dict(codegen.fixed_files(model, scheme))
        if main_rs is not None:
            fixed["src/main.rs"] = main_rs
        binary = work / "bin" / variant
        build.build_model(f"jail_overhead_{variant}", fixed, source, binary)
        binaries[variant] = binary
    return binaries


def run(binary: Path, work: Path, paths: int, steps: int, seed: int) -> tuple[float, float]:
    """(engine seconds, wall seconds) of one run writing its statistics to a file."""
    stats = work / f"{binary.name}.json"
    command = [str(binary), f"--paths={paths}", f"--steps={steps}", f"--seed={seed}", "--threads=1"]
    started = time.perf_counter()
    subprocess.run([*command, f"--stats={stats}"], check=True, cwd=work)
    wall = time.perf_counter() - started
    return float(json.loads(stats.read_text())["elapsed_seconds"]), wall


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--paths", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--tiny", type=int, default=100, help="tiny runs per variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="architect-jail-bench-") as tmp:
        work = Path(tmp)
        binaries = build_pair(work)
        engine: dict[str, list[float]] = {v: [] for v in binaries}
        wall: dict[str, list[float]] = {v: [] for v in binaries}
        tiny: dict[str, list[float]] = {v: [] for v in binaries}
        for rep in range(args.repeat):
            for variant, binary in binaries.items():
                seconds, elapsed = run(binary, work, args.paths, args.steps, seed=rep)
                engine[variant].append(args.paths * args.steps / seconds / 1e6)
                wall[variant].append(elapsed)
        for rep in range(args.tiny):
            for variant, binary in binaries.items():
                tiny[variant].append(run(binary, work, 1000, 1, seed=rep)[1])
    rows = [
        ("engine, M path-steps/s (higher is better)", engine, "{:.0f}"),
        (f"whole run of {args.paths * args.steps:.0e} path-steps, s", wall, "{:.3f}"),
        ("tiny run (1000 paths, 1 step), ms", {k: [x * 1e3 for x in v] for k, v in tiny.items()}, "{:.1f}"),
    ]
    print(
        f"Machine: {cpu_model()} ({os.cpu_count()} cores), Linux {platform.release()}, "
        f"Python {sys.version.split()[0]}; medians of {args.repeat} (tiny: {args.tiny}) alternated runs, one thread.\n"
    )
    print("| measure | unjailed | jailed | jailed / unjailed |")
    print("|---|---:|---:|---:|")
    for name, values, fmt in rows:
        unjailed, jailed = statistics.median(values["unjailed"]), statistics.median(values["jailed"])
        print(f"| {name} | {fmt.format(unjailed)} | {fmt.format(jailed)} | {jailed / unjailed:.3f} |")


if __name__ == "__main__":
    main()
