"""Training-data code: the fine-tuning corpus (`training.corpus`) and its random SDEs (`training.randomsde`).

Not part of the runtime package: `architect` never imports it. `corpus/build.py` builds the corpus with it,
`finetune/train.py` records its data hash. Importable from the repository root, which the editable install
(`make setup`) puts on `sys.path`.
"""
