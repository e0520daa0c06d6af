"""The TinyTutor base model shipped with the package (nand2llm/models/tutor-base, chapter 21).

`make tutor-base` rebuilds it from models/tutor-base.toml on the recorded corpus snapshot and ships
it with tools/ship_model.py (float16 weights, ship.json with the exact validation loss before and
after the rounding).
"""
import json

import numpy as np
from conftest import ROOT

from nand2llm import checkpoint, config, data, evals

BASE = ROOT / "nand2llm" / "models" / "tutor-base"
TINY = ROOT / "nand2llm" / "models" / "tiny-book"
CHAT_TOKENS = ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>",
               "<|context|>", "<|tool_call|>", "<|tool_result|>"]


def test_weights_only_and_small():
    for name in (checkpoint.MODEL, config.RUN_CONFIG, checkpoint.TOKENIZER, checkpoint.METRICS,
                 "ship.json"):
        assert (BASE / name).is_file(), f"{BASE / name} is missing: run `make tutor-base`"
    assert not (BASE / checkpoint.TRAIN_STATE).exists()
    tensors, _ = checkpoint.load_safetensors(BASE / checkpoint.MODEL)
    assert {a.dtype for a in tensors.values()} == {np.dtype(np.float16)}
    assert sum(p.stat().st_size for p in BASE.iterdir()) < 5_000_000


def test_architecture_and_reserved_chat_tokens():
    model, tokenizer = checkpoint.load_model(BASE)
    assert model.config.context >= 256
    assert tokenizer.vocab_size == model.config.vocab_size == 2048
    # the chat tokens were reserved before training: the last ids, in this order
    assert list(tokenizer.special_tokens) == CHAT_TOKENS
    assert list(tokenizer.special_tokens.values()) == list(range(2048 - 8, 2048))
    # typed as text they stay text
    assert all(i < 2040 for i in tokenizer.encode("<|user|> hi <|end|>"))
    # trained on the recorded snapshot: the metrics log names the data it saw
    first = json.loads((BASE / checkpoint.METRICS).read_text().splitlines()[0])
    assert "data" in first and first["train_tokens"] > 100_000


def test_float16_storage_keeps_the_evaluation():
    ship = json.loads((BASE / "ship.json").read_text())["validation"]
    assert ship["float16"]["tokens"] == ship["float32"]["tokens"]
    assert abs(ship["float16"]["bits_per_byte"] - ship["float32"]["bits_per_byte"]) < 1e-3


def test_better_than_tiny_book_per_byte():
    "On held-out text (a slice of the validation documents), fewer bits per byte than tiny-book."
    base_cfg = config.load_config(BASE)
    _, val_docs = data.split_documents(
        [d for corpus in base_cfg.data.corpus for d in data.snapshot_documents(corpus)],
        base_cfg.data.val_fraction, base_cfg.data.seed)
    text = "\n".join(d.text for d in val_docs)[:12_000]
    results = {}
    for name, folder in (("base", BASE), ("tiny", TINY)):
        model, tokenizer = checkpoint.load_model(folder)
        results[name] = evals.evaluate_documents(model, [data.Document("slice", text)],
                                                 tokenizer).bits_per_byte
    # measured: about 2.1 against 2.7 on the whole validation split
    assert results["base"] < results["tiny"] - 0.3, results
