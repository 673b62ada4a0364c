"""Build the LLM corpus: `python corpus/build.py [--random 520] [--workers 2]` (see corpus/README.md).

Writes corpus/train.jsonl, corpus/test.jsonl and corpus/metadata.json (generator version,
seed, counts, sha256 of each file). Every kept example compiled and passed the verifier.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

from architect import paths
from training import corpus
from training.randomsde import SQRT_SUM_SHAPES, STATE_FIRST_SQRT_SHAPES

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--random", type=int, default=260, help="random models to draw (before the split)")
    parser.add_argument("--test-slice", type=float, default=0.06, help="share of ordinary random models held out")
    parser.add_argument("--max-test", type=int, default=42, help="cap on held-out examples (eval cost)")
    parser.add_argument("--repair-share", type=float, default=0.15, help="repair examples per train example")
    parser.add_argument("--sv", type=int, default=60, help="two-factor stochastic-volatility systems (train)")
    parser.add_argument("--extra-random", type=int, default=160, help="train-only random models, more shapes")
    parser.add_argument("--per-family", type=int, default=3, help="cap on train examples per named family")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--reprompt",
        action="store_true",
        help="keep the examples (models, split, verdicts) and render their prompts anew (no compile)",
    )
    parser.add_argument(
        "--add-sqrt-sums",
        type=int,
        default=0,
        metavar="N",
        help="append N verified train models with a sum under a square root (test.jsonl untouched)",
    )
    parser.add_argument(
        "--add-state-first-roots",
        type=int,
        default=0,
        metavar="N",
        help="append N verified train models whose root prints with a state variable first (corpus v5)",
    )
    args = parser.parse_args(argv)
    if args.reprompt:
        return reprompt(args.out)
    if args.add_sqrt_sums:
        return add_sqrt_sums(args, args.add_sqrt_sums, SQRT_SUM_SHAPES, seed_offset=3, first_index=30_000)
    if args.add_state_first_roots:
        return add_sqrt_sums(
            args, args.add_state_first_roots, STATE_FIRST_SQRT_SHAPES, seed_offset=4, first_index=40_000
        )
    start = time.monotonic()
    rng = random.Random(args.seed)
    examples = list(corpus.family_examples(rng)) + list(corpus.random_examples(rng, args.random, args.test_slice))
    # Their own random stream, so adding them leaves every other draw (and the whole test split) as it was.
    examples += corpus.stochastic_volatility_examples(random.Random(args.seed + 1), args.sv)
    examples += corpus.extra_random_examples(random.Random(args.seed + 2), args.extra_random)
    drawn = len(examples)
    examples = corpus.cap_families(corpus.dedupe(examples), args.per_family)
    examples = _cap_test(examples, args.max_test, rng)
    print(f"{drawn} drawn, {len(examples)} after dedupe and the test cap; verifying...", flush=True)
    corpus.verify_all(examples, args.workers, paths.cache_dir() / "corpus-workers", log=sys.stdout)
    kept = [e for e in examples if e.verdict.get("verdict") == "pass"]
    rejected = [e for e in examples if e.verdict.get("verdict") != "pass"]
    train = [e.record() for e in kept if e.split == "train"]
    test = [e.record() for e in kept if e.split == "test"]
    repairs = [r for rec in train if rng.random() < args.repair_share if (r := corpus.repair_example(rec, rng))]
    args.out.mkdir(parents=True, exist_ok=True)
    hashes = {
        "train.jsonl": corpus.write_jsonl(args.out / "train.jsonl", train + repairs),
        "test.jsonl": corpus.write_jsonl(args.out / "test.jsonl", test),
    }
    meta = _metadata(args, drawn, examples, kept, rejected, train, test, repairs, hashes, time.monotonic() - start)
    (args.out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta["counts"], indent=2))
    return 0


def reprompt(out: Path) -> int:
    """Rewrite train/test.jsonl with the current prompt; the split and the verified answers stay as built.

    A rebuild would draw other examples (the family catalog changed since the seed was drawn) and
    spend hours of compiles on the same question; the prompt is not part of what was verified.
    """
    meta = json.loads((out / "metadata.json").read_text())
    hashes = {}
    for name in ("train.jsonl", "test.jsonl"):
        records = [json.loads(line) for line in (out / name).read_text().splitlines() if line.strip()]
        hashes[name] = corpus.write_jsonl(out / name, [corpus.reprompt(r) for r in records])
    meta["reprompted"] = {"from_generator_version": meta["generator_version"], "from_sha256": meta["sha256"]}
    meta["generator_version"], meta["sha256"] = corpus.GENERATOR_VERSION, hashes
    (out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(hashes, indent=2))
    return 0


def add_sqrt_sums(
    args: argparse.Namespace, count: int, shapes: tuple[str, ...], seed_offset: int, first_index: int
) -> int:
    """Append verified sum-under-a-root models (and their repair turns) to train.jsonl; test.jsonl stays as it is.

    The built examples keep their bytes (a rebuild would draw others: the catalog changed since the
    seed was drawn); the new ones come from their own random stream (seed + ``seed_offset``: 3 for
    corpus v4's sums, 4 for v5's state-first roots) and are deduplicated against the existing train
    and test prompts.
    """
    start = time.monotonic()
    rng = random.Random(args.seed + seed_offset)
    meta = json.loads((args.out / "metadata.json").read_text())
    old = [json.loads(line) for name in ("train.jsonl", "test.jsonl") for line in (args.out / name).open()]
    seen = {json.dumps([r["messages"][-1]["content"], r["completion"]]) for r in old}
    drawn = list(corpus.sqrt_sum_examples(rng, count, shapes, first_index))
    fresh = [e for e in corpus.dedupe(drawn) if json.dumps(_key(e)) not in seen]
    print(f"{len(drawn)} drawn, {len(fresh)} new; verifying...", flush=True)
    corpus.verify_all(fresh, args.workers, paths.cache_dir() / "corpus-workers", log=sys.stdout)
    kept = [e.record() for e in fresh if e.verdict.get("verdict") == "pass"]
    repairs = [r for rec in kept if rng.random() < args.repair_share if (r := corpus.repair_example(rec, rng))]
    train = [r for r in old if r["split"] == "train"] + kept + repairs
    meta["added"] = [
        *meta.get("added", []),
        {
            "generator_version": corpus.GENERATOR_VERSION,
            "source": f"sqrt_sum_examples (randomsde.sqrt_sum_model, {len(shapes)} shapes), seed + {seed_offset}",
            "drawn": len(drawn),
            "verified": len(kept),
            "rejected_by_verifier": len(fresh) - len(kept),
            "train_repair": len(repairs),
            "shapes": dict(collections.Counter(r["shapes"][-1] for r in kept)),
            "from_sha256": meta["sha256"],
            "build_seconds": round(time.monotonic() - start, 1),
        },
    ]
    meta["generator_version"] = corpus.GENERATOR_VERSION
    meta["sha256"] = meta["sha256"] | {"train.jsonl": corpus.write_jsonl(args.out / "train.jsonl", train)}
    (args.out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta["added"][-1], indent=2))
    return 0


def _key(example: corpus.Example) -> list[str]:
    record = example.record()
    return [record["messages"][-1]["content"], record["completion"]]


def _cap_test(examples: list[corpus.Example], cap: int, rng: random.Random) -> list[corpus.Example]:
    """Held-out examples for the eval, at most ``cap``: a sixth families, half new shapes, the rest new models."""
    train = [e for e in examples if e.split == "train"]
    test = []
    for reason, share in (("family", 1 / 6), ("shape", 1 / 2), ("random slice", 1 / 3)):
        pool = [e for e in examples if e.split == "test" and e.held_out == reason]
        rng.shuffle(pool)
        test += pool[: round(cap * share)]
    return train + test


def _metadata(args, drawn, examples, kept, rejected, train, test, repairs, hashes, seconds) -> dict:
    return {
        "generator_version": corpus.GENERATOR_VERSION,
        "seed": args.seed,
        "random_models_drawn": args.random,
        "held_out_families": sorted(corpus.HELD_OUT_FAMILIES),
        "held_out_shapes": sorted(corpus.HELD_OUT_SHAPES),
        "counts": {
            "drawn": drawn,
            "after_dedupe_and_cap": len(examples),
            "verified": len(kept),
            "rejected_by_verifier": len(rejected),
            "train": len(train),
            "train_repair": len(repairs),
            "test": len(test),
            "test_by_reason": dict(collections.Counter(r["held_out"] for r in test)),
            "train_families": dict(collections.Counter(r["family"] for r in train if r["family"])),
        },
        "rejected": [{"name": e.model.name, "reason": e.verdict.get("reason")} for e in rejected][:50],
        "sha256": hashes,
        "build_seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
