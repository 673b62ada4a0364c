"""Load the base model (+ the committed LoRA adapter) and sample answers. torch is imported here only.

`Generator` is the interface the backend needs: ``sample(messages, k, temperature)`` returns k
answer texts. `LocalGenerator` runs a transformers causal LM on the CPU (or a GPU when present);
tests and callers can pass any object with the same method.
"""

from __future__ import annotations

import functools
import hashlib
import os
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from architect import paths
from architect.llm import prompt
from architect.llm.completion import Names, closed_item, complete_answer, item_end, viable_prefix
from architect.llm.weights import DEFAULT_BASE, EOS_TOKEN, PAD_TOKEN, base_model_dir

MAX_NEW_TOKENS = 320  # the longest reference answer (a random tree of corpus/trees-*.jsonl) is 246 tokens


class Generator(Protocol):
    name: str

    def sample(
        self, messages: list[prompt.Message], k: int, temperature: float, names: Names | None = None
    ) -> list[str]: ...

    def extend(
        self,
        messages: list[prompt.Message],
        prefix: str,
        k: int,
        temperature: float,
        names: Names | None = None,
        item_chars: int | None = None,
        stop: Callable[[str], bool] | None = None,
    ) -> list[str]: ...

    def alternatives(
        self,
        messages: list[prompt.Message],
        prefix: str,
        item: str,
        count: int,
        names: Names | None = None,
        item_chars: int | None = None,
        accept: Callable[[str], bool] | None = None,
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
        return [a.strip() for a in self.extend(messages, "", k, temperature, names)]

    def extend(
        self,
        messages: list[prompt.Message],
        prefix: str,
        k: int = 1,
        temperature: float = 0.0,
        names: Names | None = None,
        item_chars: int | None = None,
        stop: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """k continuations of an answer that begins with ``prefix`` (the text after it, leading spaces kept).

        With ``item_chars``, each continuation stops where the expression being written ends (with the ``,`` or
        ``]`` that closes it, `completion.item_end`) or after ``item_chars`` characters, unfinished:
        the backend resamples one wrong expression this way (`backend.repair_items`). ``stop`` is asked after
        every token whether the answer so far (prefix and continuation) is already wrong: it then ends there.
        """
        prompt_ids = self._ids(self.render(messages))
        texts = self._continue(prompt_ids, self._ids(prefix), k, temperature, names, item_chars, stop=stop)
        return [cut_item(t, item_chars) for t in texts] if item_chars else texts

    def alternatives(
        self,
        messages: list[prompt.Message],
        prefix: str,
        item: str,
        count: int,
        names: Names | None = None,
        item_chars: int | None = None,
        accept: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Up to ``count`` other versions of the expression ``item`` that the LLM wrote after ``prefix``.

        One forward pass scores ``item``'s tokens; at each of the ``count`` tokens where the LLM was least sure
        (the smallest gap between the logit of its token and of the best other token the grammar allows), that
        other token is taken and the LLM writes the rest of the expression greedily. A wrong expression is most
        often one near-tie decided the wrong way (``tan`` for ``tanh``, a parenthesis closed one call early).
        With ``accept``, the versions stop at the first it accepts.
        """
        import copy

        import torch

        prompt_ids, prefix_ids, item_ids = self._ids(self.render(messages)), self._ids(prefix), self._ids(item)
        start = len(prompt_ids) + len(prefix_ids)
        with torch.inference_mode():
            scored = self.model(input_ids=torch.tensor([prompt_ids + prefix_ids + item_ids], device=self.device))
        logits = scored.logits[0, start - 1 : -1].float()
        constraint = GrammarConstraint(self.tokenizer, 0, names, self.eos_ids) if names is not None else None
        forks = []
        for j, chosen in enumerate(item_ids):
            other = _runner_up(logits[j], chosen, prefix + self.tokenizer.decode(item_ids[:j]), constraint)
            if other is not None:
                forks.append((float(logits[j, chosen] - logits[j, other]), j, other))
        versions = []
        for _, j, other in sorted(forks)[:count]:
            cache = copy.deepcopy(scored.past_key_values)  # the prompt is read once, not once per fork
            cache.crop(start + j)
            head = self.tokenizer.decode([*item_ids[:j], other])
            answer = [*prefix_ids, *item_ids[:j], other]
            rest = self._continue(prompt_ids, answer, 1, 0.0, names, item_chars, head=head, cache=cache)
            version = cut_item(head + rest[0], item_chars) if item_chars else head + rest[0]
            if (closed_item(version) or version) != item and version not in versions:
                versions.append(version)
                if accept is not None and accept(version):
                    break
        return versions

    def _continue(
        self,
        prompt_ids: list[int],
        answer_ids: list[int],
        k: int,
        temperature: float,
        names: Names | None,
        item_chars: int | None,
        head: str = "",
        cache: Any = None,
        stop: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """k continuations of the answer ``answer_ids`` (`extend`); ``cache``: the model's keys and values for
        the beginning of ``prompt_ids + answer_ids``, already computed. With ``item_chars``, each stops where the
        expression being written ends (``head``: what the answer already has of it; the caller cuts it there,
        `cut_item`)."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        start = len(prompt_ids) + len(answer_ids)
        input_ids = torch.tensor([prompt_ids + answer_ids], device=self.device)
        greedy = temperature <= 0
        n = 1 if greedy else k
        processors = LogitsProcessorList()
        if names is not None and self.constrained:
            processors.append(GrammarConstraint(self.tokenizer, len(prompt_ids), names, self.eos_ids, pad=self.pad_id))
        stopping = StoppingCriteriaList([ItemEnd(self.tokenizer, start, item_chars, head)] if item_chars else [])
        if stop is not None:
            stopping.append(AnswerStop(self.tokenizer, len(prompt_ids), stop))
        clock = time.monotonic()
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                past_key_values=cache,
                logits_processor=processors,
                stopping_criteria=stopping,
                do_sample=not greedy,
                temperature=temperature if not greedy else None,
                top_p=0.95 if not greedy else None,
                top_k=None,
                num_return_sequences=n,
                max_new_tokens=self.max_new_tokens,
                eos_token_id=self.eos_ids,
                pad_token_id=self.pad_id,
            )
        new = out[:, start:]
        self.stats.seconds += time.monotonic() - clock
        self.stats.calls += 1
        self.stats.new_tokens += int(sum(_length(row, self.eos_ids, self.pad_id) for row in new.tolist()))
        texts = [self.tokenizer.decode(row, skip_special_tokens=True).rstrip() for row in new]
        return texts * k if greedy else texts

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def _runner_up(logits: Any, chosen: int, written: str, constraint: GrammarConstraint | None) -> int | None:
    """The likeliest token other than ``chosen`` that the grammar allows after ``written``, or None."""
    likeliest = logits.topk(GrammarConstraint.TOP).indices.tolist()
    allowed = (t for t in likeliest if t != chosen and (constraint is None or constraint.keeps_viable(written, t)))
    return next(allowed, None)


class ItemEnd:
    """A transformers stopping criterion, per row: the expression being written has ended (a ``,`` or ``]``
    outside parentheses, counted from the expression's start: ``head`` is what was written of it before) or
    run past ``max_chars``."""

    def __init__(self, tokenizer: Any, start: int, max_chars: int, head: str = "") -> None:
        self.tokenizer, self.start, self.max_chars, self.head = tokenizer, start, max_chars, head

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        texts = [self.head + self.tokenizer.decode(row[self.start :], skip_special_tokens=True) for row in input_ids]
        done = [item_end(t) is not None or len(t) > self.max_chars for t in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class AnswerStop:
    """A transformers stopping criterion, per row: ``stop(answer so far)`` says the answer is already wrong."""

    def __init__(self, tokenizer: Any, start: int, stop: Callable[[str], bool]) -> None:
        self.tokenizer, self.start, self.stop = tokenizer, start, stop

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        texts = [self.tokenizer.decode(row[self.start :], skip_special_tokens=True) for row in input_ids]
        return torch.tensor([self.stop(t) for t in texts], dtype=torch.bool, device=input_ids.device)


def cut_item(text: str, max_chars: int) -> str:
    """``text`` up to the ``,`` or ``]`` that ends the expression it begins, that character included (the
    answer goes on after it), or its first ``max_chars`` characters (unfinished)."""
    end = item_end(text)
    return text[: end + 1] if end is not None else text[:max_chars]


class GrammarConstraint:
    """A transformers logits processor: only tokens that keep the answer a viable prefix survive.

    The answer may continue only with a token after which it is still a prefix of the answer
    grammar (`completion.viable_prefix`: the line format, the expression syntax, each function's
    number of arguments, lists of the model's shape, names from the prompt only, no integer
    literal outside powi); the end token only once the answer is complete. Of the ``top`` most
    likely tokens, every viable one stays (so sampling keeps its spread); when none is viable, the
    most likely viable token of the ``DEEPEST`` (1024) most likely is taken, then of the tokens of
    one character, so a dead end the model heads for is avoided, not written. Checking candidates
    costs far less than the forward pass. Only when none of those is viable is the step left alone
    (the static checks then judge the answer).
    """

    TOP = 12
    DEEPEST = 1024

    def __init__(
        self,
        tokenizer: Any,
        prompt_length: int,
        names: Names,
        eos_ids: list[int],
        top: int = TOP,
        pad: int | None = None,
    ) -> None:
        self.tokenizer, self.prompt_length, self.names = tokenizer, prompt_length, names
        self.eos_ids, self.top = set(eos_ids), top
        self.finished = self.eos_ids | ({pad} if pad is not None else set())  # a row that ended writes nothing

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        for row in range(input_ids.shape[0]):
            if input_ids.shape[1] > self.prompt_length and int(input_ids[row, -1]) in self.finished:
                continue  # stopped (its end token or a stopping criterion): padded from here, nothing to check
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
        allowed = [t for t in likeliest if self.keeps_viable(text, t)]
        if allowed:
            return allowed
        deeper = row_scores.topk(min(self.DEEPEST, row_scores.shape[0])).indices.tolist()  # only on a dead end
        if found := next(([t] for t in deeper[self.top :] if self.keeps_viable(text, t)), []):
            return found
        # Deeper still: one character at a time always continues a viable prefix (the grammar is read character by
        # character), the likeliest such token first. After `[[x] ` a model sure of `]]` may rank `]` below 1024.
        singles = sorted(_single_characters(self.tokenizer), key=lambda t: -float(row_scores[t]))
        return next(([t] for t in singles if self.keeps_viable(text, t)), [])

    def keeps_viable(self, text: str, token: int) -> bool:
        """Whether the answer ``text`` followed by ``token`` is still a viable prefix (or, for the end token, whole)."""
        if token in self.eos_ids:
            return complete_answer(text, self.names)
        return viable_prefix(text + self.tokenizer.decode([token]), self.names)


_ANSWER_CHARACTERS = string.ascii_letters + string.digits + "_.,:;+-*/()[] \n"


@functools.cache
def _single_characters(tokenizer: Any) -> tuple[int, ...]:
    """The tokens that are one character of the answer's alphabet each."""
    encode = getattr(tokenizer, "encode", None)
    ids = [encode(c, add_special_tokens=False) for c in _ANSWER_CHARACTERS] if encode is not None else []
    return tuple(i[0] for i in ids if len(i) == 1)


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
