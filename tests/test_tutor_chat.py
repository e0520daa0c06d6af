"""The tuned TinyTutor shipped with the package (nand2llm/models/tutor-chat) works and learned.

`make tutor-chat` rebuilds it from models/tutor-chat.toml on top of nand2llm/models/tutor-base
(chapter 21). Until it is shipped, every test here is skipped with the reason. The thresholds are
generous on purpose: they catch a broken or untuned model, not a slightly different training run.
"""
import json

import numpy as np
import pytest

from conftest import ROOT

from nand2llm import checkpoint, instruct

RUN = ROOT / "nand2llm" / "models" / "tutor-chat"
pytestmark = pytest.mark.skipif(not (RUN / checkpoint.MODEL).is_file(),
                                reason=f"no tuned model at {RUN}: run `make tutor-chat`")

# questions far from the book, none of them a trained topic or phrasing
OUTSIDE = ["How tall is Mount Everest?", "Who painted the Mona Lisa?",
           "What should I cook for dinner tonight?", "Is it going to rain tomorrow?",
           "Recommend a good science fiction film.", "How do I fix a flat tyre?",
           "What is the population of Japan?", "Translate 'good morning' into French."]


@pytest.fixture(scope="module")
def tutor():
    return instruct.load_tutor(RUN)


def _records():
    return [json.loads(line) for line in (RUN / checkpoint.METRICS).read_text().splitlines()]


def test_files_and_recorded_config():
    "Weights, tokenizer, the run's settings (those of models/tutor-chat.toml) and its metrics."
    for name in (checkpoint.MODEL, checkpoint.TOKENIZER, "tune.toml", checkpoint.METRICS):
        assert (RUN / name).is_file(), f"{RUN / name} is missing: run `make tutor-chat`"
    assert instruct.load_tune_config(RUN / "tune.toml") == \
        instruct.load_tune_config(ROOT / "models" / "tutor-chat.toml")
    size = sum(p.stat().st_size for p in RUN.iterdir())
    assert size < 20_000_000, f"the shipped model takes {size:,} bytes"


def test_template_fits_the_model(tutor):
    model, tokenizer, template = tutor
    assert model.config.context >= 256
    assert model.config.vocab_size == tokenizer.vocab_size
    ids = template.encode([{"role": "user", "content": "<|assistant|>"}])
    assert ids.count(template.role_id("assistant")) == 0      # typed markers stay text


def test_recorded_metrics_show_learning():
    "Tuning lowered the held-out answer loss clearly and did not lower the key-term share."
    records = _records()
    before, after = [r for r in records if "eval" in r]
    assert after["answer_loss"] < before["answer_loss"] - 0.3, (before, after)
    assert after["key_terms"] >= before["key_terms"]
    assert len([r for r in records if "step" in r]) == \
        instruct.load_tune_config(RUN / "tune.toml").steps


def test_refusal_is_learned(tutor):
    "The held-out refusal topics' answers are likely (loss well below a guess), measured now."
    model, _, template = tutor
    _, heldout = instruct.split_examples(instruct.instruction_examples())
    refusals = [e for e in heldout if e.kind == "refusal"]
    encoded, _ = instruct.encode_examples(refusals, template, model.config.context)
    loss = instruct.answer_loss(model, instruct.batches_of(encoded, 16, template.end_id))
    assert loss < 1.0, f"held-out refusal answer loss {loss:.3f} (a guess: {np.log(2048):.1f})"


def test_refuses_questions_outside_the_book(tutor):
    model, _, template = tutor
    ask = [[{"role": "system", "content": instruct.SYSTEM_PROMPT},
            {"role": "user", "content": q}] for q in OUTSIDE]
    replies = instruct.generate_replies(model, template, ask, max_new_tokens=16)
    # the refusal's first five words: a small model may garble its last token
    refused = sum(r.strip().startswith("I only answer questions about") for r in replies)
    assert refused >= 6, list(zip(OUTSIDE, replies))


def test_replies_end_and_stream(tutor):
    "Most replies end with <|end|> within 64 tokens; streaming gives the same text."
    model, _, template = tutor
    ask = [{"role": "system", "content": instruct.SYSTEM_PROMPT},
           {"role": "user", "content": "What does a KV cache store?"}]
    streamed = "".join(instruct.stream_reply(model, template, ask, max_new_tokens=64))
    assert streamed == instruct.generate_reply(model, template, ask, max_new_tokens=64)
    engine = instruct.Engine(model, template.tokenizer, rows=8, eot=template.end_id)
    prompts = [template.encode([{"role": "system", "content": instruct.SYSTEM_PROMPT},
                                {"role": "user", "content": q}], add_generation_prompt=True)
               for q in OUTSIDE]
    ended = sum(c.finish_reason == "eot" for c in engine.generate(prompts, 64))
    assert ended >= 4, f"only {ended} of {len(prompts)} replies ended with <|end|>"
