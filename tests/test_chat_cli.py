"""`nand2llm chat` used as a person uses it: the real command in a real terminal (tmux), keys
typed with send-keys, the screen read back with capture-pane.

The model is made here, by chapter 17's `train` on a tiny TOML (byte tokens with the chat tokens
reserved, a few steps, seconds), so the test needs no shipped weights; what the screen shows is
checked against the same model's answers computed in this process (chapter 21's generate_reply).
One more test runs the shipped tutor-chat and skips when it is absent.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="needs tmux (`make sysdeps` installs it)")

CHAT_SPECIALS = '["<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|context|>", ' \
                '"<|tool_call|>", "<|tool_result|>"]'
# a context long enough for an answer that takes a few seconds to write (the Ctrl-C test)
TINY_RUN = f"""
[model]
context = 4096
d_model = 16
n_layer = 1
n_head = 2

[data]
corpus = ["book"]

[tokenizer]
kind = "byte"
special_tokens = {CHAT_SPECIALS}

[optimizer]
lr = 0.01

[schedule]
warmup = 1
min_lr = 0.001

[training]
steps = 2
batch_size = 1
eval_interval = 2
eval_batches = 1
checkpoint_interval = 2
"""
TIMEOUT = 120      # seconds to wait for the screen; generous: the machine is shared


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    "A run folder with a tiny chat-ready model, trained here in a few seconds."
    from nand2llm.train import train
    folder = tmp_path_factory.mktemp("chat-model")
    (folder / "run.toml").write_text(TINY_RUN, encoding="utf-8")
    train(folder / "run.toml", out_dir=folder / "run", quiet=True)
    return folder / "run"


class Terminal:
    "One tmux session on a private server, running a command; keys in, screen out."
    def __init__(self, tmp_path, command, status_file):
        self.socket, self.status_file = str(tmp_path / "tmux.sock"), status_file
        env = f"env PYTHONPATH={ROOT} TERM=xterm-256color "
        # remain-on-exit: the pane stays after the command ends, with its exit status
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "150", "-y",
                  "50", env + command, ";", "set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def type(self, text):
        "Type `text` and press Enter."
        self.tmux("send-keys", "-t", "chat", "-l", text)
        self.tmux("send-keys", "-t", "chat", "Enter")

    def key(self, name):
        self.tmux("send-keys", "-t", "chat", name)

    def screen(self):
        "Everything the pane shows and scrolled past, wrapped lines joined."
        return self.tmux("capture-pane", "-p", "-J", "-t", "chat", "-S", "-2000")

    def wait_for(self, pattern, after=0):
        "Wait until `pattern` (a regex) appears in the screen past position `after`."
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.screen()
            m = re.compile(pattern).search(text, after)
            if m:
                return m
            if self.dead():                      # ended: the screen will not change
                if not re.compile(pattern).search(self.screen(), after):
                    break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not on the screen:\n{self.screen()}")

    def dead(self):
        "True once the command has ended."
        return self.tmux("display-message", "-p", "-t", "chat", "#{pane_dead}").strip() \
            == "1"

    def exit_status(self):
        "The exit status of the command, once it has ended ('none' if it never wrote one)."
        deadline = time.monotonic() + TIMEOUT
        while not self.dead() and time.monotonic() < deadline:
            time.sleep(0.05)
        # tmux 3.3 sometimes marks the pane dead without its status: the command writes it
        return int(self.status_file.read_text()) if self.status_file.exists() else "none"

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    opened = []
    def start(*args):
        # what the installed `nand2llm` script runs (sys.exit(main())), with this
        # checkout's code, and the exit status written down as well
        status_file = tmp_path / f"status{len(opened)}"
        main = ("import sys; from nand2llm.cli import main; status = main(); "
                f"open({str(status_file)!r}, 'w').write(str(status)); sys.exit(status)")
        command = shlex.join([sys.executable, "-c", main, "chat", *args])
        opened.append(Terminal(tmp_path, command, status_file))
        return opened[-1]
    yield start
    for t in opened:
        t.close()


def squeeze(text):
    return " ".join(text.split())


# sampled, so that the answers are visible text (greedy, this model writes spaces); the
# seed makes them repeatable, in the chat and here
SAMPLING = {"temperature": 1.0, "top_k": 20, "seed": 0}


def expected_answers(model_dir, system, questions, max_new_tokens):
    "What the chat should answer, computed in this process with chapter 21's functions."
    from nand2llm.chat import _printable
    from nand2llm.instruct import generate_reply, load_tutor
    model, _, template = load_tutor(model_dir)
    messages, answers = [{"role": "system", "content": system}], []
    for q in questions:
        messages.append({"role": "user", "content": q})
        answer = generate_reply(model, template, messages, max_new_tokens, **SAMPLING)
        messages.append({"role": "assistant", "content": answer})
        answers.append(answer)
    return answers, messages, [_printable(a) for a in answers]


def test_two_turns_budget_save_and_ctrl_d(tiny_model, terminal, tmp_path):
    questions = ["What is a token?", "And a byte?"]
    answers, messages, shown = expected_answers(tiny_model, "Be brief.", questions, 12)
    assert all(a.strip() for a in shown), answers         # something to read back
    chat = terminal("--model", str(tiny_model), "--system", "Be brief.",
                    "--max-new-tokens", "12", "--temperature", "1", "--top-k", "20",
                    "--seed", "0")
    at = chat.wait_for(r"you> ").end()
    for question, answer in zip(questions, shown):
        chat.type(question)
        # the answer is read back from the screen: the same text this process computes
        done = chat.wait_for(r"you> ", at)
        said = chat.screen()[at:done.start()]
        assert squeeze(f"{question} tutor> {answer}") == squeeze(said), chat.screen()
        at = done.end()
    chat.type("/budget")
    # the system turn: 9 bytes + 2, the history: both exchanges, counted by the template
    from nand2llm.instruct import load_tutor
    _, _, template = load_tutor(tiny_model)
    history = len(template.encode(messages[1:]))
    table = chat.wait_for(r"context window +4096", at)
    screen = chat.screen()[at:table.end()]
    assert re.search(r"system +11\n", screen) and re.search(rf"history +{history}\n",
                                                            screen), screen
    assert re.search(r"answer room +12\n", screen), screen
    at = chat.wait_for(r"you> ", table.end()).end()
    path = tmp_path / "transcript.jsonl"
    chat.type(f"/save {path}")
    at = chat.wait_for(r"\[saved 5 messages to .*transcript.jsonl\]", at).end()
    saved = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert saved == messages
    markdown = tmp_path / "transcript.md"
    chat.type(f"/save {markdown}")
    chat.wait_for(r"\[saved 5 messages to .*transcript.md\]", at)
    assert "**user**:\n\nAnd a byte?" in markdown.read_text(encoding="utf-8")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    chat.key("C-d")                                       # Ctrl-D: the chat ends
    assert chat.exit_status() == 0, chat.screen()


def test_ctrl_c_stops_the_answer_not_the_chat(tiny_model, terminal, tmp_path):
    # about 0.4 ms a token here when idle: 3,900 tokens take over a second, far longer
    # than it takes to see "tutor> " and press Ctrl-C
    chat = terminal("--model", str(tiny_model), "--max-new-tokens", "3900")
    at = chat.wait_for(r"you> ").end()
    chat.type("Tell me everything.")
    at = chat.wait_for(r"tutor> ", at).end()              # the answer is under way
    chat.key("C-c")
    stopped = chat.wait_for(r" \[stopped\]\n", at)
    at = chat.wait_for(r"you> ", stopped.end()).end()       # and the chat goes on
    path = tmp_path / "t.jsonl"
    chat.type(f"/save {path}")
    chat.wait_for(r"\[saved 3 messages", at)
    saved = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [m["role"] for m in saved] == ["system", "user", "assistant"]
    assert saved[2]["stopped"] is True
    from nand2llm.instruct import load_tutor
    _, tokenizer, _ = load_tutor(tiny_model)
    assert len(tokenizer.encode(saved[2]["content"])) < 3900   # cut short
    chat.type("/quit")
    assert chat.exit_status() == 0, chat.screen()


def test_a_message_too_long_is_refused_and_the_chat_goes_on(tiny_model, terminal):
    chat = terminal("--model", str(tiny_model), "--max-new-tokens", "3900")
    at = chat.wait_for(r"you> ").end()
    chat.type("x" * 200)
    m = chat.wait_for(r"\[not sent: the conversation cannot fit the model's context of "
                      r"4096 tokens", at)
    chat.wait_for(r"you> ", m.end())
    chat.type("/quit")
    assert chat.exit_status() == 0, chat.screen()


def test_shipped_tutor_chat(terminal):
    from nand2llm.instruct import shipped_path
    if not (shipped_path("tutor-chat") / "model.safetensors").is_file():
        pytest.skip("no shipped tutor-chat model (`make tutor-chat` builds it)")
    chat = terminal("--max-new-tokens", "24")
    at = chat.wait_for(r"TinyTutor \(\d+-token context\)").end()
    at = chat.wait_for(r"you> ", at).end()
    chat.type("What does a KV cache store?")
    at = chat.wait_for(r"tutor> ", at).end()
    chat.wait_for(r"you> ", at)
    chat.key("C-d")
    assert chat.exit_status() == 0, chat.screen()
