"""Moment checks: Richardson estimates of the tested runs against exact or empirical-reference values.

Two runs of the tested binary, with N and 2N steps and independent seeds, give q_N and q_2N. Every scheme
we generate is at most first order in the weak sense, q_h = q + c h + O(h²), so R = 2 q_2N - q_N has an
O(h²) bias and standard error sqrt(4 se_2N² + se_N²). R is compared with the target by a two-sided z-test
whose standard error also includes the target's own (zero for exact theory).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from architect.verifier.check import Check, z_test
from architect.verifier.multiindex import Exponent
from architect.verifier.plan import TheoryPlan
from architect.verifier.quantities import (
    EXACT,
    MAX_ESTIMATOR_SKEWNESS,
    RICHARDSON_SKEW,
    Central,
    Quantity,
    Target,
    exact_targets,
    quantities,
    reference_targets,
    sample_central,
    theory_central,
    trusted,
)
from architect.verifier.sample import CheckpointMoments, Estimate, StatsSample, moments_from_samples, pool
from architect.verifier.structure import exact_in_law

#: Relative floating-point allowance on the raw power sums (summing 1e6 doubles loses far less); it only
#: decides checks whose noise is zero, such as the variance of a component without diffusion.
ROUNDING = 1e-9
#: Power-sum degree that the third and fourth central moments' standard errors need.
HIGHER_DEGREE = 8


def moment_check(
    label: str,
    q: Quantity,
    t: float,
    coarse: Estimate,
    fine: Estimate,
    target: Target,
    tolerance: float,
    steps: tuple[int, int],
) -> Check:
    estimate = 2.0 * fine.value - coarse.value
    se = math.sqrt(4.0 * fine.std_error**2 + coarse.std_error**2 + target.std_error**2)
    margin = tolerance * target.scale + ROUNDING * target.magnitude
    z, p = z_test(estimate - target.value, se, margin)
    detail = (
        f"{steps[0]} steps: {coarse.value:.6g} ± {coarse.std_error:.2g}; {steps[1]} steps: "
        f"{fine.value:.6g} ± {fine.std_error:.2g}; Richardson 2·fine - coarse = {estimate:.6g}"
    )
    if target.kind != EXACT:
        detail += f"; empirical reference {target.value:.6g} ± {target.std_error:.2g}"
    detail += f"; combined SE {se:.2g}"
    if se < abs(estimate - target.value) <= margin:  # the margin, not the noise, decided this check
        detail += f"; within the equivalence margin ±{margin:.2g}"
    return Check(
        name=f"{label} at t={t:g}",
        kind=q.kind,
        time=t,
        theory=target.value,
        estimate=estimate,
        std_error=se,
        statistic=z,
        p_value=p,
        detail=detail,
        coarse=coarse.value,
        fine=fine.value,
        theory_kind=target.kind,
        margin=margin,
    )


def pooled_check(
    label: str, q: Quantity, t: float, pooled: Estimate, runs: int, target: Target, tolerance: float
) -> Check:
    """For a scheme exact in law: all runs are one sample of the exact law, no Richardson needed."""
    se = math.sqrt(pooled.std_error**2 + target.std_error**2)
    margin = tolerance * target.scale + ROUNDING * target.magnitude
    z, p = z_test(pooled.value - target.value, se, margin)
    detail = (
        f"the scheme is exact in law here, so the {runs} runs are pooled: {pooled.value:.6g} ± {pooled.std_error:.2g}"
    )
    if se < abs(pooled.value - target.value) <= margin:
        detail += f"; within the equivalence margin ±{margin:.2g}"
    return Check(
        name=f"{label} at t={t:g}",
        kind=q.kind,
        time=t,
        theory=target.value,
        estimate=pooled.value,
        std_error=se,
        statistic=z,
        p_value=p,
        detail=detail,
        theory_kind=target.kind,
        margin=margin,
    )


def higher_moments(*runs: StatsSample) -> bool:
    """Whether every run reports the power sums the third and fourth central moments need."""
    return all(r.degree >= HIGHER_DEGREE for r in runs)


def exact_checks(plan: TheoryPlan, tested: Sequence[StatsSample], tolerance: float, notes: list[str]) -> list[Check]:
    """The exact subset's moments at every checkpoint (those the skewness guard trusts; the rest go to notes).

    Quantities of variables the scheme simulates exactly in law pool all tested runs; the rest use Richardson."""
    if plan.theory is None:
        return []
    coarse, fine = tested[0], tested[1]
    qs = quantities(plan.exact, higher_moments(*tested))
    paths = min(coarse.paths, fine.paths)
    exact = exact_in_law(plan.numeric, coarse.step_kinds) if plan.numeric is not None else frozenset()
    checks = []
    for k, (cp_c, cp_f) in enumerate(zip(coarse.checkpoints, fine.checkpoints, strict=True)):
        central = exact_central(plan, cp_c.time)
        kept = keep(qs, central, coarse.dim, paths, cp_c.time, coarse.state, notes)
        targets = exact_targets(plan.theory, plan.exact, cp_c.time, kept)
        if cp_c.count < 2 or cp_f.count < 2:
            continue  # the path-count sanity check already fails this verification
        pooled = pool([r.checkpoints[k] for r in tested]) if exact else None
        for q in kept:
            label, target = q.label(coarse.state), targets[q]
            if pooled is not None and set(q.indices) <= exact:
                checks.append(pooled_check(label, q, cp_c.time, q.estimate(pooled), len(tested), target, tolerance))
            else:
                steps = (coarse.steps, fine.steps)
                checks.append(
                    moment_check(label, q, cp_c.time, q.estimate(cp_c), q.estimate(cp_f), target, tolerance, steps)
                )
    return checks


def exact_central(plan: TheoryPlan, t: float) -> Central:
    guard = plan.guard
    return theory_central(guard, plan.exact, t) if guard is not None else _unknown


def _unknown(_e: Exponent) -> float | None:
    return None


def keep(
    qs: Sequence[Quantity], central: Central, dim: int, paths: int, t: float, state: Sequence[str], notes: list[str]
) -> list[Quantity]:
    """The quantities whose estimators are near enough to normal; a note for each one left out."""
    out = []
    for q in qs:
        ok, skew = trusted(q, central, dim, paths)
        if ok:
            out.append(q)
        elif skew is not None:
            notes.append(
                f"{q.label(state)} at t={t:g} not tested: its estimator's skewness "
                f"{abs(skew) * RICHARDSON_SKEW / math.sqrt(paths):.2g} exceeds {MAX_ESTIMATOR_SKEWNESS:g} at "
                f"{paths} paths (heavy tails; a normal p-value would not be trustworthy)"
            )
        else:
            notes.append(f"{q.label(state)} at t={t:g} not tested: too few moments to check its estimator's skewness")
    return out


def reference_checks(
    plan: TheoryPlan,
    coarse: StatsSample,
    fine: StatsSample,
    reference: tuple[StatsSample, StatsSample],
    tolerance: float,
    notes: list[str],
) -> list[Check]:
    """Moments of the variables without exact theory (and their covariances with all others) at every checkpoint."""
    qs = quantities(plan.others, higher_moments(coarse, fine, *reference), partners=range(coarse.dim))
    paths = min(coarse.paths, fine.paths)
    checks = []
    for cp_c, cp_f, ref_c, ref_f in zip(
        coarse.checkpoints, fine.checkpoints, reference[0].checkpoints, reference[1].checkpoints, strict=True
    ):
        # The reference is trusted, so its power sums (up to degree 12) decide which estimators are usable.
        kept = keep(qs, sample_central(ref_f), coarse.dim, paths, cp_c.time, coarse.state, notes)
        targets = reference_targets(ref_c, ref_f, kept)
        checks += _checks_at(kept, coarse.state, cp_c, cp_f, targets, tolerance, (coarse.steps, fine.steps))
    return checks


def _checks_at(
    qs: Sequence[Quantity],
    state: Sequence[str],
    coarse: CheckpointMoments,
    fine: CheckpointMoments,
    targets: dict[Quantity, Target],
    tolerance: float,
    steps: tuple[int, int],
) -> list[Check]:
    if coarse.count < 2 or fine.count < 2:
        return []  # the path-count sanity check already fails this verification
    return [
        moment_check(q.label(state), q, coarse.time, q.estimate(coarse), q.estimate(fine), targets[q], tolerance, steps)
        for q in qs
    ]


def transformed_checks(
    plan: TheoryPlan,
    terminal: tuple[np.ndarray, np.ndarray],
    steps: tuple[int, int],
    horizon: float,
    tolerance: float,
    notes: list[str],
) -> list[Check]:
    """Exact moments of the log-transformed state at the horizon, from the terminal states of two runs."""
    t = plan.transformed
    if t is None:
        return []
    samples = [t.states(x) for x in terminal]  # positivity of the logged columns is a sanity check
    cps = [moments_from_samples(s, t.theory.initial, HIGHER_DEGREE, horizon) for s in samples]
    local = range(len(t.subset))
    new = [k for k in local if t.subset[k] in t.logged or t.subset[k] not in plan.exact]
    labels = [t.label(k) for k in local]
    central = theory_central(t.guard, tuple(local), horizon) if t.guard is not None else _unknown
    paths = min(len(s) for s in samples)
    qs = keep(quantities(new, True, partners=local), central, len(local), paths, horizon, labels, notes)
    targets = exact_targets(t.theory, tuple(local), horizon, qs)
    checks = _checks_at(qs, labels, cps[0], cps[1], targets, tolerance, steps)
    for c in checks:
        c.detail += "; moments of the log-transformed state, from the terminal states"
    return checks


# ------------------------------------------------------------------------------- report data
def mean_paths(
    plan: TheoryPlan,
    coarse: StatsSample,
    fine: StatsSample,
    reference: tuple[StatsSample, StatsSample] | None,
) -> list[dict[str, object]]:
    """Per state variable: the Richardson estimate of the mean at t = 0 and every checkpoint, with theory."""
    out = []
    for i, name in enumerate(coarse.state):
        q = Quantity("mean", (i,))
        times, estimates, errors, theory = [0.0], [coarse.shift[i]], [0.0], [plan.model.initial[i]]
        for k, (cp_c, cp_f) in enumerate(zip(coarse.checkpoints, fine.checkpoints, strict=True)):
            if cp_c.count < 2 or cp_f.count < 2:
                continue
            c, f = q.estimate(cp_c), q.estimate(cp_f)
            times.append(cp_c.time)
            estimates.append(2 * f.value - c.value)
            errors.append(math.sqrt(4 * f.std_error**2 + c.std_error**2))
            theory.append(_mean_target(plan, q, cp_c.time, reference, k))
        kind = EXACT if i in plan.exact else ("empirical reference" if reference is not None else None)
        out.append(
            {
                "state": name,
                "times": times,
                "estimate": estimates,
                "std_error": errors,
                "theory": theory,
                "theory_kind": kind,
            }
        )
    return out


def _mean_target(
    plan: TheoryPlan, q: Quantity, t: float, reference: tuple[StatsSample, StatsSample] | None, k: int
) -> float | None:
    if plan.theory is not None and q.indices[0] in plan.exact:
        return exact_targets(plan.theory, plan.exact, t, [q])[q].value
    if reference is not None:
        return reference_targets(reference[0].checkpoints[k], reference[1].checkpoints[k], [q])[q].value
    return None
