"""Verified simulators for the gym's tests (issue #18), generated once per test session and shared by the
test files that need them (tests/test_envs*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import architect

#: Small verification runs: the models are the families' own, verified at the usual level.
FAST = architect.Options(paths=4000, steps=8)
MODELS = {"ou": "Ornstein-Uhlenbeck", "gbm": "GBM", "heston": "Heston"}
_made: dict[str, Path] = {}


def model_out(name: str, factory: pytest.TempPathFactory) -> Path:
    """The output folder of ``MODELS[name]``, generated and verified on first use in this process."""
    if name not in _made:
        out = factory.mktemp("gym-models") / name
        result = architect.generate(MODELS[name], out=out, options=FAST)
        assert result.passed, result.report["reason"]
        _made[name] = out
    return _made[name]
