"""`verify_ranges=True`: check the simulator at every corner of the scenario ranges before training on them.

The simulator was verified at its default parameters; scenarios run it at others through its run-time
parameters (``--set``, no rebuild). At each corner of the box of ranges this simulates `PATHS` paths and
z-tests the mean and the variance of every state variable at the horizon against the model's exact moments
at those values (`architect.verifier.theory`, polynomial models), all at one family-wise level (Bonferroni).
A failed check is a `ModelError` naming the corner; `RangeVerification.text` says what was verified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from architect.envs.market import SimulatedMarket, corners
from architect.errors import ModelError
from architect.verifier.theory import NotPolynomial, PolynomialMoments

#: Paths simulated at each corner, and the family-wise level of all the corners' checks together.
PATHS = 20_000
LEVEL = 1e-3


@dataclass(frozen=True)
class RangeVerification:
    """What `verify_ranges` checked: corners, checks and the worst |z| against the critical value."""

    corners: tuple[dict[str, float], ...]
    checks: int
    worst_z: float
    critical_z: float

    @property
    def text(self) -> str:
        return (
            f"verified at the {len(self.corners)} corner(s) of the scenario ranges: the mean and variance of every "
            f"state variable at the horizon agree with the exact moments ({self.checks} z-tests, {PATHS} paths per "
            f"corner, family-wise level {LEVEL:g}: worst |z| {self.worst_z:.2f} < {self.critical_z:.2f})"
        )


def verify_ranges(market: SimulatedMarket, seed: int = 0) -> RangeVerification:
    """Check ``market``'s simulator at every corner of its scenario ranges (see the module's docstring)."""
    model = market.simulator.model
    if market.x0:
        initial = tuple(market.x0.get(name, value) for name, value in zip(model.state, model.initial, strict=True))
        model = dataclasses.replace(model, initial=initial)
    points = corners(market.scenarios) if market.scenarios else [{}]
    checks = 2 * model.dim * len(points)
    critical = float(ndtri(1 - LEVEL / (2 * checks)))
    worst = 0.0
    for corner in points:
        values = {**market.values, **corner}
        try:
            theory = PolynomialMoments.from_model(model.with_parameters(**values), 2)
        except NotPolynomial as exc:
            raise ModelError(f"verify_ranges needs exact moments, and {model.name} has none: {exc.reason}") from None
        x = market.simulator.paths(
            PATHS, market.steps, market.horizon, seed, params=values, x0=market.x0 or None, dates=market.dates
        )[:, -1, :]
        z = _z_scores(x, theory.mean(market.horizon), np.diag(theory.covariance(market.horizon)))
        worst = max(worst, float(np.max(np.abs(z))))
        if not np.all(np.abs(z) < critical):
            largest = float(np.max(np.abs(z)))
            raise ModelError(
                f"the simulator disagrees with {model.name}'s exact moments at the corner {_show(corner)} "
                f"(|z| = {largest:.1f} > {critical:.2f}, {market.steps} steps): a discretised scheme's "
                "step bias shows at few steps; give more steps per date, or narrow the scenario ranges"
            )
    return RangeVerification(tuple(points), checks, worst, critical)


def _z_scores(x: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """z statistics of the sample mean and the sample variance of each column of ``x`` (n, D)."""
    n = len(x)
    centred = x - x.mean(axis=0)
    m2 = (centred**2).mean(axis=0)
    m4 = (centred**4).mean(axis=0)
    z_mean = (x.mean(axis=0) - mean) / np.sqrt(np.maximum(m2, 1e-300) / n)
    z_var = (m2 * n / (n - 1) - variance) / np.sqrt(np.maximum(m4 - m2**2, 1e-300) / n)
    return np.concatenate([z_mean, z_var])


def _show(corner: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in corner.items()) or "(defaults)"


__all__ = ["LEVEL", "PATHS", "RangeVerification", "verify_ranges"]
