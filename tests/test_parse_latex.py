r"""LaTeX input: the same models as plain equations, and errors pointed at the LaTeX the user typed."""

from __future__ import annotations

import pytest
import sympy as sp

from architect.errors import ParseError
from architect.model import TIME, SdeModel, symbol
from architect.parser import parse
from architect.parser.latex import looks_like_latex, translate

X, S, x, v, r = (symbol(n) for n in ("X", "S", "x", "v", "r"))
mu, sigma, kappa, theta, xi, rho = (symbol(n) for n in ("mu", "sigma", "kappa", "theta", "xi", "rho"))


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def assert_round_trips(model: SdeModel) -> None:
    assert SdeModel.from_json(model.to_json()) == model


GBM_VALUES = r", \mu = 0.05, \sigma = 0.2, S_0 = 100"


@pytest.mark.parametrize(
    "text",
    [
        r"dS_t = \mu S_t\,dt + \sigma S_t\,dW_t" + GBM_VALUES,
        r"\mathrm{d}S_t = \mu S_t\,\mathrm{d}t + \sigma S_t\,\mathrm{d}W_t" + GBM_VALUES,
        r"\text{d}S_t = \mu S_t \text{d}t + \sigma S_t \text{d}W_t" + GBM_VALUES,
        r"{\rm d}S_t = \mu\, S_t\; {\rm d}t + \sigma \cdot S_t \, {\rm d}W_t" + GBM_VALUES,
        r"$dS_t = \mu S_t\,dt + \sigma S_t\,dW_t$" + GBM_VALUES,
        r"\[ dS_{t} = \mu \times S_{t}\,dt + \sigma\,S_{t}\,dW_{t} \]" + GBM_VALUES,
        r"d S_t = \mu S_t \, d t + \sigma S_t \, d W_t" + GBM_VALUES,
        r"\frac{dS_t}{S_t} = \mu\,dt + \sigma\,dW_t" + GBM_VALUES,
    ],
)
def test_gbm_in_latex(text: str) -> None:
    model = parse(text)
    assert model.drift == (mu * S,)
    assert model.diffusion == ((sigma * S,),)
    assert model.initial == (100.0,)
    assert model.source == text
    assert_round_trips(model)


CIR_LATEX = [
    r"dX_t = \kappa(\theta - X_t)\,dt + \sigma\sqrt{X_t}\,dW_t, \kappa=2, \theta=0.04, \sigma=0.3, X_0=0.04",
    r"\mathrm{d}X_t = \kappa\left(\theta - X_t\right)\mathrm{d}t + \sigma\sqrt{X_t}\,\mathrm{d}W_t \quad"
    r"\text{where } \kappa=2,\ \theta=0.04,\ \sigma=0.3,\ X(0)=0.04",
    r"dX_t = \kappa\,[\theta - X_t]\,dt + \sigma X_t^{1/2}\,dW_t \text{ with } \kappa=2 \text{ and } \theta=0.04,"
    r" \sigma=0.3, X_0=0.04",
    r"dX_t = \kappa\theta\,dt - \kappa X_t\,dt + \sigma\sqrt{X_t}\,dW_t % a comment"
    "\n"
    r"\kappa=2, \theta=\frac{4}{100}, \sigma=0.3, X_0=0.04",
]


@pytest.mark.parametrize("text", CIR_LATEX)
def test_square_root_process_in_latex(text: str) -> None:
    model = parse(text)
    assert sp.expand(model.drift[0] - kappa * (theta - X)) == 0
    assert model.diffusion == ((sigma * sp.sqrt(X),),)
    assert model.parameter_values() == {"kappa": 2.0, "theta": 0.04, "sigma": 0.3}
    assert model.domain == ("nonnegative",)


HESTON_ALIGNED = r"""\begin{aligned}
\mathrm{d}x_t &= \left(\mu - \frac{v_t}{2}\right)\mathrm{d}t + \sqrt{v_t}\,\mathrm{d}W^{(1)}_t \\
\mathrm{d}v_t &= \kappa(\theta - v_t)\,\mathrm{d}t + \xi\sqrt{v_t}\,\mathrm{d}W^{(2)}_t \\
\mathrm{d}W^{(1)}_t\,\mathrm{d}W^{(2)}_t &= \rho\,\mathrm{d}t
\end{aligned}
\mu=0.05, \kappa=2, \theta=0.04, \xi=0.3, \rho=-0.7, x_0=4.6, v_0=0.04"""


@pytest.mark.parametrize(
    ("first", "second", "correlation"),
    [
        (r"\mathrm{d}W^{(1)}_t", r"\mathrm{d}W^{(2)}_t", r"\mathrm{d}W^{(1)}_t\,\mathrm{d}W^{(2)}_t = \rho\,dt"),
        (r"dW^1_t", r"dW^2_t", r"dW^1_t dW^2_t = \rho\, dt"),
        (r"dW_{1,t}", r"dW_{2,t}", r"\operatorname{corr}(W_1, W_2) = \rho"),
        (r"dW_1", r"dW_2", r"\mathrm{d}\langle W^1, W^2 \rangle_t = \rho\,\mathrm{d}t"),
    ],
)
def test_numbered_brownian_motions(first: str, second: str, correlation: str) -> None:
    text = (
        rf"dx_t = (\mu - \tfrac{{1}}{{2}} v_t)\,dt + \sqrt{{v_t}}\,{first} \\ "
        rf"dv_t = \kappa(\theta - v_t)\,dt + \xi \sqrt{{v_t}}\,{second} \\ {correlation}"
        "\n"
        r"\mu=0.05, \kappa=2, \theta=0.04, \xi=0.3, \rho=-0.7, x_0=4.6, v_0=0.04"
    )
    model = parse(text)
    assert model.noises == ("W1", "W2")
    assert model.correlation == ((1, rho), (rho, 1))
    assert model.drift == (mu - v / 2, kappa * (theta - v))


def test_aligned_environment() -> None:
    model = parse(HESTON_ALIGNED)
    assert (model.state, model.noises) == (("x", "v"), ("W1", "W2"))
    assert model.diffusion == ((sp.sqrt(v), 0), (0, xi * sp.sqrt(v)))
    assert model.correlation == ((1, rho), (rho, 1))
    assert_round_trips(model)


def test_named_brownian_motions() -> None:
    text = (
        r"\mathrm{d}S_t = \mu S_t\,\mathrm{d}t + \sigma S_t\,\mathrm{d}W_t^{S} \\"
        r"\mathrm{d}v_t = \kappa(\theta-v_t)\mathrm{d}t + \xi\sqrt{v_t}\,\mathrm{d}W_t^{v} \\"
        r"\operatorname{corr}(W^S, W^v) = -0.5 \\"
        r"\mu=0.1,\sigma=0.2,\kappa=1,\theta=0.04,\xi=0.3,S_0=1,v_0=0.04"
    )
    model = parse(text)
    assert model.noises == ("W_S", "W_v")
    assert model.correlation[0][1] == sp.Rational(-1, 2)


def test_functions_powers_and_fractions() -> None:
    text = (
        r"dX_t = \left(e^{-t} + \ln X_t - |X_t| + \max\{X_t, 0\} + \exp\left(\frac{X_t}{2}\right)\right)dt"
        r" + \sqrt[3]{X_t}^{2}\,dW_t, X_0 = 1"
    )
    model = parse(text)
    expected = sp.exp(-TIME) + sp.log(X) - sp.Abs(X) + sp.Max(X, 0) + sp.exp(X / 2)
    assert sp.simplify(model.drift[0] - expected) == 0
    assert sp.simplify(model.diffusion[0][0] - X ** sp.Rational(2, 3)) == 0


def test_greek_letters_subscripts_and_accents() -> None:
    text = (
        r"dr_t = \kappa_r(\bar{r} - r_t)\,dt + \sigma_{r}\,\sqrt{r_t}\,dW_t, \kappa_r=1, \bar r=0.05, "
        r"\sigma_r=0.1, r_0=0.03"
    )
    model = parse(text)
    assert set(model.parameter_values()) == {"kappa_r", "r_bar", "sigma_r"}
    lam = parse(r"dX_t = -\lambda X_t\,dt + \varsigma\,dW_t, \lambda=1, \varsigma=0.2, X_0=0")
    assert set(lam.parameter_values()) == {"lam", "sigma"}


def test_named_models_with_latex_overrides() -> None:
    model = parse(r"CIR \kappa=1.5, \theta=0.05, \sigma=0.1, r_0=0.03")
    assert model.parameter_values() == {"kappa": 1.5, "theta": 0.05, "sigma": 0.1}


def test_detection() -> None:
    assert looks_like_latex(r"dS = \mu S dt")
    assert looks_like_latex("dX = X^{2} dt + dW")
    assert not looks_like_latex("dX = mu*X*dt + sigma*X*dW, mu=1, sigma=1, X0=1")


def test_position_map_points_into_the_original() -> None:
    text = r"\mathrm{d}X_t = \kappa\,dt + dW_t"
    translation = translate(text)
    assert translation.text.strip().startswith("dX_t")
    kappa_at = translation.text.index("kappa")
    assert translation.original(kappa_at) == text.index(r"\kappa")
    assert translation.original(len(translation.text)) == len(text)


# ============================================================================ errors
@pytest.mark.parametrize(
    ("text", "needle", "at"),
    [
        (r"dX_t = \kappa(\theta - X_t)\,dt + \sigma\,dW_t, \kappa=1, \sigma=1, X_0=0", "unknown symbol 'theta'", 14),
        (r"dX_t = \kapa X_t\,dt + dW_t, X_0=0", r"unknown LaTeX command \kapa; did you mean \kappa", 7),
        (r"dX_t = \frac{1}{2\,dt + dW_t, X_0=0", "this '{' is never closed", 15),
        (r"dX_t = \left(X_t\,dt + dW_t, X_0=0", "unclosed parenthesis", 7),
        (r"dX_t = X_t}\,dt + dW_t, X_0=0", "unmatched '}'", 10),
        (r"dX_t = \mu\,dt + \sigma\,dW_t, \mu=1, \sigma=-0.2, X_0=0", "sigma must be positive", 45),
        (r"dX_t = \mu + \sigma\,dW_t, \mu=1, \sigma=1, X_0=0", "has neither dt nor dW", 7),
        (r"\begin{matrix} dX_t = dW_t \end{matrix}", "unknown environment 'matrix'", 0),
        (r"dX_t = X_t\,dt + dW_t, \operatorname{corr}(W_1, W_3) = 0.5, X_0=0", "W1 appears in a correlation", 43),
        (r"dX_t = \partial X_t\,dt + dW_t", r"unknown LaTeX command \partial", 7),
        (r"dX_t = (X_t)_t\,dt + dW_t, X_0=0", "a subscript must follow a name", 12),
        (r"dX_t = X_{t-1}\,dt + dW_t, X_0=0", "cannot read this subscript", 9),
        (r"dX_t = \langle X \rangle\,dt + dW_t, X_0=0", "angle brackets", 7),
        (r"dX_t = \sqrt{X_t\,dt + dW_t, X_0=0", "this '{' is never closed", 12),
        (r"dX_t = X_t\,dt + dW_t, X_0 = \theta", "the value of X0 must be a number", 29),
    ],
)
def test_latex_errors_point_at_the_original_text(text: str, needle: str, at: int) -> None:
    error = error_of(text)
    assert needle in error.reason
    assert error.position == at, str(error)
    lines = str(error).splitlines()
    assert lines[1].strip() == text.splitlines()[0].strip()
    assert lines[2].index("^") - 2 == at


def test_multi_line_latex_errors_show_the_right_line() -> None:
    text = "dX_t = X_t\\,dt + dW_t \\\\\n dY_t = \\sigma\\,dW_t\nX_0=0, Y_0=0"
    error = error_of(text)
    assert "unknown symbol 'sigma'" in error.reason
    assert str(error).splitlines()[1] == "   dY_t = \\sigma\\,dW_t"
