"""What the LLM is shown: the canonical model in text, and the Rust names it must use.

One prompt format for the corpus, fine-tuning, generation and evaluation. The model-specific
part of the crate is all the LLM writes (see `completion`); the scheme is chosen by the
symbolic side and shown only as context.

The prompt ends with every coefficient already written with the Rust names substituted, in
plain math syntax and in the order and layout of the answer (`MathPrinter`): the LLM's task
is a faithful copy with local syntax changes (``sqrt(a)`` -> ``f64::sqrt(a)``, ``x**2`` ->
``x.powi(2)``, ``2`` -> ``2.0``) that keep the order of the math (a method chain ``x.cos().sin()`` would
reverse nested calls, which adapter v6 could not learn), which a 135M model can learn, not a recall of which
expression a model name usually has (adapter v2 answered held-out shapes with trained ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from architect.codegen.symbolic import choose_scheme, model_identifiers
from architect.expr.functions import RUST_POWERS, TABLE
from architect.expr.printers import MathPrinter, display
from architect.llm.completion import Names
from architect.model import TIME, SdeModel, symbol

SYSTEM = (
    "Translate the SDE into Rust f64 expressions. Reply with `drift: [...]` (one per state variable), "
    "`diffusion: [[...]]` (row per state variable, column per Brownian motion) and, if correlated, "
    "`correlation: [[...]]`: the coefficients given in math syntax, rewritten in Rust syntax "
    "(sqrt(a) -> f64::sqrt(a), a**2 -> a.powi(2), exp(a) -> f64::exp(a), max(a, b) -> f64::max(a, b), 2 -> 2.0)."
)

REPAIR = "That answer was rejected:\n{problems}\nWrite the corrected answer in the same format."

Message = dict[str, str]


def names(model: SdeModel) -> Names:
    """The identifiers the model's expressions may read, and the shape of its answer."""
    params, state = model_identifiers(model)
    return Names(
        locals=frozenset([*state.values(), "t"]),
        fields=frozenset(params.values()),
        dim=model.dim,
        noise_dim=model.noise_dim,
        calls=rust_calls(model),
    )


#: What the compiler writes for a power, whatever functions the model has (``x**0.5`` is ``f64::sqrt(x)``).
_POWER_CALLS = frozenset({"sqrt", *RUST_POWERS})


def rust_calls(model: SdeModel) -> frozenset[str]:
    """The f64 methods and SDK functions a translation of the model's math calls: its functions' Rust
    spellings, and those of powers. Constrained decoding allows no others (`Names.calls`)."""
    used = {type(node).__name__ for e in _expressions(model) for node in sp.preorder_traversal(e)}  # Max is no Function
    spelled = {f.rust or f.rust_function for f in TABLE if f.sympy_name in used}
    return _POWER_CALLS | {s for s in spelled if s is not None}


def user_prompt(model: SdeModel) -> str:
    """The model as the user turn: equations, correlations, then the Rust name of everything."""
    params, state = model_identifiers(model)
    lines = [f"Model: {model.name}", *model.equations()]
    m = model.noise_dim
    lines += [
        f"d{model.noises[k]}*d{model.noises[j]} = {display(model.correlation[k][j])}*dt"
        for k in range(m)
        for j in range(k + 1, m)
        if model.correlation[k][j] != 0
    ]
    lines.append("State in Rust: " + ", ".join(f"{n} -> {ident}" for n, ident in state.items()))
    if params:
        values = model.parameter_values()
        lines.append(
            "Parameters in Rust: " + ", ".join(f"{n} = {values[n]:g} -> self.{ident}" for n, ident in params.items())
        )
    lines.append("Brownian motions: " + ", ".join(model.noises))
    lines.append(f"Scheme: {choose_scheme(model).name}")
    if functions := rust_functions(model):
        lines.append("Functions in Rust: " + ", ".join(functions))
    lines.append("The coefficients with the Rust names, in math syntax:")
    lines += math_coefficients(model)
    return "\n".join(lines)


#: The functions the system prompt's examples already show (sqrt, exp, max): no extra line for them.
_SHOWN = frozenset({"sqrt", "exp", "max"})


def rust_functions(model: SdeModel) -> list[str]:
    """How each function the model calls beyond the system prompt's examples is written in Rust
    (``tanh(a) -> f64::tanh(a)``, ``erf(a) -> architect_sdk::erf(a)``), in the table's order."""
    used = {type(f).__name__ for e in _expressions(model) for f in e.atoms(sp.Function)}
    out = []
    for function in TABLE:
        if function.sympy_name not in used or function.math is None or function.math in _SHOWN:
            continue
        if function.rust_function is not None:
            out.append(f"{function.math}(a) -> {function.rust_function}(a)")
        elif function.max_args == 1:
            out.append(f"{function.math}(a) -> f64::{function.rust}(a)")
        else:
            out.append(f"{function.math}(a, b) -> f64::{function.rust}(a, b)")
    return out


def _expressions(model: SdeModel) -> list[sp.Expr]:
    return [*model.drift, *(e for row in model.diffusion for e in row), *(e for row in model.correlation for e in row)]


def math_coefficients(model: SdeModel) -> list[str]:
    """The answer's lines with math syntax: drift per state, diffusion row per state, correlation if any."""
    printer = _math_printer(model)

    def row(exprs: tuple[sp.Expr, ...]) -> str:
        return "[" + ", ".join(printer.code(e) for e in exprs) + "]"

    lines = [f"drift: {row(model.drift)}", "diffusion: [" + ", ".join(row(r) for r in model.diffusion) + "]"]
    m = model.noise_dim
    if any(model.correlation[k][j] != int(k == j) for k in range(m) for j in range(m)):
        lines.append("correlation: [" + ", ".join(row(r) for r in model.correlation) + "]")
    return lines


def math_items(model: SdeModel) -> list[str]:
    """Every coefficient in math syntax, in the answer's order: drift, diffusion by rows, correlation by rows."""
    printer = _math_printer(model)
    return [printer.code(e) for e in _expressions(model)]


def _math_printer(model: SdeModel) -> MathPrinter:
    params, state = model_identifiers(model)
    names = {symbol(n): state[n] for n in model.state} | {symbol(p): f"self.{i}" for p, i in params.items()}
    return MathPrinter(names | {TIME: "t"})


@dataclass(frozen=True)
class Turn:
    """An earlier answer and why it was rejected (for a repair)."""

    answer: str
    problems: tuple[str, ...]


def messages(model: SdeModel, history: tuple[Turn, ...] = ()) -> list[Message]:
    out = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_prompt(model)}]
    for turn in history:
        out.append({"role": "assistant", "content": turn.answer})
        out.append({"role": "user", "content": repair_prompt(turn.problems)})
    return out


def repair_prompt(problems: tuple[str, ...] | list[str]) -> str:
    return REPAIR.format(problems="\n".join(f"- {p}" for p in list(problems)[:6]))


def chatml(messages_: list[Message], add_generation_prompt: bool = True) -> str:
    """ChatML text, for tokenizers without a chat template (SmolLM2's and Qwen's own format)."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages_)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")
