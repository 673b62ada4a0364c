"""The one table of mathematical functions an expression may call, in every surface that spells them.

Each `Function` says how one function is written in each language architect reads or writes:

- the equation language a user types (`architect.parser.syntax`: ``exp``, ``ln``, ``Max``, ...);
- the model file's expressions, sympy's `sstr` spelling (`architect.expr.reader`);
- LaTeX commands (`architect.parser.latex`: ``\\exp``, ``\\ln``);
- Rust `f64` methods (`architect.expr.printers.RustPrinter`, `architect.llm.completion`), or, where `f64` has
  none (``erf``, and ``sign``, whose ``f64::signum`` differs at zero), the SDK's functions called by path
  (``architect_sdk::erf(x)``; the static gate admits exactly these names);
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
    rust_function: str | None = None  # where f64 has no method: the SDK function's path, called f(x)


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


def _elementary(
    name: str,
    function: Callable[..., sp.Basic],
    value: Callable[..., float],
    *,
    spellings: tuple[str, ...] = (),
    latex: tuple[str, ...] | None = None,
    rust: str | None = None,
    rust_function: str | None = None,
    exact: bool = False,
) -> Function:
    """A one-argument function of every surface, spelled ``name`` (plus ``spellings``) and called in Rust as the
    f64 method ``rust`` (default ``name``) or the SDK function ``rust_function``."""
    return Function(
        name,
        1,
        1,
        name,
        function,
        value,
        (name, *spellings),
        (name,),
        (name,) if latex is None else latex,
        (rust or name) if rust_function is None else None,
        name,
        exact,
        rust_function,
    )


#: Every allowed function, in the order the Rust methods are listed to the LLM.
TABLE: tuple[Function, ...] = (
    Function("sqrt", 1, 1, "sqrt", sp.sqrt, math.sqrt, ("sqrt", "Sqrt"), ("sqrt",), ("sqrt",), "sqrt", "sqrt"),
    Function("exp", 1, 1, "exp", sp.exp, math.exp, ("exp", "Exp"), ("exp",), ("exp",), "exp", "exp"),
    Function("log", 1, 1, "log", sp.log, math.log, ("log", "ln", "Log"), ("log", "ln"), ("log", "ln"), "ln", "ln"),
    Function("abs", 1, 1, "Abs", sp.Abs, abs, ("abs", "Abs"), ("Abs",), ("abs",), "abs", "abs", exact=True),
    _elementary("sin", sp.sin, math.sin),
    _elementary("cos", sp.cos, math.cos),
    _elementary("tanh", sp.tanh, math.tanh),
    Function("max", 2, None, "Max", sp.Max, max, ("max", "Max"), ("Max",), ("max",), "max", "max", exact=True),
    Function("min", 2, None, "Min", sp.Min, min, ("min", "Min"), ("Min",), ("min",), "min", "min", exact=True),
    _elementary("tan", sp.tan, math.tan),
    _model_only("asin", sp.asin, math.asin),
    _model_only("acos", sp.acos, math.acos),
    _elementary("atan", sp.atan, math.atan, spellings=("arctan",), latex=("arctan",)),
    _model_only("atan2", sp.atan2, math.atan2, args=2),
    _elementary("sinh", sp.sinh, math.sinh),
    _elementary("cosh", sp.cosh, math.cosh),
    _model_only("asinh", sp.asinh, math.asinh),
    _model_only("acosh", sp.acosh, math.acosh),
    _model_only("atanh", sp.atanh, math.atanh),
    # f64 has no erf, and f64::signum(0.0) is 1: the SDK's functions (sdk-rs/src/functions.rs).
    _elementary(
        "sign", sp.sign, _sign, spellings=("sgn",), latex=("sgn",), rust_function="architect_sdk::sign", exact=True
    ),
    _model_only("Heaviside", sp.Heaviside, _heaviside),
    Function("Piecewise", 1, None, "Piecewise", sp.Piecewise, None, model_names=("Piecewise",)),
    _model_only("floor", sp.floor, math.floor, exact=True),
    _model_only("ceiling", sp.ceiling, math.ceil, exact=True),
    _elementary("erf", sp.erf, math.erf, rust_function="architect_sdk::erf"),
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
#: Rust f64 method, or the path of an SDK function -> function.
BY_RUST: Mapping[str, Function] = {
    **{f.rust: f for f in TABLE if f.rust is not None},
    **{f.rust_function: f for f in TABLE if f.rust_function is not None},
}
#: The SDK functions' paths, with their number of arguments (``architect_sdk::erf``: 1).
RUST_FUNCTIONS: Mapping[str, int] = {f.rust_function: f.min_args for f in TABLE if f.rust_function is not None}
#: LaTeX command -> function.
BY_LATEX: Mapping[str, Function] = {s: f for f in TABLE for s in f.latex}


def rust_methods() -> dict[str, int]:
    """The f64 methods an expression may call, with their number of arguments (besides the receiver)."""
    unary = {f.rust: 0 for f in TABLE if f.rust is not None and f.max_args == 1}
    folds = {f.rust: 1 for f in TABLE if f.rust is not None and f.max_args != 1}
    return {**unary, **RUST_POWERS, **folds}
