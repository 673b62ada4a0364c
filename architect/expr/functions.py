"""The one table of mathematical functions an expression may call, in every surface that spells them.

Each `Function` says how one function is written in each language architect reads or writes:

- the equation language a user types (`architect.parser.syntax`: ``exp``, ``ln``, ``Max``, ...);
- the model file's expressions, sympy's `sstr` spelling (`architect.expr.reader`);
- LaTeX commands (`architect.parser.latex`: ``\\exp``, ``\\ln``);
- Rust `f64` methods (`architect.expr.printers.RustPrinter`, `architect.llm.completion`);
- the plain-math syntax of the LLM's prompt (`architect.expr.printers.MathPrinter`);

and what it computes (the sympy function, and a float evaluator for bounds and static checks).
Adding a function is one row here; a surface that should not accept it leaves its column empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Function:
    """One allowed function and its spelling in each surface (empty or None: not available there)."""

    name: str  # canonical name: the equation language's for its functions, else sympy's
    min_args: int
    max_args: int | None  # None: any number
    sympy_name: str  # sympy's class name, as `sstr` prints it
    sympy: Callable[..., sp.Basic]
    value: Callable[..., float] | None = None  # the float function, None: not evaluated to a float
    spellings: tuple[str, ...] = ()  # the equation language (the parser); sympy's printed names included
    model_names: tuple[str, ...] = ()  # model files (sympy's spelling and aliases)
    latex: tuple[str, ...] = ()  # LaTeX commands read as this function
    rust: str | None = None  # the f64 method (folded over the arguments for max/min)
    math: str | None = None  # the prefix call of the LLM prompt's plain math
    exact: bool = False  # of rational arguments, a rational of at most their combined size


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))


def _heaviside(x: float, *_: float) -> float:
    return 1.0 if x > 0 else 0.0 if x < 0 else 0.5


def _rational(p: float, q: float = 1) -> float:
    return p / q


def _model_only(
    name: str,
    function: Callable[..., sp.Basic],
    value: Callable[..., float] | None,
    *,
    args: int = 1,
    rust: str | None = None,
    math: str | None = None,
    exact: bool = False,
) -> Function:
    """A function of the model file's language (sympy's spelling) that the equation language does not read."""
    return Function(name, args, args, name, function, value, model_names=(name,), rust=rust, math=math, exact=exact)


#: Every allowed function, in the order the Rust methods are listed to the LLM.
TABLE: tuple[Function, ...] = (
    Function("sqrt", 1, 1, "sqrt", sp.sqrt, math.sqrt, ("sqrt", "Sqrt"), ("sqrt",), ("sqrt",), "sqrt", "sqrt"),
    Function("exp", 1, 1, "exp", sp.exp, math.exp, ("exp", "Exp"), ("exp",), ("exp",), "exp", "exp"),
    Function("log", 1, 1, "log", sp.log, math.log, ("log", "ln", "Log"), ("log", "ln"), ("log", "ln"), "ln", "ln"),
    Function("abs", 1, 1, "Abs", sp.Abs, abs, ("abs", "Abs"), ("Abs",), ("abs",), "abs", "abs", exact=True),
    _model_only("sin", sp.sin, math.sin, rust="sin", math="sin"),
    _model_only("cos", sp.cos, math.cos, rust="cos", math="cos"),
    _model_only("tanh", sp.tanh, math.tanh, rust="tanh", math="tanh"),
    Function("max", 2, None, "Max", sp.Max, max, ("max", "Max"), ("Max",), ("max",), "max", "max", exact=True),
    Function("min", 2, None, "Min", sp.Min, min, ("min", "Min"), ("Min",), ("min",), "min", "min", exact=True),
    _model_only("tan", sp.tan, math.tan),
    _model_only("asin", sp.asin, math.asin),
    _model_only("acos", sp.acos, math.acos),
    _model_only("atan", sp.atan, math.atan),
    _model_only("atan2", sp.atan2, math.atan2, args=2),
    _model_only("sinh", sp.sinh, math.sinh),
    _model_only("cosh", sp.cosh, math.cosh),
    _model_only("asinh", sp.asinh, math.asinh),
    _model_only("acosh", sp.acosh, math.acosh),
    _model_only("atanh", sp.atanh, math.atanh),
    _model_only("sign", sp.sign, _sign, exact=True),
    _model_only("Heaviside", sp.Heaviside, _heaviside),
    Function("Piecewise", 1, None, "Piecewise", sp.Piecewise, None, model_names=("Piecewise",)),
    _model_only("floor", sp.floor, math.floor, exact=True),
    _model_only("ceiling", sp.ceiling, math.ceil, exact=True),
    _model_only("erf", sp.erf, math.erf),
    _model_only("erfc", sp.erfc, math.erfc),
    # number constructors, as sympy's `srepr`-like output may write them
    _model_only("Rational", sp.Rational, _rational, exact=True),
    _model_only("Integer", sp.Integer, int, exact=True),
    _model_only("Float", sp.Float, float),
)

#: Rust's spellings of a power, with their number of arguments: ``x.powi(2)``, ``x.powf(y)``.
RUST_POWERS: Mapping[str, int] = {"powi": 1, "powf": 1}

#: The constants, by surface: sympy's object, Rust's path, the model file's and the prompt's name.
CONSTANTS: tuple[tuple[sp.Basic, str, str, str, float], ...] = (
    (sp.pi, "std::f64::consts::PI", "pi", "pi", math.pi),
    (sp.E, "std::f64::consts::E", "E", "e", math.e),
)

#: The equation language: spelling -> function.
BY_SPELLING: Mapping[str, Function] = {s: f for f in TABLE for s in f.spellings}
#: Model files: name -> function.
BY_MODEL_NAME: Mapping[str, Function] = {s: f for f in TABLE for s in f.model_names}
#: sympy class name -> function (for the printers).
BY_SYMPY_NAME: Mapping[str, Function] = {f.sympy_name: f for f in TABLE}
#: Rust f64 method -> function.
BY_RUST: Mapping[str, Function] = {f.rust: f for f in TABLE if f.rust is not None}
#: LaTeX command -> function.
BY_LATEX: Mapping[str, Function] = {s: f for f in TABLE for s in f.latex}


def rust_methods() -> dict[str, int]:
    """The f64 methods an expression may call, with their number of arguments (besides the receiver)."""
    unary = {f.rust: 0 for f in TABLE if f.rust is not None and f.max_args == 1}
    folds = {f.rust: 1 for f in TABLE if f.rust is not None and f.max_args != 1}
    return {**unary, **RUST_POWERS, **folds}
