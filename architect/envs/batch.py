"""Deep hedging's batch interface: whole hedging episodes as arrays (or torch tensors) and a differentiable P&L.

Gymnasium steps one date at a time; training a hedging policy by gradient descent (Buehler et al. 2019, "Deep
hedging") wants the whole batch at once: the paths, the option's features at every decision date, and a P&L
that is a function of the hedges, written in the array library the hedges come in (so torch's autograd flows
through it). `HedgingBatch` is that, over the same simulator, option and costs as `HedgingEnv`:

    batch = HedgingBatch("architect-out/heston", dates=30, maturity=30 / 365, proportional_cost=2e-3)
    data = batch.sample(100_000, seed=0)            # numpy; data.torch() for tensors
    pnl = batch.pnl(hedges, data)                  # hedges (n, k): numpy or torch, differentiable in torch

Its P&L is the sum of `HedgingEnv`'s rewards for the same episode and hedges (tested): premium received, plus
``sum_t h_t (S_{t+1} - S_t)``, minus ``proportional_cost * |h_t - h_{t-1}| * S_t`` and the fixed costs of
each trade, minus the payoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from architect.envs.contracts import Hedging, payoff
from architect.envs.environments import hedging_setup
from architect.envs.market import Episodes, SimulatedMarket
from architect.envs.setup import check_seed
from architect.errors import UsageError
from architect.simulator import Simulator


@dataclass
class HedgingData:
    """``n`` hedging episodes over ``k`` decision dates (numpy arrays, or torch tensors after `torch`).

    ``features`` (n, k, f) are the observation's market part at each decision date, named by
    ``feature_names``: time to go, log-moneyness and, with ``observe="full"``, the hidden factors; the
    position and the P&L, which depend on the policy, are for the policy to carry."""

    prices: Any  # (n, k + 1) the observable at every date
    features: Any  # (n, k, f)
    bs_delta: Any  # (n, k) the Black-Scholes delta at each decision date (the reference hedge)
    premium: Any  # (n,) cash received for the option at the start
    payoff: Any  # (n,) paid at maturity
    strike: Any  # (n,)
    feature_names: tuple[str, ...] = ()

    def torch(self, device: Any = None, dtype: Any = None) -> HedgingData:
        """The same data as torch tensors (float64 unless ``dtype``), on ``device``."""
        import torch

        def tensor(value: Any) -> Any:
            return torch.as_tensor(np.asarray(value), dtype=dtype or torch.float64, device=device)

        arrays = {f.name: tensor(getattr(self, f.name)) for f in fields(self) if f.name != "feature_names"}
        return HedgingData(**arrays, feature_names=self.feature_names)

    def __len__(self) -> int:
        return int(self.prices.shape[0])


class HedgingBatch:
    """Hedging episodes in batches for differentiable training; the keywords are `HedgingEnv`'s."""

    def __init__(self, simulator: Simulator | str | Path, **kwargs: Any) -> None:
        for refused in ("replay", "scenarios", "window"):
            if refused in kwargs:
                raise UsageError(f"HedgingBatch takes no {refused}= (use HedgingEnv for it)")
        self.setup, self.option = hedging_setup(simulator, window=0, **kwargs)
        assert isinstance(self.setup.market, SimulatedMarket)
        self.market: SimulatedMarket = self.setup.market
        self.feature_names = ("time_to_go", "log_moneyness", *self.setup.hidden_names)

    @property
    def dates(self) -> int:
        return self.setup.dates

    def sample(self, n: int, seed: int = 0, *, first_path: int = 0, episode: int | None = None) -> HedgingData:
        """``n`` episodes: paths ``first_path ..`` of ``seed``, or with ``episode`` the episodes a vector
        environment of ``n`` environments plays in that round (the seeding rule)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"n must be a positive integer, got {n!r}")
        seed = check_seed(seed)
        if episode is not None:
            episodes = self.market.episodes(seed, 0, n, episode)
        else:
            episodes = self.market.contiguous(seed, first_path, n)
        return self._data(episodes)

    def _data(self, episodes: Episodes) -> HedgingData:
        prepared = self.option.prepare(episodes, self.setup)
        prices = episodes.prices.T  # (n, k + 1)
        k = self.setup.dates
        tau = np.broadcast_to(self.setup.time_to_go[None, :k, None], (prices.shape[0], k, 1))
        parts = [tau, prepared.extra[:k].transpose(1, 0, 2)]
        if self.setup.observe_hidden:
            parts.append(episodes.hidden[:k].transpose(1, 0, 2))
        n = prices.shape[0]
        option = self.option
        strike = np.full(n, option.strike) if option.strike is not None else prices[:, 0].copy()
        premium = np.full(n, option.premium) if option.premium is not None else prepared.references["bs_price"][0]
        return HedgingData(
            prices=np.ascontiguousarray(prices),
            features=np.ascontiguousarray(np.concatenate(parts, axis=2)),
            bs_delta=np.ascontiguousarray(prepared.references["bs_delta"][:k].T),
            premium=np.array(premium, dtype=np.float64),
            payoff=_payoff(prices[:, -1], strike, option),
            strike=strike,
            feature_names=self.feature_names,
        )

    def pnl(self, hedges: Any, data: HedgingData) -> Any:
        """The hedging P&L of each episode for ``hedges`` (n, k) (numpy or torch, like ``data``): differentiable
        in the hedges under torch; equal to the sum of `HedgingEnv`'s rewards (hedges are clipped there)."""
        setup = self.setup
        prices = data.prices
        steps = prices[:, 1:] - prices[:, :-1]
        previous = _shift(hedges)
        trades = hedges - previous
        cost = setup.proportional_cost * abs(trades) * abs(prices[:, :-1])
        if setup.fixed_cost:
            cost = cost + setup.fixed_cost * (trades != 0)
        return data.premium + (hedges * steps).sum(1) - cost.sum(1) - data.payoff

    def close(self) -> None:
        self.setup.close()

    def __enter__(self) -> HedgingBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def expected_shortfall(pnl: Any, level: float = 0.95) -> Any:
    """The mean loss in the worst ``1 - level`` of outcomes (-P&L), numpy or torch (differentiable)."""
    losses = -pnl
    count = max(1, round((1 - level) * losses.shape[0]))
    if isinstance(losses, np.ndarray):
        return float(np.sort(losses)[-count:].mean())
    return losses.topk(count).values.mean()


def _shift(hedges: Any) -> Any:
    """The hedge held before each date: 0, then ``hedges[:, :-1]``."""
    if isinstance(hedges, np.ndarray):
        return np.concatenate([np.zeros((hedges.shape[0], 1)), hedges[:, :-1]], axis=1)
    import torch

    return torch.cat([torch.zeros_like(hedges[:, :1]), hedges[:, :-1]], dim=1)


def _payoff(spot: np.ndarray, strike: np.ndarray, option: Hedging) -> np.ndarray:
    return payoff(spot, strike, option.call)


def summary(pnl: np.ndarray) -> Mapping[str, float]:
    """Mean, standard deviation and 95% expected shortfall of a P&L sample."""
    return {"mean": float(np.mean(pnl)), "std": float(np.std(pnl)), "es95": expected_shortfall(pnl, 0.95)}
