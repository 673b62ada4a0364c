"""``report.json``, ``report.md`` and ``report.html``: the verification record a user reads and a tool parses.

The report dict (format ``architect.report/1``, keys documented in ``docs/report.md``) is assembled by the
API; this module only renders and writes it (the HTML page lives in ``architect/verifier/html.py``). All
files are written atomically so a crashed or interrupted run never leaves a half-written report next to a
finished one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from architect.paths import write_atomic

REPORT_FORMAT = "architect.report/1"
#: How many trailing lines of compiler diagnostics the markdown shows (report.json keeps them all).
DIAGNOSTIC_LINES = 80


# --------------------------------------------------------------------------------------- markdown
def render_markdown(report: dict[str, Any]) -> str:
    """The human-readable report; tolerant of missing sections (it renders what is there)."""
    verdict = str(report.get("verdict", "unknown"))
    model = report.get("model") or {}
    icon = {"pass": "✅", "fail": "❌"}.get(verdict, "❔")
    parts = [
        f"# {icon} Verification {verdict.upper()}: {model.get('name', 'model')}",
        "",
        f"**Verdict:** {verdict} — {report.get('reason', '')}",
        "",
    ]
    parts += _model_section(model, report.get("equations") or [])
    parts += _key_value_section("Proof that the code is the model", equivalence_rows(report.get("equivalence")))
    parts += _scheme_section(report.get("backend"), report.get("scheme") or {}, report.get("backend_note"))
    parts += _simulation_section(report.get("simulation") or {})
    parts += _key_value_section("At the step counts users run", users_steps_rows(report))
    parts += _method_section(report.get("statistics") or {})
    parts += _checks_section(report.get("checks") or [])
    parts += _build_section(report.get("build") or {}, report.get("diagnostics"))
    parts += _key_value_section("Timings", _timings(report.get("timings") or {}))
    parts += _key_value_section("Versions", _pairs(report.get("versions") or {}))
    parts += _key_value_section("Sandbox", _sandbox(report.get("sandbox") or {}))
    parts += _key_value_section("Artifacts", [(k, f"`{v}`") for k, v in (report.get("artifacts") or {}).items()])
    return "\n".join(parts).rstrip() + "\n"


def _model_section(model: dict[str, Any], equations: list[str]) -> list[str]:
    out = ["## Model", ""]
    if equations:
        out += ["```", *equations, "```", ""]
    params = model.get("parameters") or []
    if params:
        out.append("Parameters: " + ", ".join(f"`{p.get('name')} = {_num(p.get('value'))}`" for p in params))
    initial = model.get("initial") or {}
    if initial:
        out.append("Initial state: " + ", ".join(f"`{k}(0) = {_num(v)}`" for k, v in initial.items()))
    correlation = _correlations(model)
    if correlation:
        out.append("Correlations: " + ", ".join(correlation))
    return [*out, ""]


def _correlations(model: dict[str, Any]) -> list[str]:
    noises, rho = model.get("noises") or [], model.get("correlation") or []
    out = []
    for k in range(len(noises)):
        for j in range(k + 1, len(noises)):
            try:
                entry = rho[k][j]
            except (IndexError, TypeError):
                continue
            if str(entry) not in ("0", "0.0"):
                out.append(f"`d{noises[k]}·d{noises[j]} = {entry}·dt`")
    return out


def _scheme_section(backend: Any, scheme: dict[str, Any], note: Any = None) -> list[str]:
    out = ["## Scheme", ""]
    if backend:
        out.append(f"Backend: {backend}" + (f" ({note})" if note else ""))
    if scheme:
        kinds = ", ".join(str(k) for k in scheme.get("step_kinds") or [])
        out.append(f"Scheme: `{scheme.get('name', '?')}`" + (f" (per component: {kinds})" if kinds else ""))
    return [*out, ""]


def _simulation_section(sim: dict[str, Any]) -> list[str]:
    if not sim:
        return []
    rows = [
        ("paths", _num(sim.get("paths"))),
        ("horizon", _num(sim.get("horizon"))),
        ("steps of the tested runs", _join(sim.get("steps"))),
        ("seeds", _join(sim.get("seeds"))),
        ("threads", _num(sim.get("threads"))),
        ("checkpoints", _join(sim.get("checkpoints"))),
    ]
    extended = sim.get("extended")
    if isinstance(extended, dict):
        rows.append(("Extended design", extended_summary(extended)))
    return _key_value_section("Simulation", rows)


def extended_summary(extended: dict[str, Any]) -> str:
    """One line for report.json's ``simulation.extended``: the second observation design (off-grid, past T)."""
    return (
        f"{_num(extended.get('paths'))} paths, horizon {_num(extended.get('horizon'))}, checkpoints "
        f"{_join(extended.get('checkpoints'))}; steps {_join(extended.get('steps'))}, "
        f"seeds {_join(extended.get('seeds'))}"
    )


def users_steps_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's view of the tested step counts themselves, not the extrapolated limit: whether the
    same-step design ran, and each mean's and variance's discretisation error at the horizon."""
    sim = report.get("simulation") or {}
    if not sim:
        return []
    same = sim.get("same_steps")
    if isinstance(same, dict):
        design = (
            f"tested binary against the compiler's binary of the same scheme, without extrapolation, at "
            f"{_join(same.get('steps'))} steps (seeds {_join(same.get('seeds'))})"
        )
    else:
        design = "not run: the code is proven to be the compiler's scheme, whose error is stated below"
    rows = [("same-step comparison", design)]
    for entry in report.get("discretisation") or []:
        if not isinstance(entry, dict):
            continue
        errors = zip(entry.get("steps") or [], entry.get("error") or [], entry.get("std_error") or [], strict=False)
        rows.append(
            (
                f"error of the {entry.get('quantity')} of {entry.get('state')} at t={_num(entry.get('time'))}",
                "; ".join(f"{_num(n)} steps: {_num(e, 3)} ± {_num(se, 2)}" for n, e, se in errors)
                + f" (limit {_num(entry.get('limit'))})",
            )
        )
    return rows


def _method_section(stats: dict[str, Any]) -> list[str]:
    out = ["## Method", ""]
    if stats.get("method"):
        out += [str(stats["method"]), ""]
    summary = [
        ("family-wise level alpha", _num(stats.get("alpha"))),
        ("correction", str(stats.get("correction", "—"))),
        ("equivalence margin (relative)", _num(stats.get("tolerance"))),
        ("checks (failed)", f"{_num(stats.get('n_checks'))} ({_num(stats.get('n_failed'))})"),
    ]
    return out + [f"- {k}: {v}" for k, v in summary if v not in ("—", "— (—)")] + [""]


_COLUMNS = ("check", "theory", "estimate", "SE", "z", "p", "level", "detectable rel. error", "result")


def _checks_section(checks: list[dict[str, Any]]) -> list[str]:
    out = ["## Checks", "", "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for c in checks:
        cells = [
            _cell(c.get("name", "")),
            _num(c.get("theory")),
            _num(c.get("estimate")),
            _num(c.get("std_error"), 3),
            _num(c.get("statistic"), 3),
            _num(c.get("p_value"), 3),
            _num(c.get("level"), 3),
            _percent(c.get("detectable_rel_error")),
            "✅ pass" if c.get("passed") else "❌ fail",
        ]
        out.append("| " + " | ".join(cells) + " |")
    failed_sanity = [c for c in checks if c.get("kind") == "sanity" and not c.get("passed")]
    if failed_sanity:
        out += ["", "Failed sanity checks:", ""]
        out += [f"- **{_cell(c.get('name', ''))}**: {_cell(c.get('detail', ''))}" for c in failed_sanity]
    return [*out, ""]


def _build_section(build: dict[str, Any], diagnostics: Any) -> list[str]:
    """Compiler output, when the API recorded some (warnings of a good build, errors of a failed one)."""
    warnings = [str(w) for w in build.get("warnings") or []]
    if not warnings and not diagnostics:
        return []
    out = ["## Build", ""]
    if warnings:
        out += [f"{len(warnings)} compiler warning(s):", "", "```", *warnings, "```", ""]
    if diagnostics:
        lines = str(diagnostics).rstrip().splitlines()
        # Keep the tail: cargo prints the decisive error last, and a report should stay readable.
        shown = lines[-DIAGNOSTIC_LINES:]
        note = [f"(last {len(shown)} of {len(lines)} lines)", ""] if len(shown) < len(lines) else []
        out += ["Compiler diagnostics:", "", *note, "```", *shown, "```", ""]
    return out


def _timings(timings: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(stage, _seconds(seconds)) for stage, seconds in timings.items()]
    numbers = [s for s in timings.values() if isinstance(s, (int, float)) and math.isfinite(s)]
    if rows:
        rows.append(("total", _seconds(float(sum(numbers)))))
    return rows


def _seconds(value: Any) -> str:
    text = _num(value, 3)
    return text if text == "—" else f"{text} s"


def equivalence_rows(equivalence: Any) -> list[tuple[str, str]]:
    """Each expression and how it was proven equal to the model, or why the code is not provably the model
    (`report.json`'s ``equivalence``; also the HTML report's card)."""
    if not isinstance(equivalence, dict) or not equivalence:
        return []
    if not equivalence.get("proven"):
        return [("not proven", "; ".join(str(r) for r in equivalence.get("reasons") or []))]
    rows = [("template", f"architect's, scheme `{equivalence.get('scheme')}`")]
    return rows + [(str(e.get("what")), str(e.get("method"))) for e in equivalence.get("expressions") or []]


def _sandbox(sandbox: dict[str, Any]) -> list[tuple[str, str]]:
    """One line per confined stage: network, filesystem, the limits that were set, and the binary's own
    lock-down (docs/security.md)."""
    rows = []
    for stage in ("build", "run"):
        info = sandbox.get(stage)
        if not isinstance(info, dict):
            continue
        limits = info.get("rlimits")
        shown = "; ".join(f"{k} {v}" for k, v in limits.items() if v is not None) if isinstance(limits, dict) else ""
        rows.append((stage, f"network {info.get('network')}; filesystem {info.get('filesystem')}; {shown or limits}"))
        if isinstance(info.get("jail"), dict):
            rows.append((f"{stage}: binary's lock-down", ", ".join(f"{k} {v}" for k, v in info["jail"].items())))
    return rows


def _pairs(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in d.items()]


def _key_value_section(title: str, rows: Iterable[tuple[str, str]]) -> list[str]:
    rows = list(rows)
    if not rows:
        return []
    return [f"## {title}", "", "| | |", "|---|---|", *(f"| {_cell(k)} | {_cell(v)} |" for k, v in rows), ""]


def _num(value: Any, digits: int = 6) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "—"
    return str(value)


def _percent(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "—"
    return f"{100 * value:.3g} %"


def _join(values: Any) -> str:
    if not isinstance(values, (list, tuple)):
        return _num(values)
    return ", ".join(_num(v) for v in values)


def _cell(text: Any) -> str:
    # A pipe or newline inside a cell would break the table.
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------- writing
def write_report(out_dir: Path, report: dict[str, Any]) -> None:
    """Write ``report.json`` (indent 2, key order as given, NaN/inf as null), ``report.md`` and the
    self-contained ``report.html``, each atomically."""
    from architect.verifier.html import render_html  # imports this module's formatters

    out_dir = Path(out_dir)
    text = json.dumps(_strict(report), indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
    _atomic_write(out_dir / "report.json", text)
    _atomic_write(out_dir / "report.md", render_markdown(report))
    _atomic_write(out_dir / "report.html", render_html(report))


def _strict(value: Any) -> Any:
    """JSON has no NaN or infinity: map them to null, recursively; tuples become lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return _strict(value.tolist())
    return value


def _atomic_write(path: Path, text: str) -> None:
    write_atomic(path, text, within=path.parent)  # the folder is opened without following a link
