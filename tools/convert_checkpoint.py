"""Convert a run folder of the first checkpoint format to the current one, without retraining.

The first format (`nand2llm-checkpoint-1`) kept everything in `checkpoint.safetensors`: the
weights as `model.*` tensors, Adam's moments, and the run's TOML configuration (which named a
preset instead of recording the architecture) in its metadata. This writes the same weights, bit
for bit, as `model.safetensors` with the architecture in its metadata (chapter 17's `save_model`),
rewrites `config.toml` in the current schema, and deletes the old file: the optimizer state is
dropped, so the converted folder can be loaded and evaluated but not resumed. Used once, for the
shipped model:

    python tools/convert_checkpoint.py nand2llm/models/tiny-book
"""
import sys
from pathlib import Path

import numpy as np

from nand2llm.checkpoint import MODEL, TOKENIZER, load_model, save_model
from nand2llm.config import RUN_CONFIG, _toml_loads, config_to_toml, parse_config
from nand2llm.gpt import GPT
from nand2llm.safetensors import load_safetensors
from nand2llm.tokenizers import Tokenizer

OLD = "checkpoint.safetensors"


def convert(folder):
    folder = Path(folder)
    tensors, meta = load_safetensors(folder / OLD)
    if meta.get("format") != "nand2llm-checkpoint-1":
        sys.exit(f"{folder / OLD} is not a nand2llm-checkpoint-1 file")
    table = _toml_loads(meta["config"])
    if table.get("tokenizer", {}).get("kind") == "byte":
        table["tokenizer"].pop("vocab_size", None)      # bytes always give 257 ids
    import tomli_w
    config = parse_config(tomli_w.dumps(table))
    tokenizer = Tokenizer.load(folder / TOKENIZER)
    model = GPT(config.model.gpt_config(tokenizer.vocab_size))
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(weights)
    save_model(folder, model, tokenizer, {"step": meta["step"]})
    (folder / RUN_CONFIG).write_text(config_to_toml(config), encoding="utf-8")
    loaded, _ = load_model(folder)                      # the check: the same numbers
    for name, array in loaded.state_dict().items():
        assert np.array_equal(array, weights[name]), name
    (folder / OLD).unlink()
    print(f"{folder}: {len(weights)} weight arrays kept; {MODEL} "
          f"{(folder / MODEL).stat().st_size:,} bytes (was {OLD})")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        convert(path)
