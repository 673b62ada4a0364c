"""Does the time-step bias shrink at the scheme's weak order? A test on runs with N, 2N and 4N steps.

Richardson extrapolation is only as good as its premise q_h = q + c h + d h² + O(h³). Then
Δ1 = q_N - q_2N = c h/2 + 3d h²/4 and Δ2 = q_2N - q_4N = c h/4 + 3d h²/16, so the second difference

    D = q_N - 3 q_2N + 2 q_4N = Δ1 - 2 Δ2 = 3d h²/8 + O(h³)

vanishes to first order; equivalently the Richardson estimates from (N, 2N) and (2N, 4N) agree. A bias
of any other shape (order 1/2, or an error that does not scale with h) leaves D of the size of the bias
itself. The three runs are independent, so se(D) = sqrt(se_N² + 9 se_2N² + 4 se_4N²); D gets the same
two-sided z-test with equivalence margin as the moments (the margin absorbs the 3d h²/8 residue). The
ratio Δ1/Δ2, 2 for a first-order scheme, is reported where Δ2 is clearly non-zero. Tested: the mean and
variance of every state variable at the horizon.
"""

from __future__ import annotations

import math

from architect.verifier.check_result import Check, z_test
from architect.verifier.moments import ROUNDING, exact_central, keep
from architect.verifier.plan import TheoryPlan
from architect.verifier.quantities import Quantity, Target, exact_targets, reference_targets, sample_central
from architect.verifier.sample import Estimate, StatsSample


def convergence_checks(
    plan: TheoryPlan,
    runs: tuple[StatsSample, StatsSample, StatsSample],
    reference: tuple[StatsSample, StatsSample] | None,
    tolerance: float,
    notes: list[str],
) -> tuple[list[Check], list[dict[str, object]]]:
    """Checks of D for the horizon's means and variances, and the convergence data for the report."""
    last = [r.checkpoints[-1] for r in runs]
    if any(cp.count < 2 for cp in last):
        return [], []
    t = last[0].time
    qs = [Quantity(kind, (i,)) for i in range(runs[0].dim) for kind in ("mean", "variance")]
    qs = _trusted(plan, qs, runs, reference, notes)
    targets = _targets(plan, t, qs, reference)
    # Sizes for the margin where there is no theory: the tested runs' own estimates.
    sizes = reference_targets(last[0], last[1], qs)
    checks, data = [], []
    for q in qs:
        estimates = [q.estimate(cp) for cp in last]
        target = targets.get(q)
        label = f"{q.label(runs[0].state)} at t={t:g}"
        checks.append(_check(label, q, t, estimates, target or sizes[q], target, tolerance, [r.steps for r in runs]))
        data.append(
            {
                "quantity": label,
                "steps": [r.steps for r in runs],
                "estimates": [e.value for e in estimates],
                "std_errors": [e.std_error for e in estimates],
                "theory": None if target is None else target.value,
                "theory_kind": None if target is None else target.kind,
            }
        )
    return checks, data


def _trusted(
    plan: TheoryPlan,
    qs: list[Quantity],
    runs: tuple[StatsSample, StatsSample, StatsSample],
    reference: tuple[StatsSample, StatsSample] | None,
    notes: list[str],
) -> list[Quantity]:
    """The skewness guard of the moment checks; D = q_N - 3 q_2N + 2 q_4N is less skewed than R, so it is safe."""
    t, paths, state = runs[0].checkpoints[-1].time, min(r.paths for r in runs), runs[0].state
    exact = [q for q in qs if q.indices[0] in plan.exact]
    others = [q for q in qs if q.indices[0] not in plan.exact]
    kept = keep(exact, exact_central(plan, t), runs[0].dim, paths, t, state, [])
    if reference is not None:
        kept += keep(others, sample_central(reference[1].checkpoints[-1]), runs[0].dim, paths, t, state, [])
    else:
        kept += others
    notes += [f"weak order 1 of the {q.label(state)} at t={t:g} not tested (see above)" for q in qs if q not in kept]
    return [q for q in qs if q in kept]


def _targets(
    plan: TheoryPlan, t: float, qs: list[Quantity], reference: tuple[StatsSample, StatsSample] | None
) -> dict[Quantity, Target]:
    out: dict[Quantity, Target] = {}
    if plan.theory is not None:
        out |= exact_targets(plan.theory, plan.exact, t, [q for q in qs if q.indices[0] in plan.exact])
    others = [q for q in qs if q.indices[0] not in plan.exact]
    if reference is not None and others:
        out |= reference_targets(reference[0].checkpoints[-1], reference[1].checkpoints[-1], others)
    return out


def _check(
    label: str,
    q: Quantity,
    t: float,
    est: list[Estimate],
    size: Target,
    target: Target | None,
    tolerance: float,
    steps: list[int],
) -> Check:
    d1, d2 = est[0].value - est[1].value, est[1].value - est[2].value
    second = d1 - 2 * d2
    se = math.sqrt(est[0].std_error ** 2 + 9 * est[1].std_error ** 2 + 4 * est[2].std_error ** 2)
    margin = tolerance * size.scale + ROUNDING * size.magnitude
    z, p = z_test(second, se, margin)
    se_d2 = math.hypot(est[1].std_error, est[2].std_error)
    ratio = f"{d1 / d2:.3g}" if d2 != 0 and abs(d2) > 3 * se_d2 else "not resolved (Δ2 within noise)"
    detail = (
        f"steps {steps[0]}, {steps[1]}, {steps[2]}: {est[0].value:.6g}, {est[1].value:.6g}, {est[2].value:.6g}; "
        f"Δ1 = {d1:.3g}, Δ2 = {d2:.3g}, ratio Δ1/Δ2 = {ratio} (2 at weak order 1); "
        f"q_N - 3·q_2N + 2·q_4N = {second:.3g} ± {se:.2g}"
    )
    scale = abs(target.value) if target is not None else abs(2 * est[2].value - est[1].value)
    return Check(
        name=f"weak order 1 of the {label}",
        kind="convergence",
        time=t,
        theory=0.0,
        estimate=second,
        std_error=se,
        statistic=z,
        p_value=p,
        detail=detail,
        coarse=est[0].value,
        fine=est[1].value,
        theory_kind=None if target is None else target.kind,
        margin=margin,
        reference_size=scale,
    )
