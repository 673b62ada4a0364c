#!/usr/bin/env python3
# ruff: noqa: RUF001  (the fuzzer types Unicode look-alikes on purpose)
r"""Fuzz `architect.parser.parse` with generated inputs: no tracebacks, no hangs.

Every input must either parse into an `SdeModel` (whose JSON form then reads back equal) or raise
a `UsageError` (`ParseError`, `ModelError`) that is not the parser's last-resort "could not read
the model" wrapper of an internal error. Each input runs under a wall-clock limit (SIGALRM); the
slowest one is reported. Inputs come from four seeded generators, in equal shares:

- ``text``: random characters (ASCII, operators, Greek, Unicode look-alikes, backslashes);
- ``mutated``: valid inputs (plain equations, named models with overrides and modifiers, LaTeX)
  with 1-6 random edits (delete, insert a character or a piece, replace, duplicate, truncate);
- ``latex``: random LaTeX systems from a small grammar (fractions, roots, powers, scripts,
  \left( \right), aligned environments, numbered and named Brownian motions), some broken;
- ``named``: model names, synonyms and modifiers with random overrides, valid and not.

    .venv/bin/python scripts/fuzz_parser.py --inputs 100000 --workers 2 --seed 1 --json fuzz.json

Exit status 0 when every input behaved, 1 otherwise (the failures are printed, and saved with --json).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from architect.errors import UsageError
from architect.model import SdeModel
from architect.parser import catalog, parse

LIMIT_SECONDS = 1.0
CHUNK = 500

# ---------------------------------------------------------------------------- seeds and pieces
VALID_PLAIN = [
    "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04",
    "dx = (mu - v/2)*dt + sqrt(v)*dW1\ndv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2\nrho=-0.7\n"
    "mu=0.05, kappa=2, theta=0.04, xi=0.3, x0=4.6, v0=0.04",
    "dx = a*dt + dW1; dy = b*dt + dW2; dz = c*dt + dW3; rho12=0.3, rho_1_3=0.2, rho23=-0.1, a=1, b=1, c=1, "
    "x0=0, y0=0, z0=0",
    "dS_t = mu S_t dt + sigma S_t dW_t where mu=0.1 and sigma=0.2 and S(0)=100",
    "dS/S = mu dt + sigma dW, mu=0.1, sigma=0.2, S0=100",
    "dX = (exp(-t) + log(1 + X^2) - abs(X) + max(X, 0) - min(X, 1))*dt + sqrt(2*pi)*X**2*dW, X0=0",
    "dx = -x*dt + dW_x; dy = -y*dt + dW_y; corr(W_x, W_y) = 0.5; x0=0; y0=0",
    "dX = lambda*(mu - X)*dt + sigma*dW, lambda=1.5, mu=0, sigma=1, X0=0",
    "dx = (r - lam*(exp(m + s^2/2) - 1))*dt + dW + dJ; J ~ CompoundPoisson(lam, Normal(m, s)); r=0.05, lam=1, m=0, "
    "s=0.1, x0=0",
    "dX = -X*dt + dW + dJ_X\nJ_X ~ CompoundPoisson(2, DoubleExponential(0.3, 4, 3))\nX0=0",
]
VALID_NAMED = [
    "CIR kappa=1.5 theta=0.05 sigma=0.1 X0=0.03",
    "Heston with mean reversion, kappa_x=0.5, rho=0.2",
    "GBM(mu=0.1, sigma=0.3)",
    "SABR beta=0.7 nu=0.5 F0=0.04",
    "GBM with stochastic volatility and mean reversion",
    "Stein-Stein S0=120",
    "Heston zero correlation v0=0.09",
    "CKLS gamma=0.5",
    "3/2 model v0=0.09",
    "Jacobi theta=0.3 sigma=1",
    "Schöbel–Zhu correlated rho=-0.5",
    "Black-Karasinski r0=0.04",
    # Values in words (issue #19): names by description, percentages, "starting at", "reverts to", "no drift".
    "Heston with kappa 1.8, theta 0.02 and vol of vol 0.45",
    "GBM with 30% volatility and 6% drift, starting at 80",
    "CIR for the short rate with mean reversion speed 0.7 and long-run level 3%",
    "Vasicek where the rate starts at 1% and reverts to 3% with speed 0.25",
    "Merton jump diffusion with no drift, jump intensity 2",
    "a G2++ model where the second factor reverts at speed 0.03",
    "Double Heston where the fast variance mean-reverts at 5",
    "Wright-Fisher with selection 2 and mutation rates u = 0.5, v = 0.5",
    "Bergomi two-factor omega=2.5 theta=0.2",
]
VALID_PROSE = [
    # Equations in prose and with the elementary functions (issue #19).
    "Ornstein-Uhlenbeck process: dX = -X dt + 0.5 dW, X0 = 1",
    "dX = mu*X*dt + sigma*X*dW, mu = 8%, sigma = 30 percent, X0 = 10",
    "the SDE dY = -0.5 Y dt + dW starting from Y(0) = 2",
    "dx = -x dt + 0.3 dW1, dy = -2 y dt + 0.2 dW2, correlation 0.5, x0 = 0, y0 = 0",
    "dX = cos(t)*dt + 0.3*dW, X0 = 1",
    "dX = -tanh(X)*dt + 0.5*(1 + erf(X)/2)*dW + 0.1*sign(X)*atan(X)*dt, X0 = 0.2",
    "dX = 2*(0.5 - X)*dt + 0.3*sqrt(X*(1 - X))*dW, X0 = 0.5",
]
VALID_LATEX = [
    r"dS_t = \mu S_t\,dt + \sigma S_t\,dW_t, \mu = 0.05, \sigma = 0.2, S_0 = 100",
    r"\mathrm{d}X_t = \kappa(\theta - X_t)\,\mathrm{d}t + \sigma\sqrt{X_t}\,\mathrm{d}W_t \quad \text{where } "
    r"\kappa=2,\ \theta=0.04,\ \sigma=0.3,\ X_0=0.04",
    "\\begin{aligned}\n\\mathrm{d}x_t &= \\left(\\mu - \\frac{v_t}{2}\\right)\\mathrm{d}t + \\sqrt{v_t}\\,"
    "\\mathrm{d}W^{(1)}_t \\\\\n\\mathrm{d}v_t &= \\kappa(\\theta - v_t)\\,\\mathrm{d}t + \\xi\\sqrt{v_t}\\,"
    "\\mathrm{d}W^{(2)}_t \\\\\n\\mathrm{d}W^{(1)}_t\\,\\mathrm{d}W^{(2)}_t &= \\rho\\,\\mathrm{d}t\n\\end{aligned}\n"
    "\\mu=0.05, \\kappa=2, \\theta=0.04, \\xi=0.3, \\rho=-0.7, x_0=4.6, v_0=0.04",
    r"dX_t = -\lambda X_t dt + e^{-t} \cdot |X_t| \, dW_{1,t} + \tfrac12 dW^2_t, \lambda=1, X(0)=1",
    r"dr_t = \kappa(\bar r - r_t)\,dt + \sigma \max\{r_t, 0\}^{1/2} dW_t, \kappa=1, \bar r = 0.05, \sigma=0.1, "
    r"r_0=0.03",
    r"\mathrm{d}x_t = \mu\,\mathrm{d}t + \mathrm{d}W_t + \mathrm{d}J_t, J \sim \mathrm{CompoundPoisson}(\lambda, "
    r"\mathcal{N}(m, s)), \mu=0.1, \lambda=1, m=0, s=0.1, x_0=0",
    r"\mathrm{d}x_t = \mathrm{d}W^1_t; \mathrm{d}y_t = \mathrm{d}W^2_t; \mathrm{d}\langle W^1, W^2\rangle_t = "
    r"\rho\,\mathrm{d}t; \rho=0.3; x_0=0; y_0=0",
    r"$dy_t = -\ln y_t \, y_t\, dt + \exp\left(-\frac{t}{2}\right) dW_t$, y_0 = 1",
]
VALID = VALID_PLAIN + VALID_NAMED + VALID_PROSE + VALID_LATEX

PIECES = [
    *"dXWtSxv0123456789.e+-*/^()=,; \n_$√κσ{}[]|&\\'\"",
    "dt", "dW", "dW1", "dW2", "dW_t", "sqrt(", "log(", "exp(", "max(", "**", "kappa", "rho", "corr(", "X0=",
    "where ", "with ", "lambda", "pi", "E", "I", "(0)=", "Heston", "1e999", "\\frac{", "\\sqrt{", "\\left(",
    "\\right)", "\\mathrm{d}", "^{", "_{", "}", "\\\\", "&=", "\\begin{aligned}", "\\end{aligned}", "\\sigma",
    "\\langle", "\\rangle", "W^{(1)}", "\\,", "\\text{where}", "with mean reversion", "zero correlation",
    "with jumps", " beta=0.7", " X0=-1", " rho=2", "\\exp", "\\ln", "|", "%", "\\cdot", "e^{", "-", "0",
    "dJ", "dJ_x", "~", "CompoundPoisson(", "Normal(", "DoubleExponential(", " eta1=0.5", " lam=-1", "Merton", "Kou",
]  # fmt: skip
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \t\n+-*/^()=,;._{}[]|&$%\\'\"!?<>~#@:"
    "κσθρμξλπ−–—·×∗√²αβγδ\u00a0\u200bö"
)

GREEK = ["\\alpha", "\\beta", "\\kappa", "\\theta", "\\sigma", "\\rho", "\\mu", "\\xi", "\\lambda", "\\nu"]
STATES = ["X", "Y", "S", "v", "r", "x"]


# ---------------------------------------------------------------------------- generators
def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80)))


def mutated(rng: random.Random) -> str:
    text = rng.choice(VALID)
    for _ in range(rng.randint(1, 6)):
        text = _mutate(rng, text)
    return text


def _mutate(rng: random.Random, text: str) -> str:
    position = rng.randint(0, len(text))
    action = rng.choice(["delete", "insert", "piece", "replace", "duplicate", "truncate", "repeat"])
    if action == "delete":
        return text[:position] + text[position + rng.randint(1, 4) :]
    if action == "insert":
        return text[:position] + rng.choice(ALPHABET) + text[position:]
    if action == "piece":
        return text[:position] + rng.choice(PIECES) + text[position:]
    if action == "replace" and text:
        position = min(position, len(text) - 1)
        return text[:position] + rng.choice(ALPHABET) + text[position + 1 :]
    if action == "duplicate":
        end = min(len(text), position + rng.randint(1, 30))
        return text[:end] + text[position:end] + text[end:]
    if action == "truncate":
        return text[:position]
    return text[:position] + rng.choice(PIECES) * rng.randint(2, 40) + text[position:]


def random_latex(rng: random.Random) -> str:
    states = rng.sample(STATES, rng.randint(1, 3))
    lines = [_latex_equation(rng, state, index, states) for index, state in enumerate(states)]
    if len(states) > 1 and rng.random() < 0.5:
        lines.append(r"\mathrm{d}W^{(1)}_t\,\mathrm{d}W^{(2)}_t = \rho\,\mathrm{d}t")
    body = " \\\\\n".join(lines)
    if rng.random() < 0.5:
        body = "\\begin{aligned}\n" + body.replace(" = ", " &= ", 1) + "\n\\end{aligned}"
    used = [g for g in GREEK if g in body and rng.random() < 0.95]
    values = [f"{g}={rng.choice(['0.5', '2', '-0.3', '1e-3', '0', '0.2'])}" for g in used]
    values += [f"{s}_0 = {rng.choice(['1', '0.04', '-1', '100'])}" for s in states if rng.random() < 0.8]
    text = body + ("\n" + ", ".join(values) if values else "")
    return _mutate(rng, text) if rng.random() < 0.3 else text


def _latex_equation(rng: random.Random, state: str, index: int, states: list[str]) -> str:
    noise = rng.choice([f"W^{{({index + 1})}}_t", f"W_{{{index + 1},t}}", f"W^{index + 1}_t", "W_t", "W_t^{S}"])
    differential = rng.choice(["d", "\\mathrm{d}", "\\text{d}", "{\\rm d}"])
    drift = _latex_expression(rng, states, 3)
    diffusion = _latex_expression(rng, states, 3)
    return f"{differential}{state}_t = {drift}\\,{differential}t + {diffusion}\\,{differential}{noise}"


def _latex_expression(rng: random.Random, states: list[str], depth: int) -> str:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice([*GREEK, f"{rng.choice(states)}_t", str(rng.randint(0, 9)), "0.5", "t"])
    a, b = _latex_expression(rng, states, depth - 1), _latex_expression(rng, states, depth - 1)
    forms = [
        f"{a} + {b}", f"{a} - {b}", f"{a} {b}", f"{a} \\cdot {b}", f"\\frac{{{a}}}{{{b}}}", f"\\sqrt{{{a}}}",
        f"\\left({a}\\right)", f"{a}^{{{rng.randint(1, 3)}}}", f"e^{{{a}}}", f"\\exp({a})", f"\\ln{{{a}}}",
        f"|{a}|", f"\\max\\{{{a}, {b}\\}}", f"\\tfrac{{{a}}}{{2}}", f"{a} \\times {b}", f"\\sqrt[3]{{{a}}}",
    ]  # fmt: skip
    return rng.choice(forms)


def random_named(rng: random.Random) -> str:
    family = rng.choice(catalog.FAMILIES)
    name = rng.choice(family.synonyms)
    modifiers = [
        " with mean reversion",
        " with jumps",
        " with stochastic volatility",
        " zero correlation",
        " correlated",
    ]
    if rng.random() < 0.4:
        name += "".join(rng.choice(modifiers) for _ in range(rng.choice([1, 1, 2, 3, 8])))
    names = [*family.override_names(), "kapa", "S0", "X0", "foo"] if rng.random() < 0.3 else family.override_names()
    values = ["1", "0", "-1", "0.5", "2", "1e9", "-0.7", "log(2)", "1/0", "theta", "1.5"]
    values = values if rng.random() < 0.3 else ["0.5", "0.3", "0.04", "1.5", "0.1"]
    chosen = rng.sample(names, min(len(names), rng.randint(0, 4)))
    overrides = [f"{name}{rng.choice(['=', ' = '])}{rng.choice(values)}" for name in chosen]
    separator = rng.choice([" ", ", ", "; ", "\n", " and "])
    text = name + (separator + separator.join(overrides) if overrides else "")
    return _mutate(rng, text) if rng.random() < 0.2 else text


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "text": random_text,
    "mutated": mutated,
    "latex": random_latex,
    "named": random_named,
}


# ---------------------------------------------------------------------------- running
class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


@dataclass
class Tally:
    inputs: int = 0
    parsed: int = 0
    refused: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_input: str = ""
    failures: list[dict[str, str]] = field(default_factory=list)
    by_generator: dict[str, int] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.parsed += other.parsed
        self.refused += other.refused
        self.seconds += other.seconds
        if other.slowest > self.slowest:
            self.slowest, self.slowest_input = other.slowest, other.slowest_input
        self.failures += other.failures
        for key, count in other.by_generator.items():
            self.by_generator[key] = self.by_generator.get(key, 0) + count


def check_one(text: str, limit: float = LIMIT_SECONDS) -> tuple[str, float, str]:
    """("parsed" | "refused" | "failure" | "hang", seconds, detail)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        model = parse(text)
        again = SdeModel.from_json(model.to_json())
        outcome, detail = ("parsed", "") if again == model else ("failure", "JSON round trip differs")
    except _Timeout:
        outcome, detail = "hang", f"over {limit:g} s"
    except UsageError as error:
        internal = "could not read the model (" in str(error)
        outcome, detail = ("failure", str(error)) if internal else ("refused", "")
    except Exception as error:  # the point of the fuzzer: anything else is a bug
        outcome, detail = "failure", f"{type(error).__name__}: {error}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcome, time.perf_counter() - start, detail


def run_chunk(job: tuple[int, int, int]) -> Tally:
    seed, index, count = job
    rng = random.Random(f"{seed}-{index}")
    tally = Tally()
    kinds = list(GENERATORS)
    for k in range(count):
        kind = kinds[(index * count + k) % len(kinds)]
        text = GENERATORS[kind](rng)
        outcome, seconds, detail = check_one(text)
        tally.inputs += 1
        tally.seconds += seconds
        tally.by_generator[kind] = tally.by_generator.get(kind, 0) + 1
        if seconds > tally.slowest:
            tally.slowest, tally.slowest_input = seconds, text
        if outcome == "parsed":
            tally.parsed += 1
        elif outcome == "refused":
            tally.refused += 1
        else:
            tally.failures.append({"generator": kind, "outcome": outcome, "input": text, "detail": detail})
    return tally


def fuzz(inputs: int, seed: int, workers: int) -> Tally:
    jobs = [(seed, index, min(CHUNK, inputs - index * CHUNK)) for index in range((inputs + CHUNK - 1) // CHUNK)]
    total = Tally()
    if workers <= 1:
        for job in jobs:
            total.merge(run_chunk(job))
        return total
    with multiprocessing.Pool(workers) as pool:
        for tally in pool.imap_unordered(run_chunk, jobs):
            total.merge(tally)
    return total


def summary(tally: Tally, wall: float, workers: int, seed: int) -> dict[str, object]:
    return {
        "inputs": tally.inputs,
        "parsed": tally.parsed,
        "refused_with_usage_error": tally.refused,
        "failures": len(tally.failures),
        "by_generator": tally.by_generator,
        "wall_seconds": round(wall, 1),
        "cpu_seconds_in_parse": round(tally.seconds, 1),
        "mean_ms_per_input": round(1000 * tally.seconds / max(tally.inputs, 1), 3),
        "max_seconds_per_input": round(tally.slowest, 4),
        "slowest_input": tally.slowest_input[:300],
        "limit_seconds": LIMIT_SECONDS,
        "seed": seed,
        "workers": workers,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--inputs", type=int, default=100_000)
    options.add_argument("--seed", type=int, default=1)
    options.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    options.add_argument("--json", type=Path, help="write the summary and the failures here")
    args = options.parse_args(argv)
    start = time.perf_counter()
    tally = fuzz(args.inputs, args.seed, args.workers)
    report = summary(tally, time.perf_counter() - start, args.workers, args.seed)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for failure in tally.failures[:20]:
        print(f"FAILURE ({failure['generator']}, {failure['outcome']}): {failure['input']!r}\n  {failure['detail']}")
    if args.json:
        args.json.write_text(json.dumps({**report, "failure_list": tally.failures}, indent=2, ensure_ascii=False))
    return 0 if not tally.failures else 1


if __name__ == "__main__":
    sys.exit(main())
