"""Planted simulator binaries: small Python programs that stand in for a compiled model and misbehave
on purpose. Each reads the same command line as a real one and can write a well-formed statistics
document for a one-dimensional model, so a test can corrupt exactly one thing.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """#!{python}
import json, math, os, sys
ARGS = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
DESCRIBE = "--describe" in sys.argv
STATS = ARGS.get("stats")

def describe(**override):
    doc = {{"sdk_version": "0.1.0", "model": "m", "state": ["S"], "noise_dim": 1, "scheme": "log-euler",
           "step_kinds": ["log-euler"], "parameters": {{"mu": 0.05, "sigma": 0.2}}, "initial_state": [100.0]}}
    doc.update(override)
    print(json.dumps(doc))

def stats(**override):
    paths, steps, k = int(ARGS["paths"]), int(ARGS["steps"]), int(ARGS["checkpoints"])
    horizon, degree = float(ARGS["horizon"]), int(ARGS["moment-degree"])
    exponents = [[d] for d in range(1, degree + 1)]
    checkpoints = [{{"step": steps * (j + 1) // k, "time": horizon * (j + 1) / k, "count": paths, "nonfinite": 0,
                    "sums": [float(paths) * 0.01 ** d for d in range(1, degree + 1)]}} for j in range(k)]
    doc = {{"format": "architect.stats/1", "sdk_version": "0.1.0", "model": "m", "state": ["S"],
           "scheme": "log-euler", "step_kinds": ["log-euler"], "paths": paths, "steps": steps, "horizon": horizon,
           "seed": int(ARGS["seed"]), "threads": 1, "shift": [100.0], "exponents": exponents,
           "checkpoints": checkpoints, "elapsed_seconds": 0.0}}
    doc.update(override)
    return doc

def write(doc, raw=None):
    with open(STATS, "w") as out:
        out.write(raw if raw is not None else json.dumps(doc))
    if "terminal" in ARGS:  # an honest terminal-state file, so each test corrupts only what it means to
        import numpy
        numpy.save(ARGS["terminal"], numpy.full((int(ARGS["paths"]), 1), 100.01))

"""


def planted(folder: Path, body: str, name: str = "sim") -> Path:
    """An executable Python program: HEADER, then ``body`` (which may use ARGS, DESCRIBE, stats(), write())."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(HEADER.format(python=sys.executable) + body + "\n")
    script.chmod(0o755)
    return script


#: A planted simulator that behaves: describes itself and writes well-formed statistics.
HONEST = """
if DESCRIBE:
    describe()
else:
    write(stats())
"""
