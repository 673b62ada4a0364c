"""Load the base model (+ the committed LoRA adapter) and sample answers. torch is imported here only.

`Generator` is the interface the backend needs: ``sample(messages, k, temperature)`` returns k
answer texts. `LocalGenerator` runs a transformers causal LM on the CPU (or a GPU when present);
tests and callers can pass any object with the same method.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from architect import paths
from architect.llm import prompt
from architect.llm.completion import Names, complete_answer, viable_prefix
from architect.llm.weights import DEFAULT_BASE, EOS_TOKEN, PAD_TOKEN, base_model_dir

MAX_NEW_TOKENS = 320  # the longest reference answer (a random tree of corpus/trees-*.jsonl) is 246 tokens


class Generator(Protocol):
    name: str

    def sample(
        self, messages: list[prompt.Message], k: int, temperature: float, names: Names | None = None
    ) -> list[str]: ...


def default_adapter() -> Path:
    return paths.adapter_dir()


def adapter_sha256(adapter: Path | None) -> str | None:
    """sha256 of adapter_model.safetensors, the identity of a trained adapter."""
    if adapter is None or not (adapter / "adapter_model.safetensors").is_file():
        return None
    return hashlib.sha256((adapter / "adapter_model.safetensors").read_bytes()).hexdigest()


def llm_stack_problem() -> str | None:
    """Why the LLM backend cannot run here (the `llm` extra is not installed), or None."""
    import importlib.util

    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    if missing:
        return f"the LLM stack is not installed ({', '.join(missing)} missing: pip install -e '.[llm]')"
    return None


@dataclass
class Stats:
    """Token throughput of the generator, for the report and the eval table."""

    new_tokens: int = 0
    seconds: float = 0.0
    calls: int = 0
    load_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds else 0.0


@dataclass
class LocalGenerator:
    """A transformers causal LM, optionally with a peft LoRA adapter, sampling ChatML answers."""

    base: str | None = None
    adapter: Path | None = field(default_factory=default_adapter)
    dtype: str = "auto"  # auto: bfloat16 on CPUs that have it fast, else float32
    threads: int | None = None
    max_new_tokens: int = MAX_NEW_TOKENS
    constrained: bool = True  # grammar- and whitelist-constrained decoding when the caller passes names
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # shared CPUs: idle threads sleep, not spin
        start = time.monotonic()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        source = base_model_dir(self.base)
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        dtype = _dtype(torch, self.dtype, self.device)
        model = AutoModelForCausalLM.from_pretrained(str(source), dtype=dtype)
        if self.adapter is not None and (self.adapter / "adapter_config.json").is_file():
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(self.adapter)).merge_and_unload()
        else:
            self.adapter = None
        self.model = model.to(self.device).eval()
        self.eos_ids = _end_tokens(self.tokenizer)
        self.pad_id = _pad_id(self.tokenizer)
        self.name = self.base or DEFAULT_BASE
        self.stats.load_seconds = time.monotonic() - start

    @property
    def adapter_sha256(self) -> str | None:
        return adapter_sha256(self.adapter)

    def render(self, messages: list[prompt.Message]) -> str:
        return render_chat(self.tokenizer, messages)

    def sample(
        self, messages: list[prompt.Message], k: int = 1, temperature: float = 0.0, names: Names | None = None
    ) -> list[str]:
        """k answers; temperature 0 is greedy (and then k identical answers are computed once).

        With ``names`` (and ``constrained``), every token keeps the answer a viable prefix of the
        answer grammar that reads only those names (`GrammarConstraint`).
        """
        import torch
        from transformers import LogitsProcessorList

        text = self.render(messages)
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.device)
        greedy = temperature <= 0
        n = 1 if greedy else k
        processors = LogitsProcessorList()
        if names is not None and self.constrained:
            processors.append(GrammarConstraint(self.tokenizer, inputs["input_ids"].shape[1], names, self.eos_ids))
        start = time.monotonic()
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                logits_processor=processors,
                do_sample=not greedy,
                temperature=temperature if not greedy else None,
                top_p=0.95 if not greedy else None,
                top_k=None,
                num_return_sequences=n,
                max_new_tokens=self.max_new_tokens,
                eos_token_id=self.eos_ids,
                pad_token_id=self.pad_id,
            )
        new = out[:, inputs["input_ids"].shape[1] :]
        self.stats.seconds += time.monotonic() - start
        self.stats.calls += 1
        self.stats.new_tokens += int(sum(_length(row, self.eos_ids, self.pad_id) for row in new.tolist()))
        answers = [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in new]
        return answers * k if greedy else answers


class GrammarConstraint:
    """A transformers logits processor: only tokens that keep the answer a viable prefix survive.

    The answer may continue only with a token after which it is still a prefix of the answer
    grammar (`completion.viable_prefix`: the line format, the expression syntax, each function's
    number of arguments, lists of the model's shape, names from the prompt only, no integer
    literal outside powi); the end token only once the answer is complete. Of the ``top`` most
    likely tokens, every viable one stays (so sampling keeps its spread); when none is viable, the
    most likely viable token of the ``DEEPEST`` (1024) most likely is taken, so a dead end the model
    heads for is avoided, not written. Checking candidates costs far less than the forward pass.
    Only when none of those is viable is the step left alone (the static checks then judge the
    answer).
    """

    DEEPEST = 1024

    def __init__(self, tokenizer: Any, prompt_length: int, names: Names, eos_ids: list[int], top: int = 12) -> None:
        self.tokenizer, self.prompt_length, self.names = tokenizer, prompt_length, names
        self.eos_ids, self.top = set(eos_ids), top

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        for row in range(input_ids.shape[0]):
            text = self.tokenizer.decode(input_ids[row, self.prompt_length :], skip_special_tokens=True)
            allowed = self._allowed(text, scores[row])
            if allowed:
                keep = scores[row, allowed].clone()
                scores[row, :] = -float("inf")
                scores[row, allowed] = keep
        return scores

    def _allowed(self, text: str, row_scores: Any) -> list[int]:
        """The viable tokens among the most likely ``top``; failing that, the first viable one further down."""
        likeliest = row_scores.topk(min(self.top, row_scores.shape[0])).indices.tolist()
        allowed = [t for t in likeliest if self._keeps_viable(text, t)]
        if allowed:
            return allowed
        deeper = row_scores.topk(min(self.DEEPEST, row_scores.shape[0])).indices.tolist()  # only on a dead end
        return next(([t] for t in deeper[self.top :] if self._keeps_viable(text, t)), [])

    def _keeps_viable(self, text: str, token: int) -> bool:
        if token in self.eos_ids:
            return complete_answer(text, self.names)
        return viable_prefix(text + self.tokenizer.decode([token]), self.names)


def render_chat(tokenizer: Any, messages: list[prompt.Message]) -> str:
    """The prompt text: the tokenizer's chat template when it has one, else ChatML."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return prompt.chatml(messages)


def _dtype(torch: Any, wanted: str, device: str) -> Any:
    if wanted == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    return getattr(torch, wanted)


def _end_tokens(tokenizer: Any) -> list[int]:
    ids = [tokenizer.convert_tokens_to_ids(EOS_TOKEN)] if EOS_TOKEN in tokenizer.get_vocab() else []
    if (
        tokenizer.eos_token_id is not None
        and tokenizer.eos_token_id not in ids
        and tokenizer.eos_token != "<|im_start|>"
    ):
        ids.append(tokenizer.eos_token_id)
    return ids


def _pad_id(tokenizer: Any) -> int:
    if PAD_TOKEN in tokenizer.get_vocab():
        return tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _end_tokens(tokenizer)[0]


def _length(row: list[int], eos: list[int], pad: int) -> int:
    """Tokens generated up to and including the end token."""
    for i, token in enumerate(row):
        if token in eos or token == pad:
            return i + 1
    return len(row)
