"""Deterministic checks that make the statistical comparison meaningful at all.

Any failure here is the verdict's reason and skips the statistical checks: comparing moments of runs that
disagree on their horizon, or of a binary that reports NaN, would only produce confusing numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from architect.model import SdeModel
from architect.verifier.check_result import Check, sanity
from architect.verifier.sample import SampleError, StatsSample, parse_stats

#: Relative agreement required of checkpoint times and horizons that should be equal.
TIME_RTOL = 1e-9
#: Moment degree the standard errors of variances and covariances need (fourth moments).
REQUIRED_DEGREE = 4
#: Agreement required between a run's terminal-state means and its own power sums (summation order only).
TERMINAL_RTOL = 1e-8
LABELS = ("coarse", "fine", "finer")
#: Prefix of the extended design's runs and sanity checks.
EXTENDED = "extended design"
EXTENDED_LABELS = tuple(f"{EXTENDED} {label}" for label in LABELS)
#: Prefix of the runs at the users' step counts, tested binary against the trusted one.
SAME_STEPS = "same steps"


@dataclass(frozen=True)
class Runs:
    """Validated inputs: the tested runs (N, 2N and optionally 4N steps), terminal states, reference runs."""

    tested: tuple[StatsSample, ...]
    terminal: tuple[np.ndarray, ...] | None
    reference: tuple[StatsSample, StatsSample] | None
    # The extended design (horizon 1.5·T, checkpoints off the first grid; `runs.extended_specs`) and its reference.
    extended: tuple[StatsSample, ...] | None = None
    extended_reference: tuple[StatsSample, StatsSample] | None = None
    # Tested and trusted runs at the step counts users run (`runs.same_step_specs`), without extrapolation.
    same_steps: tuple[tuple[StatsSample, StatsSample], ...] | None = None

    @property
    def coarse(self) -> StatsSample:
        return self.tested[0]

    @property
    def fine(self) -> StatsSample:
        return self.tested[1]

    @property
    def finer(self) -> StatsSample | None:
        return self.tested[2] if len(self.tested) > 2 else None

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.coarse.step_kinds


def parse_documents(
    labelled: Sequence[tuple[str, Any]], what: str = "statistics"
) -> tuple[list[StatsSample] | None, list[Check]]:
    parsed, checks = [], []
    for label, data in labelled:
        try:
            parsed.append(parse_stats(data))
            checks.append(sanity(f"{label} {what} are well-formed", True, "architect.stats/1, validated"))
        except SampleError as exc:
            checks.append(sanity(f"{label} {what} are well-formed", False, str(exc)))
    return (parsed if len(parsed) == len(labelled) else None), checks


# ------------------------------------------------------------------------------ the binary itself
def description_check(model: SdeModel, description: Mapping[str, Any]) -> Check:
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
    return sanity("binary simulates the model's parameters", not problems, detail)


#: Agreement required of the numbers of a jump part (intensity, size parameters) reported by the binary.
JUMP_RTOL = 1e-12


def jumps_check(model: SdeModel, description: Mapping[str, Any]) -> Check:
    """The binary's jump parts (`--describe`'s ``jumps``) must be the model's: the same variables, laws and
    numbers (to a relative 1e-12). Statistics see a rare enormous jump (intensity 5e-7, size 2e5) in almost no
    path, so this is what compares them. A binary that does not report jumps (an SDK before they were listed)
    passes only for a model without jumps: nothing is then claimed that could differ, except what the
    statistics see; a jump model's jumps must be reported."""
    name = "binary simulates the model's jumps"
    claimed = description.get("jumps")
    if claimed is None:
        if model.jumps:
            return sanity(
                name,
                False,
                "the binary does not report its jumps (--describe has no 'jumps'), so they "
                "cannot be compared with the model's",
            )
        return sanity(name, True, "the model has no jumps; the binary does not report jumps (an older SDK)")
    problems = _jump_problems(model, claimed)
    if problems:
        return sanity(name, False, "; ".join(problems[:4]))
    detail = f"{len(model.jumps)} jump part(s) match the model" if model.jumps else "no jumps, as in the model"
    return sanity(name, True, detail)


def _jump_problems(model: SdeModel, claimed: Any) -> list[str]:
    if not isinstance(claimed, list) or len(claimed) > 1000:
        return [f"the binary's jumps are not a list of jump parts: {str(claimed)[:200]}"]
    subs = model.substitutions()
    expected = {model.state.index(j.variable): (j.law, j.values(subs)) for j in model.jumps}
    got: dict[int, tuple[Any, dict[str, Any]]] = {}
    problems = []
    for entry in claimed:
        variable = entry.get("variable") if isinstance(entry, Mapping) else None
        if not isinstance(variable, int) or isinstance(variable, bool) or not 0 <= variable < model.dim:
            problems.append(f"the binary reports a jump part on no state variable: {str(entry)[:200]}")
            continue
        if variable in got:
            problems.append(f"the binary reports two jump parts on {model.state[variable]}")
            continue
        size = entry.get("size")
        numbers = {"intensity": entry.get("intensity"), **(size if isinstance(size, Mapping) else {})}
        got[variable] = (entry.get("law"), numbers)
    for variable in sorted(set(got) | set(expected)):
        var = model.state[variable]
        if variable not in expected:
            law, numbers = got[variable]
            problems.append(f"the binary adds jumps to {var} that the model does not have ({law}, {_numbers(numbers)})")
        elif variable not in got:
            problems.append(f"the model's jumps in {var} ({_law(*expected[variable])}) are missing from the binary")
        else:
            problems += _part_problems(var, expected[variable], got[variable])
    return problems


def _part_problems(var: str, expected: tuple[str, dict[str, float]], got: tuple[Any, dict[str, Any]]) -> list[str]:
    (law, values), (claimed_law, numbers) = expected, got
    if claimed_law != law:
        return [f"the jumps in {var} have law {claimed_law!r} in the binary, {law!r} in the model"]
    wrong = [
        f"{name} {numbers.get(name)!r} (model {value!r})"
        for name, value in values.items()
        if not _same_number(numbers.get(name), value)
    ]
    extra = sorted(set(numbers) - set(values))
    if extra:
        wrong.append(f"unknown parameters {', '.join(map(str, extra))[:200]}")
    return [f"the jumps in {var} differ: " + ", ".join(wrong)] if wrong else []


def _same_number(got: Any, value: float) -> bool:
    return (
        isinstance(got, (int, float))
        and not isinstance(got, bool)
        and math.isclose(got, value, rel_tol=JUMP_RTOL, abs_tol=1e-300)
    )


def _numbers(numbers: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in numbers.items())[:300]


def _law(law: str, values: Mapping[str, float]) -> str:
    return f"{law}, {_numbers(values)}"


# ------------------------------------------------------------------------------ the tested runs
def tested_checks(model: SdeModel, runs: Sequence[StatsSample], prefix: str = "") -> list[Check]:
    """State names, comparability and moment degree of the tested runs (``prefix``: the extended design's)."""
    labelled = list(zip(EXTENDED_LABELS if prefix else LABELS, runs, strict=False))
    bad_names = [f"{label} run has {list(r.state)}" for label, r in labelled]
    names_ok = all(r.state == model.state for r in runs)
    names = sanity(
        f"{prefix}state names match the model",
        names_ok,
        f"{list(model.state)}" if names_ok else f"model has {list(model.state)}; " + "; ".join(bad_names),
    )
    problems = comparability_problems(labelled)
    comparable = sanity(f"{prefix}runs are comparable", not problems, "; ".join(problems) or _comparable_detail(runs))
    low = [f"{label} run has degree {r.degree}" for label, r in labelled]
    degree_ok = min(r.degree for r in runs) >= REQUIRED_DEGREE
    degree = sanity(
        f"{prefix}moments up to degree {REQUIRED_DEGREE} reported",
        degree_ok,
        "standard errors of variances and covariances need fourth moments"
        + ("" if degree_ok else ": " + "; ".join(low)),
    )
    return [names, comparable, degree]


def extended_checks(
    tested: Sequence[StatsSample],
    reference: Sequence[StatsSample] | None,
    extended: Sequence[StatsSample],
    extended_reference: Sequence[StatsSample] | None = None,
) -> Check:
    """The extended design observes the same binary (model, scheme, state) with seeds of its own, and at
    checkpoint times of its own: none up to the first design's horizon on the first design's grid."""
    first, ext = tested[0], extended[0]
    problems = [
        f"the extended design disagrees with the tested runs on {what}: {getattr(ext, what)!r} vs "
        f"{getattr(first, what)!r}"
        for what in ("model", "state", "scheme", "step_kinds")
        if getattr(ext, what) != getattr(first, what)
    ]
    used = {r.seed for r in (*tested, *(reference or ()))}
    shared = sorted(used & {r.seed for r in (*extended, *(extended_reference or ()))})
    if shared:
        problems.append(f"the extended design reuses seeds {shared}; its runs must be independent of the others")
    grid = [cp.time for cp in first.checkpoints]
    on_grid = [
        cp.time
        for cp in ext.checkpoints
        if cp.time <= first.horizon * (1 + TIME_RTOL) and any(_close(cp.time, g, first.horizon) for g in grid)
    ]
    if on_grid:
        problems.append(f"the extended design's checkpoints {on_grid} repeat the first design's")
    detail = "; ".join(problems) or (
        f"horizon {ext.horizon:g}, checkpoints {', '.join(f'{cp.time:g}' for cp in ext.checkpoints)}; "
        f"{ext.paths} paths; steps {', '.join(str(r.steps) for r in extended)}; "
        f"seeds {', '.join(str(r.seed) for r in extended)}"
    )
    return sanity(f"{EXTENDED}: another observation of the same binary", not problems, detail)


def same_step_pair_check(model: SdeModel, tested: StatsSample, trusted: StatsSample, used_seeds: set[int]) -> Check:
    """A tested run and a trusted run at one step count: same state, step kinds, steps, horizon and checkpoint
    times, seeds of their own. Different step kinds mean the trusted compiler does not write the tested binary's
    scheme for this model, so its discretisation error at these steps has nothing to be compared with."""
    name = f"{SAME_STEPS}: the tested and trusted runs at {tested.steps} steps are comparable"
    problems = [
        f"the runs disagree on {what}: {getattr(tested, what)!r} vs {getattr(trusted, what)!r}"
        for what in ("state", "step_kinds", "steps")
        if getattr(tested, what) != getattr(trusted, what)
    ]
    if tested.state != model.state:
        problems.append(f"state names {list(tested.state)} are not the model's {list(model.state)}")
    if tested.step_kinds != trusted.step_kinds:
        problems.append(
            "the tested binary's scheme is not one architect's compiler writes for this model, so its error at "
            "the steps users run cannot be bounded (generate the crate with --scheme auto, exact or euler)"
        )
    problems += _same_times(tested, trusted)
    if trusted.seed in used_seeds or tested.seed == trusted.seed:
        problems.append(f"the trusted run's seed {trusted.seed} is used by another run")
    detail = "; ".join(problems) or (
        f"{tested.steps} steps, {tested.paths} and {trusted.paths} paths, seeds {tested.seed} and {trusted.seed}, "
        f"step kinds {', '.join(tested.step_kinds)}"
    )
    return sanity(name, not problems, detail)


def _comparable_detail(runs: Sequence[StatsSample]) -> str:
    first = runs[0]
    return (
        f"same model, scheme, horizon {first.horizon:g} and {len(first.checkpoints)} checkpoint times; "
        f"steps {', '.join(str(r.steps) for r in runs)}; seeds {', '.join(str(r.seed) for r in runs)}"
    )


def comparability_problems(labelled: Sequence[tuple[str, StatsSample]], same_scheme: bool = True) -> list[str]:
    """Each run doubles the previous one's steps, all share model, horizon and checkpoint times, seeds differ."""
    problems = []
    (_, first), *rest = labelled
    fields = ("model", "state", "scheme") if same_scheme else ("state",)
    for label, run in rest:
        for what in fields:
            a, b = getattr(first, what), getattr(run, what)
            if a != b:
                problems.append(f"the runs disagree on {what}: {a!r} vs {b!r} ({label} run)")
        problems += _same_times(first, run)
    for (label_a, a), (label_b, b) in itertools.pairwise(labelled):
        if b.steps != 2 * a.steps:
            problems.append(f"the {label_b} run must have twice the {label_a} run's steps, got {a.steps} and {b.steps}")
    seeds = [r.seed for _, r in labelled]
    if len(set(seeds)) != len(seeds):
        problems.append(f"the runs used seeds {seeds}; the error estimates need independent runs")
    for label, run in labelled:
        problems += _step_times(label, run)
    return problems


def _same_times(first: StatsSample, run: StatsSample) -> list[str]:
    problems = []
    if not _close(first.horizon, run.horizon, first.horizon):
        problems.append(f"the runs disagree on the horizon: {first.horizon:g} vs {run.horizon:g}")
    a, b = [cp.time for cp in first.checkpoints], [cp.time for cp in run.checkpoints]
    if len(a) != len(b) or not all(_close(x, y, first.horizon) for x, y in zip(a, b, strict=True)):
        problems.append(f"the runs disagree on checkpoint times: {a} vs {b}")
    return problems


def _step_times(label: str, run: StatsSample) -> list[str]:
    for cp in run.checkpoints:
        expected = cp.step * run.horizon / run.steps
        if not _close(cp.time, expected, run.horizon) or cp.step > run.steps:
            return [f"{label} run: checkpoint at step {cp.step} reports time {cp.time:g}, not {expected:g}"]
    return []


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= TIME_RTOL * max(abs(scale), abs(a), abs(b))


def count_checks(labelled: Sequence[tuple[str, StatsSample]], prefix: str = "") -> list[Check]:
    """Every path must survive to every checkpoint; a NaN is a simulator defect, never noise."""
    nonfinite, miscounted = [], []
    for label, run in labelled:
        for cp in run.checkpoints:
            if cp.nonfinite:
                nonfinite.append(f"{label} run: {cp.nonfinite} of {run.paths} paths non-finite at t={cp.time:g}")
            if cp.count != run.paths:
                miscounted.append(f"{label} run: {cp.count} of {run.paths} paths counted at t={cp.time:g}")
    too_few = [f"{label} run has {r.paths} paths" for label, r in labelled if r.paths < 2]
    return [
        sanity(f"{prefix}all paths finite", not nonfinite, "; ".join(nonfinite[:4]) or "no NaN or infinite values"),
        sanity(
            f"{prefix}every path counted",
            not miscounted and not too_few,
            "; ".join((too_few + miscounted)[:4]) or "count = paths at every checkpoint",
        ),
    ]


# ------------------------------------------------------------------------------ terminal states
def terminal_check(
    raw: Sequence[Any], runs: Sequence[StatsSample], positive: Sequence[int]
) -> tuple[tuple[np.ndarray, ...] | None, Check]:
    """Terminal states must be (paths, D) finite arrays whose means are the run's own last-checkpoint means
    (which ties the file to the statistics), and positive in the ``positive`` columns (logs are taken there)."""
    name = "terminal states are consistent with the statistics"
    if len(raw) != len(runs):
        return None, sanity(name, False, f"{len(raw)} terminal-state arrays for {len(runs)} runs")
    arrays, problems = [], []
    for label, x, run in zip(LABELS, raw, runs, strict=False):
        array, problem = _terminal_problem(label, x, run, positive)
        arrays.append(array)
        problems += problem
    if problems:
        return None, sanity(name, False, "; ".join(problems[:4]))
    return tuple(arrays), sanity(name, True, f"{len(arrays)} runs: shapes, finiteness and means agree")


def _terminal_problem(label: str, x: Any, run: StatsSample, positive: Sequence[int]) -> tuple[np.ndarray, list[str]]:
    try:
        array = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return np.empty((0, run.dim)), [f"{label} run: terminal states are not numbers"]
    if array.shape != (run.paths, run.dim):
        return array, [f"{label} run: terminal states have shape {array.shape}, expected {(run.paths, run.dim)}"]
    if not np.isfinite(array).all():
        return array, [f"{label} run: terminal states contain NaN or infinite values"]
    last = run.checkpoints[-1]
    if last.count != run.paths or last.count < 2:
        return array, []  # the path-count check reports this
    problems = []
    for i in range(run.dim):
        stated = last.mean(i).value
        size = abs(run.shift[i]) + math.sqrt(max(last.variance(i).value, 0.0)) + abs(stated - run.shift[i])
        if abs(array[:, i].mean() - stated) > TERMINAL_RTOL * size + 1e-300:
            problems.append(f"{label} run: terminal mean of {run.state[i]} {array[:, i].mean():.10g} ≠ {stated:.10g}")
    for i in positive:
        if (array[:, i] <= 0).any():
            problems.append(f"{label} run: {run.state[i]} must be positive (its logarithm is tested)")
    return array, problems


# ------------------------------------------------------------------------------ reference runs
def reference_checks(
    model: SdeModel, tested: Sequence[StatsSample], reference: Sequence[StatsSample], prefix: str = ""
) -> list[Check]:
    labelled = [(f"{prefix}reference", reference[0]), (f"{prefix}finer reference", reference[1])]
    problems = []
    if any(r.state != model.state for r in reference):
        problems.append(f"reference state names {[list(r.state) for r in reference]} are not {list(model.state)}")
    problems += comparability_problems(labelled)
    problems += [
        p.replace("runs disagree", "reference and tested runs disagree") for p in _same_times(tested[0], reference[0])
    ]
    if {r.seed for r in reference} & {r.seed for r in tested}:
        problems.append("a reference run shares a seed with a tested run")
    detail = "; ".join(problems) or (
        f"steps {reference[0].steps} and {reference[1].steps}, seeds {reference[0].seed} and {reference[1].seed}, "
        f"{reference[0].paths} paths"
    )
    return [
        sanity(f"{prefix}reference runs are comparable", not problems, detail),
        *count_checks(labelled, f"{prefix}reference: "),
    ]
