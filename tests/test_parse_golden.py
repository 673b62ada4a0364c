"""Golden files: input text -> canonical model JSON, one per family and per input form.

Each case is ``tests/golden/parse/<name>.json`` holding the input and the model's JSON form
(`SdeModel.to_dict`). The test parses the input again and compares. After an intended change,
regenerate them with ``ARCHITECT_UPDATE_GOLDEN=1 pytest tests/test_parse_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from architect.model import SdeModel
from architect.parser import parse
from architect.parser.families import FAMILIES

GOLDEN = Path(__file__).parent / "golden" / "parse"
UPDATE = os.environ.get("ARCHITECT_UPDATE_GOLDEN") == "1"

FORMS = {
    # plain equations
    "form-plain-one-line": "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04",
    "form-plain-lines": "dx = (mu - v/2)*dt + sqrt(v)*dW1\ndv = kappa*(theta - v)*dt + xi*sqrt(v)*dW2\n"
    "dW1*dW2 = rho*dt\nmu=0.05, kappa=2, theta=0.04, xi=0.3, rho=-0.7\nx(0)=4.6, v(0)=0.04",
    "form-plain-semicolons": "dx = -kappa*x*dt + sigma*dW1; dy = (x - y)*dt + eta*dW2; corr(W1, W2) = 0.3; "
    "kappa=1.5; sigma=0.4; eta=0.2; x0=1; y0=0",
    "form-plain-where": "dS_t = mu S_t dt + sigma S_t dW_t where mu=0.1 and sigma=0.2 and S(0)=100",
    "form-plain-relative": "dS/S = mu dt + sigma dW, mu=0.1, sigma=0.2, S0=100",
    "form-plain-functions": "dX = (exp(-t) + log(1 + X^2) - abs(X) + max(X, 0) - min(X, 1))*dt + sqrt(2*pi)*X**2*dW, "
    "X0=0",
    "form-plain-three-noises": "dx = a*dt + dW1; dy = b*dt + dW2; dz = c*dt + dW3; rho12=0.3, rho_1_3=0.2, "
    "rho23=-0.1, a=1, b=1, c=1, x0=0, y0=0, z0=0",
    "form-plain-named-noises": "dx = -x*dt + dW_x; dy = -y*dt + 0.5*dW_y; corr(W_x, W_y) = -0.25; x0=0; y0=0",
    "form-plain-drift-free": "dS = sigma*S*dW, sigma=0.2, S0=100",
    "form-plain-unicode": "d X = κ(θ − X) dt + σ sqrt(X) dW, κ=2, θ=0.04, σ=0.3, X0=0.04",  # noqa: RUF001
    "form-plain-jumps-normal": "dx = (r - sigma^2/2 - lam*(exp(m + s^2/2) - 1))*dt + sigma*dW + dJ\n"
    "J ~ CompoundPoisson(lam, Normal(m, s))\nr=0.05, sigma=0.2, lam=1, m=-0.1, s=0.15, x0=4.6",
    "form-plain-jumps-double-exponential": "dX = -kappa*X*dt + sigma*dW + dJ_X; "
    "J_X ~ CompoundPoisson(lambda, DoubleExponential(p, eta1, eta2)); "
    "kappa=1, sigma=0.2, lambda=2, p=0.3, eta1=4, eta2=3, X0=0",
    # LaTeX
    "form-latex-gbm": r"dS_t = \mu S_t\,dt + \sigma S_t\,dW_t, \mu = 0.05, \sigma = 0.2, S_0 = 100",
    "form-latex-mathrm": r"\mathrm{d}X_t = \kappa(\theta - X_t)\,\mathrm{d}t + \sigma\sqrt{X_t}\,\mathrm{d}W_t"
    r" \quad \text{where } \kappa=2,\ \theta=0.04,\ \sigma=0.3,\ X_0=0.04",
    "form-latex-aligned": r"""\begin{aligned}
\mathrm{d}x_t &= \left(\mu - \frac{v_t}{2}\right)\mathrm{d}t + \sqrt{v_t}\,\mathrm{d}W^{(1)}_t \\
\mathrm{d}v_t &= \kappa(\theta - v_t)\,\mathrm{d}t + \xi\sqrt{v_t}\,\mathrm{d}W^{(2)}_t \\
\mathrm{d}W^{(1)}_t\,\mathrm{d}W^{(2)}_t &= \rho\,\mathrm{d}t
\end{aligned}
\mu=0.05, \kappa=2, \theta=0.04, \xi=0.3, \rho=-0.7, x_0=4.6, v_0=0.04""",
    "form-latex-named-noises": r"\mathrm{d}S_t = \mu S_t\,\mathrm{d}t + \sigma S_t\,\mathrm{d}W_t^{S} \\"
    r"\mathrm{d}v_t = \kappa(\theta-v_t)\mathrm{d}t + \xi\sqrt{v_t}\,\mathrm{d}W_t^{v} \\"
    r"\operatorname{corr}(W^S, W^v) = -0.5 \\ \mu=0.1,\sigma=0.2,\kappa=1,\theta=0.04,\xi=0.3,S_0=1,v_0=0.04",
    "form-latex-functions": r"dX_t = \left(e^{-t} + \ln X_t - |X_t| + \max\{X_t, 0\}\right)dt"
    r" + \frac{\sigma}{2}\sqrt[3]{X_t}\cdot dW_{1,t}, \sigma = 0.4, X_0 = 1",
    "form-latex-jumps": r"\mathrm{d}x_t = \left(r - \lambda\kappa\right)\mathrm{d}t + \sigma\,\mathrm{d}W_t"
    r" + \mathrm{d}J_t \\ J \sim \mathrm{CompoundPoisson}(\lambda, \mathcal{N}(m, s)) \\ "
    r"r=0.05, \kappa=0.1, \sigma=0.2, \lambda=1, m=-0.1, s=0.15, x_0=4.6",
    "form-latex-bracket": r"\mathrm{d}x_t = \mathrm{d}W^1_t; \mathrm{d}y_t = \mathrm{d}W^2_t; "
    r"\mathrm{d}\langle W^1, W^2\rangle_t = \rho\,\mathrm{d}t; \rho=0.3; x_0=0; y_0=0",
    # named models with overrides and modifiers
    "named-cir-overrides": "CIR kappa=1.5 theta=0.05 sigma=0.1 X0=0.03",
    "named-parenthesised": "GBM(mu=0.1, sigma=0.3, S0=50)",
    "named-heston-s0": "Heston S0=120, v0=0.09, rho=-0.5",
    "named-gbm-sv-mr": "GBM with stochastic volatility and mean reversion",
    "named-gbm-mr": "GBM with mean reversion",
    "named-heston-zero-correlation": "Heston zero correlation",
    "named-stein-stein": "Stein-Stein",
    "named-sabr-beta": "SABR beta=0.7 nu=0.5",
    "named-cev-gamma-1": "CEV gamma=1",
    "named-ckls-cir": "CKLS gamma=0.5",
    "named-jacobi-wide": "Jacobi sigma=2",
    "named-three-halves-v0": "3/2 model v0=0.09",
    "named-latex-overrides": r"Vasicek \kappa=1, \theta=0.03, \sigma=0.02",
    "named-gbm-with-jumps": "GBM with jumps lam=0.5",
    "named-heston-with-jumps": "Heston with jumps S0=50 delta=0.2",
}
CASES = {f"family-{f.key}": f.label for f in FAMILIES} | FORMS


def golden_json(text: str) -> str:
    return json.dumps({"input": text, "model": parse(text).to_dict()}, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    produced = golden_json(CASES[name])
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(produced, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with ARCHITECT_UPDATE_GOLDEN=1"
    stored = path.read_text(encoding="utf-8")
    assert produced == stored, f"{name}: the parsed model differs from {path} (ARCHITECT_UPDATE_GOLDEN=1 to accept)"
    model = SdeModel.from_dict(json.loads(stored)["model"])
    assert model == parse(CASES[name])


def test_no_stray_golden_files() -> None:
    stored = {path.stem for path in GOLDEN.glob("*.json")}
    assert stored <= set(CASES), f"golden files without a case: {sorted(stored - set(CASES))}"
