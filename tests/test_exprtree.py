"""Random expression trees for the code writer's corpus (issue #19, item 6): every function of the language,
answers that pass the static checks, a structure key that tells shapes apart."""

from __future__ import annotations

import json
import random
from pathlib import Path

import sympy as sp

from architect.llm.checks import check_completion
from architect.llm.completion import reference_answer
from architect.model import TIME
from training.exprtree import tree_model

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {
    "sin",
    "cos",
    "tan",
    "sinh",
    "cosh",
    "tanh",
    "exp",
    "log",
    "sqrt",
    "abs",
    "min",
    "max",
    "atan",
    "erf",
    "sign",
}


def _draw(count: int, seed: int) -> list:
    rng, out, index = random.Random(seed), [], 0
    while len(out) < count:
        index += 1
        if (drawn := tree_model(rng, index)) is not None:
            out.append(drawn)
    return out


def test_the_trees_use_the_whole_language() -> None:
    drawn = _draw(150, 11)
    used = {f for d in drawn for f in d.shapes}
    assert used >= FUNCTIONS and "pow" in used and "sqrt(x*(1-x))" in used
    entries = [e for d in drawn for e in (*d.model.drift, *(x for r in d.model.diffusion for x in r))]
    powers = {power.exp for e in entries for power in e.atoms(sp.Pow)}
    assert any(isinstance(p, sp.Rational) and not p.is_integer and p != sp.Rational(1, 2) for p in powers)
    assert sum(TIME in e.free_symbols for e in entries) >= 10  # time-dependent terms


def test_the_symbolic_answer_passes_the_static_checks() -> None:
    for drawn in _draw(20, 12):
        check_completion(drawn.model, reference_answer(drawn.model))


def test_the_held_out_tree_shapes_are_disjoint_from_training() -> None:
    def read(name: str) -> list[dict]:
        return [json.loads(line) for line in (ROOT / "corpus" / name).read_text().splitlines()]

    train, test, second = read("trees-train.jsonl"), read("trees-test.jsonl"), read("trees-test-2.jsonl")
    assert len(test) >= 200 and len(second) >= 200
    for held_out, earlier in ((test, train), (second, train + test)):
        assert not {r["structure"] for r in earlier} & {r["structure"] for r in held_out}
        assert not {r["messages"][1]["content"] for r in earlier} & {r["messages"][1]["content"] for r in held_out}
