"""The TinyGPT shipped with the package (nand2llm/models/tiny-book) still works and still learned.

`make model` rebuilds it from models/tiny-book.toml. A retrained model (a changed corpus, a changed
chapter) greedily writes different text, so re-record the suite's recorded cases afterwards with
`.venv/bin/python tests/test_shipped_model.py --record` (the hand-written cases are kept), and check
the hand-written ones still pass.
"""
import sys

from conftest import ROOT

from nand2llm import bigram, checkpoint, config, evals, train
from nand2llm.cli import main

RUN = ROOT / "nand2llm" / "models" / "tiny-book"
SUITE = ROOT / "tests" / "suites" / "tiny-book.jsonl"
HEADER = """\
# Regression suite of the shipped TinyGPT nand2llm/models/tiny-book (tests/test_shipped_model.py).
# Cases with greedy_equals: recorded by nand2llm.evals.record_suite (the model's greedy output,
# locked); the others: hand-written. After `make model`, re-record: python tests/test_shipped_model.py --record
"""


def test_model_files_are_shipped():
    "Weights only: the model, its tokenizer, the run's configuration and metrics; no optimizer state."
    for name in (checkpoint.MODEL, config.RUN_CONFIG, checkpoint.TOKENIZER, checkpoint.METRICS):
        assert (RUN / name).is_file(), f"{RUN / name} is missing: run `make model`"
    assert not (RUN / checkpoint.TRAIN_STATE).exists(), "the shipped model carries weights only"
    size = sum(p.stat().st_size for p in RUN.iterdir())
    assert size < 3_000_000, f"the shipped model takes {size:,} bytes"


def test_model_loads_from_its_file_alone(tmp_path):
    "model.safetensors records the architecture: no TOML file and no preset name needed."
    for name in (checkpoint.MODEL, checkpoint.TOKENIZER):
        (tmp_path / name).write_bytes((RUN / name).read_bytes())
    model, tokenizer = checkpoint.load_model(tmp_path / checkpoint.MODEL)
    arch, kind, vocab_size = checkpoint.read_architecture(RUN / checkpoint.MODEL)
    assert model.config == arch and (kind, vocab_size) == ("ByteTokenizer", 257)
    assert len(model.state_dict()) == len(checkpoint.load_safetensors(RUN / checkpoint.MODEL)[0])


def test_regression_suite_passes():
    report = evals.run_suite_file(RUN, SUITE)
    assert len(report.results) >= 8
    assert report.passed, f"\n{report}"


def test_validation_loss_beats_the_counting_bigram():
    "The exact loss on the run's current validation split, against chapter 12's bigram on it."
    result = evals.evaluate_run(RUN)
    run_config = config.load_config(RUN)
    tokenizer, train_tokens, val_tokens = train.prepare_data(run_config)
    baselines = bigram.baseline_losses(train_tokens, val_tokens, tokenizer.vocab_size)
    print(f"tiny-book: {result}; counting bigram: {baselines['bigram']['val']:.4f} nats/token")
    assert result.n_tokens == len(val_tokens) - 1        # the same split, every target once
    assert result.loss < baselines["bigram"]["val"], (result, baselines)


def test_generate_command(capsys):
    status = main(["generate", "The loss", "--checkpoint", str(RUN),
                         "--max-new-tokens", "40", "--seed", "0"])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("The loss") and len(out.strip()) > len("The loss"), out


def test_generate_uses_the_shipped_model_by_default(capsys):
    """Right after install, `nand2llm generate PROMPT` needs no training and no --checkpoint:
    it uses the best shipped model, the TinyTutor base (chapter 21)."""
    args = ["generate", "def forward(self", "--max-new-tokens", "30", "--temperature", "0"]
    assert main(args) == 0
    default = capsys.readouterr().out
    assert main(args + ["--checkpoint", str(RUN.parent / "tutor-base")]) == 0
    assert default == capsys.readouterr().out, "the default is not the shipped model"


def record():
    "Re-record the suite's recorded cases (those with greedy_equals) on the current model."
    cases = evals.load_suite(SUITE)
    model, tokenizer = evals.load_model(RUN)
    recorded = {c.name: c.prompt for c in cases if c.greedy_equals is not None}
    fresh = {c.name: c for c in evals.record_suite(model, tokenizer, recorded)}
    cases = [fresh.get(c.name, c) for c in cases]
    SUITE.write_text(HEADER + "".join(c.to_json() + "\n" for c in cases), encoding="utf-8")
    print(evals.run_suite(model, tokenizer, cases))


if __name__ == "__main__" and "--record" in sys.argv:
    record()
