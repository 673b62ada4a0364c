"""Statistics where users run it (issue #14, item 2): defence in depth for crates verified with
``--statistical-only`` and for bugs the proof cannot see (compiler, engine).

(a) The binary's `--describe` lists its jump parts, and the verifier compares them with the model's: rare
enormous undeclared jumps, which almost no simulated path shows, fail a sanity check that names them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import architect
from architect import codegen
from architect.model import SdeModel
from architect.verifier.sanity import jumps_check

OU = "OU kappa=2 theta=1 sigma=0.5 X0=0"
UNDECLARED_JUMPS = (
    "    fn per_step(",
    "    fn jumps(&self) -> Vec<architect_sdk::Jump> {\n"
    "        vec![architect_sdk::Jump { variable: 0, intensity: 5e-7,"
    " size: architect_sdk::JumpSize::Normal { mean: 2e5, sd: 1.0 } }]\n    }\n\n    fn per_step(",
)


def crate(tmp_path: Path, text: str = OU, scheme: str = "euler") -> tuple[SdeModel, Path]:
    model = architect.parse(text)
    out = tmp_path / "crate"
    codegen.write_crate(model, out, scheme=scheme)
    (out / "model.json").write_text(model.to_json())
    return model, out


def edit(out: Path, old: str, new: str) -> None:
    source = out / "src" / "model.rs"
    text = source.read_text()
    assert old in text, f"{old!r} not in\n{text}"
    source.write_text(text.replace(old, new, 1))


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
