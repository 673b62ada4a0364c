"""Statistics where users run it (issue #14, item 2): defence in depth for crates verified with
``--statistical-only`` and for bugs the proof cannot see (compiler, engine).

(a) The binary's `--describe` lists its jump parts, and the verifier compares them with the model's: rare
enormous undeclared jumps, which almost no simulated path shows, fail a sanity check that names them.

(b) The extended design: the binary is also observed to 1.5·T at checkpoints off the first design's grid
(`verifier.runs.extended_specs`), and those moments are tested too, so a term that acts only after the horizon
or only between the checkpoints fails.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from edited_crates import OU, UNDECLARED_JUMPS, crate, edit

import architect
from architect import verifier
from architect.gym.runner import RunSpec
from architect.model import SdeModel
from architect.verifier import runs
from architect.verifier.sanity import jumps_check

# ============================================================================ (a) jumps in --describe
MERTON_JUMPS = [{"variable": 0, "intensity": 1.0, "law": "normal", "size": {"mean": -0.1, "sd": 0.15}}]


def merton() -> SdeModel:
    model = architect.parse("Merton")
    (jump,) = model.jumps
    values = jump.values(model.substitutions())
    assert (jump.law, values) == ("normal", {"intensity": 1.0, "mean": -0.1, "sd": 0.15}), values
    return model


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda j: j.clear(), "the model's jumps in x (normal, intensity 1.0, mean -0.1, sd 0.15) are missing"),
        (lambda j: j[0].update(law="double-exponential"), "law 'double-exponential' in the binary, 'normal'"),
        (lambda j: j[0].update(intensity=1.0 + 1e-9), "intensity 1.000000001 (model 1.0)"),
        (lambda j: j[0]["size"].update(sd=0.16), "sd 0.16 (model 0.15)"),
        (lambda j: j[0]["size"].pop("mean"), "mean None (model -0.1)"),
        (lambda j: j[0]["size"].update(skew=1.0), "unknown parameters skew"),
        (lambda j: j[0].update(intensity=True), "intensity True"),
        (lambda j: j.append(dict(j[0])), "two jump parts on x"),
        (lambda j: j[0].update(variable=1), "on no state variable"),
        (lambda j: j[0].update(variable="x"), "on no state variable"),
        (lambda j: j.append("x"), "on no state variable"),
    ],
)
def test_jump_parts_that_differ_from_the_model_fail_the_check(change: Any, message: str) -> None:
    model = merton()
    claimed = copy.deepcopy(MERTON_JUMPS)
    assert jumps_check(model, {"jumps": claimed}).passed
    change(claimed)
    check = jumps_check(model, {"jumps": claimed})
    assert not check.passed and message in check.detail, check.detail


def test_undeclared_jumps_and_unreported_ones() -> None:
    ou, model = architect.parse(OU), merton()
    added = jumps_check(ou, {"jumps": MERTON_JUMPS})
    assert not added.passed
    assert "the binary adds jumps to X that the model does not have (normal, intensity 1.0" in added.detail
    assert jumps_check(ou, {"jumps": []}).passed
    # An older SDK reports no jumps: fine for a model without them, a failure for one with them.
    assert jumps_check(ou, {}).passed
    missing = jumps_check(model, {})
    assert not missing.passed and "does not report its jumps" in missing.detail
    for garbage in ("x", {"variable": 0}, [[1]] * 2000):
        assert not jumps_check(model, {"jumps": garbage}).passed


def test_undeclared_rare_enormous_jumps_fail_with_statistical_only(tmp_path: Path) -> None:
    """The proof refuses this crate; with --statistical-only the statistics alone would not see jumps that
    almost no path shows (5e-7 per unit time, 600 000 paths), but `--describe` does."""
    _, out = crate(tmp_path)
    edit(out, *UNDECLARED_JUMPS)
    options = architect.Options(paths=20_000, steps=20, statistical_only=True)
    report = architect.verify(out, options=options).report
    assert report["verdict"] == "fail" and report["equivalence"]["proven"] is False
    assert report["reason"].startswith("binary simulates the model's jumps: failed (the binary adds jumps to X"), (
        report["reason"]
    )
    assert "intensity 5e-07, mean 200000.0, sd 1.0" in report["reason"], report["reason"]


# ============================================================================ (b) the extended design
OU_DRIFT = "[self.kappa * (self.theta - x)]"
SMALL = architect.Options(paths=40_000, steps=40, statistical_only=True)


def test_the_extended_design_at_the_defaults() -> None:
    options = architect.Options()
    specs = options.extended_runs()
    assert [(s.paths, s.steps, s.seed, s.horizon, s.checkpoints) for s in specs] == [
        (50_000, 150, 6, 1.5, 5),
        (50_000, 300, 7, 1.5, 5),
        (50_000, 600, 8, 1.5, 5),
    ]
    assert [(s.steps, s.seed) for s in options.extended_reference_runs()] == [(300, 9), (600, 10)]
    # The same step size as the first design (1/400 at the finest), and seeds no other run uses.
    assert specs[2].horizon / specs[2].steps == options.horizon / options.runs()[2].steps
    seeds = [s.seed for s in (*options.runs(), *options.reference_runs(), *specs, *options.extended_reference_runs())]
    assert len(set(seeds)) == len(seeds) == 10
    assert architect.Options(extended=False).extended_runs() == ()


@pytest.mark.parametrize("k", range(1, 13))
def test_extended_checkpoints_miss_the_first_grid(k: int) -> None:
    extended = runs.extended_checkpoints(k)
    assert extended > k
    off_grid = [1.5 * j / extended for j in range(1, extended + 1) if 1.5 * j / extended <= 1]
    assert all(abs(t * k - round(t * k)) > 1e-9 for t in off_grid), (k, extended, off_grid)
    base = runs.extended_base(RunSpec(steps=k * 7, checkpoints=k))
    assert base.steps % extended == 0 and base.checkpoints == extended


def bomb_crate(tmp_path: Path, drift: str) -> Path:
    _, out = crate(tmp_path)
    edit(out, "fn drift(&self, _t: f64", "fn drift(&self, t: f64")
    edit(out, OU_DRIFT, drift)
    return out


def failed_times(report: dict[str, Any]) -> set[float]:
    return {round(c["time"], 9) for c in report["checks"] if not c["passed"]}


def test_a_term_that_acts_only_after_the_horizon_fails(tmp_path: Path) -> None:
    out = bomb_crate(tmp_path, "[self.kappa * (self.theta - x) + (t - 1.0).max(0.0) * 50.0]")
    blind = architect.verify(out, options=replace(SMALL, extended=False)).report
    assert blind["verdict"] == "pass", blind["reason"]  # what the first design alone concluded
    report = architect.verify(out, options=SMALL).report
    assert report["verdict"] == "fail" and "worst: mean of X at t=1." in report["reason"], report["reason"]
    assert failed_times(report) and min(failed_times(report)) > 1.0
    late = [c for c in report["checks"] if c["name"] == "mean of X at t=1.5"]
    assert late and "extended design (horizon 1.5, 5 checkpoints, 10000 paths)" in late[0]["detail"]


def test_a_forcing_that_vanishes_at_the_checkpoints_fails(tmp_path: Path) -> None:
    """5·sin(4πt) is zero at every k/4, but its effect on the mean is not (the first design sees it too)."""
    out = bomb_crate(tmp_path, "[self.kappa * (self.theta - x) + 5.0 * (4.0 * std::f64::consts::PI * t).sin()]")
    report = architect.verify(out, options=SMALL).report
    assert report["verdict"] == "fail" and {0.3, 0.6, 0.9, 1.2} <= failed_times(report), report["reason"]


def test_a_forcing_whose_effect_vanishes_at_the_checkpoints_fails(tmp_path: Path) -> None:
    """A forcing A(4π cos 4πt + κ sin 4πt) moves the OU mean by exactly A sin 4πt: nothing at the first design's
    checkpoints k/4, ±0.95·A at 0.6 and 0.9. (per_step goes: the forcing is per unit time, not per step.)"""
    _, out = crate(tmp_path)
    source = out / "src" / "model.rs"
    text = source.read_text()
    start = text.index("    /// The time step folded")
    source.write_text(text[:start].rstrip() + "\n}\n")
    pi_t = "4.0 * std::f64::consts::PI * t"
    edit(out, "fn drift(&self, _t: f64", "fn drift(&self, t: f64")
    edit(
        out,
        OU_DRIFT,
        f"[self.kappa * (self.theta - x) + 0.05 * (4.0 * std::f64::consts::PI * ({pi_t}).cos()"
        f" + self.kappa * ({pi_t}).sin())]",
    )
    # What the first design alone concluded (the same-step design sees the forcing's O(h) error at 40 steps).
    blind = architect.verify(out, options=replace(SMALL, extended=False, same_steps=False)).report
    assert blind["verdict"] == "pass", blind["reason"]
    report = architect.verify(out, options=replace(SMALL, same_steps=False)).report
    assert report["verdict"] == "fail" and failed_times(report) <= {0.3, 0.6, 0.9, 1.2}, report["reason"]
    assert {0.6, 0.9} <= failed_times(report), report["reason"]


def test_the_report_records_the_extended_design(tmp_path: Path) -> None:
    result = architect.generate(OU, out=tmp_path / "ou", options=architect.Options(paths=8000, steps=20))
    assert result.passed, result.report["reason"]
    extended = result.report["simulation"]["extended"]
    assert extended == {
        "paths": 2000,
        "horizon": 1.5,
        "checkpoints": [0.3, 0.6, 0.9, 1.2, 1.5],
        "steps": [30, 60, 120],
        "seeds": [6, 7, 8],
        "reference": {"steps": [60, 120], "seeds": [9, 10], "used": False},
    }
    times = {round(c["time"], 9) for c in result.report["checks"] if c["kind"] != "sanity"}
    assert {0.3, 0.6, 0.9, 1.2, 1.5} <= times
    assert "an extended design of 3 more" in result.report["statistics"]["method"]
    markdown = (tmp_path / "ou" / "report.md").read_text()
    assert "Extended design" in markdown and "0.3, 0.6, 0.9, 1.2, 1.5" in markdown
    off = architect.generate(OU, out=tmp_path / "off", options=architect.Options(paths=8000, steps=20, extended=False))
    assert off.passed and off.report["simulation"]["extended"] is None


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> tuple[SdeModel, runs.Observed]:
    """A correct OU binary observed through both designs at a small size."""
    model = architect.parse(OU)
    folder = tmp_path_factory.mktemp("extended")
    built = architect.generate(model, out=folder, options=architect.Options(paths=1000, steps=4), scheme="euler")
    assert built.binary is not None
    options = architect.Options(paths=4000, steps=20)
    seen = runs.observe(model, built.binary, options.runs(), (), None, extended=options.extended_runs())
    return model, seen


def verify_with(model: SdeModel, seen: runs.Observed, extended: Any, **more: Any) -> verifier.Verification:
    return verifier.verify(
        model,
        *seen.tested[:2],
        finer_stats=seen.tested[2],
        terminal=seen.terminal,
        extended=extended,
        **more,
    )


def test_extended_runs_pass_and_join_the_holm_family(observed: tuple[SdeModel, runs.Observed]) -> None:
    model, seen = observed
    alone = verify_with(model, seen, None)
    both = verify_with(model, seen, seen.extended)
    assert alone.passed and both.passed, both.reason
    statistical = [c for c in both.checks if c.kind != "sanity"]
    added = [c for c in statistical if "extended design" in c.detail]
    assert len(statistical) == len([c for c in alone.checks if c.kind != "sanity"]) + len(added)
    # Mean and variance at 5 more times (and the third and fourth moments the skewness guard trusts at 1000 paths).
    assert {(c.kind, round(c.time, 9)) for c in added} >= {
        (kind, t) for kind in ("mean", "variance") for t in (0.3, 0.6, 0.9, 1.2, 1.5)
    }
    levels = sorted(c.level for c in statistical if c.level is not None)
    assert levels[-1] == both.alpha and levels[0] == pytest.approx(both.alpha / len(statistical))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda docs: docs[:1], "extended design: statistics are well-formed: failed (need two or three runs)"),
        (lambda docs: [docs[0] | {"format": "x"}, *docs[1:]], "extended design coarse statistics are well-formed"),
        (lambda docs: [d | {"model": "other"} for d in docs], "disagrees with the tested runs on model"),
        (lambda docs: [d | {"seed": d["seed"] - 5} for d in docs], "reuses seeds [1, 2, 3]"),
        (lambda docs: [docs[0], docs[0], docs[2]], "extended design: runs are comparable: failed"),
        (lambda docs: [docs[0] | {"checkpoints": docs[0]["checkpoints"][:1]}, *docs[1:]], "disagree on checkpoint"),
    ],
)
def test_broken_extended_runs_fail_a_sanity_check(
    observed: tuple[SdeModel, runs.Observed], change: Any, message: str
) -> None:
    model, seen = observed
    assert seen.extended is not None
    docs = change(json.loads(json.dumps(seen.extended)))
    result = verify_with(model, seen, docs)
    assert result.verdict == "fail" and message in result.reason, result.reason
    json.dumps(result.to_dict(), allow_nan=False)


def test_the_first_grid_repeated_is_not_an_extended_design(observed: tuple[SdeModel, runs.Observed]) -> None:
    model, seen = observed
    shifted = [d | {"seed": d["seed"] + 5} for d in json.loads(json.dumps(seen.tested))]
    result = verify_with(model, seen, shifted)
    assert not result.passed and "repeat the first design's" in result.reason, result.reason


def test_a_model_with_a_reference_needs_one_for_the_extended_design(observed: tuple[SdeModel, runs.Observed]) -> None:
    cubic = architect.parse("dX = -X^3*dt + 0.3*dW; X0=0")
    _, seen = observed
    docs = [d | {"model": cubic.slug} for d in json.loads(json.dumps([*seen.tested, *(seen.extended or ())]))]
    reference = [r | {"seed": r["seed"] + 100} for r in docs[1:3]]
    result = verifier.verify(cubic, docs[0], docs[1], finer_stats=docs[2], reference=reference, extended=docs[3:])
    assert not result.passed
    assert "extended design: theory for every state variable: failed" in result.reason, result.reason
