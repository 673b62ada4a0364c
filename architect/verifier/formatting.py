"""Formatting shared by the markdown report (`report`) and the HTML page (`html`): numbers, lists, timings,
and the rows both show for the extended design, the tested step counts and the equivalence proof.

Both renderers import this module; neither imports the other's helpers.
"""

from __future__ import annotations

import math
from typing import Any


def num(value: Any, digits: int = 6) -> str:
    """A number as the reports print it: ints exactly, floats to ``digits`` significant digits, None and
    non-finite as a dash, booleans lower-case."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "—"
    return str(value)


def run_time_note(values: Any, kind: str, name: Any) -> str:
    """ " (set at run time; compiled in: X)" for a parameter (``kind`` "parameters") or initial value
    ("initial") that report.json's ``values.overridden`` lists; "" otherwise (or for a report without it)."""
    overridden = values.get("overridden") if isinstance(values, dict) else None
    entries = overridden.get(kind) if isinstance(overridden, dict) else None
    entry = entries.get(name) if isinstance(entries, dict) else None
    if not isinstance(entry, dict):
        return ""
    return f" (set at run time; compiled in: {num(entry.get('compiled'))})"


def percent(value: Any) -> str:
    """A fraction as a percentage (3 significant digits); a dash when it is not a finite number."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return "—"
    return f"{100 * value:.3g} %"


def join(values: Any) -> str:
    """A list as comma-separated numbers (`num`); a scalar as itself."""
    if not isinstance(values, (list, tuple)):
        return num(values)
    return ", ".join(num(v) for v in values)


def _seconds(value: Any) -> str:
    text = num(value, 3)
    return text if text == "—" else f"{text} s"


def timings(stages: dict[str, Any]) -> list[tuple[str, str]]:
    """Each stage's wall time in seconds, then their total."""
    rows = [(stage, _seconds(wall)) for stage, wall in stages.items()]
    numbers = [s for s in stages.values() if isinstance(s, (int, float)) and math.isfinite(s)]
    if rows:
        rows.append(("total", _seconds(float(sum(numbers)))))
    return rows


def extended_summary(extended: dict[str, Any]) -> str:
    """One line for report.json's ``simulation.extended``: the second observation design (off-grid, past T)."""
    return (
        f"{num(extended.get('paths'))} paths, horizon {num(extended.get('horizon'))}, checkpoints "
        f"{join(extended.get('checkpoints'))}; steps {join(extended.get('steps'))}, "
        f"seeds {join(extended.get('seeds'))}"
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
            f"{join(same.get('steps'))} steps (seeds {join(same.get('seeds'))})"
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
                f"error of the {entry.get('quantity')} of {entry.get('state')} at t={num(entry.get('time'))}",
                "; ".join(f"{num(n)} steps: {num(e, 3)} ± {num(se, 2)}" for n, e, se in errors)
                + f" (limit {num(entry.get('limit'))})",
            )
        )
    return rows


def equivalence_rows(equivalence: Any) -> list[tuple[str, str]]:
    """Each expression and how it was proven equal to the model, or why the code is not provably the model
    (`report.json`'s ``equivalence``; also the HTML report's card)."""
    if not isinstance(equivalence, dict) or not equivalence:
        return []
    if not equivalence.get("proven"):
        return [("not proven", "; ".join(str(r) for r in equivalence.get("reasons") or []))]
    rows = [("template", f"architect's, scheme `{equivalence.get('scheme')}`")]
    return rows + [(str(e.get("what")), str(e.get("method"))) for e in equivalence.get("expressions") or []]
