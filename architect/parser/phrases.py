"""Model names as words: ``Heston's model``, ``Schöbel-Zhu``, ``GBM with stochastic volatility and mean reversion``.

A name is matched word by word, case-insensitively, with accents folded (ö -> o), punctuation,
hyphens and dashes ignored, and filler words ("model", "process", "the") dropped. Each word keeps
its position in the text, so a message can point at the modifier it is about.

Modifiers are phrases that change the model ("with mean reversion", "with jumps", "with
stochastic volatility", "correlated", "zero correlation"); `split_modifiers` takes them out of
a name and returns what is left (the base family's name) and the modifiers found.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Words that carry no meaning in a model name.
FILLER_WORDS = frozenset({"model", "process", "the", "a", "an", "of", "sde", "dynamics"})
#: Words that may sit between the name and the overrides ("GBM with mu=0.1") or join modifiers.
CONNECTOR_WORDS = frozenset({"with", "where", "and", "using", "for", "params", "parameters", "plus", "including"})

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = "'\u2019"


@dataclass(frozen=True)
class Word:
    text: str  # folded: lower case, no accents
    start: int
    end: int


@dataclass(frozen=True)
class Modifier:
    key: str
    phrases: tuple[tuple[str, ...], ...]  # folded word sequences
    wording: str  # how messages name it


@dataclass(frozen=True)
class Found:
    modifier: Modifier
    start: int  # position of its first word in the text
    end: int


MODIFIERS: tuple[Modifier, ...] = (
    Modifier(
        "mean-reversion",
        (("mean", "reversion"), ("mean", "reverting"), ("mean", "revert"), ("meanreverting",)),
        "'with mean reversion'",
    ),
    Modifier(
        "stochastic-volatility",
        (("stochastic", "volatility"), ("stochastic", "vol"), ("stochastic", "variance"), ("sv",)),
        "'with stochastic volatility'",
    ),
    Modifier(
        "double-exponential-jumps",
        (("double", "exponential", "jumps"), ("kou", "jumps"), ("double", "exponential", "jump")),
        "'with double-exponential jumps'",
    ),
    Modifier("jumps", (("lognormal", "jumps"), ("merton", "jumps"), ("jumps",), ("jump",)), "'with jumps'"),
    Modifier(
        "zero-correlation",
        (
            ("zero", "correlation"),
            ("no", "correlation"),
            ("without", "correlation"),
            ("uncorrelated",),
            ("independent",),
            ("independent", "brownian", "motions"),
        ),
        "'zero correlation'",
    ),
    Modifier("correlated", (("correlated",), ("correlation",)), "'correlated'"),
)


def fold(word: str) -> str:
    """Lower case without accents: ``Schöbel`` -> ``schobel``."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words_of(text: str) -> list[Word]:
    """The meaningful words of a name, with positions; possessive 's and filler words dropped."""
    words = []
    for match in _WORD.finditer(text):
        word = fold(match.group())
        possessive = word == "s" and match.start() > 0 and text[match.start() - 1] in _APOSTROPHES
        if not possessive and word not in FILLER_WORDS:
            words.append(Word(word, match.start(), match.end()))
    return words


def key_of(words: list[Word]) -> str:
    """The matching key of a name: its words joined, trailing connectors dropped."""
    texts = [w.text for w in words]
    while texts and texts[-1] in CONNECTOR_WORDS:
        texts.pop()
    while texts and texts[0] in CONNECTOR_WORDS:
        texts.pop(0)
    return "".join(texts)


def normalise(phrase: str) -> str:
    """The matching key of a model name: lower case, no accents, punctuation or filler words."""
    return key_of(words_of(phrase))


def split_modifiers(words: list[Word]) -> tuple[list[Word], list[Found]]:
    """(the words that are not modifiers, the modifiers in text order)."""
    patterns = sorted(((m, phrase) for m in MODIFIERS for phrase in m.phrases), key=lambda mp: -len(mp[1]))
    rest: list[Word] = []
    found: list[Found] = []
    index = 0
    while index < len(words):
        match = _match_at(words, index, patterns)
        if match is None:
            rest.append(words[index])
            index += 1
            continue
        modifier, length = match
        found.append(Found(modifier, words[index].start, words[index + length - 1].end))
        index += length
    return [w for w in rest if w.text not in CONNECTOR_WORDS], found


def _match_at(
    words: list[Word], index: int, patterns: list[tuple[Modifier, tuple[str, ...]]]
) -> tuple[Modifier, int] | None:
    for modifier, phrase in patterns:
        candidate = tuple(w.text for w in words[index : index + len(phrase)])
        if candidate == phrase:
            return modifier, len(phrase)
    return None
