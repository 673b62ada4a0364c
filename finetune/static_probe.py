"""Static pass rates of an adapter on the held-out split: whitelist and equivalence checks, no compile.

    python finetune/static_probe.py [finetune/adapter] [--test corpus/test.jsonl] [--samples 4]

A quick proxy for `architect eval` where cargo is not at hand (e.g. a lent GPU machine without Rust):
the greedy answer and ``--samples`` answers at temperature 0.7 per held-out model, each judged by
`check_completion` only. In every eval so far an answer that passed these checks also compiled and
verified, but only `architect eval` measures that; use this for information, never to pick an adapter
(that would tune on the held-out set).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapter", type=Path, nargs="?", default=ROOT / "finetune" / "adapter")
    parser.add_argument("--test", type=Path, default=ROOT / "corpus" / "test.jsonl")
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args(argv)

    from architect.evaluation import SAMPLE_TEMPERATURE, load_test
    from architect.llm import prompt
    from architect.llm.checks import check_completion
    from architect.llm.completion import CompletionError
    from architect.llm.generator import LocalGenerator

    generator = LocalGenerator(adapter=args.adapter, dtype="float32")
    # per held-out group: [models, greedy passes, samples, sample passes]
    groups: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    start = time.monotonic()
    for model, held_out in load_test(args.test, None):
        messages, names = prompt.messages(model), prompt.names(model)
        greedy = generator.sample(messages, 1, 0.0, names=names)[0]
        samples = generator.sample(messages, args.samples, SAMPLE_TEMPERATURE, names=names) if args.samples else []
        passed = []
        for answer in [greedy, *samples]:
            try:
                check_completion(model, answer)
                passed.append(True)
            except CompletionError:
                passed.append(False)
        tally = groups[held_out]
        tally[0] += 1
        tally[1] += passed[0]
        tally[2] += len(samples)
        tally[3] += sum(passed[1:])
        if not passed[0]:
            print(f"greedy fails: {held_out} {model.name}: {greedy.replace(chr(10), ' | ')[:300]}", flush=True)
    for group, (models, greedy_ok, samples, samples_ok) in groups.items():
        print(f"{group}: greedy {greedy_ok}/{models}, samples {samples_ok}/{samples}")
    totals = [sum(t[i] for t in groups.values()) for i in range(4)]
    print(f"all: greedy {totals[1]}/{totals[0]}, samples {totals[3]}/{totals[2]}, {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
