"""The verdict: does a compiled simulator's output agree with the SDE's theory?

Inputs: runs of the tested binary with N, 2N (and 4N) steps and independent seeds, their terminal states,
and, for models without exact moments, two runs of a trusted reference simulator at finer steps. Checks:

- moments (mean, variance, covariance, third and fourth central moments) at every checkpoint, of the
  extrapolated estimate (-q_N + q_2N + 2 q_4N)/2 (Richardson 2 q_2N - q_N from two runs) against exact
  values from the generator (`moments`), or against the reference's own Richardson estimate
  (`quantities.reference_targets`); log-transformed states at the horizon where only they are polynomial;
- exact terminal laws (`distribution`) and closed-form option prices (`prices`);
- convergence at weak order 1 from the N, 2N, 4N runs (`convergence`);
- deterministic sanity checks (`sanity`).

One family-wise false-fail rate ``alpha`` covers every statistical check: Holm's step-down procedure
(valid under any dependence between the checks, and these are strongly dependent) assigns each its level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from architect.kinds import Verdict
from architect.model import SdeModel
from architect.verifier import sanity as sane
from architect.verifier.check_result import POWER, Check, detectable_error, json_number, sanity
from architect.verifier.convergence import convergence_checks
from architect.verifier.distribution import distribution_checks, exact_laws
from architect.verifier.moments import (
    discretisation_errors,
    exact_checks,
    higher_moments,
    mean_paths,
    reference_checks,
    same_step_checks,
    transformed_checks,
)
from architect.verifier.plan import TheoryPlan, make_plan
from architect.verifier.prices import PriceSpec, price_checks, price_convergence, price_specs
from architect.verifier.quantities import SAME_STEPS
from architect.verifier.sanity import Runs
from architect.verifier.theory import NotPolynomial

__all__ = ["Check", "Verification", "holm", "verify"]

_HIGHER = ", third and fourth central moments"
#: Report sections a verification carries besides its checks.
EXTRAS = ("theory", "convergence", "distribution", "mean_paths", "discretisation")


@dataclass
class Verification:
    verdict: Verdict
    reason: str
    alpha: float
    correction: str
    checks: list[Check]
    method: str
    tolerance: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self, include_checks: bool = True) -> dict[str, Any]:
        failed = sum(not c.passed for c in self.checks)
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "reason": self.reason,
            "alpha": json_number(self.alpha),
            "correction": self.correction,
            "tolerance": json_number(self.tolerance),
            "n_checks": len(self.checks),
            "n_failed": failed,
            "method": self.method,
        }
        for key in EXTRAS:
            out[key] = self.extras.get(key, {} if key == "theory" else [])
        if include_checks:
            out["checks"] = [c.to_dict() for c in self.checks]
        return out


# ------------------------------------------------------------------------------------ the verdict
def verify(
    model: SdeModel,
    coarse_stats: Mapping[str, Any],
    fine_stats: Mapping[str, Any],
    alpha: float = 1e-3,
    tolerance: float = 1e-4,
    description: Mapping[str, Any] | None = None,
    *,
    finer_stats: Mapping[str, Any] | None = None,
    terminal: Sequence[Any] | None = None,
    reference: Sequence[Mapping[str, Any]] | None = None,
    extended: Sequence[Mapping[str, Any]] | None = None,
    extended_reference: Sequence[Mapping[str, Any]] | None = None,
    same_steps: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]] | None = None,
) -> Verification:
    """Verify runs of a simulator of ``model``; never raises on bad data.

    ``coarse_stats``, ``fine_stats`` and optionally ``finer_stats``: statistics of N, 2N and 4N steps with
    independent seeds. ``terminal``: the terminal states of those runs, one (paths, D) array each, in the
    same order (exact laws, prices, log-state moments). ``reference``: statistics of two runs (M and 2M
    steps) of a trusted simulator of the same model, needed when some variable has no exact moments.
    ``tolerance`` is a relative equivalence margin: a quantity counts as wrong only when it misses the
    theory by more than ``tolerance`` x its scale *and* by more than the noise; it only matters where the
    noise is smaller still (deterministic components). ``description`` is the binary's `--describe` output;
    when given, its parameter values, initial state and jump parts must be the model's. ``extended``: the
    statistics of the extended design (`runs.extended_specs`: horizon 1.5·T, checkpoints off the first grid,
    N', 2N', 4N' steps), whose moments are tested like the first design's, in the same Holm family;
    ``extended_reference``: its two reference runs, needed with it when some variable has no exact moments.
    ``same_steps``: (tested, trusted) statistics at the step counts users run (`runs.same_step_specs`), the
    trusted ones from the compiler's binary of the same scheme; every moment is compared without extrapolation.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must lie in [0, 1), got {tolerance}")
    plan = make_plan(model)
    runs, checks = _sanity(model, plan, coarse_stats, fine_stats, finer_stats, terminal, reference, description)
    if runs is not None and extended is not None:
        runs = _extended_sanity(model, plan, runs, extended, extended_reference, checks)
    if runs is not None and same_steps is not None:
        runs = _same_step_sanity(model, runs, same_steps, checks)
    statistical: list[Check] = []
    extras: dict[str, Any] = {"theory": plan.summary()}
    if runs is not None and all(c.passed for c in checks):
        try:
            statistical, extras = _statistical(plan, runs, tolerance, extras)
        except NotPolynomial as exc:  # the moment ODE of time-dependent coefficients failed (e.g. log t at 0)
            checks.append(sanity("theory for every state variable", False, f"no exact moments: {exc.reason}"))
    _apply_holm(statistical, alpha)
    checks += statistical
    extras["distribution"] = [_distribution_entry(c) for c in statistical if c.plot is not None]
    verdict: Verdict = "pass" if all(c.passed for c in checks) and statistical else "fail"
    return Verification(
        verdict,
        _reason(checks, statistical, alpha),
        alpha,
        "holm",
        checks,
        _method(plan, runs, alpha, tolerance),
        tolerance,
        extras,
    )


def _sanity(
    model: SdeModel,
    plan: TheoryPlan,
    coarse: Any,
    fine: Any,
    finer: Any,
    terminal: Sequence[Any] | None,
    reference: Sequence[Any] | None,
    description: Mapping[str, Any] | None,
) -> tuple[Runs | None, list[Check]]:
    """Parse and cross-check every input; the `Runs` only when the tested runs parsed."""
    labelled = [("coarse", coarse), ("fine", fine)] + ([("finer", finer)] if finer is not None else [])
    tested, checks = sane.parse_documents(labelled)
    if description is not None:
        checks.append(sane.description_check(model, description))
        checks.append(sane.jumps_check(model, description))
    if tested is None:
        return None, checks
    checks += sane.tested_checks(model, tested)
    checks += sane.count_checks(list(zip(sane.LABELS, tested, strict=False)))
    arrays = None
    if terminal is not None:
        positive = plan.transformed.logged if plan.transformed is not None else ()
        arrays, check = sane.terminal_check(terminal, tested, positive)
        checks.append(check)
    ref_runs = _reference_sanity(model, plan, tested, reference, checks)
    return Runs(tuple(tested), arrays, ref_runs), checks


def _extended_sanity(
    model: SdeModel,
    plan: TheoryPlan,
    runs: Runs,
    extended: Sequence[Any],
    reference: Sequence[Any] | None,
    checks: list[Check],
) -> Runs:
    """Parse and cross-check the extended design's runs; ``runs`` with them added when they parsed."""
    prefix = f"{sane.EXTENDED}: "
    if not 2 <= len(extended) <= 3:
        checks.append(sanity(f"{prefix}statistics are well-formed", False, "need two or three runs"))
        return runs
    parsed, parse_checks = sane.parse_documents(list(zip(sane.EXTENDED_LABELS, extended, strict=False)))
    checks += parse_checks
    if parsed is None:
        return runs
    checks += sane.tested_checks(model, parsed, prefix)
    checks += sane.count_checks(list(zip(sane.EXTENDED_LABELS, parsed, strict=False)), prefix)
    ext_ref = _reference_sanity(model, plan, parsed, reference, checks, prefix)
    checks.append(sane.extended_checks(runs.tested, runs.reference, parsed, ext_ref))
    return replace(runs, extended=tuple(parsed), extended_reference=ext_ref)


def _same_step_sanity(model: SdeModel, runs: Runs, pairs: Sequence[tuple[Any, Any]], checks: list[Check]) -> Runs:
    """Parse and cross-check the runs at the users' step counts; ``runs`` with them added when they parsed."""
    if not pairs:
        checks.append(sanity(f"{sane.SAME_STEPS}: runs given", False, "no step count to compare at"))
        return runs
    labelled = [
        (f"{sane.SAME_STEPS}: {who} run {k + 1}", doc)
        for k, pair in enumerate(pairs)
        for who, doc in zip(("tested", "trusted"), pair, strict=True)
    ]
    parsed, parse_checks = sane.parse_documents(labelled)
    checks += parse_checks
    if parsed is None:
        return runs
    parsed_pairs = tuple((parsed[2 * k], parsed[2 * k + 1]) for k in range(len(pairs)))
    used = {r.seed for r in (*runs.tested, *(runs.reference or ()), *(runs.extended or ()))}
    used |= {r.seed for r in runs.extended_reference or ()}
    for tested, trusted_run in parsed_pairs:
        checks.append(sane.same_step_pair_check(model, tested, trusted_run, used))
    checks += sane.count_checks(
        list(zip([label for label, _ in labelled], parsed, strict=True)), f"{sane.SAME_STEPS}: "
    )
    return replace(runs, same_steps=parsed_pairs)


def _reference_sanity(
    model: SdeModel,
    plan: TheoryPlan,
    tested: Sequence[Any],
    reference: Sequence[Any] | None,
    checks: list[Check],
    prefix: str = "",
) -> tuple[Any, Any] | None:
    if reference is None:
        if plan.needs_reference:
            names = ", ".join(model.state[i] for i in plan.others)
            checks.append(
                sanity(
                    f"{prefix}theory for every state variable",
                    False,
                    f"no exact moments for {names} ({plan.why_not}) and no empirical reference runs were given",
                )
            )
        return None
    if len(reference) != 2:
        checks.append(sanity(f"{prefix}reference statistics are well-formed", False, "need exactly two reference runs"))
        return None
    parsed, parse_checks = sane.parse_documents(
        [(f"{prefix}reference", reference[0]), (f"{prefix}finer reference", reference[1])], "statistics"
    )
    checks += parse_checks
    if parsed is None:
        return None
    checks += sane.reference_checks(model, tested, parsed, prefix)
    return parsed[0], parsed[1]


def _statistical(
    plan: TheoryPlan, runs: Runs, tolerance: float, extras: dict[str, Any]
) -> tuple[list[Check], dict[str, Any]]:
    notes: list[str] = []
    checks = exact_checks(plan, runs.tested, tolerance, notes)
    if plan.others and runs.reference is not None:
        checks += reference_checks(plan, runs.tested, runs.reference, tolerance, notes)
    checks += _extended_checks(plan, runs, tolerance, notes)
    if runs.same_steps is not None:
        checks += same_step_checks(runs.same_steps, tolerance, notes)
    horizon = runs.coarse.horizon
    prices: list[PriceSpec] = []
    if runs.terminal is not None:
        steps = [r.steps for r in runs.tested]
        checks += transformed_checks(plan, runs.terminal, steps, horizon, tolerance, notes)
        if plan.numeric is not None:
            laws = exact_laws(plan.numeric, horizon, notes, runs.kinds)
            checks += distribution_checks(laws, runs.terminal, runs.kinds, horizon)
            prices = _prices(plan, horizon)
            extras = extras | {
                "theory": extras["theory"]
                | {"laws": [f"{law.label}: {law.law}" for law in laws], "prices": [p.name for p in prices]}
            }
            checks += price_checks(prices, runs.terminal, runs.kinds, tolerance, notes)
    convergence: list[dict[str, Any]] = []
    if runs.finer is not None:
        conv_checks, convergence = convergence_checks(
            plan, (runs.coarse, runs.fine, runs.finer), runs.reference, tolerance, notes
        )
        checks += conv_checks
        if runs.terminal is not None and len(runs.terminal) == 3:
            convergence += price_convergence(prices, runs.terminal, [r.steps for r in runs.tested])
    if notes:
        extras = extras | {"theory": extras["theory"] | {"not_tested": notes}}
    extras = extras | {
        "convergence": convergence,
        "mean_paths": mean_paths(plan, runs.tested, runs.reference),
        "discretisation": discretisation_errors(runs.tested),
    }
    return checks, extras


def _extended_checks(plan: TheoryPlan, runs: Runs, tolerance: float, notes: list[str]) -> list[Check]:
    """The same moment checks on the extended design (its own extrapolation or pooling, its own reference)."""
    if runs.extended is None:
        return []
    checks = exact_checks(plan, runs.extended, tolerance, notes)
    if plan.others and runs.extended_reference is not None:
        checks += reference_checks(plan, runs.extended, runs.extended_reference, tolerance, notes)
    first = runs.extended[0]
    for check in checks:
        check.detail += (
            f"; {sane.EXTENDED} (horizon {first.horizon:g}, {len(first.checkpoints)} checkpoints, {first.paths} paths)"
        )
    return checks


def _prices(plan: TheoryPlan, horizon: float) -> list[PriceSpec]:
    assert plan.numeric is not None
    specs = price_specs(plan.numeric, horizon)
    if plan.log_numeric is not None and plan.transformed is not None:
        specs += price_specs(plan.log_numeric, horizon, plan.transformed.logged)
    return specs


def _distribution_entry(check: Check) -> dict[str, Any]:
    assert check.plot is not None
    entry = dict(check.plot)
    return {
        "state": entry.pop("state"),
        "time": entry.pop("time"),
        "law": entry.pop("law"),
        "statistic": json_number(check.statistic),
        "p_value": json_number(check.p_value),
        "passed": check.passed,
        **entry,
    }


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
    for check, (level, rejected) in zip(checks, decisions, strict=True):
        check.level = level
        check.passed = not rejected
        detectable = detectable_error(check)
        size = check.reference_size if check.reference_size is not None else check.theory
        if detectable is not None and size is not None and size != 0:
            check.detectable_rel_error = detectable / abs(size)


# --------------------------------------------------------------------------------------- wording
def _reason(checks: list[Check], statistical: list[Check], alpha: float) -> str:
    broken = [c for c in checks if c.kind == "sanity" and not c.passed]
    if broken:
        return f"{broken[0].name}: failed ({broken[0].detail})"
    if not statistical:
        return "no moment could be compared with the theory"
    failed = [c for c in statistical if not c.passed]
    if not failed:
        return f"all {len(statistical)} statistical checks agree with the theory at family-wise level {alpha:g} (Holm)"
    worst = min(failed, key=lambda c: c.p_value if c.p_value is not None else 0.0)
    if worst.theory is not None and worst.estimate is not None:
        versus = "the trusted scheme" if worst.theory_kind == SAME_STEPS else "theory"
        what = f"estimate {worst.estimate:.6g} vs {versus} {worst.theory:.6g} (z = {worst.statistic:.3g}"
    else:
        what = f"statistic {worst.statistic:.4g} ({worst.detail}; "
    return (
        f"{len(failed)} of {len(statistical)} statistical checks failed; worst: {worst.name}: "
        f"{what}, p = {worst.p_value:.2g})"
    )


def _method(plan: TheoryPlan, runs: Runs | None, alpha: float, tolerance: float) -> str:
    setting = "independent runs"
    if runs is not None:
        c = runs.coarse
        listed = "; ".join(f"{r.paths} paths with {r.steps} steps, seed {r.seed}" for r in runs.tested)
        setting = (
            f"{len(runs.tested)} independent runs ({listed}; horizon {c.horizon:g}; {len(c.checkpoints)} checkpoints)"
        )
        if runs.extended is not None:
            e = runs.extended[0]
            steps = ", ".join(str(r.steps) for r in runs.extended)
            setting += (
                f" and, to see what happens between those checkpoints and after the horizon, an extended design of "
                f"{len(runs.extended)} more ({e.paths} paths with {steps} steps, seeds "
                f"{', '.join(str(r.seed) for r in runs.extended)}; horizon {e.horizon:g}; checkpoints at "
                f"{', '.join(f'{cp.time:g}' for cp in e.checkpoints)}) whose moments are tested the same way"
            )
    higher = runs is not None and higher_moments(*runs.tested)
    parts = [
        f"The simulator was observed through {setting}.",
        "Exact moments come from the generator of the SDE: with affine drift and a quadratic instantaneous "
        "covariance σρσᵀ the generator maps polynomials of degree ≤ n to themselves (Filipović & Larsson 2016), "
        "so E[m(X_t)] = expm(tG) m(x0) on the monomial basis; this applies to the largest closed subset of "
        "state variables of that form.",
        f"At every checkpoint we estimate means, variances, covariances{_HIGHER if higher else ''} "
        "with delta-method standard errors from the power sums; the O(h) weak bias is removed by extrapolation "
        "to h = 0: with three runs the least-squares intercept R = (-q(h) + q(h/2) + 2·q(h/4))/2, standard error "
        "sqrt((se(h)² + se(h/2)²)/4 + se(h/4)²), with two Richardson's R = 2·q(h/2) - q(h).",
    ]
    if plan.others:
        parts.append(
            "Variables without exact moments are compared with an empirical reference: the Richardson estimate of "
            "two runs of the trusted (symbolic-compiler) simulator at finer steps, its standard error added to the "
            "tested one's."
        )
    if plan.transformed is not None:
        parts.append(plan.summary()["transformed_note"] + ".")  # type: ignore[operator]
    parts += [
        "Exact terminal laws (normal, lognormal, scaled non-central chi-square, detected from the structure) are "
        "tested by Kolmogorov-Smirnov where the scheme is exact in law, otherwise by a Pearson chi-square on the "
        "extrapolated frequencies of equiprobable bins; closed-form call prices (Black-Scholes, Heston) "
        "by a z-test of the discounted payoff mean; convergence at weak order 1 by q_N - 3·q_2N + 2·q_4N = 0.",
        f"Differences below {tolerance:g} of a quantity's scale count as agreement. Holm's step-down correction "
        f"holds the probability of failing a correct simulator at {alpha:g} across all statistical checks. "
        "Sanity checks (finite paths, every path counted, consistent runs and terminal states, matching state "
        f"names) must also pass. 'detectable rel. error' is the relative error each check detects with probability "
        f"≥ {POWER:g} (for laws: the CDF error, in probability).",
    ]
    return " ".join(parts)
