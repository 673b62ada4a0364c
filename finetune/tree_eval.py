"""Greedy verified-pass@1 of an adapter on held-out models, batched: `python finetune/tree_eval.py ADAPTER`.

    python finetune/tree_eval.py finetune/adapter --test corpus/trees-test.jsonl --compile 12 --out docs/x.json

Each held-out model gets one greedy answer, decoded in batches (left padding) with the same grammar constraint
as the backend (`GrammarConstraint`, one name set per row). Every answer is judged by the static checks
(`check_completion`: the whitelist parser and the numeric comparison with the model at 6 points); a random
sample of ``--compile`` answers that passed them is also built and verified by the statistical verifier
(`evaluation.Judge`). The static pass rate is the greedy pass@1 before compiling; the sample says how often a
statically passed answer also verifies. ``--first-attempt`` completes each failed greedy answer into the
backend's whole first attempt (`backend.repair_items`: its wrong expressions rewritten one at a time) and
reports that rate too; the compiled sample is then drawn from the repaired answers. ``--greedy-from`` takes the
greedy answers from an earlier ``--out`` of the same adapter instead of decoding them again. ``--adapter none``
runs the base model.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapter")
    parser.add_argument("--test", type=Path, action="append", default=None)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--compile", type=int, default=0, help="statically passed answers also compiled+verified")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--first-attempt",
        action="store_true",
        help="also the backend's whole first attempt: where greedy fails the static checks, its expressions repaired",
    )
    parser.add_argument(
        "--greedy-from",
        type=Path,
        default=None,
        help="the greedy answers of an earlier run of this adapter on the same tests (its --out), not decoded again",
    )
    args = parser.parse_args(argv)

    from architect.evaluation import Judge, load_test
    from architect.llm.checks import check_completion
    from architect.llm.completion import CompletionError
    from architect.llm.generator import LocalGenerator
    from architect.options import Options

    adapter = None if args.adapter == "none" else Path(args.adapter)
    generator = LocalGenerator(adapter=adapter, dtype="float32")  # the backend's token budget
    tests = args.test or [ROOT / "corpus" / "trees-test.jsonl"]
    models = [item for path in tests for item in load_test(path, args.limit)]
    start = time.monotonic()
    if args.greedy_from is not None:
        answers = earlier_answers(args.greedy_from, models)
    else:
        answers = greedy_answers(generator, models, args.batch, start)
    generation = time.monotonic() - start
    results = []
    for (model, group), answer in zip(models, answers, strict=True):
        try:
            check_completion(model, answer)
            problems: list[str] = []
        except CompletionError as exc:
            problems = exc.problems
        results.append({"model": model.name, "group": group or "held-out", "answer": answer,
                        "static": not problems, "problems": problems[:2]})  # fmt: skip
    if args.out is not None:  # the greedy answers first: what a later stage costs is not lost with it
        write(args.out, args.adapter, tests, results, generation)
    if args.first_attempt:
        first_attempts(generator, models, results)
    # The compiled sample: of the statically passed greedy answers, or with --first-attempt of the repaired ones.
    if args.first_attempt:
        passed = [i for i, r in enumerate(results) if r["first_attempt"] and not r["static"]]
    else:
        passed = [i for i, r in enumerate(results) if r["static"]]
    sample = random.Random(7).sample(passed, min(args.compile, len(passed)))
    if sample:
        with tempfile.TemporaryDirectory(prefix="architect-tree-eval-") as tmp:
            judge = Judge(Options(), Path(tmp))
            for i in sample:
                judged = judge.answer(models[i][0], results[i].get("first_attempt_answer", answers[i]))
                results[i]["compiled"], results[i]["verified"] = judged.compiled, judged.passed
                results[i]["verify_problems"] = judged.problems[:2]
                print(f"compiled {models[i][0].name}: {judged.stage}", flush=True)
    print(json.dumps(summarise(results, generation), indent=1))
    if args.out is not None:
        write(args.out, args.adapter, tests, results, generation)
    return 0


def write(out: Path, adapter: str, tests: list[Path], results: list[dict[str, Any]], generation: float) -> None:
    summary = summarise(results, generation)
    record = {"adapter": adapter, "tests": [str(t) for t in tests], "summary": summary, "results": results}
    out.write_text(json.dumps(record, indent=1) + "\n")


def greedy_answers(generator: Any, models: list[Any], batch: int, start: float) -> list[str]:
    """One greedy answer per model, decoded in batches of similar prompt length (less padding, and answers of
    similar length end together)."""
    from architect.llm import prompt

    order = sorted(range(len(models)), key=lambda j: len(prompt.user_prompt(models[j][0])))
    by_index: dict[int, str] = {}
    for i in range(0, len(order), batch):
        chunk = [models[j][0] for j in order[i : i + batch]]
        out = batch_greedy(generator, [prompt.messages(m) for m in chunk], [prompt.names(m) for m in chunk])
        by_index.update(zip(order[i : i + batch], out, strict=True))
        print(f"{len(by_index)}/{len(models)} answered, {time.monotonic() - start:.0f}s", flush=True)
    return [by_index[j] for j in range(len(models))]


def earlier_answers(path: Path, models: list[Any]) -> list[str]:
    """The greedy answers of an earlier run (``--out`` of this script) on the same models, in the same order."""
    results = json.loads(path.read_text())["results"]
    if [r["model"] for r in results] != [m.name for m, _ in models]:
        raise SystemExit(f"{path} was run on other models")
    return [r["answer"] for r in results]


def first_attempts(generator: Any, models: list[Any], results: list[dict[str, Any]]) -> None:
    """Complete each failed greedy answer into the backend's first attempt (`backend.checked_candidate`: the
    answer's wrong expressions rewritten, `backend.repair_items`) and record in ``first_attempt`` whether that
    attempt passes the static checks, and what it wrote."""
    import torch

    from architect.llm import prompt
    from architect.llm.backend import first_checked, repair_items

    torch.manual_seed(0)
    failed = [i for i, r in enumerate(results) if not r["static"]]
    for n, i in enumerate(failed, 1):
        model = models[i][0]
        clock = time.monotonic()
        answer, tried = repair_items(generator, model, prompt.messages(model), results[i]["answer"])
        results[i]["first_attempt"] = first_checked(model, [answer])[1] is not None
        results[i]["first_attempt_answer"], results[i]["first_attempt_tried"] = answer, tried
        results[i]["first_attempt_seconds"] = round(time.monotonic() - clock, 1)
        print(f"first attempt {n}/{len(failed)}: {results[i]['first_attempt']} ({tried} tried)", flush=True)
    for r in results:
        r.setdefault("first_attempt", r["static"])


def summarise(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    groups: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for r in results:
        groups[r["group"]][0] += 1
        groups[r["group"]][1] += r["static"]
        groups[r["group"]][2] += r.get("first_attempt", False)
    compiled = [r for r in results if "verified" in r]
    sampled = any("first_attempt" in r for r in results)
    return {
        "models": len(results),
        "static_pass": sum(r["static"] for r in results),
        "static_rate": round(sum(r["static"] for r in results) / max(1, len(results)), 4),
        "by_group": {
            g: {"models": n, "static_pass": k, "rate": round(k / n, 4)}
            | ({"first_attempt_pass": f, "first_attempt_rate": round(f / n, 4)} if sampled else {})
            for g, (n, k, f) in groups.items()
        },
        "compiled_sample": len(compiled),
        "compiled_sample_verified": sum(bool(r["verified"]) for r in compiled),
        "generation_seconds": round(seconds, 1),
    }


def batch_greedy(generator: Any, conversations: list[list[dict[str, str]]], names: list[Any]) -> list[str]:
    """Greedy answers for several prompts at once (left padding), each constrained by its own names."""
    import torch
    from transformers import LogitsProcessorList

    tokenizer = generator.tokenizer
    texts = [generator.render(m) for m in conversations]
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token_id = generator.pad_id
    inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(generator.device)
    width = inputs["input_ids"].shape[1]
    constraint = RowConstraint(tokenizer, width, names, generator.eos_ids)
    with torch.inference_mode():
        out = generator.model.generate(
            **inputs,
            logits_processor=LogitsProcessorList([constraint]),
            do_sample=False,
            max_new_tokens=generator.max_new_tokens,
            eos_token_id=generator.eos_ids,
            pad_token_id=generator.pad_id,
        )
    return [tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in out]


class RowConstraint:
    """`GrammarConstraint` with one set of names per row of the batch."""

    def __init__(self, tokenizer: Any, width: int, names: list[Any], eos_ids: list[int]) -> None:
        from architect.llm.generator import GrammarConstraint

        self.rows = [GrammarConstraint(tokenizer, width, n, eos_ids) for n in names]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        for row, constraint in enumerate(self.rows):
            scores[row : row + 1] = constraint(input_ids[row : row + 1], scores[row : row + 1])
        return scores


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
