"""Random expression trees for the code writer (issue #19, item 6): `python corpus/build_trees.py`.

Writes
- corpus/trees-train.jsonl: ``--train`` models drawn with ``--seed`` (`training.exprtree`), every answer verified
  statically (the whitelist parser and the numeric comparison with the model at 6 points, `check_completion`), a
  sample of ``--compile`` of them also compiled and verified by the statistical verifier (their verdicts are in
  the records; a record with ``"verification": {"static": true}`` was checked statically only);
- corpus/trees-test.jsonl: ``--test`` held-out models drawn with ``--seed + 1000``, checked statically, with any
  model whose structure (`exprtree.structure_key`) or prompt occurs in training dropped;
- corpus/train-trees.jsonl: corpus/train.jsonl followed by the tree records (what `finetune/train.py --new-from`
  continues an adapter on: the new records plus as many old ones replayed);
- corpus/trees-metadata.json: seeds, counts, functions used, the compiled sample's verdicts, sha256s.

With ``--second-test N`` it only draws a second held-out set, corpus/trees-test-2.jsonl: N models drawn with
``--seed + 2000``, none sharing a structure or a prompt with the training or the first test set. It measures
what was tuned while looking at the first test set's failures (docs/llm.md, "Unfamiliar shapes").
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from architect.llm import prompt
    from architect.llm.checks import check_completion
    from architect.llm.completion import CompletionError, reference_answer
    from training import exprtree
    from training.corpus import data_hash, verify_example, write_jsonl

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=320)
    parser.add_argument("--test", type=int, default=220)
    parser.add_argument("--compile", type=int, default=10, help="training models also compiled and verified")
    parser.add_argument("--seed", type=int, default=1906)
    parser.add_argument("--second-test", type=int, default=0, help="only draw a second held-out set of this size")
    args = parser.parse_args(argv)
    start = time.monotonic()

    def draw(seed: int, count: int, split: str, exclude: set[str]) -> list[dict]:
        rng, index = random.Random(seed), 0
        records: list[dict] = []
        rejected: collections.Counter[str] = collections.Counter()
        while len(records) < count:
            index += 1
            drawn = exprtree.tree_model(rng, index)
            if drawn is None:
                rejected["invalid"] += 1
                continue
            key = exprtree.structure_key(drawn.model)
            messages = prompt.messages(drawn.model)
            if key in exclude or messages[1]["content"] in exclude:
                rejected["seen"] += 1
                continue
            answer = reference_answer(drawn.model)
            try:
                check_completion(drawn.model, answer)
            except CompletionError:
                rejected["static"] += 1
                continue
            exclude |= {key, messages[1]["content"]}
            records.append({
                "split": split, "kind": "tree", "family": None, "held_out": "tree" if split == "test" else "",
                "shapes": list(drawn.shapes), "text": "", "messages": messages, "completion": answer,
                "model": drawn.model.to_dict(), "verification": {"static": True}, "structure": key,
            })  # fmt: skip
        print(f"{split}: {len(records)} drawn in {index} tries, rejected {dict(rejected)}", flush=True)
        return records

    if args.second_test:
        return second_test(args.seed + 2000, args.second_test, draw)
    seen: set[str] = set()
    train = draw(args.seed, args.train, "train", seen)
    test = draw(args.seed + 1000, args.test, "test", set(seen))
    assert not {r["structure"] for r in train} & {r["structure"] for r in test}
    compiled = []
    for record in random.Random(args.seed).sample(train, min(args.compile, len(train))):
        verdict = verify_example(json.dumps(record["model"]))
        record["verification"] = verdict | {"static": True}
        compiled.append({"model": record["model"]["name"], "structure": record["structure"][:120]} | verdict)
        print(f"compiled: {verdict['verdict']} {verdict['reason'][:100]}", flush=True)
    write_jsonl(HERE / "trees-train.jsonl", train)
    write_jsonl(HERE / "trees-test.jsonl", test)
    old = (HERE / "train.jsonl").read_text()
    (HERE / "train-trees.jsonl").write_text(old + (HERE / "trees-train.jsonl").read_text())
    functions = collections.Counter(f for r in train for f in r["shapes"])
    metadata = {
        "generator": "architect-trees/1",
        "seed_train": args.seed,
        "seed_test": args.seed + 1000,
        "train": len(train),
        "test": len(test),
        "old_train_lines": len(old.splitlines()),
        "functions_in_train": dict(functions.most_common()),
        "compiled_sample": compiled,
        "sha256": {name: data_hash([HERE / name]) for name in ("trees-train.jsonl", "trees-test.jsonl")},
        "seconds": round(time.monotonic() - start, 1),
    }
    (HERE / "trees-metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    print(json.dumps({k: v for k, v in metadata.items() if k != "compiled_sample"}))
    return 0


def second_test(seed: int, count: int, draw: Callable[[int, int, str, set[str]], list[dict]]) -> int:
    """Draw corpus/trees-test-2.jsonl, disjoint from the training and first test sets; record it in the metadata."""
    from training.corpus import data_hash, write_jsonl

    earlier = [json.loads(line) for name in ("trees-train.jsonl", "trees-test.jsonl")
               for line in (HERE / name).read_text().splitlines()]  # fmt: skip
    seen = {r["structure"] for r in earlier} | {r["messages"][1]["content"] for r in earlier}
    write_jsonl(HERE / "trees-test-2.jsonl", draw(seed, count, "test", seen))
    metadata = json.loads((HERE / "trees-metadata.json").read_text())
    metadata |= {"seed_test_2": seed, "test_2": count}
    metadata["sha256"]["trees-test-2.jsonl"] = data_hash([HERE / "trees-test-2.jsonl"])
    (HERE / "trees-metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
