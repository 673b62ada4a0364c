"""Judge a phrasing against the model it is meant to be (issue #19's acceptance set).

Two models are the same when, with their parameter values substituted, their drifts, covariances
(diffusion x correlation x diffusion transposed), jump parts and initial states agree at a few points of the
state space and time: names of parameters may differ, the dynamics may not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

import architect
from architect.errors import ArchitectError
from architect.model import SdeModel

PHRASINGS = Path(__file__).with_name("phrasings.jsonl")
#: Points of each kind of domain at which the coefficients are compared (t is compared at two times too).
POINTS = {"positive": (0.7, 1.3), "nonnegative": (0.2, 0.9), "real": (-0.4, 0.9)}
TIMES = (0.0, 0.37)


@dataclass(frozen=True)
class Verdict:
    text: str
    intended: str
    outcome: str  # "read", "unread" (a clear error), "misread" (another model), "bad-intended"
    detail: str = ""


def load() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in PHRASINGS.read_text().splitlines() if line.strip()]
    return [(row["text"], row["intended"]) for row in rows]


def judge(text: str, intended: str) -> Verdict:
    try:
        want = architect.parse(intended)
    except ArchitectError as exc:
        return Verdict(text, intended, "bad-intended", str(exc).splitlines()[0])
    try:
        got = architect.parse(text)
    except ArchitectError as exc:
        return Verdict(text, intended, "unread", str(exc).splitlines()[0])
    difference = differ(got, want)
    return Verdict(text, intended, "misread" if difference else "read", difference or "")


def differ(a: SdeModel, b: SdeModel) -> str | None:
    """Why ``a`` and ``b`` are different models, or None."""
    if a.dim != b.dim:
        return f"{a.dim} state variables, not {b.dim}"
    if not _close(a.initial, b.initial):
        return f"initial state {a.initial}, not {b.initial}"
    jumps_a, jumps_b = _jumps(a), _jumps(b)
    if len(jumps_a) != len(jumps_b) or any(not _close(x, y) for x, y in zip(jumps_a, jumps_b, strict=True)):
        return f"jumps {jumps_a}, not {jumps_b}"
    for point in _points(b):
        for label, (va, vb) in {
            "drift": (_at(list(a.drift), a, point), _at(list(b.drift), b, point)),
            "covariance": (_covariance(a, point), _covariance(b, point)),
        }.items():
            if not _close(va, vb):
                return f"{label} at {point}: {_rounded(va)}, not {_rounded(vb)}"
    return None


def _covariance(m: SdeModel, point: tuple[float, ...]) -> list[float]:
    """B C Bᵀ at ``point``, in numbers (sympy's symbolic product is slow for long coefficients such as Bergomi's)."""
    noises = len(m.noises)
    b = np.array(_at([e for row in m.diffusion for e in row], m, point)).reshape(m.dim, noises)
    c = np.array(_at([e for row in m.correlation for e in row], m, point)).reshape(noises, noises)
    return list((b @ c @ b.T).ravel())


def _jumps(m: SdeModel) -> list[tuple[float, ...]]:
    out = []
    for part in m.jumps:
        intensity, *size = _at([part.intensity, *part.size], m, (0.0, *([0.0] * m.dim)))
        out.append((float(m.state.index(part.variable)), intensity, *size))
    return out


def _points(m: SdeModel) -> list[tuple[float, ...]]:
    grids = [POINTS.get(domain, (0.3, 0.6)) for domain in m.domain]
    points = []
    for k in range(2):
        for t in TIMES:
            points.append((t, *(grid[k] for grid in grids)))
    return points


def _at(exprs: list[sp.Expr], m: SdeModel, point: tuple[float, ...]) -> list[float]:
    """The expressions' values with the parameters, t and the state at ``point`` (symbols matched by name,
    whatever their assumptions)."""
    by_name: dict[str, float] = {p.name: p.value for p in m.parameters}
    by_name["t"] = point[0]
    by_name.update(zip(m.state, point[1:], strict=True))
    values = []
    for e in exprs:
        e = sp.sympify(e)
        value = e.subs({s: by_name[s.name] for s in e.free_symbols if s.name in by_name}).evalf()
        values.append(complex(value).real)
    return values


def _close(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


def _rounded(values: list[float]) -> list[float]:
    return [float(f"{v:.6g}") for v in values]


def main() -> None:
    verdicts = [judge(text, intended) for text, intended in load()]
    for v in verdicts:
        if v.outcome != "read":
            print(f"{v.outcome:12} {v.text!r}\n{'':12} intended {v.intended!r}: {v.detail}")
    read = sum(v.outcome == "read" for v in verdicts)
    print(f"read {read}/{len(verdicts)} = {read / len(verdicts):.1%}")


if __name__ == "__main__":
    main()
