"""Ship a trained run as weights only: float16 model.safetensors, tokenizer.json, config.toml,
metrics.jsonl, and ship.json with the exact validation loss before and after the float16 rounding.

    python tools/ship_model.py RUN_FOLDER OUT_FOLDER

Used by `make tutor-base`. The loss is chapter 19's `evaluate_run` (every held-out token once), so
ship.json says whether storing the weights in float16 changed the evaluation figures.
"""
import json
import shutil
import sys
from pathlib import Path

from nand2llm.checkpoint import load_model, save_model
from nand2llm.evals import evaluate_run


def evaluation(result):
    "The JSON-ready figures of an EvalResult."
    return {"loss": result.loss, "tokens": result.n_tokens, "bits_per_byte": result.bits_per_byte}


def ship(run, out):
    run, out = Path(run), Path(out)
    if out.exists():
        raise SystemExit(f"{out} exists: remove it first (shipping never overwrites a model)")
    float32 = evaluate_run(run)
    model, tokenizer = load_model(run)
    save_model(out, model, tokenizer, dtype="float16")
    for name in ("config.toml", "metrics.jsonl"):
        shutil.copy(run / name, out / name)
    float16 = evaluate_run(out)
    report = {"validation": {"float32": evaluation(float32), "float16": evaluation(float16)},
              "parameters": sum(p.data.size for p in model.parameters())}
    (out / "ship.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ship(sys.argv[1], sys.argv[2])
