"""Equations and named models written in prose (issue #19): percentages in equations, "starting from", values
without ``=``, the correlation of two noises in words, "reverts to", "no drift", a noun before its label."""

from __future__ import annotations

import pytest

import architect
from architect.errors import ParseError


def _values(text: str) -> dict[str, float]:
    model = architect.parse(text)
    values = {p.name: p.value for p in model.parameters}
    values.update({f"{name}0": value for name, value in zip(model.state, model.initial, strict=True)})
    return values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dX = mu*X*dt + sigma*X*dW, mu = 8%, sigma = 30 percent, X0 = 10", {"mu": 0.08, "sigma": 0.3, "X0": 10}),
        ("dY = -0.5*Y*dt + dW starting from Y(0) = 2", {"Y0": 2}),
        ("the SDE dY = -0.5 Y dt + dW starting at Y0 = 3", {"Y0": 3}),
        ("dX = -X*dt + 0.5*dW, initially X = 1", {"X0": 1}),
        (
            "dX = kappa*(theta - X)*dt + sigma*dW where kappa 2, theta of 0.5, sigma is 0.3, X0 = 1",
            {"kappa": 2, "theta": 0.5, "sigma": 0.3, "X0": 1},
        ),
        ("dx = -x*dt + 0.3*dW1; dy = -2*y*dt + 0.2*dW2; correlation 0.5, x0 = 0, y0 = 0", {"rho": 0.5}),
        ("OU process reverting to 5 at speed 2 with volatility 1", {"theta": 5, "kappa": 2, "sigma": 1}),
        ("Vasicek where the rate starts at 1% and reverts to 3% with speed 0.25", {"r0": 0.01, "theta": 0.03}),
        ("Heston where the variance starts at 0.05 and reverts to 0.05 at speed 1", {"v0": 0.05, "kappa": 1}),
        ("Merton jump diffusion with no drift", {"mu": 0}),
        ("GBM without drift, vol 30%", {"mu": 0, "sigma": 0.3}),
    ],
)
def test_prose_reads_as_meant(text: str, expected: dict[str, float]) -> None:
    values = _values(text)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value), name


def test_the_correlation_in_words_needs_two_noises_and_the_modifier_still_clashes() -> None:
    with pytest.raises(ParseError, match="contradict each other"):
        architect.parse("Heston correlated zero correlation")
    with pytest.raises(ParseError):
        architect.parse("dX = -X*dt + 0.5*dW, correlation 0.5, X0 = 1")  # one noise: nothing to correlate


def test_a_noun_before_an_ambiguous_label_narrows_it_but_alone_it_stays_ambiguous() -> None:
    with pytest.raises(ParseError, match="could be"):
        architect.parse("Heston where it starts at 0.05")
