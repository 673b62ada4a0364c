"""Named models: ``GBM``, ``CIR kappa=1.5 theta=0.05``, ``GBM with stochastic volatility``, ``Stein-Stein``.

The families themselves are data (`families.FAMILIES`, described by `family_schema.Family`); this module
finds one from a name (synonyms, then modifiers such as "with mean reversion"), reads the
overrides that follow the name (``name = value``, ``X0 = value`` or ``X(0) = value``, separated by
spaces, commas, semicolons, newlines, ``where``, ``with`` or ``and``) and builds the `SdeModel`.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import sympy as sp

from architect.errors import ModelError, ParseError
from architect.model import Parameter, SdeModel, symbol
from architect.parser.equations import System, read_statements, read_system
from architect.parser.families import FAMILIES, MEAN_REVERSION, STOCHASTIC_VOLATILITY
from architect.parser.family_schema import Family, shape_note
from architect.parser.lexer import Kind, Token, check_brackets, tokenize
from architect.parser.overrides import override_problem, unknown_override_reason
from architect.parser.phrases import Found, Word, fold, key_of, normalise, split_modifiers, words_of
from architect.parser.statements import (
    Equation,
    first_assignment_start,
    matching_open,
)
from architect.parser.words import Reading, read_values, union_phrases

__all__ = ["FAMILIES", "Family", "build", "family", "find", "model", "names", "normalise", "parse_named"]


@dataclass(frozen=True)
class Preset:
    """A name that means a family with some modifiers: Stein-Stein is Schöbel-Zhu with zero correlation."""

    name: str
    synonyms: tuple[str, ...]
    family: str
    modifiers: tuple[str, ...]
    note: str


PRESETS: tuple[Preset, ...] = (
    Preset(
        "Stein-Stein",
        ("Stein-Stein", "Stein and Stein", "Stein-Stein stochastic volatility"),
        "schobel-zhu",
        ("zero-correlation",),
        "Stein & Stein (1991) is the Schöbel-Zhu model with uncorrelated price and volatility shocks (rho = 0)",
    ),
)


@dataclass(frozen=True)
class Choice:
    """What a name resolved to: a family, the values its modifiers set, a display name and notes."""

    family: Family
    implied: Mapping[str, float] = field(default_factory=dict)
    name: str = ""
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- lookup
@cache
def _by_key() -> dict[str, Family]:
    return {normalise(name): f for f in FAMILIES for name in (f.key, *f.synonyms)}


@cache
def _presets_by_key() -> dict[str, Preset]:
    return {normalise(name): preset for preset in PRESETS for name in preset.synonyms}


def by_key(key: str) -> Family:
    return next(f for f in FAMILIES if f.key == key)


def names() -> tuple[str, ...]:
    """The canonical spelling of every family, in catalog order."""
    return tuple(f.label for f in FAMILIES)


def find(phrase: str) -> Family | None:
    """The family ``phrase`` names (synonyms and presets, not modifiers), or None."""
    key = normalise(phrase)
    preset = _presets_by_key().get(key)
    return by_key(preset.family) if preset else _by_key().get(key)


def family(phrase: str) -> Family:
    """The family ``phrase`` names; ParseError listing the known ones otherwise."""
    found = find(phrase)
    if found is None:
        raise ParseError(unknown_model_reason(phrase))
    return found


def unknown_model_reason(phrase: str) -> str:
    shown = " ".join(phrase.split())
    close = _close_families(phrase)
    hint = f"; did you mean {' or '.join(repr(f.label) for f in close)}?" if close else "."
    return f"unknown model {shown!r}{hint} Known models: {', '.join(names())}"


def _close_families(phrase: str) -> list[Family]:
    keys = _by_key()
    candidates = []
    for word in list(dict.fromkeys(w.text for w in words_of(phrase)))[:MAX_NAME_WORDS]:
        candidates += difflib.get_close_matches(word, keys, n=2, cutoff=0.75)
    candidates += difflib.get_close_matches(normalise(phrase), keys, n=3, cutoff=0.6)
    return list(dict.fromkeys(keys[c] for c in candidates))[:3]


# ---------------------------------------------------------------------------- names with modifiers
def choose(phrase: str, text: str = "") -> Choice:
    """Resolve a model name, modifiers included; ParseError (positioned in ``text``) when it names nothing.

    ``phrase`` is the start of ``text`` (the name before any overrides), so positions agree.
    """
    text = text or phrase
    choice = _choice(phrase, text)
    if choice is None:
        words = words_of(phrase)
        raise ParseError(unknown_model_reason(phrase), text, words[0].start if words else 0)
    return choice


def _choice(phrase: str, text: str) -> Choice | None:
    """`choose` without the suggestions: None when ``phrase`` names no family (the name search tries
    dozens of starts of a text, and suggesting names for each would cost words x names string
    comparisons per start); ParseError when it names one whose modifiers do not apply."""
    words = words_of(phrase)
    key = key_of(words)
    if (preset := _presets_by_key().get(key)) is not None:
        return _preset_choice(preset, text)
    if (found := _by_key().get(key)) is not None:
        return Choice(found, name=found.display_name)
    rest, modifiers = split_modifiers(words)
    base_key = key_of(rest)
    preset = _presets_by_key().get(base_key)
    base = by_key(preset.family) if preset else _by_key().get(base_key)
    if base is None or not modifiers:
        return None
    return _apply_modifiers(base, _first_of_each(modifiers), text, preset.modifiers if preset else (), preset)


def _first_of_each(modifiers: list[Found]) -> list[Found]:
    """Drop repeated modifiers ("with jumps and jumps"), keeping text order."""
    seen: set[str] = set()
    kept = []
    for found in modifiers:
        if found.modifier.key not in seen:
            seen.add(found.modifier.key)
            kept.append(found)
    return kept


def _preset_choice(preset: Preset, text: str) -> Choice:
    return _apply_modifiers(by_key(preset.family), [], text, preset.modifiers, preset)


def _apply_modifiers(
    base: Family, found: list[Found], text: str, preset_modifiers: tuple[str, ...], preset: Preset | None
) -> Choice:
    structural = [f for f in found if f.modifier.key not in ("correlated", "zero-correlation")]
    chosen, notes = _structural_path(base, structural, text)
    keys = [f.modifier.key for f in found] + list(preset_modifiers)
    implied, suffix, correlation_notes = _correlation_modifiers(chosen, found, keys, text)
    name = preset.name if preset and chosen is base else chosen.display_name
    if suffix and not (preset and "zero-correlation" in preset.modifiers):
        name += suffix
    preset_note = [preset.note] if preset else []
    return Choice(chosen, implied, name, (*preset_note, *notes, *correlation_notes))


def _structural_path(base: Family, found: list[Found], text: str) -> tuple[Family, list[str]]:
    """Follow the modifiers from ``base`` (in whichever order works); the family reached and notes."""
    if not found:
        return base, []
    failure: tuple[str, int] | None = None
    for order in itertools.permutations(found):
        reached, notes, problem = _follow(base, order)
        if problem is None:
            return reached, notes
        failure = failure or problem
    assert failure is not None
    raise ParseError(failure[0], text, failure[1])


def _follow(base: Family, order: Sequence[Found]) -> tuple[Family, list[str], tuple[str, int] | None]:
    current, notes = base, []
    for step in order:
        key = step.modifier.key
        if key in current.variants:
            following = by_key(current.variants[key])
            notes.append(f"{current.label} {step.modifier.wording} is read as {following.display_name}")
            current = following
        elif key in current.features or (key == "double-exponential-jumps" and current.key == "kou"):
            notes.append(f"{step.modifier.wording}: {current.display_name} already has it; nothing changed")
        else:
            return current, notes, (_no_variant_reason(current, step), step.start)
    return current, notes, None


def _no_variant_reason(current: Family, step: Found) -> str:
    key = step.modifier.key
    having = [f"{f.label} (-> {by_key(f.variants[key]).label})" for f in FAMILIES if key in f.variants]
    listed = ", ".join(having) if having else "none"
    return f"{current.label} has no variant {step.modifier.wording} in the catalog; families that do: {listed}"


def _correlation_modifiers(
    chosen: Family, found: list[Found], keys: list[str], text: str
) -> tuple[dict[str, float], str, list[str]]:
    wanted = [k for k in keys if k in ("correlated", "zero-correlation")]
    if not wanted:
        return {}, "", []
    position = next((f.start for f in found if f.modifier.key in wanted), 0)
    if not chosen.correlations:
        reason = f"{chosen.display_name} has a single Brownian motion: there is no correlation to set"
        raise ParseError(reason, text, position)
    if len(set(wanted)) > 1:
        raise ParseError("'correlated' and 'zero correlation' contradict each other", text, position)
    rhos = chosen.correlation_parameters
    if wanted[0] == "zero-correlation":
        return dict.fromkeys(rhos, 0.0), " (zero correlation)", [f"zero correlation: {', '.join(rhos)} = 0"]
    defaults = {p.name: p.value for p in chosen.parameters}
    shown = ", ".join(f"{rho} = {defaults[rho]:g}" for rho in rhos)
    return {}, "", [f"correlated: {shown} (the default; override it with {rhos[0]}=...)"]


# ---------------------------------------------------------------------------- building
@cache
def system_of_text(text: str) -> System:
    statements = read_statements(text, tokenize(text))
    return read_system([s for s in statements if isinstance(s, Equation)], text)


def system_of(chosen: Family, values: Mapping[str, float] | None = None) -> System:
    return system_of_text(chosen.equations_for(values or chosen.defaults()))


def build(
    chosen: Family,
    overrides: Mapping[str, float] | None = None,
    source: str = "",
    name: str = "",
    notes: Sequence[str] = (),
) -> SdeModel:
    """The family's model with some values replaced (parameter, shape, ``X0`` or alias names)."""
    values = resolved_values(chosen, overrides or {})
    for rule in chosen.rules:
        if (broken := rule(values)) is not None:
            raise ModelError(broken[1])
    system = system_of(chosen, values).canonical()
    domain = chosen.domain_for(values)
    all_notes = [
        *notes,
        *chosen.notes,
        *(shape_note(s, values) for s in chosen.shapes),
        *(note for check in chosen.checks if (note := check(values)) is not None),
    ]
    return SdeModel(
        name=name or chosen.display_name,
        state=system.state,
        noises=system.noises,
        drift=system.drift,
        diffusion=system.diffusion,
        correlation=_correlation(chosen, system.noises),
        parameters=tuple(Parameter(p.name, values[p.name], p.constraint, p.description) for p in chosen.parameters),
        initial=tuple(values[f"{n}0"] for n in system.state),
        domain=tuple(domain.get(n, "real") for n in system.state),
        source=source,
        notes=tuple(dict.fromkeys(all_notes)),
        jumps=(chosen.jumps.part(),) if chosen.jumps else (),
    )


def resolved_values(chosen: Family, overrides: Mapping[str, float]) -> dict[str, float]:
    values = chosen.defaults()
    for key, value in overrides.items():
        target, converted = _resolve_override(chosen, key, value)
        values[target] = converted
    return values


def _correlation(chosen: Family, noises: tuple[str, ...]) -> tuple[tuple[sp.Expr, ...], ...]:
    entries = {frozenset((a, b)): symbol(rho) for a, b, rho in chosen.correlations}
    return tuple(
        tuple(sp.Integer(1) if a == b else entries.get(frozenset((a, b)), sp.Integer(0)) for b in noises)
        for a in noises
    )


def model(name: str, **overrides: float) -> SdeModel:
    """``model("cir", kappa=1.5)``: a family's model from Python; ModelError for a bad override."""
    choice = choose(name)
    for key, value in overrides.items():
        if (why := override_problem(choice.family, key, value)) is not None:
            raise ModelError(why)
    return build(choice.family, {**choice.implied, **overrides}, source=name, name=choice.name, notes=choice.notes)


def _resolve_override(chosen: Family, name: str, value: float) -> tuple[str, float]:
    for alias in chosen.aliases:
        if alias.name == name:
            return alias.target, alias.convert(value)
    if name == chosen.generic_initial_alias():
        return chosen.initial_names()[0], value
    if name not in chosen.override_names():
        raise ModelError(unknown_override_reason(chosen, name))
    return name, value


# ---------------------------------------------------------------------------- text
def parse_named(text: str, tokens: Sequence[Token]) -> SdeModel:
    """``CIR kappa=1.5, theta=0.05``, ``GBM with 30% volatility, starting at 80``: a name, then values.

    The name is the longest start of the text that names a family (modifiers included) without cutting
    a value's description in two ("Heston with mean reversion speed 2" is Heston, then a speed) and
    after which the rest reads as values (`words.read_values`); a shorter name is tried when it does not.
    """
    check_brackets(tokens, text)
    _refuse_statements(tokens, text)
    bound = _name_bound(text, tokens)
    if not normalise(text[:bound]):
        reason = "expected a model name (e.g. 'heston') or equations (e.g. 'dX = mu*dt + sigma*dW') first"
        raise ParseError(reason, text, _first_visible(text))
    first_error: ParseError | None = None
    for start, end, choice in _name_spans(text, bound):
        try:
            reading = read_values(choice.family, [t for t in tokens if t.position >= end], text)
            _refuse_dropped_modifiers(reading, text, bound)
        except ParseError as error:
            first_error = first_error or error
            continue
        return _named_model(text, start, choice, reading)
    try:
        choose(text[:bound], text)
    except ParseError as error:  # a modifier that does not apply says more than a value that does not read
        if first_error is None or not error.reason.startswith("unknown model"):
            raise
    if first_error is not None:
        raise first_error
    raise ParseError(unknown_model_reason(text[:bound]), text, _first_visible(text))


def _named_model(text: str, start: int, choice: Choice, reading: Reading) -> SdeModel:
    overrides, positions = reading.values, reading.positions
    _check_implied(choice, overrides, positions, text)
    values = {**choice.implied, **overrides}
    _check_rules(choice.family, values, positions, text)
    leading = [f"ignored before the model name: {text[:start].strip()!r}"] if text[:start].strip() else []
    notes = (*choice.notes, *leading, *reading.notes, *_alias_notes(choice, overrides))
    return build(choice.family, values, source=text, name=choice.name, notes=notes)


MAX_NAME_WORDS = 30
MAX_SKIPPED_WORDS = 6
MAX_TRIES = 4


def _name_bound(text: str, tokens: Sequence[Token]) -> int:
    """Where the name must have ended: at the first ``name =``, ``:`` or ``%``."""
    bound = len(text)
    start = first_assignment_start(tokens)
    if start is not None:
        bound = tokens[start].position
    for token in tokens:
        if token.kind is Kind.OTHER and token.text in ":%":
            return min(bound, token.position)
    return bound


def _name_spans(text: str, bound: int) -> Iterator[tuple[int, int, Choice]]:
    """(start, end, choice) of the names the text may start with, longest first (at most a few)."""
    words = words_of(text[:bound])
    phrases = union_phrases()
    if words and not _cuts_a_phrase(words, len(words) - 1, phrases, text):
        whole: Choice | None = None
        with contextlib.suppress(ParseError):
            whole = _choice(text[: words[-1].end], text)
        if whole is not None:
            yield 0, words[-1].end, whole
    words = words[:MAX_NAME_WORDS]
    tries = 0
    named_up_to = 0  # the end of the names found so far
    for skip in range(min(len(words), MAX_SKIPPED_WORDS)):
        start = words[skip].start if skip else 0
        if 0 < start < named_up_to:
            # Inside a name already found ("Double Heston"): its tail ("Heston") is not another reading.
            continue
        for last in range(len(words) - 1, skip - 1, -1):
            if _cuts_a_phrase(words, last, phrases, text):
                continue
            try:
                choice = _choice(" " * start + text[start : words[last].end], text)
            except ParseError:
                continue
            if choice is None:
                continue
            named_up_to = max(named_up_to, words[last].end)
            yield start, words[last].end, choice
            tries += 1
            if tries >= MAX_TRIES:
                return


def _cuts_a_phrase(words: Sequence[Word], last: int, phrases: frozenset[tuple[str, ...]], text: str) -> bool:
    """Whether ending the name at word ``last`` cuts a value's description ("mean reversion | speed")."""
    texts = [w.text for w in words]
    if last + 1 < len(words) and any(c in ",;\n" for c in text[words[last].end : words[last + 1].start]):
        return False
    for begin in range(max(0, last - 5), last + 1):
        for length in range(last - begin + 2, 7):
            piece = tuple(texts[begin : begin + length])
            if len(piece) == length and piece in phrases:
                return True
    return False


def _refuse_statements(tokens: Sequence[Token], text: str) -> None:
    """``GBM, corr(W1, W2) = 0.5``: statements other than values cannot follow a name."""
    for index, token in enumerate(tokens[:-1]):
        if token.is_op(")") and tokens[index + 1].is_op("="):
            opening = matching_open(tokens, index)
            inner = tokens[opening + 1 : index]
            if len(inner) == 1 and inner[0].kind is Kind.NUMBER and float(inner[0].text) == 0:
                continue
            where = tokens[opening - 1].position if opening > 0 else token.position
            reason = "after a model name only values like 'kappa = 2' can follow; this is not one"
            raise ParseError(reason, text, where)


def _refuse_dropped_modifiers(reading: Reading, text: str, bound: int) -> None:
    """A modifier among the ignored words ("GBM with jumps and mean reversion") is an error, never dropped."""
    words = [
        Word(fold(m.group()), start + m.start(), start + m.end())
        for typed, start, _ in reading.ignored
        for m in re.finditer(r"[^\W_]+", typed)
    ]
    _, modifiers = split_modifiers(words)
    if modifiers:
        choose(text[:bound], text)
        found = modifiers[0]
        reason = f"{found.modifier.wording} could not be applied here; put the modifiers right after the model name"
        raise ParseError(reason, text, found.start)


def _alias_notes(choice: Choice, overrides: Mapping[str, float]) -> list[str]:
    generic = choice.family.generic_initial_alias()
    if generic is None or generic not in overrides:
        return []
    variable = choice.family.state[0]
    return [f"X0 is read as {variable}0, the initial value of the model's one state variable {variable}"]


def _check_implied(choice: Choice, overrides: dict[str, float], positions: dict[str, int], text: str) -> None:
    for name, value in choice.implied.items():
        if name in overrides and overrides[name] != value:
            reason = f"{name}={overrides[name]:g} contradicts the name, which sets {name} = {value:g}"
            raise ParseError(reason, text, positions[name])


def _check_rules(chosen: Family, overrides: dict[str, float], positions: dict[str, int], text: str) -> None:
    values = resolved_values(chosen, overrides)
    for rule in chosen.rules:
        if (broken := rule(values)) is not None:
            raise ParseError(broken[1], text, positions.get(broken[0], _first_visible(text)))


def _statement_position(statement: object) -> int:
    position = getattr(statement, "position", None)
    return position if position is not None else getattr(statement, "first_position", 0)


def _first_visible(text: str) -> int:
    return len(text) - len(text.lstrip())


#: The modifiers that lead from one family to another, for docs and tests.
STRUCTURAL_MODIFIERS = (MEAN_REVERSION, STOCHASTIC_VOLATILITY, "jumps", "double-exponential-jumps")
