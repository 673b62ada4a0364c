"""A small run of scripts/fuzz_parser.py inside the test suite: no tracebacks, no hangs, JSON round trips.

The full run (100 000 inputs, numbers in docs/models.md) is ``.venv/bin/python scripts/fuzz_parser.py``.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sympy as sp

from architect.errors import ParseError
from architect.model import symbol
from architect.parser import catalog, parse
from architect.parser.domains import defined_region, undefined_part

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_parser.py"


@pytest.fixture(scope="module")
def fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parser", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_parser"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_inputs_raise_only_usage_errors_and_never_hang(fuzzer: ModuleType) -> None:
    tally = fuzzer.fuzz(inputs=3000, seed=20260101, workers=1)
    assert tally.inputs == 3000
    assert set(tally.by_generator) == {"text", "mutated", "latex", "named"}
    assert not tally.failures, tally.failures[:5]
    assert tally.slowest < fuzzer.LIMIT_SECONDS, tally.slowest_input
    assert tally.parsed > 100  # the generators reach the model-building paths, not only the lexer


def test_every_seed_input_parses(fuzzer: ModuleType) -> None:
    for text in fuzzer.VALID:
        outcome, _, detail = fuzzer.check_one(text)
        assert outcome == "parsed", (text, detail)


def test_generators_are_reproducible(fuzzer: ModuleType) -> None:
    for generate in fuzzer.GENERATORS.values():
        assert generate(random.Random(7)) == generate(random.Random(7))


# ---------------------------------------------------------------------------- the issue #19 run's failures
UNDEFINED = [
    # The run's two internal errors: a log(0) reached sympy's inequality solver (TypeError, ValueError).
    (
        "{\\rm d}v_t = \\alpha\\,{\\rm d}t + \\sqrt[3]{\\ln{\\frac{\\lambda}{v_t}}}\\,{\\rm d}W_{1,t}\n"
        "\\alpha=2, \\lambda=0, v_0 = 0.04",
        "the diffusion of v is undefined at the given parameter values: log(0), with lam = 0",
    ),
    (
        "\\mathrm{d}Y_t = \\exp(t) \\cdot \\left(\\rho\\right) \\times \\max\\{0.5, \\xi\\}\\,\\mathrm{d}t + "
        "\\ln{\\max\\{\\ln{\\mu}, \\sqrt{Y_t}\\}}\\,\\mathrm{d}W^1_t\n\\rho=0, \\mu=0, \\xi=1e-3, Y_0 = -1",
        "the diffusion of Y is undefined at the given parameter values: log(0), with mu = 0",
    ),
    # The same in plain text, and the other ways a coefficient is undefined at the values.
    ("dX = -X*dt + sqrt(log(lam/X))*dW, lam=0, X0=1", "the diffusion of X is undefined at the given parameter"),
    ("dX = log(lam)*X*dt + dW, lam=0, X0=0", "the drift of X is undefined at the given parameter values: log(0)"),
    ("dX = X/(a - b)*dt + dW, a=0.5, b=1/2, X0=1", "the drift of X is undefined at the given parameter values: 1/0"),
    ("dx = dW1 + 1/a*dW2; dy = dW2; a=0; x0=0; y0=0", "the diffusion of x (its dW2 term) is undefined"),
]


@pytest.mark.parametrize(("text", "reason"), UNDEFINED)
def test_a_coefficient_undefined_at_the_values_is_a_clear_error(text: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert reason in str(caught.value)
    assert "could not read the model" not in str(caught.value)


def test_the_domain_analysis_never_raises_on_an_undefined_condition() -> None:
    x, lam, mu = symbol("X"), symbol("lam"), symbol("mu")
    for expr, values in [
        (sp.sqrt(sp.log(lam / x)), {"lam": 0.0}),
        (sp.log(sp.Max(sp.log(mu), sp.sqrt(x))), {"mu": 0.0}),
    ]:
        region, _ = defined_region(x, (expr,), {}, values)  # no TypeError / ValueError from sympy
        assert region is not None


def test_undefined_part_names_the_innermost_piece() -> None:
    x, lam = symbol("X"), symbol("lam")
    assert undefined_part(sp.log(lam / x) ** sp.Rational(1, 3), {lam: sp.Integer(0)}) == "log(0), with lam = 0"
    assert undefined_part(x / (lam - 1), {lam: sp.Integer(1)}) == "1/0, with lam = 1"
    assert undefined_part(x / (lam - 1), {lam: sp.Integer(2)}) is None
    assert undefined_part(sp.exp(lam) * x + sp.sqrt(x), {lam: sp.Integer(3)}) is None


def test_a_tower_of_functions_of_numbers_is_checked_in_bounded_time(fuzzer: ModuleType) -> None:
    # The 100k rerun's one hang: exp^27(rho) with rho = 0 under a log; sympy's exact evaluation of
    # exp(exp(...exp(1))) grew without bound inside the undefined-piece check (over 2 minutes).
    tower = "\\exp" * 27
    text = "{\\rm d}v_t = t\\,{\\rm d}t + \\frac{\\ln{\\xi \\times " + tower + "\\rho}}{v_t + 4^{3}}"
    text += "\\,{\\rm d}W_{1,t}\n\\rho=0, \\xi=0.2, v_0 = -1"
    outcome, _, detail = fuzzer.check_one(text, limit=5.0)
    assert outcome in ("parsed", "refused"), detail
    for depth in (6, 12, 40):
        plain = "dv = t*dt + log(xi*" + "exp(" * depth + "rho" + ")" * depth + ")/(v + 64)*dW, rho=0, xi=0.2, v0=-1"
        outcome, _, detail = fuzzer.check_one(plain, limit=5.0)
        assert outcome in ("parsed", "refused"), (depth, detail)


def test_undefined_part_still_finds_zero_after_irrational_numbers() -> None:
    x, lam = symbol("X"), symbol("lam")
    assert undefined_part(sp.log(lam * sp.exp(sp.exp(lam + 1))) * x, {lam: sp.Integer(0)}) == "log(0), with lam = 0"
    assert undefined_part(x / sp.sin(lam * sp.pi), {lam: sp.Integer(1)}) == "1/0, with lam = 1"  # pi kept exact
    assert undefined_part(sp.log(sp.exp(sp.exp(sp.exp(lam)))) * x, {lam: sp.Integer(3)}) is None  # overflow: undecided


REPEATED = [
    # The run's 35 slow inputs: one modifier or differential repeated dozens of times (500-1 500 characters).
    "Stein-St" + "with jumps" * 41,
    "Jacobi " + "zero correlation" * 34 + " kappa 0.5",
    "CKLS&&&&&&" + "with mean reversion" * 41,
    "SABR beta" + "with jumps" * 27 + "=0.7 nu=0.5 F0=0.04",
    "GBM" + "dJ_x" * 40 + " wGBMGw",
    "Heston " + "with jumps " * 150,
    "GBM " + "with mean reversion with stochastic volatility with jumps zero correlation " * 20,
]


@pytest.mark.parametrize("text", REPEATED)
def test_a_repeated_modifier_is_refused_quickly_with_a_usage_error(fuzzer: ModuleType, text: str) -> None:
    outcome, _, detail = fuzzer.check_one(text, limit=5.0)  # about 0.02 s each; the limit only stops a hang
    assert outcome in ("parsed", "refused"), (text, detail)


def test_the_name_search_suggests_names_once_not_for_every_start_it_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The search tries up to 180 starts of the text; suggesting names ("did you mean ...") for each one
    # compared every word with every name each time, quadratic in the text (0.2-0.7 s for 500 characters).
    calls = 0
    real = catalog.difflib.get_close_matches

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog.difflib, "get_close_matches", counted)
    with pytest.raises(ParseError, match="unknown model"):
        parse("Blah " + "with mean reversion" * 60)
    assert calls <= catalog.MAX_NAME_WORDS + 1
