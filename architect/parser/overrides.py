"""What a value given for a family may override, and why a value is refused: shared by the catalog and the
reader of values in words (`words`), below both so that neither imports the other."""

from __future__ import annotations

import difflib

from architect.model import Parameter, domain_admits
from architect.parser.family_schema import Family


def override_problem(chosen: Family, name: str, value: float) -> str | None:
    """Why ``name = value`` cannot override ``chosen``, or None."""
    if name not in chosen.override_names():
        return unknown_override_reason(chosen, name)
    alias = next((a for a in chosen.aliases if a.name == name), None)
    if alias is not None:
        if alias.positive and not value > 0:
            return f"{name} must be positive, got {value:g}"
        target = next((p for p in chosen.parameters if p.name == alias.target), None)
        return Parameter(name, alias.convert(value), target.constraint).violation() if target else None
    shape = next((s for s in chosen.shapes if s.name == name), None)
    if shape is not None:
        if shape.low <= value <= shape.high:
            return None
        return f"{name} must lie in [{shape.low:g}, {shape.high:g}] ({shape.description}), got {value:g}"
    parameter = next((p for p in chosen.parameters if p.name == name), None)
    if parameter is not None:
        return Parameter(name, value, parameter.constraint).violation()
    return initial_value_problem(chosen, name, value)


def initial_value_problem(chosen: Family, name: str, value: float) -> str | None:
    target = chosen.initial_names()[0] if name == chosen.generic_initial_alias() else name
    variable = target[:-1]
    domain = chosen.domain_for(chosen.defaults()).get(variable, "real")
    if domain == "positive" and not value > 0:
        return f"{name} must be positive ({variable} is a positive process), got {value:g}"
    if domain == "nonnegative" and not value >= 0:
        return f"{name} must be non-negative ({variable} cannot go below zero), got {value:g}"
    if not domain_admits(domain, value):
        return f"{name} must lie in {domain} ({variable} lives there), got {value:g}"
    return None


def unknown_override_reason(chosen: Family, name: str) -> str:
    known = chosen.override_names()
    close = difflib.get_close_matches(name, known, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
    return f"{chosen.display_name} has no parameter {name!r}{hint} Its values: {', '.join(known)}"


def target_of(chosen: Family, name: str) -> str:
    """The value an override sets: ``S0`` sets ``x0``, ``X0`` the one state's initial value."""
    alias = next((a for a in chosen.aliases if a.name == name), None)
    if alias is not None:
        return alias.target
    if name == chosen.generic_initial_alias():
        return chosen.initial_names()[0]
    return name
