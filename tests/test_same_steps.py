"""Statistics at the step counts users run (issue #14, item 2), for crates verified with --statistical-only.

The extrapolated checks see only the limit h -> 0, and an error linear in h leaves that limit alone, however
large: at the user's N steps such a binary is wrong by C·h. The same-step design compares the tested binary,
without extrapolation, with the compiler's binary of the same scheme at N and at the binary's default step
count (`verifier.runs.same_step_specs`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from edited_crates import OU, crate, edit

import architect
from architect import codegen
from architect.verifier import runs

OPTIONS = architect.Options(paths=40_000, steps=40, statistical_only=True)
OU_DRIFT = "[self.kappa * (self.theta - x)]"


def failed(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["checks"] if not c["passed"]]


def test_the_same_step_design_at_the_defaults() -> None:
    pairs = architect.Options().same_step_runs()
    # N = 100 (the first design's own coarse run) and the binary's default 200 (its fine run), each against
    # the trusted binary with seeds of their own.
    assert [(t.steps, t.seed, r.steps, r.seed) for t, r in pairs] == [(100, 1, 100, 11), (200, 2, 200, 12)]
    # A step count the first design does not have gets a tested run of its own; a default that is not a
    # multiple of the checkpoints is left out.
    odd = architect.Options(steps=24, checkpoints=4).same_step_runs()
    assert [(t.steps, t.seed, r.seed) for t, r in odd] == [(24, 1, 11), (200, 13, 12)]
    assert [t.steps for t, _ in architect.Options(steps=21, checkpoints=3).same_step_runs()] == [21]


def test_the_sdk_default_step_count_is_the_binarys(tmp_path: Path) -> None:
    result = architect.generate(OU, out=tmp_path / "ou", options=architect.Options(paths=2000, steps=8))
    assert result.binary is not None
    help_text = subprocess.run([str(result.binary), "--help"], capture_output=True, text=True, check=True).stdout
    steps = re.search(r"--steps <STEPS>\s+Number of time steps.*?\[default: (\d+)\]", help_text, re.S)
    assert steps and int(steps.group(1)) == runs.SDK_DEFAULT_STEPS, help_text
    # A proven crate is the compiler's scheme: no same-step runs, but its error at N is stated.
    report = result.report
    assert report["equivalence"]["proven"] and report["simulation"]["same_steps"] is None
    assert not any("steps" in c["name"] and " with " in c["name"] for c in report["checks"])
    errors = {(e["state"], e["quantity"]): e for e in report["discretisation"]}
    assert set(errors) == {("X", "mean"), ("X", "variance")}
    assert errors["X", "mean"]["steps"] == [8, 16, 32] and len(errors["X", "mean"]["error"]) == 3
    markdown = (tmp_path / "ou" / "report.md").read_text()
    assert "## At the step counts users run" in markdown and "not run: the code is proven" in markdown
    assert "| error of the mean of X at t=1 | 8 steps: " in markdown


def test_step_labels_are_the_sdks() -> None:
    source = (Path(__file__).resolve().parent.parent / "sdk-rs" / "src" / "scheme.rs").read_text()
    pairs = re.findall(r"Step::(\w+) => \"([\w-]+)\"", source)
    assert len(pairs) >= 6
    for variant, label in pairs:
        assert runs.step_label(variant) == label


def test_the_trusted_scheme_is_the_one_the_binary_claims() -> None:
    model = architect.parse(OU)
    assert runs.same_scheme_kind(model, ["euler"]) == "euler"
    assert runs.same_scheme_kind(model, ["exact-ou"]) in ("auto", "exact")
    assert runs.same_scheme_kind(model, ["milstein"]) == "auto"  # the sanity check then names the mismatch
    assert runs.same_scheme_kind(model, "euler") == "auto"
    assert codegen.choose_scheme(model, "euler").steps == ("Euler",)


def test_a_correct_unprovable_crate_passes_at_the_users_steps(tmp_path: Path) -> None:
    _, out = crate(tmp_path)
    edit(out, OU_DRIFT, "if x > 1.0e300 { [0.0] } else { [self.kappa * (self.theta - x)] }")
    report = architect.verify(out, options=OPTIONS).report
    assert report["verdict"] == "pass", report["reason"]
    names = [c["name"] for c in report["checks"]]
    assert "mean of X at t=1 with 40 steps" in names and "variance of X at t=0.25 with 200 steps" in names
    assert report["simulation"]["same_steps"] == {"steps": [40, 200], "seeds": [[1, 11], [13, 12]]}
    pair = next(c for c in report["checks"] if c["name"].startswith("same steps: the tested and trusted runs at 40"))
    assert pair["passed"] and "step kinds euler" in pair["detail"]


def test_a_drift_bias_linear_in_h_fails_at_the_users_steps(tmp_path: Path) -> None:
    """Lie 1 of the issue: the drift is off by C·h, which the extrapolation removes exactly to first order."""
    _, out = crate(tmp_path)
    edit(
        out,
        "            kappa: self.kappa * h,",
        "            kappa: self.kappa * h,\n            theta: self.theta + 2.0 * h / self.kappa,",
    )
    report = architect.verify(out, options=OPTIONS).report
    assert report["verdict"] == "fail", report["reason"]
    bad = failed(report)
    # Only the comparisons at the users' step counts see it; every extrapolated check passes.
    assert bad and all(re.search(r" with (40|200) steps$", name) for name in bad), bad
    assert "mean of X at t=1 with 40 steps" in bad


def test_a_drift_that_reads_the_time_grid_fails_at_the_users_steps(tmp_path: Path) -> None:
    """Lie 3: C·(frac(100 t) - ½) averages, over the grid k·h, to a term that shrinks with h."""
    _, out = crate(tmp_path)
    edit(out, "fn drift(&self, _t: f64", "fn drift(&self, t: f64")
    edit(out, OU_DRIFT, "[self.kappa * (self.theta - x) + 0.4 * ((100.0 * t).fract() - 0.5)]")
    # per_step folds h into kappa, which this drift no longer is linear in: the lie removes it.
    source = out / "src" / "model.rs"
    text = source.read_text()
    source.write_text(text[: text.index("    /// The time step folded")].rstrip() + "\n}\n")
    report = architect.verify(out, options=OPTIONS).report
    assert report["verdict"] == "fail", report["reason"]
    assert any(re.search(r" with (40|200) steps$", name) for name in failed(report)), failed(report)


def test_a_scheme_the_compiler_does_not_write_cannot_pass(tmp_path: Path) -> None:
    """GBM stepped by log-Euler: a sound scheme, but not one the compiler writes for GBM (exact or Euler),
    so nothing bounds its error at the users' step counts."""
    _, out = crate(tmp_path, "GBM", scheme="euler")
    edit(out, "[Step::Euler]", "[Step::LogEuler]")
    report = architect.verify(out, options=OPTIONS).report
    assert report["verdict"] == "fail", report["reason"]
    assert "not one architect's compiler writes for this model" in report["reason"], report["reason"]
