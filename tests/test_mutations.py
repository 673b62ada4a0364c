"""The mutation harness behind benches/verifier_power.py: operators produce real bugs, and the verifier catches them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import architect
from architect.codegen import write_crate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))
from mutations import mutants

#: The statistical verifier on its own: the proof that the code is the model is not asked for.
STATISTICS_ONLY = architect.Options(steps=40, statistical_only=True)


def test_operators_cover_the_catalogue_of_bugs() -> None:
    operators = {m.operator for m in mutants(architect.parse("Heston with mean reversion"))}
    assert operators >= {
        "drift sign flipped",
        "term dropped",
        "sqrt removed",
        "volatility swapped",
        "correlation ignored",
        "correlation sign flipped",
        "dt vs sqrt(dt)",
        "variance floored wrongly",
        "parameter typo 10%",
    }


def test_mutants_keep_the_claimed_identity() -> None:
    """A mutant still reports the original parameters, so only its statistics can give it away."""
    original = architect.parse("CIR")
    for mutant in mutants(original):
        assert mutant.model.parameters == original.parameters
        assert mutant.model.initial == original.initial
        assert (mutant.model.drift, mutant.model.diffusion, mutant.model.correlation) != (
            original.drift,
            original.diffusion,
            original.correlation,
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "operator"),
    [
        ("Heston with mean reversion", "correlation ignored"),
        ("CIR", "sqrt removed"),
        # A 10% drift error in ABM is caught only because the exact step's runs are pooled (no Richardson noise).
        ("arithmetic Brownian motion", "parameter typo 10%"),
    ],
)
def test_planted_bug_is_caught(text: str, operator: str, tmp_path: Path) -> None:
    """By the statistics alone (the proof, which refuses every mutant first, is set aside: STATISTICS_ONLY)."""
    original = architect.parse(text)
    mutant = next(m for m in mutants(original) if m.operator == operator)
    write_crate(mutant.model, tmp_path)
    result = architect.verify(tmp_path, model=original, options=STATISTICS_ONLY)
    assert not result.passed, result.report["reason"]
    assert result.report["statistics"]["alpha"] == STATISTICS_ONLY.alpha and result.report["checks"]


def test_jump_operators_plant_jump_bugs() -> None:
    original = architect.parse("Merton")
    planted = {m.operator: m.model for m in mutants(original)}
    assert {"compensator dropped", "jump rate typo 10%", "jump law swapped", "jumps dropped"} <= set(planted)
    assert planted["jumps dropped"].jumps == ()
    assert planted["jump law swapped"].jumps[0].size == (original.jumps[0].size[1], abs(original.jumps[0].size[0]))
    assert "lam" not in str(planted["compensator dropped"].drift[0])


@pytest.mark.slow
@pytest.mark.parametrize("operator", ["compensator dropped", "jump rate typo 10%", "jump law swapped", "jumps dropped"])
def test_planted_jump_bug_is_caught(operator: str, tmp_path: Path) -> None:
    original = architect.parse("Merton")
    mutant = next(m for m in mutants(original) if m.operator == operator)
    write_crate(mutant.model, tmp_path)
    result = architect.verify(tmp_path, model=original, options=STATISTICS_ONLY)
    assert not result.passed, result.report["reason"]
    assert result.report["checks"], "refused by the statistics, not before them"


def test_every_mutant_is_refused_by_the_proof_before_any_statistics(tmp_path: Path, monkeypatch) -> None:
    """Without --statistical-only no mutant is even compiled: its code is not provably the claimed model."""
    from architect import build

    monkeypatch.setattr(build, "build_model", lambda *a, **k: pytest.fail("a mutant was compiled"))
    for text in ("Heston with mean reversion", "CIR", "Merton"):
        original = architect.parse(text)
        for k, mutant in enumerate(mutants(original)):
            out = tmp_path / f"{original.slug}-{k}"
            write_crate(mutant.model, out)
            result = architect.verify(out, model=original)
            assert result.report["reason"].startswith("not provably the model"), (mutant.operator, result.report)
