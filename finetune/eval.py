"""The evaluation table (same as `architect eval`): `python finetune/eval.py --help`."""

import sys

from architect.evaluation import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
