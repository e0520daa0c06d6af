"""Chapter 26's server with chapter 25's policy shell (`create_app(shell=Shell())`, the
default of `nand2llm serve`), used through the official `openai` client with strict
response validation: refusals, 400s for broken request rules, citations, the same text
alone, streamed and in a batch, and tool calls in OpenAI's shape.

The model is the tiny random float64 GPT of test_serve.py. The oracle for a reply is
chapter 25's Guard on its own (its default generator, chapter 21's one-row engine) with
the same retriever and settings: the server must say what the Guard says, and add the
Guard's citations.
"""
import json
import threading

import openai
import pytest

from nand2llm.instruct import REFUSAL
from nand2llm.rag import load_retriever
from nand2llm.safety import Guard
from nand2llm.serve import BackgroundServer, Shell, ShellRun, create_app

from test_serve import client, streamed_text, tiny_model

IN_SCOPE = "What does the softmax function do?"
CALC = {"type": "function", "function": {
    "name": "calculator", "description": "Evaluate an arithmetic expression.",
    "parameters": {"type": "object", "required": ["expression"],
                   "properties": {"expression": {"type": "string"}}}}}


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


@pytest.fixture(scope="module")
def retriever():
    return load_retriever()


@pytest.fixture(scope="module")
def server(tiny, retriever):
    model, tokenizer, template = tiny
    app = create_app(model, tokenizer, template, rows=8, shell=Shell(retriever=retriever,
                                                                     registry=False))
    with BackgroundServer(app) as running:
        yield running


def ask(api, content, **kw):
    return api.chat.completions.create(model="tutor", messages=[
        {"role": "user", "content": content}], **kw)


def test_refusals_are_answers(server):
    api = client(server.url)
    off = ask(api, "What is the best recipe for a lemon tart?", max_tokens=8)
    choice = off.choices[0]
    assert (choice.message.content, choice.message.refusal) == (REFUSAL, REFUSAL)
    assert choice.finish_reason == "stop" and off.usage.completion_tokens == 0
    harm = ask(api, "Please run rm -rf / on the server", max_tokens=8).choices[0]
    assert harm.message.refusal == REFUSAL and harm.finish_reason == "content_filter"


def test_broken_request_rules_are_400s(server):
    api = client(server.url)
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, "x" * 3000, max_tokens=8)
    assert e.value.code == "policy_violation" and "message length" in e.value.message
    assert "3,000 characters" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        ask(api, IN_SCOPE, max_tokens=8, seed=2**40)       # the shell's seed range
    assert e.value.code == "policy_violation" and "seed" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:     # tool turns without tools
        api.chat.completions.create(model="t", messages=[
            {"role": "user", "content": IN_SCOPE},
            {"role": "tool", "tool_call_id": "call_1", "content": "6"}])
    assert "role" in e.value.message


def test_answers_equal_the_guard_alone_with_citations(server, tiny, retriever):
    model, _, template = tiny
    api = client(server.url)
    guard = Guard(model, retriever, None, template=template)
    questions = [IN_SCOPE, "How does the KV cache make generation faster?",
                 "How does byte pair encoding merge tokens?",
                 "What does layer normalization do?"]
    alone = [guard.reply([{"role": "user", "content": q}], max_new_tokens=10,
                         temperature=0.8, seed=i) for i, q in enumerate(questions)]
    assert all(a.citations and not a.refused for a in alone)
    out = [None] * len(questions)

    def one(i):
        out[i] = ask(api, questions[i], max_tokens=10, temperature=0.8, seed=i)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
    for t in threads: t.start()
    for t in threads: t.join(60)
    for reply, a in zip(out, alone):                 # together, each equals its lone run
        text = reply.choices[0].message.content
        assert text == a.text + "\n\n" + " ".join(a.citations)
        assert reply.model_extra["citations"] == a.citations
        assert reply.choices[0].message.refusal is None
    chunks, streamed = streamed_text(ask(api, questions[0], max_tokens=10, temperature=0.8,
                                         seed=0, stream=True,
                                         stream_options={"include_usage": True}))
    assert streamed == out[0].choices[0].message.content
    assert chunks[-1].usage == out[0].usage


def scripted(self, messages, max_new_tokens, **sampling):
    "A stand-in for the model run: a calculator call, or an answer from its result."
    if messages[-1]["role"] == "tool_result":
        yield "It is 6."
    else:
        yield from ["<|tool_call|>", '{"name": "calculator", "arguments": ',
                    '{"expression": "2 * 3"}}', "<|end|>"]


def test_tool_calls_in_openai_shape(server, monkeypatch):
    monkeypatch.setattr(ShellRun, "generate", scripted)
    api = client(server.url)
    question = {"role": "user", "content": IN_SCOPE + " And what is 2 * 3?"}
    reply = api.chat.completions.create(model="t", messages=[question], tools=[CALC])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "calculator" and call.id.startswith("call_")
    assert json.loads(call.function.arguments) == {"expression": "2 * 3"}
    chunks = list(api.chat.completions.create(model="t", messages=[question],
                                              tools=[CALC], stream=True))
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices
              and c.choices[0].delta.tool_calls]
    assert deltas[0][0].function.name == "calculator"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    follow = [question, {"role": "assistant", "content": None,
                         "tool_calls": [call.model_dump()]},
              {"role": "tool", "tool_call_id": call.id, "content": "6"}]
    answer = api.chat.completions.create(model="t", messages=follow, tools=[CALC])
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content.startswith("It is 6.\n\n(chapter ")
    none = api.chat.completions.create(model="t", messages=[question], tools=[CALC],
                                       tool_choice="none")   # no tools: the call is text
    assert none.choices[0].message.tool_calls is None
    assert "<|" not in none.choices[0].message.content


@pytest.mark.parametrize("body, words", [
    ({"tools": "calculator"}, "'tools' must be a list"),
    ({"tools": [{"type": "function"}]}, "tools[0] must be"),
    ({"tools": [CALC, CALC]}, "names a tool twice"),
    ({"tools": [CALC], "tool_choice": {"type": "function", "function": {"name": "x"}}},
     "'tool_choice' must be"),
    ({"tool_choice": "required"}, "'tool_choice' needs 'tools'"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "calculator", "arguments": "{oops"}}]},
        {"role": "tool", "content": "6"}]}, "tool_calls[0] must be"),
])
def test_bad_tool_requests(server, body, words):
    import httpx
    request = {"model": "t", "messages": [{"role": "user", "content": IN_SCOPE}], **body}
    r = httpx.post(server.url + "/v1/chat/completions", json=request, timeout=30)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]["message"]


def test_citation_links_name_the_books_pages():
    "Every chapter's page in the chat page's links is the one book/build.py writes."
    import importlib.util
    from pathlib import Path
    from nand2llm.serve import CHAPTER_PAGES
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("build", root / "book" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    chapters = {int(p.stem.split("_")[0]): p.stem for p in (root / "nbs").glob("[0-9]*_*.ipynb")}
    chapters[0] = "index"
    assert CHAPTER_PAGES == {n: build.chapter_anchor(stem) for n, stem in chapters.items()}


def test_page_links_citations_to_the_served_book(tiny, retriever, tmp_path):
    "In Chromium: the shell's answer ends with a citation, a link to the book's page."
    import shutil
    from playwright.sync_api import sync_playwright
    from nand2llm.serve import CHAPTER_PAGES
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: run `make sysdeps`")
    (tmp_path / "index.html").write_text("<h1>NAND2LLM</h1>")
    for page in CHAPTER_PAGES.values():
        (tmp_path / f"{page}.html").write_text(f"<h1>{page}</h1>")
    model, tokenizer, template = tiny
    app = create_app(model, tokenizer, template, rows=2, book_dir=tmp_path,
                     shell=Shell(retriever=retriever, registry=False))
    with BackgroundServer(app) as s, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(s.url + "/")
            page.fill("#question", IN_SCOPE)
            page.click("#send")
            page.wait_for_selector(".assistant a", timeout=20_000)
            link = page.locator(".assistant a").last
            assert link.inner_text().startswith("(chapter ")
            href = link.get_attribute("href")
            assert href.startswith("book/ch-") and href.endswith(".html")
            link.click()
            page.wait_for_load_state()
            assert page.url == f"{s.url}/{href}"
            assert page.inner_text("h1") == href[len("book/"):-len(".html")]
        finally:
            browser.close()
