"""A PASS that cannot lie: every crate must be provably the model before its statistics count (`architect.proof`).

Each lie below passes the gate and — before the proof existed — passed verification, because statistics of the
extrapolated limit cannot see it. Each is now refused before anything is compiled, with a reason that names it.
The symbolic backend's crates for the whole catalog, and the LLM corpus's verified answers, are proven.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from edited_crates import UNDECLARED_JUMPS, crate, edit

import architect
from architect import build, codegen, proof
from architect.cli import main
from architect.llm.checks import check_completion
from architect.model import SdeModel
from architect.parser.catalog import FAMILIES

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
OU_DRIFT = "[self.kappa * (self.theta - x)]"


LIES = {
    # 1. A bias that the three-run extrapolation removes: per_step (which receives h) scales the drift by 1 + C h.
    "bias linear in h": (
        "kappa: self.kappa * h,",
        "kappa: self.kappa * h * (1.0 + 30.0 * h),",
        "not architect's template",
    ),
    # 2. A mixture whose weight is linear in h, chosen from the state's low bits.
    "mixture on the state's low bits": (
        OU_DRIFT,
        "[self.kappa * (self.theta - x) + if x.to_bits() % 97 == 0 { 40.0 } else { 0.0 }]",
        "outside what can be proven",
    ),
    # 3. The drift reads the time grid.
    "the drift reads the time grid": (
        OU_DRIFT,
        "[self.kappa * (self.theta - x) + 3.0 * ((100.0 * t).fract() - 0.5)]",
        "outside what can be proven",
    ),
    # 4. A time bomb past the horizon.
    "time bomb past the horizon": (
        OU_DRIFT,
        "if t > 1.0 { [1.0e9] } else { [self.kappa * (self.theta - x)] }",
        "must end by returning an array literal",
    ),
    # 5. A forcing that vanishes at the checkpoints (multiples of 1/4) but not between them.
    "forcing that vanishes at the checkpoints": (
        OU_DRIFT,
        "[self.kappa * (self.theta - x) + 5.0 * (4.0 * std::f64::consts::PI * t).sin()]",
        "drift of X should be",
    ),
    # 6. Undeclared jumps: rare and enormous, absent from model.json.
    "undeclared jumps": (*UNDECLARED_JUMPS, "not architect's template"),
}


@pytest.mark.parametrize("lie", sorted(LIES))
def test_every_lie_is_refused_before_it_is_compiled(tmp_path: Path, lie: str, monkeypatch) -> None:
    old, new, reason = LIES[lie]
    _, out = crate(tmp_path)
    if "t > 1.0" in new or ".sin()" in new or "fract" in new:
        edit(out, "fn drift(&self, _t: f64", "fn drift(&self, t: f64")
    edit(out, old, new)
    compiled = []
    monkeypatch.setattr(build, "build_model", lambda *a, **k: compiled.append(a))
    result = architect.verify(out)
    assert result.report["verdict"] == "fail" and not compiled
    assert result.report["reason"].startswith("not provably the model"), result.report["reason"]
    assert reason in result.report["reason"], result.report["reason"]
    assert result.report["equivalence"]["proven"] is False
    assert main(["verify", str(out)]) == 1


def test_the_difference_is_named_with_its_line(tmp_path: Path) -> None:
    model, out = crate(tmp_path)
    old, new, _ = LIES["bias linear in h"]
    edit(out, old, new)
    source = (out / "src" / "model.rs").read_text()
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "30.0 * h" in text)
    with pytest.raises(proof.NotProven, match=rf"line {line}: .*expected `, [^`]*`, found `\* "):
        proof.prove(model, source)


def test_comments_docs_and_layout_are_free_to_change(tmp_path: Path) -> None:
    model, out = crate(tmp_path)
    source = (out / "src" / "model.rs").read_text()
    edited = re.sub(r"///[^\n]*", "/// my own words", source).replace(
        OU_DRIFT, "[\n  self.kappa*(self.theta-x) // why\n]"
    )
    assert proof.prove(model, edited).scheme == "euler-maruyama"


def test_an_equal_but_different_expression_is_proven_by_sympy_or_by_identity(tmp_path: Path) -> None:
    model, out = crate(tmp_path)
    source = (out / "src" / "model.rs").read_text()
    rewritten = source.replace(OU_DRIFT, "[self.kappa * self.theta - x * self.kappa]")
    methods = dict(proof.prove(model, rewritten).methods)
    assert methods["drift of X"] == proof.SYMPY
    # sympy does not expand a product raised to a power; the identity test shows it equal.
    rewritten = source.replace(OU_DRIFT, "[self.kappa * (self.theta - (x.sqrt() * x.sqrt()))]")
    assert dict(proof.prove(model, rewritten).methods)["drift of X"] in (proof.SYMPY, proof.IDENTITY)


def test_a_threshold_beyond_every_point_drawn_is_not_proven(tmp_path: Path) -> None:
    """min(x, 1e9) is x at every point the identity test draws, but not for every state: not proven."""
    model, out = crate(tmp_path)
    source = (out / "src" / "model.rs").read_text()
    with pytest.raises(proof.NotProven, match="max, min or abs"):
        proof.prove(model, source.replace(OU_DRIFT, "[self.kappa * (self.theta - x.min(1.0e9))]"))


def test_a_changed_parameter_value_is_a_difference(tmp_path: Path) -> None:
    model, out = crate(tmp_path)
    source = (out / "src" / "model.rs").read_text()
    with pytest.raises(proof.NotProven, match="not architect's template"):
        proof.prove(model, source.replace("kappa: 2.0", "kappa: 2.5"))


def test_statistical_only_verifies_an_unprovable_crate_and_says_so_first(tmp_path: Path) -> None:
    """A branch that is never taken cannot be proven, but it simulates the model: with --statistical-only the
    statistics run and pass, and the verdict's reason starts by saying equivalence was not proven."""
    _, out = crate(tmp_path)
    edit(out, OU_DRIFT, "if x > 1.0e300 { [0.0] } else { [self.kappa * (self.theta - x)] }")
    options = architect.Options(paths=4000, steps=8, statistical_only=True)
    result = architect.verify(out, options=options)
    assert result.passed, result.report["reason"]
    assert result.report["reason"].startswith("statistics only — equivalence with the model NOT proven")
    assert result.report["equivalence"]["proven"] is False


EQUATIONS = [
    "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04",
    "dx = -kappa*x*dt + sigma*dW1; dy = (x - y)*dt + eta*dW2; rho=-0.7, kappa=1.5, sigma=0.4, eta=0.2, x0=1, y0=0",
    "dX = (a + b*t)*dt + c*exp(-t)*dW, a=1, b=0.5, c=0.3, X0=0",
    "dX = -X*dt + 0.2*dW + dJ; J ~ CompoundPoisson(1, Normal(0, 0.1)); X0=0",
]


def test_every_catalog_model_generated_by_the_compiler_is_proven() -> None:
    for text in [f.synonyms[0] for f in FAMILIES] + EQUATIONS:
        model = architect.parse(text)
        for kind in proof.SCHEME_KINDS:
            try:
                scheme = codegen.choose_scheme(model, kind)
            except architect.errors.ArchitectError:
                continue
            proven = proof.prove(model, codegen.render_model_rs(model, scheme))
            assert proven.scheme == scheme.name, (model.name, kind)


def _corpus_records() -> list[dict]:
    records = [json.loads(line) for line in (CORPUS / "test.jsonl").read_text().splitlines() if line.strip()]
    train = [json.loads(line) for line in (CORPUS / "train.jsonl").read_text().splitlines() if line.strip()]
    return records + train[::5]


def test_the_llm_corpus_answers_are_proven() -> None:
    """The LLM writes the expressions; the rest of its crate is the template: every verified answer is proven."""
    proven = 0
    for record in _corpus_records():
        if record.get("verification", {}).get("verdict") != "pass" or "completion" not in record:
            continue
        model = SdeModel.from_dict(record["model"])
        bodies = check_completion(model, record["completion"]).bodies()
        source = codegen.render_model_rs(model, codegen.choose_scheme(model), bodies)
        proof.prove(model, source)
        proven += 1
    assert proven > 100


def test_an_llm_call_that_rustfmt_breaks_over_lines_is_proven(tmp_path: Path) -> None:
    """rustfmt breaks a long call by path over lines and puts a comma after its last argument
    (`f64::sqrt(\\n  a + b,\\n)`); the proof reads the same expression (a 3-in-12 false verdict of issue #19)."""
    model = architect.parse(
        "dX = -a*(X - phi)*dt + sigma*(vol + sqrt(c + cosh(tan(sin(t)/2))**(2/3)))*dW, X0 = 0.5, a = 0.8, "
        "phi = 0.1, sigma = 0.3, vol = 0.4, c = 0.6"
    )
    answer = (
        "drift: [-(self.a * (x - self.phi))]\n"
        "diffusion: [[self.sigma * (self.vol + f64::sqrt(self.c + f64::cosh(f64::tan(f64::sin(t) / 2.0))"
        ".powf(0.6666666666666666)))]]"
    )
    bodies = check_completion(model, answer).bodies()
    out = tmp_path / "crate"
    codegen.write_crate(model, out, codegen.render_model_rs(model, codegen.choose_scheme(model), bodies))
    source = (out / "src" / "model.rs").read_text()
    if shutil.which("rustfmt"):
        assert re.search(r",\s*\)", source), "rustfmt no longer breaks this call: make the expression longer"
    assert proof.prove(model, source).scheme == codegen.choose_scheme(model).name
