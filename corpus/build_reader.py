"""Build the reader's corpus: `python corpus/build_reader.py [--count 2400] [--seed 19]`.

Writes corpus/reader-train.jsonl (prompt -> canonical text, `training.reader_corpus`) and
corpus/reader-metadata.json (generator version, seed, counts per family, sha256). No compile: an example is
checked by the grammar and the reader's number rule only.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from training import reader_corpus
    from training.corpus import data_hash, write_jsonl

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--out", type=Path, default=HERE / "reader-train.jsonl")
    args = parser.parse_args(argv)
    start = time.monotonic()
    pairs = list(reader_corpus.pairs(random.Random(args.seed), args.count))
    write_jsonl(args.out, [p.record() for p in pairs])
    metadata = {
        "generator": reader_corpus.GENERATOR_VERSION,
        "seed": args.seed,
        "examples": len(pairs),
        "by_family": dict(collections.Counter(p.family for p in pairs).most_common()),
        "held_out_files": [str(p.relative_to(reader_corpus.ROOT)) for p in reader_corpus.HELD_OUT],
        "sha256": data_hash([args.out]),
        "seconds": round(time.monotonic() - start, 1),
    }
    (args.out.parent / "reader-metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    print(json.dumps({k: v for k, v in metadata.items() if k != "by_family"}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
