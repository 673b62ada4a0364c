"""One check of a verification, and the z-test most of them share."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from scipy.stats import norm

from architect.kinds import CheckKind

#: Power of the reported detectable error: a bias that large is caught with at least this probability.
POWER = 0.99


@dataclass
class Check:
    """One test. Statistical checks carry numbers; sanity checks only ``passed`` and ``detail``."""

    name: str
    kind: CheckKind
    time: float | None = None
    theory: float | None = None
    estimate: float | None = None
    std_error: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    level: float | None = None
    passed: bool = False
    detectable_rel_error: float | None = None
    detail: str = ""
    coarse: float | None = None
    fine: float | None = None
    finer: float | None = None
    # A `kinds.TheoryKind` (None: a sanity check); typed str until `quantities` types its constants with it.
    theory_kind: str | None = None
    # Absolute equivalence margin (tolerance x the quantity's scale); internal, reported through detail.
    margin: float = field(default=0.0, repr=False)
    # The size detectable errors are relative to, where it is not |theory| (e.g. a convergence check's theory is 0).
    reference_size: float | None = field(default=None, repr=False)
    # Level -> absolute error detected with probability POWER, where it is not a z-test's (a CDF error).
    detector: Callable[[float], float] | None = field(default=None, repr=False)
    # Data for the report's plots (a distribution check's histogram and density).
    plot: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in _PUBLIC}
        return {k: json_number(v) for k, v in out.items()}


_PUBLIC = [f.name for f in fields(Check) if f.repr]


def json_number(value: Any) -> Any:
    """Floats stay floats; NaN and infinities become None so the JSON is strict."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value) if math.isfinite(value) else None


def sanity(name: str, passed: bool, detail: str) -> Check:
    return Check(name=name, kind="sanity", passed=passed, detail=detail)


def z_test(error: float, se: float, margin: float) -> tuple[float, float]:
    """z = error / se and a two-sided p-value for H0: |bias| ≤ margin (margin 0: the usual z-test).

    Measuring the excess over the margin keeps the test valid for every bias inside it:
    P(|N(b, se²)| - margin > c·se) ≤ 2(1 - Φ(c)) whenever |b| ≤ margin.
    """
    if not (math.isfinite(error) and math.isfinite(se)):
        # Overflowing or NaN estimates are a defect of the run, never evidence of agreement.
        return math.nan, 0.0
    excess = max(abs(error) - margin, 0.0)
    if se > 0:
        return error / se, float(min(1.0, 2.0 * norm.sf(excess / se)))
    # No noise at all (a deterministic quantity): it agrees or it does not.
    z = 0.0 if error == 0 else math.copysign(math.inf, error)
    return z, 1.0 if excess == 0 else 0.0


def detectable_error(check: Check) -> float | None:
    """Absolute error the check detects with probability ≥ POWER at its level, or None."""
    if check.level is None:
        return None
    if check.detector is not None:
        return check.detector(check.level)
    if check.std_error is None:
        return None
    # Fails with probability ≥ POWER once |bias| ≥ margin + (z_{1-level/2} + z_POWER)·se.
    return float(check.margin + (norm.isf(check.level / 2) + norm.ppf(POWER)) * check.std_error)
