"""Fuzzing the loaders of chapter 17: damaged checkpoints, run folders and run configurations.

Every damaged input must either load (a harmless change, such as other float values) or fail with
the package's own error, a `Nand2llmError` whose message names the problem: never a KeyError,
TypeError, RecursionError or MemoryError from deep inside. A sample goes through the real command
line in a fresh process: exit status 2, one line on stderr, no traceback.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from nand2llm.checkpoint import (MODEL, TOKENIZER, TRAIN_STATE, load_model, load_train_state,
                                 load_weights, read_train_state)
from nand2llm.config import RUN_CONFIG, load_config, parse_config
from nand2llm.errors import Nand2llmError
from nand2llm.safetensors import load_safetensors, save_safetensors
from nand2llm.train import build_model, make_optimizer, train

RUN_TOML = """\
[model]
context = 16
d_model = 16
n_layer = 1
n_head = 2
[data]
corpus = ["python_docs"]
[optimizer]
lr = 0.02
[schedule]
warmup = 1
min_lr = 0.001
[training]
steps = 3
batch_size = 2
eval_interval = 3
eval_batches = 1
checkpoint_interval = 3
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    "A finished three-step run folder of a small TinyGPT."
    folder = tmp_path_factory.mktemp("fuzz") / "run"
    train(parse_config(RUN_TOML), out_dir=folder, quiet=True)
    return folder


def _copy(run, tmp_path, name="copy"):
    copy = tmp_path / name
    shutil.copytree(run, copy)
    return copy


def _header(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _with_header(header, rest):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + rest


def _header_mutations(header, rng):
    "Structured edits of a safetensors header (as a dict): the ways a writer gets it wrong."
    names = [k for k in header if k != "__metadata__"]
    meta = header.get("__metadata__", {})
    name = rng.choice(names)
    junk = rng.choice([None, -1, 3.5, "x", [], {}, [1, 2, 3], True, 10**20, "[[[[", '{"a": 1}'])
    edits = [
        lambda h: h.pop(name),
        lambda h: h.__setitem__(name + ".x", h.pop(name)),
        lambda h: h.__setitem__("extra.weight", dict(h[name])),
        lambda h: h[name].__setitem__("dtype", [h[name]["dtype"]]),
        lambda h: h[name].__setitem__("dtype", rng.choice(["F128", "I32", "BOOL", "", None])),
        lambda h: h[name].__setitem__("shape", h[name]["shape"][::-1] + [1]),
        lambda h: h[name].__setitem__("shape", junk),
        lambda h: h[name].__setitem__("data_offsets", junk),
        lambda h: h[name].pop(rng.choice(["dtype", "shape", "data_offsets"])),
        lambda h: h.__setitem__(name, junk),
        lambda h: h.__setitem__("__metadata__", junk),
        lambda h: h["__metadata__"].pop(rng.choice(sorted(meta)), None),
        lambda h: h["__metadata__"].__setitem__(rng.choice(sorted(meta)), junk),
        lambda h: h["__metadata__"].__setitem__(rng.choice(sorted(meta)), json.dumps(junk)),
    ]
    return rng.choice(edits)


def _json_mutation(value, rng):
    "`value` (parsed JSON) with one field changed, removed or added, somewhere inside."
    junk = rng.choice([None, -1, 0, 2.5, "x", [], {}, True, 10**9, float("nan"), [0.9]])
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        choice = rng.randrange(4)
        if choice == 0: value.pop(key)
        elif choice == 1: value[key] = junk
        elif choice == 2: value["unknown_" + key] = junk
        else: value[key] = _json_mutation(value[key], rng)
    elif isinstance(value, list) and value:
        i = rng.randrange(len(value))
        if rng.random() < 0.5: value[i] = _json_mutation(value[i], rng)
        else: value.append(junk)
    else:
        return junk
    return value


def _loads_or_clean_error(fn):
    "Run fn: success, or a Nand2llmError (anything else fails the test)."
    try:
        fn()
    except Nand2llmError as e:
        assert str(e).strip(), "an error without a message"
        return str(e)
    return None


@pytest.mark.parametrize("seed", range(60))
def test_damaged_model_file(run, tmp_path, seed):
    rng = random.Random(seed)
    folder = _copy(run, tmp_path)
    data = (folder / MODEL).read_bytes()
    header, rest = _header(data)
    kind = seed % 6
    if kind == 0:                                     # cut anywhere
        data = data[:rng.randrange(len(data))]
    elif kind == 1:                                   # random bytes anywhere
        data = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    elif kind == 2:                                   # structured header edits
        _header_mutations(header, rng)(header)
        data = _with_header(header, rest)
    elif kind == 3:                                   # the architecture JSON edited
        arch = json.loads(header["__metadata__"]["architecture"])
        header["__metadata__"]["architecture"] = json.dumps(_json_mutation(arch, rng))
        data = _with_header(header, rest)
    elif kind == 4:                                   # the tokenizer metadata edited
        tok = json.loads(header["__metadata__"]["tokenizer"])
        header["__metadata__"]["tokenizer"] = json.dumps(_json_mutation(tok, rng))
        data = _with_header(header, rest)
    else:                                             # a deeply nested header
        depth = rng.choice([100, 10_000, 100_000])
        nested = b"[" * depth + b"]" * depth
        data = struct.pack("<Q", len(nested)) + nested
    (folder / MODEL).write_bytes(data)
    _loads_or_clean_error(lambda: load_model(folder))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(run, tmp_path, value):
    folder = _copy(run, tmp_path)
    tensors, meta = load_safetensors(folder / MODEL)
    tensors["blocks.0.ln1.weight"][3] = value
    save_safetensors(folder / MODEL, tensors, meta)
    message = _loads_or_clean_error(lambda: load_model(folder))
    assert message and "'blocks.0.ln1.weight' holds 1 NaN or infinite" in message


@pytest.mark.parametrize("seed", range(30))
def test_damaged_tokenizer(run, tmp_path, seed):
    rng = random.Random(seed)
    folder = _copy(run, tmp_path)
    state = json.loads((folder / TOKENIZER).read_text())
    kind = seed % 5
    if kind == 0:
        text = json.dumps(_json_mutation(state, rng))
    elif kind == 1:
        state["special_tokens"] = rng.choice(["<|endoftext|>", [1], [], [""], None,
                                              ["<|endoftext|>", "<|endoftext|>"], {"a": 1}])
        text = json.dumps(state)
    elif kind == 2:
        state["type"] = rng.choice(["BPETokenizer", "CharTokenizer", "Nope", 3])
        text = json.dumps(state)
    elif kind == 3:
        text = json.dumps(state)[:rng.randrange(1, 60)]
    else:
        text = "[" * 100_000
    (folder / TOKENIZER).write_text(text)
    _loads_or_clean_error(lambda: load_model(folder))
    (folder / TOKENIZER).write_bytes(b"\xff\xfe binary")
    assert _loads_or_clean_error(lambda: load_model(folder))


def _resume_pieces(folder):
    "The train state read and loaded into a fresh model and optimizer, as train() does."
    config = load_config(folder)
    saved = read_train_state(folder / TRAIN_STATE)
    model = build_model(config.model, 257)
    load_weights(folder / MODEL, model)
    load_train_state(saved, make_optimizer(model, config.optimizer))


@pytest.mark.parametrize("seed", range(60))
def test_damaged_train_state(run, tmp_path, seed):
    rng = random.Random(seed)
    folder = _copy(run, tmp_path)
    tensors, meta = load_safetensors(folder / TRAIN_STATE)
    kind = seed % 6
    if kind == 0:
        meta["step"] = rng.choice(["-1", "1e3", "3.0", "", " 3", "x", "99999999999999999"])
    elif kind == 1:
        meta["optimizer"] = json.dumps(_json_mutation(json.loads(meta["optimizer"]), rng))
    elif kind == 2:
        meta["rng"] = json.dumps(_json_mutation(json.loads(meta["rng"]), rng))
    elif kind == 3:
        name = rng.choice(sorted(tensors))
        edit = rng.randrange(4)
        if edit == 0: tensors.pop(name)
        elif edit == 1: tensors["optimizer.99.exp_avg"] = tensors[name]
        elif edit == 2: tensors[name] = np.zeros(3, np.float32)
        else: tensors[name] = np.full_like(tensors[name], np.nan)
    elif kind == 4:
        meta["config"] = rng.choice(["", "[training\n", "[training]\nsteps = -1",
                                     "[model]\ncontext = 1000000", "\x00"])
    else:
        meta.pop(rng.choice(sorted(meta)))
    save_safetensors(folder / TRAIN_STATE, tensors, meta)
    _loads_or_clean_error(lambda: _resume_pieces(folder))


CONFIG_EDITS = ["context = 1000000", "d_model = 1000000", "n_layer = 1000000", "n_head = 3",
                "batch_size = 1000000", "grad_accum = 1000000", "steps = 1e6", "steps = -5",
                "lr = nan", "lr = inf", "eps = -1.0", "weight_decay = -0.1", "betas = [0.9]",
                "corpus = []", 'corpus = "book"', 'files = ["/nonexistent.txt"]',
                'preset = "huge"', "dropout = 1.5", "vocab_size = 512", 'kind = "chars"',
                "val_fraction = 1.0", "seed = -1", "warmup = 100", "[[oops]]", "= 3",
                "eval_batches = 100000000", "min_lr = 1.0", 'dir = ""', "unknown = 1"]


@pytest.mark.parametrize("edit", CONFIG_EDITS)
def test_bad_configurations(tmp_path, edit):
    "One key of a working file changed (or one line added): refused before any work."
    key = edit.split("=")[0].strip()
    lines = RUN_TOML.splitlines()
    hit = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
    if hit: lines[hit[0]] = edit
    else: lines.insert(1, edit)
    path = tmp_path / "run.toml"
    path.write_text("\n".join(lines) + f'\n[output]\ndir = "{tmp_path / "out"}"\n')
    if edit == 'dir = ""':
        path.write_text(RUN_TOML + '[output]\ndir = ""\n')
    message = _loads_or_clean_error(lambda: train(path, quiet=True))
    assert message, f"{edit!r} was accepted"
    assert not (tmp_path / "out" / MODEL).exists()


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_in_configurations(tmp_path, seed):
    rng = random.Random(seed)
    data = bytearray(RUN_TOML.encode())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    path = tmp_path / "run.toml"
    path.write_bytes(bytes(data))
    _loads_or_clean_error(lambda: load_config(path))


def test_bad_data_files(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("some text " * 100)
    (texts / "b.bin").write_bytes(bytes(range(256)) * 4)
    cases = {'files = ["a.txt"]': "1 document",
             'files = ["a.txt", "b.bin"]': "not UTF-8 text",
             'files = ["a.txt", "./a.txt"]': "a file not listed before"}
    for files, message in cases.items():
        toml = RUN_TOML.replace('corpus = ["python_docs"]', f"corpus = []\n{files}")
        path = texts / "run.toml"
        path.write_text(toml + f'[output]\ndir = "{tmp_path / "out"}"\n')
        cwd = os.getcwd()
        os.chdir(texts)                       # the file names are relative
        try:
            assert message in (_loads_or_clean_error(lambda: train(path, quiet=True)) or "")
        finally:
            os.chdir(cwd)


def _cli(*args, cwd):
    code = "import sys; from nand2llm.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_the_command_line_reports_damage_in_one_line(run, tmp_path):
    "train --resume, generate and eval on damaged folders, in a fresh process each."
    (tmp_path / "run.toml").write_text(RUN_TOML)
    damage = {
        "nan": lambda f: _edit_model(f, lambda t, m: t["wte.weight"].__setitem__(0, np.nan)),
        "renamed": lambda f: _edit_model(f, lambda t, m: t.__setitem__("x", t.pop("wte.weight"))),
        "dtype list": lambda f: (f / MODEL).write_bytes(_dtype_as_list((f / MODEL).read_bytes())),
        "step": lambda f: _edit_state(f, lambda t, m: m.__setitem__("step", "1.5")),
        "optimizer": lambda f: _edit_state(f, lambda t, m: m.__setitem__("optimizer", "{}")),
        "extra": lambda f: _edit_state(f, lambda t, m: t.__setitem__("optimizer.99.exp_avg",
                                                                      np.zeros(1, "f4"))),
        "tokenizer": lambda f: (f / TOKENIZER).write_text('{"special_tokens": 7}'),
        "config": lambda f: (f / RUN_CONFIG).write_bytes(b"\xff\xfe"),
    }
    # train makes its own tokenizer and reads the train state; eval reads config.toml
    readers = {"step": ["train"], "optimizer": ["train"], "extra": ["train"],
               "tokenizer": ["generate", "eval"], "config": ["eval"]}
    for name, change in damage.items():
        folder = _copy(run, tmp_path, name)
        change(folder)
        for args in (["train", tmp_path / "run.toml", "--resume", "--out", folder, "--quiet"],
                     ["generate", "Hi", "--checkpoint", folder, "--max-new-tokens", "2"],
                     ["eval", folder]):
            if args[0] not in readers.get(name, ("train", "generate", "eval")):
                continue                     # a command that does not read the damaged file
            done = _cli(*args, cwd=tmp_path)
            where = f"{name}, {args[0]}"
            assert done.returncode == 2, (where, done.returncode, done.stderr[-500:])
            assert "Traceback" not in done.stderr, (where, done.stderr[-500:])
            assert len(done.stderr.strip().splitlines()) == 1, (where, done.stderr)
            assert done.stderr.startswith(f"nand2llm {args[0]}: error: "), (where, done.stderr)


def _edit_model(folder, edit):
    tensors, meta = load_safetensors(folder / MODEL)
    edit(tensors, meta)
    save_safetensors(folder / MODEL, tensors, meta)


def _edit_state(folder, edit):
    tensors, meta = load_safetensors(folder / TRAIN_STATE)
    edit(tensors, meta)
    save_safetensors(folder / TRAIN_STATE, tensors, meta)


def _dtype_as_list(data):
    header, rest = _header(data)
    header["wte.weight"]["dtype"] = [header["wte.weight"]["dtype"]]
    return _with_header(header, rest)


def test_stale_temporary_files_are_removed(run, tmp_path):
    folder = _copy(run, tmp_path)
    (folder / ".model.safetensors.x1y2z3.tmp").write_bytes(b"half a file")
    (folder / ".train_state.safetensors.q9.tmp").write_bytes(b"")
    (folder / "notes.tmp").write_text("mine")              # not a save's: kept
    (tmp_path / "run.toml").write_text(RUN_TOML.replace("steps = 3", "steps = 4"))
    train(tmp_path / "run.toml", resume=True, out_dir=folder, quiet=True)
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == ["notes.tmp"]


def test_a_model_on_another_backend_saves_through_explicit_host_copies(tmp_path):
    "Chapter 6's strict stand-in refuses implicit copies to the host, as a GPU library does."
    from nand2llm.checkpoint import save_model
    from nand2llm.gpt import GPT, GPTConfig
    from nand2llm.tensor import using_backend
    from nand2llm.tokenizers import ByteTokenizer
    model = GPT(GPTConfig(vocab_size=257, context=8, d_model=16, n_layer=1, n_head=2),
                generator=np.random.default_rng(0))
    host = {name: array.copy() for name, array in model.state_dict().items()}
    with using_backend("strict"):
        model.to("strict")
        save_model(tmp_path, model, ByteTokenizer())
        model.to("numpy")
    reloaded, _ = load_model(tmp_path)
    for name, array in host.items():
        np.testing.assert_array_equal(reloaded.state_dict()[name], array)
