"""The verdict: does a compiled simulator's output agree with the SDE's exact moments?

Two runs of the same binary, with N and 2N steps and independent seeds, give moment estimates q_N and
q_2N. Every scheme we generate is at most first order in the weak sense, q_h = q + c h + O(h²), so the
Richardson combination R = 2 q_2N - q_N removes the leading bias. Its standard error, the runs being
independent, is sqrt(4 se_2N² + se_N²). Each quantity (mean, variance, covariance of the state at every
checkpoint) gets a two-sided z-test against the exact value from `PolynomialMoments`, and Holm's
step-down procedure keeps the probability of failing a correct simulator below ``alpha`` across all of
them. Deterministic sanity checks (finite paths, consistent runs, matching state names) must pass too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy.stats import norm

from architect.model import SdeModel
from architect.verifier.sample import CheckpointMoments, Estimate, SampleError, StatsSample, parse_stats
from architect.verifier.theory import NotPolynomial, PolynomialMoments

#: Power of the reported detectable error: a bias that large is caught with at least this probability.
POWER = 0.99
#: Relative agreement required of checkpoint times and horizons that should be equal.
TIME_RTOL = 1e-9
#: Relative floating-point allowance on the raw power sums (summing 1e6 doubles loses far less); it only
#: decides checks whose noise is zero, such as the variance of a component without diffusion.
ROUNDING = 1e-9
#: Moment degree the standard errors of variances and covariances need (fourth moments).
REQUIRED_DEGREE = 4


@dataclass
class Check:
    """One test. Statistical checks carry numbers; sanity checks only ``passed`` and ``detail``."""

    name: str
    kind: str  # "mean" | "variance" | "covariance" | "sanity"
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
    # Absolute equivalence margin (tolerance x the quantity's scale); internal, reported through detail.
    margin: float = field(default=0.0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("margin")
        return {k: _json_number(v) for k, v in out.items()}


@dataclass
class Verification:
    verdict: str  # "pass" | "fail"
    reason: str
    alpha: float
    correction: str
    checks: list[Check]
    method: str
    tolerance: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self, include_checks: bool = True) -> dict[str, Any]:
        failed = sum(not c.passed for c in self.checks)
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "reason": self.reason,
            "alpha": _json_number(self.alpha),
            "correction": self.correction,
            "tolerance": _json_number(self.tolerance),
            "n_checks": len(self.checks),
            "n_failed": failed,
            "method": self.method,
        }
        if include_checks:
            out["checks"] = [c.to_dict() for c in self.checks]
        return out


def _json_number(value: Any) -> Any:
    """Floats stay floats; NaN and infinities become None so the JSON is strict."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value) if math.isfinite(value) else None


# ------------------------------------------------------------------------------------ the verdict
def verify(
    model: SdeModel,
    coarse_stats: Mapping[str, Any],
    fine_stats: Mapping[str, Any],
    alpha: float = 1e-3,
    tolerance: float = 1e-4,
    description: Mapping[str, Any] | None = None,
) -> Verification:
    """Verify two runs (N and 2N steps, independent seeds) of a simulator of ``model``; never raises on bad data.

    ``tolerance`` is a relative equivalence margin: a quantity counts as wrong only when it misses the
    theory by more than ``tolerance`` x its scale *and* by more than the noise. It only matters where the
    noise is smaller still (deterministic components, where an O(h²) residue would otherwise fail).
    ``description`` is the binary's `--describe` output; when given, its parameter values and initial
    state must be the model's.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must lie in [0, 1), got {tolerance}")
    runs, checks = _parse_runs(coarse_stats, fine_stats)
    if description is not None:
        checks.append(_description_check(model, description))
    if runs is not None:
        checks += _sanity_checks(model, *runs)
    structural_ok = runs is not None and all(c.passed for c in checks)
    if runs is not None:
        checks += _count_checks(*runs)
    try:
        theory = PolynomialMoments.from_model(model, 2)
    except NotPolynomial as exc:
        reason = f"no exact theory for this model yet: {exc.reason}"
        method = (
            "Only the sanity checks ran. Exact moments come from the generator of the SDE, which needs a "
            "time-homogeneous model with affine drift and an instantaneous covariance σρσᵀ of degree ≤ 2 in the "
            f"state (a polynomial diffusion); this model is not one ({exc.reason})."
        )
        return Verification("fail", reason, alpha, "holm", checks, method, tolerance)
    moment_checks = _moment_checks(theory, *runs, tolerance) if runs is not None and structural_ok else []
    _apply_holm(moment_checks, alpha)
    checks += moment_checks
    verdict = "pass" if all(c.passed for c in checks) and moment_checks else "fail"
    reason = _reason(checks, moment_checks, alpha)
    method = _method(runs, alpha, tolerance)
    return Verification(verdict, reason, alpha, "holm", checks, method, tolerance)


def _parse_runs(coarse: Any, fine: Any) -> tuple[tuple[StatsSample, StatsSample] | None, list[Check]]:
    parsed, checks = [], []
    for label, data in (("coarse", coarse), ("fine", fine)):
        try:
            parsed.append(parse_stats(data))
            checks.append(_sanity(f"{label} statistics are well-formed", True, "architect.stats/1, validated"))
        except SampleError as exc:
            checks.append(_sanity(f"{label} statistics are well-formed", False, str(exc)))
    return ((parsed[0], parsed[1]) if len(parsed) == 2 else None), checks


def _sanity(name: str, passed: bool, detail: str) -> Check:
    return Check(name=name, kind="sanity", passed=passed, detail=detail)


# -------------------------------------------------------------------------------- sanity checks
def _description_check(model: SdeModel, description: Mapping[str, Any]) -> Check:
    """The binary's own account of its parameters and initial state must be the model's."""
    problems = []
    claimed = description.get("parameters")
    claimed = claimed if isinstance(claimed, Mapping) else {}
    for name, value in model.parameter_values().items():
        got = claimed.get(name)
        if not isinstance(got, (int, float)) or not math.isclose(got, value, rel_tol=1e-12, abs_tol=1e-300):
            problems.append(f"parameter {name} is {got!r} in the binary, {value!r} in the model")
    initial = description.get("initial_state")
    if (
        not isinstance(initial, list)
        or len(initial) != model.dim
        or not all(
            isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
            for a, b in zip(initial, model.initial, strict=False)
        )
    ):
        problems.append(f"initial state is {initial!r} in the binary, {list(model.initial)!r} in the model")
    detail = "; ".join(problems) or "parameters and initial state match the model"
    return _sanity("binary simulates the model's parameters", not problems, detail)


def _sanity_checks(model: SdeModel, coarse: StatsSample, fine: StatsSample) -> list[Check]:
    """Checks that make the statistical comparison meaningful at all; any failure skips the z-tests."""
    bad_names = [f"{label} run has {list(r.state)}" for label, r in (("coarse", coarse), ("fine", fine))]
    names_ok = coarse.state == model.state and fine.state == model.state
    names = _sanity(
        "state names match the model",
        names_ok,
        f"{list(model.state)}" if names_ok else f"model has {list(model.state)}; " + "; ".join(bad_names),
    )
    problems = _comparability_problems(coarse, fine)
    comparable = _sanity("runs are comparable", not problems, "; ".join(problems) or _comparable_detail(coarse, fine))
    low = [f"{label} run has degree {r.degree}" for label, r in (("coarse", coarse), ("fine", fine))]
    degree_ok = min(coarse.degree, fine.degree) >= REQUIRED_DEGREE
    degree = _sanity(
        f"moments up to degree {REQUIRED_DEGREE} reported",
        degree_ok,
        "standard errors of variances and covariances need fourth moments"
        + ("" if degree_ok else ": " + "; ".join(low)),
    )
    return [names, comparable, degree]


def _comparable_detail(coarse: StatsSample, fine: StatsSample) -> str:
    return (
        f"same model, scheme, horizon {coarse.horizon:g} and {len(coarse.checkpoints)} checkpoint times; "
        f"steps {coarse.steps} and {fine.steps}; seeds {coarse.seed} and {fine.seed}"
    )


def _comparability_problems(coarse: StatsSample, fine: StatsSample) -> list[str]:
    problems = []
    for what in ("model", "state", "scheme"):
        a, b = getattr(coarse, what), getattr(fine, what)
        if a != b:
            problems.append(f"the runs disagree on {what}: {a!r} vs {b!r}")
    if not _close(coarse.horizon, fine.horizon, coarse.horizon):
        problems.append(f"the runs disagree on the horizon: {coarse.horizon:g} vs {fine.horizon:g}")
    coarse_times = [cp.time for cp in coarse.checkpoints]
    fine_times = [cp.time for cp in fine.checkpoints]
    if len(coarse_times) != len(fine_times) or not all(
        _close(a, b, coarse.horizon) for a, b in zip(coarse_times, fine_times, strict=True)
    ):
        problems.append(f"the runs disagree on checkpoint times: {coarse_times} vs {fine_times}")
    if fine.steps != 2 * coarse.steps:
        problems.append(f"the fine run must have twice the coarse run's steps, got {coarse.steps} and {fine.steps}")
    if coarse.seed == fine.seed:
        problems.append(f"both runs used seed {coarse.seed}; the error estimate needs independent runs")
    for label, run in (("coarse", coarse), ("fine", fine)):
        for cp in run.checkpoints:
            expected = cp.step * run.horizon / run.steps
            if not _close(cp.time, expected, run.horizon) or cp.step > run.steps:
                problems.append(f"{label} run: checkpoint at step {cp.step} reports time {cp.time:g}, not {expected:g}")
                break
    return problems


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= TIME_RTOL * max(abs(scale), abs(a), abs(b))


def _count_checks(coarse: StatsSample, fine: StatsSample) -> list[Check]:
    """Every path must survive to every checkpoint; a NaN is a simulator defect, never noise."""
    nonfinite, miscounted = [], []
    for label, run in (("coarse", coarse), ("fine", fine)):
        for cp in run.checkpoints:
            if cp.nonfinite:
                nonfinite.append(f"{label} run: {cp.nonfinite} of {run.paths} paths non-finite at t={cp.time:g}")
            if cp.count != run.paths:
                miscounted.append(f"{label} run: {cp.count} of {run.paths} paths counted at t={cp.time:g}")
    too_few = [f"{label} run has {r.paths} paths" for label, r in (("coarse", coarse), ("fine", fine)) if r.paths < 2]
    return [
        _sanity("all paths finite", not nonfinite, "; ".join(nonfinite[:4]) or "no NaN or infinite values"),
        _sanity(
            "every path counted",
            not miscounted and not too_few,
            "; ".join((too_few + miscounted)[:4]) or "count = paths at every checkpoint",
        ),
    ]


# ------------------------------------------------------------------------------- moment checks
@dataclass(frozen=True)
class _Quantity:
    kind: str
    name: str
    estimate: Callable[[CheckpointMoments], Estimate]
    theory: float
    scale: float  # natural size of the quantity: the equivalence margin is tolerance x scale
    magnitude: float  # size of the raw numbers it is computed from: the rounding allowance is ROUNDING x this


def _quantities(theory: PolynomialMoments, t: float) -> list[_Quantity]:
    state, d = theory.state, theory.dim
    mean, cov = theory.mean(t).tolist(), theory.covariance(t).tolist()
    sd = [math.sqrt(max(cov[i][i], 0.0)) for i in range(d)]
    # E[(X_i - x0_i)^2]: the simulator's power sums are taken about x0, so their size bounds the rounding.
    raw2 = [
        float(v) for v in theory.expect(t, [tuple(2 * int(k == i) for k in range(d)) for i in range(d)], theory.initial)
    ]
    rms = [math.sqrt(max(v, 0.0)) for v in raw2]
    out = [
        _Quantity(
            "mean",
            f"mean of {state[i]}",
            lambda cp, i=i: cp.mean(i),
            mean[i],
            max(abs(mean[i]), sd[i]),
            abs(float(theory.initial[i])) + rms[i],
        )
        for i in range(d)
    ]
    out += [
        _Quantity("variance", f"variance of {state[i]}", lambda cp, i=i: cp.variance(i), cov[i][i], sd[i] ** 2, raw2[i])
        for i in range(d)
    ]
    out += [
        _Quantity(
            "covariance",
            f"covariance of {state[i]} and {state[j]}",
            lambda cp, i=i, j=j: cp.covariance(i, j),
            cov[i][j],
            sd[i] * sd[j],
            rms[i] * rms[j],
        )
        for i in range(d)
        for j in range(i + 1, d)
    ]
    return out


def _moment_checks(theory: PolynomialMoments, coarse: StatsSample, fine: StatsSample, tolerance: float) -> list[Check]:
    checks = []
    for cp_c, cp_f in zip(coarse.checkpoints, fine.checkpoints, strict=True):
        if cp_c.count < 2 or cp_f.count < 2:
            continue  # the path-count sanity check already fails this verification
        for q in _quantities(theory, cp_c.time):
            checks.append(_z_check(q, cp_c.time, q.estimate(cp_c), q.estimate(cp_f), tolerance, coarse.steps))
    return checks


def _z_check(q: _Quantity, t: float, coarse: Estimate, fine: Estimate, tolerance: float, steps: int) -> Check:
    estimate = 2.0 * fine.value - coarse.value
    se = math.sqrt(4.0 * fine.std_error**2 + coarse.std_error**2)
    margin = tolerance * q.scale + ROUNDING * q.magnitude
    z, p = _z_test(estimate - q.theory, se, margin)
    detail = (
        f"{steps} steps: {coarse.value:.6g} ± {coarse.std_error:.2g}; {2 * steps} steps: "
        f"{fine.value:.6g} ± {fine.std_error:.2g}; Richardson 2·fine - coarse = {estimate:.6g} ± {se:.2g}"
    )
    if se < abs(estimate - q.theory) <= margin:  # the margin, not the noise, decided this check
        detail += f"; within the equivalence margin ±{margin:.2g}"
    return Check(
        name=f"{q.name} at t={t:g}",
        kind=q.kind,
        time=t,
        theory=q.theory,
        estimate=estimate,
        std_error=se,
        statistic=z,
        p_value=p,
        detail=detail,
        coarse=coarse.value,
        fine=fine.value,
        margin=margin,
    )


def _z_test(error: float, se: float, margin: float) -> tuple[float, float]:
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


# ------------------------------------------------------------------------------------------- Holm
def holm(p_values: Sequence[float], alpha: float) -> list[tuple[float, bool]]:
    """Holm's step-down procedure: per hypothesis (its level alpha / (m - rank), whether it is rejected).

    Sorted ascending, the k-th smallest p (k = 0..m-1) is compared with alpha / (m - k); rejection
    stops at the first p above its level, and every later hypothesis is kept even if its own p is
    below its level. This controls the family-wise error rate at alpha under any dependence.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda k: p_values[k])
    out: list[tuple[float, bool]] = [(alpha, False)] * m
    rejecting = True
    for rank, k in enumerate(order):
        level = alpha / (m - rank)
        rejecting = rejecting and p_values[k] <= level
        out[k] = (level, rejecting)
    return out


def _apply_holm(checks: list[Check], alpha: float) -> None:
    decisions = holm([c.p_value if c.p_value is not None else 0.0 for c in checks], alpha)
    z_power = norm.ppf(POWER)
    for check, (level, rejected) in zip(checks, decisions, strict=True):
        check.level = level
        check.passed = not rejected
        assert check.std_error is not None and check.theory is not None
        # Fails with probability ≥ POWER once |bias| ≥ margin + (z_{1-level/2} + z_POWER)·se.
        detectable = check.margin + (norm.isf(level / 2) + z_power) * check.std_error
        check.detectable_rel_error = detectable / abs(check.theory) if check.theory != 0 else None


# --------------------------------------------------------------------------------------- wording
def _reason(checks: list[Check], moment_checks: list[Check], alpha: float) -> str:
    broken = [c for c in checks if c.kind == "sanity" and not c.passed]
    if broken:
        return f"{broken[0].name}: failed ({broken[0].detail})"
    failed = [c for c in moment_checks if not c.passed]
    if not moment_checks:
        return "no moment could be compared with the theory"
    if not failed:
        count = len(moment_checks)
        return f"all {count} moment checks agree with the exact theory at family-wise level {alpha:g} (Holm)"
    worst = min(failed, key=lambda c: c.p_value if c.p_value is not None else 0.0)
    return (
        f"{len(failed)} of {len(moment_checks)} moment checks failed; worst: {worst.name}: estimate "
        f"{worst.estimate:.6g} vs theory {worst.theory:.6g} (z = {worst.statistic:.3g}, p = {worst.p_value:.2g})"
    )


def _method(runs: tuple[StatsSample, StatsSample] | None, alpha: float, tolerance: float) -> str:
    setting = "two independent runs"
    if runs is not None:
        c, f = runs
        setting = (
            f"two independent runs ({c.paths} paths with {c.steps} steps, seed {c.seed}; "
            f"{f.paths} paths with {f.steps} steps, seed {f.seed}; horizon {c.horizon:g}; "
            f"{len(c.checkpoints)} checkpoints)"
        )
    return (
        f"Exact moments come from the generator of the SDE: with affine drift and a quadratic instantaneous "
        f"covariance σρσᵀ the generator maps polynomials of degree ≤ 2 to themselves (Filipović & Larsson 2016), "
        f"so E[m(X_t)] = expm(tG) m(x0) on the monomial basis. The simulator was observed through {setting}; "
        f"from its power sums we estimate, at every checkpoint, the mean and variance of each state variable and "
        f"the covariance of each pair, with delta-method standard errors. The O(h) weak bias of the scheme is "
        f"removed by Richardson extrapolation R = 2·q(h/2) - q(h), with standard error "
        f"sqrt(4·se(h/2)² + se(h)²). Each R is compared with the theory by a two-sided z-test; differences below "
        f"{tolerance:g} of the quantity's scale are treated as agreement. Holm's step-down correction holds the "
        f"probability of failing a correct simulator at {alpha:g} across all checks. "
        f"Sanity checks (finite paths, every path counted, consistent runs, matching state names) must also pass. "
        f"'detectable rel. error' is the relative bias each check detects with probability ≥ {POWER:g}."
    )
