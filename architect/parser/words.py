"""Values after a model name, by name or in words: ``Heston with kappa 1.8, theta 2% and vol of vol 0.45``.

A value is a number (``0.45``, ``-0.7``, ``1e-3``), a percentage (``25%``, ``25 percent``), basis
points (``50 bp``) or, after ``=`` or ``:``, an expression (``log(100)``, ``0.2^2``). Its label is
a value's name (``kappa``, ``X0``, an alias such as ``S0``) or its description in words ("speed of
mean reversion", "vol of vol", "starting at"), found by longest match, before the value (``kappa
1.8``, ``volatility of 30%``) or right after it when nothing names it before (``30% volatility``).

Separators (commas, semicolons, new lines, ``and``, ``with``, ``where``) are optional. Words
that set nothing are ignored and said in a note; a label that could be two values is an error
naming both readings; a number nothing names, or a name the family does not have, is an error with
a caret.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from architect.errors import ParseError
from architect.parser.family_schema import Family
from architect.parser.lexer import SEPARATOR_WORDS, Kind, Token
from architect.parser.overrides import override_problem, target_of
from architect.parser.phrases import fold
from architect.parser.syntax import FUNCTIONS, Node, parse_expression

# ---------------------------------------------------------------------------- vocabulary
#: Descriptions in words by role: each family value gets its roles from its name and description (`roles_of`).
ROLE_PHRASES: dict[str, tuple[str, ...]] = {
    "speed": (
        "mean reverts at",
        "mean reverting at",
        "reverts at",
        "reverting at",
        "speed of mean reversion",
        "mean reversion speed",
        "speed of reversion",
        "reversion speed",
        "rate of mean reversion",
        "mean reversion rate",
        "strength of mean reversion",
        "mean reversion strength",
        "mean reversion",
        "reversion",
        "speed",
    ),
    "level": (
        "long run mean",
        "long run level",
        "long term mean",
        "long term level",
        "long run average",
        "long term average",
        "long run variance",
        "long term variance",
        "long run volatility",
        "long run vol",
        "long term volatility",
        "long run rate",
        "long term rate",
        "mean reversion level",
        "reversion level",
        "mean level",
        "equilibrium level",
        "equilibrium",
        "reverting to",
        "reverts to",
        "revert to",
        "reverting towards",
        "reverts towards",
        "reverting toward",
        "reverts toward",
        "pulled back to",
        "pulled towards",
        "pulled toward",
        "long run",
        "long term",
        "level",
        "mean",
    ),
    "volvol": (
        "vol of vol",
        "volatility of volatility",
        "volatility of vol",
        "volatility of variance",
        "vol of variance",
        "volvol",
        "vol vol",
        "variance volatility",
    ),
    "volatility": ("volatility", "vol", "diffusion coefficient"),
    "drift": ("drift", "expected return", "mean return", "return", "growth rate", "drift rate"),
    "correlation": ("correlation", "corr", "leverage"),
    "intensity": (
        "jump intensity",
        "jump rate",
        "jump frequency",
        "jump arrival rate",
        "arrival rate",
        "frequency of jumps",
        "jumps per year",
        "intensity",
    ),
    "jumpmean": (
        "mean jump",
        "mean jump size",
        "mean log jump",
        "mean log jump size",
        "average jump",
        "average jump size",
        "jump mean",
        "jump size mean",
        "mean of jumps",
        "mean",
    ),
    "jumpvol": (
        "jump volatility",
        "jump vol",
        "volatility of jumps",
        "jump size volatility",
        "jump std",
        "jump standard deviation",
        "standard deviation of jumps",
        "jump dispersion",
    ),
    "upprob": ("probability of up jump", "up jump probability", "up probability", "probability of upward jump"),
    "uprate": ("up jump rate", "upward rate", "rate of up jumps", "upward jump rate"),
    "downrate": ("down jump rate", "downward rate", "rate of down jumps", "downward jump rate"),
    "exponent": ("exponent", "elasticity", "cev exponent", "power", "backbone"),
    "shift": ("shift", "displacement"),
    "capacity": ("carrying capacity", "capacity"),
    "damping": ("damping", "damping coefficient", "friction"),
    "frequency": ("natural frequency", "angular frequency", "frequency"),
    "selection": ("selection coefficient", "selection"),
    "initial": (
        "initial value",
        "initial level",
        "starting value",
        "start value",
        "starting at",
        "starting from",
        "starts at",
        "starts from",
        "start at",
        "start from",
        "initial",
        "start",
        "current value",
        "current level",
        "today",
    ),
}
#: Phrases that name one value of a role more precisely: (phrase, role, qualifier the value's words must contain).
QUALIFIED_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("initial variance", "initial", "variance"),
    ("starting variance", "initial", "variance"),
    ("current variance", "initial", "variance"),
    ("spot variance", "initial", "variance"),
    ("initial volatility", "initial", "volatility"),
    ("initial vol", "initial", "volatility"),
    ("current volatility", "initial", "volatility"),
    ("initial price", "initial", "price"),
    ("spot price", "initial", "price"),
    ("current price", "initial", "price"),
    ("starting price", "initial", "price"),
    ("initial stock price", "initial", "price"),
    ("spot", "initial", "price"),
    ("initial rate", "initial", "rate"),
    ("initial short rate", "initial", "rate"),
    ("current rate", "initial", "rate"),
    ("starting rate", "initial", "rate"),
    ("initial forward", "initial", "forward"),
    ("initial convenience yield", "initial", "convenience"),
    ("initial velocity", "initial", "velocity"),
    ("forward", "initial", "forward"),
    ("long run variance", "level", "variance"),
    ("long term variance", "level", "variance"),
    ("long run volatility", "level", "volatility"),
    ("long run vol", "level", "volatility"),
    ("long term volatility", "level", "volatility"),
    ("long run rate", "level", "rate"),
    ("long term rate", "level", "rate"),
)
#: Nouns that may follow a label as "of the variance" and narrow it down.
QUALIFIER_NOUNS = frozenset(
    {"variance", "volatility", "vol", "price", "rate", "forward", "log", "stock", "spot", "convenience", "velocity"}
)
#: What each state variable is, in words (for "initial variance", "spot price").
STATE_NOUNS = {
    "S": "price stock spot",
    "x": "log price",
    "v": "variance",
    "u": "inverse variance",
    "sigma": "volatility vol",
    "r": "rate short rate",
    "F": "forward",
    "X": "value level",
    "delta": "convenience yield",
    "v1": "variance",
    "v2": "variance",
    "V": "velocity",
}
#: Words that join a label to its value or carry nothing ("kappa of 2", "volatility is 30%").
GLUE = frozenset(
    "of is at to equal equals set be a an the its per year years annual annualised annualized about around "
    "approximately roughly param parameter parameters params using for given by as use let take in i e "
    "value values s p model process sde dynamics".split()
)
#: Glue skipped inside a phrase ("speed of mean reversion" = "speed mean reversion").
_PHRASE_GLUE = frozenset({"of", "the", "a", "an"})
SCALES = {"%": 0.01, "percent": 0.01, "pct": 0.01, "bp": 1e-4, "bps": 1e-4}
#: Words that give the label after them the value 0 ("no drift", "zero correlation", "without drift").
NOUGHT_WORDS = frozenset({"no", "zero", "without"})


def _phrase_words(phrase: str) -> tuple[str, ...]:
    return tuple(w for w in re.findall(r"[^\W_]+", fold(phrase)) if w not in _PHRASE_GLUE)


@dataclass(frozen=True)
class Target:
    name: str  # an override name of the family
    description: str  # in words, for messages
    roles: frozenset[str]
    words: frozenset[str]  # the words qualifiers are checked against


@dataclass(frozen=True)
class Label:
    text: str  # as typed
    start: int
    end: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Amount:
    node: Node
    scale: float  # 0.01 for a percentage
    scale_word: str
    start: int
    end: int


@dataclass(frozen=True)
class Unknown:
    text: str
    start: int
    end: int


Item = Label | Amount | Unknown


def roles_of(family: Family, name: str, description: str) -> frozenset[str]:
    """The roles of one value, read off its name and description."""
    d = description.lower()
    if name in {s.name for s in family.shapes}:
        return frozenset({"exponent"})
    if name in family.initial_names():
        return frozenset({"initial"})
    checks = (
        ("correlation", "correlation"),
        ("volvol", "vol of vol"),
        ("volvol", "volatility of the volatility"),
        ("volvol", "volatility of the variance"),
        ("intensity", "jump intensity"),
        ("jumpmean", "mean log-jump"),
        ("jumpvol", "volatility of the log-jump"),
        ("upprob", "probability that a jump is upward"),
        ("uprate", "rate of upward"),
        ("downrate", "rate of downward"),
        ("speed", "speed of mean reversion"),
        ("speed", "mean-reversion coefficient"),
        ("level", "long-run"),
        ("level", "level the variance reverts to"),
        ("drift", "drift: "),
        ("drift", "drift per year"),
        ("drift", "drift of the rate"),
        ("volatility", "volatility"),
        ("drift", "growth rate"),
        ("shift", "shift"),
        ("capacity", "carrying capacity"),
        ("damping", "damping"),
        ("frequency", "angular frequency"),
        ("selection", "selection coefficient"),
    )
    for role, words in checks:
        if words in d and (role != "level" or d.startswith(words)):
            return frozenset({role})
    return frozenset()


@cache
def targets_of(family: Family) -> tuple[Target, ...]:
    """Every value of the family that words can set, with its roles."""
    found: list[Target] = []
    initial_aliases = {a.target for a in family.aliases if a.target in family.initial_names()}
    for parameter in family.parameters:
        words = f"{parameter.name} {parameter.description}".lower()
        found.append(
            Target(
                parameter.name,
                parameter.description,
                roles_of(family, parameter.name, parameter.description),
                _set(words),
            )
        )
    for shape in family.shapes:
        found.append(Target(shape.name, shape.description, frozenset({"exponent"}), _set(shape.description)))
    for variable, _ in family.initial:
        name = f"{variable}0"
        nouns = STATE_NOUNS.get(variable, "")
        roles = frozenset() if name in initial_aliases else frozenset({"initial"})
        found.append(Target(name, f"initial value of {variable}", roles, _set(f"{name} {nouns}")))
    for alias in family.aliases:
        if alias.target in family.initial_names():
            nouns = "price stock spot" if alias.name == "S0" else STATE_NOUNS.get(alias.name[:-1], "")
            found.append(
                Target(alias.name, alias.description, frozenset({"initial"}), _set(f"{alias.description} {nouns}"))
            )
        else:
            found.append(Target(alias.name, alias.description, frozenset(), _set(alias.description)))
    return tuple(found)


def _set(words: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+", fold(words)))


@cache
def phrases_of(family: Family) -> tuple[tuple[tuple[str, ...], tuple[Target, ...]], ...]:
    """(phrase words, the values it may set), longest phrases first."""
    targets = targets_of(family)
    table: dict[tuple[str, ...], list[Target]] = {}
    for role, phrases in ROLE_PHRASES.items():
        having = [t for t in targets if role in t.roles]
        for phrase in phrases:
            if having:
                table.setdefault(_phrase_words(phrase), []).extend(having)
    for phrase, role, qualifier in QUALIFIED_PHRASES:
        having = [t for t in targets if role in t.roles and qualifier in t.words]
        if having:
            table[_phrase_words(phrase)] = having
    ordered = sorted(table.items(), key=lambda item: -len(item[0]))
    return tuple((words, tuple(dict.fromkeys(found))) for words, found in ordered)


@cache
def union_phrases() -> frozenset[tuple[str, ...]]:
    """Every phrase of every role (to tell where a model name stops)."""
    return frozenset(_phrase_words(p) for phrases in ROLE_PHRASES.values() for p in phrases) | frozenset(
        _phrase_words(p) for p, _, _ in QUALIFIED_PHRASES
    )


# ---------------------------------------------------------------------------- reading
@dataclass
class Reading:
    """The values read (override name -> value), where each one starts, and notes."""

    values: dict[str, float]
    positions: dict[str, int]
    notes: list[str]
    ignored: list[tuple[str, int, int]]  # (word, start, end) of each word that set nothing


class _Scanner:
    def __init__(self, family: Family, tokens: Sequence[Token], text: str) -> None:
        self.family = family
        self.tokens = [t for t in tokens if t.kind is not Kind.END]
        self.end = tokens[-1].position if tokens else len(text)
        self.text = text
        self.phrases = phrases_of(family)
        self.names = {n.lower(): n for n in family.override_names()}
        self.targets = {t.name: t for t in targets_of(family)}
        self.states = frozenset(fold(name) for name in family.state)

    def fail(self, reason: str, position: int) -> ParseError:
        return ParseError(reason, self.text, position)

    # ------------------------------------------------------------ items
    def segments(self) -> list[list[Item]]:
        """The items between separators."""
        segments: list[list[Item]] = [[]]
        i, between = 0, False
        while i < len(self.tokens):
            token = self.tokens[i]
            if self._is_separator(token, between):
                segments.append([])
                between = False
                i += 1
                continue
            item, i = self._item(i)
            if item is not None:
                segments[-1].append(item)
                between = between or (isinstance(item, Unknown) and item.text.lower() == "between")
        return [s for s in segments if s]

    def _is_separator(self, token: Token, between: bool) -> bool:
        if token.kind is Kind.NEWLINE or token.is_op(",", ";", "(", ")"):
            return True
        if token.is_name("and") and between:
            return False
        return token.is_name(*SEPARATOR_WORDS, "while", "plus", "also")

    def _item(self, i: int) -> tuple[Item | None, int]:
        token = self.tokens[i]
        if token.kind is Kind.OTHER and token.text == ":" and not self._value_follows(i + 1):
            return None, i + 1  # "Heston: kappa 2", "CIR: r0 = 2%": a colon after a name separates nothing
        if token.is_op("=") or (token.kind is Kind.OTHER and token.text == ":"):
            return self._assigned(i + 1, token)
        if self._starts_amount(i):
            return self._amount(i)
        if token.kind is Kind.OTHER and token.text == "%":
            raise self.fail("a percent sign must follow a number, as in 25%", token.position)
        if token.kind is Kind.NAME:
            return self._label_or_word(i)
        if token.is_op("-", "+"):
            return None, i + 1  # a hyphen or dash between words ("long-run", "Heston - kappa 2"), a name's "G2++"
        if token.kind is Kind.OTHER:
            return None, i + 1  # punctuation: "Heston's", "model."
        raise self.fail(
            f"unexpected {token.text!r} here: after a model name come values such as 'kappa 2'", token.position
        )

    def _value_follows(self, i: int) -> bool:
        if i >= len(self.tokens):
            return False
        token = self.tokens[i]
        return self._starts_amount(i) or token.is_op("(", "-", "+") or token.text in FUNCTIONS or token.text == "pi"

    def _starts_amount(self, i: int) -> bool:
        token = self.tokens[i]
        if token.kind is Kind.NUMBER:
            return True
        following = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        return token.is_op("-", "+") and following is not None and following.kind is Kind.NUMBER

    def _amount(self, i: int) -> tuple[Amount, int]:
        """A number with an optional sign, operators and functions (``-0.7``, ``3/100``, ``0.2^2``) and a unit."""
        start = i
        depth = 0
        expect_operand = True
        while i < len(self.tokens):
            token = self.tokens[i]
            if token.kind is Kind.NUMBER and expect_operand:
                expect_operand = False
            elif token.is_op("-", "+", "*", "/", "^") and not (token.is_op("*", "/", "^") and expect_operand):
                if self._is_unit_or_word(i + 1) and token.is_op("-"):
                    break
                expect_operand = True
            elif token.is_op("(") and expect_operand:
                depth += 1
            elif token.is_op(")") and depth > 0 and not expect_operand:
                depth -= 1
            elif token.kind is Kind.NAME and expect_operand and (token.text in FUNCTIONS or token.text == "pi"):
                if token.text != "pi" and not (i + 1 < len(self.tokens) and self.tokens[i + 1].is_op("(")):
                    break
                expect_operand = token.text != "pi"
            else:
                break
            i += 1
        stop = i
        while stop > start + 1 and (self.tokens[stop - 1].kind is Kind.OP and self.tokens[stop - 1].text != ")"):
            stop -= 1
        while depth > 0 and stop > start:  # an unclosed "(": give back what follows it
            stop -= 1
            depth -= self.tokens[stop].is_op("(") - self.tokens[stop].is_op(")")
        node = parse_expression(self.tokens[start:stop], self.text, self.tokens[stop - 1].end)
        return self._with_unit(node, start, stop)

    def _is_unit_or_word(self, i: int) -> bool:
        return i < len(self.tokens) and self.tokens[i].kind is Kind.NAME and self.tokens[i].text not in FUNCTIONS

    def _with_unit(self, node: Node, start: int, stop: int) -> tuple[Amount, int]:
        begin, finish = self.tokens[start].position, self.tokens[stop - 1].end
        if stop < len(self.tokens):
            unit = self.tokens[stop]
            word = unit.text.lower()
            if unit.kind is Kind.OTHER and unit.text == "%":
                return Amount(node, 0.01, "%", begin, unit.end), stop + 1
            if unit.kind is Kind.NAME and word in SCALES:
                return Amount(node, SCALES[word], word, begin, unit.end), stop + 1
            following = self.tokens[stop + 1].text.lower() if stop + 1 < len(self.tokens) else ""
            if unit.kind is Kind.NAME and word == "per" and following == "cent":
                return Amount(node, 0.01, "percent", begin, self.tokens[stop + 1].end), stop + 2
            if word == "basis" and following == "points":
                return Amount(node, 1e-4, "basis points", begin, self.tokens[stop + 1].end), stop + 2
        return Amount(node, 1.0, "", begin, finish), stop

    def _assigned(self, i: int, sign: Token) -> tuple[Item, int]:
        """After ``=`` or ``:``: an expression up to the next separator or ``name =`` (``log(100)``, ``theta``)."""
        if i < len(self.tokens) and self.tokens[i].kind is Kind.OTHER and self.tokens[i].text == "%":
            raise self.fail("a percent sign must follow a number, as in 25%", self.tokens[i].position)
        if i < len(self.tokens) and self._starts_amount(i):
            return self._amount(i)
        start, depth = i, 0
        while i < len(self.tokens):
            token = self.tokens[i]
            depth += token.is_op("(") - token.is_op(")")
            if depth < 0 or (depth == 0 and not token.is_op("(", ")") and self._is_separator(token, False)):
                break
            if depth == 0 and i > start and token.kind is Kind.NAME and self.tokens[i - 1].kind is not Kind.OP:
                break
            i += 1
        if i == start:
            raise self.fail(f"nothing after {sign.text!r}: expected a value", sign.position)
        node = parse_expression(self.tokens[start:i], self.text, self.tokens[i - 1].end)
        return self._with_unit(node, start, i)

    def _label_or_word(self, i: int) -> tuple[Item, int]:
        token = self.tokens[i]
        raw = self.text[token.position : token.end]
        # X(0), r(0): an initial value
        if i + 3 < len(self.tokens) and self.tokens[i + 1].is_op("(") and self.tokens[i + 3].is_op(")"):
            inner = self.tokens[i + 2]
            if inner.kind is Kind.NUMBER and float(inner.text) == 0:
                name = self._name(token.text.removesuffix("_t") + "0")
                if name is not None:
                    return self._label(name, raw + "(0)", token.position, self.tokens[i + 3].end), i + 4
        name = self._name(token.text)
        if name is not None:
            return self._label(name, raw, token.position, token.end), i + 1
        words, indices = self._words_from(i)
        for phrase, targets in self.phrases:
            if tuple(words[: len(phrase)]) == phrase:
                last = indices[len(phrase) - 1]
                label = Label(
                    self.text[token.position : self.tokens[last].end], token.position, self.tokens[last].end, targets
                )
                return self._qualified(label, last + 1)
        return Unknown(raw, token.position, token.end), i + 1

    def _name(self, typed: str) -> str | None:
        if typed in self.names.values():
            return typed
        if typed.endswith("_0") and typed[:-2] + "0" in self.names.values():
            return typed[:-2] + "0"
        return self.names.get(typed.lower())

    def _label(self, name: str, typed: str, start: int, end: int) -> Label:
        target = self.targets.get(name) or Target(name, name, frozenset(), frozenset())
        return Label(typed, start, end, (target,))

    def _words_from(self, i: int, limit: int = 8) -> tuple[list[str], list[int]]:
        """The next few words (folded, phrase glue and hyphens skipped) and their token indices."""
        words: list[str] = []
        indices: list[int] = []
        while i < len(self.tokens) and len(words) < limit:
            token = self.tokens[i]
            if token.kind is Kind.NAME and token.text not in SEPARATOR_WORDS:
                word = fold(token.text)
                if word not in _PHRASE_GLUE:
                    words.extend(w for w in word.split("_") if w)
                    indices.extend(i for w in word.split("_") if w)
            elif not (token.is_op("-") or (token.kind is Kind.OTHER and token.text in "'\u2019")):
                break
            i += 1
        return words, indices

    def _qualified(self, label: Label, i: int) -> tuple[Label, int]:
        """Narrow a label by what follows it: "of the variance", "between price and variance"."""
        targets, end = label.targets, label.end
        while i < len(self.tokens):
            j = i
            while (
                j < len(self.tokens)
                and self.tokens[j].kind is Kind.NAME
                and fold(self.tokens[j].text)
                in {
                    "of",
                    "the",
                    "for",
                    "in",
                    "between",
                    "and",
                }
            ):
                j += 1
            if j == i or j >= len(self.tokens) or self.tokens[j].kind is not Kind.NAME:
                break
            noun = fold(self.tokens[j].text)
            known = QUALIFIER_NOUNS | self.states  # "speed of mean reversion of v1"
            if noun not in known and not (noun in {"price", "log"} or len(targets) == 1):
                break
            if noun not in known:
                break
            narrowed = tuple(t for t in targets if noun in t.words or noun.rstrip("s") in t.words)
            if narrowed and any("correlation" not in t.roles for t in targets):
                targets = narrowed
            end, i = self.tokens[j].end, j + 1
        return Label(self.text[label.start : end], label.start, end, targets), i


def read_values(family: Family, tokens: Sequence[Token], text: str) -> Reading:
    """The values after a family's name: ``tokens`` run from the first value-ish token to END."""
    scanner = _Scanner(family, tokens, text)
    reading = Reading({}, {}, [], [])
    ignored: list[Unknown | Label] = []
    pairs: list[tuple[Label, Amount]] = []
    for segment in scanner.segments():
        pairs += _pair(segment, ignored, scanner)
    for label, amount in pairs:
        _store(family, label, amount, reading, scanner)
    reading.ignored = [(u.text, u.start, u.end) for u in ignored]
    shown = [u.text for u in ignored if u.text.lower() not in GLUE]
    if shown:
        reading.notes.append(f"ignored (sets no value of {family.display_name}): {', '.join(repr(s) for s in shown)}")
    return reading


def _pair(segment: list[Item], ignored: list[Unknown | Label], scanner: _Scanner) -> list[tuple[Label, Amount]]:
    """Labels with values: a value takes the label before it, or, when there is none, the label right after it."""
    items = [item for item in segment if not (isinstance(item, Unknown) and item.text.lower() in GLUE)]
    if not any(isinstance(item, Amount) for item in items) and not _has_nought(items):
        labels = [item for item in items if isinstance(item, Label)]
        if labels and len(labels) == len(items) and all(_names_a_state(label) for label in labels):
            ignored.extend(Unknown(label.text, label.start, label.end) for label in labels)  # "Black-76 forward, …"
            return []
        if (label := next((item for item in items if isinstance(item, Label)), None)) is not None:
            reason = f"{label.text!r} is given no value: write it with a number, e.g. '{label.text} 0.5'"
            raise scanner.fail(reason, label.start)
        ignored.extend(item for item in items if isinstance(item, Unknown))
        return []
    pairs: list[tuple[Label, Amount]] = []
    pending: list[Label] = []
    unknown: list[Unknown] = []
    index = 0
    while index < len(items):
        item = items[index]
        if isinstance(item, Label):
            if unknown and fold(unknown[-1].text) in NOUGHT_WORDS and not pending and _noughtable(item):
                pairs.append((item, _nought(unknown.pop(), item)))  # "no drift", "zero correlation"
                ignored.extend(unknown)
                unknown = []
            else:
                if unknown and not pending:
                    item = _narrowed_by(item, unknown)  # "the variance starts at", "the second factor reverts"
                pending.append(item)
        elif isinstance(item, Unknown):
            unknown.append(item)
        else:
            if pending:
                pairs.append((_one_label(pending, scanner), item))
                ignored.extend(unknown)
            elif (after := _label_after(items, index)) is not None:
                pairs.append((items[after], item))  # type: ignore[arg-type]
                ignored.extend(unknown)
                ignored.extend(u for u in items[index + 1 : after] if isinstance(u, Unknown))
                index = after
            elif unknown:
                raise scanner.fail(_unknown_word_reason(scanner.family, unknown[-1].text), unknown[-1].start)
            else:
                reason = f"{scanner.text[item.start : item.end]!r} has no name: say what it sets, e.g. " + _example(
                    scanner.family
                )
                raise scanner.fail(reason, item.start)
            pending, unknown = [], []
        index += 1
    if pending:
        label = pending[0]
        raise scanner.fail(
            f"{label.text!r} is given no value: write it with a number, e.g. '{label.text} 0.5'", label.start
        )
    ignored.extend(unknown)
    return pairs


def _names_a_state(label: Label) -> bool:
    """A bare noun that names what is modelled ("forward", "spot", "price") rather than a value to set."""
    return fold(label.text) in QUALIFIER_NOUNS and all("initial" in t.roles for t in label.targets)


def _has_nought(items: list[Item]) -> bool:
    return any(
        isinstance(a, Unknown) and fold(a.text) in NOUGHT_WORDS and isinstance(b, Label) and _noughtable(b)
        for a, b in itertools.pairwise(items)
    )


def _noughtable(label: Label) -> bool:
    """ "zero correlation" is the catalog's modifier (it sets every correlation and clashes with "correlated"),
    not a value: the modifier reads it."""
    return not any("correlation" in t.roles for t in label.targets)


def _nought(word: Unknown, label: Label) -> Amount:
    """The value 0 that "no" or "zero" gives the label after it."""
    zero = Token(Kind.NUMBER, "0", word.start, word.end)
    return Amount(parse_expression([zero], word.text, word.end), 1.0, "", word.start, label.end)


def _narrowed_by(label: Label, before: list[Unknown]) -> Label:
    """A label that could be several values, narrowed by the words typed just before it (at most three, the
    nearest first): "the variance starts at 0.05", "the second factor reverts at speed 0.03". A word narrows
    only when some but not all of the label's values have it in their name or description; the words used are
    taken out of ``before`` (they set something)."""
    targets, start = label.targets, label.start
    for word in reversed(before[-3:]):
        if len(targets) < 2:
            break
        folded = fold(word.text)
        narrowed = tuple(t for t in targets if folded in t.words or folded.rstrip("s") in t.words)
        if narrowed and len(narrowed) < len(targets):
            targets, start = narrowed, word.start
            before.remove(word)
    return label if targets == label.targets else Label(label.text, start, label.end, targets)


def _label_after(items: list[Item], index: int) -> int | None:
    """The index of the label that names the value at ``index`` from after it ("18% diffusion volatility")."""
    for after in range(index + 1, len(items)):
        if isinstance(items[after], Label):
            return after
        if not isinstance(items[after], Unknown):
            return None
    return None


def _one_label(pending: list[Label], scanner: _Scanner) -> Label:
    """Several labels before one value: they must name the same thing ("volatility sigma 0.2")."""
    names = {tuple(t.name for t in label.targets) for label in pending}
    if len(names) == 1:
        return pending[-1]
    last = pending[-1]
    words = [Unknown(label.text, label.start, label.end) for label in pending[:-1]]
    if len(narrowed := _narrowed_by(last, words).targets) == 1:  # "spot volatility 35%": a noun before a label
        return Label(scanner.text[pending[0].start : last.end], pending[0].start, last.end, narrowed)
    common = set.intersection(*({t.name for t in label.targets} for label in pending))
    if common:  # "reverts at speed 0.03" after "the second factor": what every label can be
        last = pending[-1]
        targets = tuple(t for t in last.targets if t.name in common)
        return Label(scanner.text[pending[0].start : last.end], pending[0].start, last.end, targets)
    first = pending[0]
    raise scanner.fail(
        f"{first.text!r} is given no value: write it with a number, e.g. '{first.text} 0.5'", first.start
    )


def _example(family: Family) -> str:
    first = family.parameters[0] if family.parameters else None
    return f"'{first.name} 0.5' or '{first.description} 0.5'" if first else "'X0 1'"


def _unknown_word_reason(family: Family, word: str) -> str:
    known = family.override_names()
    close = difflib.get_close_matches(word, known, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
    described = "; ".join(f"{t.name} ({t.description})" for t in targets_of(family))
    return f"{family.display_name} has no parameter {word!r}{hint} Its values: {', '.join(known)} [{described}]"


def _store(family: Family, label: Label, amount: Amount, reading: Reading, scanner: _Scanner) -> None:
    from architect.parser.values import numeric_value

    if len(label.targets) > 1:
        readings = " or ".join(f"{t.name} ({t.description})" for t in label.targets)
        reason = f"{label.text!r} could be {readings}: name it, e.g. {label.targets[0].name}=..."
        raise scanner.fail(reason, label.start)
    name = label.targets[0].name
    if name not in family.override_names():
        raise scanner.fail(_unknown_word_reason(family, name), label.start)
    if amount.scale != 1.0 and (problem := _unit_problem(family, name, amount.scale_word)) is not None:
        raise scanner.fail(problem, amount.start)
    value = numeric_value(amount.node, scanner.text, name) * amount.scale
    target = target_of(family, name)
    if target in {target_of(family, given) for given in reading.values}:
        raise scanner.fail(f"{name} is given twice", label.start)
    if (why := override_problem(family, name, value)) is not None:
        raise scanner.fail(why, amount.start)
    reading.values[name] = value
    reading.positions[name] = reading.positions[target] = amount.start
    typed = fold(label.text)
    if typed not in {name.lower(), name.lower().replace("0", "_0")} and not typed.endswith("(0)"):
        reading.notes.append(f"{label.text!r} is read as {name} = {value:g}")


def _unit_problem(family: Family, name: str, unit: str) -> str | None:
    if name in {s.name for s in family.shapes}:
        return f"{name} is an exponent: a {unit} value makes no sense here; write it as a number, e.g. {name}=0.5"
    if name == "S0" or (name == "x0" and any(a.name == "S0" for a in family.aliases)):
        return f"{name} is a price level, not a rate: write it as a number, e.g. {name}=100"
    return None
