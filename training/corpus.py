"""The fine-tuning corpus: prompt -> the Rust expressions the symbolic compiler writes, verified.

Sources: every named family under each of its paraphrases and several parameterisations,
and random polynomial diffusions (`randomsde`). The split is decided *before* anything is
compiled: the held-out families and every model using a held-out expression shape go to
``test``, plus a slice of ordinary random models (new names and combinations). An example is
kept only if the symbolic crate compiles and passes the statistical verifier. Training also
gets repair examples: a plausible wrong answer, the checker's complaint, then the right answer.

Run ``python corpus/build.py`` to rebuild it (deterministic for a given seed and version).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from architect.llm import prompt
from architect.llm.checks import check_completion
from architect.llm.completion import CompletionError, reference_answer
from training.randomsde import (
    HELD_OUT_SHAPES,
    SQRT_SUM_SHAPES,
    random_model,
    sqrt_sum_model,
    stochastic_volatility_model,
)

__all__ = ["HELD_OUT_SHAPES", "Example"]
from architect.model import SdeModel
from architect.parser import catalog, parse

#: Bump when the prompt, the answer format or the generators change: the corpus records it.
# 4: + train models with a sum under a square root (corpus/build.py --add-sqrt-sums)
# 6: answers call functions by path, f64::sqrt(x) (corpus/build.py --reprompt re-renders version 5)
GENERATOR_VERSION = "architect-corpus/6"
HELD_OUT_FAMILIES = frozenset({"cir", "heston-with-mean-reversion"})


@dataclass
class Example:
    model: SdeModel
    split: str  # train | test
    kind: str  # family | random
    family: str | None = None
    shapes: tuple[str, ...] = ()
    held_out: str = ""  # why it is in test: family | shape | random slice
    text: str = ""  # what the user typed, for family examples
    verdict: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        completion = reference_answer(self.model)
        return {
            "split": self.split,
            "kind": self.kind,
            "family": self.family,
            "held_out": self.held_out,
            "shapes": list(self.shapes),
            "text": self.text,
            "messages": prompt.messages(self.model),
            "completion": completion,
            "model": self.model.to_dict(),
            "verification": self.verdict,
        }


# ----------------------------------------------------------------------------- sources
def family_examples(rng: random.Random, variants: int = 3) -> Iterator[Example]:
    """Each family under each paraphrase, with its defaults and with random overrides."""
    # Jump families are refused by the parser until the model type carries jumps (docs/models.md).
    for fam in (f for f in catalog.FAMILIES if f.jumps is None):
        split = "test" if fam.key in HELD_OUT_FAMILIES else "train"
        for synonym in fam.synonyms:
            for n in range(variants):
                text = synonym if n == 0 else f"{synonym} {_overrides(fam, rng)}"
                yield Example(
                    parse(text), split, "family", fam.key, held_out="family" if split == "test" else "", text=text
                )


def _overrides(fam: catalog.Family, rng: random.Random) -> str:
    chosen = rng.sample(list(fam.parameters), k=min(2, len(fam.parameters)))
    parts = []
    for p in chosen:
        if p.constraint == "correlation":
            value = round(rng.uniform(-0.9, 0.9), 2)
        else:
            value = round(p.value * rng.uniform(0.5, 1.5), 4) or p.value
        parts.append(f"{p.name}={value:g}")
    return ", ".join(parts)


def random_examples(rng: random.Random, count: int, test_slice: float) -> Iterator[Example]:
    """``count`` random models; held-out shapes go to test, and a slice of the others too."""
    index = 0
    made = 0
    while made < count:
        index += 1
        drawn = random_model(rng, index)
        if drawn is None:
            continue
        made += 1
        held = set(drawn.shapes) & HELD_OUT_SHAPES
        if held:
            yield Example(drawn.model, "test", "random", shapes=drawn.shapes, held_out="shape")
        elif rng.random() < test_slice:
            yield Example(drawn.model, "test", "random", shapes=drawn.shapes, held_out="random slice")
        else:
            yield Example(drawn.model, "train", "random", shapes=drawn.shapes)


def stochastic_volatility_examples(rng: random.Random, count: int) -> Iterator[Example]:
    """Two-factor Heston-like systems with random names, for training (their shapes are not held out)."""
    index = 10_000
    made = 0
    while made < count:
        index += 1
        drawn = stochastic_volatility_model(rng, index)
        if drawn is not None:
            made += 1
            yield Example(drawn.model, "train", "random", shapes=drawn.shapes)


def extra_random_examples(rng: random.Random, count: int) -> Iterator[Example]:
    """More training models from a second stream with more shapes; any draw using a held-out shape is dropped."""
    index, made = 20_000, 0
    while made < count:
        index += 1
        drawn = random_model(rng, index, extra=True)
        if drawn is None or set(drawn.shapes) & HELD_OUT_SHAPES:
            continue
        made += 1
        yield Example(drawn.model, "train", "random", shapes=drawn.shapes)


def sqrt_sum_examples(
    rng: random.Random, count: int, shapes: tuple[str, ...] = SQRT_SUM_SHAPES, first_index: int = 30_000
) -> Iterator[Example]:
    """Training models with a sum under a square root (`randomsde.sqrt_sum_model`); never a held-out shape."""
    index, made = first_index, 0
    while made < count:
        index += 1
        drawn = sqrt_sum_model(rng, index, shapes)
        if drawn is None or set(drawn.shapes) & HELD_OUT_SHAPES:
            continue
        made += 1
        yield Example(drawn.model, "train", "random", shapes=drawn.shapes)


def cap_families(examples: list[Example], per_family: int) -> list[Example]:
    """At most ``per_family`` training examples per named family: a family's answer is always the same,
    and many copies of it teach the LLM to answer by the name instead of the equations."""
    seen: dict[str, int] = {}
    out = []
    for ex in examples:
        if ex.kind == "family" and ex.split == "train":
            seen[ex.family or ""] = seen.get(ex.family or "", 0) + 1
            if seen[ex.family or ""] > per_family:
                continue
        out.append(ex)
    return out


def dedupe(examples: list[Example]) -> list[Example]:
    """One example per (prompt, answer); a test prompt that also occurs in train is dropped from test."""
    seen: dict[str, Example] = {}
    for ex in sorted(examples, key=lambda e: e.split != "train"):  # train first, stable
        key = json.dumps([prompt.user_prompt(ex.model), reference_answer(ex.model)])
        if key not in seen:
            seen[key] = ex
    return list(seen.values())


# ----------------------------------------------------------------------------- verification
def verify_example(model_json: str) -> dict[str, Any]:
    """Compile the symbolic crate and run the verifier."""
    from architect.api import generate

    model = SdeModel.from_json(model_json)
    with tempfile.TemporaryDirectory(prefix="architect-corpus-") as tmp:
        result = generate(model, out=Path(tmp) / "crate", backend="symbolic")
    checks = result.report.get("checks", [])
    return {
        "verdict": result.report["verdict"],
        "checks_passed": sum(1 for c in checks if c.get("passed")),
        "checks": len(checks),
        "reason": result.report["reason"][:300],
    }


def _own_cache(root: str, counter: Any) -> None:
    """Pool initializer: each worker process compiles into its own cargo target (no lock contention)."""
    with counter.get_lock():
        counter.value += 1
        os.environ["ARCHITECT_CACHE"] = str(Path(root) / f"worker{counter.value}")


def verify_all(examples: list[Example], workers: int, cache_root: Path, log: Any = None) -> None:
    """Verify every example, ``workers`` at a time, each worker in its own cargo target folder.

    Verdicts are cached by model (``cache_root/verdicts.jsonl``), so an interrupted build resumes.
    """
    import multiprocessing

    cache_root.mkdir(parents=True, exist_ok=True)
    known = load_verdicts(cache_root / "verdicts.jsonl")
    todo = [ex for ex in examples if model_key(ex.model) not in known]
    counter = multiprocessing.Value("i", 0)
    models = [ex.model.to_json() for ex in todo]
    with (
        ProcessPoolExecutor(workers, initializer=_own_cache, initargs=(str(cache_root), counter)) as pool,
        (cache_root / "verdicts.jsonl").open("a") as store,
    ):
        # One worker: verify in this process, with the shared cargo target (no second SDK build).
        verdicts = map(verify_example, models) if workers <= 1 else pool.map(verify_example, models)
        for n, (ex, verdict) in enumerate(zip(todo, verdicts, strict=True)):
            known[model_key(ex.model)] = verdict
            store.write(json.dumps({"key": model_key(ex.model), "verdict": verdict}) + "\n")
            store.flush()
            if log is not None:
                print(f"[{n + 1}/{len(todo)}] {ex.split} {ex.model.name}: {verdict['verdict']}", file=log, flush=True)
    for ex in examples:
        ex.verdict = known[model_key(ex.model)]


def model_key(model: SdeModel) -> str:
    return hashlib.sha256(model.to_json().encode()).hexdigest()


def load_verdicts(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    return {r["key"]: r["verdict"] for r in map(json.loads, path.read_text().splitlines()) if r}


# ----------------------------------------------------------------------------- repair examples
_MUTATIONS = (
    ("missing self.", lambda s, r: re.sub(r"self\.(\w+)", r"\1", s, count=1)),
    ("integer literal", lambda s, r: re.sub(r"\b(\d+)\.0\b", r"\1", s, count=1)),
    ("sqrt dropped", lambda s, r: re.sub(r"f64::sqrt\(", "(", s.replace(".sqrt()", "", 1), count=1)),
    ("sign flipped", lambda s, r: s.replace(" - ", " + ", 1)),
    ("wrong parameter", None),
    ("bare literal receiver", lambda s, r: re.sub(r"(\d+\.\d+)_f64", r"\1", s, count=1)),
)


def repair_example(record: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """A wrong answer the checker rejects, its complaint, and the verified answer as the target."""
    model = SdeModel.from_dict(record["model"])
    right = record["completion"]
    fields = sorted(set(re.findall(r"self\.\w+", right)))
    order = list(_MUTATIONS)
    rng.shuffle(order)
    for name, mutate in order:
        if mutate is None:
            if len(fields) < 2:
                continue
            a, b = rng.sample(fields, 2)
            wrong = right.replace(a, "\0").replace(b, a).replace("\0", b)
        else:
            wrong = mutate(right, rng)
        if wrong == right:
            continue
        try:
            check_completion(model, wrong)
        except CompletionError as exc:
            history = (prompt.Turn(wrong, tuple(exc.problems)),)
            return record | {"kind": "repair", "mutation": name, "messages": prompt.messages(model, history)}
    return None


# ----------------------------------------------------------------------------- a new prompt, same examples
def reprompt(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its messages and answer rendered by the current prompt and answer style: same model,
    split and verdict.

    A re-rendered answer must still pass the static checks against the model (the numeric comparison at
    random points), so a style change (generator version 6: functions called by path) keeps what was
    verified. A repair record keeps its wrong answer when it is in the current style; otherwise a new
    wrong answer is drawn from the new right one, and the checker's complaint is computed again.
    """
    model = SdeModel.from_dict(record["model"])
    completion = reference_answer(model)
    check_completion(model, completion)
    renewed = record | {"completion": completion, "messages": prompt.messages(model)}
    if record["kind"] != "repair":
        return renewed
    wrong = record["messages"][-2]["content"]
    try:
        check_completion(model, wrong)
    except CompletionError as exc:
        if completion == record["completion"]:
            return renewed | {"messages": prompt.messages(model, (prompt.Turn(wrong, tuple(exc.problems)),))}
    else:
        raise ValueError(f"{model.name}: the repair example's wrong answer now passes the checks")
    repaired = repair_example(renewed, random.Random(model_key(model)))
    if repaired is None:
        raise ValueError(f"{model.name}: no wrong answer could be drawn for the repair example")
    return repaired


# ----------------------------------------------------------------------------- files
def write_jsonl(path: Path, records: list[dict[str, Any]]) -> str:
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


def data_hash(paths_: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths_:
        digest.update(path.read_bytes())
    return digest.hexdigest()
