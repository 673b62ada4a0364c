"""LoRA fine-tuning of the base model on corpus/train.jsonl: `python finetune/train.py [--config ...]`.

CPU by default (a GPU is used when torch sees one). Loss only on the answer tokens (the
prompt is context). The adapter is saved every ``save_every`` steps and when ``max_minutes``
runs out, so a cut-off run still leaves a usable adapter. Writes, in --out (finetune/adapter):
adapter_model.safetensors (float16), adapter_config.json, training.json (config, data hash,
loss curve, timings).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # a shared CPU: do not spin while waiting
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=HERE / "config.json")
    parser.add_argument("--data", type=Path, default=ROOT / "corpus" / "train.jsonl")
    parser.add_argument("--out", type=Path, default=HERE / "adapter")
    parser.add_argument("--base", default=None, help="another causal LM folder or hub name (default: SmolLM2-135M)")
    parser.add_argument("--steps", type=int, default=None, help="override the config's step count")
    parser.add_argument("--max-minutes", type=float, default=None, help="override the config's time limit")
    parser.add_argument("--learning-rate", type=float, default=None, help="override the config's peak rate")
    parser.add_argument("--warmup-steps", type=int, default=None, help="override the config's warm-up")
    parser.add_argument("--batch-size", type=int, default=None, help="override the config's batch size")
    parser.add_argument("--max-tokens", type=int, default=None, help="override the config's sequence cap")
    parser.add_argument("--init", type=Path, default=None, help="continue training this adapter (same base)")
    parser.add_argument(
        "--new-from",
        type=int,
        default=None,
        metavar="LINE",
        help="train on the records from LINE (0-based) on, plus as many earlier ones drawn at random (replay)",
    )
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    overrides = {
        "steps": args.steps,
        "max_minutes": args.max_minutes,
        "learning_rate": args.learning_rate,
        "warmup_steps": args.warmup_steps,
        "batch_size": args.batch_size,
        "max_tokens": args.max_tokens,
        "base": args.base,
        "init": str(args.init) if args.init else None,
        "new_from": args.new_from,
    }
    config |= {k: v for k, v in overrides.items() if v is not None}
    train(config, args.data, args.out)
    return 0


def train(config: dict[str, Any], data: Path, out: Path) -> dict[str, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from architect.llm.weights import DEFAULT_BASE, base_model_dir
    from training.corpus import data_hash

    torch.manual_seed(config["seed"])
    torch.set_num_threads(config.get("threads") or os.cpu_count() or 1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    source = base_model_dir(None if config["base"] == DEFAULT_BASE else config["base"])
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = AutoModelForCausalLM.from_pretrained(str(source), dtype=torch.float32).to(device)
    lora = config["lora"]
    peft_config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"],
        # Only the top layers (CPU time: nothing below them needs a backward pass).
        layers_to_transform=lora.get("layers_to_transform"),
        task_type="CAUSAL_LM",
    )
    if config.get("init"):  # continue an adapter: its LoRA shape wins over the config's
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config["init"], is_trainable=True)
        if (layers := lora.get("layers_to_transform")) is not None:  # train only those layers' LoRA weights
            for name, parameter in model.named_parameters():
                if parameter.requires_grad and _layer_of(name) not in layers:
                    parameter.requires_grad_(False)
    else:
        model = get_peft_model(model, peft_config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    examples = load_examples(data, tokenizer, config["max_tokens"])
    if config.get("new_from") is not None:
        examples = with_replay(examples, config["new_from"], config["seed"])
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config["learning_rate"],
        weight_decay=config["weight_decay"],
    )
    log: dict[str, Any] = {
        "config": config,
        "base": config["base"],
        "data": str(data.relative_to(ROOT)) if data.is_relative_to(ROOT) else str(data),
        "data_sha256": data_hash([data]),
        "examples": len(examples),
        "trainable_parameters": trainable,
        "device": device,
        "threads": torch.get_num_threads(),
        "losses": [],
    }
    run(model, optimizer, examples, config, device, out, log, tokenizer)
    return log


def _layer_of(name: str) -> int | None:
    """The decoder layer a parameter belongs to (``...layers.27.self_attn...`` -> 27), or None."""
    match = re.search(r"\blayers\.(\d+)\.", name)
    return int(match.group(1)) if match else None


def load_examples(data: Path, tokenizer: Any, max_tokens: int) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per record: the chat prompt is masked (-100), the answer and its end token are learned."""
    from architect.llm.generator import render_chat
    from architect.llm.weights import EOS_TOKEN

    out = []
    for line in data.read_text().splitlines():
        record = json.loads(line)
        prompt_ids = tokenizer(render_chat(tokenizer, record["messages"]), add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(record["completion"] + EOS_TOKEN, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + answer_ids)[-max_tokens:]
        labels = ([-100] * len(prompt_ids) + answer_ids)[-max_tokens:]
        out.append((ids, labels))
    return out


def with_replay(examples: list, new_from: int, seed: int) -> list:
    """The examples from ``new_from`` on plus as many earlier ones at random: new skills, old ones kept."""
    new, old = examples[new_from:], examples[:new_from]
    return new + random.Random(seed).sample(old, min(len(old), len(new)))


def batches(examples: list, size: int, seed: int):
    """Endless batches: each epoch a new permutation, cut into pools of 16 batches sorted by length.

    Examples of similar length share a batch, so little compute goes to padding (CPU time is the budget).
    """
    rng = random.Random(seed)
    while True:
        order = list(range(len(examples)))
        rng.shuffle(order)
        epoch = []
        for start in range(0, len(order), 16 * size):
            pool = sorted(order[start : start + 16 * size], key=lambda j: len(examples[j][0]))
            epoch += [pool[i : i + size] for i in range(0, len(pool) - size + 1, size)]
        rng.shuffle(epoch)
        for batch in epoch:
            yield [examples[j] for j in batch]


def collate(batch: list, pad_id: int, device: str):
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (x, y) in enumerate(batch):
        ids[row, : len(x)] = torch.tensor(x)
        labels[row, : len(y)] = torch.tensor(y)
        mask[row, : len(x)] = 1
    return ids.to(device), labels.to(device), mask.to(device)


def learning_rate(step: int, config: dict[str, Any]) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio of the peak."""
    peak, warm, total = config["learning_rate"], config["warmup_steps"], config["steps"]
    if step < warm:
        return peak * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    floor = config["min_lr_ratio"]
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def run(model, optimizer, examples, config, device, out: Path, log: dict, tokenizer) -> None:
    from architect.llm.weights import PAD_TOKEN

    pad_id = tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    start = time.monotonic()
    model.train()
    stream = batches(examples, config["batch_size"], config["seed"])
    step = 0
    for step in range(config["steps"]):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        ids, labels, mask = collate(next(stream), pad_id, device)
        with _autocast(config, device):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.monotonic() - start
        log["losses"].append([step + 1, round(loss.item(), 4), round(elapsed, 1)])
        print(f"step {step + 1}/{config['steps']} loss {float(loss):.4f} lr {learning_rate(step, config):.2e} "
              f"{elapsed:.0f}s", flush=True)  # fmt: skip
        out_of_time = elapsed > 60 * config["max_minutes"]
        last = step + 1 == config["steps"]
        if (step + 1) % config["save_every"] == 0 and not (last or out_of_time):
            save(model, out, log, step + 1, elapsed, finished=False)
        if out_of_time:
            print(f"stopping at step {step + 1}: the {config['max_minutes']}-minute limit is reached", flush=True)
            break
    save(model, out, log, step + 1, time.monotonic() - start, finished=step + 1 == config["steps"])


def _autocast(config: dict[str, Any], device: str):
    """bfloat16 autocast when the config asks (``"autocast": "bfloat16"``: CPUs with AVX512-BF16), else nothing."""
    import contextlib

    import torch

    if config.get("autocast") == "bfloat16":
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def save(model, out: Path, log: dict, steps: int, seconds: float, finished: bool) -> None:
    """Write the adapter (float16) and training.json into ``out`` atomically (a temp folder, then rename)."""
    from safetensors.torch import load_file, save_file

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    (tmp / "README.md").unlink(missing_ok=True)  # peft's empty model card
    weights = tmp / "adapter_model.safetensors"
    tensors = {k: v.half().contiguous() for k, v in load_file(weights).items()}
    save_file(tensors, weights, metadata={"format": "pt"})
    recent = [loss for _, loss, _ in log["losses"][-20:]]
    summary = {
        "steps_done": steps,
        "finished": finished,
        "train_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(1, steps), 2),
        "final_loss_mean20": round(sum(recent) / max(1, len(recent)), 4),
    }
    (tmp / "training.json").write_text(json.dumps(log | summary, indent=1) + "\n")
    backup = out.with_name(out.name + ".old")
    shutil.rmtree(backup, ignore_errors=True)
    if out.exists():
        out.rename(backup)
    tmp.rename(out)
    shutil.rmtree(backup, ignore_errors=True)
    print(f"saved adapter after {steps} steps to {out}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
