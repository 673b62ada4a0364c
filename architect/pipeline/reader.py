"""Text -> model with the LLM as reader of last resort (issue #19, item 5).

`read` tries the grammar (`architect.parser.parse`) first. Only when it raises a `ParseError` does the LLM
rewrite the text into architect's canonical syntax (`architect.llm.reading`); the grammar then parses the
rewrite, and the rewrite must pass the number rule (`invented_numbers`): every number in it appears in the input
(``3%`` or ``3 percent`` also permit 0.03, ``25bp`` 0.0025, ``one half`` 0.5) or is a default of the family it
names; and, the other way round, every number of the text is used (`unused_numbers`: a value the rewrite left out
would silently become a default, a misread). The reader never invents a value: when its rewrite does not parse
or breaks the rule, the error raised is the grammar's error on the original text, with a note that the reader
could not help.

A model read this way says so: its ``source`` is the user's text and its first note is ``read as: <rewrite>``
(so `describe()`, model.json and report.json record it). The parser never imports the LLM; this module sits
above both.

``reader``: ``none`` (the grammar only), ``llm`` (the LLM when the grammar fails; a missing LLM stack is said in
the error) or ``auto`` (``llm`` when the ``llm`` extra and the weights are installed, silently the grammar alone
otherwise).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from architect import parser as parsing
from architect.errors import ArchitectError, ParseError, UsageError
from architect.model import SdeModel

if TYPE_CHECKING:
    from architect.llm.generator import Generator

READERS = ("auto", "llm", "none")
READ_AS = "read as: "

#: A number: digits with an optional fraction and exponent, not glued to a name (``S0``, ``dW1``, ``eta2``).
_NUMBER = re.compile(r"(?<![A-Za-z_\d.])(\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
#: What a number in the input may be followed by that scales it.
_PERCENT = re.compile(r"\s*(?:%|percent\b|per\s*cent\b|pct\b)", re.IGNORECASE)
_BASIS_POINTS = re.compile(r"\s*(?:bps?\b|basis\s+points?\b|bp\b)", re.IGNORECASE)
#: Numbers users write as words.
_WORDS = {
    "zero": 0.0, "no": 0.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
    "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "twenty": 20.0, "half": 0.5, "quarter": 0.25,
    "twice": 2.0, "double": 2.0, "squared": 2.0, "square": 2.0, "cubed": 3.0, "hundred": 100.0,
}  # fmt: skip
#: ``X(0)`` and ``X(t)`` in equations name a time, not a value.
_TIME_ARGUMENT = re.compile(r"\(\s*(?:0|t)\s*\)")


@dataclass(frozen=True)
class Reading:
    """What a text was read as: the model, and the LLM's rewrite when the grammar alone could not read it."""

    model: SdeModel
    rewrite: str | None = None  # the canonical text the LLM wrote, when it read the text


def read(text: str, reader: str = "auto", generator: Generator | None = None) -> Reading:
    """The grammar's model of ``text``, or the LLM's rewrite parsed by the grammar when the grammar fails."""
    if reader not in READERS:
        raise UsageError(f"unknown reader {reader!r}: choose one of {', '.join(READERS)}")
    try:
        return Reading(parsing.parse(text))
    except ParseError as error:
        if reader == "none" or not isinstance(text, str) or not text.strip():
            raise
        grammar_error = error
    if generator is None:
        unavailable = _unavailable()
        if unavailable is not None:
            if reader == "auto":
                raise grammar_error
            raise _with_note(grammar_error, f"the LLM reader is unavailable: {unavailable}") from None
        generator = load_reader()
    return rewrite_and_parse(text, generator, grammar_error)


def rewrite_and_parse(text: str, generator: Generator, grammar_error: ParseError) -> Reading:
    """Ask ``generator`` for a rewrite; keep it only when the grammar reads it and it invents no number."""
    from architect.llm import reading

    answers = generator.sample(reading.messages(text), 1, 0.0)
    rewrite = reading.rewrite_of(answers[0] if answers else "")
    if not rewrite:
        raise _with_note(grammar_error, "the LLM reader could not help: it wrote nothing") from None
    try:
        model = parsing.parse(rewrite)
    except ParseError as exc:
        reason = str(exc).splitlines()[0]
        raise _with_note(grammar_error, f"the LLM reader could not help: its rewrite {rewrite!r} does not parse "
                         f"({reason})") from None  # fmt: skip
    invented, unused = match_numbers(rewrite, text)
    if invented:
        shown = ", ".join(f"{v:g}" for v in invented)
        raise _with_note(
            grammar_error,
            f"the LLM reader could not help: its rewrite {rewrite!r} has numbers that are not in the text ({shown})",
        ) from None
    if unused:
        shown = ", ".join(f"{v:g}" for v in unused)
        raise _with_note(
            grammar_error,
            f"the LLM reader could not help: its rewrite {rewrite!r} leaves out numbers of the text ({shown})",
        ) from None
    note = f"{READ_AS}{rewrite} (the grammar could not read the text; the LLM reader rewrote it)"
    return Reading(replace(model, source=text, notes=(note, *model.notes)), rewrite)


def _with_note(error: ParseError, note: str) -> ParseError:
    return ParseError(f"{error}\n  ({note})")


# ----------------------------------------------------------------------------- the number rule
@dataclass(frozen=True)
class _Occurrence:
    """A number of the text: the values it permits, and whether the rewrite must use it."""

    values: tuple[float, ...]
    required: bool


def _occurrences(text: str) -> list[_Occurrence]:
    """The numbers of ``text`` in order: digits (required: a value the rewrite must use), with their percent and
    basis-point conversions, and numbers in words (optional: "one" may be part of "one factor"). Digits inside a
    family name the text mentions (``Black 76``, ``Heston 1993``) and years are optional too."""
    text = _TIME_ARGUMENT.sub(" ", text)
    named = _without_family_names(text)
    out = []
    for match in _NUMBER.finditer(text):
        value = float(match.group())
        after = text[match.end() :]
        values = [value]
        if _PERCENT.match(after):
            values.append(value / 100)
        elif _BASIS_POINTS.match(after):
            values.append(value / 10_000)
        in_name = named[match.start() : match.end()].strip() == ""
        year = value.is_integer() and 1900 <= value <= 2030
        out.append(_Occurrence(tuple(values), required=not (in_name or year)))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORDS:
            out.append(_Occurrence((_WORDS[word],), required=False))
    return out


def input_numbers(text: str) -> set[float]:
    """Every value ``text`` permits (its numbers, their percent and basis-point conversions, numbers in words)."""
    return {v for occurrence in _occurrences(text) for v in occurrence.values}


def rewrite_numbers(rewrite: str) -> list[float]:
    """The numbers of a rewrite, without those in its family name (``3/2``, ``G2++``, ``Black-76``) and without
    times (``X(0)``): magnitudes (a sign is an operator of the grammar)."""
    return [value for _, value in _rewrite_values(rewrite)]


def _rewrite_values(rewrite: str) -> list[tuple[str | None, float]]:
    """(the name a number is given to in ``name=value``, or None; the number) for each number of a rewrite."""
    body = _TIME_ARGUMENT.sub(" ", _without_family_name(rewrite))
    out: list[tuple[str | None, float]] = []
    for match in _NUMBER.finditer(body):
        named = re.search(r"([A-Za-z_]\w*)\s*[=:]\s*-?\s*$", body[: match.start()])
        out.append((named.group(1) if named else None, float(match.group())))
    return out


def family_defaults(rewrite: str) -> dict[str, float]:
    """The defaults (parameters, shapes, initial values) of the family a named rewrite names, by name; empty for
    equations."""
    name = _family_name(rewrite)
    if not name:
        return {}
    try:
        return parsing.catalog.choose(name).family.defaults()
    except ArchitectError:
        return {}


def match_numbers(rewrite: str, text: str) -> tuple[list[float], list[float]]:
    """(invented, unused): the numbers of ``rewrite`` that no number of ``text`` accounts for, and the numbers of
    ``text`` that the rewrite does not use.

    Each number of the text accounts for one number of the rewrite (as written, as a percentage or in basis
    points): a value the text gives once cannot fill two parameters. A number the text does not give is allowed
    only as the default of the very parameter it sets (``xi=0.3`` in Heston, whose default xi is 0.3). Every
    number of the text must be used (numbers in words, in a family name or that are years may be): a value left
    out would silently become the family's default, a misread worse than an error."""
    occurrences = _occurrences(text)
    free = list(range(len(occurrences)))
    numbers = _rewrite_values(rewrite)
    matched: dict[int, int] = {}
    # First each number to an occurrence it is the preferred reading of (3% -> 0.03, 3 -> 3), then to any reading.
    for preferred in (True, False):
        for k, (_, value) in enumerate(numbers):
            if k in matched:
                continue
            i = next((i for i in free if _reads_as(occurrences[i], value, preferred)), None)
            if i is not None:
                free.remove(i)
                matched[k] = i
    defaults = family_defaults(rewrite)
    invented = [
        value
        for k, (name, value) in enumerate(numbers)
        if k not in matched and (name is None or name not in defaults or not _same(value, abs(defaults[name])))
    ]
    unused = [occurrences[i].values[0] for i in free if occurrences[i].required]
    return invented, unused


def _reads_as(occurrence: _Occurrence, value: float, preferred: bool) -> bool:
    """Whether ``value`` is a reading of ``occurrence``: its preferred one (the converted value of ``3%``), or any."""
    readings = occurrence.values[-1:] if preferred else occurrence.values
    return any(_same(value, abs(v)) for v in readings)


def invented_numbers(rewrite: str, text: str) -> list[float]:
    """The numbers of ``rewrite`` that ``text`` does not give (see `match_numbers`)."""
    return match_numbers(rewrite, text)[0]


def unused_numbers(rewrite: str, text: str) -> list[float]:
    """The numbers of ``text`` that ``rewrite`` does not use (see `match_numbers`)."""
    return match_numbers(rewrite, text)[1]


def _without_family_names(text: str) -> str:
    """``text`` with every family name that has a digit in it blanked out (case and hyphens ignored), same length."""
    folded = _unhyphenated(text.lower())
    for name in _numbered_names():
        folded = folded.replace(name, " " * len(name))
    return folded


@functools.cache
def _numbered_names() -> tuple[str, ...]:
    names = {_unhyphenated(n.lower()) for f in parsing.catalog.FAMILIES for n in (f.key, f.display_name, *f.synonyms)}
    return tuple(sorted((n for n in names if any(c.isdigit() for c in n)), key=len, reverse=True))


def _unhyphenated(text: str) -> str:
    """Hyphens after a word as spaces (``black-76`` -> ``black 76``), not in a number (``8e-05``, ``-0.2``)."""
    return re.sub(r"(?<=[a-z0-9])-(?=[a-z])|(?<=[a-z]{2})-(?=[0-9])", " ", text)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _family_name(rewrite: str) -> str:
    """The longest start of a named rewrite that names a family (``Heston with mean reversion``); empty for
    equations and for a rewrite that names none."""
    if re.match(r"\s*d[A-Za-z_]\w*(?:\(t\))?\s*=", rewrite):
        return ""
    words = rewrite.split()
    for end in range(min(len(words), 8), 0, -1):
        name = " ".join(words[:end]).strip(" ,;:")
        if not name or "=" in name:
            continue
        try:
            parsing.catalog.choose(name)
        except ArchitectError:
            continue
        return name
    return ""


def _without_family_name(rewrite: str) -> str:
    name = _family_name(rewrite)
    return rewrite[rewrite.index(name) + len(name) :] if name else rewrite


# ----------------------------------------------------------------------------- the LLM
def _unavailable() -> str | None:
    """Why the LLM reader cannot run here, or None."""
    from architect.llm.generator import llm_stack_problem

    if (problem := llm_stack_problem()) is not None:
        return problem
    from architect.llm.weights import WeightsUnavailable, gguf_path

    try:
        gguf_path()
    except WeightsUnavailable as exc:
        return str(exc)
    return None


@functools.cache
def load_reader() -> Any:
    """The reader: the base model with the reader's adapter when it is installed (the base model alone
    otherwise), loaded once per process; a rewrite is one line, so at most `reading.MAX_NEW_TOKENS` tokens."""
    from architect.llm.generator import LocalGenerator
    from architect.llm.reading import MAX_NEW_TOKENS, reader_adapter

    return LocalGenerator(adapter=reader_adapter(), max_new_tokens=MAX_NEW_TOKENS)
