"""``report.html``: one self-contained page a person reads to judge a verification.

Everything is inline: CSS in a ``<style>`` element, equations and plots as SVG drawn by matplotlib
(mathtext for the LaTeX, glyphs as paths, so no font has to be installed), no script at all and a
Content-Security-Policy that forbids loading anything, so the page opens offline and looks the same
everywhere. The renderer is tolerant: a missing section is left out and a section that cannot be drawn
shows a one-line note instead of breaking the page.

matplotlib is used only through its object-oriented API (``Figure`` + the SVG backend), never pyplot,
so rendering a report never changes the backend of a caller's interactive session.
"""

# ruff: noqa: RUF001, RUF002  (a report for people writes Greek letters and the true minus sign)
from __future__ import annotations

import functools
import html
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sympy as sp

from architect.expr.printers import latex
from architect.verifier.formatting import (
    equivalence_rows,
    extended_summary,
    join,
    num,
    percent,
    run_time_note,
    timings,
    users_steps_rows,
)

#: Colours shared by the CSS and the plots.
BLUE, ORANGE, GREEN, RED, GREY = "#1f6fb2", "#d9731a", "#1a7f37", "#c62828", "#5f6b7a"
#: matplotlib settings for every figure: glyphs as paths (no font needed), stable ids, LaTeX-like math.
_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "architect-report",
    "mathtext.fontset": "cm",
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e7ec",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#8a94a3",
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
_MEAN_NAME = re.compile(r"^mean of (?P<state>.+) at t=")

Report = dict[str, Any]


# --------------------------------------------------------------------------------------------- page
def render_html(report: Report) -> str:
    """The whole report as one HTML document (UTF-8, no external resources)."""
    model = report.get("model") or {}
    title = f"{str(report.get('verdict', 'unknown')).upper()}: {model.get('name', 'model')} — architect report"
    sections: list[Callable[[Report], str]] = [
        _banner,
        _nav,
        _model_section,
        _scheme_section,
        _simulation_section,
        _method_section,
        _plots_section,
        _checks_section,
        _build_section,
        _run_section,
    ]
    body = "\n".join(_guarded(section, report) for section in sections)
    return _page(title, _scope_svg_ids(body))


def prepare(report: Report) -> None:
    """Draw what depends only on the model (its equations), so that `render_html` of the finished
    report is quicker; `architect generate` calls this while cargo compiles."""
    _guarded(_model_section, report)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may be fetched: the page is self-contained by construction, and a browser enforces it.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        "</body>\n</html>\n"
    )


def _guarded(section: Callable[[Report], str], report: Report) -> str:
    """One broken section (an unexpected key shape, a plot that fails) must not take the page down."""
    try:
        return section(report)
    except Exception as exc:  # the report must render whatever a section hits
        name = section.__name__.strip("_").replace("_", " ")
        return f'<p class="note">The {_e(name)} could not be rendered: {_e(type(exc).__name__)}: {_e(exc)}</p>'


def _banner(report: Report) -> str:
    verdict = str(report.get("verdict", "unknown")).lower()
    model = report.get("model") or {}
    checks = report.get("checks") or []
    passed = sum(bool(c.get("passed")) for c in checks)
    facts = [f"{passed}/{len(checks)} checks passed"] if checks else ["no checks ran"]
    stats, sim = _mapping(report.get("statistics")), _mapping(report.get("simulation"))
    if stats.get("alpha") is not None:
        facts.append(f"family-wise level α = {num(stats.get('alpha'))} ({stats.get('correction', 'holm')})")
    if sim.get("paths") is not None:
        facts.append(f"{num(sim.get('paths'))} paths, steps {join(sim.get('steps'))}")
    return (
        f'<header class="banner {_e(verdict)}" id="verdict">\n'
        f'<div class="stamp">{_e(verdict.upper())}</div>\n<div>\n'
        f'<p class="kicker">architect verification report</p>\n<h1>{_e(model.get("name", "model"))}</h1>\n'
        f'<p class="reason">{_e(report.get("reason", ""))}</p>\n'
        f'<p class="facts">{" · ".join(_e(f) for f in facts)}</p>\n</div>\n</header>'
    )


def _nav(report: Report) -> str:
    links = [("model", "Model"), ("scheme", "Scheme"), ("simulation", "Simulation"), ("method", "Method")]
    links += [("plots", "Plots"), ("checks", "Checks")]
    if (report.get("build") or {}).get("warnings") or report.get("diagnostics"):
        links.append(("build", "Build"))
    links.append(("run", "Run"))
    return "<nav>" + "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in links) + "</nav>"


# -------------------------------------------------------------------------------------------- model
def _model_section(report: Report) -> str:
    model = report.get("model") or {}
    parts = ['<section id="model">', "<h2>Model</h2>"]
    parts.append(_equations(model, report.get("equations") or []))
    parts.append(_parameter_table(model, report.get("values")))
    parts.append(_initial_table(model, report.get("values")))
    notes = [str(n) for n in model.get("notes") or []]
    if notes:
        parts.append('<div class="callout"><strong>Notes</strong><ul>')
        parts += [f"<li>{_e(n)}</li>" for n in notes]
        parts.append("</ul></div>")
    if model.get("source"):
        parts.append(f'<p class="muted">Input: <code>{_e(model["source"])}</code></p>')
    return "\n".join([*parts, "</section>"])


def _equations(model: dict[str, Any], equations: Sequence[str]) -> str:
    """The SDE as rendered LaTeX; plain-text equations when the model cannot be rebuilt."""
    try:
        lines = model_latex(_sde_model(model))
    except Exception:  # a report of a malformed model still shows its text
        lines = []
    if not lines:
        if not equations:
            return ""
        return '<pre class="equations">' + _e("\n".join(equations)) + "</pre>"
    return '<div class="equations">' + "\n".join(_math_block(tex) for tex in lines) + "</div>"


def _sde_model(model: dict[str, Any]) -> Any:
    from architect.model import SdeModel

    return SdeModel.from_dict(model)


def model_latex(model: Any) -> list[str]:
    """LaTeX of each equation ``dX = b dt + Σ σ dW (+ dJ)``, of each non-zero correlation ``dW dW = ρ dt`` and of
    each jump law."""
    lines = []
    jumps = {j.variable: j for j in getattr(model, "jumps", ())}
    for name, drift, row in zip(model.state, model.drift, model.diffusion, strict=True):
        terms = [(drift, r"\mathrm{d}t")] + [
            (s, rf"\mathrm{{d}}{_tex_name(w)}") for s, w in zip(row, model.noises, strict=True)
        ]
        if name in jumps:
            terms.append((sp.Integer(1), rf"\mathrm{{d}}J_{{{_tex_name(name)}}}"))
        rhs = _join_terms((c, d) for c, d in terms if c != 0)
        lines.append(rf"\mathrm{{d}}{_tex_name(name)} = {rhs}")
    pairs = [(k, j) for k in range(model.noise_dim) for j in range(k + 1, model.noise_dim)]
    for k, j in pairs:
        rho = model.correlation[k][j]
        if rho != 0:
            dw = rf"\mathrm{{d}}{_tex_name(model.noises[k])}\,\mathrm{{d}}{_tex_name(model.noises[j])}"
            lines.append(rf"{dw} = {latex(rho)}\,\mathrm{{d}}t")
    lines += [_jump_latex(jump) for jump in jumps.values()]
    return lines


def _jump_latex(jump: Any) -> str:
    """``J_x ~ CompoundPoisson(λ, N(m, δ²))`` or ``… DoubleExponential(p, η₁, η₂)``."""
    size = [latex(e) for e in jump.size]
    law = (
        rf"\mathcal{{N}}\left({size[0]}, {size[1]}^2\right)"
        if jump.law == "normal"
        else rf"\mathrm{{DoubleExp}}\left({', '.join(size)}\right)"
    )
    rate = latex(jump.intensity)
    return rf"J_{{{_tex_name(jump.variable)}}} \sim \mathrm{{CompoundPoisson}}\left({rate}, {law}\right)"


def _tex_name(name: str) -> str:
    from architect.model import symbol

    return latex(symbol(name))


def _join_terms(terms: Iterable[tuple[sp.Expr, str]]) -> str:
    out = ""
    for coefficient, differential in terms:
        negative = coefficient.could_extract_minus_sign()
        body = _coefficient(-coefficient if negative else coefficient, differential)
        sign = " - " if negative else " + "
        out = (("-" if negative else "") + body) if not out else out + sign + body
    return out or "0"


def _coefficient(coefficient: sp.Expr, differential: str) -> str:
    if coefficient == 1:
        return differential
    tex = latex(coefficient)
    if isinstance(coefficient, sp.Add):
        tex = rf"\left({tex}\right)"
    return rf"{tex}\,{differential}"


def _math_block(tex: str) -> str:
    svg = math_svg(tex)
    if svg is None:
        return f'<div class="math fallback"><code>{_e(tex)}</code></div>'
    return f'<div class="math" role="img" aria-label="{_e(tex)}">{svg}</div>'


@functools.lru_cache(maxsize=256)
def math_svg(tex: str, size: float = 16.0) -> str | None:
    """``$tex$`` drawn by matplotlib's mathtext as inline SVG, or None if mathtext cannot parse it.

    Memoised (about 60 ms a drawing): `prepare` draws a model's equations while cargo compiles."""

    def draw() -> Any:
        figure = _figure((0.01, 0.01))
        figure.text(0, 0, f"${tex}$", fontsize=size, color="#14202e")
        return figure

    try:
        return _render(draw, tight=True)
    except Exception:  # mathtext knows only a LaTeX subset; the caller shows the source
        return None


def _parameter_table(model: dict[str, Any], values: Any = None) -> str:
    """The parameters verified at; one given at run time (``--set``) names the compiled-in value it replaced."""
    params = model.get("parameters") or []
    if not params:
        return ""
    rows = [
        [
            _inline_math(_tex_name(str(p.get("name")))),
            f"<code>{_e(p.get('name'))}</code>",
            f'<span class="num">{_e(num(p.get("value")))}</span>'
            + _e(run_time_note(values, "parameters", p.get("name"))),
            _e(p.get("constraint", "")),
            _e(p.get("description", "")),
        ]
        for p in params
    ]
    return "<h3>Parameters</h3>" + _table(["", "name", "value", "constraint", "meaning"], rows, "params")


def _initial_table(model: dict[str, Any], values: Any = None) -> str:
    """The initial state verified from; a value given at run time (``--x0``) names the compiled-in one."""
    initial, domain = model.get("initial") or {}, model.get("domain") or {}
    if not initial:
        return ""
    rows = [
        [
            _inline_math(f"{_tex_name(str(name))}(0)"),
            f"<code>{_e(name)}</code>",
            f'<span class="num">{_e(num(value))}</span>{_e(run_time_note(values, "initial", name))}',
            _e(domain.get(name, "")),
        ]
        for name, value in initial.items()
    ]
    return "<h3>Initial state</h3>" + _table(["", "state", "initial value", "domain"], rows, "params")


def _inline_math(tex: str) -> str:
    svg = math_svg(tex, size=12.0)
    return f'<span class="imath">{svg}</span>' if svg else f"<code>{_e(tex)}</code>"


# ------------------------------------------------------------------------------------------- scheme
def _scheme_section(report: Report) -> str:
    scheme = report.get("scheme") or {}
    parts = ['<section id="scheme">', "<h2>Scheme</h2>"]
    facts = [("scheme", f"<code>{_e(scheme.get('name') or '—')}</code>")]
    if report.get("backend"):
        facts.append(("backend", _e(report["backend"])))
    parts.append(_kv_table(facts))
    reason = scheme_reason(report)
    if reason:
        parts.append(f"<p><strong>Why this scheme.</strong> {_e(reason)}.</p>")
    parts.append(_step_table(report))
    return "\n".join([*parts, "</section>"])


def scheme_reason(report: Report) -> str | None:
    """``scheme.reason`` if recorded, else the code generator's reason when it would pick the same scheme."""
    scheme = report.get("scheme") or {}
    if scheme.get("reason"):
        return str(scheme["reason"])
    try:
        from architect.codegen import choose_scheme

        choice = choose_scheme(_sde_model(report.get("model") or {}))
    except Exception:  # no model, no reason; the section still shows the scheme
        return None
    # An edited crate may run another scheme than the generator chose: then the reason does not apply.
    return choice.reason if scheme.get("name") in (None, choice.name) else None


def _step_table(report: Report) -> str:
    model, scheme = report.get("model") or {}, report.get("scheme") or {}
    kinds, states = scheme.get("step_kinds") or [], model.get("state") or []
    if not kinds or len(kinds) != len(states):
        return ""
    domain = model.get("domain") or {}
    rows = [[f"<code>{_e(s)}</code>", _e(domain.get(s, "")), _e(k)] for s, k in zip(states, kinds, strict=True)]
    return _table(["state", "domain", "step"], rows, "narrow")


# --------------------------------------------------------------------------------- simulation, method
def _simulation_section(report: Report) -> str:
    sim = report.get("simulation") or {}
    if not sim:
        return ""
    rows = [
        ("paths per run", num(sim.get("paths"))),
        ("horizon", num(sim.get("horizon"))),
        ("steps of the tested runs", join(sim.get("steps"))),
        ("seeds of the tested runs", join(sim.get("seeds"))),
        ("threads", num(sim.get("threads"))),
        ("checkpoint times", join(sim.get("checkpoints"))),
    ]
    extended = sim.get("extended")
    if isinstance(extended, dict):
        rows.append(("extended design (moments only)", extended_summary(extended)))
    rows += users_steps_rows(report)
    table = _kv_table([(k, _e(v)) for k, v in rows])
    return f'<section id="simulation"><h2>Simulation</h2>{table}</section>'


def _method_section(report: Report) -> str:
    stats = report.get("statistics") or {}
    parts = ['<section id="method">', "<h2>Method</h2>"]
    if stats.get("method"):
        parts.append(f'<p class="method">{_e(stats["method"])}</p>')
    rows = [
        ("family-wise level α", num(stats.get("alpha"))),
        ("multiple-testing correction", str(stats.get("correction") or "—")),
        ("equivalence margin (relative)", num(stats.get("tolerance"))),
        ("checks", num(stats.get("n_checks"))),
        ("failed", num(stats.get("n_failed"))),
    ]
    parts.append(_kv_table([(k, _e(v)) for k, v in rows if v != "—"]))
    return "\n".join([*parts, "</section>"])


# -------------------------------------------------------------------------------------------- plots
def _plots_section(report: Report) -> str:
    figures = [_guarded(f, report) for f in (_mean_figures, _distribution_figure, _convergence_figure)]
    figures = [f for f in figures if f]
    if not figures:
        return '<section id="plots"><h2>Plots</h2><p class="muted">No statistics to plot.</p></section>'
    return '<section id="plots"><h2>Plots</h2>\n' + "\n".join(figures) + "\n</section>"


def mean_series(report: Report) -> list[dict[str, Any]]:
    """Mean of each state over time, from ``mean_paths`` or else from the ``mean`` checks; starts at t = 0."""
    series = [dict(s) for s in report.get("mean_paths") or []] or _series_from_checks(report.get("checks") or [])
    initial = (report.get("model") or {}).get("initial") or {}
    return [_with_origin(s, initial.get(s.get("state"))) for s in series]


def _series_from_checks(checks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_state: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        match = _MEAN_NAME.match(str(check.get("name", "")))
        if check.get("kind") == "mean" and match and isinstance(check.get("time"), (int, float)):
            by_state.setdefault(match["state"], []).append(check)
    series = []
    for state, rows in by_state.items():
        rows = sorted(rows, key=lambda c: c["time"])
        series.append(
            {
                "state": state,
                "times": [c["time"] for c in rows],
                "estimate": [c.get("estimate") for c in rows],
                "std_error": [c.get("std_error") for c in rows],
                "theory": [c.get("theory") for c in rows],
            }
        )
    return series


def _with_origin(series: dict[str, Any], initial: Any) -> dict[str, Any]:
    times = list(series.get("times") or [])
    if not isinstance(initial, (int, float)) or (times and times[0] == 0):
        return series
    out = dict(series, times=[0.0, *times])
    for key, start in (("estimate", initial), ("std_error", 0.0), ("theory", initial)):
        out[key] = [start, *(series.get(key) or [None] * len(times))]
    return out


def _mean_figures(report: Report) -> str:
    series = [s for s in mean_series(report) if s.get("times")]
    if not series:
        return ""
    blocks = [_render(lambda s=s: _mean_figure(s)) for s in series]
    caption = (
        "Simulated mean (extrapolated to h = 0) with a ±2·SE band against the exact mean from the "
        "generator, at t = 0 and every checkpoint; right: the deviation estimate − theory, which should stay "
        "within its band."
    )
    return _figure_html("plot-mean", "Mean over time", "".join(blocks), caption)


def _mean_figure(series: dict[str, Any]) -> Any:
    t, est, se, theory = _arrays(series, ("times", "estimate", "std_error", "theory"))
    figure = _figure((9.6, 2.9))
    left, right = figure.subplots(1, 2)
    state = str(series.get("state", "?"))
    left.fill_between(t, est - 2 * se, est + 2 * se, color=BLUE, alpha=0.18, lw=0, label="estimate ± 2·SE")
    left.plot(t, est, "o", color=BLUE, ms=4, label="simulated")
    if _finite(theory).any():
        left.plot(t, theory, "-", color=ORANGE, lw=1.6, label="exact")
    left.set(title=f"E[{state}(t)]", xlabel="t")
    left.legend(loc="best", fontsize=8.5)
    if _finite(theory).any():
        right.fill_between(t, -2 * se, 2 * se, color=BLUE, alpha=0.18, lw=0)
        right.axhline(0.0, color=ORANGE, lw=1.2)
        right.plot(t, est - theory, "o", color=BLUE, ms=4)
    right.set(title=f"estimate − exact, {state}", xlabel="t")
    figure.tight_layout()
    return figure


def _distribution_figure(report: Report) -> str:
    entries = [d for d in report.get("distribution") or [] if d.get("bin_edges") and d.get("counts")]
    if not entries:
        return ""
    caption = (
        "Histogram of the simulated terminal states (normalised to a density) against the exact transition "
        "density, with the goodness-of-fit statistic and its p-value."
    )
    svg = _render(lambda: _histograms(entries))
    return _figure_html("plot-distribution", "Terminal distribution", svg, caption)


def _histograms(entries: Sequence[dict[str, Any]]) -> Any:
    columns = min(len(entries), 2)
    rows = math.ceil(len(entries) / columns)
    figure = _figure((9.6, 3.0 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, entry in zip(axes, entries, strict=False):
        _histogram(ax, entry)
    for ax in axes[len(entries) :]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure


def _histogram(ax: Any, entry: dict[str, Any]) -> None:
    import numpy as np

    edges = np.asarray(entry["bin_edges"], dtype=float)
    counts = np.asarray(entry["counts"], dtype=float)
    density = counts / max(counts.sum(), 1.0) / np.diff(edges)
    ax.stairs(density, edges, fill=True, color=BLUE, alpha=0.35, label="simulated")
    ax.stairs(density, edges, color=BLUE, lw=0.8)
    if entry.get("density_x") and entry.get("density_y"):
        ax.plot(entry["density_x"], entry["density_y"], color=ORANGE, lw=1.6, label=f"exact: {entry.get('law', '')}")
    verdict = "pass" if entry.get("passed") else "fail"
    ax.set_title(f"{entry.get('state', '?')} at t={num(entry.get('time'))}: {verdict}")
    ax.set_xlabel(
        f"statistic {num(entry.get('statistic'), 3)}, p = {num(entry.get('p_value'), 3)}",
        color=GREEN if entry.get("passed") else RED,
    )
    ax.legend(loc="best", fontsize=8.5)


def _convergence_figure(report: Report) -> str:
    entries = [c for c in report.get("convergence") or [] if c.get("steps") and c.get("estimates")]
    entries = [c for c in entries if isinstance(c.get("theory"), (int, float))]
    if not entries:
        return ""
    horizon = float(_mapping(report.get("simulation")).get("horizon") or 1.0)
    caption = (
        "|estimate − exact| against the step size, with ±2·SE bars (on a log scale a bar reaching zero is cut "
        "at the axis); the dashed line has slope 1, the weak order of the schemes architect generates."
    )
    svg = _render(lambda: _convergence_plot(entries, horizon))
    return _figure_html("plot-convergence", "Δt convergence", svg, caption)


_COLOURS = (BLUE, ORANGE, GREEN, RED, "#7b4fb8", "#2a9d8f", GREY)


def _convergence_plot(entries: Sequence[dict[str, Any]], horizon: float) -> Any:
    import numpy as np

    relative = all(c["theory"] != 0 for c in entries)
    figure = _figure((6.4, 3.9))
    ax = figure.subplots()
    points = [
        _convergence_line(ax, entry, horizon, relative, _COLOURS[i % len(_COLOURS)]) for i, entry in enumerate(entries)
    ]
    h, error = np.concatenate([h for h, _ in points]), np.concatenate([e for _, e in points])
    _slope_one(ax, h, error)
    if np.isfinite(error).any():
        # Keep the points in view: a lower ±2·SE bar that reaches zero would otherwise stretch the axis.
        ax.set_ylim(bottom=np.nanmin(error) / 5)
    ax.set(
        xscale="log", yscale="log", xlabel="step size Δt", ylabel=("relative" if relative else "absolute") + " error"
    )
    ax.set_title("Weak error against the step size")
    ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def _convergence_line(ax: Any, entry: dict[str, Any], horizon: float, relative: bool, colour: str) -> tuple[Any, Any]:
    """Plot one quantity's error against Δt; returns the (Δt, error) points (error NaN where exactly zero)."""
    import numpy as np

    steps, est, se = _arrays(entry, ("steps", "estimates", "std_errors"))
    scale = abs(entry["theory"]) if relative else 1.0
    h, error = horizon / steps, np.abs(est - entry["theory"]) / scale
    error = np.where(error > 0, error, np.nan)
    band = np.nan_to_num(2 * se / scale)
    lower = np.minimum(band, np.nan_to_num(error) * 0.999)
    label = str(entry.get("quantity", ""))
    ax.errorbar(h, error, yerr=[lower, band], fmt="o-", color=colour, ms=4, lw=1.2, capsize=2, label=label)
    return h, error


def _slope_one(ax: Any, h: Any, error: Any) -> None:
    """A slope-1 reference line through the geometric centre of the plotted points."""
    import numpy as np

    good = np.isfinite(h) & np.isfinite(error) & (h > 0) & (error > 0)
    if not good.any():
        return
    lo, hi = h[good].min(), h[good].max()
    x = np.geomspace(lo, hi, 8) if lo < hi else np.array([lo / 2, lo * 2])
    anchor = math.exp(float(np.mean(np.log(error[good])) - np.mean(np.log(h[good]))))
    ax.plot(x, anchor * x, "--", color=GREY, lw=1, label="slope 1")


def _figure_html(css_id: str, title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="plot" id="{css_id}">\n<h3>{_e(title)}</h3>\n{svg}\n'
        f"<figcaption>{_e(caption)}</figcaption>\n</figure>"
    )


def _arrays(data: dict[str, Any], keys: Sequence[str]) -> list[Any]:
    import numpy as np

    length = len(data.get(keys[0]) or [])
    out = []
    for key in keys:
        values = list(data.get(key) or [None] * length)
        out.append(np.array([np.nan if v is None else float(v) for v in values], dtype=float))
    return out


def _finite(values: Any) -> Any:
    import numpy as np

    return np.isfinite(values)


# ------------------------------------------------------------------------------------------- checks
_CHECK_COLUMNS = ("check", "t", "theory", "estimate", "SE", "z", "p", "level", "detectable rel. error", "")


def _checks_section(report: Report) -> str:
    checks = report.get("checks") or []
    parts = ['<section id="checks">', "<h2>Checks</h2>"]
    if not checks:
        parts.append('<p class="muted">No checks ran: see the verdict above.</p>')
        return "\n".join([*parts, "</section>"])
    sanity = [c for c in checks if c.get("kind") == "sanity"]
    failed_sanity = [c for c in sanity if not c.get("passed")]
    if failed_sanity:
        items = "".join(
            f"<li><strong>{_e(c.get('name'))}</strong>: {_e(c.get('detail', ''))}</li>" for c in failed_sanity
        )
        parts.append(
            f'<div class="callout bad" id="failed-sanity"><strong>Failed sanity checks</strong><ul>{items}</ul></div>'
        )
    statistical = [c for c in checks if c.get("kind") != "sanity"]
    if statistical:
        parts.append(_statistical_table(statistical))
    if sanity:
        parts.append("<h3>Sanity checks</h3>")
        rows = [[_e(c.get("name", "")), _e(c.get("detail", "")), _badge(c.get("passed"))] for c in sanity]
        parts.append(_table(["check", "detail", ""], rows, "checks sanity", [_row_class(c) for c in sanity]))
    return "\n".join([*parts, "</section>"])


def _statistical_table(checks: Sequence[dict[str, Any]]) -> str:
    theory_kind = any("theory_kind" in c for c in checks)
    header = list(_CHECK_COLUMNS)
    if theory_kind:
        header.insert(1, "theory kind")
    rows = [_check_row(c, theory_kind) for c in checks]
    passed = sum(bool(c.get("passed")) for c in checks)
    summary = f'<p class="muted">{passed} of {len(checks)} statistical checks pass; hover a name for the two runs.</p>'
    return summary + _table(header, rows, "checks", [_row_class(c) for c in checks])


def _check_row(check: dict[str, Any], theory_kind: bool) -> list[str]:
    name = f'<span title="{_e(check.get("detail", ""))}">{_e(check.get("name", ""))}</span>'
    numbers = [
        num(check.get("time")),
        num(check.get("theory")),
        num(check.get("estimate")),
        num(check.get("std_error"), 3),
        num(check.get("statistic"), 3),
        num(check.get("p_value"), 3),
        num(check.get("level"), 3),
        percent(check.get("detectable_rel_error")),
    ]
    cells = [name, *(f'<span class="num">{_e(n)}</span>' for n in numbers)]
    if theory_kind:
        cells.insert(1, _e(check.get("theory_kind") or "—"))
    return [*cells, _badge(check.get("passed"))]


def _badge(passed: Any) -> str:
    return '<span class="badge pass">pass</span>' if passed else '<span class="badge fail">fail</span>'


def _row_class(check: dict[str, Any]) -> str:
    return "" if check.get("passed") else "failed"


# --------------------------------------------------------------------------------------- build, run
def _build_section(report: Report) -> str:
    warnings = [str(w) for w in (report.get("build") or {}).get("warnings") or []]
    diagnostics = report.get("diagnostics")
    if not warnings and not diagnostics:
        return ""
    parts = ['<section id="build">', "<h2>Build</h2>"]
    if warnings:
        parts.append(f"<p>{len(warnings)} compiler warning(s):</p><pre>{_e(chr(10).join(warnings))}</pre>")
    if diagnostics:
        parts.append(f'<p>Compiler diagnostics:</p><pre class="diagnostics">{_e(str(diagnostics).rstrip())}</pre>')
    return "\n".join([*parts, "</section>"])


def _run_section(report: Report) -> str:
    cards = [
        ("Proof that the code is the model", [(k, _e(v)) for k, v in equivalence_rows(report.get("equivalence"))]),
        ("Timings", [(k, _e(v)) for k, v in timings(report.get("timings") or {})]),
        ("Versions", [(k, _e(v)) for k, v in (report.get("versions") or {}).items()]),
        ("Artifacts", [(k, f"<code>{_e(v)}</code>") for k, v in (report.get("artifacts") or {}).items()]),
    ]
    body = "".join(f'<div class="card"><h3>{title}</h3>{_kv_table(rows)}</div>' for title, rows in cards if rows)
    footer = f'<p class="footer">{_e(report.get("format", "architect.report"))} · self-contained, opens offline</p>'
    return f'<section id="run"><h2>Run</h2><div class="cards">{body}</div>{footer}</section>'


# ------------------------------------------------------------------------------------------ helpers
def _table(header: Sequence[str], rows: Sequence[Sequence[str]], css: str, row_classes: Sequence[str] = ()) -> str:
    """``rows`` are HTML already (escaped by the caller)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    classes = list(row_classes) or [""] * len(rows)
    body = "".join(
        (f'<tr class="{c}">' if c else "<tr>") + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row, c in zip(rows, classes, strict=True)
    )
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _kv_table(rows: Sequence[tuple[str, str]]) -> str:
    """Two columns: an escaped key and an HTML value."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>' if rows else ""


def _mapping(value: Any) -> dict[str, Any]:
    """A section that must not fail because another one is malformed reads it through this."""
    return value if isinstance(value, dict) else {}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure(size: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def _render(draw: Callable[[], Any], *, tight: bool = False) -> str:
    """Build a figure under the report's style and return it as an inline ``<svg>`` element.

    No XML prolog and no namespace declarations: the HTML parser puts ``<svg>`` in the SVG namespace itself.
    """
    import matplotlib

    buffer = io.StringIO()
    extra = {"bbox_inches": "tight", "pad_inches": 0.02} if tight else {}
    with matplotlib.rc_context(_RC):
        draw().savefig(buffer, format="svg", transparent=True, metadata=_NO_METADATA, **extra)
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)


def _scope_svg_ids(body: str) -> str:
    """Prefix the ids inside each inline SVG so that figures never resolve each other's glyphs or clips."""
    counter = iter(range(1, 1 << 30))

    def scope(match: re.Match[str]) -> str:
        prefix = f"s{next(counter)}-"
        svg = re.sub(r'\bid="', f'id="{prefix}', match.group(0))
        svg = re.sub(r'href="#', f'href="#{prefix}', svg)
        return svg.replace("url(#", f"url(#{prefix}")

    return re.sub(r"<svg\b.*?</svg>", scope, body, flags=re.S)


_CSS = """
:root{--ink:#14202e;--muted:#5f6b7a;--line:#dfe4ea;--soft:#f5f7fa;--pass:#1a7f37;--fail:#c62828;--accent:#1f6fb2}
*{box-sizing:border-box}
body{margin:0;background:#eef1f5;color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans",Arial,sans-serif}
main{max-width:1120px;margin:24px auto;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(20,32,46,.12);
overflow:hidden}
section{padding:8px 36px 20px;border-top:1px solid var(--line)}
h1{margin:2px 0 6px;font-size:26px;line-height:1.2}
h2{font-size:19px;margin:18px 0 10px}
h3{font-size:15px;margin:18px 0 8px;color:#2b3a4c}
code,pre{font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;font-size:13px}
code{background:var(--soft);padding:1px 5px;border-radius:4px}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;max-height:420px}
.banner{display:flex;gap:24px;align-items:center;padding:26px 36px;border-bottom:4px solid}
.banner.pass{background:#e9f6ee;border-color:var(--pass)}
.banner.fail{background:#fdecec;border-color:var(--fail)}
.banner.unknown{background:var(--soft);border-color:var(--muted)}
.stamp{font-weight:800;font-size:22px;letter-spacing:.08em;color:#fff;padding:14px 20px;border-radius:8px;
min-width:112px;text-align:center}
.pass .stamp{background:var(--pass)}.fail .stamp{background:var(--fail)}.unknown .stamp{background:var(--muted)}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted)}
.reason{margin:0 0 4px;font-size:16px}
.facts{margin:0;color:var(--muted);font-size:14px}
nav{display:flex;flex-wrap:wrap;gap:4px 18px;padding:10px 36px;background:var(--soft);font-size:14px}
nav a{color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
.equations{display:flex;flex-direction:column;gap:10px;padding:14px 18px;background:var(--soft);border-radius:8px;
margin:4px 0 8px}
.math svg{display:block;max-width:100%;height:auto}
.fallback code{font-size:14px}
.imath svg{vertical-align:middle}
table{border-collapse:collapse;font-size:13.5px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;white-space:nowrap;position:sticky;top:0}
.scroll{overflow-x:auto}
table.checks{width:100%}
table.checks{font-size:13px}
table.checks td{padding:5px 8px}
table.checks td:nth-child(n+2),table.checks th:nth-child(n+2){text-align:right;white-space:nowrap}
table.checks td:first-child{white-space:nowrap}
table.checks thead th{white-space:normal;vertical-align:bottom}
table.checks td:last-child{text-align:center}
table.sanity td:nth-child(2),table.sanity th:nth-child(2){text-align:left;white-space:normal;color:var(--muted)}
tr.failed td{background:#fdecec}
.num{font-variant-numeric:tabular-nums}
table.kv th{font-weight:500;color:var(--muted);padding-right:22px;white-space:nowrap}
table.kv td{font-variant-numeric:tabular-nums}
.badge{display:inline-block;min-width:44px;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;
text-align:center;color:#fff}
.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}
.callout{border-left:4px solid var(--accent);background:#eef5fb;padding:8px 14px;border-radius:4px;margin:12px 0}
.callout ul{margin:6px 0 0;padding-left:20px}
.callout.bad{border-color:var(--fail);background:#fdecec}
.muted,.note{color:var(--muted)}
.note{font-style:italic}
.method{max-width:900px}
figure.plot{margin:12px 0 22px}
figure.plot svg{display:block;width:100%;height:auto}
figure.plot#plot-convergence svg{max-width:680px}
figcaption{color:var(--muted);font-size:13.5px;max-width:900px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
.card{background:var(--soft);border-radius:8px;padding:2px 16px 12px}
.card td code{background:none;padding:0;word-break:break-all}
.footer{color:var(--muted);font-size:12.5px;margin-top:18px}
@media print{body{background:#fff}main{box-shadow:none;margin:0}figure,table{break-inside:avoid}}
"""
