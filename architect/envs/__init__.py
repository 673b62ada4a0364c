"""The gym's environments (issue #18): verified markets as Gymnasium environments for trading and hedging.

Importing this package registers ``architect/Trading-v0`` and ``architect/Hedging-v0`` with Gymnasium
(`import architect` does it too when Gymnasium is installed, `architect.register_envs`), each with a native
vector entry point, so ``gymnasium.make_vec(..., num_envs=N)`` steps N environments from one simulator batch:

    import gymnasium, architect
    env = gymnasium.make("architect/Hedging-v0", simulator="architect-out/gbm", dates=52)

Gymnasium is the optional extra ``architect[gym]``; without it this import is a `UsageError` saying so.
(The verifier's binary runner is `architect.gym`, an older name for something else.) docs/gym.md, "The gym".
"""

from __future__ import annotations

from architect.errors import UsageError

try:
    import gymnasium
except ImportError:  # pragma: no cover - depends on the installation
    raise UsageError("architect.envs needs Gymnasium >= 1.0: pip install 'architect[gym]'") from None
if int(gymnasium.__version__.split(".")[0]) < 1:  # pragma: no cover
    raise UsageError(f"architect.envs needs Gymnasium >= 1.0, found {gymnasium.__version__}: pip install -U gymnasium")

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from architect.envs.batch import HedgingBatch, HedgingData, expected_shortfall
    from architect.envs.environments import HedgingEnv, HedgingVectorEnv, TradingEnv, TradingVectorEnv
    from architect.envs.market import EPISODES_PER_BLOCK, path_index

IDS = ("architect/Trading-v0", "architect/Hedging-v0")


def register() -> None:
    """Register both environments with Gymnasium (idempotent)."""
    module = "architect.envs.environments"
    for env_id, name in zip(IDS, ("Trading", "Hedging"), strict=True):
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point=f"{module}:{name}Env",
                vector_entry_point=f"{module}:{name}VectorEnv",
            )


register()

_LAZY = {
    "HedgingEnv": "environments",
    "HedgingVectorEnv": "environments",
    "TradingEnv": "environments",
    "TradingVectorEnv": "environments",
    "EPISODES_PER_BLOCK": "market",
    "path_index": "market",
    "HedgingBatch": "batch",
    "HedgingData": "batch",
    "expected_shortfall": "batch",
}


def __getattr__(name: str) -> Any:
    """The environments load on first use: `import architect` registers them without importing them."""
    if name not in _LAZY:
        raise AttributeError(f"module 'architect.envs' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"architect.envs.{_LAZY[name]}"), name)


__all__ = [
    "EPISODES_PER_BLOCK",
    "IDS",
    "HedgingBatch",
    "HedgingData",
    "HedgingEnv",
    "HedgingVectorEnv",
    "TradingEnv",
    "TradingVectorEnv",
    "expected_shortfall",
    "path_index",
    "register",
]
