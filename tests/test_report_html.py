"""``report.html``: structure, self-containedness, failure pages, and a real render in headless Chromium.

The reports here are synthetic but shaped exactly like the API's (``architect/api.py``), including the
optional plot keys (``mean_paths``, ``distribution``, ``convergence``) documented in ``docs/report.md``.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

import architect
from architect.model import Parameter, SdeModel, symbol
from architect.verifier import render_markdown, write_report
from architect.verifier.html import math_svg, mean_series, model_latex, render_html, scheme_reason

TIMES = (0.25, 0.5, 0.75, 1.0)
SECTIONS = ("verdict", "model", "scheme", "simulation", "method", "plots", "checks", "run")


# ---------------------------------------------------------------------------------------- reports
def heston_like() -> SdeModel:
    x, v, kappa, theta, xi, rho = (symbol(n) for n in ("x", "v", "kappa", "theta", "xi", "rho"))
    return SdeModel(
        name="mean-reverting Heston",
        state=("x", "v"),
        noises=("W1", "W2"),
        drift=(-x, kappa * (theta - v)),
        diffusion=((sp.sqrt(v), 0), (0, xi * sp.sqrt(v))),
        correlation=((1, rho), (rho, 1)),
        parameters=(
            Parameter("kappa", 2.0, "positive", "speed of mean reversion"),
            Parameter("theta", 0.04, "nonnegative", "long-run variance"),
            Parameter("xi", 0.3, "positive", "vol of vol"),
            Parameter("rho", -0.7, "correlation", "correlation of the shocks"),
        ),
        initial=(0.5, 0.04),
        domain=("real", "nonnegative"),
        source="synthetic test model",
        notes=("a note about the interpretation",),
    )


def exact_mean(state: str, t: float) -> float:
    return 0.5 * math.exp(-t) if state == "x" else 0.04


def moment_check(state: str, t: float, kind: str = "mean", shift: float = 0.0) -> dict[str, Any]:
    theory = exact_mean(state, t) if kind == "mean" else 0.01 * t
    se = 0.002 if state == "x" else 0.0004
    estimate = theory + 0.5 * se + shift
    z = (estimate - theory) / se
    return {
        "name": f"{kind} of {state} at t={t:g}",
        "kind": kind,
        "time": t,
        "theory": theory,
        "estimate": estimate,
        "std_error": se,
        "statistic": z,
        "p_value": 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2)))),
        "level": 1e-4,
        "passed": abs(z) < 4,
        "detectable_rel_error": 0.01,
        "detail": "40 steps: … ; 80 steps: … ; Richardson 2·fine - coarse = …",
        "coarse": estimate,
        "fine": estimate,
    }


def sanity_check(name: str, passed: bool = True, detail: str = "ok") -> dict[str, Any]:
    numbers = dict.fromkeys(("time", "theory", "estimate", "std_error", "statistic", "p_value", "level"))
    return {"name": name, "kind": "sanity", **numbers, "passed": passed, "detail": detail}


def make_report(*, passed: bool = True, plots: bool = True) -> dict[str, Any]:
    model = heston_like()
    shift = 0.0 if passed else 0.05
    checks = [sanity_check("all paths finite"), sanity_check("runs are comparable")]
    checks += [
        moment_check(s, t, k, shift if s == "x" else 0.0)
        for t in TIMES
        for s in ("x", "v")
        for k in ("mean", "variance")
    ]
    if not passed:
        checks.append(sanity_check("every path counted", passed=False, detail="fine run: 17 paths missing at t=1"))
    n_failed = sum(not c["passed"] for c in checks)
    verdict, reason = ("pass", "all checks pass") if passed else ("fail", f"{n_failed} checks fail")
    report: dict[str, Any] = {
        "format": "architect.report/1",
        "verdict": verdict,
        "reason": reason,
        "model": model.to_dict(),
        "equations": model.equations(),
        "backend": "symbolic",
        "scheme": {"name": "euler-maruyama+full-truncation", "step_kinds": ["euler", "full-truncation"]},
        "simulation": {
            "paths": 20000,
            "horizon": 1.0,
            "steps": [40, 80],
            "seeds": [1, 2],
            "threads": 2,
            "checkpoints": list(TIMES),
        },
        "statistics": {
            "verdict": verdict,
            "reason": reason,
            "alpha": 1e-3,
            "correction": "holm",
            "tolerance": 1e-4,
            "n_checks": len(checks),
            "n_failed": n_failed,
            "method": "Exact moments come from the generator; Richardson extrapolation; Holm.",
        },
        "checks": checks,
        "timings": {"parse": 0.01, "codegen": 0.02, "build": 1.5, "simulate": 0.4, "verify": 0.1},
        "versions": {"architect": "0.1.0", "sdk": "0.1.0"},
        "artifacts": {"crate": "/tmp/c", "binary": "/tmp/c/bin/m", "model": "/tmp/c/model.json"},
        "build": {"warnings": [], "crate": "mean-reverting-heston"},
    }
    if plots:
        report.update(distribution=[distribution_entry()], convergence=convergence_entries())
    return report


def distribution_entry() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    edges = np.linspace(-0.6, 1.0, 33)
    counts, _ = np.histogram(rng.normal(0.18, 0.2, 20000), edges)
    x = np.linspace(-0.6, 1.0, 120)
    y = np.exp(-0.5 * ((x - 0.18) / 0.2) ** 2) / (0.2 * math.sqrt(2 * math.pi))
    return {
        "state": "x",
        "time": 1.0,
        "law": "normal",
        "statistic": 0.007,
        "p_value": 0.31,
        "passed": True,
        "bin_edges": edges.tolist(),
        "counts": counts.tolist(),
        "density_x": x.tolist(),
        "density_y": y.tolist(),
    }


def convergence_entries() -> list[dict[str, Any]]:
    steps = [10, 20, 40, 80]
    return [
        {
            "quantity": "mean of v at t=1",
            "steps": steps,
            "estimates": [0.04 + 0.01 / n for n in steps],
            "std_errors": [1e-5] * 4,
            "theory": 0.04,
        },
        {
            "quantity": "without theory",
            "steps": steps,
            "estimates": [1, 2, 3, 4],
            "std_errors": [0] * 4,
            "theory": None,
        },
    ]


# ------------------------------------------------------------------------------------- structure
def test_every_section_and_plot_is_present() -> None:
    page = render_html(make_report())
    assert page.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    for plot in ("plot-mean", "plot-distribution", "plot-convergence"):
        assert re.search(rf'<figure class="plot" id="{plot}">\s*<h3>[^<]+</h3>\s*<svg\b', page), plot
    assert '<header class="banner pass"' in page
    assert "18/18 checks passed" in page
    assert "variance of v at t=0.75" in page
    assert "Why this scheme." in page and "full truncation keeps it non-negative" in page
    assert page.count('<div class="math" role="img"') == 3  # two equations and the correlation
    assert "kappa" in page and "long-run variance" in page  # the parameter table


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = render_html(make_report())
    assert not re.search(r"""\b(src|href|action|poster|data)\s*=\s*["']?\s*(https?:|//|file:)""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(?!#)", page), "CSS or SVG url() must only reference the page itself"
    assert "@import" not in page and "<link" not in page and "<script" not in page and "<iframe" not in page
    assert "http://" not in page and "https://" not in page
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))
    assert "default-src 'none'" in page  # the browser enforces it too


def test_svg_ids_are_unique_and_every_reference_resolves() -> None:
    page = render_html(make_report())
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    references = set(re.findall(r'href="#([^"]+)"', page)) | set(re.findall(r"url\(#([^)]+)\)", page))
    assert references <= set(ids)


def test_rendering_is_deterministic() -> None:
    report = make_report()
    assert render_html(report) == render_html(report)


def test_a_failed_verification_renders_its_failures() -> None:
    page = render_html(make_report(passed=False))
    assert '<header class="banner fail"' in page and ">FAIL<" in page
    assert 'id="failed-sanity"' in page and "17 paths missing" in page
    failed_rows = re.findall(r'<tr class="failed"><td><span title="[^"]*">([^<]+)</span>', page)
    assert failed_rows and all(name.endswith(("t=0.25", "t=0.5", "t=0.75", "t=1")) for name in failed_rows)
    assert '<span class="badge fail">fail</span>' in page


def test_a_failed_build_renders_without_checks_or_plots() -> None:
    report = make_report(plots=False)
    report.update(verdict="fail", reason="cargo build failed", checks=[], diagnostics="error[E0425]: <x> not found")
    del report["statistics"]
    report["scheme"] = {"name": None, "step_kinds": None}
    page = render_html(report)
    assert '<header class="banner fail"' in page and "no checks ran" in page
    assert 'id="build"' in page and "error[E0425]: &lt;x&gt; not found" in page
    assert "No statistics to plot." in page and "<figure" not in page


def test_optional_plots_are_skipped_when_absent() -> None:
    page = render_html(make_report(plots=False))
    assert 'id="plot-mean"' in page  # derived from the mean checks
    assert 'id="plot-distribution"' not in page and 'id="plot-convergence"' not in page


def test_a_malformed_section_does_not_break_the_page() -> None:
    report = make_report()
    report["distribution"] = [{"state": "x", "bin_edges": [0, 1, 2], "counts": "not counts"}]
    report["simulation"] = "not a mapping"
    page = render_html(report)
    assert page.count('class="note"') == 2
    assert "could not be rendered" in page
    for section in ("verdict", "model", "checks", "run"):
        assert f'id="{section}"' in page


def test_everything_from_the_report_is_escaped() -> None:
    report = make_report()
    report["reason"] = "<script>alert(1)</script>"
    report["checks"][0]["detail"] = '"><img src=x>'
    page = render_html(report)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ----------------------------------------------------------------------------------------- pieces
def test_model_latex_writes_each_equation_and_the_correlation() -> None:
    lines = model_latex(heston_like())
    assert lines == [
        r"\mathrm{d}x = -x\,\mathrm{d}t + \sqrt{v}\,\mathrm{d}W_{1}",
        r"\mathrm{d}v = \kappa \left(\theta - v\right)\,\mathrm{d}t + \sqrt{v} \xi\,\mathrm{d}W_{2}",
        r"\mathrm{d}W_{1}\,\mathrm{d}W_{2} = \rho\,\mathrm{d}t",
    ]


def test_negative_noise_terms_are_subtracted() -> None:
    x, s = symbol("x"), symbol("s")
    model = SdeModel(
        "m", ("x",), ("W",), (sp.Integer(0),), ((-s * x,),), ((1,),), (Parameter("s", 1.0),), (1.0,), ("real",)
    )
    assert model_latex(model) == [r"\mathrm{d}x = -s x\,\mathrm{d}W"]


def test_mathtext_failures_fall_back_to_the_latex_source() -> None:
    assert math_svg(r"\sqrt{v}") is not None
    assert math_svg(r"\begin{cases} x & x > 0 \end{cases}") is None
    x, s = symbol("x"), symbol("s")
    model = SdeModel(
        "piecewise",
        ("x",),
        ("W",),
        (sp.Piecewise((x, x > 0), (0, True)),),
        ((s,),),
        ((1,),),
        (Parameter("s", 1.0),),
        (1.0,),
        ("real",),
    )
    report = make_report(plots=False) | {"model": model.to_dict(), "equations": model.equations()}
    page = render_html(report)
    assert '<div class="math fallback"><code>' in page and r"\begin{cases}" in page


def test_mean_series_start_at_the_initial_state() -> None:
    series = {s["state"]: s for s in mean_series(make_report())}
    assert series["x"]["times"] == [0.0, *TIMES]
    assert series["x"]["estimate"][0] == series["x"]["theory"][0] == 0.5
    assert series["x"]["std_error"][0] == 0.0
    assert series["v"]["theory"][1:] == [0.04] * 4


def test_mean_paths_take_precedence_over_the_checks() -> None:
    report = make_report()
    report["mean_paths"] = [
        {"state": "x", "times": [0.0, 0.5], "estimate": [0.5, 0.3], "std_error": [0, 0.01], "theory": [0.5, 0.3]}
    ]
    assert mean_series(report) == report["mean_paths"]


def test_the_scheme_reason_comes_from_the_code_generator() -> None:
    report = make_report()
    assert scheme_reason(report) == "v: square-root diffusion, full truncation keeps it non-negative"
    report["scheme"]["reason"] = "recorded reason"
    assert scheme_reason(report) == "recorded reason"
    report["scheme"] = {"name": "log-euler", "step_kinds": ["log-euler", "log-euler"]}  # an edited crate
    assert scheme_reason(report) is None


def test_write_report_writes_all_three_files(tmp_path: Path) -> None:
    report = make_report()
    write_report(tmp_path, report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.json", "report.md"]
    assert (tmp_path / "report.html").read_text("utf-8") == render_html(report)
    assert list(json.loads((tmp_path / "report.json").read_text("utf-8"))) == list(report)
    assert (tmp_path / "report.md").read_text("utf-8") == render_markdown(report)


# ------------------------------------------------------------------------------ headless Chromium
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (CI installs Debian's chromium in .ci/run; locally: apt-get install chromium)",
)


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def console_messages(stderr: str) -> list[str]:
    """Everything the page logged to the console (the report has no script, so any message is a problem)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@needs_chromium
def test_chromium_detects_a_page_that_loads_remote_resources(tmp_path: Path) -> None:
    """The console scan below is not vacuous: a page that reaches out is reported."""
    page = tmp_path / "bad.html"
    page.write_text(render_html(make_report()).replace("</body>", '<img src="https://example.com/x.png"></body>'))
    result = chromium(tmp_path, page, "--dump-dom")
    assert any("Content Security Policy" in line for line in console_messages(result.stderr)), result.stderr[-2000:]


@needs_chromium
@pytest.mark.parametrize("passed", [True, False])
def test_chromium_renders_the_report_without_errors(tmp_path: Path, passed: bool) -> None:
    write_report(tmp_path, make_report(passed=passed))
    page = tmp_path / "report.html"
    result = chromium(tmp_path, page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    dom = result.stdout
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    assert len(re.findall(r"<svg\b", dom)) >= 10
    assert re.search(r'<figure class="plot" id="plot-mean">', dom)
    assert re.search(r"<table class=\"checks\">.*?<tbody>(.*?)</tbody>", dom, re.S)
    assert ('<header class="banner pass"' if passed else '<header class="banner fail"') in dom


@needs_chromium
def test_chromium_screenshot_is_not_blank(tmp_path: Path) -> None:
    from PIL import Image  # matplotlib depends on Pillow

    write_report(tmp_path, make_report())
    shot = tmp_path / "shot.png"
    result = chromium(
        tmp_path, tmp_path / "report.html", f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars"
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    image = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert image.shape[:2] == (2400, 1280)
    assert image.std() > 20, "the screenshot is (nearly) uniform: nothing rendered"
    red, green, blue = (image[:200, :, k] for k in range(3))
    stamp = (green > red + 60) & (green > blue + 40)  # the PASS stamp's green
    assert stamp.sum() > 2000, "a passing report opens on a green PASS stamp"


def test_model_latex_writes_the_jump_term_and_its_law() -> None:
    lines = model_latex(architect.parse("Bates"))
    assert lines[0].endswith(r"+ \mathrm{d}J_{x}")
    assert lines[-1] == r"J_{x} \sim \mathrm{CompoundPoisson}\left(lam, \mathcal{N}\left(m, \delta^2\right)\right)"
    assert all(math_svg(line) is not None for line in lines)
