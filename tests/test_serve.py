"""Chapter 26's server used as clients use it: a real uvicorn on a free loopback port, the
official `openai` client with strict response validation, 32 concurrent clients, a fuzzer of
malformed requests, a client that leaves mid-stream, a full queue, and the chat page in
headless Chromium (Debian's, through Playwright's Python package).

The model is a tiny random GPT over the shipped tutor-chat tokenizer, in float64 with large
weights: its text means nothing, but it depends on the prompt, and float64 means no rounding
can flip a draw between a lone request and a batch. The oracle for every reply is chapter
21's generate_reply (its own one-row Engine) with the same seed.
"""
import json
import random
import shutil
import threading
import time

import httpx
import numpy as np
import openai
import pytest

from nand2llm.gpt import GPT, GPTConfig
from nand2llm.instruct import generate_reply, load_tutor
from nand2llm.nn import manual_seed
from nand2llm.serve import BackgroundServer, create_app

CHROMIUM = "/usr/bin/chromium"
QUESTION = [{"role": "user", "content": "What does the KV cache store?"}]


def tiny_model(seed=0, model_class=GPT):
    "A random 1-block GPT over the tutor's tokenizer, float64, weights large enough to matter."
    _, tokenizer, template = load_tutor()
    manual_seed(seed)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context=256, d_model=32, n_layer=1,
                       n_head=2)
    model = model_class(config).eval()
    g = np.random.default_rng(seed)
    for _, p in model.named_parameters():
        if p.ndim == 2:
            p.data[...] = g.normal(0, 0.3, p.shape)
    return model.to(np.float64), tokenizer, template


class SlowGPT(GPT):
    "The tiny GPT, 20 ms per forward: requests stay running long enough to be caught."
    def forward(self, *args, **kwargs):
        time.sleep(0.02)
        return super().forward(*args, **kwargs)


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


@pytest.fixture(scope="module")
def server(tiny):
    model, tokenizer, template = tiny
    with BackgroundServer(create_app(model, tokenizer, template, rows=8,
                                     max_queue=256)) as running:
        yield running


def client(url, key="none"):
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def oracle(tiny, messages, max_tokens, **sampling):
    model, _, template = tiny
    return generate_reply(model, template, messages, max_tokens, **sampling)


def streamed_text(stream):
    chunks = list(stream)
    return chunks, "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_openai_client_plain_and_streamed(server, tiny):
    api = client(server.url)
    reply = api.chat.completions.create(model="tutor-chat", messages=QUESTION,
                                        max_tokens=24, temperature=0.9, seed=7)
    expected = oracle(tiny, QUESTION, 24, temperature=0.9, seed=7)
    assert reply.choices[0].message.content == expected
    assert reply.choices[0].message.role == "assistant"
    prompt_tokens = len(tiny[2].encode(QUESTION, add_generation_prompt=True))
    assert reply.usage.prompt_tokens == prompt_tokens
    chunks, text = streamed_text(api.chat.completions.create(
        model="tutor-chat", messages=QUESTION, max_tokens=24, temperature=0.9, seed=7,
        stream=True, stream_options={"include_usage": True}))
    assert text == expected                              # streamed == not streamed
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1              # one id on every chunk
    assert chunks[-2].choices[0].finish_reason == reply.choices[0].finish_reason
    assert all(c.choices[0].finish_reason is None for c in chunks[:-2])
    assert chunks[-1].choices == [] and chunks[-1].usage == reply.usage
    # temperature 0: the same text twice, and chapter 21's greedy reply
    greedy = [api.chat.completions.create(model="m", messages=QUESTION, max_tokens=16,
                                          temperature=0).choices[0].message.content
              for _ in range(2)]
    assert greedy[0] == greedy[1] == oracle(tiny, QUESTION, 16, temperature=0)
    assert [m.id for m in api.models.list()] == ["tutor-chat"]


def test_openai_errors(server, tiny):
    api = client(server.url)
    prompt_tokens = len(tiny[2].encode(QUESTION, add_generation_prompt=True))
    with pytest.raises(openai.BadRequestError, match="'n' must be in"):
        api.chat.completions.create(model="m", messages=QUESTION, n=2)
    with pytest.raises(openai.BadRequestError) as e:
        api.chat.completions.create(model="m", messages=QUESTION, max_tokens=250)
    # both numbers, and nothing truncated
    assert f"has {prompt_tokens} tokens and max_tokens is 250" in str(e.value)
    assert "context of 256" in str(e.value)
    with pytest.raises(openai.BadRequestError, match="unknown role"):
        api.chat.completions.create(model="m", messages=[{"role": "robot", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        api.get("/nothing", cast_to=object)


def test_api_key_and_health(tiny):
    model, tokenizer, template = tiny
    with BackgroundServer(create_app(model, tokenizer, template, api_key="s3cret")) as s:
        with pytest.raises(openai.AuthenticationError, match="API key"):
            client(s.url, "wrong").models.list()
        assert [m.id for m in client(s.url, "s3cret").models.list()] == ["tutor-chat"]
        assert httpx.get(f"{s.url}/health").json()["status"] == "ok"
    # a model that cannot load: /health and the API say 503, and why
    app = create_app(path="/nonexistent/model")
    with BackgroundServer(app) as s:
        for _ in range(200):                    # the load fails fast: the folder is absent
            health = httpx.get(f"{s.url}/health")
            if health.json()["status"] != "loading":
                break
            time.sleep(0.01)
        assert health.status_code == 503 and health.json()["status"] == "failed"
        assert "no tuned model" in health.json()["error"]
        r = httpx.post(f"{s.url}/v1/chat/completions", json={"messages": QUESTION})
        assert r.status_code == 503 and "failed to load" in r.json()["error"]["message"]


def test_32_concurrent_clients(server, tiny):
    "32 clients x 3 requests, streamed and not: each reply equals its lone oracle."
    results, failures = {}, []

    def one_client(c):
        api = client(server.url)
        try:
            for j in range(3):
                seed = 100 * c + j
                messages = [{"role": "user", "content": f"Question {c} {j}: what is a loss?"}]
                kwargs = dict(model="m", messages=messages, max_tokens=12, seed=seed,
                              temperature=0.8)
                if j % 2:
                    text = streamed_text(api.chat.completions.create(stream=True,
                                                                     **kwargs))[1]
                else:
                    text = api.chat.completions.create(**kwargs).choices[0].message.content
                results[(c, j)] = (messages, seed, text)
        except Exception as e:                   # reported below, with the client
            failures.append((c, repr(e)))

    threads = [threading.Thread(target=one_client, args=(c,)) for c in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures[:3]
    assert len(results) == 96                    # nothing lost
    for messages, seed, text in results.values():
        assert text == oracle(tiny, messages, 12, temperature=0.8, seed=seed)
    assert httpx.get(f"{server.url}/health").status_code == 200
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "nand2llm_queue_depth 0" in metrics and "nand2llm_busy_rows 0" in metrics


def test_batching_decodes_together(server):
    "8 concurrent requests share steps: far fewer steps than 8 requests one after another."
    scheduler = server.app.state.served.scheduler
    steps, rows = scheduler.steps, scheduler.batched_rows
    threads = [threading.Thread(target=lambda i=i: client(server.url).chat.completions.create(
        model="m", messages=QUESTION, max_tokens=40, temperature=0, seed=i))
        for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    steps, rows = scheduler.steps - steps, scheduler.batched_rows - rows
    # 8 x 40 tokens alone would be 320 steps; together, a bit more than 40
    assert rows >= 8 * 39 and steps < 160, (steps, rows)


def malformed_requests(n=150, seed=0):
    "(description, body bytes) pairs, each invalid in one way."
    good = {"model": "m", "messages": QUESTION, "max_tokens": 4}
    wrong_values = {
        "messages": [None, 3, "hi", {}, [], [None], [3], [{"role": "user"}],
                     [{"role": "user", "content": 5}], [{"role": "robot", "content": "x"}],
                     [{"content": "x"}], [{"role": "user", "content": ""}],
                     [{"role": "user", "content": [{"type": "image_url"}]}],
                     [{"role": "assistant", "content": "x"}], [{"role": 3, "content": "x"}]],
        "max_tokens": [0, -1, 1.5, "4", True, 10**30, 1e308, [], 251, 100_000],
        "max_completion_tokens": [0, -5, "x", 2.5, 10**20],
        "temperature": [-0.1, 2.1, "hot", True, [], 1e309, float("nan")],
        "top_p": [0, -1, 1.01, "x", False],
        "top_k": [0, -3, 1.5, "x", 10**9],
        "repetition_penalty": [0, -1, 11, "x"],
        "seed": [-1, 1.5, "x", 2**70, True],
        "n": [0, 2, 10, "1", 1.0],
        "stop": [3, "", [""], [1], ["a"] * 5, {}],
        "stream": ["yes", 1, [], {}],
        "stream_options": ["x", 3, {"include_usage": "yes"}],
        "model": [3, [], {}],
        "tools": [[{"type": "function", "function": {"name": "f"}}]],
    }
    cases = []
    for name, values in wrong_values.items():
        for value in values:
            body = dict(good, **{name: value})
            cases.append((f"{name}={value!r:.30}",
                          json.dumps(body, allow_nan=True).encode()))
    raw = [b"", b"{", b"[]", b"null", b"3", b'"text"', b"\xff\xfe\xfd", b'{"messages": "\xc3"}',
           b"[" * 100_000 + b"]" * 100_000, b'{"messages": [' + b"1," * 10 + b"]}",
           b"x" * 1_100_000, json.dumps({"model": "m"}).encode()]
    cases += [(f"raw {r[:20]!r}", r) for r in raw]
    rng = random.Random(seed)
    text = json.dumps(good).encode()
    while len(cases) < n:                        # byte mutations that break the JSON
        b = bytearray(text)
        i = rng.randrange(len(b))
        b[i:i + rng.randint(1, 4)] = bytes(rng.choice(b'{}[]":,\\\x00\xff'))
        try:
            body = json.loads(bytes(b).decode("utf-8"))
            from nand2llm.serve import parse_request
            parse_request(body)                  # still valid: not a malformed case
            continue
        except Exception:
            cases.append((f"mutated {bytes(b)[:30]!r}", bytes(b)))
    return cases


def test_malformed_requests(server):
    cases = malformed_requests()
    assert len(cases) >= 100
    statuses = {}
    with httpx.Client(timeout=10) as http:
        for what, body in cases:
            r = http.post(f"{server.url}/v1/chat/completions", content=body,
                          headers={"Content-Type": "application/json"})
            assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:200])
            error = r.json()["error"]
            assert set(error) == {"message", "type", "param", "code"}, (what, error)
            assert error["message"], what
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    assert set(statuses) <= {400, 413}, statuses
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_disconnect_frees_row_and_full_queue(tiny):
    model, tokenizer, template = tiny_model(model_class=SlowGPT)
    app = create_app(model, tokenizer, template, rows=1, max_queue=1)
    scheduler = None
    with BackgroundServer(app) as s:
        scheduler = app.state.served.scheduler
        body = {"messages": QUESTION, "max_tokens": 200, "temperature": 0, "stream": True}
        with httpx.Client(timeout=30) as http:
            with http.stream("POST", f"{s.url}/v1/chat/completions", json=body) as r:
                lines = r.iter_lines()
                assert next(lines).startswith("data: ")       # the role chunk
                for _ in range(200):                           # admitted by the worker
                    if scheduler.jobs:
                        break
                    time.sleep(0.01)
                assert len(scheduler.jobs) == 1                # it holds the only row
                # the queue holds one more; a third request is turned away
                waiting = threading.Thread(target=lambda: httpx.post(
                    f"{s.url}/v1/chat/completions", timeout=30,
                    json=dict(body, stream=False, max_tokens=2)))
                waiting.start()
                for _ in range(200):
                    if scheduler.depth() == 1:
                        break
                    time.sleep(0.01)
                full = http.post(f"{s.url}/v1/chat/completions", json=body)
                assert full.status_code == 503, full.text
                assert full.headers["retry-after"] == "1"
                assert full.json()["error"]["code"] == "queue_full"
            # the streaming client left: its row is freed at the next step
            waiting.join(30)
            for _ in range(300):
                if not scheduler.jobs:
                    break
                time.sleep(0.01)
            assert not scheduler.jobs
            made = app.state.served.metrics.completion_tokens
            assert made < 100, made            # far fewer than the 200 asked for
            assert http.get(f"{s.url}/health").status_code == 200


def test_chat_page_in_chromium(tiny):
    "Load the page, ask, watch the streamed answer grow, press stop."
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: run `make sysdeps`")
    from playwright.sync_api import sync_playwright
    model, tokenizer, template = tiny_model(model_class=SlowGPT)
    app = create_app(model, tokenizer, template, rows=2)
    with BackgroundServer(app) as s, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            outside = []
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith(s.url) else None)
            page.goto(s.url + "/")
            page.fill("#question", "What is <b>a tensor</b>?")
            page.click("#send")
            page.wait_for_selector(".user")
            # the question is shown as text, not as HTML
            assert page.inner_text(".user") == "What is <b>a tensor</b>?"
            assert page.locator(".user b").count() == 0
            page.wait_for_function(
                "document.querySelector('.assistant').textContent.length > 5",
                timeout=20_000)
            first = page.inner_text(".assistant")
            page.wait_for_function(
                f"document.querySelector('.assistant').textContent.length > {len(first)}",
                timeout=20_000)                       # it grows: streamed
            page.click("#stop")
            page.wait_for_selector(".assistant[data-stopped='true']", timeout=10_000)
            assert page.is_enabled("#send")
            assert not outside, outside                 # nothing from the internet
        finally:
            browser.close()
        for _ in range(300):
            if not app.state.served.scheduler.jobs:
                break
            time.sleep(0.01)
        assert not app.state.served.scheduler.jobs      # stop freed the row


def test_nand2llm_serve_command():
    "The real command: it prints the URL, /health turns 200 once tutor-chat is loaded."
    import socket
    import subprocess
    import sys
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = "import sys; from nand2llm.cli import main; sys.exit(main())"
    process = subprocess.Popen([sys.executable, "-c", command, "serve", "--port",
                                str(port), "--api-key", "k"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                if health.status_code == 200:
                    break
            except httpx.ConnectError:
                pass
            assert time.monotonic() < deadline, "the server was not healthy within 60 s"
            time.sleep(0.1)
        assert "TinyTutor" in httpx.get(f"http://127.0.0.1:{port}/").text
        reply = client(f"http://127.0.0.1:{port}", "k").chat.completions.create(
            model="tutor-chat", messages=QUESTION, max_tokens=8, temperature=0)
        assert reply.choices[0].finish_reason in ("stop", "length")
    finally:
        process.terminate()
        process.wait(10)
