"""Moment estimates, and their sampling covariance, from one ``architect.stats/1`` document.

Per checkpoint the simulator reports power sums S_e = Σ_paths Π_i (x_i - s_i)^{e_i}. The raw shifted
moments are μ̂_e = S_e / n and, paths being i.i.d., Cov(μ̂_e, μ̂_f) = (μ_{e+f} - μ_e μ_f) / n, estimated by
plugging in μ̂ (possible whenever deg(e + f) ≤ the moment degree). Means, variances and covariances of
the state are smooth functions of the μ's, so their standard errors follow from the delta method.

The document comes from a binary we generated but must not trust: everything is validated and any
defect raises `SampleError` with a message fit for a report, never a bare KeyError or TypeError.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from architect.errors import RunError
from architect.verifier.multiindex import Exponent, add, multi_indices, unit

STATS_FORMAT = "architect.stats/1"


class SampleError(RunError):
    """The statistics document is malformed or inconsistent."""


@dataclass(frozen=True)
class Estimate:
    value: float
    std_error: float


@dataclass(frozen=True)
class CheckpointMoments:
    """Moment estimates at one observation time."""

    step: int
    time: float
    count: int
    nonfinite: int
    shift: tuple[float, ...]
    degree: int
    raw: dict[Exponent, float]

    @property
    def dim(self) -> int:
        return len(self.shift)

    def moment(self, e: Exponent) -> float:
        """μ̂_e; the zero exponent is 1."""
        if sum(e) == 0:
            return 1.0
        return self.raw[e]

    def moment_cov(self, e: Exponent, f: Exponent) -> float:
        """Estimated Cov(μ̂_e, μ̂_f) = (μ̂_{e+f} - μ̂_e μ̂_f) / n."""
        self._need_paths()
        return (self.moment(add(e, f)) - self.moment(e) * self.moment(f)) / self.count

    def can_estimate(self, order: int) -> bool:
        """Whether a quantity built from moments of degree ``order`` has a standard error here."""
        return 2 * order <= self.degree and self.count >= 2

    def mean(self, i: int) -> Estimate:
        """E[X_i] = s_i + μ_{e_i}."""
        e = unit(self.dim, i)
        return self._delta(self.shift[i] + self.moment(e), {e: 1.0})

    def variance(self, i: int) -> Estimate:
        return self.covariance(i, i)

    def central_moment(self, i: int, k: int) -> Estimate:
        """Plug-in E[(X_i - E X_i)^k] for k = 3 or 4, from the shifted raw moments μ_j = E[(X_i - s_i)^j].

        The O(1/n) bias of the plug-in estimator is far below its standard error for any usable n.
        """
        e = [tuple(j * u for u in unit(self.dim, i)) for j in range(k + 1)]
        m1, m2, m3 = (self.moment(e[j]) for j in (1, 2, 3))
        if k == 3:
            value = m3 - 3 * m1 * m2 + 2 * m1**3
            grad = {e[1]: -3 * m2 + 6 * m1**2, e[2]: -3 * m1, e[3]: 1.0}
        elif k == 4:
            m4 = self.moment(e[4])
            value = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
            grad = {e[1]: -4 * m3 + 12 * m1 * m2 - 12 * m1**3, e[2]: 6 * m1**2, e[3]: -4 * m1, e[4]: 1.0}
        else:
            raise ValueError(f"central moments of order 3 or 4 only, got {k}")
        self._need_paths()
        return self._delta(value, grad)

    def covariance(self, i: int, j: int) -> Estimate:
        """Unbiased sample covariance n/(n-1) (μ_{e_i+e_j} - μ_{e_i} μ_{e_j}), shift-invariant."""
        self._need_paths()
        ei, ej = unit(self.dim, i), unit(self.dim, j)
        mi, mj = self.moment(ei), self.moment(ej)
        # n/(n-1) removes the O(1/n) bias of the plug-in estimator; it barely matters but costs nothing.
        k = self.count / (self.count - 1)
        grad: dict[Exponent, float] = {add(ei, ej): k}
        grad[ei] = grad.get(ei, 0.0) - k * mj
        grad[ej] = grad.get(ej, 0.0) - k * mi
        return self._delta(k * (self.moment(add(ei, ej)) - mi * mj), grad)

    def _delta(self, value: float, grad: dict[Exponent, float]) -> Estimate:
        """Delta method: Var ≈ gᵀ Σ g with Σ the estimated covariance of the raw moments."""
        order = max(sum(e) for e in grad)
        if not self.can_estimate(order):
            raise SampleError(
                f"at t={self.time:g}: a standard error for moments of degree {order} needs moment degree "
                f"≥ {2 * order} and at least 2 finite paths (have degree {self.degree}, {self.count} paths)"
            )
        keys = list(grad)
        var = sum(grad[e] * grad[f] * self.moment_cov(e, f) for e in keys for f in keys)
        # Rounding can push a (near-)zero variance slightly negative; it is a variance, so clamp.
        return Estimate(float(value), math.sqrt(max(var, 0.0)))

    def _need_paths(self) -> None:
        if self.count < 2:
            raise SampleError(f"at t={self.time:g}: only {self.count} finite paths, too few to estimate anything")


@dataclass(frozen=True)
class StatsSample:
    """A validated statistics document."""

    model: str
    state: tuple[str, ...]
    scheme: str
    paths: int
    steps: int
    horizon: float
    seed: int
    shift: tuple[float, ...]
    degree: int
    checkpoints: tuple[CheckpointMoments, ...]
    #: The binary's step kind per state variable ("euler", "log-euler", "full-truncation"); empty if not reported.
    step_kinds: tuple[str, ...] = ()

    @property
    def dim(self) -> int:
        return len(self.state)


# --------------------------------------------------------------------------------------- parsing
def parse_stats(data: Any) -> StatsSample:
    """Validate an ``architect.stats/1`` dict and turn it into moment estimates; raises `SampleError`."""
    if not isinstance(data, Mapping):
        raise SampleError(f"statistics must be a JSON object, got {type(data).__name__}")
    if data.get("format") != STATS_FORMAT:
        raise SampleError(f"statistics format is {data.get('format')!r}, expected {STATS_FORMAT!r}")
    state = _str_list(data, "state")
    if not state or len(set(state)) != len(state):
        raise SampleError("statistics: 'state' must be a non-empty list of distinct names")
    dim = len(state)
    shift = _float_list(data, "shift", dim)
    degree, exponents = _exponents(data, dim)
    checkpoints = _list(data, "checkpoints")
    if not checkpoints:
        raise SampleError("statistics: 'checkpoints' is empty")
    parsed = tuple(_checkpoint(cp, k, shift, degree, exponents) for k, cp in enumerate(checkpoints))
    times = [cp.time for cp in parsed]
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise SampleError(f"statistics: checkpoint times are not increasing: {times}")
    horizon = _float(data, "horizon")
    if horizon <= 0:
        raise SampleError(f"statistics: horizon must be positive, got {horizon:g}")
    return StatsSample(
        model=_str(data, "model"),
        state=tuple(state),
        scheme=_str(data, "scheme"),
        paths=_int(data, "paths", minimum=0),
        steps=_int(data, "steps", minimum=1),
        horizon=horizon,
        seed=_int(data, "seed", minimum=0),
        shift=tuple(shift),
        degree=degree,
        checkpoints=parsed,
        step_kinds=_step_kinds(data, dim),
    )


def _step_kinds(data: Mapping[str, Any], dim: int) -> tuple[str, ...]:
    """Optional: only decides whether an exact-law test may assume an unbiased scheme."""
    kinds = data.get("step_kinds")
    if kinds is None:
        return ()
    if not isinstance(kinds, list) or len(kinds) != dim or not all(isinstance(k, str) for k in kinds):
        raise SampleError(f"statistics: 'step_kinds' must be a list of {dim} strings")
    return tuple(kinds)


def pool(cps: Sequence[CheckpointMoments]) -> CheckpointMoments | None:
    """Independent runs of the same law at one time as one sample (count-weighted raw moments); None if they
    are not poolable (different shifts or times)."""
    first = cps[0]
    if any(cp.shift != first.shift or cp.time != first.time for cp in cps) or any(cp.count < 2 for cp in cps):
        return None
    count = sum(cp.count for cp in cps)
    degree = min(cp.degree for cp in cps)
    raw = {e: sum(cp.count * cp.raw[e] for cp in cps) / count for e in multi_indices(first.dim, degree)}
    nonfinite = sum(cp.nonfinite for cp in cps)
    return CheckpointMoments(first.step, first.time, count, nonfinite, first.shift, degree, raw)


def moments_from_samples(samples: np.ndarray, shift: Sequence[float], degree: int, time: float) -> CheckpointMoments:
    """Power sums of i.i.d. observed states (rows), in the simulator's layout: moments of terminal samples.

    Used for transformed states (log S), whose power sums the simulator cannot report.
    """
    x = np.asarray(samples, dtype=float)
    y = x - np.asarray(shift, dtype=float)
    exponents = multi_indices(x.shape[1], degree)
    powers = [[np.ones(len(y))] for _ in range(x.shape[1])]
    for column, p in enumerate(powers):
        for _ in range(degree):
            p.append(p[-1] * y[:, column])
    raw = {}
    for e in exponents:
        product = np.ones(len(y))
        for column, k in enumerate(e):
            if k:
                product = product * powers[column][k]
        raw[e] = float(product.mean())
    return CheckpointMoments(
        step=0, time=time, count=len(y), nonfinite=0, shift=tuple(float(s) for s in shift), degree=degree, raw=raw
    )


def _exponents(data: Mapping[str, Any], dim: int) -> tuple[int, list[Exponent]]:
    raw = _list(data, "exponents")
    try:
        exponents = [tuple(_as_int(k) for k in e) for e in raw]
    except (TypeError, ValueError):
        raise SampleError("statistics: 'exponents' must be a list of lists of integers") from None
    degree = max((sum(e) for e in exponents), default=0)
    if degree < 2:
        raise SampleError(f"statistics: moment degree {degree} is too low; standard errors need at least 2")
    # Count first: a lying binary's huge exponent must not make us enumerate that many multi-indices.
    if len(exponents) != math.comb(dim + degree, dim) - 1:
        raise SampleError(
            f"statistics: {len(exponents)} exponents, but {dim}-variable moments of degree 1..{degree} need "
            f"{math.comb(dim + degree, dim) - 1}"
        )
    # The order is part of the contract; accepting anything else would silently pair sums with wrong moments.
    expected = multi_indices(dim, degree)
    if exponents != expected:
        raise SampleError(
            f"statistics: 'exponents' is not the list of all {dim}-variable multi-indices of degree 1..{degree} "
            "in the contract's order"
        )
    return degree, exponents


def _checkpoint(cp: Any, k: int, shift: list[float], degree: int, exponents: list[Exponent]) -> CheckpointMoments:
    where = f"checkpoint {k}"
    if not isinstance(cp, Mapping):
        raise SampleError(f"statistics: {where} is not an object")
    count = _int(cp, "count", minimum=0, where=where)
    sums = _float_list(cp, "sums", len(exponents), where=where)
    raw = {e: s / count for e, s in zip(exponents, sums, strict=True)} if count else {e: math.nan for e in exponents}
    time = _float(cp, "time", where=where)
    if time < 0:
        raise SampleError(f"statistics: {where} has negative time {time:g}")
    return CheckpointMoments(
        step=_int(cp, "step", minimum=0, where=where),
        time=time,
        count=count,
        nonfinite=_int(cp, "nonfinite", minimum=0, where=where),
        shift=tuple(shift),
        degree=degree,
        raw=raw,
    )


# ---------------------------------------------------------------------------- field validation
def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise SampleError(f"statistics: {where}missing '{key}'")
    return data[key]


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def _str(data: Mapping[str, Any], key: str, where: str = "") -> str:
    value = _get(data, key, _prefix(where))
    if not isinstance(value, str):
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must be a string")
    return value


def _str_list(data: Mapping[str, Any], key: str) -> list[str]:
    value = _list(data, key)
    if not all(isinstance(v, str) for v in value):
        raise SampleError(f"statistics: '{key}' must be a list of strings")
    return list(value)


def _list(data: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = _get(data, key, _prefix(where))
    if not isinstance(value, list):
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must be a list")
    return value


def _as_int(value: Any) -> int:
    # bool is an int subclass in Python but never a valid count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _int(data: Mapping[str, Any], key: str, minimum: int, where: str = "") -> int:
    value = _get(data, key, _prefix(where))
    try:
        number = _as_int(value)
    except TypeError:
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must be an integer, got {value!r}") from None
    if number < minimum:
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must be ≥ {minimum}, got {number}")
    return number


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _float(data: Mapping[str, Any], key: str, where: str = "") -> float:
    value = _get(data, key, _prefix(where))
    try:
        return _as_float(value)
    except (TypeError, ValueError, OverflowError):
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must be a finite number, got {value!r}") from None


def _float_list(data: Mapping[str, Any], key: str, length: int, where: str = "") -> list[float]:
    value = _list(data, key, where)
    if len(value) != length:
        raise SampleError(f"statistics: {_prefix(where)}'{key}' has {len(value)} entries, expected {length}")
    try:
        numbers = [_as_float(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        raise SampleError(f"statistics: {_prefix(where)}'{key}' must contain only finite numbers") from None
    return numbers
