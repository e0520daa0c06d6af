"""TinyTutor with tools, shipped with the package (nand2llm/models/tutor-tools), works and learned.

`make tutor-tools` rebuilds it from models/tutor-tools.toml on top of nand2llm/models/tutor-base
(chapter 24). Until it is shipped, every test here is skipped with the reason. The thresholds are
generous on purpose, far under what the shipped run measured (its metrics.jsonl): they catch a
broken or untuned model, not a slightly different training run.
"""
import json

import pytest

from conftest import ROOT

from nand2llm import checkpoint, instruct, tools

RUN = ROOT / "nand2llm" / "models" / "tutor-tools"
pytestmark = pytest.mark.skipif(not (RUN / checkpoint.MODEL).is_file(),
                                reason=f"no tuned model at {RUN}: run `make tutor-tools`")


@pytest.fixture(scope="module")
def tutor():
    model, tokenizer = checkpoint.load_model(RUN)
    return model, tools.ToolTemplate(tokenizer)


def _records():
    return [json.loads(line) for line in (RUN / checkpoint.METRICS).read_text().splitlines()]


def test_files_and_recorded_config():
    "Weights, tokenizer, the run's settings (those of models/tutor-tools.toml) and its metrics."
    for name in (checkpoint.MODEL, checkpoint.TOKENIZER, "tune.toml", checkpoint.METRICS):
        assert (RUN / name).is_file(), f"{RUN / name} is missing: run `make tutor-tools`"
    assert instruct.load_tune_config(RUN / "tune.toml") == \
        instruct.load_tune_config(ROOT / "models" / "tutor-tools.toml")


def test_recorded_rates_improved():
    "The base never calls a tool; the tuned model calls, mostly with valid JSON and the right tool."
    records = _records()
    before = next(r for r in records if r.get("eval") == "before")
    after = next(r for r in records if r.get("eval") == "after")
    assert before["valid_json"] == 0
    assert after["valid_json"] >= 0.5 and after["right_tool"] >= 0.5
    assert after["right_arguments"] <= after["right_tool"] <= after["valid_json"]
    assert after["false_calls"] <= 0.3


def test_held_out_calls_now(tutor):
    "Re-measured now on a sample of the held-out tool examples: the shipped weights call tools."
    model, template = tutor
    heldout = instruct.split_examples(tools.tool_examples())[1][::3]
    rates, _ = tools.evaluate_tools(model, template, heldout)
    assert rates["valid_json"] >= 0.4 and rates["right_tool"] >= 0.4, rates


def test_the_loop_never_crashes(tutor):
    "Whole replies with the real calculator: every call recorded with a result, no exception."
    model, template = tutor
    registry = tools.ToolRegistry([tools.CALCULATOR])
    for question in ["What is 2048 * 128?", "How many bytes do 4096 float16 numbers take?",
                     "What is 9**9**9?", "Where does the book explain softmax?"]:
        messages = [{"role": "system", "content": instruct.SYSTEM_PROMPT},
                    {"role": "user", "content": question}]
        reply = tools.reply_with_tools(model, template, messages, registry)
        assert isinstance(reply.text, str)
        for call, result in reply.calls:
            assert call is None or isinstance(call, tools.ToolCall)
            assert isinstance(result, str) and result
