"""The reader's corpus: paraphrases of models -> architect's canonical syntax (issue #19, item 5).

Every example is drawn from the catalog (`architect.parser.families`: synonyms, parameter names and their
one-line descriptions, defaults) by templates over word orders, synonyms of the parameters' descriptions,
percentages and basis points, "starting at", units and filler text, plus equations described in words. The answer
is the canonical text (``GBM mu=0.07 sigma=0.22 S0=42``, ``dX = 0.5*(2 - X)*dt + 0.3*dW, X0 = 1``); an example is
kept only when the grammar parses the answer and the answer passes the reader's own number rules against the
text (`architect.pipeline.reader.invented_numbers` and `unused_numbers`), so the corpus never teaches an invented
or a dropped value.

The held-out phrasings (tests/acceptance/phrasings.jsonl and reader_phrasings.jsonl, written by hand) are never
generated: `build` drops any text equal to one of them after normalisation, and a test checks the corpus.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from architect.errors import ArchitectError
from architect.llm import reading
from architect.model import Parameter
from architect.parser import catalog, parse
from architect.parser.family_schema import Family
from architect.pipeline.reader import invented_numbers, unused_numbers

GENERATOR_VERSION = "architect-reader-corpus/2"  # 2: every number of the text is used (unused_numbers)
ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = (ROOT / "tests" / "acceptance" / "phrasings.jsonl", ROOT / "tests" / "acceptance" / "reader_phrasings.jsonl")

PREFIXES = (
    "", "", "", "simulate ", "please simulate ", "I need ", "I want to simulate ", "build me ", "a model of ",
    "for my backtest, ", "could you generate ", "set up ", "give me ", "let's use ", "run ", "we model prices with ",
    "my desk uses ", "price it under ", "consider ", "take ",
)  # fmt: skip
CONNECTORS = (" with ", ", ", ": ", " where ", " having ", " using ", " - ", " (", " in which ", " and ")
JOINERS = (", ", " and ", "; ", " ", ", with ", ", plus ")
SUFFIXES = ("", "", "", ".", " please", " for a Monte Carlo study", " in my simulation", " thanks", "!")
UNITS = ("", "", "", " per year", " per annum", " annualised", " a year", " yearly")

#: Words of a parameter's description -> other ways users say it (the description itself is always a choice).
SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("correlation", ("correlation", "corr", "rho", "correl.", "the correlation")),
    ("jump intensity", ("jump intensity", "jump rate", "jump frequency", "jumps per year", "arrival rate of jumps")),
    ("mean log-jump", ("mean jump", "average log jump", "mean jump size", "expected log jump")),
    ("volatility of the log-jump", ("jump volatility", "jump vol", "std of jumps", "jump size volatility")),
    ("vol of vol", ("vol of vol", "vol-of-vol", "volvol", "volatility of volatility")),
    ("volatility of the variance", ("vol of vol", "variance volatility", "volatility of variance")),
    ("volatility of the volatility", ("vol of vol", "volvol", "vol-of-vol")),
    ("speed of mean reversion", ("speed of mean reversion", "mean reversion speed", "reversion speed",
                                 "mean-reversion rate", "reversion rate", "mean reversion", "pull-back speed")),
    ("long-run variance", ("long-run variance", "long-term variance", "variance level", "mean variance")),
    ("long-run", ("long-run level", "long-term level", "long run mean", "equilibrium level", "mean level")),
    ("expected return", ("drift", "expected return", "annual return", "mean return", "growth rate")),
    ("drift", ("drift", "trend")),
    ("volatility", ("volatility", "vol", "sigma", "diffusion coefficient", "noise level")),
    ("carrying capacity", ("carrying capacity", "capacity", "saturation level")),
    ("growth rate", ("growth rate", "rate of growth", "intrinsic growth")),
    ("probability", ("probability of an up jump", "up-jump probability", "chance of an upward jump")),
    ("shift", ("shift", "displacement")),
    ("damping", ("damping", "friction")),
    ("frequency", ("frequency", "natural frequency", "angular frequency")),
    ("selection", ("selection", "selection coefficient", "fitness advantage")),
    ("mutation rate towards", ("mutation rate towards the allele", "forward mutation rate")),
    ("mutation rate away", ("mutation rate away from the allele", "backward mutation rate")),
)  # fmt: skip
#: Descriptions that are about a rate, a volatility or a return: their values may be written as percentages.
PERCENT_WORDS = ("volatility", "rate", "return", "drift", "level", "variance", "yield", "mean", "vol")


@dataclass(frozen=True)
class Pair:
    text: str
    canonical: str
    family: str  # the family key, or "equations"

    def record(self) -> dict[str, object]:
        return {
            "kind": "reader",
            "family": self.family,
            "text": self.text,
            "messages": reading.messages(self.text),
            "completion": self.canonical,
        }


# ----------------------------------------------------------------------------- values in words
def value_word(value: float, description: str, rng: random.Random) -> str:
    """A value as users type it: plain, as a percentage or in basis points where that is natural."""
    percent_like = any(w in description.lower() for w in PERCENT_WORDS) and 0 < abs(value) < 1
    roll = rng.random()
    if percent_like and roll < 0.45:
        pct = round(value * 100, 6)
        return rng.choice((f"{pct:g}%", f"{pct:g}%", f"{pct:g} percent", f"{pct:g} pct", f"{pct:g}% "))
    if percent_like and abs(value) < 0.03 and roll < 0.6:
        return rng.choice((f"{round(value * 10_000, 6):g}bp", f"{round(value * 10_000, 6):g} bps",
                           f"{round(value * 10_000, 6):g} basis points"))  # fmt: skip
    return f"{value:g}"


def description_words(p: Parameter, family: Family, rng: random.Random) -> str:
    """How a text calls a parameter: its name, its description, or a synonym of the description (only when no
    other parameter of the family has the same synonyms: "vol of vol" of a two-factor model is ambiguous)."""
    description = p.description.split(" (")[0].split(";")[0].strip()
    description = re.sub(r"^drift: ", "", description)
    choices = [p.name, p.name] + ([description] if not any(c.isdigit() for c in description) else [])
    key = _synonym_key(p)
    if key is not None and sum(_synonym_key(q) == key for q in family.parameters) == 1:
        choices += list(dict(SYNONYMS)[key])
    return rng.choice(choices)


def _synonym_key(p: Parameter) -> str | None:
    return next((key for key, _ in SYNONYMS if key in p.description.lower()), None)


def value_phrase(label: str, value: str, rng: random.Random) -> str:
    form = rng.randrange(10)
    if form == 0:
        return f"{label}={value}"
    if form == 1:
        return f"{label} = {value}"
    if form == 2:
        return f"{label}: {value}"
    if form == 3:
        return f"{label} of {value}"
    if form == 4:
        return f"{label} is {value}"
    if form == 5:
        return f"{label} equal to {value}"
    if form == 6 and not label.startswith(("rho", "correl")):
        return f"{value} {label}"
    if form == 7:
        return f"{label} at {value}"
    if form == 8:
        return f"{label} set to {value}"
    return f"{label} {value}"


def initial_phrase(name: str, value: str, rng: random.Random, price: bool = False) -> str:
    forms = [f"starting at {value}", f"{name}0 = {value}", f"{name}0={value}", f"initial value {value}",
             f"from {value}", f"{name}(0) = {value}", f"starting from {value}", f"initial {name} {value}",
             f"which starts at {value}", f"with {name} starting at {value}"]  # fmt: skip
    if price:
        forms += [f"spot {value}", f"spot price {value}", f"initial price {value}", f"today's price {value}",
                  f"current price of {value}", f"S0 = {value}"]  # fmt: skip
    return rng.choice(forms)


# ----------------------------------------------------------------------------- named models
def random_value(p: Parameter, rng: random.Random) -> float:
    if p.constraint == "correlation":
        return round(rng.uniform(-0.9, 0.9), rng.choice((1, 2)))
    scale = p.value if p.value else 0.1
    value = abs(scale) * rng.uniform(0.3, 2.5)
    if p.constraint == "real" and rng.random() < 0.3:
        value = -value
    digits = rng.choice((1, 2, 2, 3))
    rounded = float(f"{value:.{digits}g}")
    return rounded or abs(scale)


def named_pair(family: Family, rng: random.Random) -> Pair | None:
    parameters = list(family.parameters)
    count = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))
    chosen = rng.sample(parameters, k=min(count, len(parameters)))
    phrases, canonical = [], []
    for p in chosen:
        value = random_value(p, rng)
        word = value_word(value, p.description, rng)
        unit = rng.choice(UNITS) if "per year" in p.description or "volatility" in p.description else ""
        phrases.append(value_phrase(description_words(p, family, rng), word + unit, rng))
        canonical.append(f"{p.name}={value:g}")
    if rng.random() < 0.35:
        initial = _initial(family, rng)
        if initial is not None:
            name, value, price = initial
            phrases.append(initial_phrase(name, f"{value:g}", rng, price))
            canonical.append(f"{name}0={value:g}")
    rng.shuffle(order := list(range(len(phrases))))
    phrases = [phrases[i] for i in order]
    name = rng.choice(family.synonyms)
    name = name.lower() if rng.random() < 0.25 else name
    body = ""
    for i, phrase in enumerate(phrases):
        body += phrase if i == 0 else rng.choice(JOINERS) + phrase
    if not body:
        text = rng.choice(PREFIXES) + rng.choice(("", "a ", "the ")) + name + rng.choice(("", " model", " process"))
    elif rng.random() < 0.2:
        text = f"{body}, {rng.choice(('under', 'in', 'for', 'using'))} {name}"
    else:
        connector = rng.choice(CONNECTORS)
        closing = ")" if connector == " (" else ""
        text = rng.choice(PREFIXES) + name + rng.choice(("", " model", " process", " dynamics")) + connector
        text += body + closing
    text += rng.choice(SUFFIXES)
    return Pair(text, " ".join([family.label, *canonical]), family.key)


def _initial(family: Family, rng: random.Random) -> tuple[str, float, bool] | None:
    """A random initial value: of the price for a log-price family (``S0``), else of a state variable."""
    aliases = {a.name for a in family.aliases}
    if "S0" in aliases:
        return "S", float(rng.choice((50, 80, 90, 100, 120, 150, 42, 63.5, 250, 1000))), True
    if not family.initial:
        return None
    name, default = rng.choice(family.initial)
    if name in {"x", "y"} and family.key not in {"g2pp"}:
        return None
    base = abs(default) or 1.0
    value = float(f"{base * rng.uniform(0.5, 2.0):.2g}")
    return name, value, name in {"S", "F"}


# ----------------------------------------------------------------------------- equations in words
def equation_pair(rng: random.Random) -> Pair:
    """A one-factor SDE with numeric coefficients, described in words or loosely typed."""
    x = rng.choice(("X", "Y", "S", "r", "v", "x", "Z", "P"))
    a, b, c = (float(f"{rng.uniform(0.1, 3):.2g}") for _ in range(3))
    kind = rng.randrange(5)
    if kind == 0:  # mean reversion
        drift_c, drift_w = (
            f"{a:g}*({b:g} - {x})",
            rng.choice((f"{a:g} times ({b:g} minus {x})", f"{a:g}({b:g} - {x})", f"{a:g}*({b:g}-{x})")),
        )
    elif kind == 1:  # proportional
        drift_c, drift_w = f"{a:g}*{x}", rng.choice((f"{a:g} {x}", f"{a:g} times {x}", f"{a:g}*{x}"))
    elif kind == 2:  # linear decay
        drift_c, drift_w = f"-{a:g}*{x}", rng.choice((f"-{a:g} {x}", f"minus {a:g} times {x}", f"-{a:g}*{x}"))
    elif kind == 3:  # constant
        drift_c, drift_w = f"{a:g}", f"{a:g}"
    else:
        drift_c, drift_w = f"{a:g} - {b:g}*{x}", rng.choice((f"{a:g} minus {b:g} {x}", f"{a:g} - {b:g}{x}"))
    diff = rng.randrange(3)
    if diff == 0:
        diff_c, diff_w = f"{c:g}", f"{c:g}"
    elif diff == 1:
        diff_c, diff_w = f"{c:g}*{x}", rng.choice((f"{c:g} {x}", f"{c:g} times {x}", f"{c:g}*{x}"))
    else:
        diff_c, diff_w = (
            f"{c:g}*sqrt({x})",
            rng.choice((f"{c:g} sqrt({x})", f"{c:g} times the square root of {x}", f"{c:g}*sqrt({x})")),
        )
    x0 = float(f"{rng.uniform(0.1, 5):.2g}")
    start = rng.choice((f"starting at {x0:g}", f"{x}0 = {x0:g}", f"{x}(0) = {x0:g}", f"{x} starts at {x0:g}",
                        f"initial value {x0:g}", f"{x}0 equal to {x0:g}", f"from {x}={x0:g}"))  # fmt: skip
    form = rng.randrange(6)
    if form == 0:
        text = f"d{x} equals {drift_w} dt plus {diff_w} dW, {start}"
    elif form == 1:
        text = f"the process {x} with drift {drift_w} and diffusion {diff_w}, {start}"
    elif form == 2:
        text = f"an SDE whose drift is {drift_w} and whose volatility term is {diff_w}, with {start}"
    elif form == 3:
        text = f"{x} follows d{x} = {drift_w} dt + {diff_w} dW_t; {start}"
    elif form == 4:
        text = f"{rng.choice(PREFIXES)}a diffusion {x} with drift coefficient {drift_w}, noise {diff_w}, {start}"
    else:
        text = f"drift {drift_w}, diffusion {diff_w} for the state {x} ({start})"
    canonical = f"d{x} = {drift_c}*dt + {diff_c}*dW, {x}0 = {x0:g}"
    return Pair(text, canonical, "equations")


# ----------------------------------------------------------------------------- the corpus
def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9.%]+", text.lower()))


def held_out_texts() -> set[str]:
    out = set()
    for path in HELD_OUT:
        if path.is_file():
            out |= {normalised(json.loads(line)["text"]) for line in path.read_text().splitlines() if line.strip()}
    return out


def pairs(rng: random.Random, count: int, equations_share: float = 0.15) -> Iterator[Pair]:
    """``count`` checked pairs: the answer parses, obeys the number rule, and the text is not held out."""
    held_out, seen = held_out_texts(), set()
    families = list(catalog.FAMILIES)
    made = 0
    while made < count:
        drawn = equation_pair(rng) if rng.random() < equations_share else named_pair(rng.choice(families), rng)
        if drawn is None or normalised(drawn.text) in held_out or drawn.text in seen:
            continue
        try:
            parse(drawn.canonical)
        except ArchitectError:
            continue
        if invented_numbers(drawn.canonical, drawn.text) or unused_numbers(drawn.canonical, drawn.text):
            continue
        seen.add(drawn.text)
        made += 1
        yield drawn
