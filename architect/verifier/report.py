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
    parts += _model_section(model, report.get("equations") or [], report.get("values"))
    parts += _key_value_section("Proof that the code is the model", equivalence_rows(report.get("equivalence")))
    parts += _scheme_section(report.get("backend"), report.get("scheme") or {}, report.get("backend_note"))
    parts += _simulation_section(report.get("simulation") or {})
    parts += _key_value_section("At the step counts users run", users_steps_rows(report))
    parts += _method_section(report.get("statistics") or {})
    parts += _checks_section(report.get("checks") or [])
    parts += _build_section(report.get("build") or {}, report.get("diagnostics"))
    parts += _key_value_section("Timings", timings(report.get("timings") or {}))
    parts += _key_value_section("Versions", _pairs(report.get("versions") or {}))
    parts += _key_value_section("Sandbox", _sandbox(report.get("sandbox") or {}))
    parts += _key_value_section("Artifacts", [(k, f"`{v}`") for k, v in (report.get("artifacts") or {}).items()])
    return "\n".join(parts).rstrip() + "\n"


def _model_section(model: dict[str, Any], equations: list[str], values: Any = None) -> list[str]:
    """The equations and the values verified at (``model`` is the model at them), each value given at run time
    (``--set``, ``--x0``) marked with the compiled-in one it replaced."""
    out = ["## Model", ""]
    if equations:
        out += ["```", *equations, "```", ""]
    params = model.get("parameters") or []
    if params:
        out.append(
            "Parameters: "
            + ", ".join(
                f"`{p.get('name')} = {num(p.get('value'))}`{run_time_note(values, 'parameters', p.get('name'))}"
                for p in params
            )
        )
    initial = model.get("initial") or {}
    if initial:
        out.append(
            "Initial state: "
            + ", ".join(f"`{k}(0) = {num(v)}`{run_time_note(values, 'initial', k)}" for k, v in initial.items())
        )
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
        ("paths", num(sim.get("paths"))),
        ("horizon", num(sim.get("horizon"))),
        ("steps of the tested runs", join(sim.get("steps"))),
        ("seeds", join(sim.get("seeds"))),
        ("threads", num(sim.get("threads"))),
        ("checkpoints", join(sim.get("checkpoints"))),
    ]
    extended = sim.get("extended")
    if isinstance(extended, dict):
        rows.append(("Extended design", extended_summary(extended)))
    return _key_value_section("Simulation", rows)


def _method_section(stats: dict[str, Any]) -> list[str]:
    out = ["## Method", ""]
    if stats.get("method"):
        out += [str(stats["method"]), ""]
    summary = [
        ("family-wise level alpha", num(stats.get("alpha"))),
        ("correction", str(stats.get("correction", "—"))),
        ("equivalence margin (relative)", num(stats.get("tolerance"))),
        ("checks (failed)", f"{num(stats.get('n_checks'))} ({num(stats.get('n_failed'))})"),
    ]
    return out + [f"- {k}: {v}" for k, v in summary if v not in ("—", "— (—)")] + [""]


_COLUMNS = ("check", "theory", "estimate", "SE", "z", "p", "level", "detectable rel. error", "result")


def _checks_section(checks: list[dict[str, Any]]) -> list[str]:
    out = ["## Checks", "", "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for c in checks:
        cells = [
            _cell(c.get("name", "")),
            num(c.get("theory")),
            num(c.get("estimate")),
            num(c.get("std_error"), 3),
            num(c.get("statistic"), 3),
            num(c.get("p_value"), 3),
            num(c.get("level"), 3),
            percent(c.get("detectable_rel_error")),
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


def _cell(text: Any) -> str:
    # A pipe or newline inside a cell would break the table.
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------- writing
def write_report(out_dir: Path, report: dict[str, Any]) -> None:
    """Write ``report.json`` (indent 2, key order as given, NaN/inf as null), ``report.md`` and the
    self-contained ``report.html``, each atomically."""
    from architect.verifier.html import render_html  # matplotlib and sympy's printer: loaded only to write

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
