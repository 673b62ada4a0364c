"""Smoke test of the examples of docs/gym.md, "Paths" (docs/examples/): the Heston exotics priced from the paths
against QuantLib, and the fan chart. Small sizes only (a few seconds, most of it generating Heston once); skipped
without QuantLib or matplotlib (the ``bench`` extra)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("QuantLib")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


exotics = _load("heston_exotics")
fan = _load("fan_chart")


@pytest.fixture(scope="module")
def heston(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples") / "heston"
    exotics.heston_simulator(out, verify_paths=20_000).close()
    return out


def test_exotics_from_paths_against_quantlib(heston: Path) -> None:
    binary = heston / "bin" / "heston"
    built = binary.stat().st_mtime_ns
    with exotics.heston_simulator(heston) as sim:  # a verified folder is reused, not regenerated
        assert binary.stat().st_mtime_ns == built
        contract, market = exotics.Contract(), exotics.Market.of(sim.model)
        assert (market.s0, market.v0, market.rate) == pytest.approx((100.0, 0.04, 0.05))
        mc = exotics.price_from_paths(sim, contract, market, paths=3000, chunk=1100)
    reference = exotics.quantlib_prices(contract, market, fine=False)
    assert set(mc) == set(reference)
    for key in ("european", "asian_geometric", "asian_arithmetic"):
        assert mc[key].std_error > 0
        gap = abs(mc[key].price - reference[key].price) / math.hypot(mc[key].std_error, reference[key].std_error)
        assert gap < 5, (key, mc[key], reference[key])
    # Knock-out only lowers the price, and monitoring more often (continuous) lowers it further.
    assert mc["up_and_out_continuous"].price <= mc["up_and_out"].price <= mc["european"].price
    table = exotics.table(mc, reference)
    assert len(table.splitlines()) == 2 + len(exotics.ROWS) and "AnalyticHestonEngine" in table


def test_payoffs_of_a_known_path() -> None:
    contract = exotics.Contract(strike=100.0, barrier=130.0, days=4, fixings=2)
    spot = np.array([[100.0, 110.0, 120.0, 135.0, 125.0]])  # above the barrier on day 3 only
    x = np.stack([np.log(spot), np.full_like(spot, 0.04)], axis=-1)
    values = {key: float(v[0]) for key, v in exotics.payoffs(x, contract).items()}
    assert values["european"] == pytest.approx(25.0)
    assert values["asian_arithmetic"] == pytest.approx(22.5)  # fixings on days 2 and 4: 120, 125
    assert values["asian_geometric"] == pytest.approx(math.sqrt(120 * 125) - 100)
    assert values["up_and_out"] == 0.0  # knocked out daily; days 2 and 4 alone (120, 125) do not touch it
    assert values["up_and_out_continuous"] == pytest.approx(0.0 - 25.0 / (math.sqrt(2) - 1))


def test_fan_chart(heston: Path, tmp_path: Path) -> None:
    image = tmp_path / "fan.png"
    with fan.heston_simulator(heston) as sim:
        gaps = fan.fan_chart(sim, paths=400, image=image)
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(gaps) == {"x", "v"} and all(0 <= gap < 6 for gap in gaps.values()), gaps
