"""What the LLM is shown: the canonical model in text, and the Rust names it must use.

One prompt format for the corpus, fine-tuning, generation and evaluation. The model-specific
part of the crate is all the LLM writes (see `completion`); the scheme is chosen by the
symbolic side and shown only as context.
"""

from __future__ import annotations

from dataclasses import dataclass

from architect.codegen.symbolic import choose_scheme, model_identifiers
from architect.llm.completion import Names
from architect.model import SdeModel, _fmt

SYSTEM = (
    "Translate the SDE into Rust f64 expressions. Reply with `drift: [...]` (one per state variable), "
    "`diffusion: [[...]]` (row per state variable, column per Brownian motion) and, if correlated, "
    "`correlation: [[...]]`."
)

REPAIR = "That answer was rejected:\n{problems}\nWrite the corrected answer in the same format."

Message = dict[str, str]


def names(model: SdeModel) -> Names:
    """The identifiers the model's expressions may read."""
    params, state = model_identifiers(model)
    return Names(locals=frozenset([*state.values(), "t"]), fields=frozenset(params.values()))


def user_prompt(model: SdeModel) -> str:
    """The model as the user turn: equations, correlations, then the Rust name of everything."""
    params, state = model_identifiers(model)
    lines = [f"Model: {model.name}", *model.equations()]
    m = model.noise_dim
    lines += [
        f"d{model.noises[k]}*d{model.noises[j]} = {_fmt(model.correlation[k][j])}*dt"
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
    return "\n".join(lines)


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
