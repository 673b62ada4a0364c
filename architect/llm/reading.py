"""The LLM as reader of last resort: the prompt that asks it to rewrite a text into architect's canonical syntax.

When the grammar cannot read a description (a `ParseError`), `architect.pipeline.reader` asks the LLM to rewrite
it as a family name with ``key=value`` values (``GBM mu=0.07 sigma=0.22 S0=42``) or as equations with their
values (``dX = 0.5*(2 - X)*dt + 0.3*dW, X0 = 1``), parses the rewrite with the grammar and checks that it invents
no number. This module only builds the prompt and cleans the answer; it never parses a model.

The prompt lists the families the text most likely names (`candidates`: a lexical match of the text against every
family's synonyms and display name), each with its parameters, their one-line descriptions and their defaults, so
that the LLM copies names instead of recalling them (the lesson of the code-writing prompt, docs/llm.md). The
reader's own LoRA adapter (`finetune/reader-adapter`, trained on `corpus/reader-train.jsonl`) is separate from
the code writer's: the two tasks share no answer format, and the code writer's adapter stays the one measured.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from pathlib import Path

from architect import paths
from architect.llm.prompt import Message
from architect.parser import catalog
from architect.parser.family_schema import Family

SYSTEM = (
    "Rewrite the model description on one line: a family name and name=value for each value given "
    "(GBM mu=0.07 sigma=0.22 S0=42), or equations (dX = 0.5*(2 - X)*dt + 0.3*dW, X0 = 1). "
    "3% -> 0.03, 25bp -> 0.0025. Only numbers from the text."
)
#: Families shown to the reader, best lexical match first.
CANDIDATES = 2
MAX_ANSWER_CHARS = 400
#: The longest canonical rewrite (a three-factor model with all its values) is ~80 tokens.
MAX_NEW_TOKENS = 96
_WORD = re.compile(r"[a-z0-9+/]+")


def reader_adapter() -> Path:
    """The reader's LoRA adapter (package data beside the code writer's)."""
    return (paths.bundle_dir() / "reader-adapter").resolve()


def messages(text: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_prompt(text)}]


def user_prompt(text: str) -> str:
    """The text, then the families it may name with their values (`family_line`); short, as CPU time is the cost."""
    lines = [f"Text: {' '.join(text.split())}"]
    lines += [family_line(f) for f in candidates(text)]
    return "\n".join(lines)


def family_line(family: Family) -> str:
    """``GBM: mu drift: expected return; sigma volatility per square; S0 initial price``: names, then a few words
    of each description."""
    values = [f"{p.name} {_short(p.description)}" for p in family.parameters]
    values += [f"{s.name} {_short(s.description)}" for s in family.shapes]
    initial = [a for a in family.aliases if a.target.endswith("0")]  # S0 sets x0 = log(S0): shown instead of x0
    targets = {a.target for a in initial}
    values += [f"{name}0 initial {name}" for name, _ in family.initial if f"{name}0" not in targets]
    values += [f"{a.name} {_short(a.description, 2)}" for a in initial]
    return f"{family.label}: " + "; ".join(values)


def _short(description: str, words: int = 4) -> str:
    text = description.split(" (")[0].split(";")[0]
    return " ".join(text.split()[:words])


def candidates(text: str, count: int = CANDIDATES) -> list[Family]:
    """The families ``text`` most likely names: whole names found in it first, then close spellings."""
    words = _WORD.findall(_plain(text))
    joined = " ".join(words)
    scored = []
    for family in catalog.FAMILIES:
        score = 0.0
        for name in _names(family):
            if f" {name} " in f" {joined} ":
                score = max(score, 10.0 + len(name))
            else:
                parts = name.split()
                close = sum(1 for p in parts if len(p) > 2 and difflib.get_close_matches(p, words, 1, 0.8))
                score = max(score, 5.0 * close / len(parts))
        if score > 0:
            scored.append((score, family))
    scored.sort(key=lambda sf: -sf[0])
    return [f for _, f in scored[:count]]


@functools.cache
def _names(family: Family) -> tuple[str, ...]:
    spelled = (family.key, family.display_name, *family.synonyms)
    return tuple(dict.fromkeys(" ".join(_WORD.findall(_plain(n))) for n in spelled))


def _plain(text: str) -> str:
    """Lower case, accents dropped, hyphens and underscores as spaces."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return folded.replace("-", " ").replace("_", " ")


def rewrite_of(answer: str) -> str:
    """The rewrite in an answer: its first non-empty line, without code quotes or a ``read as:`` prefix."""
    for line in answer.strip().splitlines():
        line = line.strip().strip("`").strip()
        line = re.sub(r"^(read as|rewrite|canonical)\s*:\s*", "", line, flags=re.IGNORECASE)
        if line:
            return line[:MAX_ANSWER_CHARS]
    return ""
