"""The parser: explicit equations, error messages with carets, round trips, hypothesis fuzzing."""

# ruff: noqa: RUF001  (the tests type Unicode dashes, minus signs and Greek letters on purpose)

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from architect.errors import ParseError, UsageError
from architect.model import TIME, SdeModel, symbol
from architect.parser import parse

X, S, r, x, v = (symbol(n) for n in ("X", "S", "r", "x", "v"))
mu, sigma, kappa, theta, xi, rho = (symbol(n) for n in ("mu", "sigma", "kappa", "theta", "xi", "rho"))
ZERO = sp.Integer(0)


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def values(model: SdeModel) -> dict[str, float]:
    return model.parameter_values()


def constraints(model: SdeModel) -> dict[str, str]:
    return {p.name: p.constraint for p in model.parameters}


def assert_round_trips(model: SdeModel) -> None:
    assert SdeModel.from_json(model.to_json()) == model


# ============================================================================ explicit equations
CIR_TEXT = "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04"


def test_explicit_one_dimensional() -> None:
    model = parse(CIR_TEXT)
    assert model.name == "custom SDE in X"
    assert model.source == CIR_TEXT
    assert (model.state, model.noises) == (("X",), ("W",))
    assert model.drift == (kappa * (theta - X),)
    assert model.diffusion == ((sigma * sp.sqrt(X),),)
    assert model.correlation == ((1,),)
    assert values(model) == {"kappa": 2.0, "theta": 0.04, "sigma": 0.3}
    assert constraints(model) == {"kappa": "real", "theta": "real", "sigma": "positive"}
    assert model.initial == (0.04,)
    assert model.domain == ("nonnegative",)
    assert_round_trips(model)


@pytest.mark.parametrize(
    "text",
    [
        "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW\nkappa=2, theta=0.04, sigma=0.3\nX0=0.04",
        "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW; kappa=2; theta=0.04; sigma=0.3; X(0)=0.04",
        "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW where kappa=2, theta=0.04 and sigma=0.3 with X_0=0.04",
        "dX_t = kappa*(theta - X_t)*dt + sigma*sqrt(X_t)*dW_t, kappa=2, theta=0.04, sigma=0.3, X_t(0)=0.04",
        "dX = kappa (theta - X) dt + sigma sqrt(X) dW  kappa=2 theta=0.04 sigma=0.3 X0=0.04",
        "dX = kappa*(theta - X)*dt\n     + sigma*X**0.5*dW\nkappa=2, theta=4/100, sigma=0.3, X0=0.04",
        "d X = κ(θ − X) dt + σ sqrt(X) dW, κ=2, θ=0.04, σ=0.3, X0=0.04",
    ],
)
def test_explicit_spellings(text: str) -> None:
    model = parse(text)
    assert model.drift == (kappa * (theta - X),)
    assert model.diffusion == ((sigma * sp.sqrt(X),),)
    assert values(model) == {"kappa": 2.0, "theta": 0.04, "sigma": 0.3}
    assert model.initial == (0.04,)
    assert_round_trips(model)


def test_literals_are_exact() -> None:
    model = parse("dX = -0.5*X*dt + 0.1*dW, X0=1")
    assert model.drift == (-X / 2,)
    assert model.diffusion == ((sp.Rational(1, 10),),)
    assert parse("dX = 2.5e-1*dt + dW, X0=1").drift == (sp.Rational(1, 4),)


def test_drift_free_and_relative_forms() -> None:
    model = parse("dS = sigma*S*dW, sigma=0.2, S0=100")
    assert model.drift == (0,) and model.diffusion == ((sigma * S,),) and model.domain == ("positive",)
    relative = parse("dS/S = mu dt + sigma dW, mu=0.1, sigma=0.2, S0=100")
    assert relative.drift == (mu * S,) and relative.diffusion == ((sigma * S,),)
    assert relative.domain == ("positive",)
    assert any("kept positive" in n for n in relative.notes)


def test_functions_powers_time_and_pi() -> None:
    text = "dX = (exp(-t) + log(1 + X^2) - abs(X) + max(X, 0) - min(X, 1))*dt + sqrt(2*pi)*X**2*dW, X0=0"
    model = parse(text)
    expected = sp.exp(-TIME) + sp.log(1 + X**2) - sp.Abs(X) + sp.Max(X, 0) - sp.Min(X, 1)
    assert sp.simplify(model.drift[0] - expected) == 0
    assert model.diffusion[0][0] == sp.sqrt(2 * sp.pi) * X**2
    assert_round_trips(model)


def test_names_that_clash_with_sympy_or_python() -> None:
    text = "dS = (beta*S - gamma*E + N*Q - O)*dt + I*sqrt(S)*dW, beta=1, gamma=2, E=3, N=4, Q=5, O=6, I=0.1, S0=1"
    model = parse(text)
    names = {n: symbol(n) for n in ("beta", "gamma", "E", "N", "Q", "O", "I")}
    assert model.drift == (names["beta"] * S - names["gamma"] * names["E"] + names["N"] * names["Q"] - names["O"],)
    assert_round_trips(model)
    lam = parse("dX = lambda*(mu - X)*dt + sigma*dW, lambda=1.5, mu=0, sigma=1, X0=0")
    assert "lam" in values(lam) and "lambda" not in values(lam)
    assert any("lambda" in n and "lam" in n for n in lam.notes)
    assert_round_trips(lam)


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        *[(name, "positive") for name in ("sigma", "sigma_v", "vol", "xi", "eta", "xi_2")],
        *[("rho_x", "correlation"), ("kappa", "real"), ("alpha", "real"), ("etaX", "real")],
    ],
)
def test_constraint_inference(name: str, constraint: str) -> None:
    model = parse(f"dX = -X*dt + {name}*dW, {name}=0.5, X0=0")
    assert constraints(model) == {name: constraint}


def test_domain_inference() -> None:
    assert parse("dX = -X*dt + dW, X0=0").domain == ("real",)
    assert parse("dX = (1 - X)*dt + X**1.5*dW, X0=1").domain == ("nonnegative",)
    assert parse("dS = mu*S*dt + sigma*S*dW, mu=0.1, sigma=0.2, S0=1").domain == ("positive",)
    assert parse("dS = (mu - S)*dt + sigma*S*dW, mu=0.1, sigma=0.2, S0=1").domain == ("real",)


# ---------------------------------------------------------------------------- systems and correlation
HESTON_LINES = "dx = (mu - v/2)*dt + sqrt(v)*dW1\ndv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2\n"
HESTON_VALUES = "mu=0.05, kappa=2, theta=0.04, xi=0.3, x0=4.6, v0=0.04"


@pytest.mark.parametrize(
    "correlation",
    ["rho = -0.7", "dW1*dW2 = rho*dt\nrho=-0.7", "dW1 dW2 = rho dt; rho=-0.7", "corr(W1, W2) = rho, rho=-0.7"],
)
def test_two_dimensional_system_with_correlation(correlation: str) -> None:
    model = parse(HESTON_LINES + correlation + "\n" + HESTON_VALUES)
    assert model.name == "custom system in x, v"
    assert (model.state, model.noises) == (("x", "v"), ("W1", "W2"))
    assert model.drift == (mu - v / 2, kappa * (theta - v))
    assert model.diffusion == ((sp.sqrt(v), 0), (0, xi * sp.sqrt(v)))
    assert model.correlation == ((1, rho), (rho, 1))
    assert constraints(model)["rho"] == "correlation"
    assert values(model)["rho"] == -0.7
    assert model.domain == ("real", "nonnegative")
    assert model.initial == (4.6, 0.04)
    assert_round_trips(model)


def test_numeric_correlations_stay_exact() -> None:
    model = parse(HESTON_LINES + "corr(dW1, dW2) = -0.5\n" + HESTON_VALUES)
    assert model.correlation == ((1, sp.Rational(-1, 2)), (sp.Rational(-1, 2), 1))
    assert_round_trips(model)
    other = parse("dx = dW_1; dy = dW_2; dW_1*dW_2 = 0.25 dt; x0=0, y0=0")
    assert other.noises == ("W_1", "W_2")
    assert other.correlation == ((1, sp.Rational(1, 4)), (sp.Rational(1, 4), 1))


def test_uncorrelated_system_and_one_equation_per_line_or_semicolon() -> None:
    text = "dx = -kappa*x*dt + sigma*dW1; dy = (x - y)*dt + eta*dW2; kappa=1.5, sigma=0.4, eta=0.2, x0=1, y0=0"
    model = parse(text)
    assert model.correlation == ((1, 0), (0, 1))
    assert_round_trips(model)


def test_indexed_correlations_for_three_brownian_motions() -> None:
    text = "dx = a*dt + dW1; dy = b*dt + dW2; dz = c*dt + dW3; rho12=0.3, rho_1_3=0.2, rho23=-0.1, a=1, b=1, c=1"
    model = parse(text + ", x0=0, y0=0, z0=0")
    r12, r13, r23 = symbol("rho12"), symbol("rho_1_3"), symbol("rho23")
    assert model.correlation == ((1, r12, r13), (r12, 1, r23), (r13, r23, 1))
    assert_round_trips(model)


def test_several_brownian_motions_in_one_equation() -> None:
    model = parse("dx = a*dt + s1*dW1 + s2*dW2, a=1, s1=0.1, s2=0.2, x0=0")
    assert model.diffusion == ((symbol("s1"), symbol("s2")),)
    assert model.noises == ("W1", "W2")


# ============================================================================ errors
@pytest.mark.parametrize(
    ("text", "needle", "at"),
    [
        ("dX = ((", "unclosed parenthesis", 5),
        ("dX = kappa*(theta - X*dt + dW, X0=1", "unclosed parenthesis", 11),
        ("dX = (mu*dt + dW)), X0=1", "unmatched ')'", 17),
        ("dX = mu + sigma*dW, mu=1, sigma=1, X0=0", "the term 'mu' has neither dt nor dW", 5),
        ("dX = a*dt + (b + c*dW), a=1, b=1, c=1, X0=0", "the term 'b' has neither dt nor dW", 13),
        ("dX = mu*dt + sigma*dt*dW, mu=1, sigma=1, X0=0", "dt*dW is not allowed", 22),
        ("dX = mu*dt^2 + dW, mu=1, X0=0", "dt cannot appear in a power", 10),
        ("dX = sqrt(dt) + dW, X0=0", "dt cannot appear inside sqrt", 5),
        ("dX = mu/dt + dW, mu=1, X0=0", "cannot divide by dt", 7),
        ("dX = dW1*dW2, X0=0", "dW1*dW2 is not allowed", 9),
        ("dX = kappa*(theta - X)*dt + dW, kappa=2, X0=0", "unknown symbol 'theta' has no value; add theta=...", 12),
        ("dX = kappa*(theta - X)*dt + theta*dW, kappa=2, thet=1, X0=0", "did you mean 'thet'", 12),
        ("dx = a*dt + dW1, corr(W1, W2) = 0.5, a=1, x0=0", "W2 appears in a correlation but in no equation", 26),
        ("dx = a*dt + dW1; dy = dW2; corr(W1, W2) = 1.5, a=1, x0=0, y0=0", "is 1.5, outside [-1, 1]", 42),
        ("dx = a*dt + dW1; dy = dW2; rho = -1.5, a=1, x0=0, y0=0", "must lie in [-1, 1], got -1.5", 33),
        ("dx = (mu - v/2)*dt + sqrt(v)*dW1, mu=0.05, x0=0, v0=0.04", "v has an initial value but no equation", 11),
        ("dX = dW; dX = -X*dt + dW; X0=0", "a second equation for X", 9),
        ("dX = mu*dt + sigma*dW, mu=1, sigma=1", "no initial value for X: add X0 = ...", 0),
        ("dX = mu*X*dt + sigma*X*dW, mu=0.1, sigma=-0.2, X0=1", "parameter sigma must be positive, got -0.2", 41),
        ("dX = mu*dt + dW, mu=1, kapa=3, X0=0", "kapa is given a value but appears in no equation", 23),
        ("dX = mu*dt + dW, mu=1, rho=0.3, X0=0", "only one Brownian motion", 23),
        ("dX = mu*dt + dW, mu=1, Y(0)=2, X0=0", "Y(0) is given but there is no equation dY", 23),
        ("dX = mu*dt + dW, mu=1, Y0=2, X0=0", "Y0 looks like an initial value, but there is no equation dY", 23),
        ("dX = -X*dt + dW_v, X0=0, corr(W_v, W_s) = 0.5", "W_s appears in a correlation but in no equation", 35),
        ("dX = -X*dt + t*dW, t=3, X0=0", "t is the time variable", 19),
        ("dX = -X*dt + pi*dW, pi=3, X0=0", "pi is the constant", 20),
        ("dX = mu*dt + dW $", "unexpected character '$'", 16),
        ("dX = 2 3*dt + dW, X0=1", "missing operator before the number 3", 7),
        ("dX = log(0)*dt + dW, X0=1", "log(0) is not a finite real number", 5),
        ("dX = 2^99999*dt + dW, X0=1", "the exponent 99999 is too large", 6),
        ("dX = mu*dt + dW, mu=1/0, X0=1", "division by zero", 21),
        ("dX = mu*dt + dW, mu=exp(1000), X0=1", "the value of mu is too large", 20),
        ("dX = mu*dt + dW, mu=sqrt(-1), X0=1", "not a real number", 20),
        ("dX = -X*dt + dW, X0=theta", "the value of X0 must be a number, but it uses 'theta'", 20),
        ("dX = -X*dt + dW, X0=1, X(0)=2", "the initial value of X is given twice", 23),
        ("dX = -X*dt + dW, X0=1, X0=2", "the initial value of X is given twice", 23),
        ("dX = -kappa*X*dt + dW, kappa=1, kappa=2, X0=1", "kappa is given twice", 32),
        ("dX = -X*dt + W*dW, X0=1", "W is a Brownian motion: only its increment dW", 13),
        ("dX = -X*dt + sqrt*dW, X0=1", "sqrt is a function: write sqrt(...)", 13),
        ("dX = -X*dt + max(X)*dW, X0=1", "max takes at least 2 arguments, got 1", 13),
        ("dX = -X*dt + dW, = 3, X0=1", "nothing before '='", 17),
        ("dX = , X0=1", "nothing after '='", 3),
        ("dX = -X*dt + dW, X0", "expected an equation like", 17),
        ("dX = -X*dt + , X0=1", "expected a number, a name or '('", 13),
        ("dX = 0, X0=1", "dX = ... has no dt or dW term", 5),
        ("dS = mu*S*dt + sigma*S*dW, mu=0.1, sigma=0.2, S0=-1", "S0 must be positive", 49),
        ("dX = -X*dt + sqrt(X)*dW, X0=-1", "X0 must be non-negative", 28),
        ("dX = kappa*(X0 - X)*dt + dW, kappa=1, X0=1", "X0 is the initial value of X", 12),
        ("dX = (exp(1) + E)*dt + dW, E=1, X0=0", "exp(1) also appears; rename E", 15),
        ("dW = -W*dt + dW, W0=0", "W is both a state variable and a Brownian motion", 13),
        ("dX = -X*dt + dW, Integer=2, X0=0", "Integer is reserved", 17),
    ],
)
def test_errors_have_a_reason_and_a_caret(text: str, needle: str, at: int) -> None:
    error = error_of(text)
    assert needle in error.reason
    assert error.position == at, (error.position, str(error))
    lines = str(error).splitlines()
    assert len(lines) == 3  # the reason, the line, the caret
    assert lines[2].index("^") - 2 == at - (text.rfind("\n", 0, at) + 1)


def test_every_render_is_one_reason_line_then_the_caret() -> None:
    text = "dX = kappa*(theta - X)*dt + dW\nkappa=2\nX0=1"
    error = error_of(text)
    assert str(error).splitlines() == [
        "unknown symbol 'theta' has no value; add theta=... (at position 12)",
        "  dX = kappa*(theta - X)*dt + dW",
        "              ^",
    ]
    later_line = error_of("dX = -X*dt + dW\nsigma=-1\nX0=0")
    assert "no equation" in later_line.reason
    assert str(later_line).splitlines()[1] == "  sigma=-1"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text(text: str) -> None:
    assert "empty" in error_of(text).reason


def test_not_text() -> None:
    with pytest.raises(ParseError, match="expected the model as text"):
        parse(None)  # type: ignore[arg-type]


def test_deep_nesting_and_long_text_are_refused_cleanly() -> None:
    deep = "dX = " + "(" * 500 + "X" + ")" * 500 + "*dt + dW, X0=0"
    assert "nested more than" in error_of(deep).reason
    assert "nested more than" in error_of("dX = " + "-" * 5000 + "X*dt + dW, X0=0").reason
    assert "longer than" in error_of("GBM " + " " * 200_000).reason
    long_sum = "dX = (" + " + ".join(["X"] * 3000) + ")*dt + dW, X0=0"
    assert parse(long_sum).drift == (3000 * X,)
    assert "exponent" in error_of("dX = (2*X)^(10^100)*dt + dW, X0=0").reason
    assert "too large" in error_of("dX = dW, X0=1e99999").reason


# ============================================================================ fuzzing
VALID = [
    CIR_TEXT,
    HESTON_LINES + "rho=-0.7, " + HESTON_VALUES,
    HESTON_LINES + "corr(W1, W2) = rho\n" + HESTON_VALUES + ", rho=-0.5",
    "dS_t = mu S_t dt + sigma S_t dW_t where mu=0.1 and sigma=0.2 and S(0)=100",
    "CIR kappa=1.5 theta=0.05 sigma=0.1 r0=0.03",
    "Heston with mean reversion, kappa_x=0.5, rho=0.2",
    "GBM(mu=0.1, sigma=0.3)",
]
PIECES = [
    *"dXWtSxv0123456789.e+-*/^()=,; \n_$√κσ",
    "dt",
    "dW",
    "dW1",
    "dW2",
    "sqrt(",
    "log(",
    "exp(",
    "max(",
    "**",
    "kappa",
    "rho",
    "corr(",
    "X0=",
    "where ",
    "with ",
    "lambda",
    "pi",
    "E",
    "I",
    "(0)=",
    "Heston",
    "1e999",
]


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "repeat"]))
        if action == "delete" and text:
            del text[min(position, len(text) - 1)]
        elif action == "insert":
            text[position:position] = list(draw(st.sampled_from(PIECES)))
        else:
            text[position:position] = list(draw(st.sampled_from(PIECES))) * draw(st.integers(2, 40))
    return "".join(text)


TEXTS = st.one_of(
    near_valid(),
    st.text(max_size=60),
    st.lists(st.sampled_from(PIECES), max_size=25).map("".join),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_fuzz_only_usage_errors_and_never_the_fallback(text: str) -> None:
    try:
        model = parse(text)
    except ParseError as error:
        assert "could not read the model" not in error.reason, error
        return
    except UsageError:
        return
    assert isinstance(model, SdeModel)
    assert_round_trips(model)


# ============================================================================ errors without a position, and the CLI
def test_errors_without_a_position_quote_the_input() -> None:
    text = "dx = dW1; dy = dW2; dz = dW3; corr(W1,W2)=0.9; corr(W1,W3)=0.9; corr(W2,W3)=-0.9; x0=0; y0=0; z0=0"
    error = error_of(text)
    assert "not positive semi-definite" in error.reason
    assert error.reason.splitlines()[1].startswith("  in: dx = dW1; dy = dW2")
    deep = error_of("dX = " + "(" * 500 + "X" + ")" * 500 + "*dt + dW, X0=0")
    assert deep.position is not None  # nesting has a caret


@pytest.mark.parametrize(
    "text",
    [
        "dX = mu + sigma*dW, mu=1, sigma=1, X0=0",
        "dX = kappa*(theta - X*dt + dW, X0=1",
        "Hestonn",
        "Heston with jumps lam=-1",
        r"dX_t = \kapa X_t\,dt + dW_t, X_0=0",
        "dx = dW1; dy = dW2; dz = dW3; corr(W1,W2)=0.9; corr(W1,W3)=0.9; corr(W2,W3)=-0.9; x0=0; y0=0; z0=0",
    ],
)
def test_cli_exits_2_with_the_message_and_no_traceback(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from architect.cli import main

    assert main(["parse", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("architect: error: ")
    assert "Traceback" not in err
    assert text.splitlines()[0][:30] in err  # the input is quoted (under a caret, or after 'in:')


def test_cli_stops_quietly_when_the_reader_goes_away() -> None:
    """`architect parse ... | head`: a closed pipe ends the command with 141 and nothing on stderr."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "architect", "parse", "Bates", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141
    assert err == ""
