"""Deep hedging's batch interface (issue #18, item 5) and a smoke run of examples/deep_hedging.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import architect.envs
from architect.envs import HedgingBatch, expected_shortfall
from architect.errors import UsageError
from tests.gym_models import model_out

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"dates": 12, "maturity": 0.1, "proportional_cost": 2e-3, "fixed_cost": 0.01}


@pytest.fixture(scope="module")
def heston(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_out("heston", tmp_path_factory)


def test_the_batch_pnl_is_the_sum_of_the_env_rewards(heston: Path) -> None:
    envs = architect.envs.HedgingVectorEnv(40, heston, **SETTINGS)
    _, info = envs.reset(seed=3)
    total, hedges = np.zeros(40), []
    for t in range(12):
        hedge = np.clip(info["bs_delta"] + 0.05 * np.sin(t), 0, 1)
        hedges.append(hedge)
        _, reward, _, _, info = envs.step(hedge[:, None])
        total += reward
    envs.close()
    with HedgingBatch(heston, **SETTINGS) as batch:
        data = batch.sample(40, seed=3, episode=0)  # the vector env's round 0
        assert data.features.shape == (40, 12, 2) and data.feature_names == ("time_to_go", "log_moneyness")
        assert np.allclose(batch.pnl(np.stack(hedges, axis=1), data), total, rtol=0, atol=1e-9)
        other = batch.sample(40, seed=3)  # paths 0..39: another batch
        assert not np.array_equal(other.prices, data.prices) and np.array_equal(other.prices[0], data.prices[0])


def test_the_pnl_is_differentiable_in_torch(heston: Path) -> None:
    torch = pytest.importorskip("torch")
    with HedgingBatch(heston, **SETTINGS, observe="full") as batch:
        data = batch.sample(256, seed=1)
        assert data.feature_names[-1] == "v"
        tensors = data.torch()
        hedges = torch.tensor(data.bs_delta, requires_grad=True)
        loss = expected_shortfall(batch.pnl(hedges, tensors))
        loss.backward()
        assert hedges.grad is not None and torch.isfinite(hedges.grad).all() and hedges.grad.abs().sum() > 0
        assert loss.item() == pytest.approx(expected_shortfall(batch.pnl(data.bs_delta, data)))
    with pytest.raises(UsageError, match="no scenarios="):
        HedgingBatch(heston, scenarios={"rho": (-0.5, 0.0)})


def test_the_deep_hedging_example_runs(heston: Path) -> None:
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("deep_hedging", ROOT / "examples" / "deep_hedging.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SETTINGS.update(dates=5, steps=5)
    results = module.run(heston, paths=256, test_paths=256, iterations=2, minibatch=128, say=lambda _: None)
    for key in ("black_scholes_delta", "deep_hedge", "no_hedge"):
        assert set(results[key]) == {"mean", "std", "es95"} and np.isfinite(results[key]["es95"])
    assert "| deep hedge |" in module.table(results)
