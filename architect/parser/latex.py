r"""LaTeX input: ``dS_t = \mu S_t\,dt + \sigma S_t\,dW_t`` -> the plain equation language, with a position map.

The translation is textual and keeps, for every character it writes, the position of the LaTeX
it came from, so a `ParseError` raised while reading the translation is re-pointed at the user's
own text (`Translation.original`). What it understands:

- differentials ``dX_t``, ``\mathrm{d}X_t``, ``\text{d}t``, ``{\rm d}W``, ``\mathrm{d}\langle W^1, W^2\rangle_t``;
- numbered and named Brownian motions ``W^{(1)}_t``, ``W^1_t``, ``W_{1,t}`` (all ``W1``), ``W_t^{S}`` (``W_S``);
- ``\frac{a}{b}``, ``\sqrt{x}``, ``\sqrt[n]{x}``, ``\left( \right)``, ``[ ]``, ``\{ \}``, ``|x|``,
  ``\cdot``, ``\times``, powers ``^{...}``, subscripts ``_{t}``, ``e^{x}``, ``\exp``, ``\log``, ``\ln``,
  ``\max``, ``\min`` (with or without parentheses around a single argument);
- Greek letters as names (``\sigma`` -> ``sigma``), accents as suffixes (``\bar\sigma`` -> ``sigma_bar``);
- layout: ``\,`` ``\;`` ``\!`` ``\quad``, ``&``, ``\\`` (a new line), ``$``, ``\[ \]``,
  ``\begin{aligned} ... \end{aligned}`` and the other equation environments, ``%`` comments,
  ``\text{where}`` and friends as separators.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

from architect.errors import ParseError
from architect.expr.functions import BY_LATEX, BY_SPELLING

GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
GREEK_VARIANTS = {
    "varepsilon": "epsilon",
    "vartheta": "theta",
    "varrho": "rho",
    "varphi": "phi",
    "varsigma": "sigma",
    "varkappa": "kappa",
    "varpi": "pi",
}
#: LaTeX commands read as functions: the LaTeX column of the one table (`architect.expr.functions`).
FUNCTIONS = frozenset(BY_LATEX)
TEXT_COMMANDS = frozenset(
    {"mathrm", "text", "textrm", "mathit", "operatorname", "mathbf", "boldsymbol", "mathsf", "textit", "mathnormal"}
    | {"mathcal"}
)
SPACING = frozenset(
    {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace", "medspace", "thickspace", "displaystyle"}
    | {"textstyle", "nonumber", "notag", "[", "]", "(", ")", "limits", "nolimits"}
)
SKIP_ARGUMENT = frozenset({"label", "tag", "hspace", "vspace", "hspace*", "tag*"})
TIMES = frozenset({"cdot", "times", "ast", "star", "cdotp"})
SIZES = frozenset(
    {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr"}
    | {"middle"}
)
ACCENTS = {
    "bar": "bar",
    "overline": "bar",
    "hat": "hat",
    "widehat": "hat",
    "tilde": "tilde",
    "widetilde": "tilde",
    "check": "check",
    "breve": "breve",
    "dot": "dot",
    "vec": "vec",
}
ENVIRONMENTS = frozenset(
    "aligned align align* equation equation* gathered gather gather* split cases array eqnarray eqnarray* "
    "multline multline* displaymath math alignat alignat* flalign flalign* alignedat".split()
)
SEPARATOR_TEXTS = frozenset({"where", "with", "and"})
BROWNIAN_LETTERS = frozenset("WBZ")
KNOWN_COMMANDS = sorted(
    GREEK
    | set(GREEK_VARIANTS)
    | FUNCTIONS
    | TEXT_COMMANDS
    | TIMES
    | SIZES
    | set(ACCENTS)
    | SKIP_ARGUMENT
    | {"frac", "dfrac", "tfrac", "sqrt", "langle", "rangle", "lvert", "rvert", "vert", "begin", "end", "rm", "div"}
    | {"sim"}
    | {"quad", "qquad"}
)

_LETTERS = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMMAND = re.compile(r"\\([A-Za-z]+\*?|.)", re.DOTALL)
_LABEL_WORD = re.compile(r"\{?\s*[A-Za-z]\w*\s*\}?")
_ROW_SPACING = re.compile(r"\s*\[[^\]]*\]")
_DELIMITER = re.compile(r"\\(\{|\}|langle|rangle|lvert|rvert|vert|\||lbrace|rbrace)|[()\[\]|.]")
MAX_NESTING = 100  # braces and command arguments inside each other


def looks_like_latex(text: str) -> bool:
    """Backslash commands or braced scripts mark LaTeX; plain equations have neither."""
    return "\\" in text or "_{" in text or "^{" in text


@dataclass
class Translation:
    text: str
    origin: list[int]  # origin[i]: where text[i] came from; one extra entry for the end

    def original(self, position: int | None) -> int | None:
        if position is None:
            return None
        return self.origin[min(max(position, 0), len(self.origin) - 1)]


def translate(source: str) -> Translation:
    """The plain-language form of a LaTeX model; ParseError (positioned in ``source``) for what it cannot read."""
    writer = _Latex(source)
    writer.run()
    return Translation("".join(writer.chars), [*writer.origin, len(source)])


def reraise_in_source(error: ParseError, source: str, translation: Translation) -> ParseError:
    """The same error, pointed at the LaTeX the user typed."""
    return ParseError(error.reason, source, translation.original(error.position))


@dataclass
class _Name:
    base: str
    start: int
    differential: bool = False
    subscripts: list[str] = field(default_factory=list)
    label: str = ""
    time: bool = False


class _Latex:
    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.chars: list[str] = []
        self.origin: list[int] = []
        self.abs_open: list[int] = []  # paren depth at each open |...|
        self.depth = 0
        self.pending_d: int | None = None  # position of a \mathrm{d} waiting for its variable
        self.nesting = 0

    # ------------------------------------------------------------------ output
    def emit(self, text: str, position: int) -> None:
        for char in text:
            self.chars.append(char)
            self.origin.append(position)
            self.depth += (char == "(") - (char == ")")

    def newline(self, position: int) -> None:
        """A line break, unless the output is empty or already ends with one (spaces aside)."""
        last = len(self.chars) - 1
        while last >= 0 and self.chars[last] in " \t":
            last -= 1
        if last >= 0 and self.chars[last] != "\n":
            self.emit("\n", position)

    def fail(self, reason: str, position: int) -> NoReturn:
        raise ParseError(reason, self.src, position)

    @contextmanager
    def captured(self) -> Iterator[list[tuple[str, int]]]:
        """Collect what the body emits into the yielded list instead of the output."""
        saved = self.chars, self.origin, self.depth
        self.chars, self.origin = [], []
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(f"braces and arguments are nested more than {MAX_NESTING} levels deep", self.i)
        pieces: list[tuple[str, int]] = []
        try:
            yield pieces
            pieces += zip(self.chars, self.origin, strict=True)
        finally:
            self.chars, self.origin, self.depth = saved
            self.nesting -= 1

    # ------------------------------------------------------------------ reading
    def peek(self) -> str:
        return self.src[self.i] if self.i < len(self.src) else ""

    def skip_spaces(self) -> None:
        while self.i < len(self.src) and self.src[self.i] in " \t\r\n":
            self.i += 1

    def run(self, stop: str = "", opened_at: int = 0) -> None:
        while self.i < len(self.src):
            if stop and self.peek() == stop:
                return
            self.item()
        if stop:
            self.fail(f"this '{{' is never closed: expected '{stop}'", opened_at)
        if self.pending_d is not None:
            self.emit("d", self.pending_d)

    def item(self) -> None:
        char, start = self.peek(), self.i
        if char == "\\":
            self.command()
        elif char.isalpha() and char.isascii():
            self.name(self.letters())
        elif _NUMBER.match(self.src, start):
            self.number()
        else:
            self.i += 1
            self.symbol(char, start)

    def symbol(self, char: str, start: int) -> None:
        if char in "\r\n":
            self.newline(start)
        elif char in " \t~$&":
            self.emit(" ", start)
        elif char == "%":
            self.comment()
        elif char == "{":
            self.group(start)
        elif char == "}":
            self.fail("unmatched '}': there is no '{' before it", start)
        elif char in "[]":
            self.emit("(" if char == "[" else ")", start)
        elif char == "|":
            self.bar(start)
        elif char == "^":
            self.power(start)
        elif char == "_":
            self.fail("a subscript must follow a name, as in X_t or W_{1,t}", start)
        elif char == "." and self.dot_is_punctuation():
            self.emit(" ", start)
        else:
            self.emit(char, start)

    def dot_is_punctuation(self) -> bool:
        following = self.peek()
        return following in ("", " ", "\t", "\r", "\n", "\\", "$", "&", ",", ";")

    def comment(self) -> None:
        while self.i < len(self.src) and self.src[self.i] not in "\r\n":
            self.i += 1

    def number(self) -> None:
        match = _NUMBER.match(self.src, self.i)
        assert match is not None
        self.emit(" " + match.group(), self.i)
        self.i = match.end()

    def letters(self) -> _Name:
        match = _LETTERS.match(self.src, self.i)
        assert match is not None
        self.i = match.end()
        word, start = match.group(), match.start()
        if len(word) > 1 and word[0] == "d" and _is_variable(word[1:]):
            return _Name(word[1:], start, differential=True)
        return _Name(word, start)

    # ------------------------------------------------------------------ groups and scripts
    def group(self, start: int) -> None:
        """``{...}`` outside a command: its content, in parentheses unless it is a single name or number."""
        inner = self.sub_translation(start)
        text = "".join(c for c, _ in inner).strip()
        simple = bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9.]+|d", text)) or not text
        if not simple:
            self.emit("(", start)
        for char, position in inner:
            self.emit(char, position)
        if not simple:
            self.emit(")", self.i - 1)

    def sub_translation(self, start: int) -> list[tuple[str, int]]:
        """Translate up to the ``}`` matching the ``{`` at ``start`` (already read); return the pieces."""
        with self.captured() as pieces:
            self.run(stop="}", opened_at=start)
            self.i += 1
        return pieces

    def argument(self, what: str) -> list[tuple[str, int]]:
        """One argument of a command: a braced group or a single character or command."""
        self.skip_spaces()
        start = self.i
        if self.peek() == "{":
            self.i += 1
            return self.sub_translation(start)
        if not self.peek():
            self.fail(f"{what} needs an argument here", start)
        with self.captured() as pieces:
            if self.peek() == "\\":
                self.command()
            elif self.peek().isalnum():
                self.emit(self.src[self.i], self.i)
                self.i += 1
            else:
                self.fail(f"{what} needs an argument in braces here", start)
        return pieces

    def emit_wrapped(self, opening: str, pieces: list[tuple[str, int]], closing: str, position: int) -> None:
        self.emit(opening, position)
        for char, origin in pieces:
            self.emit(char, origin)
        self.emit(closing, position)

    def power(self, start: int) -> None:
        self.emit_wrapped("^(", self.argument("'^'"), ")", start)

    def script_text(self, what: str) -> tuple[str, int]:
        """A subscript or label: letters, digits, commas and Greek letters; spaces dropped."""
        self.skip_spaces()
        start = self.i
        pieces = self.argument(what)
        text = "".join(c for c, _ in pieces).replace(" ", "")
        if not re.fullmatch(r"\(?[A-Za-z0-9_,]*\)?", text) or not text:
            self.fail(f"cannot read this {what}: use letters, digits and commas, as in X_t or W_{{1,t}}", start)
        return text, start

    # ------------------------------------------------------------------ names
    def name(self, name: _Name) -> None:
        """A variable with its subscripts and labels; emitted as one plain name (``W1_t``, ``sigma_v``, ``X_t``)."""
        if self.pending_d is not None and not name.differential:
            name.differential, name.start, self.pending_d = True, self.pending_d, None
        elif name.base == "d" and not name.differential and self.next_starts_a_name():
            self.pending_d = name.start  # "d W_t": a differential written apart
            return
        if name.base == "e" and not name.differential and self.next_is("^"):
            self.i = self.src.index("^", self.i) + 1
            self.emit_wrapped(" exp(", self.argument("'^'"), ")", name.start)
            return
        exponent = self.decorations(name)
        self.emit(" " + _spelled(name), name.start)
        if exponent is not None:
            self.emit_wrapped("^(", exponent[0], ")", exponent[1])

    def next_starts_a_name(self) -> bool:
        j = self.i
        while j < len(self.src) and self.src[j] in " \t":
            j += 1
        return j < len(self.src) and ((self.src[j].isascii() and self.src[j].isalpha()) or self.src[j] == "\\")

    def next_is(self, char: str) -> bool:
        j = self.i
        while j < len(self.src) and self.src[j] in " \t":
            j += 1
        return j < len(self.src) and self.src[j] == char

    def decorations(self, name: _Name) -> tuple[list[tuple[str, int]], int] | None:
        """Read ``_sub`` and ``^label`` after a name; return a power's argument if a ``^`` is a power."""
        while True:
            if self.next_is("_"):
                self.i = self.src.index("_", self.i) + 1
                self.subscript(name)
            elif self.next_is("^"):
                position = self.src.index("^", self.i)
                self.i = position + 1
                if not self.label_or_power(name, position):
                    return self.argument("'^'"), position
            else:
                return None

    def subscript(self, name: _Name) -> None:
        text, _ = self.script_text("subscript")
        pieces = [piece for piece in text.strip("()").split(",") if piece]
        if pieces and pieces[-1] == "t":
            name.time = True
            pieces = pieces[:-1]
        if _is_brownian(name) and len(pieces) == 1 and not name.label:
            name.label = pieces[0]
        else:
            name.subscripts += pieces

    def label_or_power(self, name: _Name, position: int) -> bool:
        """``W^{(1)}``, ``dW^1``, ``dW^S``: a Brownian motion's label (True); otherwise a power (False)."""
        j = self.i
        while j < len(self.src) and self.src[j] in " \t":
            j += 1
        parenthesised = self.src.startswith("{(", j) or self.src.startswith("(", j)
        lettered = name.base in BROWNIAN_LETTERS and bool(_LABEL_WORD.match(self.src, j))
        if not (parenthesised or lettered or (name.differential and name.base in BROWNIAN_LETTERS)):
            return False
        if parenthesised and self.src.startswith("(", j):
            close = self.src.find(")", j)
            if close < 0:
                self.fail("this '(' of a label is never closed", j)
            text, self.i = self.src[j + 1 : close].strip(), close + 1
        else:
            text, _ = self.script_text("label")
        name.label = text.strip("()")
        if not re.fullmatch(r"[A-Za-z0-9]+", name.label):
            self.fail("a Brownian motion's label must be a number or a name, as in W^{(1)} or W^{S}", position)
        return True

    # ------------------------------------------------------------------ commands
    def command(self) -> None:
        start = self.i
        match = _COMMAND.match(self.src, self.i)
        if match is None:
            self.fail("a lone backslash", start)
        self.i = match.end()
        word = match.group(1)
        if word in GREEK or word in GREEK_VARIANTS or word == "pi":
            self.name(_Name(GREEK_VARIANTS.get(word, word), start))
        elif word == "\\":
            self.skip_row_spacing()
            self.newline(start)
        else:
            self.other_command(word, start)

    def other_command(self, word: str, start: int) -> None:
        handlers = {
            "frac": self.fraction,
            "dfrac": self.fraction,
            "tfrac": self.fraction,
            "sqrt": self.square_root,
            "langle": self.bracket_product,
            "begin": self.environment,
            "end": self.environment,
            "rm": self.roman,
        }
        if word in handlers:
            handlers[word](start)
        elif word in SPACING:
            self.emit(" ", start)
        elif word in TIMES or word == "div":
            self.emit("/" if word == "div" else "*", start)
        elif word == "sim":  # J \sim \mathrm{CompoundPoisson}(...): the law of a jump process
            self.emit("~", start)
        elif word in TEXT_COMMANDS:
            self.text_command(start)
        elif word in FUNCTIONS:
            self.function(word, start)
        else:
            self.structural_command(word, start)

    def structural_command(self, word: str, start: int) -> None:
        if word in SIZES:
            self.delimiter(word, start)
        elif word in ("{", "}"):
            self.emit("(" if word == "{" else ")", start)
        elif word in ("lvert", "rvert", "vert", "|"):
            self.bar(start, {"lvert": "open", "rvert": "close"}.get(word, ""))
        elif word in ACCENTS:
            self.accent(word, start)
        elif word in SKIP_ARGUMENT:
            self.argument(f"\\{word}")
            self.emit(" ", start)
        else:
            self.unknown_command(word, start)

    def unknown_command(self, word: str, start: int) -> NoReturn:
        close = difflib.get_close_matches(word, KNOWN_COMMANDS, n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(chr(92) + c for c in close)}?" if close else ""
        self.fail(f"unknown LaTeX command \\{word}{hint}", start)

    def skip_row_spacing(self) -> None:
        """``\\[2pt]`` after a line break."""
        match = _ROW_SPACING.match(self.src, self.i)
        if match:
            self.i = match.end()

    def fraction(self, start: int) -> None:
        numerator = self.argument("\\frac")
        denominator = self.argument("\\frac")
        if _is_differential_ratio(numerator, denominator):  # \frac{dS_t}{S_t}: the relative form dS_t/S_t
            self.emit_wrapped(" ", numerator, "/", start)
            self.emit_wrapped("", denominator, " ", start)
            return
        self.emit_wrapped(" ((", numerator, ")", start)
        self.emit_wrapped("/(", denominator, "))", start)

    def square_root(self, start: int) -> None:
        self.skip_spaces()
        if self.peek() == "[":
            close = self.src.find("]", self.i)
            if close < 0:
                self.fail("\\sqrt[n] needs a closing ']'", self.i)
            index = self.src[self.i + 1 : close]
            self.i = close + 1
            self.emit_wrapped(" ((", self.argument("\\sqrt"), ")", start)
            self.emit(f"^(1/({index})))", start)
            return
        self.emit_wrapped(" sqrt(", self.argument("\\sqrt"), ")", start)

    def function(self, word: str, start: int) -> None:
        """``\\exp(x)``, ``\\ln S_t``, ``\\log{x}``, ``\\max\\{x, 0\\}``: always a call in the output."""
        self.skip_spaces()
        following = self.src[self.i : self.i + 8]
        if following.startswith(("(", "\\left", "\\{", "\\bigl", "\\Bigl", "\\big", "\\Big", "[")):
            self.emit(f" {word}", start)
            return
        self.emit_wrapped(f" {word}(", self.single_atom(word), ")", start)

    def single_atom(self, word: str) -> list[tuple[str, int]]:
        """The one thing a function without parentheses applies to: a group, a name or a number."""
        if not self.peek():
            self.fail(f"\\{word} needs an argument", self.i)
        if self.peek() == "{":
            self.i += 1
            return self.sub_translation(self.i - 1)
        with self.captured() as pieces:
            self.item()
        return pieces

    def delimiter(self, size: str, start: int) -> None:
        self.skip_spaces()
        match = _DELIMITER.match(self.src, self.i)
        if match is None:
            self.fail(f"\\{size} must be followed by a delimiter such as ( or )", start)
        self.i = match.end()
        token = match.group(1) or match.group()
        opening = size not in ("right", "bigr", "Bigr", "biggr", "Biggr")
        mapped = {"{": "(", "}": ")", "lbrace": "(", "rbrace": ")", "[": "(", "]": ")", ".": " "}.get(token, token)
        if token in ("|", "vert", "lvert", "rvert"):
            self.bar(start, "open" if size in ("left", "bigl", "Bigl", "biggl", "Biggl") else "close")
        elif token in ("langle", "rangle"):
            self.fail("angle brackets are only read as d\\langle W_1, W_2\\rangle_t = \\rho\\,dt", start)
        else:
            self.emit(mapped if mapped in "() " else ("(" if opening else ")"), start)

    def bar(self, start: int, which: str = "") -> None:
        """``|x|`` is abs(x): a bar opens unless one is open at the same parenthesis depth."""
        closes = which == "close" or (not which and self.abs_open and self.abs_open[-1] == self.depth - 1)
        if closes:
            if not self.abs_open:
                self.fail("a closing '|' without an opening one", start)
            self.abs_open.pop()
            self.emit(")", start)
        else:
            self.emit(" abs(", start)
            self.abs_open.append(self.depth - 1)

    def accent(self, word: str, start: int) -> None:
        pieces = self.argument(f"\\{word}")
        base = "".join(c for c, _ in pieces).strip()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", base):
            self.fail(f"\\{word} must be put on a single letter or Greek letter", start)
        self.name(_Name(f"{base}_{ACCENTS[word]}", start))

    def text_command(self, start: int) -> None:
        r"""``\mathrm{d}`` (a differential), ``\text{where}`` (a separator), ``\operatorname{corr}``, ``\mathrm{e}``."""
        self.skip_spaces()
        if self.peek() != "{":
            pieces = self.argument("this command")
        else:
            self.i += 1
            raw_start = self.i
            close = self.src.find("}", self.i)
            if close < 0:
                self.fail("this '{' is never closed", start)
            self.i = close + 1
            pieces = [(c, raw_start + k) for k, c in enumerate(self.src[raw_start:close])]
        self.text_content(pieces, start)

    def text_content(self, pieces: list[tuple[str, int]], start: int) -> None:
        text = "".join(c for c, _ in pieces).strip()
        if text == "d":
            self.pending_d = start
        elif not text:
            self.emit(" ", start)
        elif all(word in SEPARATOR_TEXTS for word in text.split()):
            self.emit(f" {text} ", start)
        elif text in BY_SPELLING:  # \operatorname{erf} x, \mathrm{sgn}(x): a function, like \exp
            self.function(text, start)
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", text):
            self.name(_Name(text, start))
        else:
            self.fail(f"cannot read the text {text!r} inside an equation", start)

    def roman(self, start: int) -> None:
        r"""``{\rm d}``: only the differential is meaningful."""
        self.skip_spaces()
        if self.peek() == "d" and not self.src[self.i + 1 : self.i + 2].isalpha():
            self.i += 1
            self.pending_d = start

    def environment(self, start: int) -> None:
        pieces = self.argument("\\begin")
        name = "".join(c for c, _ in pieces).strip()
        if name not in ENVIRONMENTS:
            self.fail(f"unknown environment {name!r}; use aligned, align, equation, gathered or cases", start)
        if name in ("array", "alignat", "alignat*", "alignedat") and self.src.startswith("\\begin", start):
            self.argument("the column specification")
        self.newline(start)

    def bracket_product(self, start: int) -> None:
        r"""``\mathrm{d}\langle W^1, W^2\rangle_t`` -> ``dW1*dW2``."""
        if self.pending_d is None:
            self.fail("angle brackets are only read as d\\langle W_1, W_2\\rangle_t = \\rho\\,dt", start)
        position, self.pending_d = self.pending_d, None
        names = []
        for closing in (",", "\\rangle"):
            self.skip_spaces()
            if not _LETTERS.match(self.src, self.i):
                self.fail("expected a Brownian motion such as W_1 inside \\langle ... \\rangle", self.i)
            name = self.letters()
            name.differential = True
            self.decorations(name)
            names.append(_spelled(name))
            self.skip_spaces()
            if not self.src.startswith(closing, self.i):
                self.fail(f"expected {closing!r} here", self.i)
            self.i += len(closing)
        if self.next_is("_"):
            self.i = self.src.index("_", self.i) + 1
            self.script_text("subscript")
        self.emit(f" {names[0]}*{names[1]}", position)


# ---------------------------------------------------------------------------- names
def _is_variable(word: str) -> bool:
    """What may follow a ``d`` to make a differential: one letter, optionally numbered (dt, dX, dW1)."""
    return bool(re.fullmatch(r"[A-Za-z][0-9]*", word))


def _is_differential_ratio(numerator: list[tuple[str, int]], denominator: list[tuple[str, int]]) -> bool:
    top, bottom = ("".join(c for c, _ in pieces).strip() for pieces in (numerator, denominator))
    return bool(re.fullmatch(r"d[A-Za-z][A-Za-z0-9_]*", top) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", bottom))


def _is_brownian(name: _Name) -> bool:
    return name.base[:1] in BROWNIAN_LETTERS and (len(name.base) == 1 or name.base[1:].isdigit())


def _spelled(name: _Name) -> str:
    """The plain name: ``dW1_t``, ``W_S``, ``sigma_v``, ``x_1_t``."""
    text = name.base
    if name.label:
        text += name.label if name.label.isdigit() else f"_{name.label}"
    if name.subscripts:
        text += "_" + "_".join(name.subscripts)
    if name.time:
        text += "_t"
    return ("d" if name.differential else "") + text
