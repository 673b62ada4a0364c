"""Issue #19: exact moments of models polynomial in the state with coefficients that are functions of t.

The generator is G(t) = G_0 + Σ g(t) G_g and the moments solve M' = G(t) M numerically (DOP853, rtol 1e-12,
`verifier.theory`). Checked against closed forms (mean, variance, covariance, third and fourth central
moments), with the numerical error each target states; the structure (polynomial and Gaussian, never exact in
law); verifications of numpy Euler runs, a correct one passing and a wrong drift failing against exact theory;
and, slow, `architect.generate` of a time-dependent model and a planted wrong drift in its Rust.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
from test_verifier import CHECKPOINTS, HORIZON, OU, make_model, stats_dict

import architect
from architect.codegen import write_crate
from architect.model import SdeModel
from architect.verifier import verify
from architect.verifier.distribution import exact_laws
from architect.verifier.moments import ROUNDING
from architect.verifier.plan import make_plan
from architect.verifier.quantities import EXACT, Quantity, exact_targets, quantities
from architect.verifier.structure import Numeric, exact_in_law, gaussian_subset, gbm_type, polynomial_subset
from architect.verifier.theory import ODE_RTOL, PolynomialMoments

#: t = 10 too: the GBM's E[S^4] grows by e^45 there, so early absolute errors would be amplified with it.
TIMES = (0.25, 1.0, 2.5, 10.0)
#: `verify`'s default relative equivalence margin.
DEFAULT_TOLERANCE = 1e-4

# ------------------------------------------------------------------------------------------ closed forms
#: The closed form of each model: t -> (means, covariance, third and fourth central moments per variable).
Closed = Callable[[float], tuple[list[float], np.ndarray, list[float], list[float]]]


def _gaussian(mean: Sequence[float], cov: Sequence[Sequence[float]]) -> tuple[list[float], np.ndarray, list, list]:
    c = np.array(cov, dtype=float)
    return list(mean), c, [0.0] * len(mean), [3 * c[i, i] ** 2 for i in range(len(mean))]


def cos_drift(t: float) -> tuple:
    """dX = cos(t) dt + 0.3 dW, X0 = 1: X_t = 1 + sin t + 0.3 W_t."""
    return _gaussian([1 + math.sin(t)], [[0.09 * t]])


A, B, C = 0.2, -0.5, 0.4


def linear_drift_decaying_noise(t: float) -> tuple:
    """dX = (a + b t) dt + c e^{-t} dW: mean x0 + a t + b t²/2, variance c² ∫ e^{-2s} ds = c² (1 - e^{-2t})/2."""
    return _gaussian([0.5 + A * t + B * t * t / 2], [[C * C * (1 - math.exp(-2 * t)) / 2]])


K, S, X0 = 2.0, 0.3, 0.7


def ou_sine_target(t: float) -> tuple:
    """dX = -κ (X - sin t) dt + s dW: m' = -κ (m - sin t), so m = x0 e^{-κt} + κ ∫ e^{-κ(t-u)} sin u du
    = x0 e^{-κt} + κ (κ sin t - cos t + e^{-κt})/(1 + κ²); variance s² (1 - e^{-2κt})/(2κ)."""
    e = math.exp(-K * t)
    mean = X0 * e + K * (K * math.sin(t) - math.cos(t) + e) / (1 + K * K)
    return _gaussian([mean], [[S * S * (1 - e * e) / (2 * K)]])


HW_A, HW_SIGMA, HW_T0, HW_T1, R0 = 1.5, 0.01, 0.06, 0.03, 0.02


def hull_white(t: float) -> tuple:
    """dr = (θ0 + θ1 t - a r) dt + s dW (Hull-White with a linear θ): m = r0 e^{-at} + ∫ e^{-a(t-s)} (θ0 + θ1 s) ds
    = r0 e^{-at} + θ0 (1 - e^{-at})/a + θ1 (t/a - (1 - e^{-at})/a²)."""
    e = math.exp(-HW_A * t)
    mean = R0 * e + HW_T0 * (1 - e) / HW_A + HW_T1 * (t / HW_A - (1 - e) / HW_A**2)
    return _gaussian([mean], [[HW_SIGMA**2 * (1 - e * e) / (2 * HW_A)]])


def gbm_linear_rate(t: float) -> tuple:
    """dS = (0.1 + 0.2 t) S dt + 0.2 S dW, S0 = 1: lognormal with m = E[S] = e^I, I = ∫ μ = 0.1 t + 0.1 t², and
    w = e^{0.04 t}: variance m²(w - 1), third m³(w - 1)²(w + 2), fourth m⁴(w - 1)²(w⁴ + 2w³ + 3w² - 3) (no
    cancellation, unlike raw moments)."""
    m, w = math.exp(0.1 * t + 0.1 * t * t), math.exp(0.04 * t)
    w1 = math.expm1(0.04 * t)
    return (
        [m],
        np.array([[m * m * w1]]),
        [m**3 * w1 * w1 * (w + 2)],
        [m**4 * w1 * w1 * (w**4 + 2 * w**3 + 3 * w * w - 3)],
    )


def driven_pair(t: float) -> tuple:
    """dx = y dt, dy = cos(t) dt + 0.5 dW, (x0, y0) = (0, 1): y = 1 + sin t + 0.5 W_t, x = t + 1 - cos t + 0.5 ∫ W;
    var y = t/4, var x = t³/12, cov = t²/8."""
    return _gaussian([t + 1 - math.cos(t), 1 + math.sin(t)], [[t**3 / 12, t**2 / 8], [t**2 / 8, t / 4]])


CASES: list[tuple[str, Callable[[], SdeModel], Closed]] = [
    ("cos(t) drift", lambda: architect.parse("dX = cos(t)*dt + 0.3*dW, X0 = 1"), cos_drift),
    (
        "(a + b t) drift, c exp(-t) noise",
        lambda: architect.parse(f"dX = ({A} + ({B})*t)*dt + {C}*exp(-t)*dW, X0 = 0.5"),
        linear_drift_decaying_noise,
    ),
    (
        "OU with a sin(t) target",
        lambda: architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}"),
        ou_sine_target,
    ),
    (
        "Hull-White with a linear theta",
        lambda: make_model(
            "hw",
            ["r"],
            ["theta0 + theta1*t - a*r"],
            [["sigma"]],
            {"theta0": HW_T0, "theta1": HW_T1, "a": HW_A, "sigma": HW_SIGMA},
            [R0],
        ),
        hull_white,
    ),
    (
        "GBM with a linear rate",
        lambda: make_model("gbm-t", ["S"], ["(1/10 + t/5)*S"], [["S/5"]], {}, [1.0]),
        gbm_linear_rate,
    ),
    (
        "a pair driven by cos(t)",
        lambda: make_model("pair", ["x", "y"], ["y", "cos(t)"], [["0"], ["1/2"]], {}, [0.0, 1.0]),
        driven_pair,
    ),
]


@pytest.mark.parametrize(("name", "build", "closed"), CASES, ids=[c[0] for c in CASES])
def test_moments_match_the_closed_forms(name: str, build: Callable[[], SdeModel], closed: Closed) -> None:
    """Every moment the verifier tests, to 1e-9 of its scale (or 1e-10 of the raw power sums' size, where central
    moments cancel as they do for expm too), never beyond the numerical error its target states (plus rounding),
    and that error at most a thousandth of the default equivalence margin."""
    model = build()
    theory = PolynomialMoments.from_model(model, 4)
    assert theory.time_dependent
    d = model.dim
    qs = quantities(range(d), higher=True)
    for t in TIMES:
        means, cov, third, fourth = closed(t)
        want = {Quantity("mean", (i,)): means[i] for i in range(d)}
        want |= {Quantity("variance", (i,)): cov[i, i] for i in range(d)}
        want |= {Quantity("covariance", (i, j)): cov[i, j] for i in range(d) for j in range(i + 1, d)}
        want |= {Quantity("third moment", (i,)): third[i] for i in range(d)}
        want |= {Quantity("fourth moment", (i,)): fourth[i] for i in range(d)}
        targets = exact_targets(theory, tuple(range(d)), t, qs)
        for q in qs:
            target = targets[q]
            error = abs(target.value - want[q])
            where = (name, t, q, target.value, want[q], target.numerical_error)
            assert target.kind == EXACT and target.numerical_error is not None
            assert error <= 1e-9 * target.scale + 1e-10 * target.magnitude, where
            assert error <= target.numerical_error + 1e-13 * (target.scale + target.magnitude), where
            margin = DEFAULT_TOLERANCE * target.scale + ROUNDING * target.magnitude
            assert target.numerical_error <= 1e-3 * margin, where


def test_time_free_models_keep_the_matrix_exponential() -> None:
    """Bit for bit: no ODE, column 0 of expm(tG), and targets without a numerical error (tests/test_verifier*.py
    and the reports of time-free models are unchanged)."""
    theory = PolynomialMoments.from_model(OU, 4)
    assert not theory.time_dependent and theory.numerical_check() is None
    assert np.array_equal(theory.expect(0.7, [(1,), (2,)], [0.0]), theory.expect(0.7, [(1,), (2,)], [0.0]))
    moments = theory._moments(0.7)
    assert np.array_equal(moments, scipy.linalg.expm(0.7 * theory.generator)[:, 0])
    assert theory.evaluations == 0
    targets = exact_targets(theory, (0,), 0.7, quantities([0], higher=True))
    assert all(target.numerical_error is None for target in targets.values())
    assert "exact_moments_method" not in make_plan(OU).summary()


def test_each_solve_starts_at_zero_so_no_value_depends_on_the_order_of_times() -> None:
    model = architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}")
    one, other = PolynomialMoments.from_model(model, 4), PolynomialMoments.from_model(model, 4)
    for t in (0.5, 1.0):
        one.mean(t)
    assert np.array_equal(other.covariance(1.0), one.covariance(1.0))


# ------------------------------------------------------------------------------------------- structure
def test_time_dependent_coefficients_are_polynomial_and_gaussian_but_never_exact_in_law() -> None:
    ou = Numeric.of(architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}"))
    assert polynomial_subset(ou) == (0,) and gaussian_subset(ou) == (0,)
    assert gaussian_subset(ou, time=False) == ()
    assert exact_in_law(ou, ["euler"]) == frozenset() and exact_in_law(ou, ["exact-ou"]) == frozenset()
    # A constant drift is exact under Euler only while the noise is constant too: Σ c²e^{-2t_k} h is a Riemann sum.
    decaying = Numeric.of(architect.parse("dX = 0.2*dt + 0.4*exp(-t)*dW, X0 = 0"))
    assert gaussian_subset(decaying) == (0,) and exact_in_law(decaying, ["euler"]) == frozenset()
    assert exact_in_law(Numeric.of(architect.parse("dX = 0.2*dt + 0.4*dW, X0 = 0")), ["euler"]) == frozenset({0})
    gbm = Numeric.of(make_model("gbm-t", ["S"], ["(1/10 + t/5)*S"], [["S/5"]], {}, [1.0]))
    assert polynomial_subset(gbm) == (0,) and gaussian_subset(gbm) == () and gbm_type(gbm, 0) is None
    # t inside a non-polynomial term of the state is still not polynomial.
    assert polynomial_subset(Numeric.of(architect.parse("dX = -tanh(X)*sin(t)*dt + 0.3*dW, X0 = 0"))) == ()


def test_the_plan_says_how_the_moments_are_computed() -> None:
    plan = make_plan(architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}"))
    assert plan.exact == (0,) and not plan.needs_reference
    summary = plan.summary()
    assert summary["exact_moments"] == ["X"] and summary["empirical_reference"] == []
    method = str(summary["exact_moments_method"])
    assert "moment ODE" in method and "DOP853" in method and "sin(t)" in method and f"{ODE_RTOL:g}" in method


def test_heston_in_levels_with_a_time_dependent_rate_is_exact_in_logs() -> None:
    model = architect.parse(
        "dS = (0.05 + 0.01*t)*S*dt + sqrt(v)*S*dW1; dv = 2*(0.04 - v)*dt + 0.3*sqrt(v)*dW2; rho=-0.7, S0=100, v0=0.04"
    )
    plan = make_plan(model)
    assert plan.transformed is not None and plan.transformed.theory.time_dependent
    assert "coefficients depend on t: the moment ODE" in str(plan.summary()["transformed_note"])
    # E[log S_t] = log 100 + ∫ (0.05 + 0.01 s) ds - ∫ E[v_s] ds / 2, E[v_s] = 0.04 (v starts at its mean).
    t = 1.0
    assert plan.transformed.theory.mean(t)[0] == pytest.approx(math.log(100) + 0.05 + 0.005 - 0.02, rel=1e-12)


def test_the_gaussian_law_of_a_linear_time_dependent_model() -> None:
    model = architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}")
    (law,) = exact_laws(Numeric.of(model), 1.0)
    means, cov, _, _ = ou_sine_target(1.0)
    assert law.law == "normal"
    assert law.dist.mean() == pytest.approx(means[0], rel=1e-12)
    assert law.dist.var() == pytest.approx(cov[0, 0], rel=1e-10)
    assert not law.exact_when(["euler"])  # extrapolated chi-square, never pooled Kolmogorov-Smirnov


# --------------------------------------------------------------------------- verifications of numpy runs
PATHS = 20_000


def euler_t(model: SdeModel, drift: Callable, sigma: float, steps: int, seed: int) -> list[np.ndarray]:
    """Euler-Maruyama of a 1-D model with drift(t, x) and constant noise, coefficients read at the step's start."""
    rng = np.random.default_rng(seed)
    h = HORIZON / steps
    x = np.full(PATHS, model.initial[0])
    out = []
    for k in range(steps):
        x = x + drift(k * h, x) * h + sigma * math.sqrt(h) * rng.standard_normal(PATHS)
        if (k + 1) % (steps // CHECKPOINTS) == 0:
            out.append(x[:, None].copy())
    return out


def _runs(model: SdeModel, drift: Callable, sigma: float) -> list[dict]:
    return [stats_dict(model, euler_t(model, drift, sigma, 32 * 2**k, 40 + k), 32 * 2**k, 40 + k, 8) for k in range(3)]


def test_a_correct_simulation_passes_against_the_moment_ode() -> None:
    model = architect.parse(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}")
    coarse, fine, finer = _runs(model, lambda t, x: -K * (x - math.sin(t)), S)
    result = verify(model, coarse, fine, finer_stats=finer)
    failed = [(c.name, c.detail) for c in result.checks if not c.passed]
    assert result.verdict == "pass", (result.reason, failed)
    moments = [c for c in result.checks if c.kind in ("mean", "variance", "third moment", "fourth moment")]
    assert len(moments) == 4 * CHECKPOINTS and all(c.theory_kind == EXACT for c in moments)
    for check in moments:
        assert "exact value from the moment ODE (DOP853, rtol 1e-12): numerical error" in check.detail
    assert result.extras["theory"]["exact_moments_method"].startswith("coefficients depend on t")


def test_a_wrong_time_function_fails_against_exact_theory() -> None:
    """sin(t) where the model says cos(t): E[X_t] = 2 - cos t instead of 1 + sin t (0.22 apart at t = 0.25)."""
    model = architect.parse("dX = cos(t)*dt + 0.3*dW, X0 = 1")
    coarse, fine, finer = _runs(model, lambda t, x: np.full_like(x, math.sin(t)), 0.3)
    result = verify(model, coarse, fine, finer_stats=finer)
    assert result.verdict == "fail"
    failed = {c.name for c in result.checks if not c.passed and c.theory_kind == EXACT}
    assert {f"mean of X at t={t:g}" for t in (0.25, 0.5, 0.75, 1.0)} <= failed


def test_a_coefficient_without_a_finite_value_gives_a_verdict_not_a_traceback() -> None:
    """log t at t = 0: the moment ODE cannot start, and the verdict says so."""
    model = make_model("log-t", ["X"], ["log(t)"], [["3/10"]], {}, [1.0])
    assert make_plan(model).exact == (0,)
    coarse, fine, finer = _runs(model, lambda t, x: np.zeros_like(x), 0.3)
    result = verify(model, coarse, fine, finer_stats=finer)
    assert result.verdict == "fail" and "log(t) is not real and finite at t=0" in result.reason


# ---------------------------------------------------------------------------------------- end to end
OPTIONS = architect.Options(paths=40_000, steps=40)


@pytest.mark.slow
def test_a_time_dependent_model_generates_and_passes_against_exact_moments(tmp_path: Path) -> None:
    """Hull-White-like: mean reversion to sin(t). The plan uses exact moments (no reference runs)."""
    result = architect.generate(f"dX = -{K}*(X - sin(t))*dt + {S}*dW, X0 = {X0}", out=tmp_path, options=OPTIONS)
    report = result.report
    failed = [(c["name"], c["detail"]) for c in report["checks"] if not c["passed"]]
    assert result.passed, (report["reason"], failed)
    theory = report["theory"]
    assert theory["exact_moments"] == ["X"] and theory["empirical_reference"] == []
    assert "moment ODE" in theory["exact_moments_method"]
    assert theory["laws"] == ["X: normal"]
    means = [c for c in report["checks"] if c["kind"] == "mean"]
    assert means and all(c["theory_kind"] == EXACT for c in means)
    for check in means:
        assert check["theory"] == pytest.approx(ou_sine_target(check["time"])[0][0], rel=1e-10)


@pytest.mark.slow
def test_a_planted_wrong_time_function_in_the_rust_fails(tmp_path: Path) -> None:
    """The generated crate of dX = cos(t) dt + 0.3 dW with `t.cos()` replaced by `t.sin()`, verified by its
    statistics alone: the exact means (no empirical reference is involved) reject it."""
    original = architect.parse("dX = cos(t)*dt + 0.3*dW, X0 = 1")
    write_crate(original, tmp_path)
    source = tmp_path / "src" / "model.rs"
    text = source.read_text()
    assert text.count("t.cos()") == 1
    source.write_text(text.replace("t.cos()", "t.sin()"))
    result = architect.verify(tmp_path, model=original, options=architect.Options(steps=40, statistical_only=True))
    report = result.report
    assert not result.passed
    failed = [c for c in report["checks"] if not c["passed"]]
    assert any(c["kind"] == "mean" and c["theory_kind"] == EXACT for c in failed), report["reason"]
    assert report["theory"]["empirical_reference"] == []
