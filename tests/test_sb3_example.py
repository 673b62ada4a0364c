"""Smoke run of examples/sb3_trading.py (issue #18, item 6): PPO on architect/Trading-v0 at a toy size."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.gym_models import model_out

ROOT = Path(__file__).resolve().parent.parent


def test_the_sb3_example_runs(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    spec = importlib.util.spec_from_file_location("sb3_trading", ROOT / "examples" / "sb3_trading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SETTINGS["dates"] = 5
    ou = model_out("ou", tmp_path_factory)
    results = module.run(ou, timesteps=80, episodes=16, every=40, say=lambda _: None)
    held_out = results["held_out"]
    assert held_out["flat"]["mean"] == 0.0  # holding nothing earns exactly nothing
    assert np.isfinite(held_out["policy"]["mean"]) and len(results["curve"]) >= 2
    assert "| PPO |" in module.table(results)
    module.plot(results["curve"], held_out, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000
