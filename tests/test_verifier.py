"""The verifier without a compiler: exact theory vs closed forms, and verdicts on numpy-simulated statistics.

The statistics documents here are "fake but honest": numpy simulates the SDE (exactly where a transition
law is known, by Euler otherwise) and a small helper writes the power sums in the ``architect.stats/1``
layout, so the verifier sees exactly what a correct (or deliberately wrong) binary would emit.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg import expm, solve_continuous_lyapunov
from scipy.stats import ncx2, norm

from architect.model import TIME, Parameter, SdeModel, symbol
from architect.verifier import (
    NotPolynomial,
    PolynomialMoments,
    SampleError,
    Verification,
    holm,
    parse_stats,
    render_markdown,
    verify,
    write_report,
)
from architect.verifier.multiindex import multi_indices

HORIZON = 1.0
CHECKPOINTS = 4
PATHS = 20_000

Observations = list[np.ndarray]  # one (paths, D) array of observed states per checkpoint


# ----------------------------------------------------------------------------------------- models
def make_model(
    name: str,
    state: Sequence[str],
    drift: Sequence[str],
    diffusion: Sequence[Sequence[str]],
    params: dict[str, float],
    initial: Sequence[float],
    correlation: Sequence[Sequence[str]] | None = None,
) -> SdeModel:
    local = {n: symbol(n) for n in [*state, *params]} | {"t": TIME}

    def ex(text: str) -> sp.Expr:
        return sp.sympify(text, locals=local, rational=True)

    m = len(diffusion[0])
    rho = correlation or [["1" if k == j else "0" for j in range(m)] for k in range(m)]
    return SdeModel(
        name=name,
        state=tuple(state),
        noises=tuple(f"W{k + 1}" for k in range(m)),
        drift=tuple(ex(d) for d in drift),
        diffusion=tuple(tuple(ex(e) for e in row) for row in diffusion),
        correlation=tuple(tuple(ex(e) for e in row) for row in rho),
        parameters=tuple(Parameter(k, v) for k, v in params.items()),
        initial=tuple(initial),
        domain=tuple("real" for _ in state),
    )


GBM_P = {"mu": 0.05, "sigma": 0.2}
GBM = make_model("gbm", ["S"], ["mu*S"], [["sigma*S"]], GBM_P, [100.0])
OU_P = {"kappa": 1.5, "theta": 0.5, "sigma": 0.3}
OU = make_model("ou", ["x"], ["kappa*(theta - x)"], [["sigma"]], OU_P, [1.0])
CIR_P = {"kappa": 1.2, "theta": 0.05, "sigma": 0.15}
CIR = make_model("cir", ["r"], ["kappa*(theta - r)"], [["sigma*sqrt(r)"]], CIR_P, [0.03])
ABM = make_model("abm", ["x"], ["mu"], [["sigma"]], {"mu": 0.3, "sigma": 0.7}, [2.0])
HESTON_P = {"mu": 0.05, "kappa": 2.0, "theta": 0.04, "xi": 0.3, "rho": -0.7}
HESTON = make_model(
    "heston",
    ["x", "v"],
    ["mu - v/2", "kappa*(theta - v)"],
    [["sqrt(v)", "0"], ["0", "xi*sqrt(v)"]],
    HESTON_P,
    [0.0, 0.06],
    correlation=[["1", "rho"], ["rho", "1"]],
)
OU2_A = np.array([[-1.0, 0.5], [0.3, -2.0]])
OU2_C = np.array([1.0, 0.0])
OU2 = make_model(
    "ou2",
    ["x", "y"],
    ["-x + y/2 + 1", "3*x/10 - 2*y"],
    [["s1", "0"], ["0", "s2"]],
    {"s1": 0.4, "s2": 0.25, "rho": 0.6},
    [0.2, -0.3],
    correlation=[["1", "rho"], ["rho", "1"]],
)
# One noisy and one deterministic component: the deterministic one has zero standard errors.
MIXED = make_model("mixed", ["x", "y"], ["-x", "-y"], [["1/2"], ["0"]], {}, [1.0, 1.0])


# ------------------------------------------------------------------------------------ simulation
def reference_exponents(dim: int, degree: int) -> list[tuple[int, ...]]:
    """The contract's order, written independently of the code under test: by degree, then lex descending."""
    every = [e for e in itertools.product(range(degree + 1), repeat=dim) if 1 <= sum(e) <= degree]
    return sorted(every, key=lambda e: (sum(e), [-k for k in e]))


def stats_dict(
    model: SdeModel, observations: Observations, steps: int, seed: int, degree: int = 4, state: Sequence[str] = ()
) -> dict[str, Any]:
    """An ``architect.stats/1`` document for states observed at equally spaced checkpoints."""
    dim = model.dim
    shift = np.array(model.initial)
    exponents = reference_exponents(dim, degree)
    checkpoints = []
    for k, obs in enumerate(observations, start=1):
        finite = np.isfinite(obs).all(axis=1)
        y = obs[finite] - shift
        # powers[i][:, k] = y_i^k by repeated products: float ** int-array is slow for degree-8 sums.
        powers = [np.cumprod(np.column_stack([np.ones(len(y))] + [y[:, i]] * degree), axis=1) for i in range(dim)]
        sums = [float(np.prod([powers[i][:, k] for i, k in enumerate(e)], axis=0).sum()) for e in exponents]
        step = k * steps // len(observations)
        checkpoints.append(
            {
                "step": step,
                "time": step * HORIZON / steps,
                "count": int(finite.sum()),
                "nonfinite": int((~finite).sum()),
                "sums": sums,
            }
        )
    return {
        "format": "architect.stats/1",
        "sdk_version": "0.1.0",
        "model": model.slug,
        "state": list(state or model.state),
        "scheme": "euler-maruyama",
        "step_kinds": ["euler"] * dim,
        "paths": len(observations[0]),
        "steps": steps,
        "horizon": HORIZON,
        "seed": seed,
        "threads": 1,
        "shift": shift.tolist(),
        "exponents": [list(e) for e in exponents],
        "checkpoints": checkpoints,
        "elapsed_seconds": 0.0,
    }


Drift = Callable[[np.ndarray], np.ndarray]  # (P, D) -> (P, D)
Diffusion = Callable[[np.ndarray], np.ndarray]  # (P, D) -> (P, D, M)


def euler(
    x0: Sequence[float],
    drift: Drift,
    diffusion: Diffusion,
    corr: np.ndarray,
    steps: int,
    seed: int,
    paths: int = PATHS,
    truncate: Sequence[int] = (),
) -> Observations:
    """Euler-Maruyama (with full truncation of the listed components), as the SDK's scheme does it."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(corr)
    h = HORIZON / steps
    x = np.tile(np.asarray(x0, dtype=float), (paths, 1))
    trunc = list(truncate)
    out = []
    for k in range(1, steps + 1):
        y = x.copy()
        y[:, trunc] = np.maximum(y[:, trunc], 0.0)
        dw = rng.standard_normal((paths, corr.shape[0])) @ chol.T * math.sqrt(h)
        x = x + drift(y) * h + np.einsum("pik,pk->pi", diffusion(y), dw)
        if k % (steps // CHECKPOINTS) == 0:
            obs = x.copy()
            obs[:, trunc] = np.maximum(obs[:, trunc], 0.0)
            out.append(obs)
    return out


def checkpoint_times() -> np.ndarray:
    return HORIZON * np.arange(1, CHECKPOINTS + 1) / CHECKPOINTS


def exact_gbm(mu: float, sigma: float, s0: float, seed: int, paths: int = PATHS) -> Observations:
    rng = np.random.default_rng(seed)
    dt = HORIZON / CHECKPOINTS
    w = np.cumsum(rng.standard_normal((CHECKPOINTS, paths)) * math.sqrt(dt), axis=0)
    return [(s0 * np.exp((mu - sigma**2 / 2) * t + sigma * w[k]))[:, None] for k, t in enumerate(checkpoint_times())]


def exact_cir(kappa: float, theta: float, sigma: float, r0: float, seed: int, paths: int = PATHS) -> Observations:
    """The CIR transition law: a scaled non-central chi-square."""
    rng = np.random.default_rng(seed)
    dt = HORIZON / CHECKPOINTS
    c = sigma**2 * (1 - math.exp(-kappa * dt)) / (4 * kappa)
    df = 4 * kappa * theta / sigma**2
    r = np.full(paths, r0)
    out = []
    for _ in range(CHECKPOINTS):
        r = c * ncx2.rvs(df, r * math.exp(-kappa * dt) / c, size=paths, random_state=rng)
        out.append(r[:, None].copy())
    return out


def run_pair(
    model: SdeModel, simulate: Callable[[int, int], Observations], steps: int = 64, seeds: tuple[int, int] = (11, 12)
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two runs, N and 2N steps, independent seeds, as the gym makes them."""
    coarse = stats_dict(model, simulate(steps, seeds[0]), steps, seeds[0])
    fine = stats_dict(model, simulate(2 * steps, seeds[1]), 2 * steps, seeds[1])
    return coarse, fine


def ou_sim(sigma_factor: float = 1.0) -> Callable[[int, int], Observations]:
    k, th, s = OU_P["kappa"], OU_P["theta"], OU_P["sigma"] * sigma_factor
    return lambda steps, seed: euler(
        [1.0], lambda x: k * (th - x), lambda x: np.full((len(x), 1, 1), s), np.eye(1), steps, seed
    )


def gbm_sim(mu: float = GBM_P["mu"]) -> Callable[[int, int], Observations]:
    return lambda steps, seed: exact_gbm(mu, GBM_P["sigma"], 100.0, seed)


def heston_sim(steps: int, seed: int) -> Observations:
    p = HESTON_P

    def drift(y: np.ndarray) -> np.ndarray:
        return np.stack([p["mu"] - y[:, 1] / 2, p["kappa"] * (p["theta"] - y[:, 1])], axis=1)

    def diffusion(y: np.ndarray) -> np.ndarray:
        out = np.zeros((len(y), 2, 2))
        out[:, 0, 0] = np.sqrt(y[:, 1])
        out[:, 1, 1] = p["xi"] * np.sqrt(y[:, 1])
        return out

    corr = np.array([[1.0, p["rho"]], [p["rho"], 1.0]])
    return euler([0.0, 0.06], drift, diffusion, corr, steps, seed, truncate=[1])


def ou2_sim(steps: int, seed: int) -> Observations:
    sig = np.diag([0.4, 0.25])
    corr = np.array([[1.0, 0.6], [0.6, 1.0]])
    return euler(
        [0.2, -0.3], lambda x: x @ OU2_A.T + OU2_C, lambda x: np.broadcast_to(sig, (len(x), 2, 2)), corr, steps, seed
    )


def mixed_sim(steps: int, seed: int) -> Observations:
    sig = np.array([[0.5], [0.0]])
    return euler([1.0, 1.0], lambda x: -x, lambda x: np.broadcast_to(sig, (len(x), 2, 1)), np.eye(1), steps, seed)


# ----------------------------------------------------------------------------------------- theory
TS = [0.0, 0.3, 1.0, 2.5]


@pytest.mark.parametrize("t", TS)
def test_gbm_moments(t: float) -> None:
    pm = PolynomialMoments.from_model(GBM, 4)
    mu, s2 = GBM_P["mu"], GBM_P["sigma"] ** 2
    assert pm.mean(t)[0] == pytest.approx(100 * math.exp(mu * t), rel=1e-12)
    assert pm.covariance(t)[0, 0] == pytest.approx(
        1e4 * math.exp(2 * mu * t) * (math.exp(s2 * t) - 1), rel=1e-9, abs=1e-9
    )
    assert pm.expect(t, [(4,)], [0.0])[0] == pytest.approx(1e8 * math.exp((4 * mu + 6 * s2) * t), rel=1e-10)


@pytest.mark.parametrize("t", TS)
def test_ou_moments(t: float) -> None:
    k, th, s = OU_P.values()
    pm = PolynomialMoments.from_model(OU, 2)
    assert pm.mean(t)[0] == pytest.approx(th + (1.0 - th) * math.exp(-k * t), rel=1e-12)
    assert pm.covariance(t)[0, 0] == pytest.approx(s**2 / (2 * k) * (1 - math.exp(-2 * k * t)), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("t", TS)
def test_cir_moments(t: float) -> None:
    k, th, s = CIR_P.values()
    r0 = 0.03
    pm = PolynomialMoments.from_model(CIR, 3)
    e1, e2 = math.exp(-k * t), math.exp(-2 * k * t)
    var = r0 * s**2 / k * (e1 - e2) + th * s**2 / (2 * k) * (1 - e1) ** 2
    assert pm.mean(t)[0] == pytest.approx(th + (r0 - th) * e1, rel=1e-12)
    assert pm.covariance(t)[0, 0] == pytest.approx(var, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("t", TS)
def test_arithmetic_brownian_motion(t: float) -> None:
    pm = PolynomialMoments.from_model(ABM, 4)
    assert pm.mean(t)[0] == pytest.approx(2.0 + 0.3 * t, rel=1e-12)
    assert pm.covariance(t)[0, 0] == pytest.approx(0.49 * t, rel=1e-10, abs=1e-15)
    # Fourth central moment of a normal: 3 var^2.
    assert pm.expect(t, [(4,)], [2.0 + 0.3 * t])[0] == pytest.approx(3 * (0.49 * t) ** 2, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("t", TS)
def test_heston_log_price_mean(t: float) -> None:
    p = HESTON_P
    k, th, v0 = p["kappa"], p["theta"], 0.06
    pm = PolynomialMoments.from_model(HESTON, 2)
    integral_v = th * t + (v0 - th) * (1 - math.exp(-k * t)) / k
    mean = pm.mean(t)
    assert mean[0] == pytest.approx(p["mu"] * t - integral_v / 2, rel=1e-10, abs=1e-15)
    assert mean[1] == pytest.approx(th + (v0 - th) * math.exp(-k * t), rel=1e-12)


@pytest.mark.parametrize("t", TS)
def test_correlated_ou_covariance(t: float) -> None:
    sig = np.diag([0.4, 0.25])
    q = sig @ np.array([[1, 0.6], [0.6, 1]]) @ sig.T
    stationary = solve_continuous_lyapunov(OU2_A, -q)
    cov = stationary - expm(OU2_A * t) @ stationary @ expm(OU2_A * t).T
    fixed = -np.linalg.solve(OU2_A, OU2_C)
    mean = expm(OU2_A * t) @ (np.array([0.2, -0.3]) - fixed) + fixed
    pm = PolynomialMoments.from_model(OU2, 2)
    np.testing.assert_allclose(pm.covariance(t), cov, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(pm.mean(t), mean, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("drift", "diffusion", "needle"),
    [
        ("sqrt(x)", "1", "drift of x is not affine in the state: sqrt(x)"),
        ("x**2", "1", "drift of x is not affine in the state: x**2 has degree 2"),
        ("-x", "exp(x)", "instantaneous covariance a[x,x]"),
        ("-x", "x**2", "of degree ≤ 2"),
        # Coefficients that are functions of t are fine (the moment ODE); t inside the state's terms is not.
        ("sin(t*x)", "1", "drift of x is not affine in the state: sin(t*x)"),
        ("-x", "x**t", "of degree ≤ 2"),
    ],
)
def test_non_polynomial_models_are_refused(drift: str, diffusion: str, needle: str) -> None:
    model = make_model("np", ["x"], [drift], [[diffusion]], {}, [1.0])
    with pytest.raises(NotPolynomial) as info:
        PolynomialMoments.from_model(model, 2)
    assert needle in info.value.reason


def test_exponent_order_matches_the_contract() -> None:
    assert multi_indices(2, 2) == [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    for dim, degree in [(1, 4), (2, 4), (3, 4)]:
        assert multi_indices(dim, degree) == reference_exponents(dim, degree)


def test_expect_rejects_exponents_beyond_the_degree() -> None:
    with pytest.raises(ValueError):
        PolynomialMoments.from_model(OU, 2).expect(1.0, [(3,)], [0.0])


# ------------------------------------------------------------------------------------- estimates
def test_delta_method_matches_direct_formulas() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal([1.0, -2.0], [0.5, 2.0], size=(4000, 2)) @ np.array([[1, 0.3], [0, 1]])
    model = make_model("m", ["a", "b"], ["0", "0"], [["1", "0"], ["0", "1"]], {}, [0.7, -1.5])
    cp = parse_stats(stats_dict(model, [x], steps=4, seed=0)).checkpoints[0]
    n = len(x)
    mean_a = cp.mean(0)
    assert mean_a.value == pytest.approx(x[:, 0].mean(), rel=1e-12)
    assert mean_a.std_error == pytest.approx(x[:, 0].std() / math.sqrt(n), rel=1e-9)
    var_b = cp.variance(1)
    centred = x[:, 1] - x[:, 1].mean()
    assert var_b.value == pytest.approx(np.var(x[:, 1], ddof=1), rel=1e-10)
    m2, m4 = np.mean(centred**2), np.mean(centred**4)
    assert var_b.std_error == pytest.approx(n / (n - 1) * math.sqrt((m4 - m2**2) / n), rel=1e-8)
    assert cp.covariance(0, 1).value == pytest.approx(np.cov(x.T)[0, 1], rel=1e-10)


GARBAGE: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("not an object", lambda d: [d]),
    ("wrong format", lambda d: d | {"format": "other/1"}),
    ("missing checkpoints", lambda d: {k: v for k, v in d.items() if k != "checkpoints"}),
    ("short sums", lambda d: _with_checkpoint(d, sums=d["checkpoints"][0]["sums"][:-1])),
    ("NaN in sums", lambda d: _with_checkpoint(d, sums=[math.nan, *d["checkpoints"][0]["sums"][1:]])),
    ("bool count", lambda d: _with_checkpoint(d, count=True)),
    ("string time", lambda d: _with_checkpoint(d, time="0.25")),
    ("reordered exponents", lambda d: d | {"exponents": d["exponents"][::-1]}),
    ("huge exponent", lambda d: d | {"exponents": [*d["exponents"][:-1], [10**9]]}),
    ("wrong shift length", lambda d: d | {"shift": [1.0, 2.0]}),
    ("infinite horizon", lambda d: d | {"horizon": math.inf}),
    ("checkpoint not an object", lambda d: d | {"checkpoints": [1, 2]}),
]


def _with_checkpoint(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    first = data["checkpoints"][0] | changes
    return data | {"checkpoints": [first, *data["checkpoints"][1:]]}


@pytest.mark.parametrize(("label", "mutate"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_statistics_give_a_verdict_not_a_traceback(label: str, mutate: Callable[[Any], Any]) -> None:
    coarse, fine = run_pair(GBM, gbm_sim())
    bad = mutate(json.loads(json.dumps(coarse)))
    with pytest.raises(SampleError):
        parse_stats(bad)
    result = verify(GBM, bad, fine)
    assert result.verdict == "fail"
    assert result.reason.startswith("coarse statistics are well-formed: failed")
    json.dumps(result.to_dict(), allow_nan=False)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_SMALL = (stats_dict(OU2, ou2_sim(8, 1), 8, 1), stats_dict(OU2, ou2_sim(16, 2), 16, 2))


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [prefix] + [p for k, v in value.items() for p in _leaf_paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [prefix] + [p for k, v in enumerate(value) for p in _leaf_paths(v, (*prefix, k))]
    return [prefix]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_corruption_gives_a_verdict(data: st.DataObject) -> None:
    coarse = json.loads(json.dumps(_SMALL[0]))
    path = data.draw(st.sampled_from(_leaf_paths(coarse)[1:]))
    target = coarse
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON_VALUES)
    result = verify(OU2, coarse, _SMALL[1])
    assert result.verdict in ("pass", "fail")
    json.dumps(result.to_dict(), allow_nan=False)
    render_markdown({"verdict": result.verdict, "checks": [c.to_dict() for c in result.checks]})


# --------------------------------------------------------------------------------------- verdicts
def _assert_pass(result: Verification) -> None:
    failed = [(c.name, c.detail, c.p_value) for c in result.checks if not c.passed]
    assert result.verdict == "pass", (result.reason, failed)


@pytest.mark.parametrize(
    ("model", "simulate"),
    [(GBM, gbm_sim()), (OU, ou_sim()), (HESTON, heston_sim), (OU2, ou2_sim), (MIXED, mixed_sim)],
    ids=["gbm-exact", "ou-euler", "heston-euler-full-truncation", "correlated-ou-euler", "deterministic-component"],
)
def test_correct_simulations_pass(model: SdeModel, simulate: Callable[[int, int], Observations]) -> None:
    result = verify(model, *run_pair(model, simulate))
    _assert_pass(result)
    d = model.dim
    assert sum(c.kind != "sanity" for c in result.checks) == CHECKPOINTS * (2 * d + d * (d - 1) // 2)


def test_exact_cir_passes() -> None:
    k, th, s = CIR_P.values()
    result = verify(CIR, *run_pair(CIR, lambda steps, seed: exact_cir(k, th, s, 0.03, seed)))
    _assert_pass(result)


def test_flipped_drift_fails() -> None:
    result = verify(GBM, *run_pair(GBM, gbm_sim(mu=-GBM_P["mu"])))
    assert result.verdict == "fail"
    assert "mean of S" in result.reason
    assert not [c for c in result.checks if c.kind == "sanity" and not c.passed]


def test_wrong_volatility_fails() -> None:
    result = verify(OU, *run_pair(OU, ou_sim(sigma_factor=1.1)))
    assert result.verdict == "fail"
    failed = {c.kind for c in result.checks if not c.passed}
    assert failed == {"variance"}
    assert "variance of x" in result.reason


def test_wrong_deterministic_component_fails() -> None:
    # Zero noise makes the margin decide: a 10% wrong rate is far outside it.
    def wrong(steps: int, seed: int) -> Observations:
        sig = np.array([[0.5], [0.0]])
        rates = np.array([1.0, 1.1])
        return euler(
            [1.0, 1.0], lambda x: -x * rates, lambda x: np.broadcast_to(sig, (len(x), 2, 1)), np.eye(1), steps, seed
        )

    result = verify(MIXED, *run_pair(MIXED, wrong))
    assert result.verdict == "fail"
    assert {c.name for c in result.checks if not c.passed} == {f"mean of y at t={t:g}" for t in checkpoint_times()}


def test_nan_path_fails_with_reason() -> None:
    coarse = stats_dict(GBM, gbm_sim()(64, 1), 64, 1)
    observations = gbm_sim()(128, 2)
    observations[-1][7, 0] = math.nan
    result = verify(GBM, coarse, stats_dict(GBM, observations, 128, 2))
    assert result.verdict == "fail"
    assert result.reason.startswith("all paths finite: failed (fine run: 1 of 20000 paths non-finite at t=1")
    counted = next(c for c in result.checks if c.name == "every path counted")
    assert not counted.passed


def test_mismatched_state_names_fail() -> None:
    coarse = stats_dict(GBM, gbm_sim()(64, 1), 64, 1, state=["X"])
    fine = stats_dict(GBM, gbm_sim()(128, 2), 128, 2, state=["X"])
    result = verify(GBM, coarse, fine)
    assert result.verdict == "fail"
    assert result.reason.startswith("state names match the model: failed")
    assert all(c.kind == "sanity" for c in result.checks)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"seed": 11}, "the runs used seeds [11, 11]"),
        ({"steps": 100}, "twice the coarse run's steps"),
        ({"horizon": 2.0}, "disagree on the horizon"),
        ({"model": "other"}, "disagree on model"),
    ],
)
def test_incomparable_runs_fail(change: dict[str, Any], needle: str) -> None:
    coarse, fine = run_pair(GBM, gbm_sim())
    result = verify(GBM, coarse, fine | change)
    assert result.verdict == "fail"
    assert needle in result.reason


def test_low_moment_degree_fails() -> None:
    coarse = stats_dict(GBM, gbm_sim()(64, 1), 64, 1, degree=2)
    fine = stats_dict(GBM, gbm_sim()(128, 2), 128, 2, degree=2)
    result = verify(GBM, coarse, fine)
    assert result.verdict == "fail"
    assert "moments up to degree 4" in result.reason


def test_non_polynomial_model_without_reference_runs_fails_with_reason() -> None:
    model = make_model("np", ["S"], ["sqrt(S)"], [["S/5"]], {}, [100.0])
    result = verify(model, *run_pair(GBM, gbm_sim()))
    assert result.verdict == "fail"
    assert result.reason == (
        "theory for every state variable: failed (no exact moments for S (drift of S is not affine in the state: "
        "sqrt(S)) and no empirical reference runs were given)"
    )


def test_holm_on_a_hand_example() -> None:
    # Sorted: 0.005 <= .05/4 reject; 0.01 <= .05/3 reject; 0.03 > .05/2 keep and stop; 0.04 <= .05 kept anyway.
    decisions = holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    levels = [level for level, _ in decisions]
    assert levels == pytest.approx([0.05 / 3, 0.05, 0.05 / 2, 0.05 / 4])
    assert [rejected for _, rejected in decisions] == [True, False, False, True]
    assert holm([], 0.05) == []


def test_verification_levels_and_detectable_error() -> None:
    result = verify(GBM, *run_pair(GBM, gbm_sim()), alpha=1e-3)
    stat = [c for c in result.checks if c.kind != "sanity"]
    m = len(stat)
    assert sorted(c.level for c in stat) == pytest.approx(sorted(1e-3 / (m - k) for k in range(m)))
    for c in stat:
        delta = (norm.isf(c.level / 2) + norm.ppf(0.99)) * c.std_error
        assert delta / abs(c.theory) <= c.detectable_rel_error <= delta / abs(c.theory) + 2e-4
    mean_last = next(c for c in stat if c.name == "mean of S at t=1")
    assert mean_last.detectable_rel_error < 0.05
    data = result.to_dict()
    assert list(data) == [
        "verdict",
        "reason",
        "alpha",
        "correction",
        "tolerance",
        "n_checks",
        "n_failed",
        "method",
        "theory",
        "convergence",
        "distribution",
        "mean_paths",
        "discretisation",
        "checks",
    ]
    assert list(data["checks"][-1]) == [
        "name",
        "kind",
        "time",
        "theory",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "level",
        "passed",
        "detectable_rel_error",
        "detail",
        "coarse",
        "fine",
        "finer",
        "theory_kind",
    ]
    assert data["checks"][-1]["theory_kind"] == "exact"
    json.dumps(data, allow_nan=False)


# ----------------------------------------------------------------------------------------- report
def _report(result: Verification) -> dict[str, Any]:
    statistics = result.to_dict(include_checks=False)
    return {
        "format": "architect.report/1",
        "verdict": result.verdict,
        "reason": result.reason,
        "model": OU.to_dict(),
        "equations": OU.equations(),
        "backend": "rust",
        "scheme": {"name": "euler-maruyama", "step_kinds": ["euler"]},
        "simulation": {
            "paths": PATHS,
            "horizon": 1.0,
            "steps": [64, 128],
            "seeds": [11, 12],
            "threads": 1,
            "checkpoints": [0.25, 0.5, 0.75, 1.0],
        },
        "statistics": statistics,
        "checks": [c.to_dict() for c in result.checks],
        "timings": {"verify": 0.5, "odd": math.nan},
        "versions": {"architect": "0.1.0", "sdk": "0.1.0"},
        "artifacts": {"binary": "/tmp/b", "crate": "/tmp/c", "model": "/tmp/m.json"},
    }


def test_render_markdown_has_the_table(tmp_path: Path) -> None:
    result = verify(OU, *run_pair(OU, ou_sim()))
    report = _report(result)
    md = render_markdown(report)
    assert md.startswith("# ✅ Verification PASS: ou")
    assert "| check | theory | estimate | SE | z | p | level | detectable rel. error | result |" in md
    assert "| mean of x at t=0.5 |" in md
    assert "✅ pass" in md
    assert "dx = kappa*(theta - x)*dt + sigma*dW1" in md
    assert "Richardson" in md
    write_report(tmp_path / "out", report)
    loaded = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(loaded) == list(report)
    assert loaded["timings"]["odd"] is None
    assert (tmp_path / "out" / "report.md").read_text() == md
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.md"]


def test_render_markdown_shows_failures() -> None:
    result = verify(GBM, *run_pair(GBM, gbm_sim(mu=-GBM_P["mu"])))
    md = render_markdown(_report(result))
    assert md.startswith("# ❌ Verification FAIL")
    assert "❌ fail" in md


def test_render_markdown_of_a_failed_build() -> None:
    report = {
        "format": "architect.report/1",
        "verdict": "fail",
        "reason": "cargo build failed",
        "model": GBM.to_dict(),
        "equations": GBM.equations(),
        "statistics": {"alpha": 1e-3},
        "checks": [],
        "diagnostics": "error[E0425]: cannot find value `x`\n  --> src/model.rs:3:5",
        "timings": {"build": 1.25},
    }
    md = render_markdown(report)
    assert md.startswith("# ❌ Verification FAIL: gbm")
    assert "error[E0425]" in md
    assert "| build | 1.25 s |" in md
