"""Moment checks: extrapolated estimates of the tested runs against exact or empirical-reference values.

Runs of the tested binary with N, 2N and 4N steps and independent seeds give q_N, q_2N, q_4N. Every scheme
we generate is at most first order in the weak sense, q_h = q + c h + O(h²), so the least-squares intercept
R = (-q_N + q_2N + 2 q_4N)/2 has an O(h²) bias and standard error sqrt((se_N² + se_2N²)/4 + se_4N²)
(`quantities.extrapolate`; with only two runs, Richardson 2 q_2N - q_N). R is compared with the target by a
two-sided z-test whose standard error also includes the target's own (zero for exact theory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from architect.verifier.check_result import Check, z_test
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
    extrapolate,
    extrapolation_note,
    extrapolation_weights,
    quantities,
    reference_targets,
    same_step_targets,
    sample_central,
    theory_central,
    trusted,
)
from architect.verifier.sample import CheckpointMoments, Estimate, StatsSample, moments_from_samples, pool
from architect.verifier.structure import exact_in_law
from architect.verifier.theory import ODE_METHOD, ODE_RTOL

#: Relative floating-point allowance on the raw power sums (summing 1e6 doubles loses far less); it only
#: decides checks whose noise is zero, such as the variance of a component without diffusion.
ROUNDING = 1e-9
#: Power-sum degree that the third and fourth central moments' standard errors need.
HIGHER_DEGREE = 8


def moment_check(
    label: str,
    q: Quantity,
    t: float,
    runs: Sequence[Estimate],
    target: Target,
    tolerance: float,
    steps: Sequence[int],
) -> Check:
    """``runs``: q's estimates from the runs with ``steps`` (N, 2N and possibly 4N) steps."""
    combined = extrapolate(runs)

    def describe(se: float) -> str:
        per_run = "; ".join(f"{n} steps: {r.value:.6g} ± {r.std_error:.2g}" for n, r in zip(steps, runs, strict=True))
        detail = f"{per_run}; {extrapolation_note(len(runs))} = {combined.value:.6g}"
        if target.kind != EXACT:
            detail += f"; empirical reference {target.value:.6g} ± {target.std_error:.2g}"
        return detail + f"; combined SE {se:.2g}"

    return _compared(f"{label} at t={t:g}", q, t, combined, target, tolerance, describe, runs)


def pooled_check(
    label: str, q: Quantity, t: float, pooled: Estimate, runs: int, target: Target, tolerance: float
) -> Check:
    """For a scheme exact in law: all runs are one sample of the exact law, no Richardson needed."""

    def describe(_se: float) -> str:
        pooled_text = f"{pooled.value:.6g} ± {pooled.std_error:.2g}"
        return f"the scheme is exact in law here, so the {runs} runs are pooled: {pooled_text}"

    return _compared(f"{label} at t={t:g}", q, t, pooled, target, tolerance, describe)


def _compared(
    name: str,
    q: Quantity,
    t: float,
    estimate: Estimate,
    target: Target,
    tolerance: float,
    describe: Callable[[float], str],
    runs: Sequence[Estimate] = (),
) -> Check:
    """The two-sided z-test of ``estimate`` against ``target`` (their standard errors combined) with the
    equivalence margin ``tolerance`` x the target's scale plus rounding; ``describe(se)`` words the detail;
    ``runs``: the per-step-count estimates an extrapolated ``estimate`` came from (the report shows them)."""
    se = math.sqrt(estimate.std_error**2 + target.std_error**2)
    margin = tolerance * target.scale + ROUNDING * target.magnitude
    if target.numerical_error is not None:  # theory from the moment ODE: its error is a known, bounded bias
        margin += target.numerical_error
    z, p = z_test(estimate.value - target.value, se, margin)
    detail = describe(se)
    if target.numerical_error is not None:
        detail += (
            f"; exact value from the moment ODE ({ODE_METHOD}, rtol {ODE_RTOL:g}): numerical error "
            f"≤ {target.numerical_error:.1g}, against the equivalence margin ±{margin:.2g} and SE {se:.2g}"
        )
    if se < abs(estimate.value - target.value) <= margin:  # the margin, not the noise, decided this check
        detail += f"; within the equivalence margin ±{margin:.2g}"
    return Check(
        name=name,
        kind=q.kind,
        time=t,
        theory=target.value,
        estimate=estimate.value,
        std_error=se,
        statistic=z,
        p_value=p,
        detail=detail,
        theory_kind=target.kind,
        margin=margin,
        coarse=runs[0].value if runs else None,
        fine=runs[1].value if len(runs) > 1 else None,
        finer=runs[2].value if len(runs) > 2 else None,
    )


def higher_moments(*runs: StatsSample) -> bool:
    """Whether every run reports the power sums the third and fourth central moments need."""
    return all(r.degree >= HIGHER_DEGREE for r in runs)


def exact_checks(plan: TheoryPlan, tested: Sequence[StatsSample], tolerance: float, notes: list[str]) -> list[Check]:
    """The exact subset's moments at every checkpoint (those the skewness guard trusts; the rest go to notes).

    Quantities of variables the scheme simulates exactly in law pool all tested runs; the rest are extrapolated."""
    if plan.theory is None:
        return []
    first = tested[0]
    qs = quantities(plan.exact, higher_moments(*tested))
    paths = min(r.paths for r in tested)
    exact = exact_in_law(plan.numeric, first.step_kinds) if plan.numeric is not None else frozenset()
    steps = [r.steps for r in tested]
    checks = []
    for k, cp_c in enumerate(first.checkpoints):
        cps = [r.checkpoints[k] for r in tested]
        central = exact_central(plan, cp_c.time)
        kept = keep(qs, central, first.dim, paths, cp_c.time, first.state, notes)
        targets = exact_targets(plan.theory, plan.exact, cp_c.time, kept)
        if any(cp.count < 2 for cp in cps):
            continue  # the path-count sanity check already fails this verification
        pooled = pool(cps) if exact else None
        for q in kept:
            label, target = q.label(first.state), targets[q]
            if pooled is not None and set(q.indices) <= exact:
                checks.append(pooled_check(label, q, cp_c.time, q.estimate(pooled), len(tested), target, tolerance))
            else:
                estimates = [q.estimate(cp) for cp in cps]
                checks.append(moment_check(label, q, cp_c.time, estimates, target, tolerance, steps))
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
    tested: Sequence[StatsSample],
    reference: tuple[StatsSample, StatsSample],
    tolerance: float,
    notes: list[str],
) -> list[Check]:
    """Moments of the variables without exact theory (and their covariances with all others) at every checkpoint."""
    first = tested[0]
    qs = quantities(plan.others, higher_moments(*tested, *reference), partners=range(first.dim))
    paths = min(r.paths for r in tested)
    steps = [r.steps for r in tested]
    checks = []
    for k, (ref_c, ref_f) in enumerate(zip(reference[0].checkpoints, reference[1].checkpoints, strict=True)):
        cps = [r.checkpoints[k] for r in tested]
        # The reference is trusted, so its power sums (up to degree 12) decide which estimators are usable.
        kept = keep(qs, sample_central(ref_f), first.dim, paths, ref_c.time, first.state, notes)
        targets = reference_targets(ref_c, ref_f, kept)
        checks += _checks_at(kept, first.state, cps, targets, tolerance, steps)
    return checks


def _checks_at(
    qs: Sequence[Quantity],
    state: Sequence[str],
    cps: Sequence[CheckpointMoments],
    targets: dict[Quantity, Target],
    tolerance: float,
    steps: Sequence[int],
) -> list[Check]:
    if any(cp.count < 2 for cp in cps):
        return []  # the path-count sanity check already fails this verification
    return [
        moment_check(q.label(state), q, cps[0].time, [q.estimate(cp) for cp in cps], targets[q], tolerance, steps)
        for q in qs
    ]


def same_step_checks(
    pairs: Sequence[tuple[StatsSample, StatsSample]], tolerance: float, notes: list[str]
) -> list[Check]:
    """Every moment of every variable at every checkpoint of the tested binary at the step counts users run
    (``pairs``: a tested run and a trusted run of the same scheme at the same steps, independent seeds).

    The extrapolated checks see only the limit h -> 0, which any error linear in h leaves alone; here the
    tested binary's discretisation error at those steps must be the scheme's own: a two-sided two-sample
    z-test of the difference, without extrapolation."""
    checks = []
    for tested, trusted_run in pairs:
        qs = quantities(range(tested.dim), higher_moments(tested, trusted_run))
        paths = min(tested.paths, trusted_run.paths)
        dropped: list[str] = []
        for cp, ref in zip(tested.checkpoints, trusted_run.checkpoints, strict=True):
            if cp.count < 2 or ref.count < 2:
                continue  # the path-count sanity check already fails this verification
            kept = keep(qs, sample_central(ref), tested.dim, paths, cp.time, tested.state, dropped)
            targets = same_step_targets(ref, kept)
            checks += [_same_step_check(q, tested, cp, targets[q], tolerance) for q in kept]
        if dropped:
            notes.append(
                f"at {tested.steps} steps against the trusted scheme: {len(dropped)} moments not tested "
                f"(their estimators are too skewed to trust a normal p-value), e.g. {dropped[0]}"
            )
    return checks


def _same_step_check(
    q: Quantity, tested: StatsSample, cp: CheckpointMoments, target: Target, tolerance: float
) -> Check:
    run = q.estimate(cp)

    def describe(se: float) -> str:
        return (
            f"{tested.steps} steps: {run.value:.6g} ± {run.std_error:.2g}; the trusted compiler's binary of the "
            f"same scheme at {tested.steps} steps: {target.value:.6g} ± {target.std_error:.2g}; combined SE {se:.2g}"
        )

    name = f"{q.label(tested.state)} at t={cp.time:g} with {tested.steps} steps"
    return _compared(name, q, cp.time, run, target, tolerance, describe)


def discretisation_errors(tested: Sequence[StatsSample]) -> list[dict[str, object]]:
    """Per variable, the mean's and variance's error at the horizon at each tested step count: q_N minus the
    extrapolated limit, with its standard error. For a crate proven to be the compiler's scheme this is the
    scheme's own discretisation error where users run it (docs/verification.md §0)."""
    if len(tested) < 3 or any(not r.checkpoints or r.checkpoints[-1].count < 2 for r in tested):
        return []
    out: list[dict[str, object]] = []
    last = [r.checkpoints[-1] for r in tested]
    w = extrapolation_weights(len(tested))
    for i, name in enumerate(tested[0].state):
        for q in (Quantity("mean", (i,)), Quantity("variance", (i,))):
            runs = [q.estimate(cp) for cp in last]
            limit = extrapolate(runs)
            errors, ses = [], []
            for k, r in enumerate(runs):
                # q_k - limit is linear in the independent runs: its weights are e_k - w.
                coeff = [float(j == k) - w[j] for j in range(len(runs))]
                errors.append(r.value - limit.value)
                ses.append(math.sqrt(sum((c * e.std_error) ** 2 for c, e in zip(coeff, runs, strict=True))))
            out.append(
                {
                    "state": name,
                    "quantity": q.kind,
                    "time": last[0].time,
                    "steps": [r.steps for r in tested],
                    "limit": limit.value,
                    "error": errors,
                    "std_error": ses,
                }
            )
    return out


def transformed_checks(
    plan: TheoryPlan,
    terminal: Sequence[np.ndarray],
    steps: Sequence[int],
    horizon: float,
    tolerance: float,
    notes: list[str],
) -> list[Check]:
    """Exact moments of the log-transformed state at the horizon, from the terminal states of the tested runs
    (N, 2N and 4N steps, or the first two)."""
    t = plan.transformed
    if t is None:
        return []
    samples = [t.states(x) for x in terminal]  # positivity of the logged columns is a sanity check
    initial = [float(v) for v in t.theory.initial]
    cps = [moments_from_samples(s, initial, HIGHER_DEGREE, horizon) for s in samples]
    local = range(len(t.subset))
    new = [k for k in local if t.subset[k] in t.logged or t.subset[k] not in plan.exact]
    labels = [t.label(k) for k in local]
    central = theory_central(t.guard, tuple(local), horizon) if t.guard is not None else _unknown
    paths = min(len(s) for s in samples)
    qs = keep(quantities(new, True, partners=local), central, len(local), paths, horizon, labels, notes)
    targets = exact_targets(t.theory, tuple(local), horizon, qs)
    checks = _checks_at(qs, labels, cps, targets, tolerance, steps)
    for c in checks:
        c.detail += "; moments of the log-transformed state, from the terminal states"
    return checks


# ------------------------------------------------------------------------------- report data
def mean_paths(
    plan: TheoryPlan, tested: Sequence[StatsSample], reference: tuple[StatsSample, StatsSample] | None
) -> list[dict[str, object]]:
    """Per state variable: the extrapolated mean at t = 0 and every checkpoint, with theory."""
    first = tested[0]
    out: list[dict[str, object]] = []
    for i, name in enumerate(first.state):
        q = Quantity("mean", (i,))
        times, estimates, errors = [0.0], [first.shift[i]], [0.0]
        theory: list[float | None] = [plan.model.initial[i]]
        for k, cp in enumerate(first.checkpoints):
            cps = [r.checkpoints[k] for r in tested]
            if any(c.count < 2 for c in cps):
                continue
            combined = extrapolate([q.estimate(c) for c in cps])
            times.append(cp.time)
            estimates.append(combined.value)
            errors.append(combined.std_error)
            theory.append(_mean_target(plan, q, cp.time, reference, k))
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
